/*
 * evid_peek.c - the first bytes of a tunnel, as the I/O hooks saw them
 * go out and come in: the program's ClientHello and the destination's
 * answer (tlspeek.h).  The bytes are only read, after the call that moved
 * them returned, and only until the peeker has decided; then the hooks
 * stop calling here (fd_entry.peek).  The one exception is
 * sni_must_match: a send is looked at before it goes, so a ClientHello
 * naming another server never leaves.
 */
#include "evid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "real.h"
#include "shim.h"

/* Pieces handed to the peeker: what an earlier send left, then a call's
 * vector (the first ones; a hello never needs more). */
#define SEGS_MAX 16

/* One hook at a time looks at a direction: two threads writing a
 * socket's first bytes at once leave the second unlooked at. */
static bool
claim(int *busy)
{
	return !__atomic_exchange_n(busy, 1, __ATOMIC_ACQUIRE);
}

static void
unclaim(int *busy)
{
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
}

static void
stop(struct fd_entry *e, unsigned char bit)
{
	__atomic_and_fetch(&e->peek, (unsigned char)~bit, __ATOMIC_RELEASE);
}

/* v's kept bytes, then iov[0..n) up to lim bytes, as pieces. */
static size_t
pieces(struct tlspeek_seg *s, const struct evid *v, const struct iovec *iov,
       size_t n, size_t lim)
{
	size_t k = 0, i, l;

	if (v->out_have > 0)
		s[k++] = (struct tlspeek_seg){ v->out_buf, v->out_have };
	for (i = 0; i < n && k < SEGS_MAX && lim > 0; i++) {
		l = iov[i].iov_len < lim ? iov[i].iov_len : lim;
		s[k++] = (struct tlspeek_seg){ iov[i].iov_base, l };
		lim -= l;
	}
	return k;
}

/* Host names compared as DNS does: case aside, a final dot aside. */
static bool
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The peeker's word on the program's bytes: PARSE_OK, a ClientHello (is
 * its SNI the routed name?); PARSE_ERR, no TLS. */
static void
decide_out(struct fd_entry *e, struct evid *v, int rc,
	   const struct tlspeek_hello *h)
{
	free(v->out_buf);
	v->out_buf = NULL;
	v->out_have = 0;
	if (rc == PARSE_OK) {
		v->hello = *h;
		v->sni_mismatch = v->dst.name[0] != '\0' && h->sni[0] != '\0' &&
				  !same_name(v->dst.name, h->sni);
		v->out = EVID_OUT_HELLO;
		return;		/* its next flight is looked at too */
	}
	v->out = EVID_OUT_NONE;
	stop(e, EVID_PEEK_OUT);
}

/* Sends after the program's ClientHello looked at, at most, while the
 * destination has not answered (TLS 1.3 early data, a compatibility
 * ChangeCipherSpec). */
#define LATER_MAX 8

/*
 * The program's next flight, once it has read a ServerHello: a plaintext
 * alert record there is its refusal of the handshake (TLS 1.2 sends the
 * certificate in the clear, and a client that does not trust it says
 * so, unknown_ca; TLS 1.3 encrypts that alert, which then goes unseen).
 * Anything else: the handshake goes on, and nothing more is looked at.
 */
static void
next_flight(struct fd_entry *e, struct evid *v, const struct iovec *iov,
	    size_t n, size_t r)
{
	uint8_t b[7];
	size_t i, l, have = 0, need;
	struct tlspeek_answer a;
	int in = __atomic_load_n(&v->in, __ATOMIC_ACQUIRE);

	if (in == EVID_IN_UNSEEN || in == EVID_IN_PARTIAL) {
		if (++v->later >= LATER_MAX)
			stop(e, EVID_PEEK_OUT);
		return;
	}
	if (in == EVID_IN_HELLO) {
		for (i = 0; i < n && have < sizeof(b) && have < r; i++) {
			l = iov[i].iov_len < sizeof(b) - have ?
			    iov[i].iov_len : sizeof(b) - have;
			if (l > r - have)
				l = r - have;
			memcpy(b + have, iov[i].iov_base, l);
			have += l;
		}
		if (have > 0 && b[0] == 21 &&
		    tlspeek_server(b, have, &a, &need) == PARSE_OK &&
		    a.kind == TLSPEEK_ALERT) {
			v->prog_level = a.level;
			v->prog_desc = a.desc;
			v->prog_alert = true;
		}
	}
	stop(e, EVID_PEEK_OUT);
}

/* Keep the r bytes just sent for the next look; too many: no TLS. */
static void
keep(struct evid *v, const struct iovec *iov, size_t n, size_t r)
{
	size_t i, l;

	if (v->out_buf == NULL)
		v->out_buf = malloc(TLSPEEK_MAX);
	if (v->out_buf == NULL || v->out_have + r > TLSPEEK_MAX) {
		v->out = EVID_OUT_NONE;
		return;
	}
	for (i = 0; i < n && r > 0; i++) {
		l = iov[i].iov_len < r ? iov[i].iov_len : r;
		memcpy(v->out_buf + v->out_have, iov[i].iov_base, l);
		v->out_have += l;
		r -= l;
	}
	v->out = EVID_OUT_PARTIAL;
}

void
evid_sent(int fd, struct fd_entry *e, const struct iovec *iov, size_t n,
	  ssize_t r)
{
	struct tlspeek_seg s[SEGS_MAX + 1];
	struct evid *v = e->evid;
	struct tlspeek_hello h;
	size_t used, need, k;
	int saved = errno, rc;

	(void)fd;
	if (v == NULL || v->out == EVID_OUT_NONE) {
		stop(e, EVID_PEEK_OUT);
		return;
	}
	if (r <= 0 || !claim(&v->busy_out))
		return;
	if (v->out == EVID_OUT_HELLO) {
		next_flight(e, v, iov, n, (size_t)r);
	} else {
		k = pieces(s, v, iov, n, (size_t)r);
		rc = tlspeek_client(s, k, &h, &used, &need);
		if (rc == PARSE_MORE)
			keep(v, iov, n, (size_t)r);
		if (rc != PARSE_MORE || v->out == EVID_OUT_NONE)
			decide_out(e, v, rc == PARSE_MORE ? PARSE_ERR : rc, &h);
		if (v->out == EVID_OUT_HELLO && v->sni_mismatch)
			evid_mismatch(v, false);
	}
	unclaim(&v->busy_out);
	errno = saved;
}

bool
evid_strict(void)
{
	const struct shim *s = shim_get();

	return s->cfg != NULL && s->cfg->sni_must_match;
}

int
evid_sending(int fd, struct fd_entry *e, const struct iovec *iov, size_t n)
{
	struct tlspeek_seg s[SEGS_MAX + 1];
	struct evid *v = e->evid;
	struct tlspeek_hello h;
	size_t used, need, k, i, total = 0;
	int saved = errno, rc, ret = 0;

	if (v == NULL || v->out >= EVID_OUT_HELLO || !claim(&v->busy_out))
		return 0;
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	k = pieces(s, v, iov, n, total < TLSPEEK_MAX ? total : TLSPEEK_MAX);
	rc = tlspeek_client(s, k, &h, &used, &need);
	if (rc != PARSE_MORE)
		decide_out(e, v, rc, &h);
	if (rc == PARSE_OK && v->sni_mismatch) {
		/* as a reset from the peer leaves a socket: this call fails
		 * with ECONNRESET, later writes EPIPE, reads see the end */
		real_shutdown(fd, SHUT_RDWR);
		v->refused = true;
		evid_mismatch(v, true);
		ret = -ECONNRESET;
	}
	unclaim(&v->busy_out);
	errno = saved;
	return ret;
}

void
evid_received(int fd, struct fd_entry *e, const struct iovec *iov, size_t n,
	      ssize_t r, int flags)
{
	struct evid *v = e->evid;
	struct tlspeek_answer a;
	size_t i, l, left = r > 0 ? (size_t)r : 0, need;
	int saved = errno, rc;

	(void)fd;
	if (v == NULL) {
		stop(e, EVID_PEEK_IN);
		return;
	}
	if (r <= 0 || (flags & (MSG_PEEK | MSG_TRUNC | MSG_OOB |
				MSG_ERRQUEUE)) || !claim(&v->busy_in))
		return;
	if (__atomic_load_n(&v->first_ms, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&v->first_ms, tun_now_ms(), __ATOMIC_RELEASE);
	for (i = 0; i < n && left > 0 && v->in_have < 7; i++) {
		l = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (l > 7 - v->in_have)
			l = 7 - v->in_have;
		memcpy(v->in_buf + v->in_have, iov[i].iov_base, l);
		v->in_have += l;
		left -= l;
	}
	rc = tlspeek_server(v->in_buf, v->in_have, &a, &need);
	if (rc == PARSE_MORE) {
		v->in = EVID_IN_PARTIAL;
	} else if (rc == PARSE_ERR) {
		v->in = EVID_IN_OTHER;
	} else if (a.kind == TLSPEEK_ALERT) {
		v->alert_level = a.level;
		v->alert_desc = a.desc;
		v->in = EVID_IN_ALERT;
	} else {
		v->in = EVID_IN_HELLO;
	}
	if (v->in != EVID_IN_PARTIAL)
		stop(e, EVID_PEEK_IN);
	unclaim(&v->busy_in);
	errno = saved;
}
