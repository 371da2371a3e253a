/*
 * tunnel_int.h - what the files of the tunnel share: the engine
 * (tunnel.c: a handshake's life, the hop's target, the I/O every step
 * uses), the SOCKS5 steps with the pipelining table (tunnel_socks5.c),
 * the HTTP CONNECT step (tunnel_http.c) and the PROXY protocol header
 * (tunnel_pp.c).  Not for use outside them; the module's interface is
 * tunnel.h.
 *
 * A step returns what tun_step returns: 0 to go on, -EAGAIN to wait for
 * t->want, or -errno once t is TUN_FAILED.  pstr is the current proxy as
 * text, for the log line.
 */
#ifndef PROXYWRAP_TUNNEL_INT_H
#define PROXYWRAP_TUNNEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "socks5.h"
#include "tunnel.h"

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

/*
 * What a step returns besides 0 (go on), -EAGAIN (wait for t->want) and
 * -errno (failed): the engine's next move, so that no step calls back up
 * into it.
 */
#define TUN_NEXT_HOP 1		/* this hop's proxy said yes */
#define TUN_RESTART 2		/* connect to the first proxy again */

/* tunnel_base.c */

/* Fail t: err (-errno) and the message for the log line; returns err. */
int tun_fail(struct tun *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const struct cfg_proxy *hop_proxy(const struct tun *t, int hop);
/* cfg->proxies[idx]'s address (resolved once per process): 0 or -errno. */
int proxy_sockaddr(const struct config *cfg, int idx,
		   struct sockaddr_storage *ss, socklen_t *len);
/* What the proxy at t->hop must connect to. */
void hop_target(struct tun *t, struct socks5_addr *a);
/* Send out[0..len), then go to state after. */
void queue(struct tun *t, int len, enum tun_state after);
/* recv at most n more bytes into in[]; -EAGAIN sets want. */
int recv_some(struct tun *t, size_t n, int flags);
/* A failed recv/send (rc) as t's failure. */
int io_fail(struct tun *t, int rc, const char *pstr);
/*
 * One message read exactly, into in[0..t->have): what has arrived is
 * peeked at, parse(t, n, &used, ctx) looks at in[0..n) (parse.h's
 * PARSE_*), and only the message's bytes are consumed; bytes peeked
 * before its end is seen are all the message's, so they are taken at
 * once (poll() must not report the same bytes forever).  0; -EAGAIN;
 * -EMSGSIZE past max bytes; -EBADMSG when parse says PARSE_ERR; or
 * recv's -errno (-ECONNRESET at EOF).
 */
int recv_msg(struct tun *t, size_t max,
	     int (*parse)(struct tun *t, size_t n, size_t *used, void *ctx),
	     void *ctx);

/* tunnel_socks5.c */

/* What the session knows of the current hop's proxy, and telling it. */
enum pipe_state pipe_get(const struct tun *t);
void pipe_set(const struct tun *t, enum pipe_state st);
/* Greeting (one method), auth and request in one write. */
int start_pipelined(struct tun *t, const struct proxy_url *u,
		    const struct socks5_addr *a);
/* The current hop's proxy dropped a pipelined handshake: start again,
 * one message at a time for it (TUN_RESTART, or -errno). */
int fallback(struct tun *t, const char *pstr, const char *why);
int step_s5_method(struct tun *t, const char *pstr);
int step_s5_auth(struct tun *t, const char *pstr);
int step_s5_reply(struct tun *t, const char *pstr);

/* tunnel_early.c: whether this connection goes optimistic (t->optimistic),
 * decided when its pipelined handshake is built; known_pipelining: the
 * session has seen this proxy take one (pipe_get). */
void early_decide(struct tun *t, bool known_pipelining);
/* t goes one message at a time to an optimistic proxy not known yet: ask
 * for a probe of it (t->want_probe). */
void early_want_probe(struct tun *t);

/* tunnel_http.c */

int step_http(struct tun *t, const char *pstr);
/* The CONNECT request to host:port for the current hop's proxy into
 * t->out from off on (after an https proxy's relay line; Basic from its
 * URL, or a Negotiate token): its length, or -errno with t failed. */
int http_request(struct tun *t, size_t off, const char *host,
		 uint16_t port);
/*
 * The first hop's Negotiate token, made now when its proxy has
 * auth=negotiate: tun_connect runs in the program's own thread, and a
 * non-blocking connect's later steps run in the helper thread under its
 * lock, where waiting for proxywrap (or the KDC) would hold up every
 * other handshake of the process.
 */
void http_prefetch(struct tun *t);
/* Forget a token http_prefetch made (another member is tried). */
void http_prefetch_drop(struct tun *t);

/* tunnel_relay.c: a hop whose proxy is https:// goes to proxywrap's TLS
 * relay (relay.h). */

/* Hop 0's proxy is https: the relay's address in *ss (0), or -EACCES
 * with t failed (no relay: a bare LD_PRELOAD); 1 when it is not https. */
int relay_sockaddr(struct tun *t, struct sockaddr_storage *ss,
		   socklen_t *len, const char *pstr);
/* The relay's request line into t->out for hop t->hop when its proxy is
 * https: its length; 0 when it is not; -errno with t failed. */
int relay_prefix(struct tun *t);
/* TUN_RELAY_HEAD: the relay's answer (0: TLS is up, on to the proxy's
 * HTTP answer). */
int step_relay(struct tun *t, const char *pstr);

/* tunnel_group.c */

/*
 * Choose every hop's proxy (a group's member by mode and health) for the
 * first attempt and take its max_conns leases: 0; -EAGAIN with t in
 * TUN_WAIT_SLOT (every candidate at max_conns); -errno with t failed
 * (nothing usable: a 407 earlier in the session).
 */
int grp_begin(struct tun *t);
/* TUN_WAIT_SLOT's time came: choose again (0, -EAGAIN, -errno). */
int grp_slot_retry(struct tun *t);
/*
 * The attempt failed (t is TUN_FAILED): tell the session what it says of
 * the proxy, and choose another member when that may help.  1: start
 * the next attempt (t->px[] and leases set); -EAGAIN: t waits in
 * TUN_WAIT_SLOT; 0: the connect has failed (t->trail names every member
 * when a group was tried).
 */
int grp_failed(struct tun *t);
/* The tunnel is up: every hop's proxy answered. */
void grp_done(struct tun *t);
/* Drop what t holds (its leases). */
void grp_free(struct tun *t);

/* tunnel_pp.c */

/* Every hop said yes: queue the PROXY protocol header if the rule asks,
 * else done. */
int tun_finish(struct tun *t);

#endif
