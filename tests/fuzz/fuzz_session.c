/*
 * fuzz_session.c - sess_parse on arbitrary bytes (the policy a wrapped
 * process reads from an inherited memfd).
 *
 * Checks: parsing reads only data[0..size); every string it hands back
 * lies inside the buffer and ends at its NUL, the image (the compiled
 * rules, not looked into here: fuzz_rulesimg) ends where the buffer does;
 * a policy that parses builds back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sessfmt.h"

static void
inside(const char *s, const uint8_t *data, size_t size)
{
	size_t len;

	if (s < (const char *)data || s >= (const char *)data + size)
		abort();
	len = strlen(s);
	if (s + len >= (const char *)data + size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sess_view v;
	uint8_t *back;
	size_t n;

	if (sess_parse(data, size, &v) != 0)
		return 0;
	inside(v.name, data, size);
	inside(v.proxies, data, size);
	inside(v.pool, data, size);
	inside(v.text, data, size);
	if (strlen(v.text) != v.text_len)
		abort();
	if (v.image_len > 0 &&
	    ((const uint8_t *)v.image < data ||
	     (const uint8_t *)v.image + v.image_len != data + size))
		abort();
	n = sess_size_image(sess_size(v.name, v.proxies, v.pool, v.text_len),
			    v.image_len);
	back = malloc(n);
	if (back == NULL)
		return 0;
	/* the header's padding is not kept: compare from a rebuilt copy */
	if (n != size || sess_build(&v, back, n) != n ||
	    sess_parse(back, n, &v) != 0)
		abort();
	free(back);
	return 0;
}
