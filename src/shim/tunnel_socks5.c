/*
 * tunnel_socks5.c - the SOCKS5 steps of a tunnel's handshake: the
 * greeting's method reply, RFC 1929 authentication and the request's
 * reply, and the pipelined handshake (greeting, auth and request in one
 * write) with what the session knows of each proxy's taking it, and the
 * fallback when a proxy does not.  tunnel.c dispatches here
 * (tunnel_int.h).
 */
#include "tunnel_int.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "real.h"
#include "fakedns.h"
#include "health.h"
#include "log.h"

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
enum pipe_state
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

void
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

/* CONNECT, or UDP ASSOCIATE at the last hop of a UDP association. */
static enum socks5_cmd
hop_cmd(const struct tun *t)
{
	return t->udp && t->hop + 1 >= t->rule->nchain ? SOCKS5_CMD_UDP
						       : SOCKS5_CMD_CONNECT;
}

/* Greeting (one method), auth and request in one write. */
int
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
	early_decide(t, pipe_get(t) == PIPE_YES);
	queue(t, len, TUN_S5_METHOD);
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
	if (!t->early && pipe_get(t) == PIPE_UNKNOWN) {
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
int
fallback(struct tun *t, const char *pstr, const char *why)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	pipe_set(t, PIPE_NO);
	if (t->probing)
		/* what it was for: the probe is done */
		return tun_fail(t, -ECONNRESET, "probe of proxy %s: "
				"pipelined SOCKS5 handshake %s", pstr, why);
	if (t->early)
		/* the program's first bytes are behind the request: starting
		 * over would lose them (tunnel_early.c) */
		return tun_fail(t, -ECONNRESET, "proxy %s: pipelined SOCKS5 "
				"handshake %s after the program's first bytes "
				"(optimistic=on); not pipelined again", pstr,
				why);
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
	return TUN_RESTART;
}

int
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

int
step_s5_auth(struct tun *t, const char *pstr)
{
	size_t used = 0, need = 0;
	bool ok = false;
	struct socks5_addr a;
	int len;

	S5_READ(t, socks5_parse_auth(t->in, t->have, &used, &need, &ok),
		pstr);
	(void)used;
	if (!ok) {
		t->outcome = HL_AUTH;	/* as a 407: never asked again */
		return tun_fail(t, -EACCES, "proxy %s: authentication failed",
				pstr);
	}
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

int
step_s5_reply(struct tun *t, const char *pstr)
{
	struct socks5_reply rep;
	size_t used = 0, need = 0;

	memset(&rep, 0, sizeof(rep));
	S5_READ(t, socks5_parse_reply(t->in, t->have, &used, &need, &rep),
		pstr);
	(void)used;
	/* a reply, even a refusal, says the request was read */
	if (t->pipelined) {
		if (pipe_get(t) != PIPE_YES)
			log_msg(LOG_DEBUG, "proxy %s takes a pipelined SOCKS5 "
				"handshake: one round trip", pstr);
		pipe_set(t, PIPE_YES);
		t->pipe_deadline_ms = 0;
	}
	if (rep.rep != SOCKS5_REP_OK) {
		/* the proxy works; the destination is the trouble */
		t->outcome = HL_FINAL;
		return tun_fail(t, -tun_socks5_errno(rep.rep),
				"proxy %s refused: %s (SOCKS5 reply %u)", pstr,
				socks5_rep_str(rep.rep), rep.rep);
	}
	if (t->hop + 1 >= t->rule->nchain)
		t->bnd = rep.bnd;
	return TUN_NEXT_HOP;
}
