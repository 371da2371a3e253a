/*
 * test_proxy_proto.c - PROXY protocol builders against bytes written from
 * HAProxy's proxy-protocol.txt (sections 2.1 and 2.2), and the parser
 * split at every offset, followed by application bytes, and fed the
 * malformed headers the specification tells a receiver to reject.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "proxy_proto.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* What an SSH server sends first; after a header it belongs to the app. */
static const char app_bytes[] = "SSH-2.0-OpenSSH_9.2\r\n";

static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n > 0 ? n : 1);

	assert_non_null(d);
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static void
set_addr(int *fam, uint8_t *addr, const char *text)
{
	*fam = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(*fam, text, addr), 1);
}

static struct pp_addrs
addrs(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pp_addrs a;

	memset(&a, 0, sizeof(a));
	set_addr(&a.src_family, a.src, src);
	set_addr(&a.dst_family, a.dst, dst);
	a.src_port = sport;
	a.dst_port = dport;
	return a;
}

/* ---- v1, spec 2.1 ---- */

struct v1_case {
	const char *src, *dst;
	uint16_t sport, dport;
	const char *want;
};

static const struct v1_case v1_cases[] = {
	{ "198.18.0.1", "198.18.1.2", 56324, 443,
	  "PROXY TCP4 198.18.0.1 198.18.1.2 56324 443\r\n" },
	{ "0.0.0.0", "255.255.255.255", 0, 65535,
	  "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n" },
	/* the longest zero run becomes "::" */
	{ "2001:db8::1", "2001:db8:0:1:0:0:0:5", 1234, 80,
	  "PROXY TCP6 2001:db8::1 2001:db8:0:1::5 1234 80\r\n" },
	/* mixed families: both sides TCP6, the IPv4 one mapped */
	{ "198.18.0.1", "2001:db8::2", 40000, 8443,
	  "PROXY TCP6 ::ffff:198.18.0.1 2001:db8::2 40000 8443\r\n" },
	{ "2001:db8::7", "198.18.1.2", 1, 2,
	  "PROXY TCP6 2001:db8::7 ::ffff:198.18.1.2 1 2\r\n" },
	/* the longest TCP6 line: 104 bytes, under the spec's 107 */
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, 65535,
	  "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n" },
};

static void
test_v1_build(void **state)
{
	uint8_t out[PP_V1_MAX];
	size_t i, n, want;
	int len;

	(void)state;
	for (i = 0; i < ARRAY_LEN(v1_cases); i++) {
		const struct v1_case *c = &v1_cases[i];
		struct pp_addrs a = addrs(c->src, c->sport, c->dst, c->dport);

		want = strlen(c->want);
		len = pp_build_v1(&a, out, sizeof(out));
		assert_int_equal(len, (int)want);
		assert_memory_equal(out, c->want, want);
		for (n = 0; n < want; n++)
			assert_int_equal(pp_build_v1(&a, out, n), -ENOSPC);
	}
}

static void
test_build_bad_family(void **state)
{
	struct pp_addrs a = addrs("198.18.0.1", 1, "198.18.0.2", 2);
	uint8_t out[PP_OUT_MAX];
	char name[PP_AUTHORITY_MAX + 2];

	(void)state;
	a.src_family = AF_UNIX;
	assert_int_equal(pp_build_v1(&a, out, sizeof(out)), -EINVAL);
	assert_int_equal(pp_build_v2(&a, NULL, out, sizeof(out)), -EINVAL);
	a.src_family = AF_INET;
	a.dst_family = 0;
	assert_int_equal(pp_build_v1(&a, out, sizeof(out)), -EINVAL);
	a.dst_family = AF_INET;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(pp_build_v2(&a, name, out, sizeof(out)), -EINVAL);
	name[PP_AUTHORITY_MAX] = '\0';
	assert_int_equal(pp_build_v2(&a, name, out, sizeof(out)),
			 PP_V2_BUILD_MAX - 36 + 12);
}

/* ---- v2, spec 2.2 ---- */

#define SIG 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, \
	0x54, 0x0a

/* 198.18.0.1:56324 -> 198.18.1.2:443, PROXY, TCP over IPv4 */
static const uint8_t v2_tcp4[] = {
	SIG, 0x21, 0x11, 0x00, 0x0c,
	198, 18, 0, 1,  198, 18, 1, 2,  0xdc, 0x04,  0x01, 0xbb,
};

/* the same with AUTHORITY "www.example.test" (16 bytes) */
static const uint8_t v2_tcp4_auth[] = {
	SIG, 0x21, 0x11, 0x00, 0x0c + 3 + 16,
	198, 18, 0, 1,  198, 18, 1, 2,  0xdc, 0x04,  0x01, 0xbb,
	0x02, 0x00, 0x10,
	'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.',
	't', 'e', 's', 't',
};

/* [2001:db8::1]:1234 -> [2001:db8:0:1::5]:80, TCP over IPv6 */
static const uint8_t v2_tcp6[] = {
	SIG, 0x21, 0x21, 0x00, 0x24,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x05,
	0x04, 0xd2,  0x00, 0x50,
};

/* 198.18.0.1:40000 -> [2001:db8::2]:8443: mapped source, "db.test" */
static const uint8_t v2_mixed_auth[] = {
	SIG, 0x21, 0x21, 0x00, 0x24 + 3 + 7,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x9c, 0x40,  0x20, 0xfb,
	0x02, 0x00, 0x07, 'd', 'b', '.', 't', 'e', 's', 't',
};

struct v2_case {
	const char *src, *dst;
	uint16_t sport, dport;
	const char *authority;
	const uint8_t *want;
	size_t wantlen;
};

static const struct v2_case v2_cases[] = {
	{ "198.18.0.1", "198.18.1.2", 56324, 443, NULL,
	  v2_tcp4, sizeof(v2_tcp4) },
	{ "198.18.0.1", "198.18.1.2", 56324, 443, "",
	  v2_tcp4, sizeof(v2_tcp4) },
	{ "198.18.0.1", "198.18.1.2", 56324, 443, "www.example.test",
	  v2_tcp4_auth, sizeof(v2_tcp4_auth) },
	{ "2001:db8::1", "2001:db8:0:1::5", 1234, 80, NULL,
	  v2_tcp6, sizeof(v2_tcp6) },
	{ "198.18.0.1", "2001:db8::2", 40000, 8443, "db.test",
	  v2_mixed_auth, sizeof(v2_mixed_auth) },
};

static void
test_v2_build(void **state)
{
	uint8_t out[PP_V2_BUILD_MAX];
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(v2_cases); i++) {
		const struct v2_case *c = &v2_cases[i];
		struct pp_addrs a = addrs(c->src, c->sport, c->dst, c->dport);

		assert_int_equal(pp_build_v2(&a, c->authority, out,
					     sizeof(out)), (int)c->wantlen);
		assert_memory_equal(out, c->want, c->wantlen);
		for (n = 0; n < c->wantlen; n++)
			assert_int_equal(pp_build_v2(&a, c->authority, out, n),
					 -ENOSPC);
	}
}

/* ---- the parser ---- */

/*
 * Parse msg cut at every offset (MORE, and never asking past the end for
 * v2, whose length is known), whole (OK, used == len), and followed by
 * application bytes (OK, same used).
 */
static void
check_splits(const uint8_t *msg, size_t len, struct pp_header *h)
{
	uint8_t joined[512];
	size_t k, used, need;
	uint8_t *d;

	for (k = 0; k < len; k++) {
		d = dup_exact(msg, k);
		need = 0;
		assert_int_equal(pp_parse(d, k, &used, &need, h), PARSE_MORE);
		assert_true(need >= 1 && k + need <= len);
		if (msg[0] != 'P')
			assert_true(k < PP_V2_HDR || k + need == len);
		free(d);
	}
	assert_true(len + sizeof(app_bytes) <= sizeof(joined));
	memcpy(joined, msg, len);
	memcpy(joined + len, app_bytes, sizeof(app_bytes));
	used = 0;
	assert_int_equal(pp_parse(joined, len + sizeof(app_bytes), &used, &need,
				  h), PARSE_OK);
	assert_int_equal(used, len);
	assert_memory_equal(joined + len, app_bytes, sizeof(app_bytes));
	d = dup_exact(msg, len);
	used = 0;
	assert_int_equal(pp_parse(d, len, &used, &need, h), PARSE_OK);
	assert_int_equal(used, len);
	free(d);
}

static void
check_addrs(const struct pp_header *h, const char *src, uint16_t sport,
	    const char *dst, uint16_t dport)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	assert_false(h->local);
	assert_false(h->unknown);
	assert_int_equal(h->a.src_family, h->a.dst_family);
	assert_non_null(inet_ntop(h->a.src_family, h->a.src, s, sizeof(s)));
	assert_non_null(inet_ntop(h->a.dst_family, h->a.dst, d, sizeof(d)));
	assert_string_equal(s, src);
	assert_string_equal(d, dst);
	assert_int_equal(h->a.src_port, sport);
	assert_int_equal(h->a.dst_port, dport);
}

static void
test_parse_v1_built(void **state)
{
	struct pp_header h;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(v1_cases); i++) {
		const struct v1_case *c = &v1_cases[i];

		check_splits((const uint8_t *)c->want, strlen(c->want), &h);
		assert_int_equal(h.version, PP_V1);
	}
	check_splits(LIT("PROXY TCP4 198.18.0.1 198.18.1.2 56324 443\r\n"), &h);
	check_addrs(&h, "198.18.0.1", 56324, "198.18.1.2", 443);
	check_splits(LIT("PROXY TCP6 2001:db8::1 2001:db8:0:1::5 1234 80\r\n"),
		     &h);
	check_addrs(&h, "2001:db8::1", 1234, "2001:db8:0:1::5", 80);
	/* spec 2.1: UNKNOWN, with or without the rest of the line */
	check_splits(LIT("PROXY UNKNOWN\r\n"), &h);
	assert_true(h.unknown);
	check_splits(LIT("PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n"), &h);
	assert_true(h.unknown);
}

static void
test_parse_v2_built(void **state)
{
	struct pp_header h;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(v2_cases); i++) {
		const struct v2_case *c = &v2_cases[i];

		check_splits(c->want, c->wantlen, &h);
		assert_int_equal(h.version, PP_V2);
		if (c->authority != NULL && c->authority[0] != '\0') {
			assert_true(h.has_authority);
			assert_string_equal(h.authority, c->authority);
			assert_int_equal(h.authority_len, strlen(c->authority));
		} else {
			assert_false(h.has_authority);
		}
	}
	check_splits(v2_tcp4_auth, sizeof(v2_tcp4_auth), &h);
	check_addrs(&h, "198.18.0.1", 56324, "198.18.1.2", 443);
	check_splits(v2_tcp6, sizeof(v2_tcp6), &h);
	check_addrs(&h, "2001:db8::1", 1234, "2001:db8:0:1::5", 80);
	check_splits(v2_mixed_auth, sizeof(v2_mixed_auth), &h);
	check_addrs(&h, "::ffff:198.18.0.1", 40000, "2001:db8::2", 8443);
}

/* Headers a receiver accepts but whose addresses it must not use. */
static void
test_parse_v2_local_unspec(void **state)
{
	static const uint8_t local[] = { SIG, 0x20, 0x00, 0x00, 0x00 };
	/* LOCAL with an address block: still ignored */
	static const uint8_t local_addr[] = {
		SIG, 0x20, 0x11, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2,
	};
	static const uint8_t unspec[] = { SIG, 0x21, 0x00, 0x00, 0x00 };
	static const uint8_t udp4[] = {
		SIG, 0x21, 0x12, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2,
	};
	/* NOOP padding then AUTHORITY "a" */
	static const uint8_t noop_auth[] = {
		SIG, 0x21, 0x11, 0x00, 0x0c + 5 + 4,
		198, 18, 0, 1, 198, 18, 0, 2, 0, 1, 0, 2,
		0x04, 0x00, 0x02, 0xaa, 0xbb, 0x02, 0x00, 0x01, 'a',
	};
	struct pp_header h;

	(void)state;
	check_splits(local, sizeof(local), &h);
	assert_true(h.local);
	check_splits(local_addr, sizeof(local_addr), &h);
	assert_true(h.local);
	check_splits(unspec, sizeof(unspec), &h);
	assert_true(h.unknown);
	check_splits(udp4, sizeof(udp4), &h);
	assert_true(h.unknown);
	check_splits(noop_auth, sizeof(noop_auth), &h);
	assert_int_equal(h.ntlv, 2);
	assert_string_equal(h.authority, "a");
	check_addrs(&h, "198.18.0.1", 1, "198.18.0.2", 2);
}

static void
expect_err(const uint8_t *p, size_t len)
{
	struct pp_header h;
	size_t used = 0, need = 0;
	uint8_t *d = dup_exact(p, len);

	assert_int_equal(pp_parse(d, len, &used, &need, &h), PARSE_ERR);
	free(d);
}

static void
test_parse_v1_bad(void **state)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n",
		"proxy TCP4 198.18.0.1 198.18.0.2 1 2\r\n",
		"PROXY  TCP4 198.18.0.1 198.18.0.2 1 2\r\n",
		"PROXY TCP5 198.18.0.1 198.18.0.2 1 2\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1 2 \r\n",
		"PROXY TCP4 198.18.0.1  198.18.0.2 1 2\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1 2 3\r\n",
		/* leading zeros: octal confusion, spec 2.1 */
		"PROXY TCP4 198.018.0.1 198.18.0.2 1 2\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 01 2\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1 65536\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 -1 2\r\n",
		"PROXY TCP4 2001:db8::1 198.18.0.2 1 2\r\n",
		"PROXY TCP6 198.18.0.1 2001:db8::2 1 2\r\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1 2\n",
		"PROXY TCP4 198.18.0.1 198.18.0.2 1 2\rx",
		"PROXY \r\n",
		"PROXY\r\n",
		"PROXY UNKNOWNX\r\n",
	};
	static const uint8_t nul[] = "PROXY TCP4 198.18.0.1\0 198.18.0.2 1 2\r\n";
	uint8_t longline[PP_V1_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++)
		expect_err((const uint8_t *)bad[i], strlen(bad[i]));
	expect_err(nul, sizeof(nul) - 1);
	/* no CRLF within 107 bytes: invalid, not "need more" */
	memcpy(longline, "PROXY UNKNOWN ", 14);
	memset(longline + 14, 'x', sizeof(longline) - 14);
	expect_err(longline, PP_V1_MAX);
	expect_err(longline, sizeof(longline));
	/* a CRLF ending at byte 108 is one too many (the fuzzer found the
	 * parser accepting it) */
	longline[PP_V1_MAX - 1] = '\r';
	longline[PP_V1_MAX] = '\n';
	expect_err(longline, PP_V1_MAX + 1);
	expect_err(longline, PP_V1_MAX - 1);
	longline[PP_V1_MAX - 1] = 'x';
	/* but a CRLF ending at byte 107 is fine */
	longline[PP_V1_MAX - 2] = '\r';
	longline[PP_V1_MAX - 1] = '\n';
	{
		struct pp_header h;
		size_t used = 0, need = 0;

		assert_int_equal(pp_parse(longline, sizeof(longline), &used,
					  &need, &h), PARSE_OK);
		assert_int_equal(used, PP_V1_MAX);
	}
}

static void
test_parse_v2_bad(void **state)
{
	uint8_t m[sizeof(v2_tcp4_auth) + 8];
	size_t n = sizeof(v2_tcp4_auth);
	static const uint8_t badsig[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0b, 0x21, 0x11, 0, 0,
	};

	(void)state;
	expect_err(badsig, sizeof(badsig));
	expect_err(badsig, 12);		/* known wrong before the length */
	/* version 1 in the binary form, version 3 */
	memcpy(m, v2_tcp4, sizeof(v2_tcp4));
	m[12] = 0x11;
	expect_err(m, sizeof(v2_tcp4));
	m[12] = 0x31;
	expect_err(m, sizeof(v2_tcp4));
	/* command 2 */
	m[12] = 0x22;
	expect_err(m, sizeof(v2_tcp4));
	/* family 4, transport 3: spec says reject */
	m[12] = 0x21;
	m[13] = 0x41;
	expect_err(m, sizeof(v2_tcp4));
	m[13] = 0x13;
	expect_err(m, sizeof(v2_tcp4));
	/* block shorter than TCP4 addresses */
	m[13] = 0x11;
	m[15] = 0x0b;
	expect_err(m, sizeof(v2_tcp4) - 1);
	/* TCP6 family with TCP4's 12 bytes */
	m[13] = 0x21;
	m[15] = 0x0c;
	expect_err(m, sizeof(v2_tcp4));
	/* a TLV running past the block */
	memcpy(m, v2_tcp4_auth, n);
	m[30] = 0x11;
	expect_err(m, n);
	/* two stray bytes after the address: not a TLV */
	memcpy(m, v2_tcp4, sizeof(v2_tcp4));
	m[15] = 0x0e;
	m[28] = 0x04;
	m[29] = 0x00;
	expect_err(m, sizeof(v2_tcp4) + 2);
	/* a NUL inside AUTHORITY */
	memcpy(m, v2_tcp4_auth, n);
	m[34] = 0x00;
	expect_err(m, n);
	/* AUTHORITY twice */
	memcpy(m, v2_tcp4_auth, n);
	m[15] += 4;
	m[n] = 0x02;
	m[n + 1] = 0x00;
	m[n + 2] = 0x01;
	m[n + 3] = 'b';
	expect_err(m, n + 4);
}

static void
test_parse_oversized_authority(void **state)
{
	uint8_t m[16 + 12 + 3 + 256];
	size_t used = 0, need = 0;
	struct pp_header h;

	(void)state;
	memcpy(m, v2_tcp4, sizeof(v2_tcp4));
	m[14] = (12 + 3 + 256) >> 8;
	m[15] = (12 + 3 + 256) & 0xff;
	m[28] = PP2_TYPE_AUTHORITY;
	m[29] = 0x01;
	m[30] = 0x00;
	memset(m + 31, 'a', 256);
	expect_err(m, sizeof(m));
	/* 255 is the longest accepted */
	m[15]--;
	m[29] = 0x00;
	m[30] = 0xff;
	assert_int_equal(pp_parse(m, sizeof(m) - 1, &used, &need, &h),
			 PARSE_OK);
	assert_int_equal(h.authority_len, 255);
	assert_int_equal(used, sizeof(m) - 1);
}

/* Big v2 lengths ask for exactly the rest; nothing is read before. */
static void
test_parse_v2_need(void **state)
{
	uint8_t m[PP_V2_HDR];
	size_t used = 0, need = 0;
	struct pp_header h;

	(void)state;
	memcpy(m, v2_tcp4, PP_V2_HDR);
	m[14] = 0xff;
	m[15] = 0xff;
	assert_int_equal(pp_parse(m, sizeof(m), &used, &need, &h), PARSE_MORE);
	assert_int_equal(need, 0xffff);
	assert_int_equal(pp_parse(m, 0, &used, &need, &h), PARSE_MORE);
	assert_int_equal(need, 1);
	assert_int_equal(pp_parse(m, 5, &used, &need, &h), PARSE_MORE);
	assert_int_equal(need, PP_V2_HDR - 5);
	assert_string_equal(pp_version_str(PP_V1), "v1");
	assert_string_equal(pp_version_str(PP_V2), "v2");
	assert_string_equal(pp_version_str(PP_NONE), "none");
}

/* ---- the rule options (config.c) ---- */

static struct config *
parse_conf(const char *text)
{
	struct config *c = cfg_parse("t.conf", text, strlen(text));

	assert_non_null(c);
	return c;
}

static void
test_rule_options(void **state)
{
	struct config *c;
	uint8_t v6[16];

	(void)state;
	c = parse_conf("proxy s5 socks5://198.18.0.2:1080\n"
		       "proxy s5h socks5h://198.18.0.2:1080\n"
		       "direct proxy_protocol=v2 198.18.1.2:8443\n"
		       "direct 198.18.1.2:8444 proxy_protocol=v1 "
		       "pp_source=198.18.9.9:1234\n"
		       "via s5 proxy_protocol=v1 .example.test\n"
		       "via s5h proxy_protocol=v2 pp_source=[2001:db8::9]:4 "
		       ".example.test\n"
		       "via s5h proxy_protocol=v1 198.18.1.0/24\n"
		       "direct 198.18.1.3\n");
	assert_int_equal(c->nerrs, 0);
	assert_int_equal(c->nrules, 6);
	assert_int_equal(c->rules[0].pp_version, 2);
	assert_int_equal(c->rules[0].ndests, 1);
	assert_int_equal(c->rules[0].pp_src_family, 0);
	assert_int_equal(c->rules[1].pp_version, 1);
	assert_int_equal(c->rules[1].pp_src_family, AF_INET);
	assert_memory_equal(c->rules[1].pp_src, "\xc6\x12\x09\x09", 4);
	assert_int_equal(c->rules[1].pp_src_port, 1234);
	assert_int_equal(c->rules[2].pp_version, 1);
	assert_int_equal(c->rules[3].pp_src_family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", v6), 1);
	assert_memory_equal(c->rules[3].pp_src, v6, 16);
	assert_int_equal(c->rules[3].pp_src_port, 4);
	/* v1 via a name-resolving proxy is fine for address rules */
	assert_int_equal(c->rules[4].pp_version, 1);
	assert_int_equal(c->rules[5].pp_version, 0);
	cfg_free(c);
}

static void
test_rule_option_errors(void **state)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "block proxy_protocol=v1 198.18.1.2",
		  "t.conf:2: block: options do not apply to a block rule: "
		  "'proxy_protocol=v1'" },
		{ "via s5h proxy_protocol=v1 *.x.test",
		  "t.conf:2: proxy_protocol=v1 needs addresses, but names "
		  "routed via 's5h' are resolved by the proxy (use v2, which "
		  "carries the name)" },
		{ "via s5h proxy_protocol=v1 *",
		  "t.conf:2: proxy_protocol=v1 needs addresses, but names "
		  "routed via 's5h' are resolved by the proxy (use v2, which "
		  "carries the name)" },
		{ "direct proxy_protocol=v3 x.test",
		  "t.conf:2: proxy_protocol: 'v3': expected v1 or v2" },
		{ "direct proxy_protocol= x.test",
		  "t.conf:2: proxy_protocol: '': expected v1 or v2" },
		{ "direct pp_source=198.18.0.1:5 x.test",
		  "t.conf:2: pp_source needs proxy_protocol=v1 or v2" },
		{ "direct proxy_protocol=v1 pp_source=198.18.0.1 x.test",
		  "t.conf:2: pp_source: '198.18.0.1': expected ADDR:PORT or "
		  "[V6]:PORT" },
		{ "direct proxy_protocol=v1 pp_source=198.18.0.1:65536 x.test",
		  "t.conf:2: pp_source: '198.18.0.1:65536': expected "
		  "ADDR:PORT or [V6]:PORT" },
		{ "direct proxy_protocol=v1 pp_source=[198.18.0.1]:5 x.test",
		  "t.conf:2: pp_source: '[198.18.0.1]:5': expected ADDR:PORT "
		  "or [V6]:PORT" },
		{ "direct proxy_protocol=v1 pp_source=2001:db8::1:5 x.test",
		  "t.conf:2: pp_source: '2001:db8::1:5': expected ADDR:PORT "
		  "or [V6]:PORT" },
		{ "direct foo=bar x.test",
		  "t.conf:2: unknown option 'foo' (known: proxy_protocol, "
		  "pp_source)" },
		{ "direct proxy_protocol=v2",
		  "t.conf:2: direct: no destinations" },
		{ "via s5h proxy_protocol=v2",
		  "t.conf:2: via: no destinations" },
	};
	char text[512];
	struct config *c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text),
			 "proxy s5h socks5h://198.18.0.2:1080\n%s\n",
			 cases[i].line);
		c = parse_conf(text);
		assert_int_equal(c->nerrs, 1);
		assert_string_equal(c->errs[0], cases[i].err);
		/* the broken rule is dropped whole */
		assert_int_equal(c->nrules, 0);
		cfg_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_build),
		cmocka_unit_test(test_build_bad_family),
		cmocka_unit_test(test_v2_build),
		cmocka_unit_test(test_parse_v1_built),
		cmocka_unit_test(test_parse_v2_built),
		cmocka_unit_test(test_parse_v2_local_unspec),
		cmocka_unit_test(test_parse_v1_bad),
		cmocka_unit_test(test_parse_v2_bad),
		cmocka_unit_test(test_parse_oversized_authority),
		cmocka_unit_test(test_parse_v2_need),
		cmocka_unit_test(test_rule_options),
		cmocka_unit_test(test_rule_option_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
