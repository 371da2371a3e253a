/*
 * route.h - the core of connect(): decide by the rules, then go direct,
 * refuse, or tunnel through the rule's proxies; log one line.
 */
#ifndef PROXYWRAP_ROUTE_H
#define PROXYWRAP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addrnames.h"
#include "log.h"
#include "rules.h"
#include "shim.h"
#include "tunnel.h"

/* The destination of sa (AF_INET/AF_INET6 only); false if malformed. */
/* The shortest AF_INET6 name the kernel takes: RFC 2133's, without
 * sin6_scope_id. */
#ifndef SIN6_LEN_RFC2133
#define SIN6_LEN_RFC2133 24
#endif

bool route_dest(const struct sockaddr *sa, socklen_t len,
		struct tun_dest *d);

/* The decision for d (mapping a fake address back to its name). */
void route_decide(const struct shim *s, struct tun_dest *d,
		  struct decision *dec);

/*
 * What the UDP module (above routing) does for route_connect on a datagram
 * socket: connect its peer through a SOCKS5 relay, or drop the relayed
 * peer after a direct connect.  The connect hook passes them in.
 */
struct udp_sock;
struct route_udp {
	int (*connect)(int fd, const struct sockaddr *sa, socklen_t len,
		       const struct tun_dest *d, const struct decision *dec);
	void (*disconnect)(struct udp_sock *u);
};

/*
 * The last destination this thread found direct in the tables: a program
 * that connects to one server again and again then pays a compare, inline
 * in the hook.  The rules and the fake pools never change in a process;
 * the address-name map may, so its generation is part of the key.  An
 * entry is made only where shim.fast holds.
 */
struct route_memo {
	uint64_t w[3];		/* the key (route_fast_name); 0: empty */
};

extern __thread struct route_memo route_memo
	__attribute__((tls_model("initial-exec")));

/* A memo miss: the tables, and the checks they leave (route_fast.c);
 * k becomes the memo when the answer is yes. */
bool route_fast_lookup(int family, const uint8_t *addr, uint16_t port,
		       const struct route_memo *k);

static inline bool
route_memo_is(const struct route_memo *k)
{
	return k->w[0] == route_memo.w[0] && k->w[1] == route_memo.w[1] &&
	       k->w[2] == route_memo.w[2];
}

/*
 * True when a connect or datagram to an AF_INET/AF_INET6 name of len
 * bytes (as route_dest takes it: an RFC 2133 AF_INET6 one too, the
 * address is in its 24 bytes) goes direct for sure, told without the
 * rule decision: by the tables compiled with the rules (rules_direct),
 * and only when nothing else could change the outcome or what is written
 * about it - no log line or audit event to write (-v, a JSON log,
 * --summary: shim.fast), not a fake address, no name this process
 * resolved to it.  False: route_decide decides (and for any other name).
 * Cheap enough for every call (the connect hook asks first).  memo_only:
 * the memo's answer alone, without a call (a hook's first look).
 *
 * The memo's key is the name's own bytes, read whole: an IPv4 one's
 * family, port and address are its first 8, then the address-name map's
 * generation (the rules and the fake pools never change in a process;
 * that map may); an IPv6 one's family and port (its first 4) with the
 * generation, then its address.  The family in the low bits of w[0]
 * keeps the two kinds apart, and an empty memo matches neither.
 */
static inline __attribute__((always_inline)) bool
route_fast_name(const struct sockaddr *sa, socklen_t len, bool memo_only)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	uint64_t gen = (uint64_t)anames_gen() + 1;
	struct route_memo k;
	uint32_t head;

	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		memcpy(&k.w[0], s4, 8);
		k.w[1] = gen;
		k.w[2] = 0;
		if (route_memo_is(&k))
			return true;
		return !memo_only && route_fast_lookup(AF_INET,
					 (const uint8_t *)&s4->sin_addr,
					 __builtin_bswap16(s4->sin_port), &k);
	}
	if (sa->sa_family == AF_INET6 && len >= SIN6_LEN_RFC2133) {
		memcpy(&head, s6, 4);
		k.w[0] = head | gen << 32;
		memcpy(&k.w[1], s6->sin6_addr.s6_addr, 16);
		if (route_memo_is(&k))
			return true;
		return !memo_only && route_fast_lookup(AF_INET6, s6->sin6_addr.s6_addr,
					 __builtin_bswap16(s6->sin6_port), &k);
	}
	return false;
}

/*
 * connect() for an AF_INET/AF_INET6 address.  Returns what connect()
 * would: 0, or -1 with errno set.
 */
int route_connect(int fd, const struct sockaddr *sa, socklen_t len,
		  const struct route_udp *udp);

/*
 * sendto/sendmsg/sendmmsg with a destination: 0 when the datagram goes as
 * the application asked (not an inet address, not a datagram socket, or
 * the rules say direct); 1 when it goes via a SOCKS5 proxy (udp_send with
 * *d and *dec); -EACCES after a log line (block, or a proxy that cannot
 * carry UDP).  errno is left as it was.
 */
int route_datagram(int fd, const struct sockaddr *sa, socklen_t len,
		   struct tun_dest *d, struct decision *dec);

/* The audit log line (log_event) for a decision about d: event
 * "connect", "block", "proxy-error" or "resolve"; proto "tcp", "udp" or
 * "dns"; action NULL for dec's ("direct", "block", "via") or e.g.
 * "local"/"remote" for a name; err 0 or an errno; ms the handshake time
 * or -1. */
/* A connect or send made from a signal handler while this thread was
 * inside the library (shim_internal()): refused, logged.  -EACCES. */
int route_reentered(const struct sockaddr *sa, socklen_t len,
		    const char *proto);

/* Text an audit event points to, alive while it is written. */
struct route_abuf {
	char at[300], why[64], url[URL_HOST_MAX + 2 * URL_CRED_MAX + 32];
	char name[URL_HOST_MAX];
};

/* The event route_audit writes, into *ev (its text in *b), for a caller
 * that adds to it before log_event. */
void route_audit_fill(struct log_event *ev, struct route_abuf *b,
		      const char *event, const char *proto,
		      const struct tun_dest *d, const struct decision *dec,
		      const char *action, int err, const char *msg,
		      long long ms);

void route_audit(const char *event, const char *proto,
		 const struct tun_dest *d, const struct decision *dec,
		 const char *action, int err, const char *msg, long long ms);

/* One log line for a finished handshake: failure (WARN) or success
 * (INFO, with the time it took). */
void route_report(const struct tun *t, int rc);

/* "shim.conf:12 block 93.184.0.0/16", or why no rule decided. */
void route_rule_str(const struct shim *s, const struct decision *dec,
		    char *buf, size_t n);

/* "198.18.1.2:80", "[2001:db8::1]:443", "example.com:443" */
void route_dest_str(const struct tun_dest *d, char *buf, size_t n);

/* Strict mode's "; add: direct NAME:PORT" after the rule text in buf, for
 * a refusal no rule made. */
void route_hint(const struct shim *s, const struct decision *dec,
		const struct tun_dest *d, char *buf, size_t n);

#endif
