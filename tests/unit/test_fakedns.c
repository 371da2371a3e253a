/*
 * test_fakedns.c - the shared fake-address table: v4/v6, stable mapping,
 * name limits, a full table, threads, fork()ed children sharing the
 * anonymous table, and exec()ed processes sharing a session file.
 *
 * The program re-executes itself ("worker PATH") for the session tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakedns.h"

#define NAMES 1000

static void
test_v4_v6_roundtrip(void **state)
{
	uint8_t a4[4], b4[4], a6[16];
	char name[256];

	(void)state;
	assert_int_equal(fdns_assign("www.example.com", AF_INET, a4), 0);
	assert_int_equal(a4[0] & 0xf0, 0xf0);	/* 240.0.0.0/4 */
	assert_true(fdns_is_fake(AF_INET, a4));
	assert_int_equal(fdns_lookup(AF_INET, a4, name, sizeof(name)), 0);
	assert_string_equal(name, "www.example.com");

	assert_int_equal(fdns_assign("www.example.com", AF_INET6, a6), 0);
	assert_int_equal(a6[0], 0xfd);
	assert_true(fdns_is_fake(AF_INET6, a6));
	assert_int_equal(fdns_lookup(AF_INET6, a6, name, sizeof(name)), 0);
	assert_string_equal(name, "www.example.com");

	/* stable: same name, same address; another name, another one */
	assert_int_equal(fdns_assign("www.example.com", AF_INET, b4), 0);
	assert_memory_equal(a4, b4, 4);
	assert_int_equal(fdns_assign("www.example.org", AF_INET, b4), 0);
	assert_memory_not_equal(a4, b4, 4);
}

static void
test_mapped_and_foreign(void **state)
{
	uint8_t a4[4], m[16] = { [10] = 0xff, [11] = 0xff };
	uint8_t real4[4] = { 198, 18, 0, 1 }, real6[16] = { 0x20, 0x01, 0x0d,
							    0xb8 };
	uint8_t unused[4] = { 255, 255, 255, 255 };
	char name[256];

	(void)state;
	assert_int_equal(fdns_assign("mapped.example", AF_INET, a4), 0);
	memcpy(m + 12, a4, 4);
	assert_true(fdns_is_fake(AF_INET6, m));
	assert_int_equal(fdns_lookup(AF_INET6, m, name, sizeof(name)), 0);
	assert_string_equal(name, "mapped.example");
	assert_false(fdns_is_fake(AF_INET, real4));
	assert_false(fdns_is_fake(AF_INET6, real6));
	assert_int_equal(fdns_lookup(AF_INET, real4, name, sizeof(name)),
			 -ENOENT);
	/* in the pool but never handed out */
	assert_int_equal(fdns_lookup(AF_INET, unused, name, sizeof(name)),
			 -ENOENT);
	/* buffer too small */
	assert_int_equal(fdns_lookup(AF_INET, a4, name, 5), -ENOSPC);
}

static void
test_name_limits(void **state)
{
	char name[300], out[300];
	uint8_t a[16];

	(void)state;
	memset(name, 'a', sizeof(name));
	name[255] = '\0';
	assert_int_equal(fdns_assign(name, AF_INET6, a), 0);
	assert_int_equal(fdns_lookup(AF_INET6, a, out, sizeof(out)), 0);
	assert_string_equal(out, name);
	name[255] = 'a';
	name[256] = '\0';
	assert_int_equal(fdns_assign(name, AF_INET, a), -ENAMETOOLONG);
	assert_int_equal(fdns_assign("", AF_INET, a), -EINVAL);
	assert_int_equal(fdns_assign("x", AF_UNIX, a), -EINVAL);
}

static void
test_pool_parse(void **state)
{
	(void)state;
	assert_int_equal(fdns_set_pools("10.0.0.0"), -EINVAL);
	assert_int_equal(fdns_set_pools("10.0.0.0/31"), -EINVAL);
	assert_int_equal(fdns_set_pools("fd00::/130"), -EINVAL);
	assert_int_equal(fdns_set_pools("bogus/8"), -EINVAL);
	assert_int_equal(fdns_set_pools(""), 0);
}

/* full: in a fresh process (exec), so its table is empty and the small
 * pool does not leak into other tests. */
static int
full_table(void)
{
	char name[32];
	uint8_t a[16];
	int i;

	/* /28: 14 usable addresses, so 14 slots */
	if (fdns_set_pools("198.18.7.0/28, fd00:1::/64") != 0)
		return 1;
	for (i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "full%d.example", i);
		if (fdns_assign(name, AF_INET, a) != 0)
			return 2;
		if (a[0] != 198 || a[1] != 18 || a[2] != 7 || a[3] == 0 ||
		    a[3] == 15)
			return 3;
	}
	if (fdns_assign("one-too-many.example", AF_INET, a) != -ENOSPC)
		return 4;
	/* names already in the table still resolve */
	if (fdns_assign("full3.example", AF_INET6, a) != 0)
		return 5;
	return 0;
}

static void
test_full_table(void **state)
{
	char *argv[] = { "/proc/self/exe", "full", NULL };
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsetenv("SHIM_SESSION");
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

struct thr {
	int seed;
	uint32_t addr[NAMES];
	int fails;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	char name[64];
	uint8_t a[4];
	int k, i;

	for (k = 0; k < NAMES; k++) {
		i = (k * 7 + t->seed * 131) % NAMES;	/* differing orders */
		snprintf(name, sizeof(name), "t%d.threads.example", i);
		if (fdns_assign(name, AF_INET, a) != 0)
			t->fails++;
		memcpy(&t->addr[i], a, 4);
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_threads(void **state)
{
	static struct thr t[8];
	static uint32_t sorted[NAMES];
	pthread_t tid[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		t[i].seed = i;
		assert_int_equal(pthread_create(&tid[i], NULL, thr_main, &t[i]),
				 0);
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(t[i].fails, 0);
		assert_memory_equal(t[i].addr, t[0].addr, sizeof(t[0].addr));
	}
	memcpy(sorted, t[0].addr, sizeof(sorted));
	qsort(sorted, NAMES, sizeof(sorted[0]), cmp_u32);
	for (i = 1; i < NAMES; i++)
		assert_true(sorted[i] != sorted[i - 1]);
}

/* fork() without exec: the anonymous table is shared with the child. */
static void
test_fork_shares(void **state)
{
	uint8_t a[4], b[4];
	char name[256];
	int p[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(fdns_assign("parent.example", AF_INET, a), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (fdns_lookup(AF_INET, a, name, sizeof(name)) != 0 ||
		    strcmp(name, "parent.example") != 0)
			_exit(1);
		if (fdns_assign("child.example", AF_INET, b) != 0)
			_exit(2);
		if (write(p[1], b, 4) != 4)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], b, 4), 4);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_int_equal(fdns_lookup(AF_INET, b, name, sizeof(name)), 0);
	assert_string_equal(name, "child.example");
}

/* worker PATH: map the session file, assign NAMES names (in an order
 * depending on the pid), print a checksum of their v4/v6 fakes, and check
 * the reverse mapping of a name a previous worker may have made. */
static int
worker(void)
{
	uint64_t sum = 0;
	char name[64], back[256];
	uint8_t a[16];
	int k, i, order = getpid() % 97;

	for (k = 0; k < NAMES; k++) {
		i = (k * 13 + order) % NAMES;
		snprintf(name, sizeof(name), "w%d.session.example", i);
		if (fdns_assign(name, AF_INET, a) != 0)
			return 2;
		sum += (uint64_t)(a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]) *
		       (uint64_t)(i + 1);
		if (fdns_assign(name, AF_INET6, a) != 0)
			return 3;
		if (fdns_lookup(AF_INET6, a, back, sizeof(back)) != 0 ||
		    strcmp(back, name) != 0)
			return 4;
		sum += a[15] * (uint64_t)(i + 7);
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}

static uint64_t
run_worker(const char *path)
{
	char *argv[] = { "/proc/self/exe", "worker", NULL };
	char buf[64] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv("SHIM_SESSION", path, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(n > 0);
	return strtoull(buf, NULL, 10);
}

struct wrun {
	const char *path;
	uint64_t sum;
};

static void *
wrun_main(void *arg)
{
	struct wrun *w = arg;

	w->sum = run_worker(w->path);
	return NULL;
}

static void
test_session_file(void **state)
{
	char path[] = "/dev/shm/pw-test-fdns-XXXXXX";
	struct wrun w[4];
	pthread_t tid[4];
	int fd, i;

	(void)state;
	fd = mkstemp(path);
	if (fd == -1) {
		strcpy(path, "/tmp/pw-test-fdns-XXXXXX");
		fd = mkstemp(path);
	}
	assert_true(fd >= 0);
	close(fd);
	/* 4 processes size and fill the same file at once */
	for (i = 0; i < 4; i++) {
		w[i].path = path;
		assert_int_equal(pthread_create(&tid[i], NULL, wrun_main, &w[i]),
				 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (i = 1; i < 4; i++)
		assert_true(w[i].sum == w[0].sum);
	/* all of them exited: a fresh process sees the same table */
	assert_true(run_worker(path) == w[0].sum);
	unlink(path);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_v6_roundtrip),
		cmocka_unit_test(test_mapped_and_foreign),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_pool_parse),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fork_shares),
		cmocka_unit_test(test_session_file),
	};

	if (argc > 1 && strcmp(argv[1], "worker") == 0)
		return worker();
	if (argc > 1 && strcmp(argv[1], "full") == 0)
		return full_table();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
