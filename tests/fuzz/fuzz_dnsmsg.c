/*
 * fuzz_dnsmsg.c - the DNS message parser (a res_send() query) and the
 * name functions.  The input is a message; it is also read as a name.
 * Invariants: a parsed question round-trips through text and the reply
 * builder, and text names round-trip through wire form.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
fuzz_message(const uint8_t *data, size_t size)
{
	static const uint8_t a4[4] = { 240, 0, 0, 1 };
	struct dnsmsg_rr rr = { .type = DNSMSG_A, .ttl = 1, .rdata = a4,
				.rdlen = sizeof(a4) };
	struct dnsmsg_query q, back, again;
	uint8_t out[DNSMSG_HDR + DNSMSG_WIRE_MAX + 4 + 16 * 16];
	size_t used = 0, used2 = 0;
	int n;

	if (dnsmsg_parse_query(data, size, &used, &q) != PARSE_OK)
		return;
	CHECK(used >= DNSMSG_HDR + 5 && used <= size);
	CHECK(q.qname_len >= 1 && q.qname_len <= DNSMSG_WIRE_MAX);
	CHECK(q.qname[q.qname_len - 1] == 0);
	CHECK(memchr(q.name, '\0', sizeof(q.name)) != NULL);
	/* the text form reads back to the same wire name */
	CHECK(dnsmsg_query_init(&again, q.name, q.qtype, q.qclass, q.id) == 0);
	CHECK(again.qname_len == q.qname_len &&
	      memcmp(again.qname, q.qname, q.qname_len) == 0);
	/* a reply to it parses as the same question */
	n = dnsmsg_build_reply(out, sizeof(out), &q, DNSMSG_NOERROR, &rr, 1);
	CHECK(n > 0);
	CHECK(dnsmsg_parse_query(out, (size_t)n, &used2, &back) == PARSE_OK);
	CHECK(back.id == q.id && back.qtype == q.qtype &&
	      strcmp(back.name, q.name) == 0);
	CHECK(used2 + 16 == (size_t)n);
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	char text[600], back[DNSMSG_TEXT_MAX + 1];
	uint8_t w[DNSMSG_WIRE_MAX], w2[DNSMSG_WIRE_MAX], addr[16];
	int n, m, fam;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)dnsmsg_hnok(text);
	if (dnsmsg_ptr_addr(text, &fam, addr) == 0)
		CHECK(fam == 2 || fam == 10);
	n = dnsmsg_name_pton(text, w, sizeof(w));
	if (n < 0)
		return;
	CHECK(n >= 1 && n <= DNSMSG_WIRE_MAX && w[n - 1] == 0);
	CHECK(dnsmsg_name_ntop(w, (size_t)n, back, sizeof(back)) >= 0);
	m = dnsmsg_name_pton(back, w2, sizeof(w2));
	CHECK(m == n && memcmp(w, w2, (size_t)n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_message(data, size);
	fuzz_name(data, size);
	return 0;
}
