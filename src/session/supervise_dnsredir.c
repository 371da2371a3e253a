/*
 * supervise_dnsredir.c - a supervised program's query for a resolver of
 * resolv.conf goes to the session's DNS responder (supervise_dns.c): the
 * connect or send is performed here, on the duplicate of its socket, to
 * the responder's loopback address instead (never CONTINUE).
 *
 * The replies must look as if the resolver the program asked sent them.
 * The responder cannot send from that address (it is not this host's, and
 * answering from it would need IP_TRANSPARENT: privileges), so the
 * program's view is mended where it looks:
 *  - a connected socket (Go, c-ares, glibc): the kernel delivers the
 *    responder's replies to it, since it is connected to the responder;
 *    getpeername says the resolver (supervise_peer.c's inode table);
 *  - the source of each datagram (recvfrom with an address, recvmsg,
 *    recvmmsg: musl and c-ares compare it with the server they
 *    asked and drop any other): those calls are notified, and on a
 *    socket that was redirected they are performed here, the responder's
 *    address in the answer replaced by the resolver's.  On any other
 *    socket they are the kernel's (CONTINUE: a receive decides nothing).
 * getsockname still says the loopback address the kernel bound.
 */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DSOCK_MAX 1024
#define RECV_MAX 65536u		/* a datagram */

/* A redirected socket, by inode, and the resolver it asked. */
struct dsock {
	uint64_t dev, ino;
	uint64_t used;
	struct sockaddr_storage asked;
	socklen_t askedlen;
};

static struct dsock g_ds[DSOCK_MAX];
static size_t g_nds;
static uint64_t g_clock;
static int g_ever;		/* atomic: any socket redirected yet */
static pthread_mutex_t g_ds_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
is_v4mapped(const uint8_t *a)
{
	static const uint8_t m[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, m, 12) == 0;
}

/*
 * The caller's datagram socket, about to send its query: bound as the
 * send would bind it (any address, a port the kernel picks), and noted
 * with the caller before the responder can read the query.
 */
static void
who_first(struct sup_call *c, int fd, int domain)
{
	struct sockaddr_storage local, any;
	socklen_t ll = sizeof(local);

	if (getsockname(fd, (struct sockaddr *)&local, &ll) == -1)
		return;
	if (((struct sockaddr_in *)&local)->sin_port == 0) {
		memset(&any, 0, sizeof(any));
		any.ss_family = (sa_family_t)domain;
		ll = domain == AF_INET ? sizeof(struct sockaddr_in) :
					 sizeof(struct sockaddr_in6);
		if (bind(fd, (struct sockaddr *)&any, ll) == -1)
			return;	/* the send binds it, or says why not */
		ll = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &ll) == -1)
			return;
	}
	sup_dns_who_note(c, &local);
}

bool
sup_dns_redirect(struct sup_call *c, int fd, int domain, int type,
		 const struct sup_dest *d, uint8_t *sa, socklen_t *len)
{
	struct sockaddr_storage r;
	struct sup_dest d4 = *d;
	sa_family_t fam;
	socklen_t rl;

	if ((domain != AF_INET && domain != AF_INET6) ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM) || d->family == 0)
		return false;
	if (d->family == AF_INET6 && is_v4mapped(d->addr)) {
		d4.family = AF_INET;
		memmove(d4.addr, d->addr + 12, 4);
	}
	if (!sup_is_resolver(&d4))
		return false;
	memcpy(&fam, sa, sizeof(fam));
	if (fam == AF_UNSPEC)	/* udp_sendmsg's AF_INET */
		fam = AF_INET;
	if (!sup_dns_responder(fam, type == SOCK_STREAM, &r, &rl))
		return false;
	if (fd >= 0 && type == SOCK_DGRAM)
		who_first(c, fd, domain);
	memcpy(sa, &r, rl);
	*len = rl;
	return true;
}

/* The address as the kernel gives it back: a whole sockaddr_in(6). */
static socklen_t
whole(const uint8_t *sa, socklen_t len, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, sa, len < sizeof(*out) ? len : sizeof(*out));
	if (out->ss_family != AF_INET6) {
		out->ss_family = AF_INET;	/* AF_UNSPEC: udp_sendmsg's */
		memset(((struct sockaddr_in *)out)->sin_zero, 0, 8);
		return sizeof(struct sockaddr_in);
	}
	((struct sockaddr_in6 *)out)->sin6_flowinfo = 0;
	return sizeof(struct sockaddr_in6);
}

void
sup_dns_note(struct sup_call *c, int fd, const uint8_t *asked,
	     socklen_t alen, bool connected)
{
	struct sockaddr_storage local, r;
	socklen_t ll = sizeof(local), rl;
	struct dsock *e = NULL;
	struct stat st;
	size_t i;
	int type = 0;
	socklen_t tl = sizeof(type);

	if (fstat(fd, &st) == -1)
		return;
	/* a send's caller is noted before it (who_first) */
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0 && connected)
		sup_dns_who_note(c, &local);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	pthread_mutex_lock(&g_ds_lock);
	for (i = 0; i < g_nds && e == NULL; i++)
		if (g_ds[i].ino == st.st_ino && g_ds[i].dev == st.st_dev)
			e = &g_ds[i];
	if (e == NULL && g_nds < DSOCK_MAX)
		e = &g_ds[g_nds++];
	if (e == NULL) {	/* full: the least recently used goes */
		e = &g_ds[0];
		for (i = 1; i < g_nds; i++)
			if (g_ds[i].used < e->used)
				e = &g_ds[i];
	}
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->used = ++g_clock;
	e->askedlen = whole(asked, alen, &e->asked);
	pthread_mutex_unlock(&g_ds_lock);
	__atomic_store_n(&g_ever, 1, __ATOMIC_RELAXED);
	if (connected && sup_dns_responder(local.ss_family,
					   type == SOCK_STREAM, &r, &rl))
		sup_peer_note_via(fd, &r, rl, &e->asked, e->askedlen);
}

/* The resolver a redirected datagram socket asked (fd a duplicate). */
static bool
asked_of(int fd, struct sockaddr_storage *asked, socklen_t *len)
{
	struct stat st;
	size_t i;
	bool found = false;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	pthread_mutex_lock(&g_ds_lock);
	for (i = 0; i < g_nds && !found; i++)
		if (g_ds[i].ino == st.st_ino && g_ds[i].dev == st.st_dev) {
			g_ds[i].used = ++g_clock;
			*asked = g_ds[i].asked;
			*len = g_ds[i].askedlen;
			found = true;
		}
	pthread_mutex_unlock(&g_ds_lock);
	return found;
}

/* Was it the responder that sent this (either family's socket)? */
static bool
from_responder(const struct sockaddr_storage *from)
{
	struct sockaddr_storage r;
	socklen_t rl;

	return sup_dns_responder(from->ss_family, false, &r, &rl) &&
	       memcmp(&r, from, from->ss_family == AF_INET ?
		      sizeof(struct sockaddr_in) :
		      sizeof(struct sockaddr_in6)) == 0;
}

/*
 * Wait for the duplicate to be readable as the caller's blocking receive
 * would: until data, its SO_RCVTIMEO (-EAGAIN), or the caller is gone
 * (checked every second: then nothing is received for it).
 */
static int
wait_readable(struct sup_call *c, int fd, int flags)
{
	struct timeval tv = { 0 };
	socklen_t l = sizeof(tv);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int fl = fcntl(fd, F_GETFL), waited = 0, limit_ms = -1;

	if ((fl != -1 && (fl & O_NONBLOCK)) || (flags & MSG_DONTWAIT))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec > 0 || tv.tv_usec > 0))
		limit_ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
	sup_may_block();
	for (;;) {
		if (poll(&p, 1, 1000) > 0)
			return 0;
		waited += 1000;
		if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->id) == -1)
			return -ENOENT;
		if (limit_ms >= 0 && waited >= limit_ms)
			return -EAGAIN;
	}
}

/* One receive into the caller's header um (at uaddr), as recvmsg. */
static int64_t
recv_one(struct sup_call *c, int fd, uint64_t uaddr, const struct msghdr *um,
	 int flags, const struct sockaddr_storage *asked, socklen_t alen)
{
	struct iovec v[SUP_IOV_MAX], one;
	struct sockaddr_storage from;
	struct msghdr k;
	size_t i, total = 0, off = 0, take;
	uint8_t *data = NULL, *ctl = NULL;
	int64_t r;
	int rc, nl;

	if (um->msg_iovlen > SUP_IOV_MAX)
		return -EMSGSIZE;
	rc = sup_read(c, (uintptr_t)um->msg_iov, v,
		      um->msg_iovlen * sizeof(v[0]));
	if (rc < 0)
		return rc;
	for (i = 0; i < um->msg_iovlen; i++)
		total += v[i].iov_len;
	if (total > RECV_MAX)
		total = RECV_MAX;
	data = malloc(total ? total : 1);
	if (um->msg_controllen > 0)
		ctl = malloc(um->msg_controllen < SUP_CTL_MAX ?
			     um->msg_controllen : SUP_CTL_MAX);
	if (data == NULL || (um->msg_controllen > 0 && ctl == NULL)) {
		free(data);
		free(ctl);
		return -ENOMEM;
	}
	memset(&k, 0, sizeof(k));
	one.iov_base = data;
	one.iov_len = total;
	k.msg_name = &from;
	k.msg_namelen = sizeof(from);
	k.msg_iov = &one;
	k.msg_iovlen = 1;
	k.msg_control = ctl;
	k.msg_controllen = ctl == NULL ? 0 : (um->msg_controllen < SUP_CTL_MAX ?
					      um->msg_controllen : SUP_CTL_MAX);
	do {
		rc = wait_readable(c, fd, flags);
		r = rc < 0 ? rc : recvmsg(fd, &k, flags | MSG_DONTWAIT);
		if (r == -1)
			r = -errno;
	} while (r == -EAGAIN && rc == 0 && !(flags & MSG_DONTWAIT) &&
		 !(fcntl(fd, F_GETFL) & O_NONBLOCK));	/* taken by another */
	if (r >= 0 && k.msg_namelen > 0 && from_responder(&from)) {
		memcpy(&from, asked, alen);
		k.msg_namelen = alen;
	}
	/* the data, scattered as the kernel would */
	for (i = 0; r >= 0 && i < um->msg_iovlen && off < (size_t)r &&
	     off < total; i++) {
		take = v[i].iov_len < (size_t)r - off ? v[i].iov_len :
							(size_t)r - off;
		if (take > total - off)
			take = total - off;
		if (sup_write(c, (uintptr_t)v[i].iov_base, data + off,
			      take) < 0)
			r = -EFAULT;
		off += take;
	}
	if (r >= 0 && um->msg_name != NULL) {
		nl = (int)um->msg_namelen < 0 ? 0 : (int)um->msg_namelen;
		if ((socklen_t)nl > k.msg_namelen)
			nl = (int)k.msg_namelen;
		if ((nl > 0 && sup_write(c, (uintptr_t)um->msg_name, &from,
					 (size_t)nl) < 0) ||
		    sup_write(c, uaddr + offsetof(struct msghdr, msg_namelen),
			      &k.msg_namelen, sizeof(k.msg_namelen)) < 0)
			r = -EFAULT;
	}
	if (r >= 0 && ((k.msg_controllen > 0 &&
			sup_write(c, (uintptr_t)um->msg_control, ctl,
				  k.msg_controllen) < 0) ||
		       sup_write(c, uaddr + offsetof(struct msghdr,
						     msg_controllen),
				 &k.msg_controllen,
				 sizeof(k.msg_controllen)) < 0 ||
		       sup_write(c, uaddr + offsetof(struct msghdr, msg_flags),
				 &k.msg_flags, sizeof(k.msg_flags)) < 0))
		r = -EFAULT;
	free(data);
	free(ctl);
	return r;
}

/* recvfrom(fd, buf, len, flags, addr, addrlen) as a recvmsg. */
static int64_t
recv_from(struct sup_call *c, int fd, const struct sockaddr_storage *asked,
	  socklen_t alen)
{
	struct sockaddr_storage from;
	size_t n = c->args[2] < RECV_MAX ? (size_t)c->args[2] : RECV_MAX;
	int flags = (int)c->args[3], rc, l;
	socklen_t fl = sizeof(from);
	uint8_t *data;
	int64_t r;

	rc = sup_read(c, c->args[5], &l, sizeof(l));
	if (rc < 0)
		return rc;
	if (l < 0)
		return -EINVAL;
	data = malloc(n ? n : 1);
	if (data == NULL)
		return -ENOMEM;
	do {
		rc = wait_readable(c, fd, flags);
		r = rc < 0 ? rc : recvfrom(fd, data, n, flags | MSG_DONTWAIT,
					   (struct sockaddr *)&from, &fl);
		if (r == -1)
			r = -errno;
	} while (r == -EAGAIN && rc == 0 && !(flags & MSG_DONTWAIT) &&
		 !(fcntl(fd, F_GETFL) & O_NONBLOCK));
	if (r >= 0 && fl > 0 && from_responder(&from)) {
		memcpy(&from, asked, alen);
		fl = alen;
	}
	if (r >= 0 && sup_write(c, c->args[1], data,
				(size_t)r < n ? (size_t)r : n) < 0)
		r = -EFAULT;
	/* move_addr_to_user: at most l bytes, the whole length back */
	if (r >= 0 && ((l > 0 && sup_write(c, c->args[4], &from,
					   (socklen_t)l < fl ? (size_t)l :
							       fl) < 0) ||
		       sup_write(c, c->args[5], &fl, sizeof(fl)) < 0))
		r = -EFAULT;
	free(data);
	return r;
}

int64_t
sup_dns_recv(struct sup_call *c)
{
	struct sockaddr_storage asked;
	socklen_t alen;
	struct msghdr um;
	int fd, type = 0;
	socklen_t tl = sizeof(type);
	unsigned int one = 1;
	int64_t r;

	/* XXX: issue 15: a 32-bit program's receives are not notified (a
	 * resolver in one that checks the source drops the answers) */
	if (!__atomic_load_n(&g_ever, __ATOMIC_RELAXED) || c->compat ||
	    (c->nr == __NR_recvmmsg && c->args[2] == 0))
		return SUP_CONTINUE;
	fd = sup_dupfd(c, (int)c->args[0]);
	if (fd < 0)
		return SUP_CONTINUE;	/* EBADF and the rest: the kernel's */
	if (!asked_of(fd, &asked, &alen) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_DGRAM) {
		close(fd);	/* a stream's data has no source */
		return SUP_CONTINUE;
	}
	if (c->nr == __NR_recvfrom) {
		r = recv_from(c, fd, &asked, alen);
	} else {
		r = sup_read(c, c->args[1], &um, sizeof(um));
		if (r == 0)
			r = recv_one(c, fd, c->args[1], &um,
				     (int)c->args[c->nr == __NR_recvmsg ? 2 : 3],
				     &asked, alen);
		/* recvmmsg: the first message, its length, a count of 1 */
		if (c->nr == __NR_recvmmsg && r >= 0) {
			one = (unsigned int)r;
			r = sup_write(c, c->args[1] + offsetof(struct mmsghdr,
							       msg_len),
				      &one, sizeof(one));
			r = r < 0 ? r : 1;
		}
	}
	close(fd);
	return r;
}
