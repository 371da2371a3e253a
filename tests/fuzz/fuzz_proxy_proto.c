/*
 * fuzz_proxy_proto.c - the PROXY protocol parser with the parse.h contract
 * checked, and round trips: a TCP4/TCP6 header that parses is rebuilt in
 * its own version from the values read and must parse back to them (and,
 * for v1, to the same bytes: the spec allows one spelling per address).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static bool
addrs_equal(const struct pp_addrs *a, const struct pp_addrs *b)
{
	size_t n = a->src_family == AF_INET ? 4 : 16;

	return a->src_family == b->src_family &&
	       a->dst_family == b->dst_family &&
	       a->src_port == b->src_port && a->dst_port == b->dst_port &&
	       memcmp(a->src, b->src, n) == 0 && memcmp(a->dst, b->dst, n) == 0;
}

static void
round_trip(const uint8_t *data, const struct pp_header *h, size_t used)
{
	uint8_t out[PP_OUT_MAX];
	struct pp_header back;
	size_t used2 = 0, need = 0;
	int n;

	if (h->version == PP_V1)
		n = pp_build_v1(&h->a, out, sizeof(out));
	else
		n = pp_build_v2(&h->a, h->has_authority ? h->authority : NULL,
				out, sizeof(out));
	CHECK(n > 0);
	CHECK(pp_parse(out, (size_t)n, &used2, &need, &back) == PARSE_OK);
	CHECK(used2 == (size_t)n && back.version == h->version);
	CHECK(addrs_equal(&h->a, &back.a));
	CHECK(back.has_authority == (h->has_authority && h->authority_len));
	if (back.has_authority)
		CHECK(strcmp(back.authority, h->authority) == 0);
	/* IPv6 text has one canonical spelling only after inet_ntop, and
	 * inet_pton accepts others ("::0:1"): compare bytes for TCP4 only */
	if (h->version == PP_V1 && h->a.src_family == AF_INET)
		CHECK((size_t)n == used && memcmp(out, data, used) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h;
	size_t used = 0, need = 0;
	int rc;

	rc = pp_parse(data, size, &used, &need, &h);
	if (rc == PARSE_MORE) {
		CHECK(need >= 1);
		if (size == 0)
			return 0;
		CHECK(size >= PP_V2_HDR || data[0] == 'P' ||
		      size + need == PP_V2_HDR);
		CHECK(data[0] != 'P' || size < PP_V1_MAX);
		return 0;
	}
	if (rc != PARSE_OK)
		return 0;
	CHECK(used <= size && used >= 8);
	CHECK(h.version == PP_V1 || h.version == PP_V2);
	CHECK(h.version == PP_V1 ? used <= PP_V1_MAX : used >= PP_V2_HDR);
	if (!h.local && !h.unknown)
		round_trip(data, &h, used);
	return 0;
}
