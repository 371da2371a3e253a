/*
 * fuzz_url.c - url_parse on arbitrary bytes.
 *
 * Checks: parsing reads only data[0..size); redaction never crashes and
 * never shows the password; a URL without credentials printed by
 * url_redact parses back to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

static void
fuzz_url_roundtrip(const struct proxy_url *u)
{
	struct proxy_url v;
	const char *err;
	char buf[URL_HOST_MAX * 2 + URL_CRED_MAX * 3 + 32];
	size_t n;

	n = url_redact(u, buf, sizeof(buf));
	if (n >= sizeof(buf) || strlen(buf) != n)
		abort();
	if (u->has_auth && u->pass[0] != '\0' &&
	    strstr(buf, ":***@") == NULL)
		abort();
	if (u->has_auth)
		return;
	if (url_parse(buf, n, &v, &err) != 0)
		abort();
	if (v.scheme != u->scheme || v.port != u->port ||
	    strcmp(v.host, u->host) != 0 || v.has_auth)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_url u;
	const char *err = NULL;
	char small[8];

	if (url_parse((const char *)data, size, &u, &err) != 0) {
		if (err == NULL)
			abort();
		return 0;
	}
	fuzz_url_roundtrip(&u);
	url_redact(&u, small, sizeof(small));
	url_redact(&u, NULL, 0);
	return 0;
}
