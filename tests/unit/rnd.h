/*
 * rnd.h - for the unit tests that draw random rule files: a repeatable
 * random sequence (xorshift: the same every run, so a failure is
 * repeatable) and an address cut to a prefix length.
 */
#ifndef PROXYWRAP_TEST_RND_H
#define PROXYWRAP_TEST_RND_H

#include <stdint.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* 0..n-1 */
static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Clear the bits of a[0..len) past the first plen. */
static void
mask_prefix(uint8_t *a, int len, int plen)
{
	int i;

	for (i = 0; i < len; i++)
		if (plen <= i * 8)
			a[i] = 0;
		else if (plen < i * 8 + 8)
			a[i] = (uint8_t)(a[i] & (0xff00 >> (plen - i * 8)));
}

#endif
