/*
 * fuzz_socks5.c - every SOCKS5 parser on the same bytes, with the
 * parse.h contract checked, and round trips: a reply or UDP header that
 * parses is rebuilt from its values and must parse back to them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static bool
addr_equal(const struct socks5_addr *a, const struct socks5_addr *b)
{
	return a->atyp == b->atyp && a->port == b->port &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
	       strcmp(a->name, b->name) == 0;
}

/* Two-byte replies: MORE asks for the rest, OK uses exactly two. */
static void
fuzz_short_replies(const uint8_t *data, size_t size)
{
	size_t used = 0, need = 0;
	uint8_t method;
	bool ok;
	int rc;

	rc = socks5_parse_method(data, size, &used, &need, &method);
	if (rc == PARSE_MORE)
		CHECK(need >= 1 && size + need == 2);
	else if (rc == PARSE_OK)
		CHECK(used == 2 && data[0] == SOCKS5_VER && method == data[1]);

	rc = socks5_parse_auth(data, size, &used, &need, &ok);
	if (rc == PARSE_MORE)
		CHECK(need >= 1 && size + need == 2);
	else if (rc == PARSE_OK)
		CHECK(used == 2 && ok == (data[1] == 0));
}

/*
 * A request has the reply's layout with CMD where REP is, so a request
 * built from a parsed reply's address parses back as a reply.
 */
static void
fuzz_reply(const uint8_t *data, size_t size)
{
	struct socks5_reply r, back;
	uint8_t req[SOCKS5_REPLY_MAX];
	size_t used = 0, need = 0, used2 = 0;
	int rc, n;

	rc = socks5_parse_reply(data, size, &used, &need, &r);
	if (rc == PARSE_MORE) {
		CHECK(need >= 1);
		CHECK(size >= 5 || need == 5 - size);
		CHECK(size + need <= SOCKS5_REPLY_MAX);
		return;
	}
	if (rc != PARSE_OK)
		return;
	CHECK(used <= size && used <= SOCKS5_REPLY_MAX && used >= 7);
	CHECK(socks5_parse_reply(data, used, &used2, &need, &back) ==
	      PARSE_OK && used2 == used && addr_equal(&r.bnd, &back.bnd));
	(void)socks5_rep_str(r.rep);

	n = socks5_build_request(req, sizeof(req), SOCKS5_CMD_CONNECT, &r.bnd);
	if (n < 0) {
		/* Only an empty name is readable but not writable. */
		CHECK(r.bnd.atyp == SOCKS5_ATYP_NAME && r.bnd.name[0] == '\0');
		return;
	}
	CHECK(socks5_parse_reply(req, (size_t)n, &used2, &need, &back) ==
	      PARSE_OK);
	CHECK(used2 == (size_t)n && back.rep == SOCKS5_CMD_CONNECT);
	CHECK(addr_equal(&r.bnd, &back.bnd));
}

static void
fuzz_udp(const uint8_t *data, size_t size)
{
	struct socks5_addr src, back;
	uint8_t hdr[SOCKS5_REPLY_MAX], frag, frag2;
	size_t hdrlen = 0, hdrlen2 = 0;
	int n;

	if (socks5_parse_udp_header(data, size, &hdrlen, &frag, &src) !=
	    PARSE_OK)
		return;
	CHECK(hdrlen <= size && hdrlen >= 7);
	/* whatever parses can be sent back (no empty names) */
	n = socks5_build_udp_header(hdr, sizeof(hdr), &src);
	CHECK(n > 0 && (size_t)n == hdrlen);
	CHECK(socks5_parse_udp_header(hdr, (size_t)n, &hdrlen2, &frag2,
				      &back) == PARSE_OK);
	CHECK(hdrlen2 == hdrlen && frag2 == 0 && addr_equal(&src, &back));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_short_replies(data, size);
	fuzz_reply(data, size);
	fuzz_udp(data, size);
	return 0;
}
