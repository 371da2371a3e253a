/*
 * test_epregs.c - the fdinfo line parser: real kernel lines (with and
 * without pos/ino), and lines that are not registrations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "epregs.h"

static void
test_kernel_line(void **state)
{
	struct epoll_event ev;
	unsigned long ino;
	int tfd;

	(void)state;
	assert_true(epregs_parse_line("tfd:        5 events:       19 data:"
				      "                5  pos:0 ino:1f2e sdev:8",
				      &tfd, &ev, &ino));
	assert_int_equal(tfd, 5);
	assert_int_equal(ev.events, 0x19);
	assert_int_equal(ev.data.u64, 5);
	assert_int_equal(ino, 0x1f2e);
	/* EPOLLET and a pointer as data; an older kernel's line ends there */
	assert_true(epregs_parse_line("tfd:     1023 events: 80002019 data:"
				      " 00007f00deadbeef", &tfd, &ev, &ino));
	assert_int_equal(tfd, 1023);
	assert_int_equal(ev.events, 0x80002019u);
	assert_int_equal(ev.data.u64, 0x00007f00deadbeefULL);
	assert_int_equal(ino, 0);
}

static void
test_not_registrations(void **state)
{
	struct epoll_event ev;
	unsigned long ino;
	int tfd;

	(void)state;
	assert_false(epregs_parse_line("pos:\t0", &tfd, &ev, &ino));
	assert_false(epregs_parse_line("flags:\t02000002", &tfd, &ev, &ino));
	assert_false(epregs_parse_line("tfd: x events: 1 data: 1", &tfd, &ev,
				       &ino));
	assert_false(epregs_parse_line("tfd: 5 events: 1", &tfd, &ev, &ino));
	assert_false(epregs_parse_line("tfd: 99999999999 events: 1 data: 1",
				       &tfd, &ev, &ino));
	assert_false(epregs_parse_line("tfd: 5 events: 100000000 data: 1",
				       &tfd, &ev, &ino));
	assert_false(epregs_parse_line("tfd: -5 events: 1 data: 1", &tfd, &ev,
				       &ino));
	assert_false(epregs_parse_line("", &tfd, &ev, &ino));
}

/* The lines of a real epoll set of this process. */
static void
test_own_fdinfo(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.u64 = 0x5eed };
	struct epreg out[4];
	int ep, p[2];
	size_t n;

	(void)state;
	ep = epoll_create1(0);
	assert_true(ep >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	n = epregs_read(ep, p[0], 0, out, 0, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].epfd, ep);
	/* the kernel stores EPOLLERR|EPOLLHUP with every registration */
	assert_int_equal(out[0].ev.events,
			 EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP);
	assert_int_equal(out[0].ev.data.u64, 0x5eed);
	assert_int_equal(epregs_read(ep, p[1], 0, out, 0, 4), 0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_line),
		cmocka_unit_test(test_not_registrations),
		cmocka_unit_test(test_own_fdinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
