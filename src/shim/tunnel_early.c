/*
 * tunnel_early.c - optimistic data (proxy ... optimistic=on): when a
 * connection's program may go on before its SOCKS5 proxy has answered.
 *
 * A tunnel is optimistic when its pipelined greeting and request (one
 * write, tunnel_socks5.c) are out: the program's connect() returns 0 (a
 * non-blocking one becomes writable), its first writes go to the kernel
 * right behind the request, in the same flight, and the proxy's replies
 * are still read by the tunnel (async.c) before the program may read: its
 * reads wait (EAGAIN for a non-blocking one) and poll/epoll keep POLLIN
 * from it until the replies are taken (ready.c).  Connect + request +
 * first answer then cost one round trip to the proxy instead of two, as in
 * Tor's proposal 181.
 *
 * Which proxies.  RFC 1928 promises nothing about bytes that arrive
 * before the reply, and a server that takes one recv() for one message
 * loses them: microsocks answers the request and drops the rest of its
 * segment (#105).  The same habit makes it drop a pipelined request after
 * the greeting, which the pipelining probation already finds out and
 * remembers per proxy for the session (tunnel_socks5.c, the shared area):
 * so a connection is optimistic only to a proxy the session has seen
 * take a pipelined handshake, a stream reader.  dante and ssh -D do, and
 * forward the early bytes (tests/integ/t_optimistic.sh checks both, and
 * microsocks' loss, without the shim).  The first connection to a proxy
 * not known yet waits for the replies as without optimistic=on (a
 * blocking connect learns; a non-blocking one has the proxy probed, see
 * early_want_probe): an unknown proxy is never sent early bytes.
 * A proxy that reads its handshake as a stream and still drops what
 * follows (a buffered reader thrown away when it starts relaying) would
 * pass that test: that is why optimistic is opt-in per proxy.
 *
 * Nothing of the program's is held back: the early bytes are in the
 * kernel, behind the request (with tfo=on it is the request that waits for
 * them, below), so they reach the destination only once the proxy has made
 * the connection, and not at all if it refuses.  A refusal, a reset or a
 * timeout before the reply then fails the tunnel after the program was
 * told it was connected: its next call gets ECONNREFUSED (a refusal) or
 * ECONNRESET (the proxy went away), as a TCP Fast Open connection whose
 * SYN was refused does, and the log has one line saying so.  So there
 * is no early-write buffer: what another carrier of the program's bytes
 * (the https:// relay, tunnel_relay.c) would reuse is the early state
 * itself, FD_TUNNEL_EARLY and its readiness (ready.c, async.c), with its
 * own decision of when the program may go on.
 *
 * Only a single SOCKS5 hop: a chain's later hops are reached through the
 * earlier ones' replies.  Not for UDP associations or a PROXY protocol
 * header (which must precede the program's bytes), nor for the
 * supervisor's connects (t->early_ok is the caller's consent).
 */
#include "tunnel_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "log.h"
#include "real.h"

/*
 * A session of non-blocking clients only (curl, event loops) would never
 * learn a proxy: only a blocking connect() tries pipelining on one not
 * known yet, since starting over shows an event loop a hang-up.  So such
 * a connection, which goes one message at a time, has the helper probe
 * its proxy on a socket of the library's own: a pipelined greeting and a
 * request for 0.0.0.0:0, which no proxy can connect.  A reply of any
 * kind says the proxy read the request (dante answers REP 8); silence
 * after the method reply says it dropped it (microsocks); a proxy that
 * closes instead (ssh -D) stays unknown, as it is to the probation.  No
 * destination sees the probe.  Once per proxy and process, for a rule of
 * one proxy (not a group's hop: its member is chosen per connection).
 */
void
early_want_probe(struct tun *t)
{
	t->want_probe = t->early_ok && !t->probing && t->rule->nchain == 1 &&
			t->rule->group[0] == 0 && !t->udp &&
			t->rule->pp_version == 0 && hop_proxy(t, 0)->optimistic;
}

void
early_decide(struct tun *t, bool known_pipelining)
{
	t->optimistic = t->early_ok && t->rule->nchain == 1 && !t->udp &&
			t->rule->pp_version == 0 &&
			hop_proxy(t, 0)->optimistic && known_pipelining;
	t->hold_ok = t->optimistic && hop_proxy(t, 0)->tfo && !t->probing;
}

/*
 * While the replies are still to come the request is unacknowledged, and
 * Nagle's algorithm holds a small write behind unacknowledged data until
 * its ACK: the program's first bytes would wait the very round trip
 * optimistic data saves (the bench's tunwire shows it; a relay on
 * loopback acknowledges at once and hides it).  So TCP_NODELAY is on for
 * that time, and the program's own setting comes back when the replies
 * have been read (tun_early_end).  A program that sets TCP_NODELAY itself
 * in that round trip has it reset to what it was before.
 */
static void
nagle_off(struct tun *t)
{
	int v = 0, one = 1;
	socklen_t len = sizeof(v);

	t->nagle = false;
	if (real_getsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 &&
	    v == 0 &&
	    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		       sizeof(one)) == 0)
		t->nagle = true;
}

void
tun_early_end(struct tun *t)
{
	int zero = 0, saved = errno;

	if (t->early && t->nagle)
		setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &zero,
			   sizeof(zero));
	t->nagle = false;
	errno = saved;
}

bool
tun_early_check(struct tun *t)
{
	if (!t->optimistic || t->early)
		return t->early;
	/* the pipelined request is written: only replies are to come */
	if (t->state != TUN_S5_METHOD && t->state != TUN_S5_AUTH &&
	    t->state != TUN_S5_REPLY)
		return false;
	t->early = true;
	nagle_off(t);
	if (log_enabled(LOG_DEBUG)) {
		char pstr[TUN_MSG_MAX / 2];

		tun_proxy_str(t, 0, pstr, sizeof(pstr));
		log_msg(LOG_DEBUG, "fd %d: optimistic: connected for the "
			"program before proxy %s answers", t->fd, pstr);
	}
	return true;
}

/*
 * The program's first bytes in the SYN (optimistic=on with tfo=on).
 * With TCP_FASTOPEN_CONNECT and a cookie for the proxy the kernel sends
 * no SYN at connect(): the first write goes in it.  Written at once, the
 * pipelined greeting and request take that SYN alone and the program's
 * bytes follow a round trip later; so the handshake waits in t->out for
 * the program's first send, and that one write carries both (about 1 RTT
 * for connect + request + answer instead of 2).  Without a cookie the
 * kernel has sent a plain SYN and the wait starts once it is answered:
 * the handshake and the bytes then share the first segment after it.
 *
 * While it waits nothing of the connection is in the kernel, so every
 * way the program's bytes, its FIN or its waiting could reach the socket
 * first sends the handshake before (async_early_send, the hooks): the
 * send family merges it with the bytes; a read, a poll or select with
 * read interest and no write interest, an epoll registration like that,
 * sendfile, splice, shutdown, close, dup, fork, exec and passing fds
 * send it alone.  A program that reads first (SSH, SMTP) so never waits
 * on it.  What the library cannot see (io_uring, a raw system call other
 * than syscall()'s) is covered by the bound below: after it the helper
 * sends the handshake alone.  100 ms is far above the time a program
 * takes from connect() to its first write (microseconds; a TLS
 * ClientHello is ready in a few ms even on a loaded machine) and far
 * below a server-speaks-first client's timeout, so it costs a program
 * that waits through such a path at most a fraction of a second, once.
 */
#define EARLY_HOLD_MS 100

bool
tun_early_hold(struct tun *t)
{
	if (t->hold_ok && !t->hold && !t->early && t->hop == 0 &&
	    t->outoff == 0) {
		t->hold_ok = false;	/* once per connection */
		t->hold = true;
		t->early = true;
		t->hold_until_ms = tun_now_ms() + EARLY_HOLD_MS;
		nagle_off(t);
		if (log_enabled(LOG_DEBUG)) {
			char pstr[TUN_MSG_MAX / 2];

			tun_proxy_str(t, 0, pstr, sizeof(pstr));
			log_msg(LOG_DEBUG, "fd %d: optimistic: connected for "
				"the program before proxy %s answers; the "
				"handshake goes with its first bytes (tfo=on)",
				t->fd, pstr);
		}
		return true;
	}
	if (!t->hold)
		return false;
	if (tun_now_ms() < t->hold_until_ms)
		return true;
	t->hold = false;
	log_msg(LOG_DEBUG, "fd %d: optimistic: nothing from the program in "
		"%d ms: the handshake goes alone", t->fd, EARLY_HOLD_MS);
	return false;
}

int
tun_early_errno(int rc)
{
	switch (rc) {
	case -ECONNRESET:
	case -EPIPE:
	case -EPROTO:
		return -ECONNRESET;	/* the proxy went away or spoke
					 * nonsense: as a reset */
	case -ETIMEDOUT:
	case -ENETUNREACH:
	case -EHOSTUNREACH:
		return rc;		/* what a connected socket may get too */
	}
	return -ECONNREFUSED;
}
