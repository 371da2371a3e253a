/*
 * tunnel.h - drive a proxy handshake (a chain of them) on the
 * application's own socket, in-band: afterwards the fd is an ordinary TCP
 * connection whose bytes go to the destination, and the library is out of
 * the way.
 *
 * A handshake is a state machine (struct tun) advanced by tun_step() with
 * non-blocking I/O only, so the same code serves a blocking connect()
 * (tun_run: poll with a deadline) and overlapped handshakes driven from an
 * event loop.  Reads never go past the proxy's reply: bytes a server sends
 * first (an SSH banner) stay in the kernel for the application.
 */
#ifndef PROXYWRAP_TUNNEL_H
#define PROXYWRAP_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "config.h"
#include "ctlmsg.h"
#include "http_connect.h"
#include "socks5.h"

struct ep_reg;
struct fd_ref;

/* Where the application wants to go. */
struct tun_dest {
	char name[URL_HOST_MAX];	/* "" when only the address is known */
	int family;			/* AF_INET/AF_INET6 when addr is set */
	uint8_t addr[16];
	uint16_t port;
};

enum tun_state {
	TUN_CONNECTING,		/* TCP connect to the first proxy */
	TUN_SEND,		/* writing the current request */
	TUN_S5_METHOD,		/* reading the SOCKS5 method reply */
	TUN_S5_AUTH,		/* reading the RFC 1929 reply */
	TUN_S5_REPLY,		/* reading the SOCKS5 request reply */
	TUN_HTTP_HEAD,		/* reading the HTTP response head */
	TUN_RELAY_HEAD,		/* reading the TLS relay's answer (an
				 * https proxy, tunnel_relay.c) */
	TUN_WAIT_SLOT,		/* every candidate at max_conns: looking
				 * again at slot_wait_ms */
	TUN_DONE,		/* tunnel up */
	TUN_FAILED,		/* see err and msg */
};

#define TUN_OUT_MAX 17408	/* the longest request we build: a CONNECT
				 * with a CTL_TOKEN_MAX Negotiate token */
#define TUN_MSG_MAX 320	/* a 407 names the schemes offered and why
				 * no Negotiate token went ("run kinit") */
#define TUN_TRAIL_MAX 768	/* every member tried, and why, for the
				 * one log line of a group's failure */
#define TUN_SLOT_POLL_MS 10	/* looking again for a max_conns slot */

struct tun {
	int fd;
	const struct config *cfg;
	const struct cfg_rule *rule;
	int hop;			/* index into rule->chain */
	struct tun_dest dst;
	enum tun_state state;
	enum tun_state after_send;	/* state once out[] is written */
	short want;			/* POLLIN/POLLOUT to wait for */
	int64_t deadline_ms;		/* CLOCK_MONOTONIC */
	int64_t started_ms;
	size_t outlen, outoff;
	size_t have, need;
	int err;			/* -errno once TUN_FAILED */
	char msg[TUN_MSG_MAX];		/* why, for the log line */
	bool pipelined;			/* this hop's SOCKS5 messages went
					 * in one write */
	unsigned no_pipe;		/* bit per hop: it fell back, one
					 * message at a time from now on */
	bool may_learn;			/* may try pipelining an unknown
					 * proxy (blocking connect only) */
	bool early_ok;			/* the caller can hand the tunnel on
					 * before the replies (async.c) */
	bool optimistic;		/* the program may go on once the
					 * pipelined request is written
					 * (tunnel_early.c) */
	bool early;			/* ... and it is: the replies are
					 * still to come */
	bool nagle;			/* TCP_NODELAY was off: put it back
					 * at tun_early_end */
	bool hold_ok;			/* optimistic with tfo=on: the
					 * pipelined handshake may wait for
					 * the program's first bytes */
	bool hold;			/* ... and does, until hold_until_ms
					 * (tunnel_early.c) */
	int64_t hold_until_ms;
	bool want_probe;		/* an optimistic proxy not known yet:
					 * async.c probes it */
	bool probing;			/* this is that probe */
	int64_t sent_ms;		/* when out[] was fully written */
	int64_t pipe_deadline_ms;	/* give up on pipelining after */
	int pp_len;			/* PROXY protocol header queued after
					 * the last hop (rule->pp_version),
					 * its length; 0 before */
	struct sockaddr_storage peer;	/* what the app connected to */
	socklen_t peerlen;
	uint32_t hs_up, hs_down;	/* bytes the handshake sent and read
					 * (the close event's are the app's) */
	bool udp;			/* the last hop gets UDP ASSOCIATE
					 * (fd is then the control connection) */
	struct socks5_addr udp_from;	/* UDP: where datagrams come from */
	struct socks5_addr bnd;		/* the last hop's BND (UDP: relay) */
	void (*done)(struct tun *t, int rc);	/* async.c calls it when the
						 * handshake ends (mu held) */
	void *ctx;			/* done's */
	struct ep_reg *ep;		/* the program's epoll registrations,
					 * hidden while pending (ready.h) */
	struct tun *next, *prev;	/* async.c's pending list */
	/* Groups, health and max_conns (tunnel_group.c): */
	int px[CFG_CHAIN_MAX];		/* each hop's proxy for this attempt:
					 * rule->chain[k], or the member its
					 * group's hop chose */
	uint32_t tried[CFG_CHAIN_MAX];	/* members tried, per group hop */
	int attempts;			/* attempts made in this connect */
	int64_t attempt_started_ms;	/* when this attempt began */
	int outcome;			/* enum hl_outcome of the failed
					 * attempt, -1 while unknown */
	int64_t retry_ms;		/* HL_RETRY_AFTER's delay */
	int64_t attempt_deadline_ms;	/* this attempt gives up then (a
					 * share of the budget while other
					 * members remain) */
	int64_t slot_wait_ms;		/* TUN_WAIT_SLOT: look again then */
	int wait_hop;			/* ... for this hop's proxy */
	bool wait_all;			/* ... and the hops after it */
	struct fd_ref *lease;		/* this tunnel's max_conns leases */
	bool health_noted;		/* grp_done ran */
	/* Negotiate (auth=negotiate) at the current hop: */
	bool neg_sent;			/* its CONNECT carried a token */
	char neg_msg[CTL_MSG_MAX + 1];	/* why it carried none, or "" */
	bool neg_pre;			/* the first hop's token was made in
					 * tun_connect (in[0..neg_pre_len),
					 * or none: neg_msg) ... */
	int neg_pre_px;			/* ... for this proxy */
	size_t neg_pre_len;
	size_t traillen;
	char trail[TUN_TRAIL_MAX];	/* "a: why; b: why" */
	char tls[24];			/* an https hop's TLS version, from
					 * the relay; "" */
	bool tls_resumed;		/* the relay resumed a TLS session */
	int32_t h2_stream;		/* its HTTP/2 stream on the proxy's
					 * shared connection; 0: none */
	/* The buffers last: tun_init clears everything before them. */
	uint8_t out[TUN_OUT_MAX];
	uint8_t in[HTTPC_HDR_MAX];
};

/*
 * A struct tun, and its end.  mmap'ed, not malloc'ed: a connect made in a
 * signal handler that interrupted this thread inside malloc must not wait
 * for malloc's lock.  NULL (errno ENOMEM) when no memory.
 */
struct tun *tun_new(void);
void tun_free(struct tun *t);

/*
 * Prepare a handshake on fd through rule->chain toward dst, to finish by
 * now + timeout_ms.  Pure setup; nothing is sent.
 */
void tun_init(struct tun *t, int fd, const struct config *cfg,
	      const struct cfg_rule *rule, const struct tun_dest *dst,
	      int timeout_ms);

/*
 * Start the TCP connection to the first proxy (the fd must be
 * non-blocking); with no proxy in rule->chain (a direct rule that sends a
 * PROXY protocol header), to t->peer itself.  Returns 0 (connected or in progress: then call tun_step
 * once writable) or -errno (t->msg says why).
 */
int tun_connect(struct tun *t);

/*
 * Advance with non-blocking I/O.  Returns 0 when the tunnel is up,
 * -EAGAIN when it must wait for t->want, or -errno on failure (t->msg).
 */
int tun_step(struct tun *t);

/* Run tun_connect + tun_step to completion with poll and the deadline.
 * A blocking connect()'s whole handshake.  Returns 0 or -errno, or
 * TUN_EARLY_UP when t->early: the program may go on, and t goes to
 * async_start to take the proxy's replies. */
#define TUN_EARLY_UP 1
int tun_run(struct tun *t);

/* Optimistic data (tunnel_early.c).  True once t->early: the program may
 * use the socket while the proxy's replies are still to come. */
bool tun_early_check(struct tun *t);
/* The replies are read (or the tunnel failed): the socket's options are
 * the program's again.  Keeps errno. */
void tun_early_end(struct tun *t);
/*
 * t is optimistic with tfo=on and its pipelined handshake is built
 * (TUN_SEND): true while it waits for the program's first bytes, which
 * then go with it in one write (tun_early_send), in the SYN when the
 * kernel has the proxy's Fast Open cookie.  The first call starts the
 * wait (t->early, t->hold); the wait ends at hold_until_ms (the backstop)
 * or when t->hold is cleared.
 */
bool tun_early_hold(struct tun *t);
/*
 * The held (or not yet wholly written) handshake of t, then the
 * program's iov[0..n), in one non-blocking send.  0 with *taken the
 * program's bytes the kernel took (0 when it took only the handshake's,
 * or part of them); -EAGAIN when it took nothing; -errno with t failed.
 * Once the handshake is all written t waits for the replies (t->want).
 */
int tun_early_send(struct tun *t, const struct iovec *iov, size_t n,
		   size_t *taken);
/* What a tunnel that failed after the program was told it was
 * connected gives the program: -ECONNREFUSED, -ECONNRESET, or rc itself
 * where a connected socket may see it too (-ETIMEDOUT). */
int tun_early_errno(int rc);

/* The next time t must be looked at even without I/O: its deadline, or
 * earlier while a pipelined handshake is on probation. */
int64_t tun_wake_ms(const struct tun *t);

/* Fail t for its deadline ("no reply within N ms"); returns -ETIMEDOUT. */
int tun_expired(struct tun *t);

/* The proxy at hop (the member chosen for a group's hop) as text with
 * the password hidden. */
void tun_proxy_str(const struct tun *t, int hop, char *buf, size_t n);

/* The address family the proxy cfg->proxies[idx] is reached by
 * (resolving its host once, as a connection to it would), or AF_UNSPEC
 * when its host does not resolve. */
int tun_proxy_family(const struct config *cfg, int idx);

/* d as a SOCKS5 address: its name, else its address (v4-mapped IPv6 as
 * the IPv4 address it is). */
void tun_socks5_addr(struct socks5_addr *a, const struct tun_dest *d);

/*
 * Where an auth=negotiate hop's token comes from: spn names the proxy's
 * principal (SERVICE/HOST[@REALM]); the token goes into out[0..n) (n at
 * least CTL_RESP_MAX), *len bytes; by deadline_ms.  Returns CTL_OK, or
 * another enum ctl_status or -errno with msg saying why for the log.
 * The library's is ctl_negotiate (it asks proxywrap over the session's
 * control socket); the supervisor in proxywrap makes its own.  The call
 * blocks its thread until the token is there: the first hop's is made in
 * tun_connect, in the connecting thread (a non-blocking connect() waits
 * for it as for a lookup); a later hop's, or another group member's, in
 * the step that needs it (XXX: issue 16, for an overlapped handshake
 * that is the helper thread, which then holds up the process's other
 * handshakes meanwhile; a cached service ticket makes it a local
 * computation).  Without a source, a Negotiate hop sends its CONNECT
 * without a token, and its 407 says why.
 */
typedef int (*tun_token_fn)(const char *spn, uint8_t *out, size_t n,
			    size_t *len, char *msg, size_t msgn,
			    int64_t deadline_ms);
void tun_set_token_source(tun_token_fn fn);

/* Map a SOCKS5 REP code / HTTP status to the errno the app gets. */
int tun_socks5_errno(uint8_t rep);
int tun_http_errno(int code);

/* Where proxywrap's TLS relay for https proxies listens, "ADDR:PORT
 * TOKEN" (sessfmt.h), or NULL/"" for none; before any tunnel. */
void tun_relay_use(const char *where);

/* The relay's port (network order), 0 without a relay: a socket whose
 * peer has another port is surely not connected to it.  tun_relay_is: is
 * ss[0..len) the relay's address (IPv4, or v4-mapped)? */
extern uint16_t tun_relay_port;
bool tun_relay_is(const struct sockaddr_storage *ss, socklen_t len);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t tun_now_ms(void);

#endif
