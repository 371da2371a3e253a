/*
 * supervise_call.c - each notified call, read the way the kernel reads
 * it, decided, and performed here on a duplicate of the caller's socket.
 *
 * Every byte the decision depends on is copied out of the target once
 * (sup_read), and the call is then made with those copies: a thread that
 * rewrites the address after the check changes nothing.  The duplicate
 * shares the socket's file description, so its O_NONBLOCK, options and
 * the connection itself are the program's; the kernel carries the bytes
 * afterwards.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A duplicate of the caller's socket with what the kernel knows of it. */
struct sup_sock {
	int fd;
	int domain, type;
	bool blocking;
};

/* What the kernel knows of the duplicate s->fd; -ENOTSOCK (closed) for
 * a file that is not a socket. */
static int
sock_info(struct sup_sock *s)
{
	socklen_t l = sizeof(int);
	int fl;

	if (getsockopt(s->fd, SOL_SOCKET, SO_DOMAIN, &s->domain, &l) == -1) {
		close(s->fd);
		return -ENOTSOCK;	/* what the kernel says of a file */
	}
	l = sizeof(int);
	if (getsockopt(s->fd, SOL_SOCKET, SO_TYPE, &s->type, &l) == -1)
		s->type = 0;
	fl = fcntl(s->fd, F_GETFL);
	s->blocking = fl != -1 && !(fl & O_NONBLOCK);
	return 0;
}

/* The caller's fd as a socket (sockfd_lookup: EBADF, then ENOTSOCK). */
static int
sock_open(struct sup_call *c, int fd, struct sup_sock *s)
{
	s->fd = sup_dupfd(c, fd);
	if (s->fd < 0)
		return s->fd;
	return sock_info(s);
}

/*
 * A header that could not be read: the kernel looks at the fd first, so
 * a bad fd's EBADF or ENOTSOCK comes before the EFAULT.
 */
static int
fd_first(struct sup_call *c, int fd, int rc)
{
	struct sup_sock s;
	int e;

	if (rc != -EFAULT)
		return rc;
	e = sock_open(c, fd, &s);
	if (e < 0)
		return e;
	close(s.fd);
	return rc;
}

static const char *
proto_of(const struct sup_sock *s)
{
	if (s->type == SOCK_STREAM)
		return "tcp";
	return s->type == SOCK_DGRAM ? "udp" : "raw";
}

/*
 * A send's destination: none on a stream socket (TCP ignores the name)
 * unless MSG_FASTOPEN makes it a connect.
 */
static void
send_dest(const struct sup_sock *s, const uint8_t *sa, size_t len, int flags,
	  struct sup_dest *d)
{
	if (s->type == SOCK_STREAM && !(flags & MSG_FASTOPEN))
		memset(d, 0, sizeof(*d));
	else
		sup_dest_of(sa, len, s->domain, true, d);
}

/* The kernel raises SIGPIPE in the sender; we sent for it. */
static int64_t
sent(struct sup_call *c, ssize_t r, int flags)
{
	if (r >= 0)
		return r;
	if (errno == EPIPE && !(flags & MSG_NOSIGNAL))
		syscall(SYS_tgkill, sup_tgid(c), c->tid, SIGPIPE);
	return -errno;
}

/*
 * What tcp_v4_connect / tcp_v6_connect say of an address of the other
 * family, which the kernel never connects (the direct path lets it say
 * so; a tunnel must not be built for it).
 */
static int
via_fits(const struct sup_sock *s, const uint8_t *sa, int len)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	socklen_t l = sizeof(int);
	sa_family_t fam;
	int v6only = 0;

	memcpy(&fam, sa, sizeof(fam));	/* sup_dest_of saw a family */
	if (s->domain == AF_INET6 && len < 24)	/* SIN6_LEN_RFC2133 */
		return -EINVAL;
	if (fam != s->domain)
		return -EAFNOSUPPORT;
	/* tcp_v6_connect: a v4-mapped address on an IPv6-only socket */
	if (fam == AF_INET6 && memcmp(sa + 8, v4mapped, 12) == 0 &&
	    getsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) == 0 &&
	    v6only)
		return -ENETUNREACH;
	return 0;
}

static int64_t
do_connect(struct sup_call *c)
{
	uint8_t sa[SUP_ADDR_MAX], asked[SUP_ADDR_MAX];
	struct decision via;
	struct sup_dest d;
	struct sup_sock s;
	int len = (int)c->args[2], rc, ufd;
	socklen_t rl = (socklen_t)len;
	struct sup_as as;
	int64_t r;

	/* __sys_connect: the fd, then move_addr_to_kernel, then whether
	 * it is a socket */
	s.fd = sup_dupfd(c, (int)c->args[0]);
	if (s.fd < 0)
		return s.fd;
	rc = len < 0 || len > SUP_ADDR_MAX ? -EINVAL :
	     sup_read(c, c->args[1], sa, (size_t)len);
	if (rc < 0) {
		close(s.fd);
		return rc;
	}
	rc = sock_info(&s);
	if (rc < 0)
		return rc;
	sup_dest_of(sa, (size_t)len, s.domain, false, &d);
	memcpy(asked, sa, (size_t)len);
	if (sup_dns_redirect(c, -1, s.domain, s.type, &d, sa, &rl)) {
		r = connect(s.fd, (struct sockaddr *)sa, rl) == -1 ? -errno : 0;
		if (r == 0 || r == -EINPROGRESS)
			sup_dns_note(c, s.fd, asked, (socklen_t)len, true);
		close(s.fd);
		return r;
	}
	rc = sup_decide(c, proto_of(&s), &d, &via);
	if (rc < 0) {
		close(s.fd);
		return rc;
	}
	if (rc == 2) {
		rc = via_fits(&s, sa, len);
		r = rc < 0 ? rc : sup_via(c, s.fd, (int)c->args[0], sa,
					  (socklen_t)len, &d, &via);
		close(s.fd);
		return r;
	}
	ufd = sup_unix_name(c, s.domain, sa, &rl);
	if (ufd < -1) {
		close(s.fd);
		return ufd;
	}
	if (s.blocking)
		sup_may_block();
	/* a local server reads the caller's credentials, not ours */
	if (s.domain == AF_UNIX)
		sup_as_caller(c, &as);
	r = connect(s.fd, (struct sockaddr *)sa, rl) == -1 ? -errno : 0;
	if (s.domain == AF_UNIX)
		sup_as_self(&as);
	if (rc == 1)
		sup_report_direct(c, proto_of(&s), &d,
				  r == -EINPROGRESS ? 0 : (int)-r);
	if (ufd >= 0)
		close(ufd);
	close(s.fd);
	return r;
}

/* Copy n bytes (capped as a send may be) of the target's buffer. */
static int
copy_data(struct sup_call *c, const struct sup_sock *s, uint64_t p,
	  size_t *n, void **out)
{
	int rc;

	*out = NULL;
	if (*n > SUP_DATA_MAX) {
		if (s->type != SOCK_STREAM)
			return -EMSGSIZE;
		*n = SUP_DATA_MAX;	/* a stream takes part of it */
	}
	*out = malloc(*n ? *n : 1);
	if (*out == NULL)
		return -ENOMEM;
	rc = sup_read(c, p, *out, *n);
	return rc;
}

static int64_t
do_sendto(struct sup_call *c)
{
	uint8_t sa[SUP_ADDR_MAX], asked[SUP_ADDR_MAX];
	int alen = (int)c->args[5], flags = (int)c->args[3], rc, ufd;
	struct sup_as as;
	socklen_t rl;
	size_t n = (size_t)c->args[2];
	bool redir;
	struct sup_dest d;
	struct sup_sock s;
	void *data = NULL;
	int64_t r;

	/* __sys_sendto: the socket, then the address (none: its length
	 * is not looked at; only a 32-bit caller's is notified) */
	rc = sock_open(c, (int)c->args[0], &s);
	if (rc < 0)
		return rc;
	if (c->args[4] == 0)
		alen = 0;
	rc = alen < 0 || alen > SUP_ADDR_MAX ? -EINVAL :
	     sup_read(c, c->args[4], sa, (size_t)alen);
	if (rc < 0) {
		close(s.fd);
		return rc;
	}
	send_dest(&s, sa, (size_t)alen, flags, &d);
	memcpy(asked, sa, (size_t)alen);
	rl = (socklen_t)alen;
	redir = sup_dns_redirect(c, s.fd, s.domain, s.type, &d, sa, &rl);
	if (redir)	/* before the send: its reply may come at once */
		sup_dns_note(c, s.fd, asked, (socklen_t)alen,
			     s.type == SOCK_STREAM);
	rc = redir ? 0 : sup_decide(c, proto_of(&s), &d, NULL);
	if (rc >= 0)
		rc = copy_data(c, &s, c->args[1], &n, &data);
	ufd = rc >= 0 && c->args[4] ? sup_unix_name(c, s.domain, sa, &rl) : -1;
	if (rc < 0 || ufd < -1) {
		free(data);
		close(s.fd);
		return rc < 0 ? rc : ufd;
	}
	if (s.blocking && !(flags & MSG_DONTWAIT))
		sup_may_block();
	/* a named socket's permissions, and the credentials the kernel
	 * attaches: the caller's (a root proxywrap's otherwise) */
	if (s.domain == AF_UNIX)
		sup_as_caller(c, &as);
	r = sent(c, sendto(s.fd, data, n, flags | MSG_NOSIGNAL,
			   c->args[4] ? (struct sockaddr *)sa : NULL, rl), flags);
	if (s.domain == AF_UNIX)
		sup_as_self(&as);
	if (ufd >= 0)
		close(ufd);
	free(data);
	close(s.fd);
	return r;
}

/* Everything one message of sendmsg points to, copied out. */
struct msg_copy {
	struct msghdr m;
	uint8_t name[SUP_ADDR_MAX];
	struct iovec iov;		/* the data, joined */
	int fds[253];			/* SCM_MAX_FD */
	size_t nfds;
};

static void
msg_free(struct msg_copy *k)
{
	size_t i;

	for (i = 0; i < k->nfds; i++)
		close(k->fds[i]);
	free(k->iov.iov_base);
	free(k->m.msg_control);
}

/* The caller's SCM_CREDENTIALS, checked as the kernel would check them
 * for it (*had: there is one). */
static int
translate_cred(struct sup_call *c, struct cmsghdr *h, bool as, bool *had)
{
	struct ucred u;
	int rc;

	if (h->cmsg_len < CMSG_LEN(sizeof(u)))
		return 0;	/* the kernel's EINVAL */
	*had = true;
	memcpy(&u, CMSG_DATA(h), sizeof(u));
	rc = sup_cred_check(c, &u, as);
	memcpy(CMSG_DATA(h), &u, sizeof(u));
	return rc;
}

/* None: the caller's own, where proxywrap's would be another user's. */
static int
add_cred(struct sup_call *c, struct msg_copy *k)
{
	size_t at = CMSG_ALIGN(k->m.msg_controllen);
	struct cmsghdr *h;
	struct ucred u;
	uint8_t *ctl;

	if (!sup_cred_implicit(c, &u))
		return 0;
	ctl = realloc(k->m.msg_control, at + CMSG_SPACE(sizeof(u)));
	if (ctl == NULL)
		return -ENOMEM;
	memset(ctl + k->m.msg_controllen, 0,
	       at + CMSG_SPACE(sizeof(u)) - k->m.msg_controllen);
	h = (struct cmsghdr *)(void *)(ctl + at);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_CREDENTIALS;
	h->cmsg_len = CMSG_LEN(sizeof(u));
	memcpy(CMSG_DATA(h), &u, sizeof(u));
	k->m.msg_control = ctl;
	k->m.msg_controllen = at + CMSG_SPACE(sizeof(u));
	return 0;
}

/* SCM_RIGHTS names the caller's fds: send duplicates of them; and the
 * credentials are the caller's (as: the send is made as the caller, whose
 * ids the kernel then attaches itself). */
static int
translate_fds(struct sup_call *c, struct msg_copy *k, bool as)
{
	struct cmsghdr *h;
	size_t i, n;
	int *v, d, rc;
	bool had = false;

	for (h = CMSG_FIRSTHDR(&k->m); h != NULL; h = CMSG_NXTHDR(&k->m, h)) {
		if (h->cmsg_level == SOL_SOCKET &&
		    h->cmsg_type == SCM_CREDENTIALS &&
		    (rc = translate_cred(c, h, as, &had)) < 0)
			return rc;
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		v = (int *)(void *)CMSG_DATA(h);
		for (i = 0; i < n; i++) {
			if (k->nfds == sizeof(k->fds) / sizeof(k->fds[0]))
				return -EINVAL;
			d = sup_dupfd(c, v[i]);
			if (d < 0)
				return d == -ENOENT ? d : -EBADF;
			k->fds[k->nfds++] = d;
			v[i] = d;
		}
	}
	return had || as ? 0 : add_cred(c, k);
}

/*
 * The message um (already read): name, data and control copied out
 * (copy_msghdr_from_user's checks, in its order), decided and sent on s.
 */
static int64_t
send_one(struct sup_call *c, const struct sup_sock *s,
	 const struct sup_msghdr *um, int flags)
{
	struct iovec v[SUP_IOV_MAX];
	struct msg_copy k;
	struct sup_dest d;
	size_t i, total = 0, off = 0, nl, cl = um->controllen;
	void *ctl;
	uint8_t asked[SUP_ADDR_MAX];
	socklen_t rl;
	bool redir;
	struct sup_as as;
	int rc, ufd;
	int64_t r;

	memset(&k, 0, sizeof(k));
	if (um->namelen < 0)
		return -EINVAL;
	nl = (size_t)um->namelen;
	if (nl > SUP_ADDR_MAX)
		nl = SUP_ADDR_MAX;	/* the kernel cuts it there */
	if (um->name == 0)
		nl = 0;
	if (um->iovlen > SUP_IOV_MAX)
		return -EMSGSIZE;
	rc = sup_read(c, um->name, k.name, nl);
	if (rc == 0)
		rc = sup_iov_read(c, um->iov, um->iovlen, v);
	if (rc < 0)
		return rc;
	for (i = 0; i < um->iovlen; i++) {
		total += v[i].iov_len;
		if (total > SUP_DATA_MAX && s->type != SOCK_STREAM)
			return -EMSGSIZE;
	}
	if (cl > SUP_CTL_MAX)
		return -ENOBUFS;
	if (nl > 0)
		send_dest(s, k.name, nl, flags, &d);
	else
		memset(&d, 0, sizeof(d));
	memcpy(asked, k.name, nl);
	rl = (socklen_t)nl;
	redir = sup_dns_redirect(c, s->fd, s->domain, s->type, &d, k.name,
				 &rl);
	if (redir)	/* before the send: its reply may come at once */
		sup_dns_note(c, s->fd, asked, (socklen_t)nl,
			     s->type == SOCK_STREAM);
	rc = redir ? 0 : sup_decide(c, proto_of(s), &d, NULL);
	if (rc < 0)
		return rc;
	rc = 0;
	if (total > SUP_DATA_MAX)
		total = SUP_DATA_MAX;
	k.iov.iov_base = malloc(total ? total : 1);
	ctl = cl ? malloc(cl) : NULL;
	k.m.msg_control = ctl;
	if (k.iov.iov_base == NULL || (cl && ctl == NULL)) {
		msg_free(&k);
		return -ENOMEM;
	}
	for (i = 0; i < um->iovlen && off < total && rc == 0; i++) {
		size_t take = v[i].iov_len < total - off ? v[i].iov_len :
							   total - off;

		rc = sup_read(c, (uintptr_t)v[i].iov_base,
			      (char *)k.iov.iov_base + off, take);
		off += take;
	}
	k.iov.iov_len = total;
	k.m.msg_name = nl ? k.name : NULL;
	k.m.msg_namelen = rl;
	k.m.msg_iov = &k.iov;
	k.m.msg_iovlen = 1;
	if (rc == 0)
		rc = sup_read(c, um->control, ctl, cl);
	if (rc == 0)
		rc = sup_cmsg_native(c, &ctl, &cl);
	k.m.msg_control = ctl;
	k.m.msg_controllen = cl;
	if (rc == 0 && s->domain == AF_UNIX)
		rc = translate_fds(c, &k, nl > 0);
	ufd = rc == 0 && nl ? sup_unix_name(c, s->domain, k.name, &rl) : -1;
	if (rc < 0 || ufd < -1) {
		msg_free(&k);
		return rc < 0 ? rc : ufd;
	}
	k.m.msg_namelen = rl;
	if (s->blocking && !(flags & MSG_DONTWAIT))
		sup_may_block();
	if (s->domain == AF_UNIX && nl > 0)
		sup_as_caller(c, &as);	/* a named socket's permissions */
	r = sent(c, sendmsg(s->fd, &k.m, flags | MSG_NOSIGNAL), flags);
	if (s->domain == AF_UNIX && nl > 0)
		sup_as_self(&as);
	if (ufd >= 0)
		close(ufd);
	msg_free(&k);
	return r;
}

static int64_t
do_sendmsg(struct sup_call *c)
{
	struct sup_msghdr um;
	struct sup_sock s;
	int rc;
	int64_t r;

	rc = sup_msghdr_read(c, c->args[1], &um);
	if (rc < 0)
		return fd_first(c, (int)c->args[0], rc);
	rc = sock_open(c, (int)c->args[0], &s);
	if (rc < 0)
		return rc;
	/*
	 * Every send is ours, also one without a name on a TCP or AF_UNIX
	 * socket, which goes to the socket's peer: let through, the kernel
	 * would look the fd and the header up again, and another thread
	 * could by then have put a UDP socket at that fd (dup2) and a
	 * name in the header.
	 */
	r = send_one(c, &s, &um, (int)c->args[2]);
	close(s.fd);
	return r;
}

static int64_t
do_sendmmsg(struct sup_call *c)
{
	size_t hsz = sup_mmsg_size(c), lat = sup_mmsg_len_at(c);
	unsigned int vlen = (unsigned int)c->args[2], i, n, len;
	struct sup_msghdr *h;
	struct sup_sock s;
	int64_t r = 0;
	int rc;

	if (vlen > SUP_MMSG_MAX)
		vlen = SUP_MMSG_MAX;	/* __sys_sendmmsg clamps it */
	if (vlen == 0 && !c->words)
		return SUP_CONTINUE;	/* nothing read: the kernel's fd checks */
	h = calloc(vlen ? vlen : 1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	/* the headers the kernel could read; it stops at the first that
	 * it cannot */
	for (n = 0; n < vlen; n++) {
		rc = sup_msghdr_read(c, c->args[1] + n * hsz, &h[n]);
		if (rc == -ENOENT || (rc < 0 && n == 0)) {
			free(h);
			return fd_first(c, (int)c->args[0], rc);
		}
		if (rc < 0)
			break;
	}
	rc = sock_open(c, (int)c->args[0], &s);
	if (rc < 0) {
		free(h);
		return rc;
	}
	/* every one ours, as in do_sendmsg */
	for (i = 0; i < n; i++) {
		r = send_one(c, &s, &h[i], (int)c->args[3]);
		if (r < 0)
			break;
		len = (unsigned int)r;
		if (sup_write(c, c->args[1] + i * hsz + lat, &len,
			      sizeof(len)) < 0)
			break;
	}
	close(s.fd);
	free(h);
	/* the count sent, or the first message's error */
	return i > 0 || n == 0 ? (int64_t)i : r;
}

void
sup_handle(struct sup_call *c, int64_t *val, int *err, bool *cont)
{
	int64_t r;

	*val = 0;
	*err = 0;
	*cont = false;
	r = sup_call_native(c);
	if (r < 0)
		;	/* an unknown socketcall, or its words unreadable */
	else if (c->nr == __NR_connect)
		r = do_connect(c);
	else if (c->nr == __NR_sendto)
		r = do_sendto(c);
	else if (c->nr == __NR_sendmsg)
		r = do_sendmsg(c);
	else if (c->nr == __NR_sendmmsg)
		r = do_sendmmsg(c);
	else if (c->nr == __NR_socket)
		r = sup_socket(c);
	else if (c->nr == __NR_getpeername)
		r = sup_getpeername(c);
	else if (c->nr == __NR_getsockopt)
		r = sup_peername_opt(c);
	else if (c->nr == __NR_execve || c->nr == __NR_execveat)
		r = sup_exec(c);
	else if (c->nr == __NR_recvfrom || c->nr == __NR_recvmsg ||
		 c->nr == __NR_recvmmsg)
		r = sup_dns_recv(c);
	else if (c->nr == __NR_io_uring_setup) {
		sup_report_call(c, "io_uring_setup", ENOSYS, "the supervisor "
				"cannot see the ring's connects (programs "
				"fall back to plain calls)");
		r = -ENOSYS;
	} else {
		r = -ENOSYS;
	}
	if (r == SUP_CONTINUE)
		*cont = true;
	else if (r < 0)
		*err = (int)-r;
	else
		*val = r;
}
