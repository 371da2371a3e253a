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
