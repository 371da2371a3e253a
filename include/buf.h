/*
 * buf.h - a bounded read cursor over bytes from the network or a file.
 * Every read checks the remaining length; nothing walks a raw pointer.
 */
#ifndef PROXYWRAP_BUF_H
#define PROXYWRAP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufr {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void
bufr_init(struct bufr *b, const uint8_t *p, size_t len)
{
	b->p = p;
	b->len = len;
	b->off = 0;
}

static inline size_t
bufr_left(const struct bufr *b)
{
	return b->len - b->off;
}

bool bufr_u8(struct bufr *b, uint8_t *v);
bool bufr_be16(struct bufr *b, uint16_t *v);
bool bufr_bytes(struct bufr *b, void *dst, size_t n);
bool bufr_skip(struct bufr *b, size_t n);

/* Bounded writer: writes fail (and stick) once the buffer is full. */
struct bufw {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool overflow;
};

static inline void
bufw_init(struct bufw *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->overflow = false;
}

void bufw_u8(struct bufw *w, uint8_t v);
void bufw_be16(struct bufw *w, uint16_t v);
void bufw_bytes(struct bufw *w, const void *src, size_t n);

/* Length written, or -ENOSPC after an overflow. */
int bufw_result(const struct bufw *w);

/* Length of the well-formed UTF-8 sequence at NUL-terminated s (1..4),
 * or 0 when it is not one. */
size_t buf_utf8_len(const unsigned char *s);

/*
 * Text for a human log line: s copied into out[0..n), NUL-terminated,
 * with control bytes written as \n, \r, \t or \xNN (ESC is \x1b),
 * and bytes that are not well-formed UTF-8, or C1 controls, as \xNN.
 * Cut before an escape or a character that would not fit.  Returns the
 * length written (without the NUL).
 */
size_t buf_escape(const char *s, char *out, size_t n);

/* The value of hex digit c (either case), or -1. */
int buf_hexval(int c);

#endif
