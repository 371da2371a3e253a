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

#include "fdtab.h"
#include "log.h"
#include "real.h"
#include "shim.h"

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
	if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		d->family = AF_INET6;
		memcpy(d->addr, &s6->sin6_addr, 16);
		d->port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

void
route_dest_str(const struct tun_dest *d, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (d->name[0] != '\0') {
		snprintf(buf, n, "%s:%u", d->name, d->port);
		return;
	}
	inet_ntop(d->family, d->addr, a, sizeof(a));
	snprintf(buf, n, d->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 d->port);
}

void
route_rule_str(const struct shim *s, const struct decision *dec, char *buf,
	       size_t n)
{
	if (dec->rule != NULL)
		snprintf(buf, n, "%s:%d %s", s->cfg->file, dec->rule->line,
			 dec->rule->text);
	else if (s->broken)
		snprintf(buf, n, "configuration unusable");
	else if (dec->loopback)
		snprintf(buf, n, "loopback default");
	else if (dec->action == CFG_BLOCK)
		snprintf(buf, n, "no rule matched, strict");
	else
		snprintf(buf, n, "no rule matched");
}

void
route_decide(const struct shim *s, struct tun_dest *d, struct decision *dec)
{
	memset(dec, 0, sizeof(*dec));
	if (s->rules == NULL) {
		dec->action = CFG_BLOCK;
		return;
	}
	if (d->name[0] != '\0')
		rules_decide_name(s->rules, d->name, d->port, dec);
	else
		rules_decide_addr(s->rules, d->family, d->addr, d->port, dec);
}

static int
sock_type(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	return type;
}

static int
via(const struct shim *s, int fd, const struct sockaddr *sa, socklen_t len,
    const struct tun_dest *d, const struct decision *dec)
{
	char dstr[URL_HOST_MAX + 16], rstr[512], pstr[TUN_MSG_MAX];
	struct fd_entry *e;
	struct tun *t;
	int flags, rc;

	t = malloc(sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	tun_init(t, fd, s->cfg, dec->rule, d, s->timeout_ms);
	flags = fcntl(fd, F_GETFL);
	if (flags == -1) {
		rc = -errno;
		free(t);
		return rc;
	}
	/*
	 * XXX(issue 6): a non-blocking socket gets its handshake here too,
	 * as proxychains does; overlapped handshakes come with the helper.
	 */
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = tun_run(t);
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags);
	route_dest_str(d, dstr, sizeof(dstr));
	route_rule_str(s, dec, rstr, sizeof(rstr));
	if (rc < 0) {
		/* never leave a half-made tunnel that looks connected */
		if (t->state != TUN_CONNECTING)
			shutdown(fd, SHUT_RDWR);
		log_msg(LOG_WARN, "failed %s: %s (%s)", dstr, t->msg, rstr);
		free(t);
		return rc;
	}
	e = fdtab_set(fd);
	if (e != NULL) {
		memcpy(&e->peer, sa, len < sizeof(e->peer) ? len
							   : sizeof(e->peer));
		e->peerlen = len;
		__atomic_store_n(&e->state, FD_TUNNEL_READY, __ATOMIC_RELEASE);
	}
	if (log_enabled(LOG_INFO)) {
		tun_proxy_str(t, dec->rule->nchain - 1, pstr, sizeof(pstr));
		log_msg(LOG_INFO, "via %s: %s in %lld ms (%s)", pstr, dstr,
			(long long)(tun_now_ms() - t->started_ms), rstr);
	}
	free(t);
	return 0;
}

int
route_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct shim *s;
	struct decision dec;
	struct tun_dest d;
	char dstr[URL_HOST_MAX + 16], rstr[512];
	int saved = errno, rc;

	if (!route_dest(sa, len, &d))
		return real_connect(fd, sa, len);
	s = shim_get();
	route_decide(s, &d, &dec);
	if (dec.action == CFG_DIRECT) {
		if (log_enabled(LOG_INFO)) {
			route_dest_str(&d, dstr, sizeof(dstr));
			route_rule_str(s, &dec, rstr, sizeof(rstr));
			log_msg(LOG_INFO, "direct %s (%s)", dstr, rstr);
		}
		errno = saved;
		return real_connect(fd, sa, len);
	}
	/* XXX(issue 5, 7): datagram sockets are not routed yet */
	if (sock_type(fd) != SOCK_STREAM) {
		errno = saved;
		return real_connect(fd, sa, len);
	}
	if (dec.action == CFG_BLOCK) {
		route_dest_str(&d, dstr, sizeof(dstr));
		route_rule_str(s, &dec, rstr, sizeof(rstr));
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
