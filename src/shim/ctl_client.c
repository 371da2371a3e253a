/*
 * ctl_client.c - the library's side of the session's control socket
 * (ctl_client.h).  One connection per request: a SOCK_SEQPACKET
 * connection to the abstract name the sealed policy gives, the request
 * with the policy's fd attached (SCM_RIGHTS: holding the sealed policy
 * is what makes a process one of the session's), one response, closed.
 * A connection is never shared, so a fork can never hand one process's
 * answer to another.  The socket is the library's own while it is open
 * (fdtab internal: the program's close cannot take it).
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdtab.h"
#include "real.h"
#include "session.h"
#include "tunnel.h"

/* Wait for ev on fd until deadline: 0, or -ETIMEDOUT / -errno. */
static int
wait_for(int fd, short ev, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int64_t left;
	int r;

	for (;;) {
		left = deadline_ms - tun_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = real_poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -errno;
	}
}

static int
open_ctl(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	struct fd_entry *e;
	int fd, err;

	if (n + 1 > sizeof(sa.sun_path))
		return -ENOTSUP;
	/* abstract: sun_path[0] is NUL, the name follows, not terminated */
	memcpy(sa.sun_path + 1, name, n);
	fd = real_socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
			 SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	fd = fdtab_high(fd);
	e = fdtab_set(fd);
	if (e != NULL)
		e->internal = true;
	if (real_connect(fd, (struct sockaddr *)&sa,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				     1 + n)) == -1) {
		err = errno;
		fdtab_clear(fd);
		real_close(fd);
		return err == ENOENT || err == ECONNREFUSED ? -ECONNREFUSED :
							      -err;
	}
	return fd;
}

/* The request, with the policy's fd, in one message. */
static int
send_req(int fd, const uint8_t *m, size_t n, int64_t deadline_ms)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	int pfd = session_policy_fd(), rc;

	if (pfd < 0)
		return -ENOTSUP;
	memset(&c, 0, sizeof(c));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&c.h), &pfd, sizeof(int));
	for (;;) {
		if (real_sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)n)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = wait_for(fd, POLLOUT, deadline_ms);
		if (rc < 0)
			return rc;
	}
}

int
ctl_call(enum ctl_type type, const void *req, size_t reqlen, uint8_t *out,
	 size_t n, size_t *len, int64_t deadline_ms)
{
	uint8_t m[CTL_REQ_MAX];
	const char *name = session_ctl();
	enum ctl_status st;
	const uint8_t *p;
	ssize_t r;
	int saved = errno, fd, rc;

	*len = 0;
	rc = ctl_req_build(m, sizeof(m), type, req, reqlen);
	if (rc < 0)
		goto out;
	if (name == NULL) {
		rc = -ENOTSUP;
		goto out;
	}
	fd = open_ctl(name);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	rc = send_req(fd, m, (size_t)rc, deadline_ms);
	while (rc == 0) {
		/* out holds at most n - 1 payload bytes after the status: a
		 * longer answer is cut, and MSG_TRUNC says so */
		r = real_recv(fd, out, n, MSG_TRUNC);
		if (r >= 0) {
			rc = r == 0 ? -ECONNREFUSED :
			     (size_t)r > n ? -EPROTO :
			     ctl_resp_parse(out, (size_t)r, &st, &p, len);
			if (rc == 0) {
				memmove(out, p, *len);
				out[*len] = 0;	/* the token's last byte, moved */
				rc = (int)st;
			}
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			rc = errno == ECONNRESET ? -ECONNREFUSED : -errno;
			break;
		}
		rc = wait_for(fd, POLLIN, deadline_ms);
	}
	fdtab_clear(fd);
	real_close(fd);
out:
	errno = saved;
	return rc;
}

int
ctl_negotiate(const char *spn, uint8_t *out, size_t n, size_t *len,
	      char *msg, size_t msgn, int64_t deadline_ms)
{
	int rc = ctl_call(CTL_NEGOTIATE, spn, strlen(spn), out, n, len,
			  deadline_ms);

	if (rc == CTL_OK)
		return rc;
	if (rc > 0 && *len > 0)
		snprintf(msg, msgn, "%.*s", (int)*len, (const char *)out);
	else if (rc == -ENOTSUP)
		snprintf(msg, msgn, "no Negotiate token for %s: auth=negotiate "
			 "needs the program to run under proxywrap", spn);
	else if (rc == CTL_UNKNOWN)
		snprintf(msg, msgn, "no Negotiate token for %s: this proxywrap "
			 "does not serve them", spn);
	else if (rc == CTL_BUSY)
		snprintf(msg, msgn, "no Negotiate token for %s: proxywrap is "
			 "busy", spn);
	else
		snprintf(msg, msgn, "no Negotiate token for %s: proxywrap's "
			 "control socket: %s", spn, strerror(rc < 0 ? -rc :
							     EPROTO));
	explicit_bzero(out, n);
	*len = 0;
	return rc;
}
