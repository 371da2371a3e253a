/*
 * fuzz_relaymsg.c - the TLS relay's two lines (relaymsg.h) on arbitrary
 * bytes: the shim's request, parsed by proxywrap, and the relay's answer,
 * parsed by the library.
 *
 * Checks: only data[0..size) is read; a line that parses ends inside the
 * data with CRLF; a request's fields rebuild into the same line; an
 * answer's text is printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peername.h"
#include "relaymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	char line[RELAY_LINE_MAX + 16];
	struct relay_req rq;
	struct relay_reply rp;
	size_t used = 0, need = 0, i;
	int n;

	if (relay_parse_req(p, size, &used, &need, &rq) == PARSE_OK) {
		CHECK(used >= 2 && used <= size && p[used - 2] == '\r' &&
		      p[used - 1] == '\n');
		CHECK(strlen(rq.token) == RELAY_TOKEN_LEN);
		CHECK(rq.peerlen == 0 ||
		      peer_is_kernel_form(&rq.peer, rq.peerlen));
		n = relay_build_req(line, sizeof(line), rq.token, rq.index,
				    rq.name, &rq.peer, rq.peerlen);
		/* the index may have been written with leading zeros */
		CHECK(n > 0 && (size_t)n <= used);
	}
	if (relay_parse_reply(p, size, &used, &need, &rp) == PARSE_OK) {
		CHECK(used >= 2 && used <= size && p[used - 1] == '\n');
		CHECK(rp.code >= 100 && rp.code <= 999);
		for (i = 0; rp.text[i] != '\0'; i++)
			CHECK(rp.text[i] >= 0x20 && rp.text[i] < 0x7f);
	}
	return 0;
}
