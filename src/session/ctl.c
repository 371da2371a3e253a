/*
 * ctl.c - the session's control socket, proxywrap's side (ctl.h).
 *
 * One thread accepts; each connection is handed to a worker thread of
 * its own, which reads one request (waiting at most CTL_IO_MS), checks
 * who sent it, runs the service of its type and answers.  Nothing a peer
 * sends is believed before it checks out: the message is bounded by the
 * kernel (SOCK_SEQPACKET, read with MSG_TRUNC so an oversized one is
 * seen as such), the fd it carries must be the session's sealed policy
 * (same device and inode), and any other fd or a cut control message
 * refuses the request.
 */
#include "ctl.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_TYPES 8			/* enum ctl_type values served */

static ctl_service_fn services[CTL_TYPES];
static int lfd = -1;
static dev_t pol_dev;
static ino_t pol_ino;
static int busy;			/* workers running (atomic) */

void
ctl_add(enum ctl_type type, ctl_service_fn fn)
{
	if ((unsigned)type < CTL_TYPES)
		services[type] = fn;
}

int
ctl_open(char name[SESS_CTL_MAX])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t rnd[16];
	size_t i, n;
	int fd, e;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	n = (size_t)snprintf(name, SESS_CTL_MAX, "proxywrap-ctl-%ld-",
			     (long)getpid());
	for (i = 0; i < sizeof(rnd) && n + 2 < SESS_CTL_MAX; i++, n += 2)
		snprintf(name + n, SESS_CTL_MAX - n, "%02x", rnd[i]);
	memcpy(sa.sun_path + 1, name, n);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) ==
	    -1 || listen(fd, 64) == -1) {
		e = errno;
		close(fd);
		name[0] = '\0';
		return -e;
	}
	lfd = fd;
	return 0;
}

/* The fds a message brought: is there exactly one, the policy?  All of
 * them are closed. */
static bool
holds_policy(struct msghdr *mh)
{
	struct cmsghdr *c;
	struct stat st;
	bool ok = false;
	size_t i, nfd;
	int fd, count = 0;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			count++;
			if (fstat(fd, &st) == 0 && st.st_dev == pol_dev &&
			    st.st_ino == pol_ino)
				ok = true;
			close(fd);
		}
	}
	return ok && count == 1 && !(mh->msg_flags & MSG_CTRUNC);
}

/* The peer runs as our user, or we are root (a tree that dropped its
 * privileges is still ours). */
static bool
peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return false;
	return geteuid() == 0 || cr.uid == geteuid();
}

static void
answer(int fd, enum ctl_status st, const uint8_t *p, size_t n)
{
	uint8_t m[CTL_RESP_MAX];

	m[0] = (uint8_t)st;
	if (n > sizeof(m) - 1)
		n = 0;
	memcpy(m + 1, p, n);
	if (send(fd, m, n + 1, MSG_NOSIGNAL) == -1) {
		/* the peer gave up (its connect deadline): nothing to do */
	}
	explicit_bzero(m, n + 1);	/* a token */
}

static void
serve_one(int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	uint8_t req[CTL_REQ_MAX], out[CTL_TOKEN_MAX], type;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct timeval tv = { .tv_sec = CTL_IO_MS / 1000 };
	const uint8_t *p;
	size_t len, outlen = 0;
	enum ctl_status st;
	ssize_t r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do {
		r = recvmsg(fd, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return;
	/* before anything else: whatever fds came are closed (an empty
	 * message can carry them too) */
	if (!holds_policy(&mh) || r == 0) {
		/* not of the session: no answer at all */
		return;
	}
	if ((mh.msg_flags & MSG_TRUNC) ||
	    ctl_req_parse(req, (size_t)r, &type, &p, &len) != 0) {
		answer(fd, CTL_BAD, NULL, 0);
		return;
	}
	if (type >= CTL_TYPES || services[type] == NULL) {
		answer(fd, CTL_UNKNOWN, NULL, 0);
		return;
	}
	st = services[type](p, len, out, sizeof(out), &outlen);
	answer(fd, st, out, outlen);
	explicit_bzero(out, outlen);
}

static void *
worker(void *arg)
{
	int fd = (int)(intptr_t)arg;

	serve_one(fd);
	close(fd);
	__atomic_sub_fetch(&busy, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Hand fd to a worker thread; over CTL_WORKERS it is told CTL_BUSY. */
static void
dispatch(int fd)
{
	pthread_attr_t a;
	pthread_t t;

	/* another user's process gets no worker to hold (the name is no
	 * secret: /proc/net/unix lists abstract names) */
	if (!peer_ok(fd)) {
		close(fd);
		return;
	}
	if (__atomic_add_fetch(&busy, 1, __ATOMIC_SEQ_CST) > CTL_WORKERS) {
		__atomic_sub_fetch(&busy, 1, __ATOMIC_SEQ_CST);
		answer(fd, CTL_BUSY, NULL, 0);
		close(fd);
		return;
	}
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* out[] and the GSSAPI library's own frames */
	pthread_attr_setstacksize(&a, 512 * 1024);
	if (pthread_create(&t, &a, worker, (void *)(intptr_t)fd) != 0) {
		__atomic_sub_fetch(&busy, 1, __ATOMIC_SEQ_CST);
		answer(fd, CTL_BUSY, NULL, 0);
		close(fd);
	}
	pthread_attr_destroy(&a);
}

static void *
acceptor(void *arg)
{
	int fd;

	(void)arg;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			dispatch(fd);
		else if (errno != EINTR && errno != ECONNABORTED &&
			 errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			return NULL;
		else if (errno != EINTR && errno != ECONNABORTED)
			usleep(10000);	/* out of fds: let some close */
	}
}

int
ctl_serve(int policy_fd)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;
	struct stat st;
	int rc;

	if (lfd < 0)
		return -EBADF;
	if (fstat(policy_fd, &st) == -1)
		return -errno;
	pol_dev = st.st_dev;
	pol_ino = st.st_ino;
	/* the main thread takes the signals it forwards to the command;
	 * threads created from here inherit the full mask */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 128 * 1024);
	rc = pthread_create(&t, &a, acceptor, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}
