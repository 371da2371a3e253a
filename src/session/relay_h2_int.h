/*
 * relay_h2_int.h - what relay_h2.c (the session, its callbacks, tunnels
 * handed over) and relay_h2io.c (the connection's thread: TLS in and out,
 * the program sockets, streams' ends) share.  relay_h2.c calls into
 * relay_h2io.c, never the other way.
 */
#ifndef PROXYWRAP_RELAY_H2_INT_H
#define PROXYWRAP_RELAY_H2_INT_H

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay.h"

#define H2_WIN (256 * 1024)		/* a stream's window */
#define H2_CONN_WIN (64 << 20)		/* the connection's */
#define H2_UP (64 * 1024)		/* program -> proxy, per stream */
#define H2_DN (H2_WIN + 1024)		/* proxy -> program: the window,
					 * and the relay line and head */
#define H2_STREAMS_MAX 1024		/* at once: poll entries */
#define H2_IDS (1 << 30)		/* in all: a client's stream ids are
					 * the odd ones below 2^31 */
#define H2_IDLE_MS 60000		/* a connection without streams
					 * closes after this */
#define H2_CONNS_MAX 256
#define H2_OUT (160 * 1024)		/* frames gathered for SSL_write */
#define H2_GATHER (64 * 1024)		/* ... up to this much */

struct h2s {
	struct h2c *c;
	int32_t id;
	int cfd;
	char authority[URL_HOST_MAX + 8];
	char auth[512];			/* Proxy-Authorization, or "" */
	unsigned char up[H2_UP];
	size_t uplen, upoff;
	bool c_eof, deferred;
	unsigned char *dn;
	size_t dnlen, dnoff;
	size_t notdata;			/* dn's first bytes that are ours
					 * (relay line, head), not DATA */
	bool s_eof, dn_shut, answered, closed, reset, rst_sent;
	int status;
	struct h2s *next;
};

/*
 * One connection's life: it sits in its proxy's slot (relay_h2.c) and
 * takes tunnels until it is full (the streams of its life, or as many at
 * once as its thread polls), the proxy sends GOAWAY, TLS fails, or it
 * has been idle idle_ms.  From then on (shut) it takes none; a tunnel
 * that finds it so opens a new one, which takes the slot (this one is
 * retired).  Once its last stream has ended its thread says GOAWAY and
 * close_notify, closes and frees what it holds; relay_h2.c then frees
 * the struct, under the slot's lock, so that no tunnel still looks at it.
 */
struct h2c {
	SSL *ssl;
	int fd;
	int idx;			/* the proxy's slot */
	nghttp2_session *s;
	pthread_mutex_t mu;
	/* under mu: */
	struct h2s *pending;		/* handed over, not yet submitted */
	int nstreams;			/* pending and open */
	int total;			/* streams taken, in all */
	int total_max, at_once_max;	/* ... and at once */
	bool shut;			/* takes no more streams */
	bool retired;			/* another has the slot: close after
					 * the last stream */
	/* the thread's own: */
	int wake[2];
	struct h2s *streams;
	unsigned char out[H2_OUT];
	size_t outlen, outoff;		/* mem_send's bytes SSL_write owes */
	char tls[24];
	bool broken;			/* TLS or framing failed */
	bool goaway;			/* the proxy sent GOAWAY */
	int idle_ms;
	long long idle_since;		/* when its last stream ended */
};

/* relay_h2io.c */

/* Reset the program's socket (SO_LINGER 0), as a kernel's TCP would
 * report the proxy's reset; closes fd. */
void h2io_reset_fd(int fd);
/* Bytes of ours for the program (the relay line, the HTTP head), ahead
 * of the stream's DATA. */
void h2io_dn_put(struct h2s *st, const char *p, size_t n);
/* A stream the proxy refused before it answered (GOAWAY, REFUSED_STREAM):
 * the program's connect fails as refused (an HTTP/1.1 502 naming why). */
void h2io_refused(struct h2s *st, const char *why);
/* The proxy's GOAWAY: the connection takes no more streams. */
void h2io_goaway(struct h2c *c);
/* The connection's life (relay_h2.c's thread runs it): until its last
 * stream is over and it takes no more, then GOAWAY, close_notify and
 * close.  Everything but the struct itself is freed on return. */
void h2io_main(struct h2c *c);

#endif
