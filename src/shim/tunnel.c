/*
 * tunnel.c - drive SOCKS5 and HTTP CONNECT handshakes on the
 * application's own socket.
 *
 * The protocol bytes are built and parsed by the pure modules (socks5.c,
 * http_connect.c); this file only moves them, with non-blocking I/O and a
 * deadline, and maps proxy answers to errno values in one table each.
 */
#include "tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addrnames.h"
#include "proxy_proto.h"
#include "real.h"
#include "fakedns.h"
#include "log.h"
#include "shim.h"
#include "sockfit.h"
#include "url.h"

int64_t
tun_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
tun_fail(struct tun *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
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

/*
 * SOCKS5 REP (RFC 1928 §6) -> errno.  Refusals the application can act on
 * keep their meaning; the rest become ECONNREFUSED, which every client
 * already treats as "could not connect".
 */
int
tun_socks5_errno(uint8_t rep)
{
	static const int map[] = {
		[SOCKS5_REP_OK] = 0,
		[SOCKS5_REP_FAIL] = ECONNREFUSED,
		[SOCKS5_REP_RULESET] = EACCES,
		[SOCKS5_REP_NETUNREACH] = ENETUNREACH,
		[SOCKS5_REP_HOSTUNREACH] = EHOSTUNREACH,
		[SOCKS5_REP_REFUSED] = ECONNREFUSED,
		[SOCKS5_REP_TTL] = ETIMEDOUT,
		[SOCKS5_REP_CMD] = EOPNOTSUPP,
		[SOCKS5_REP_ATYP] = EAFNOSUPPORT,
	};

	if (rep < sizeof(map) / sizeof(map[0]))
		return map[rep];
	return ECONNREFUSED;
}

/* HTTP status of a failed CONNECT -> errno. */
int
tun_http_errno(int code)
{
	if (code / 100 == 2)
		return 0;
	switch (code) {
	case 401:
	case 403:
	case 407:
		return EACCES;		/* refused by policy or credentials */
	case 504:
	case 408:
		return ETIMEDOUT;
	case 502:
		return ECONNREFUSED;	/* the proxy could not connect */
	case 503:
		return EHOSTUNREACH;
	default:
		return ECONNREFUSED;
	}
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
	p = &t->cfg->proxies[t->rule->chain[hop]];
	url_redact(&p->url, url, sizeof(url));
	snprintf(buf, n, "%s (%s)", p->name, url);
}

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

static int
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

static const struct cfg_proxy *
hop_proxy(const struct tun *t, int hop)
{
	return &t->cfg->proxies[t->rule->chain[hop]];
}

/*
 * SOCKS5 pipelining (greeting, auth and request in one write: one round
 * trip instead of two or three).  RFC 1928 does not promise that a server
 * reads beyond the greeting, and some (microsocks) drop what follows it.
 * So each proxy starts "unknown": the first pipelined handshake that gets
 * every reply marks it "yes" for the session; one that gets the method
 * reply and then silence (or a reset) marks it "no", and the handshake
 * starts over on the same socket, one message at a time for that proxy.
 * Every hop of a chain decides for itself, from what is known of its own
 * proxy (t->pipelined is the current hop's choice, t->no_pipe the hops
 * that fell back in this handshake), so one hop's answer is never taken
 * for another's.  Only a blocking connect() tries an unknown proxy:
 * starting over disconnects the socket for a moment, which an event loop
 * polling a non-blocking socket would see as a hang-up; non-blocking
 * sockets pipeline to a hop once its proxy is "yes".
 */
enum pipe_state {
	PIPE_UNKNOWN,	/* not tried yet */
	PIPE_YES,	/* answered a pipelined handshake */
	PIPE_NO,	/* dropped one: never again this process */
};

#define TUN_PIPE_WAIT_MIN_MS 250	/* floor on the silence we accept */
#define TUN_PIPE_WAIT_RTTS 4		/* ... or this many method RTTs */

/*
 * What is known, per proxy host:port, lives in the session's shared area
 * (fakedns.c) so that a short-lived process (one curl) learns from the
 * ones before it; without a session, in this process's own copy.  A slot
 * is one byte: the state in the low two bits, six more bits of the hash
 * above them (0 is a free slot).  A proxy takes the first free slot or
 * its own among PIPE_PROBES from its hash, so that proxies whose hashes
 * meet keep their states side by side; past that, the first slot is
 * taken over, and the proxy it held reads "unknown" again (costing a
 * probation, never a connection that waits for a reply to a message it
 * never sent).  Slots are never freed, so a lookup may stop at a free one.
 */
static uint8_t pipe_local[FDNS_AREA_SIZE];

#define PIPE_STATE_MASK 0x3u
#define PIPE_PROBES 4

struct pipe_key {
	uint8_t *area;
	size_t n;
	uint32_t h;
	uint8_t tag;
};

static void
pipe_key(const struct tun *t, struct pipe_key *k)
{
	const struct proxy_url *u = &hop_proxy(t, t->hop)->url;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; u->host[i] != '\0'; i++)
		h = (h ^ (uint8_t)u->host[i]) * 16777619u;
	h = (h ^ (u->port >> 8)) * 16777619u;
	h = (h ^ (u->port & 0xff)) * 16777619u;
	k->h = h;
	k->tag = (uint8_t)((h >> 24) & ~PIPE_STATE_MASK);
	k->n = 0;
	k->area = fdns_session_area(&k->n);
	if (k->area == NULL || k->n == 0) {
		k->area = pipe_local;
		k->n = sizeof(pipe_local);
	}
}

static uint8_t *
pipe_at(const struct pipe_key *k, int i)
{
	return &k->area[(k->h + (uint32_t)i) % k->n];
}

/* What the session knows of the current hop's proxy. */
static enum pipe_state
pipe_get(const struct tun *t)
{
	struct pipe_key k;
	uint8_t v;
	int i;

	pipe_key(t, &k);
	for (i = 0; i < PIPE_PROBES; i++) {
		v = __atomic_load_n(pipe_at(&k, i), __ATOMIC_RELAXED);
		if (v == 0)
			break;
		if ((v & ~PIPE_STATE_MASK) == k.tag)
			return (enum pipe_state)(v & PIPE_STATE_MASK);
	}
	return PIPE_UNKNOWN;
}

static void
pipe_set(const struct tun *t, enum pipe_state st)
{
	struct pipe_key k;
	uint8_t v, want;
	int i;

	pipe_key(t, &k);
	want = (uint8_t)(k.tag | (uint8_t)st);
	for (i = 0; i < PIPE_PROBES; i++) {
		v = 0;
		/* claim a free slot; another process may claim it first */
		if (__atomic_compare_exchange_n(pipe_at(&k, i), &v, want, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return;
		if ((v & ~PIPE_STATE_MASK) == k.tag) {
			__atomic_store_n(pipe_at(&k, i), want, __ATOMIC_RELAXED);
			return;
		}
	}
	__atomic_store_n(pipe_at(&k, 0), want, __ATOMIC_RELAXED);
}

int64_t
tun_wake_ms(const struct tun *t)
{
	if (t->pipe_deadline_ms != 0 && t->pipe_deadline_ms < t->deadline_ms)
		return t->pipe_deadline_ms;
	return t->deadline_ms;
}

struct tun *
tun_new(void)
{
	void *p = mmap(NULL, sizeof(struct tun), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
tun_free(struct tun *t)
{
	int saved = errno;

	if (t != NULL)
		munmap(t, sizeof(*t));
	errno = saved;
}

void
tun_init(struct tun *t, int fd, const struct config *cfg,
	 const struct cfg_rule *rule, const struct tun_dest *dst,
	 int timeout_ms)
{
	/* every field but the two buffers (which come last) */
	memset(t, 0, offsetof(struct tun, out));
	t->fd = fd;
	t->cfg = cfg;
	t->rule = rule;
	t->dst = *dst;
	t->state = TUN_CONNECTING;
	t->started_ms = tun_now_ms();
	t->deadline_ms = t->started_ms + timeout_ms;
}

/* The first TCP connect failed: the proxy's, or (a direct rule that
 * sends a PROXY protocol header) the destination's. */
static int
unreachable(struct tun *t, const char *pstr, int err)
{
	if (t->rule->nchain == 0)
		return tun_fail(t, -err, "destination unreachable: %s",
				strerror(err));
	return tun_fail(t, -err, "proxy %s unreachable: %s", pstr,
			strerror(err));
}

int
tun_connect(struct tun *t)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pstr[TUN_MSG_MAX / 2], why[TUN_MSG_MAX / 2];
	int rc;

	if (t->rule->nchain == 0) {
		/* direct, only for the PROXY protocol header */
		if (real_connect(t->fd, (struct sockaddr *)&t->peer,
				 t->peerlen) == -1 && errno != EINPROGRESS)
			return tun_fail(t, -errno, "connect: %s",
					strerror(errno));
		t->state = TUN_CONNECTING;
		t->want = POLLOUT;
		return 0;
	}
	tun_proxy_str(t, 0, pstr, sizeof(pstr));
	rc = proxy_sockaddr(t->cfg, t->rule->chain[0], &ss, &len);
	if (rc < 0)
		return tun_fail(t, rc, "proxy %s: cannot resolve its host",
				pstr);
	rc = sockfit_apply(t->fd, &ss, &len, why, sizeof(why));
	if (rc < 0)
		return tun_fail(t, rc, "%s %s", why, pstr);
	if (rc > 0)
		log_msg(LOG_DEBUG, "fd %d: %s %s", t->fd, why, pstr);
	if (real_connect(t->fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS)
		return unreachable(t, pstr, errno);
	t->state = TUN_CONNECTING;
	t->want = POLLOUT;
	return 0;
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
static void
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
	if (proxy_sockaddr(t->cfg, t->rule->chain[t->hop + 1], &ss, &len) < 0)
		return;		/* let this hop try the name itself */
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof(host));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
	s5addr_from_host(a, host, next->url.port);
}

/* CONNECT, or UDP ASSOCIATE at the last hop of a UDP association. */
static enum socks5_cmd
hop_cmd(const struct tun *t)
{
	return t->udp && t->hop + 1 >= t->rule->nchain ? SOCKS5_CMD_UDP
						       : SOCKS5_CMD_CONNECT;
}

static void
queue(struct tun *t, int len, enum tun_state after)
{
	t->outlen = (size_t)len;
	t->outoff = 0;
	t->after_send = after;
	t->state = TUN_SEND;
	t->have = 0;
}

/* Greeting (one method), auth and request in one write. */
static int
start_pipelined(struct tun *t, const struct proxy_url *u,
		const struct socks5_addr *a)
{
	int len, n;

	len = socks5_build_greeting_one(t->out, sizeof(t->out),
					u->has_auth ? SOCKS5_M_USERPASS
						    : SOCKS5_M_NONE);
	if (len >= 0 && u->has_auth) {
		n = socks5_build_auth(t->out + len, sizeof(t->out) - (size_t)len,
				      u->user, u->pass);
		len = n < 0 ? n : len + n;
	}
	if (len >= 0) {
		n = socks5_build_request(t->out + len,
					 sizeof(t->out) - (size_t)len,
					 hop_cmd(t), a);
		len = n < 0 ? n : len + n;
	}
	if (len < 0) {
		explicit_bzero(t->out, sizeof(t->out));
		return tun_fail(t, -EINVAL, "cannot build SOCKS5 request");
	}
	t->pipelined = true;
	queue(t, len, TUN_S5_METHOD);
	return 0;
}

/* Build the first message for proxy t->hop. */
static int
start_hop(struct tun *t)
{
	const struct proxy_url *u = &hop_proxy(t, t->hop)->url;
	struct socks5_addr a;
	char host[INET6_ADDRSTRLEN + SOCKS5_NAME_MAX];
	enum pipe_state ps;
	int len;

	hop_target(t, &a);
	/* this hop's own choice: nothing carries over from the one before */
	t->pipelined = false;
	t->pipe_deadline_ms = 0;
	if (u->scheme != URL_HTTP && !(t->no_pipe & (1u << t->hop))) {
		ps = pipe_get(t);
		if (ps == PIPE_YES || (ps == PIPE_UNKNOWN && t->may_learn))
			return start_pipelined(t, u, &a);
	}
	if (u->scheme != URL_HTTP) {
		len = socks5_build_greeting(t->out, sizeof(t->out),
					    u->has_auth);
		if (len < 0)
			return tun_fail(t, -EINVAL, "cannot build greeting");
		queue(t, len, TUN_S5_METHOD);
		return 0;
	}
	if (a.atyp == SOCKS5_ATYP_NAME)
		snprintf(host, sizeof(host), "%s", a.name);
	else
		inet_ntop(a.atyp == SOCKS5_ATYP_V4 ? AF_INET : AF_INET6,
			  a.addr, host, sizeof(host));
	len = httpc_build_request((char *)t->out, sizeof(t->out), host,
				  a.port, u->has_auth ? u->user : NULL,
				  u->pass);
	if (len < 0)
		return tun_fail(t, -EINVAL, "cannot build CONNECT for %s",
				host);
	queue(t, len, TUN_HTTP_HEAD);
	return 0;
}

/* An IPv4-mapped IPv6 address as the IPv4 address it is. */
static void
pp_unmap(int *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (*family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
}

/*
 * The PROXY protocol header (HAProxy's proxy-protocol.txt) for t into
 * out[]: source = pp_source, else this socket's own local address (what
 * the destination cannot see behind a proxy); destination = the address
 * the application connected to, and for v2 the name it asked for, if
 * any, in an AUTHORITY TLV.  Never LOCAL: this is a real connection.
 */
static int
pp_build(struct tun *t)
{
	const struct cfg_rule *r = t->rule;
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof(own);
	struct pp_addrs a;
	char name[URL_HOST_MAX];

	memset(&a, 0, sizeof(a));
	if (r->pp_src_family != 0) {
		a.src_family = r->pp_src_family;
		memcpy(a.src, r->pp_src, sizeof(a.src));
		a.src_port = r->pp_src_port;
	} else if (getsockname(t->fd, (struct sockaddr *)&own, &ownlen) == -1) {
		return tun_fail(t, -errno, "proxy_protocol: getsockname: %s",
				strerror(errno));
	} else if (own.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&own;

		a.src_family = AF_INET;
		memcpy(a.src, &s4->sin_addr, 4);
		a.src_port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&own;

		a.src_family = AF_INET6;
		memcpy(a.src, &s6->sin6_addr, 16);
		a.src_port = ntohs(s6->sin6_port);
	}
	a.dst_family = t->dst.family;
	memcpy(a.dst, t->dst.addr, sizeof(a.dst));
	a.dst_port = t->dst.port;
	pp_unmap(&a.src_family, a.src);
	pp_unmap(&a.dst_family, a.dst);
	snprintf(name, sizeof(name), "%s", t->dst.name);
	if (name[0] == '\0' &&
	    !anames_get(t->dst.family, t->dst.addr, name, sizeof(name)))
		name[0] = '\0';
	if (r->pp_version == 1) {
		/* config.c refuses v1 where names resolve remotely; a fake
		 * address must still never be sent as if it were real */
		if (t->dst.name[0] != '\0' &&
		    fdns_is_fake(t->dst.family, t->dst.addr))
			return tun_fail(t, -EINVAL, "proxy_protocol=v1 cannot "
					"carry the name %s (only v2 can)",
					t->dst.name);
		return pp_build_v1(&a, t->out, sizeof(t->out));
	}
	return pp_build_v2(&a, name[0] != '\0' ? name : NULL, t->out,
			   sizeof(t->out));
}

/* Every hop said yes: the PROXY protocol header if the rule asks, then
 * done.  It is the first thing the destination reads. */
static int
tun_finish(struct tun *t)
{
	int len;

	if (t->rule->pp_version == 0 || t->pp_len > 0 || t->udp) {
		t->state = TUN_DONE;
		return 0;
	}
	len = pp_build(t);
	if (t->state == TUN_FAILED)
		return t->err;
	if (len <= 0)
		return tun_fail(t, -EINVAL, "cannot build the PROXY protocol "
				"header");
	t->pp_len = len;
	queue(t, len, TUN_DONE);
	return 0;
}

/* After one proxy said yes: the next one, or done. */
static int
hop_done(struct tun *t)
{
	t->hop++;
	if (t->hop < t->rule->nchain)
		return start_hop(t);
	return tun_finish(t);
}

/* recv at most n more bytes into in[]; -EAGAIN sets want. */
static int
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
	if (!(flags & MSG_PEEK))
		t->have += (size_t)r;
	return (int)r;
}

static int
io_fail(struct tun *t, int rc, const char *pstr)
{
	if (rc == -ECONNRESET)
		return tun_fail(t, rc, "proxy %s closed the connection "
				"during the handshake", pstr);
	return tun_fail(t, rc, "proxy %s: %s", pstr, strerror(-rc));
}

static int
step_send(struct tun *t, const char *pstr)
{
	ssize_t r;

	while (t->outoff < t->outlen) {
		r = real_send(t->fd, t->out + t->outoff, t->outlen - t->outoff,
			      MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			t->want = POLLOUT;
			return -EAGAIN;
		}
		if (r == -1)
			return io_fail(t, -errno, pstr);
		t->outoff += (size_t)r;
	}
	/* requests may hold credentials: wipe them once sent */
	explicit_bzero(t->out, t->outlen);
	t->sent_ms = tun_now_ms();
	t->state = t->after_send;
	t->have = 0;
	return 0;
}

/*
 * Feed in[] to a SOCKS5 parser, reading exactly what it says is missing
 * (the caller's `need`): never more, so a server's first bytes after the
 * reply stay unread.
 */
#define S5_READ(t, call, pstr)						\
	for (;;) {							\
		int prc_ = (call);					\
		if (prc_ == PARSE_OK)					\
			break;						\
		if (prc_ == PARSE_ERR)					\
			return tun_fail(t, -EPROTO, "proxy %s sent a "	\
					"malformed SOCKS5 reply", pstr);\
		if (t->have + need > sizeof(t->in))			\
			return tun_fail(t, -EPROTO, "proxy %s reply "	\
					"too long", pstr);		\
		int r_ = recv_some(t, need, 0);			\
		if (r_ == -EAGAIN)					\
			return r_;					\
		if (r_ < 0)						\
			return io_fail(t, r_, pstr);			\
	}

static int fallback(struct tun *t, const char *pstr, const char *why);

/*
 * A reply of a pipelined handshake came, and another is due with nothing
 * of ours to carry the ACK: our socket sent right after it connected (or
 * after the hop before answered), so the kernel delays ACKs, and a relay
 * that writes each reply as it comes (microsocks, tinyproxy before a
 * later hop; no TCP_NODELAY) holds the next one until that ACK, 40 ms.
 * Acknowledge now.
 */
static void
ack_now(struct tun *t)
{
	int one = 1;

	setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* The method reply of a pipelined handshake: the rest is already sent. */
static int
pipelined_method(struct tun *t, const struct proxy_url *u, uint8_t method,
		 const char *pstr)
{
	int64_t now = tun_now_ms(), wait;

	if (method == SOCKS5_M_REFUSED && u->has_auth)
		/* it may take no-auth only: ask again offering both */
		return fallback(t, pstr, "refused user/password alone");
	if (method != (u->has_auth ? SOCKS5_M_USERPASS : SOCKS5_M_NONE))
		return tun_fail(t, -EACCES, "proxy %s accepts none of our "
				"authentication methods%s", pstr,
				u->has_auth ? "" : " (it may want a user "
				"name and password)");
	ack_now(t);
	if (pipe_get(t) == PIPE_UNKNOWN) {
		wait = TUN_PIPE_WAIT_RTTS * (now - t->sent_ms);
		if (wait < TUN_PIPE_WAIT_MIN_MS)
			wait = TUN_PIPE_WAIT_MIN_MS;
		t->pipe_deadline_ms = now + wait;
	}
	t->have = 0;
	t->state = u->has_auth ? TUN_S5_AUTH : TUN_S5_REPLY;
	return 0;
}

/*
 * The proxy of the current hop dropped what followed the greeting: mark
 * that proxy, dissolve the connection (connect with AF_UNSPEC keeps the
 * application's socket and options) and start the chain again, one
 * message at a time for this hop.  Hops before it have answered a
 * pipelined handshake or were not sent one: their choice stands.
 */
static int
fallback(struct tun *t, const char *pstr, const char *why)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	pipe_set(t, PIPE_NO);
	log_msg(LOG_DEBUG, "proxy %s: pipelined SOCKS5 handshake %s: one "
		"message at a time from now on", pstr, why);
	if (real_connect(t->fd, &sa, sizeof(sa)) == -1)
		return tun_fail(t, -errno, "proxy %s: %s", pstr,
				strerror(errno));
	t->pipelined = false;
	t->no_pipe |= 1u << t->hop;
	t->pipe_deadline_ms = 0;
	t->have = 0;
	t->hop = 0;
	t->err = 0;
	t->msg[0] = '\0';
	return tun_connect(t);
}

static int
step_s5_method(struct tun *t, const char *pstr)
{
	const struct proxy_url *u = &hop_proxy(t, t->hop)->url;
	size_t used = 0, need = 0;
	uint8_t method = 0;
	struct socks5_addr a;
	int len;

	S5_READ(t, socks5_parse_method(t->in, t->have, &used, &need,
				       &method), pstr);
	(void)used;
	if (t->pipelined)
		return pipelined_method(t, u, method, pstr);
	if (method == SOCKS5_M_USERPASS && u->has_auth) {
		len = socks5_build_auth(t->out, sizeof(t->out), u->user,
					u->pass);
		if (len < 0)
			return tun_fail(t, -EINVAL, "proxy %s: credentials "
					"too long for SOCKS5", pstr);
		queue(t, len, TUN_S5_AUTH);
		return 0;
	}
	if (method != SOCKS5_M_NONE)
		return tun_fail(t, -EACCES, "proxy %s accepts none of our "
				"authentication methods%s", pstr,
				u->has_auth ? "" : " (it may want a user "
				"name and password)");
	hop_target(t, &a);
	len = socks5_build_request(t->out, sizeof(t->out), hop_cmd(t), &a);
	if (len < 0)
		return tun_fail(t, -EINVAL, "cannot build SOCKS5 request");
	queue(t, len, TUN_S5_REPLY);
	return 0;
}

static int
step_s5_auth(struct tun *t, const char *pstr)
{
	size_t used = 0, need = 0;
	bool ok = false;
	struct socks5_addr a;
	int len;

	S5_READ(t, socks5_parse_auth(t->in, t->have, &used, &need, &ok),
		pstr);
	(void)used;
	if (!ok)
		return tun_fail(t, -EACCES, "proxy %s: authentication failed",
				pstr);
	if (t->pipelined) {
		ack_now(t);
		/* it read past the greeting: probation is over, and the
		 * request's reply may wait for a slow destination */
		t->pipe_deadline_ms = 0;
		t->have = 0;
		t->state = TUN_S5_REPLY;	/* the request is already sent */
		return 0;
	}
	hop_target(t, &a);
	len = socks5_build_request(t->out, sizeof(t->out), hop_cmd(t), &a);
	if (len < 0)
		return tun_fail(t, -EINVAL, "cannot build SOCKS5 request");
	queue(t, len, TUN_S5_REPLY);
	return 0;
}

static int
step_s5_reply(struct tun *t, const char *pstr)
{
	struct socks5_reply rep;
	size_t used = 0, need = 0;

	memset(&rep, 0, sizeof(rep));
	S5_READ(t, socks5_parse_reply(t->in, t->have, &used, &need, &rep),
		pstr);
	(void)used;
	if (rep.rep != SOCKS5_REP_OK)
		return tun_fail(t, -tun_socks5_errno(rep.rep),
				"proxy %s refused: %s (SOCKS5 reply %u)", pstr,
				socks5_rep_str(rep.rep), rep.rep);
	if (t->pipelined) {
		if (pipe_get(t) != PIPE_YES)
			log_msg(LOG_DEBUG, "proxy %s takes a pipelined SOCKS5 "
				"handshake: one round trip", pstr);
		pipe_set(t, PIPE_YES);
		t->pipe_deadline_ms = 0;
	}
	if (t->hop + 1 >= t->rule->nchain)
		t->bnd = rep.bnd;
	return hop_done(t);
}

/*
 * HTTP: peek at what has arrived, and consume it only up to the end of
 * the response head.  Bytes peeked before the end is seen are all head
 * bytes, so they are consumed at once; this keeps poll() from reporting
 * the same bytes forever.
 */
static int
step_http(struct tun *t, const char *pstr)
{
	struct httpc_response resp;
	size_t used = 0, need = 0;
	int r, prc;

	for (;;) {
		if (t->have == sizeof(t->in))
			return tun_fail(t, -EPROTO, "proxy %s: response head "
					"too long", pstr);
		r = recv_some(t, sizeof(t->in) - t->have, MSG_PEEK);
		if (r == -EAGAIN)
			return r;
		if (r < 0)
			return io_fail(t, r, pstr);
		memset(&resp, 0, sizeof(resp));
		prc = httpc_parse_response(t->in, t->have + (size_t)r, &used,
					   &need, &resp);
		if (prc == PARSE_ERR)
			return tun_fail(t, -EPROTO, "proxy %s sent a malformed "
					"HTTP response", pstr);
		if (prc == PARSE_MORE) {
			r = recv_some(t, (size_t)r, 0);
			if (r < 0)
				return io_fail(t, r, pstr);
			continue;
		}
		r = recv_some(t, used - t->have, 0);
		if (r < 0)
			return io_fail(t, r, pstr);
		break;
	}
	if (resp.code / 100 != 2)
		return tun_fail(t, -tun_http_errno(resp.code),
				"proxy %s refused: HTTP %d %s%s", pstr,
				resp.code, resp.reason,
				resp.code == 407 ? " (proxy authentication "
				"required)" : "");
	return hop_done(t);
}

static int
step_connecting(struct tun *t, const char *pstr)
{
	int err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };

	if (real_poll(&p, 1, 0) == 0) {
		t->want = POLLOUT;
		return -EAGAIN;
	}
	if (real_getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0)
		return unreachable(t, pstr, err);
	t->hop = 0;
	if (t->rule->nchain == 0)
		return tun_finish(t);
	return start_hop(t);
}

/* Waiting for the replies after a pipelined greeting, not yet trusted. */
static bool
on_probation(const struct tun *t)
{
	return t->pipelined && t->pipe_deadline_ms != 0 &&
	       (t->state == TUN_S5_AUTH || t->state == TUN_S5_REPLY);
}

int
tun_step(struct tun *t)
{
	char pstr[TUN_MSG_MAX / 2];
	enum tun_state prev;
	int rc = 0;

	while (rc == 0) {
		if (t->state == TUN_DONE)
			return 0;
		if (t->state == TUN_FAILED)
			return t->err;
		tun_proxy_str(t, t->hop < t->rule->nchain ? t->hop : 0, pstr,
			      sizeof(pstr));
		if (on_probation(t) && t->have == 0 &&
		    tun_now_ms() >= t->pipe_deadline_ms) {
			rc = fallback(t, pstr, "got no answer after the method "
				      "reply");
			continue;
		}
		prev = t->state;
		switch (t->state) {
		case TUN_CONNECTING:
			rc = step_connecting(t, pstr);
			break;
		case TUN_SEND:
			rc = step_send(t, pstr);
			break;
		case TUN_S5_METHOD:
			rc = step_s5_method(t, pstr);
			break;
		case TUN_S5_AUTH:
			rc = step_s5_auth(t, pstr);
			break;
		case TUN_S5_REPLY:
			rc = step_s5_reply(t, pstr);
			break;
		case TUN_HTTP_HEAD:
			rc = step_http(t, pstr);
			break;
		default:
			return tun_fail(t, -EPROTO, "bad tunnel state");
		}
		/* a reset or garbage right after a pipelined greeting, still
		 * on probation: the proxy choked on the pipelining, not on
		 * the destination */
		if (rc < 0 && rc != -EAGAIN && t->pipelined &&
		    t->pipe_deadline_ms != 0 &&
		    (prev == TUN_S5_AUTH || prev == TUN_S5_REPLY) &&
		    (rc == -ECONNRESET || rc == -EPROTO || rc == -EPIPE))
			rc = fallback(t, pstr, "was dropped");
	}
	return rc;
}

int
tun_expired(struct tun *t)
{
	char pstr[TUN_MSG_MAX / 2];

	tun_proxy_str(t, t->hop < t->rule->nchain ? t->hop : 0, pstr,
		      sizeof(pstr));
	return tun_fail(t, -ETIMEDOUT, "proxy %s: %s within %d ms", pstr,
			t->state == TUN_CONNECTING ? "no connection"
						   : "no reply",
			t->cfg->connect_timeout_ms);
}

int
tun_run(struct tun *t)
{
	struct pollfd p;
	int64_t left;
	int rc;

	rc = tun_connect(t);
	while (rc == 0 || rc == -EAGAIN) {
		rc = tun_step(t);
		if (rc != -EAGAIN)
			break;
		left = t->deadline_ms - tun_now_ms();
		if (left <= 0)
			return tun_expired(t);
		left = tun_wake_ms(t) - tun_now_ms();
		if (left < 0)
			left = 0;
		p.fd = t->fd;
		p.events = t->want;
		p.revents = 0;
		if (real_poll(&p, 1, left > 60000 ? 60000 : (int)left) == -1 &&
		    errno != EINTR)
			return tun_fail(t, -errno, "poll: %s", strerror(errno));
	}
	return rc;
}
