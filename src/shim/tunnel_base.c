/*
 * tunnel_base.c - what every step of a handshake uses (tunnel_int.h):
 * where the hop's proxy is and what it must connect to, failing with a
 * message, queueing a request, receiving the reply.  The steps
 * (tunnel_socks5.c, tunnel_http.c, tunnel_pp.c) and the engine
 * (tunnel.c) call down into it; it calls nothing of theirs.
 */
#include "guard.h"
#include "tunnel_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "real.h"

/*
 * Proxy addresses, resolved once per process.  A proxy given by name is
 * resolved with libc's resolver behind the internal guard, so our own
 * getaddrinfo hook never routes the proxy's own name.
 */
#define TUN_PROXIES_CACHED 64

struct proxy_addr {
	bool done;
	int err;
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct proxy_addr paddr[TUN_PROXIES_CACHED];
static pthread_mutex_t paddr_mu = PTHREAD_MUTEX_INITIALIZER;

int64_t
tun_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tun_fail(struct tun *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->err = err;
	t->state = TUN_FAILED;
	return err;
}

void
tun_proxy_str(const struct tun *t, int hop, char *buf, size_t n)
{
	const struct cfg_proxy *p;
	char url[URL_HOST_MAX + 64];

	if (hop < 0 || hop >= t->rule->nchain) {
		snprintf(buf, n, "(none: direct)");
		return;
	}
	p = &t->cfg->proxies[t->px[hop]];
	url_redact(&p->url, url, sizeof(url));
	snprintf(buf, n, "%s (%s)", p->name, url);
}

static int
resolve_host(const char *host, uint16_t port, struct sockaddr_storage *ss,
	     socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	shim_internal_enter();
	rc = real_getaddrinfo(host, NULL, &hints, &ai);
	shim_internal_leave();
	if (rc != 0 || ai == NULL)
		return -EHOSTUNREACH;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	if (ss->ss_family == AF_INET)
		s4->sin_port = htons(port);
	else
		s6->sin6_port = htons(port);
	freeaddrinfo(ai);
	return 0;
}

int
proxy_sockaddr(const struct config *cfg, int idx,
	       struct sockaddr_storage *ss, socklen_t *len)
{
	const struct proxy_url *u = &cfg->proxies[idx].url;
	struct proxy_addr *pa;
	int rc;

	if (idx >= TUN_PROXIES_CACHED)
		return resolve_host(u->host, u->port, ss, len);
	pa = &paddr[idx];
	pthread_mutex_lock(&paddr_mu);
	if (!pa->done) {
		pa->err = resolve_host(u->host, u->port, &pa->ss, &pa->len);
		/* a failed lookup is retried next time */
		pa->done = pa->err == 0;
	}
	rc = pa->err;
	memcpy(ss, &pa->ss, sizeof(*ss));
	*len = pa->len;
	pthread_mutex_unlock(&paddr_mu);
	return rc;
}

int
tun_proxy_family(const struct config *cfg, int idx)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (proxy_sockaddr(cfg, idx, &ss, &len) < 0)
		return AF_UNSPEC;
	return ss.ss_family;
}

const struct cfg_proxy *
hop_proxy(const struct tun *t, int hop)
{
	return &t->cfg->proxies[t->px[hop]];
}

/* Fill a SOCKS5 address from a literal, or take it as a name. */
static void
s5addr_from_host(struct socks5_addr *a, const char *host, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (inet_pton(AF_INET, host, a->addr) == 1) {
		a->atyp = SOCKS5_ATYP_V4;
	} else if (inet_pton(AF_INET6, host, a->addr) == 1) {
		a->atyp = SOCKS5_ATYP_V6;
	} else {
		a->atyp = SOCKS5_ATYP_NAME;
		snprintf(a->name, sizeof(a->name), "%s", host);
	}
}

void
tun_socks5_addr(struct socks5_addr *a, const struct tun_dest *d)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(a, 0, sizeof(*a));
	a->port = d->port;
	if (d->name[0] != '\0') {
		a->atyp = SOCKS5_ATYP_NAME;
		snprintf(a->name, sizeof(a->name), "%s", d->name);
	} else if (d->family == AF_INET6 &&
		   memcmp(d->addr, mapped, sizeof(mapped)) != 0) {
		a->atyp = SOCKS5_ATYP_V6;
		memcpy(a->addr, d->addr, 16);
	} else {
		a->atyp = SOCKS5_ATYP_V4;
		memcpy(a->addr, d->family == AF_INET6 ? d->addr + 12 : d->addr,
		       4);
	}
}

/*
 * What the proxy at t->hop must connect to: the next proxy of the chain,
 * or the destination.  A next proxy given by name is resolved here when
 * this hop resolves locally (socks5://).
 */
void
hop_target(struct tun *t, struct socks5_addr *a)
{
	const struct cfg_proxy *next;
	struct sockaddr_storage ss;
	socklen_t len;
	char host[INET6_ADDRSTRLEN];

	if (t->hop + 1 >= t->rule->nchain) {
		if (t->udp)
			*a = t->udp_from;
		else
			tun_socks5_addr(a, &t->dst);
		return;
	}
	next = hop_proxy(t, t->hop + 1);
	s5addr_from_host(a, next->url.host, next->url.port);
	if (a->atyp != SOCKS5_ATYP_NAME ||
	    url_remote_dns(&hop_proxy(t, t->hop)->url))
		return;
	if (proxy_sockaddr(t->cfg, t->px[t->hop + 1], &ss, &len) < 0)
		return;		/* let this hop try the name itself */
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof(host));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
	s5addr_from_host(a, host, next->url.port);
}

void
queue(struct tun *t, int len, enum tun_state after)
{
	t->outlen = (size_t)len;
	t->outoff = 0;
	t->after_send = after;
	t->state = TUN_SEND;
	t->have = 0;
}

/* recv at most n more bytes into in[]; -EAGAIN sets want. */
int
recv_some(struct tun *t, size_t n, int flags)
{
	ssize_t r;

	do {
		r = real_recv(t->fd, t->in + t->have, n, flags | MSG_DONTWAIT);
	} while (r == -1 && errno == EINTR);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		t->want = POLLIN;
		return -EAGAIN;
	}
	if (r == -1)
		return -errno;
	if (r == 0)
		return -ECONNRESET;
	if (!(flags & MSG_PEEK)) {
		t->have += (size_t)r;
		t->hs_down += (uint32_t)r;
	}
	return (int)r;
}

int
recv_msg(struct tun *t, size_t max,
	 int (*parse)(struct tun *t, size_t n, size_t *used, void *ctx),
	 void *ctx)
{
	size_t used = 0;
	int r, prc;

	for (;;) {
		if (t->have >= max)
			return -EMSGSIZE;
		r = recv_some(t, max - t->have, MSG_PEEK);
		if (r < 0)
			return r;
		prc = parse(t, t->have + (size_t)r, &used, ctx);
		if (prc == PARSE_ERR)
			return -EBADMSG;
		/* PARSE_MORE: all of it is the message's */
		r = recv_some(t, prc == PARSE_MORE ? (size_t)r : used - t->have,
			      0);
		if (r < 0)
			return r;
		if (prc == PARSE_OK)
			return 0;
	}
}

int
io_fail(struct tun *t, int rc, const char *pstr)
{
	if (rc == -ECONNRESET)
		return tun_fail(t, rc, "proxy %s closed the connection "
				"during the handshake", pstr);
	return tun_fail(t, rc, "proxy %s: %s", pstr, strerror(-rc));
}
