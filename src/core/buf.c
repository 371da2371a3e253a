/*
 * buf.c - bounded reader and writer over byte buffers.
 *
 * The reader never moves past len: a read that does not fit fails and
 * leaves the cursor where it was, so a parser can report PARSE_MORE and be
 * called again with more bytes.  The writer remembers an overflow so that a
 * builder can emit every field and check once at the end (haproxy's
 * make_proxy_line does the same with its remaining-length arithmetic).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "buf.h"

bool
bufr_u8(struct bufr *b, uint8_t *v)
{
	if (bufr_left(b) < 1)
		return false;
	*v = b->p[b->off];
	b->off++;
	return true;
}

bool
bufr_be16(struct bufr *b, uint16_t *v)
{
	if (bufr_left(b) < 2)
		return false;
	*v = (uint16_t)((unsigned)b->p[b->off] << 8 | b->p[b->off + 1]);
	b->off += 2;
	return true;
}

bool
bufr_bytes(struct bufr *b, void *dst, size_t n)
{
	if (bufr_left(b) < n)
		return false;
	if (n > 0)
		memcpy(dst, b->p + b->off, n);
	b->off += n;
	return true;
}

bool
bufr_skip(struct bufr *b, size_t n)
{
	if (bufr_left(b) < n)
		return false;
	b->off += n;
	return true;
}

void
bufw_u8(struct bufw *w, uint8_t v)
{
	bufw_bytes(w, &v, 1);
}

void
bufw_be16(struct bufw *w, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)(v & 0xff) };

	bufw_bytes(w, be, sizeof(be));
}

void
bufw_bytes(struct bufw *w, const void *src, size_t n)
{
	/* Once full, stay full: a later short field must not slip in. */
	if (w->overflow || w->cap - w->off < n) {
		w->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->off, src, n);
	w->off += n;
}

int
bufw_result(const struct bufw *w)
{
	if (w->overflow || w->off > INT_MAX)
		return -ENOSPC;
	return (int)w->off;
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0.  s is
 * NUL-terminated: a NUL ends a sequence early and makes it ill-formed. */
size_t
buf_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;	/* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t
buf_escape(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char e[5];
	size_t len = 0, elen, u;

	if (n == 0)
		return 0;
	while (*p != '\0') {
		u = *p >= 0x80 ? buf_utf8_len(p) : 1;
		/* C1 controls (U+0080..U+009F) act on terminals too */
		if (u == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			u = 0;
		if (u == 1 && *p >= 0x20 && *p != 0x7f) {
			e[0] = (char)*p;
			elen = 1;
		} else if (u > 1) {
			elen = 0;
		} else {
			e[0] = '\\';
			elen = 2;
			if (*p == '\n')
				e[1] = 'n';
			else if (*p == '\r')
				e[1] = 'r';
			else if (*p == '\t')
				e[1] = 't';
			else {
				e[1] = 'x';
				e[2] = hex[*p >> 4];
				e[3] = hex[*p & 0xf];
				elen = 4;
			}
			u = 1;
		}
		if (elen == 0) {
			/* a whole UTF-8 sequence, or nothing of it */
			if (n - 1 - len < u)
				break;
			memcpy(out + len, p, u);
			len += u;
		} else {
			if (n - 1 - len < elen)
				break;
			memcpy(out + len, e, elen);
			len += elen;
		}
		p += u;
	}
	out[len] = '\0';
	return len;
}

int
buf_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
