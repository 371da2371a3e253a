/*
 * fuzz_tlspeek.c - the TLS peeker on the same bytes as a ClientHello and
 * as a server's reply, with parse.h's contract checked: a hello split into
 * pieces anywhere (the split points taken from the input) parses as the
 * whole does; a prefix of a hello that parses asks for more; the reply's
 * need stays within its 7 bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlspeek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void
fuzz_client(const uint8_t *data, size_t size)
{
	struct tlspeek_seg one = { data, size }, three[3];
	struct tlspeek_hello h, h2;
	size_t used = 0, need = 0, used2 = 0, need2 = 0, a, b;
	int rc, rc2;

	rc = tlspeek_client(&one, 1, &h, &used, &need);
	if (rc == PARSE_MORE)
		CHECK(need >= 1 && size + need <= TLSPEEK_MAX + 5);
	if (rc == PARSE_OK) {
		CHECK(used >= 5 + 4 + 38 && used <= size);
		CHECK(strlen(h.sni) <= TLSPEEK_SNI_MAX && printable(h.sni));
		CHECK(strlen(h.alpn) < TLSPEEK_ALPN_MAX);
		/* the hello alone parses the same; one byte less does not */
		one.len = used;
		CHECK(tlspeek_client(&one, 1, &h2, &used2, &need2) ==
		      PARSE_OK && used2 == used &&
		      strcmp(h.sni, h2.sni) == 0 &&
		      strcmp(h.alpn, h2.alpn) == 0);
		one.len = used - 1;
		CHECK(tlspeek_client(&one, 1, &h2, &used2, &need2) ==
		      PARSE_MORE);
	}
	/* three pieces, split where the first two bytes say */
	a = size > 0 ? data[0] % (size + 1) : 0;
	b = size > 1 ? a + data[1] % (size - a + 1) : a;
	three[0] = (struct tlspeek_seg){ data, a };
	three[1] = (struct tlspeek_seg){ data + a, b - a };
	three[2] = (struct tlspeek_seg){ data + b, size - b };
	rc2 = tlspeek_client(three, 3, &h2, &used2, &need2);
	CHECK(rc2 == rc);
	if (rc == PARSE_OK)
		CHECK(used2 == used && strcmp(h.sni, h2.sni) == 0 &&
		      strcmp(h.alpn, h2.alpn) == 0 && h.version == h2.version);
	if (rc == PARSE_MORE)
		CHECK(need2 == need);
}

static void
fuzz_server(const uint8_t *data, size_t size)
{
	struct tlspeek_answer ans;
	size_t need = 0;
	int rc;

	rc = tlspeek_server(data, size, &ans, &need);
	if (rc == PARSE_MORE)
		CHECK(need >= 1 && size + need <= 7);
	if (rc == PARSE_OK) {
		CHECK(ans.kind == TLSPEEK_SERVER_HELLO ||
		      ans.kind == TLSPEEK_ALERT);
		if (ans.kind == TLSPEEK_ALERT)
			CHECK(tlspeek_level_str(ans.level) != NULL);
		(void)tlspeek_alert_str(ans.desc);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_client(data, size);
	fuzz_server(data, size);
	return 0;
}
