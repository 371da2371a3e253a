/*
 * tunnel.c - drive SOCKS5 and HTTP CONNECT handshakes on the
 * application's own socket.
 *
 * The protocol bytes are built and parsed by the pure modules (socks5.c,
 * http_connect.c); the tunnel only moves them, with non-blocking I/O and a
 * deadline, and maps proxy answers to errno values in one table each.
 * This file is the engine: a handshake's life (tun_init, tun_connect,
 * tun_step's dispatch, tun_run).  The steps of each protocol are in
 * tunnel_socks5.c and tunnel_http.c, the PROXY protocol header in
 * tunnel_pp.c; the proxies' addresses, the hop's target and the I/O every
 * step shares in tunnel_base.c (tunnel_int.h).  Calls run one way: the
 * engine calls the steps, the steps call tunnel_base.c, and a step tells
 * the engine what comes next by its return value (TUN_NEXT_HOP,
 * TUN_RESTART).
 */
#include "tunnel_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>

#include "real.h"
#include "log.h"
#include "sockfit.h"

int64_t
tun_wake_ms(const struct tun *t)
{
	int64_t w = t->deadline_ms;

	if (t->pipe_deadline_ms != 0 && t->pipe_deadline_ms < w)
		w = t->pipe_deadline_ms;
	if (t->attempt_deadline_ms != 0 && t->attempt_deadline_ms < w)
		w = t->attempt_deadline_ms;
	if (t->state == TUN_WAIT_SLOT && t->slot_wait_ms < w)
		w = t->slot_wait_ms;
	if (t->hold && t->hold_until_ms < w)
		w = t->hold_until_ms;
	return w;
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

	if (t != NULL) {
		grp_free(t);
		munmap(t, sizeof(*t));
	}
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
	t->outcome = -1;
	memcpy(t->px, rule->chain, sizeof(t->px));
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

/*
 * tfo=on: TCP Fast Open to the first proxy.  With TCP_FASTOPEN_CONNECT
 * the kernel holds back the SYN until the first write, which then
 * carries the (pipelined) greeting in the SYN (with optimistic=on, the
 * program's first bytes too: tunnel_early.c) when it has the proxy's
 * cookie from an earlier connection, and asks for one otherwise.  The
 * option stays on the program's socket (the kernel changes it only on a
 * closed socket); it matters to nothing but a later connect() of that
 * socket.  MSG_FASTOPEN instead would leave the socket unconnected until
 * the helper's first send, which epoll reports as a hang-up even while
 * its registration is hidden.  A kernel without it (or
 * net.ipv4.tcp_fastopen without the client bit) just connects as before.
 */
static void
tfo_arm(struct tun *t)
{
	int one = 1, saved = errno;

	if (t->rule->nchain > 0 && hop_proxy(t, 0)->tfo)
		setsockopt(t->fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one,
			   sizeof(one));
	errno = saved;
}

/* The TCP connect to the first hop's proxy (this attempt's). */
static int
connect_first(struct tun *t)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pstr[TUN_MSG_MAX / 2], why[TUN_MSG_MAX / 2];
	int rc;

	t->hs_up = t->hs_down = 0;	/* a new connection's counters */
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
	t->attempt_started_ms = tun_now_ms();
	tun_proxy_str(t, 0, pstr, sizeof(pstr));
	rc = relay_sockaddr(t, &ss, &len, pstr);	/* https: its relay */
	if (rc < 0)
		return rc;
	if (rc > 0)
		rc = proxy_sockaddr(t->cfg, t->px[0], &ss, &len);
	if (rc < 0)
		return tun_fail(t, rc, "proxy %s: cannot resolve its host",
				pstr);
	rc = sockfit_apply(t->fd, &ss, &len, why, sizeof(why));
	if (rc < 0)
		return tun_fail(t, rc, "%s %s", why, pstr);
	if (rc > 0)
		log_msg(LOG_DEBUG, "fd %d: %s %s", t->fd, why, pstr);
	tfo_arm(t);
	if (real_connect(t->fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS)
		return unreachable(t, pstr, errno);
	t->state = TUN_CONNECTING;
	t->want = POLLOUT;
	return 0;
}

/*
 * An attempt failed: the next one, on the same socket (disconnected:
 * connect with AF_UNSPEC keeps the application's socket and options), or
 * the failure for good.
 */
static int
retry(struct tun *t)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	int rc, saved;

	for (;;) {
		rc = grp_failed(t);
		if (rc != 0 && t->early) {
			/* the program's bytes are in this socket: no other
			 * attempt may carry them (tunnel_early.c) */
			t->state = TUN_FAILED;
			return t->err;
		}
		if (rc == 0)
			return t->err;
		saved = t->err;
		http_prefetch_drop(t);	/* the next member makes its own */
		real_connect(t->fd, &sa, sizeof(sa));
		t->no_pipe &= ~(1u << t->hop);	/* another proxy there now */
		t->hop = 0;
		t->pipelined = false;
		t->pipe_deadline_ms = 0;
		t->have = 0;
		t->outcome = -1;
		t->retry_ms = 0;
		if (rc == -EAGAIN) {
			t->err = saved;		/* the errno if the wait ends */
			return -EAGAIN;
		}
		t->err = 0;
		t->msg[0] = '\0';
		t->state = TUN_CONNECTING;
		rc = connect_first(t);
		if (rc == 0)
			return 0;
	}
}

int
tun_connect(struct tun *t)
{
	int rc;

	if (t->rule->nchain == 0)
		return connect_first(t);
	rc = grp_begin(t);
	if (rc == -EAGAIN)
		return 0;	/* waiting for a max_conns slot: t->want 0 */
	if (rc < 0)
		return rc;
	http_prefetch(t);
	rc = connect_first(t);
	if (rc < 0)
		rc = retry(t);
	return rc == -EAGAIN ? 0 : rc;
}

/* Build the first message for proxy t->hop. */
static int
start_hop(struct tun *t)
{
	const struct proxy_url *u = &hop_proxy(t, t->hop)->url;
	struct socks5_addr a;
	char host[INET6_ADDRSTRLEN + SOCKS5_NAME_MAX];
	enum pipe_state ps;
	int len, pre;

	hop_target(t, &a);
	/* this hop's own choice: nothing carries over from the one before */
	t->pipelined = false;
	t->pipe_deadline_ms = 0;
	if (!url_is_http(u) && !(t->no_pipe & (1u << t->hop))) {
		ps = pipe_get(t);
		if (ps == PIPE_YES || (ps == PIPE_UNKNOWN && t->may_learn))
			return start_pipelined(t, u, &a);
		if (ps == PIPE_UNKNOWN)
			early_want_probe(t);
	}
	if (!url_is_http(u)) {
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
	pre = relay_prefix(t);		/* an https proxy's relay line */
	if (pre < 0)
		return pre;
	len = http_request(t, (size_t)pre, host, a.port);
	if (len < 0)
		return len;
	queue(t, pre + len, pre > 0 ? TUN_RELAY_HEAD : TUN_HTTP_HEAD);
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

/* out[] is all written: on to t->after_send. */
static void
sent(struct tun *t)
{
	/* requests may hold credentials: wipe them once sent */
	explicit_bzero(t->out, t->outlen);
	t->sent_ms = tun_now_ms();
	t->state = t->after_send;
	t->have = 0;
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
		/* EINPROGRESS: a Fast Open SYN without data went (no
		 * cookie yet); the greeting goes once connected */
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				errno == EINPROGRESS)) {
			t->want = POLLOUT;
			return -EAGAIN;
		}
		if (r == -1)
			return io_fail(t, -errno, pstr);
		t->outoff += (size_t)r;
		t->hs_up += (uint32_t)r;
	}
	sent(t);
	return 0;
}

/* At most this many of the program's buffers ride with a held handshake;
 * the send takes the rest as the kernel would (a short count). */
#define EARLY_IOV 8

int
tun_early_send(struct tun *t, const struct iovec *iov, size_t n,
	       size_t *taken)
{
	struct iovec v[EARLY_IOV + 1];
	struct msghdr m = { .msg_iov = v };
	char pstr[TUN_MSG_MAX / 2];
	size_t left = t->outlen - t->outoff, i, k = 1;
	ssize_t r;

	*taken = 0;
	t->hold = false;
	if (t->state != TUN_SEND)
		return 0;	/* all of it is in the kernel already */
	v[0].iov_base = t->out + t->outoff;
	v[0].iov_len = left;
	for (i = 0; i < n && k < EARLY_IOV + 1; i++)
		if (iov[i].iov_len > 0)
			v[k++] = iov[i];
	m.msg_iovlen = k;
	do
		r = real_sendmsg(t->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	t->want = POLLOUT;
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			errno == EINPROGRESS))
		return -EAGAIN;
	if (r == -1) {
		tun_proxy_str(t, 0, pstr, sizeof(pstr));
		return io_fail(t, -errno, pstr);
	}
	if ((size_t)r < left) {
		t->outoff += (size_t)r;
		t->hs_up += (uint32_t)r;
		return 0;
	}
	t->outoff = t->outlen;
	t->hs_up += (uint32_t)left;
	*taken = (size_t)r - left;
	sent(t);
	t->want = POLLIN;
	return 0;
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

/* TUN_WAIT_SLOT: its time come, look for a max_conns slot again. */
static int
slot_wait(struct tun *t)
{
	int rc;

	if (tun_now_ms() < t->slot_wait_ms) {
		t->want = 0;
		return -EAGAIN;
	}
	rc = grp_slot_retry(t);
	if (rc != 0)
		return rc;
	rc = connect_first(t);
	return rc < 0 ? retry(t) : rc;
}

/* This attempt's share of the budget is spent, other members remain. */
static bool
attempt_over(struct tun *t)
{
	char pstr[TUN_MSG_MAX / 2];

	if (t->attempt_deadline_ms == 0 ||
	    t->attempt_deadline_ms >= t->deadline_ms ||
	    tun_now_ms() < t->attempt_deadline_ms)
		return false;
	tun_proxy_str(t, t->hop < t->rule->nchain ? t->hop : 0, pstr,
		      sizeof(pstr));
	tun_fail(t, -ETIMEDOUT, "proxy %s: %s within %lld ms", pstr,
		 t->state == TUN_CONNECTING ? "no connection" : "no reply",
		 (long long)(t->attempt_deadline_ms - t->started_ms));
	t->attempt_deadline_ms = 0;
	return true;
}

/* A step's TUN_NEXT_HOP or TUN_RESTART, carried out. */
static int
next_move(struct tun *t, int rc)
{
	if (rc == TUN_NEXT_HOP)
		return hop_done(t);
	if (rc == TUN_RESTART)
		return connect_first(t);
	return rc;
}

int
tun_step(struct tun *t)
{
	char pstr[TUN_MSG_MAX / 2];
	enum tun_state prev;
	int rc = 0;

	while (rc == 0) {
		if (t->state == TUN_DONE) {
			if (!t->health_noted && t->rule->nchain > 0)
				grp_done(t);
			t->health_noted = true;
			return 0;
		}
		if (t->state == TUN_FAILED)
			return t->err;
		if (t->state == TUN_WAIT_SLOT) {
			rc = slot_wait(t);
			continue;
		}
		if (attempt_over(t)) {
			rc = retry(t);
			continue;
		}
		tun_proxy_str(t, t->hop < t->rule->nchain ? t->hop : 0, pstr,
			      sizeof(pstr));
		if (on_probation(t) && t->have == 0 &&
		    tun_now_ms() >= t->pipe_deadline_ms) {
			rc = next_move(t, fallback(t, pstr, "got no answer "
						   "after the method reply"));
			continue;
		}
		/* optimistic with tfo=on: the handshake waits for the
		 * program's first bytes (tunnel_early.c) */
		if (t->state == TUN_SEND && tun_early_hold(t)) {
			t->want = 0;
			return -EAGAIN;
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
		case TUN_RELAY_HEAD:
			rc = step_relay(t, pstr);
			break;
		default:
			return tun_fail(t, -EPROTO, "bad tunnel state");
		}
		rc = next_move(t, rc);
		/* optimistic: the request is out, the program goes on now
		 * (the helper takes the replies, even ones already here) */
		if (rc == 0 && prev == TUN_SEND && tun_early_check(t)) {
			t->want = POLLIN;
			return -EAGAIN;
		}
		/* a reset or garbage right after a pipelined greeting, still
		 * on probation: the proxy choked on the pipelining, not on
		 * the destination */
		if (rc < 0 && rc != -EAGAIN && t->pipelined &&
		    t->pipe_deadline_ms != 0 &&
		    (prev == TUN_S5_AUTH || prev == TUN_S5_REPLY) &&
		    (rc == -ECONNRESET || rc == -EPROTO || rc == -EPIPE))
			rc = next_move(t, fallback(t, pstr, "was dropped"));
		/* another member of the hop's group, if that can help */
		if (rc < 0 && rc != -EAGAIN && t->state == TUN_FAILED)
			rc = retry(t);
	}
	return rc;
}

int
tun_expired(struct tun *t)
{
	char pstr[TUN_MSG_MAX / 2];

	if (t->state == TUN_WAIT_SLOT)
		return tun_fail(t, -ETIMEDOUT, "no proxy free for %d ms "
				"(max_conns)", t->cfg->connect_timeout_ms);
	tun_proxy_str(t, t->hop < t->rule->nchain ? t->hop : 0, pstr,
		      sizeof(pstr));
	tun_fail(t, -ETIMEDOUT, "proxy %s: %s within %d ms", pstr,
		 t->state == TUN_CONNECTING ? "no connection" : "no reply",
		 t->cfg->connect_timeout_ms);
	/* what the session learns of it, and the group's log line */
	if (t->rule->nchain > 0)
		grp_failed(t);
	return t->err;
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
		if (t->early)
			return TUN_EARLY_UP;
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
