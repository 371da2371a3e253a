/*
 * evid.h - a tunnel's evidence: what its `close` audit event says when
 * the program closes it or the process exits.
 *
 * Routing attaches a record to the tunnel's fd-table entry (evid.c);
 * while the record is young the I/O hooks show it the program's first
 * bytes out and the destination's first bytes in (evid_peek.c), which a
 * passive TLS look (tlspeek.h) turns into the SNI, the ALPN offer and
 * the handshake's outcome; the close hooks and an exit walk write the
 * event with the socket's own counters (evid_close.c).  Nothing counts
 * bytes on the data path: after the first bytes each hook pays one flag
 * test.
 */
#ifndef PROXYWRAP_EVID_H
#define PROXYWRAP_EVID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fdtab.h"
#include "rules.h"
#include "tlspeek.h"
#include "tunnel.h"

/* fd_entry.peek: which way the hooks still look. */
#define EVID_PEEK_OUT 1		/* the program's first bytes */
#define EVID_PEEK_IN 2		/* the destination's first bytes */

enum evid_out {
	EVID_OUT_UNSEEN,	/* nothing sent yet */
	EVID_OUT_PARTIAL,	/* a ClientHello's beginning, in buf */
	EVID_OUT_HELLO,		/* a ClientHello: sni, alpn */
	EVID_OUT_NONE,		/* something else: no TLS */
};

enum evid_in {
	EVID_IN_UNSEEN,		/* nothing read yet */
	EVID_IN_PARTIAL,	/* fewer bytes than tlspeek_server needs */
	EVID_IN_HELLO,		/* a ServerHello */
	EVID_IN_ALERT,		/* an alert: level, desc */
	EVID_IN_OTHER,		/* not TLS */
};

struct evid {
	struct fd_ref ref;		/* first: fdtab drops it; the last
					 * drop frees the record */
	pid_t pid;			/* the process that made the tunnel:
					 * a forked or vforked child writes
					 * no event for it */
	int64_t start_ms;		/* CLOCK_MONOTONIC: connect() */
	int64_t ready_ms;		/* the tunnel up; 0 not yet */
	int64_t first_ms;		/* first bytes read; 0 none */
	uint32_t hs_up, hs_down;	/* the handshake's own bytes */
	int px;				/* the last hop's proxy (a group's
					 * member: cfg->proxies), -1 none */
	struct decision dec;		/* what routed it */
	struct tun_dest dst;
	int busy_out, busy_in;		/* atomic: a hook is looking */
	unsigned char out, in;		/* enum evid_out, enum evid_in */
	uint8_t alert_level, alert_desc;	/* the destination's alert */
	bool prog_alert;		/* the program answered a ServerHello
					 * with a plaintext alert (TLS 1.2: a
					 * certificate it does not trust) */
	uint8_t prog_level, prog_desc;
	uint8_t later;			/* sends after the hello looked at */
	bool sni_mismatch;		/* SNI is not the routed name */
	bool refused;			/* ... and sni_must_match closed it */
	int done;			/* atomic: the close event is out */
	uint8_t in_buf[8];		/* the reply's first bytes */
	size_t in_have;
	uint8_t *out_buf;		/* a ClientHello's beginning
					 * (malloc'd, TLSPEEK_MAX) */
	size_t out_have;
	struct tlspeek_hello hello;	/* EVID_OUT_HELLO */
};

/*
 * A new record for a tunnel to d, decided by dec, begun at start_ms
 * (its one reference: the entry's once attached).  NULL when out of
 * memory (the tunnel works, without an event).
 */
struct evid *evid_new(const struct tun_dest *d, const struct decision *dec,
		      int64_t start_ms);

/* Attach v to the tunnel's entry e: the I/O hooks start looking
 * (fdtab_live).  v is freed when e is NULL or has one already. */
void evid_attach(struct fd_entry *e, struct evid *v);

/* The tunnel is up (a non-blocking connect's, from the helper thread,
 * maybe before v is attached): t's handshake bytes and the proxy its last
 * hop went through. */
void evid_ready(struct evid *v, const struct tun *t);

/* Take e's reference to its record (e->evid NULL after): the record, or
 * NULL. */
struct evid *evid_take(struct fd_entry *e);

/* Drop a taken reference: true when it was the last (no other fd of this
 * process names the socket), and v is then the caller's to evid_free. */
bool evid_drop(struct evid *v);
void evid_free(struct evid *v);

/*
 * The I/O hooks, on a tunnel whose entry has e->peek set, after the real
 * call returned r (bytes, or -1): iov[0..n) is what was sent or received.
 * errno is kept.  A receive with flags that leave the bytes in the kernel
 * (MSG_PEEK) or drop them (MSG_TRUNC) is not looked at.
 */
void evid_sent(int fd, struct fd_entry *e, const struct iovec *iov,
	       size_t n, ssize_t r);
void evid_received(int fd, struct fd_entry *e, const struct iovec *iov,
		   size_t n, ssize_t r, int flags);

/*
 * Before a send of iov[0..n) while the ClientHello is still to come and
 * sni_must_match is on: 0 to go on, or -ECONNRESET after the tunnel was
 * closed for a ClientHello naming another server (logged).  Buffers the
 * kernel would refuse (EFAULT) are left for it.
 */
int evid_sending(int fd, struct fd_entry *e, const struct iovec *iov,
		 size_t n);

/* True when a send hook must call evid_sending first. */
bool evid_strict(void);

/* How the tunnel ended, for evid_end. */
enum evid_end {
	EVID_END_CLOSE,		/* the program closed it (close, dup2 over
				 * it): the socket's state says more */
	EVID_END_EXIT,		/* the process exits (evid_close.c's
				 * destructor) */
};

/*
 * The program closes fd (close, dup2 over it, close_range): v, taken from fd's entry (evid_take) before the entry went, loses that
 * reference; when it was the last name for the socket in this process,
 * its close event goes out (ready: the tunnel was up), before the real
 * close.  errno is kept.
 */
void evid_end(int fd, struct evid *v, bool ready, enum evid_end why);

/* The SNI mismatch's log line and audit event (evid_close.c). */
void evid_mismatch(struct evid *v, bool refused);

#endif
