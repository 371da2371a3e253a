/*
 * session.c - finding the proxywrap session's inherited fds (session.h).
 *
 * The check is made in two steps.  At load time (a constructor: the fds
 * must be the library's before the program's first close or dup2 can take
 * them) the numbers SHIM_SESSION_FD names are checked with a few
 * syscalls, and those that hold the session's files become the library's
 * own fds (fdtab internal: close gives EBADF, dup2 moves ours away); when
 * they do not fit (an fd moved before an exec) the process's fds are
 * looked through for the sealed policy memfd and the files it names.  On
 * first use, session_init maps and parses the policy (looking through
 * the fds first if SHIM_SESSION_FD is gone).
 *
 * Nothing from the environment is believed: a number only names where to
 * look, and a file is the session's only when it is what the policy says
 * (seals and magic for the policy; device and inode for the others).  A
 * log fd is checked again before every write, so a line never lands in a
 * file of the program's that took the number.
 */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtab.h"
#include "real.h"

#define NFD (1 + SESS_NFILES)		/* [0] the policy, [1 + file] */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define POLICY_MAX ((off_t)SESS_TEXT_MAX + 4 * SESS_STR_MAX + \
		    SESS_IMAGE_ALIGN + (off_t)SESS_IMAGE_MAX)

static int sess_fd[NFD] = { -1, -1, -1, -1 };	/* atomic: numbers now */
static int hint[NFD] = { -1, -1, -1, -1 };
static bool hinted;			/* SHIM_SESSION_FD was set */
static struct sess_hdr hdr;		/* the policy's, once found */
static bool have_hdr;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static enum session_state state;
static struct sess_view view;
static void *map;
static size_t map_len;
static char ctl_name[SESS_CTL_MAX];	/* kept past session_release */

/* fd holds a sealed policy memfd; its header into *h. */
static bool
is_policy(int fd, struct sess_hdr *h)
{
	struct stat st;
	int seals = real_fcntl(fd, F_GET_SEALS, NULL);

	if (seals == -1 || (seals & SEALS) != SEALS)
		return false;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(*h) || st.st_size > POLICY_MAX)
		return false;
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		return false;
	return memcmp(h->magic, SESS_MAGIC, sizeof(h->magic)) == 0 &&
	       h->total == (uint64_t)st.st_size;
}

/* fd is the file the policy names for f. */
static bool
is_file(int fd, enum sess_file f)
{
	struct stat st;

	return fd >= 0 && hdr.ino[f] != 0 && fstat(fd, &st) == 0 &&
	       (uint64_t)st.st_dev == hdr.dev[f] &&
	       (uint64_t)st.st_ino == hdr.ino[f];
}

/* Make fd the library's own, its number kept in sess_fd[i]. */
static void
own(int i, int fd)
{
	struct fd_entry *e = fdtab_set(fd);

	if (e != NULL) {
		e->internal = true;
		e->owner = &sess_fd[i];
	}
	__atomic_store_n(&sess_fd[i], fd, __ATOMIC_RELEASE);
}

static void
parse_hint(const char *v)
{
	char *end;
	long n;
	int i;

	for (i = 0; i < NFD && *v != '\0'; i++) {
		n = strtol(v, &end, 10);
		if (end == v || n < -1 || n > INT_MAX)
			return;
		hint[i] = (int)n;
		v = *end == ',' ? end + 1 : end;
	}
}

static void scan(void);

__attribute__((constructor)) static void
session_early(void)
{
	const char *v;
	int saved = errno, i;

	if (getauxval(AT_SECURE) != 0)
		return;
	v = getenv("SHIM_SESSION_FD");
	if (v == NULL || v[0] == '\0')
		return;
	hinted = true;
	parse_hint(v);
	if (hint[0] > STDERR_FILENO && is_policy(hint[0], &hdr)) {
		have_hdr = true;
		own(0, hint[0]);
		for (i = 0; i < SESS_NFILES; i++)
			if (hint[1 + i] > STDERR_FILENO &&
			    is_file(hint[1 + i], (enum sess_file)i))
				own(1 + i, hint[1 + i]);
	}
	/* an fd moved out of the program's way before an exec: find it
	 * now, before the program's first close_range takes it */
	if (!have_hdr || sess_fd[1 + SESS_TABLE] < 0 ||
	    (hint[1 + SESS_HUMAN] >= 0 && sess_fd[1 + SESS_HUMAN] < 0) ||
	    (hint[1 + SESS_AUDIT] >= 0 && sess_fd[1 + SESS_AUDIT] < 0))
		scan();
	errno = saved;
}

/*
 * The numbers did not fit: look through our fds (above stdio).  A log
 * file found this way is used, not owned: the program may hold another
 * copy of the same file it is free to close.
 */
static void
scan(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct sess_hdr h;
	char *end;
	long n;
	int i, fd;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strtol(de->d_name, &end, 10);
		if (*end != '\0' || n <= STDERR_FILENO || n > INT_MAX ||
		    n == dirfd(d))
			continue;
		fd = (int)n;
		if (!have_hdr) {
			if (is_policy(fd, &h)) {
				hdr = h;
				have_hdr = true;
				own(0, fd);
			}
			continue;
		}
	}
	for (i = 0; have_hdr && i < SESS_NFILES; i++) {
		if (__atomic_load_n(&sess_fd[1 + i], __ATOMIC_RELAXED) >= 0)
			continue;
		if (is_file(hint[1 + i], (enum sess_file)i)) {
			own(1 + i, hint[1 + i]);
			continue;
		}
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			n = strtol(de->d_name, &end, 10);
			if (*end != '\0' || n <= STDERR_FILENO || n > INT_MAX ||
			    n == dirfd(d) || !is_file((int)n, (enum sess_file)i))
				continue;
			if (i == SESS_TABLE)
				own(1 + i, (int)n);
			else
				__atomic_store_n(&sess_fd[1 + i], (int)n,
						 __ATOMIC_RELEASE);
			break;
		}
	}
	closedir(d);
}

static void
init(void)
{
	int saved = errno, fd;

	if (getauxval(AT_SECURE) != 0)
		return;		/* the caller ignores everything inherited */
	if (!have_hdr || __atomic_load_n(&sess_fd[0], __ATOMIC_RELAXED) < 0 ||
	    !is_policy(sess_fd[0], &hdr))
		have_hdr = false;
	if (!have_hdr || sess_fd[1 + SESS_TABLE] < 0 ||
	    sess_fd[1 + SESS_HUMAN] < 0 || sess_fd[1 + SESS_AUDIT] < 0)
		scan();
	state = hinted ? SESSION_LOST : SESSION_NONE;
	if (!have_hdr)
		goto out;
	state = SESSION_LOST;	/* found, but it must check out */
	fd = __atomic_load_n(&sess_fd[0], __ATOMIC_ACQUIRE);
	map_len = (size_t)hdr.total;
	map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		goto out;
	}
	if (sess_parse(map, map_len, &view) != 0)
		goto out;
	memcpy(ctl_name, view.ctl, sizeof(ctl_name));
	if (view.image_len > 0) {
		/* the compiled rules stay mapped on their own, shared: the
		 * same pages in every process of the tree */
		void *img = mmap(NULL, view.image_len, PROT_READ, MAP_SHARED,
				 fd, (off_t)view.image_off);

		if (img == MAP_FAILED)
			goto out;
		view.image = img;
	}
	state = SESSION_OK;
out:
	errno = saved;
}

enum session_state
session_init(const struct sess_view **v)
{
	pthread_once(&once, init);
	if (v != NULL)
		*v = state == SESSION_OK ? &view : NULL;
	return state;
}

void
session_release(void)
{
	if (map != NULL)
		munmap(map, map_len);
	map = NULL;
	memset(&view, 0, sizeof(view));
}

int
session_fd(enum sess_file f)
{
	int fd, saved;

	if (state != SESSION_OK || f < 0 || f >= SESS_NFILES)
		return -1;
	fd = __atomic_load_n(&sess_fd[1 + f], __ATOMIC_ACQUIRE);
	if (fd < 0 || f == SESS_TABLE)
		return fd;
	saved = errno;
	if (!is_file(fd, f))
		fd = -1;
	errno = saved;
	return fd;
}

const char *
session_ctl(void)
{
	return state == SESSION_OK && ctl_name[0] != '\0' ? ctl_name : NULL;
}

int
session_policy_fd(void)
{
	int fd, saved = errno;
	struct sess_hdr h;

	if (state != SESSION_OK)
		return -1;
	fd = __atomic_load_n(&sess_fd[0], __ATOMIC_ACQUIRE);
	/* still the policy, not a file of the program's that took the
	 * number (it is ours, but check as a log fd is checked) */
	if (fd >= 0 && (!is_policy(fd, &h) || h.total != hdr.total))
		fd = -1;
	errno = saved;
	return fd;
}

void
session_keep_over_exec(void)
{
	int i, fd, fl, saved = errno;

	for (i = 0; i < NFD; i++) {
		fd = __atomic_load_n(&sess_fd[i], __ATOMIC_ACQUIRE);
		if (fd < 0 || (i == 0 ? !fdtab_internal(fd) :
			       !is_file(fd, (enum sess_file)(i - 1))))
			continue;
		fl = real_fcntl(fd, F_GETFD, NULL);
		if (fl != -1 && (fl & FD_CLOEXEC))
			real_fcntl(fd, F_SETFD, (void *)(long)(fl & ~FD_CLOEXEC));
	}
	errno = saved;
}

bool
session_hint(char *buf, size_t n)
{
	int fd[NFD], i;

	if (!have_hdr)
		return false;
	for (i = 0; i < NFD; i++)
		fd[i] = __atomic_load_n(&sess_fd[i], __ATOMIC_ACQUIRE);
	snprintf(buf, n, "%d,%d,%d,%d", fd[0], fd[1], fd[2], fd[3]);
	return true;
}
