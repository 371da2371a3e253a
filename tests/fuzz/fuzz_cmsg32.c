/*
 * fuzz_cmsg32.c - cmsg32_to_native on arbitrary bytes, as a 32-bit
 * program's control buffer may hold anything.
 *
 * Checks: nothing is read past the bytes; the measured length is the one
 * converted into, and at most twice the input's (a 12-byte header
 * becomes a 16-byte one, payloads are copied, alignment grows by 7 at
 * the most per message of at least 12 bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmsg32.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t need, got;
	uint8_t *out;

	if (cmsg32_to_native(data, size, NULL, 0, &need) != 0)
		return 0;
	if (need > 2 * size)
		abort();
	out = malloc(need);
	if (out == NULL)
		return 0;
	if (cmsg32_to_native(data, size, out, need, &got) != 0 || got != need)
		abort();
	free(out);
	return 0;
}
