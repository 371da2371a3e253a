/*
 * route.c - connect(): decide, then direct / block / via a proxy.
 *
 * The handshake runs on the application's own socket, so its options,
 * flags and close-on-exec survive.  A destination routed to a proxy never
 * falls back to a direct connection.
 */
#include "route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrnames.h"
#include "async.h"
#include "evid.h"
#include "fakedns.h"
#include "fdtab.h"
#include "guard.h"
#include "ready.h"
#include "log.h"
#include "peername.h"
#include "real.h"
#include "shim.h"
#include "udp.h"

/* What route_dest takes: an IPv4 or IPv6 name, long enough. */
static bool
inet_dest(const struct sockaddr *sa, socklen_t len)
{
	return (sa->sa_family == AF_INET &&
		len >= sizeof(struct sockaddr_in)) ||
	       (sa->sa_family == AF_INET6 && len >= SIN6_LEN_RFC2133);
}

bool
route_dest(const struct sockaddr *sa, socklen_t len, struct tun_dest *d)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	memset(d, 0, sizeof(*d));
	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		d->family = AF_INET;
		memcpy(d->addr, &s4->sin_addr, 4);
		d->port = ntohs(s4->sin_port);
		return true;
	}
	/* the kernel takes RFC 2133's 24 bytes, without sin6_scope_id */
	if (sa->sa_family == AF_INET6 && len >= SIN6_LEN_RFC2133) {
		d->family = AF_INET6;
		memcpy(d->addr, &s6->sin6_addr, 16);
		d->port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

/*
 * The library never calls its own hooks, so a connect or send with an
 * inet destination while this thread is inside the library's own work
 * (resolving a name, loading the rules) comes from a signal handler that
 * interrupted it.  It is refused: deciding it could wait for what the
 * interrupted code holds.  One log line and an audit event, neither of
 * which takes a lock or the rules.
 */
int
route_reentered(const struct sockaddr *sa, socklen_t len, const char *proto)
{
	char dstr[URL_HOST_MAX + 16] = "?";
	struct log_event ev;
	struct tun_dest d;
	bool known = route_dest(sa, len, &d);

	if (known)
		route_dest_str(&d, dstr, sizeof(dstr));
	log_msg(LOG_WARN, "blocked %s%s: called from a signal handler while "
		"the library was busy on the same thread",
		strcmp(proto, "udp") == 0 ? "udp " : "", dstr);
	if (log_json_enabled()) {
		log_event_init(&ev, "block");
		ev.proto = proto;
		if (known) {
			ev.family = d.family;
			ev.addr = d.addr;
			ev.port = d.port;
		}
		ev.rule_text = "signal handler during the library's own work";
		ev.action = "block";
		ev.err = EACCES;
		log_event(&ev);
	}
	return -EACCES;
}

void
route_decide(const struct shim *s, struct tun_dest *d, struct decision *dec)
{
	struct decision byname;
	char name[URL_HOST_MAX];

	memset(dec, 0, sizeof(*dec));
	if (s->rules == NULL) {
		dec->action = CFG_BLOCK;
		return;
	}
	/* A fake address stands for the name the application resolved. */
	if (d->name[0] == '\0' && fdns_is_fake(d->family, d->addr) &&
	    fdns_lookup(d->family, d->addr, d->name, sizeof(d->name)) < 0) {
		d->name[0] = '\0';
		dec->action = CFG_BLOCK;	/* unknown fake: never direct */
		dec->stale_fake = true;
		return;
	}
	if (d->name[0] != '\0') {
		rules_decide_name(s->rules, d->name, d->port, dec);
		return;
	}
	rules_decide_addr(s->rules, d->family, d->addr, d->port, dec);
	/*
	 * An address this process resolved from a name: the name's rule and
	 * the address's rule both apply, and the first in the file wins
	 * ("direct .lan.example" before "via corp *").
	 */
	if (anames_get(d->family, d->addr, name, sizeof(name))) {
		rules_decide_name(s->rules, name, d->port, &byname);
		if (byname.rule != NULL &&
		    (dec->rule == NULL || byname.index < dec->index))
			*dec = byname;
	}
}

static int
sock_type(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	return type;
}

/* A handshake async.c ran ended (with its lock held). */
static void
via_done(struct tun *t, int rc)
{
	route_report(t, rc);
	/* its record (t->ctx), attached or about to be: via() attaches it
	 * once async_start returns, which may be after this */
	if (rc == 0 && t->ctx != NULL)
		evid_ready(t->ctx, t);
}

/*
 * A blocking connect whose tunnel went optimistic (tunnel_early.c):
 * connect() returns 0 now and the helper takes the proxy's replies
 * (async.c), which the program's reads wait for.
 */
static int
early_up(int fd, struct tun *t, const struct tun_dest *d,
	 const struct decision *dec, int64_t start_ms)
{
	struct fd_entry *e;
	struct evid *v;
	int rc;

	t->ep = ready_hide(fd);
	t->done = via_done;
	v = evid_new(d, dec, start_ms);
	t->ctx = v;
	rc = async_start(t);	/* t may be gone once it returns */
	e = fdtab_get(fd);
	if (rc == 0 && e != NULL) {
		e->acked = true;	/* connect() said 0 */
		evid_attach(e, v);
		return 0;
	}
	if (v != NULL)
		evid_free(v);
	real_shutdown(fd, SHUT_RDWR);	/* no half-made tunnel */
	return rc < 0 ? rc : -ENOMEM;
}

/*
 * A blocking socket gets the whole handshake here, bounded by the
 * deadline.  A non-blocking one starts it and returns EINPROGRESS: the
 * helper (async.c) finishes it while the application's event loop goes on.
 */
static int
via(const struct shim *s, int fd, const struct sockaddr *sa, socklen_t len,
    const struct tun_dest *d, const struct decision *dec)
{
	int64_t start_ms = tun_now_ms();
	struct fd_entry *e;
	struct evid *v;
	struct tun *t;
	int flags, rc;

	flags = real_fcntl(fd, F_GETFL, NULL);
	if (flags == -1)
		return -errno;
	t = tun_new();
	if (t == NULL)
		return -ENOMEM;
	tun_init(t, fd, s->cfg, dec->rule, d, s->timeout_ms);
	memcpy(&t->peer, sa, len < sizeof(t->peer) ? len : sizeof(t->peer));
	t->peerlen = len;
	t->early_ok = true;	/* async.c takes optimistic tunnels */
	if (flags & O_NONBLOCK) {
		/* before the proxy's SYN-ACK can make it writable */
		t->ep = ready_hide(fd);
		rc = tun_connect(t);
		if (rc < 0) {
			ready_unhide(fd, t->ep);
			route_report(t, rc);
			tun_free(t);
			return rc;
		}
		t->done = via_done;
		v = evid_new(d, dec, start_ms);
		t->ctx = v;
		rc = async_start(t);	/* t may be gone once it returns */
		if (rc == 0)
			evid_attach(fdtab_get(fd), v);
		else if (v != NULL)
			evid_free(v);
		return rc < 0 ? rc : -EINPROGRESS;
	}
	real_fcntl(fd, F_SETFL, (void *)(long)(flags | O_NONBLOCK));
	t->may_learn = true;	/* nobody else polls this socket now */
	rc = tun_run(t);
	real_fcntl(fd, F_SETFL, (void *)(long)flags);
	if (rc == TUN_EARLY_UP)
		return early_up(fd, t, d, dec, start_ms);
	if (rc < 0 && t->state != TUN_CONNECTING)
		real_shutdown(fd, SHUT_RDWR);	/* no half-made tunnel */
	route_report(t, rc);
	if (rc == 0) {
		e = fdtab_set(fd);
		if (e != NULL) {
			/* getpeername's answer, as the kernel forms it */
			e->peerlen = peer_kernel_form(&t->peer, t->peerlen,
						      &e->peer);
			e->acked = true;	/* connect() said 0 */
			v = evid_new(d, dec, start_ms);
			if (v != NULL) {
				evid_ready(v, t);
				evid_attach(e, v);
			}
			e->lease = t->lease;	/* until the fd's last close */
			t->lease = NULL;
			__atomic_store_n(&e->state, FD_TUNNEL_READY,
					 __ATOMIC_RELEASE);
		}
	}
	tun_free(t);
	return rc;
}

/*
 * A datagram to d that the rules do not send direct: via one SOCKS5
 * proxy, 1; else refused (EACCES) with a log line: a block rule, or a via
 * rule whose proxy cannot carry UDP.  A via destination never leaks
 * direct.
 */
static int
datagram_verdict(const struct shim *s, const struct tun_dest *d,
		 const struct decision *dec)
{
	char dstr[URL_HOST_MAX + 16], rstr[512];
	const char *why = NULL;

	if (dec->action == CFG_VIA) {
		why = cfg_udp_unfit(s->cfg, dec->rule);
		if (why == NULL)
			return 1;
	}

	route_audit("block", "udp", d, dec, NULL, EACCES, why, -1);
	route_dest_str(d, dstr, sizeof(dstr));
	route_rule_str(s, dec, rstr, sizeof(rstr));
	route_hint(s, dec, d, rstr, sizeof(rstr));
	if (why != NULL)
		log_msg(LOG_WARN, "blocked udp %s: %s (%s)", dstr, why, rstr);
	else
		log_msg(LOG_WARN, "blocked udp %s (%s)", dstr, rstr);
	return -EACCES;
}

/*
 * The last destination this thread sent a datagram to direct: a DNS
 * client or a game sending to one server again and again then pays a
 * compare per datagram, not a rule decision and the address-name map's
 * lock.  The rules never change in a process; the map may (a lookup can
 * tie the address to a name with another rule), so its generation is
 * part of the key.
 */
struct direct_memo {
	unsigned int gen;	/* anames_gen() + 1; 0: empty */
	sa_family_t family;
	in_port_t port;
	uint8_t addr[16];
};

_Static_assert(sizeof(struct direct_memo) == 24, "compared with memcmp");

static __thread struct direct_memo memo
	__attribute__((tls_model("initial-exec")));

/* sa's family, port and address as a memo entry; false for others. */
static bool
memo_key(const struct sockaddr *sa, socklen_t len, struct direct_memo *k)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	k->family = sa->sa_family;
	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		k->port = s4->sin_port;
		memset(k->addr, 0, sizeof(k->addr));
		memcpy(k->addr, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		k->port = s6->sin6_port;
		memcpy(k->addr, &s6->sin6_addr, 16);
		return true;
	}
	return false;
}

int
route_datagram(int fd, const struct sockaddr *sa, socklen_t len,
	       struct tun_dest *d, struct decision *dec)
{
	const struct shim *s;
	struct direct_memo k;
	struct fd_entry *e;
	int saved = errno, type;

	if (!memo_key(sa, len, &k))
		return 0;
	k.gen = anames_gen() + 1;
	if (memcmp(&k, &memo, sizeof(k)) == 0)
		return 0;
	if (route_fast_name(sa, len, false)) {
		memo = k;
		return 0;
	}
	route_dest(sa, len, d);
	s = shim_get();
	route_decide(s, d, dec);
	if (dec->action == CFG_DIRECT) {
		if (d->name[0] == '\0')	/* not a fake address */
			memo = k;
		errno = saved;
		return 0;
	}
	e = fdtab_get(fd);
	type = e != NULL && e->udp != NULL ? SOCK_DGRAM : sock_type(fd);
	errno = saved;
	if (type != SOCK_DGRAM)
		return 0;	/* TCP's sendto ignores the address */
	return datagram_verdict(s, d, dec);
}

int
route_connect(int fd, const struct sockaddr *sa, socklen_t len,
	      const struct route_udp *udp)
{
	const struct shim *s;
	struct decision dec;
	struct tun_dest d;
	struct fd_entry *e;
	char dstr[URL_HOST_MAX + 16], rstr[512];
	int saved = errno, rc, type;

	if (!inet_dest(sa, len))
		return real_connect(fd, sa, len);
	if (__builtin_expect(shim_internal(), 0)) {
		errno = -route_reentered(sa, len, "tcp");
		return -1;
	}
	/* a socket without an entry (no UDP association to end) */
	if (route_fast_name(sa, len, false) && fdtab_get(fd) == NULL)
		return real_connect(fd, sa, len);
	route_dest(sa, len, &d);
	s = shim_get();
	route_decide(s, &d, &dec);
	/*
	 * Direct goes straight to libc, except a direct rule with
	 * proxy_protocol on a stream socket: that one is a tunnel without
	 * proxies (via() below), which connects and then writes the header
	 * before any application byte (blocking: here; non-blocking: the
	 * helper holds the socket until it is written).
	 */
	if (dec.action == CFG_DIRECT && !(dec.rule != NULL &&
					  dec.rule->pp_version != 0 &&
					  sock_type(fd) == SOCK_STREAM)) {
		if (log_enabled(LOG_INFO)) {
			route_dest_str(&d, dstr, sizeof(dstr));
			route_rule_str(s, &dec, rstr, sizeof(rstr));
			log_msg(LOG_INFO, "direct %s (%s)", dstr, rstr);
		}
		errno = saved;
		rc = real_connect(fd, sa, len);
		e = fdtab_get(fd);
		if (rc == 0 && e != NULL && e->udp != NULL)
			udp->disconnect(e->udp);	/* its peer is direct now */
		if (log_json_enabled()) {
			saved = errno;
			type = sock_type(fd);
			route_audit("connect", type == SOCK_DGRAM ? "udp" :
				    "tcp", &d, &dec, NULL,
				    rc == -1 && saved != EINPROGRESS ? saved :
				    0, NULL, -1);
			errno = saved;
		}
		return rc;
	}
	type = sock_type(fd);
	if (type == SOCK_DGRAM) {
		rc = datagram_verdict(s, &d, &dec);
		if (rc > 0)
			rc = udp->connect(fd, sa, len, &d, &dec);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		errno = saved;
		return 0;
	}
	if (type != SOCK_STREAM) {
		errno = saved;
		return real_connect(fd, sa, len);
	}
	if (dec.action == CFG_BLOCK) {
		route_audit("block", "tcp", &d, &dec, NULL, EACCES, NULL, -1);
		route_dest_str(&d, dstr, sizeof(dstr));
		route_rule_str(s, &dec, rstr, sizeof(rstr));
		route_hint(s, &dec, &d, rstr, sizeof(rstr));
		log_msg(LOG_WARN, "blocked %s (%s)", dstr, rstr);
		errno = EACCES;
		return -1;
	}
	rc = via(s, fd, sa, len, &d, &dec);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved;
	return 0;
}
