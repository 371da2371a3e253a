/*
 * fuzz_execcheck.c - exec_parse on arbitrary bytes.
 *
 * Checks: it reads only data[0..size); a script's interpreter is a
 * NUL-terminated string shorter than EXEC_INTERP_MAX; PARSE_MORE asks for
 * at least one byte, and the same bytes padded by exactly that many give
 * a verdict (the program headers are then all there).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execcheck.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exec_image img;
	size_t need = 0;
	uint8_t *big;
	int rc;

	rc = exec_parse(data, size, &need, &img);
	if (rc == PARSE_ERR && size != 0)
		abort();
	if (rc == PARSE_OK && img.kind == EXEC_SCRIPT &&
	    (img.interp[0] == '\0' ||
	     strnlen(img.interp, sizeof(img.interp)) >= sizeof(img.interp)))
		abort();
	if (rc != PARSE_MORE)
		return 0;
	if (need == 0 || need > (1u << 22))
		abort();
	big = calloc(1, size + need);
	if (big == NULL)
		return 0;
	memcpy(big, data, size);
	if (exec_parse(big, size + need, &need, &img) != PARSE_OK)
		abort();
	free(big);
	return 0;
}
