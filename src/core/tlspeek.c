/*
 * tlspeek.c - the first bytes of a TLS connection, read passively
 * (tlspeek.h).  Pure.
 *
 * The ClientHello is read through a cursor that walks the pieces the
 * caller saw (writes, iovecs) and steps over record headers, so a hello
 * split across writes or records needs no copy:
 *
 *   record:    type(22) | version(3,x) | length(2) | fragment...
 *   handshake: type(1)  | length(3) | legacy_version(2) | random(32) |
 *              session_id<0..32> | cipher_suites<2..2^16-2> |
 *              compression<1..2^8-1> | extensions<0..2^16-1>
 *   extension: type(2) | length(2) | data
 *     server_name (0):  list<2> of { name_type(1) | name<2> }   RFC 6066 §3
 *     ALPN (16):        list<2> of { name<1> }                   RFC 7301 §3.1
 */
#include "tlspeek.h"

#include <stdbool.h>
#include <string.h>

#define REC_HANDSHAKE 22
#define REC_ALERT 21
#define REC_FRAG_MAX 16384		/* RFC 8446 §5.1 */
#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define EXT_SERVER_NAME 0
#define EXT_ALPN 16

/* A cursor over the handshake bytes inside seg[], record headers
 * skipped.  Reads fail once the input ends (short: how many bytes the
 * failed read lacked), at a record that is not a handshake's (bad), or
 * past TLSPEEK_MAX (over). */
struct hsr {
	const struct tlspeek_seg *seg;
	size_t nseg, si, so;
	size_t raw;			/* bytes taken, headers included */
	size_t rec;			/* handshake bytes left in the record */
	size_t lim;			/* bytes left in the current field */
	size_t short_by;
	bool bad, over;
};

static bool
raw_u8(struct hsr *r, uint8_t *v)
{
	while (r->si < r->nseg && r->so >= r->seg[r->si].len) {
		r->si++;
		r->so = 0;
	}
	if (r->raw >= TLSPEEK_MAX) {
		r->over = true;
		return false;
	}
	if (r->si >= r->nseg)
		return false;
	*v = r->seg[r->si].p[r->so++];
	r->raw++;
	return true;
}

/* The next record header: it must carry handshake bytes. */
static bool
next_record(struct hsr *r)
{
	uint8_t h[5];
	size_t i, len;

	for (i = 0; i < sizeof(h); i++) {
		if (!raw_u8(r, &h[i])) {
			r->short_by = sizeof(h) - i;
			return false;
		}
		/* fail at the first byte that cannot be a handshake record:
		 * "GET /" is told apart after one byte */
		if ((i == 0 && h[0] != REC_HANDSHAKE) || (i == 1 && h[1] != 3) ||
		    (i == 2 && h[2] > 4)) {
			r->bad = true;
			return false;
		}
	}
	len = (size_t)h[3] << 8 | h[4];
	if (len == 0 || len > REC_FRAG_MAX) {
		r->bad = true;
		return false;
	}
	r->rec = len;
	return true;
}

/* n bytes of the handshake (into dst unless NULL), within r->lim. */
static bool
hs_read(struct hsr *r, uint8_t *dst, size_t n)
{
	size_t i;
	uint8_t v;

	if (n > r->lim) {
		r->bad = true;
		return false;
	}
	for (i = 0; i < n; i++) {
		if (r->rec == 0 && !next_record(r)) {
			if (r->short_by > 0)
				r->short_by += n - i;
			return false;
		}
		if (!raw_u8(r, &v)) {
			r->short_by = n - i;
			return false;
		}
		r->rec--;
		if (dst != NULL)
			dst[i] = v;
	}
	r->lim -= n;
	return true;
}

static bool
hs_num(struct hsr *r, size_t n, size_t *v)
{
	uint8_t b[3];
	size_t i;

	if (!hs_read(r, b, n))
		return false;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return true;
}

/* A vector's length prefix (n bytes), which must fit in what is left. */
static bool
hs_vec(struct hsr *r, size_t n, size_t *len)
{
	if (!hs_num(r, n, len))
		return false;
	if (*len > r->lim) {
		r->bad = true;
		return false;
	}
	return true;
}

/* Text from the wire for a log field: printable ASCII kept, else '?'. */
static void
put_text(char *dst, size_t *at, size_t cap, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && *at + 1 < cap; i++)
		dst[(*at)++] = s[i] > 0x20 && s[i] < 0x7f && s[i] != ',' ?
			       (char)s[i] : '?';
	dst[*at] = '\0';
}

/* server_name's data (r->lim = its length): the first host_name. */
static bool
ext_sni(struct hsr *r, struct tlspeek_hello *h)
{
	uint8_t name[TLSPEEK_SNI_MAX], type;
	size_t list, len, at = 0, end;

	if (!hs_vec(r, 2, &list))
		return false;
	end = r->lim - list;
	while (r->lim > end) {
		if (!hs_read(r, &type, 1) || !hs_vec(r, 2, &len))
			return false;
		if (type != 0 || h->sni[0] != '\0' || len > sizeof(name) ||
		    len == 0) {
			if (!hs_read(r, NULL, len))
				return false;
			continue;
		}
		if (!hs_read(r, name, len))
			return false;
		put_text(h->sni, &at, sizeof(h->sni), name, len);
	}
	if (r->lim != end)
		r->bad = true;	/* an entry ran past the list */
	return !r->bad;
}

/* ALPN's data: the protocols, comma-separated, cut to fit. */
static bool
ext_alpn(struct hsr *r, struct tlspeek_hello *h)
{
	uint8_t proto[255];
	size_t list, len, at = 0, end;

	if (!hs_vec(r, 2, &list))
		return false;
	end = r->lim - list;
	while (r->lim > end) {
		if (!hs_vec(r, 1, &len) || !hs_read(r, proto, len))
			return false;
		if (at > 0 && at + 2 < sizeof(h->alpn)) {
			h->alpn[at++] = ',';
			h->alpn[at] = '\0';
		}
		put_text(h->alpn, &at, sizeof(h->alpn), proto, len);
	}
	if (r->lim != end)
		r->bad = true;
	return !r->bad;
}

/* The extensions block (r->lim: what is left of the hello). */
static bool
extensions(struct hsr *r, struct tlspeek_hello *h)
{
	size_t total, type, len, rest;
	bool ok;

	if (r->lim == 0)
		return true;		/* none (TLS 1.2 allows it) */
	if (!hs_vec(r, 2, &total))
		return false;
	if (total != r->lim) {
		r->bad = true;
		return false;
	}
	while (r->lim > 0) {
		if (!hs_num(r, 2, &type) || !hs_vec(r, 2, &len))
			return false;
		rest = r->lim - len;
		r->lim = len;
		if (type == EXT_SERVER_NAME)
			ok = ext_sni(r, h);
		else if (type == EXT_ALPN)
			ok = ext_alpn(r, h);
		else
			ok = hs_read(r, NULL, len);
		if (!ok)
			return false;
		if (r->lim != 0) {
			r->bad = true;	/* the data outran its own list */
			return false;
		}
		r->lim = rest;
	}
	return true;
}

static bool
hello(struct hsr *r, struct tlspeek_hello *h)
{
	uint8_t type;
	size_t len, v;

	r->lim = 4;
	if (!hs_read(r, &type, 1))
		return false;
	if (type != HS_CLIENT_HELLO) {
		r->bad = true;
		return false;
	}
	if (!hs_num(r, 3, &len))
		return false;
	if (len > TLSPEEK_MAX) {
		r->over = true;
		return false;
	}
	r->lim = len;
	if (!hs_num(r, 2, &v) || !hs_read(r, NULL, 32))
		return false;
	h->version = (uint16_t)v;
	if (!hs_vec(r, 1, &v) || v > 32 || !hs_read(r, NULL, v))
		return false;
	if (!hs_vec(r, 2, &v) || v < 2 || v % 2 != 0 || !hs_read(r, NULL, v))
		return false;
	if (!hs_vec(r, 1, &v) || v < 1 || !hs_read(r, NULL, v))
		return false;
	return extensions(r, h);
}

int
tlspeek_client(const struct tlspeek_seg *seg, size_t nseg,
	       struct tlspeek_hello *h, size_t *used, size_t *need)
{
	struct hsr r;

	memset(&r, 0, sizeof(r));
	r.seg = seg;
	r.nseg = nseg;
	memset(h, 0, sizeof(*h));
	if (hello(&r, h)) {
		*used = r.raw;
		return PARSE_OK;
	}
	if (r.bad || r.over || r.short_by == 0)
		return PARSE_ERR;
	*need = r.short_by;
	return PARSE_MORE;
}

/*
 * The reply's first record, RFC 8446 §5.1 and §6:
 *   handshake: 22 | 3,x | length(2) | 2 (server_hello) ...
 *   alert:     21 | 3,x | length(2) | level(1) | description(1)
 */
int
tlspeek_server(const uint8_t *p, size_t len, struct tlspeek_answer *a,
	       size_t *need)
{
	size_t want, rlen;

	memset(a, 0, sizeof(*a));
	if (len >= 1 && p[0] != REC_HANDSHAKE && p[0] != REC_ALERT)
		return PARSE_ERR;
	if ((len >= 2 && p[1] != 3) || (len >= 3 && p[2] > 4))
		return PARSE_ERR;
	if (len >= 5) {
		rlen = (size_t)p[3] << 8 | p[4];
		if (rlen > REC_FRAG_MAX + 2048 ||
		    (p[0] == REC_ALERT && rlen < 2) ||
		    (p[0] == REC_HANDSHAKE && rlen < 4))
			return PARSE_ERR;
	}
	want = p != NULL && len >= 1 && p[0] == REC_ALERT ? 7 : 6;
	if (len < want) {
		*need = want - len;
		return PARSE_MORE;
	}
	if (p[0] == REC_HANDSHAKE) {
		if (p[5] != HS_SERVER_HELLO)
			return PARSE_ERR;
		a->kind = TLSPEEK_SERVER_HELLO;
		return PARSE_OK;
	}
	if (p[5] != 1 && p[5] != 2)
		return PARSE_ERR;
	a->kind = TLSPEEK_ALERT;
	a->level = p[5];
	a->desc = p[6];
	return PARSE_OK;
}

const char *
tlspeek_level_str(uint8_t level)
{
	return level == 1 ? "warning" : level == 2 ? "fatal" : NULL;
}

static const struct {
	uint8_t desc;
	const char *name;
} alerts[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },		/* RFC 5246 */
	{ 22, "record_overflow" },
	{ 30, "decompression_failure" },	/* RFC 5246 */
	{ 40, "handshake_failure" },
	{ 41, "no_certificate" },		/* SSL 3.0 */
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 60, "export_restriction" },		/* RFC 5246 */
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },	/* RFC 7507 */
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 111, "certificate_unobtainable" },	/* RFC 6066 */
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value" },	/* RFC 6066 */
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

const char *
tlspeek_alert_str(uint8_t desc)
{
	size_t i;

	for (i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		if (alerts[i].desc == desc)
			return alerts[i].name;
	return NULL;
}
