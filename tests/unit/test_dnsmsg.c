/*
 * test_dnsmsg.c - DNS names and messages: glibc's own res_mkquery makes
 * the queries the parser reads, and glibc's dn_expand reads the names of
 * the replies the builder writes.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsmsg.h"

static void
test_name_pton(void **state)
{
	static const uint8_t www[] = "\3www\7example\3com";
	uint8_t w[DNSMSG_WIRE_MAX];
	char big[400];
	int i;

	(void)state;
	assert_int_equal(dnsmsg_name_pton("www.example.com", w, sizeof(w)),
			 sizeof(www));
	assert_memory_equal(w, www, sizeof(www));
	assert_int_equal(dnsmsg_name_pton("www.example.com.", w, sizeof(w)),
			 sizeof(www));
	assert_int_equal(dnsmsg_name_pton(".", w, sizeof(w)), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(dnsmsg_name_pton("a\\.b", w, sizeof(w)), 5);
	assert_memory_equal(w, "\3a.b", 5);
	assert_int_equal(dnsmsg_name_pton("a\\032b", w, sizeof(w)), 5);
	assert_memory_equal(w, "\3a b", 5);
	assert_int_equal(dnsmsg_name_pton("a..b", w, sizeof(w)), -EINVAL);
	assert_int_equal(dnsmsg_name_pton(".a", w, sizeof(w)), -EINVAL);
	assert_int_equal(dnsmsg_name_pton("a\\", w, sizeof(w)), -EINVAL);
	assert_int_equal(dnsmsg_name_pton("a\\25", w, sizeof(w)), -EINVAL);
	assert_int_equal(dnsmsg_name_pton("a\\256", w, sizeof(w)), -EINVAL);
	memset(big, 'a', 63);
	big[63] = '\0';
	assert_int_equal(dnsmsg_name_pton(big, w, sizeof(w)), 65);
	big[63] = 'a';
	big[64] = '\0';
	assert_int_equal(dnsmsg_name_pton(big, w, sizeof(w)), -EINVAL);
	/* 4 x 63 + dots is 255 bytes of text, 257 on the wire: too long */
	for (i = 0; i < 4; i++) {
		memset(big + i * 64, 'b', 63);
		big[i * 64 + 63] = '.';
	}
	big[4 * 64 - 1] = '\0';
	assert_int_equal(dnsmsg_name_pton(big, w, sizeof(w)), -EMSGSIZE);
	assert_int_equal(dnsmsg_name_pton("abc", w, 3), -EMSGSIZE);
}

static void
test_name_ntop(void **state)
{
	static const uint8_t odd[] = "\5a.b\\\x01\3com";
	char t[64];

	(void)state;
	assert_int_equal(dnsmsg_name_ntop((const uint8_t *)"\3www\3com", 9,
					  t, sizeof(t)), 7);
	assert_string_equal(t, "www.com");
	assert_int_equal(dnsmsg_name_ntop(odd, sizeof(odd), t, sizeof(t)), 14);
	assert_string_equal(t, "a\\.b\\\\\\001.com");
	assert_int_equal(dnsmsg_name_ntop((const uint8_t *)"", 1, t, sizeof(t)),
			 1);
	assert_string_equal(t, ".");
	/* a label running past the end, no root label */
	assert_int_equal(dnsmsg_name_ntop((const uint8_t *)"\7ab", 3, t,
					  sizeof(t)), -EINVAL);
	assert_int_equal(dnsmsg_name_ntop((const uint8_t *)"\2ab", 3, t,
					  sizeof(t)), -EINVAL);
	assert_int_equal(dnsmsg_name_ntop((const uint8_t *)"\3www\3com", 9,
					  t, 7), -ENOSPC);
}

/* The names glibc 2.36 refuses to send to a server (res_hnok). */
static void
test_hnok(void **state)
{
	static const char *const ok[] = {
		"ok.example", "a_b.example", "a-b.example", "a.-b.example",
		"x", "A1.B2.", "a\\b.example",
	};
	static const char *const bad[] = {
		"a\nb.example", "a b.example", "a\tb.example", "a;b.example",
		"-a.example", "caf\xc3\xa9.example", "a..b", "a,b", "a*b",
		"a\rb", "a\x1b[31m", "a\\032b", "a\\.b.example",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!dnsmsg_hnok(ok[i]))
			fail_msg("refused '%s'", ok[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dnsmsg_hnok(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
}

static void
test_ptr_addr(void **state)
{
	static const char v6[] = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				 "0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa.";
	uint8_t a[16], want[16];
	int fam;

	(void)state;
	assert_int_equal(dnsmsg_ptr_addr("2.1.18.198.in-addr.arpa", &fam, a),
			 0);
	assert_int_equal(fam, AF_INET);
	assert_memory_equal(a, "\xc6\x12\x01\x02", 4);
	assert_int_equal(dnsmsg_ptr_addr("2.1.18.198.IN-ADDR.ARPA.", &fam, a),
			 0);
	assert_int_equal(dnsmsg_ptr_addr(v6, &fam, a), 0);
	assert_int_equal(fam, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::1", want);
	assert_memory_equal(a, want, 16);
	/* zones and near misses are not addresses */
	assert_int_equal(dnsmsg_ptr_addr("18.198.in-addr.arpa", &fam, a),
			 -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr("5.2.1.18.198.in-addr.arpa", &fam, a),
			 -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr("256.1.18.198.in-addr.arpa", &fam,
					 a), -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr("2.1.18.198.in-addr.arpa.x", &fam,
					 a), -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr(v6 + 2, &fam, a), -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr("g.0.ip6.arpa", &fam, a), -EINVAL);
	assert_int_equal(dnsmsg_ptr_addr("www.example", &fam, a), -EINVAL);
}

/* glibc's res_mkquery writes the queries the parser must read. */
static void
test_parse_glibc_query(void **state)
{
	uint8_t msg[512];
	struct dnsmsg_query q;
	size_t used = 0;
	int n;

	(void)state;
	n = res_mkquery(ns_o_query, "_http._tcp.Example.COM", ns_c_in,
			ns_t_srv, NULL, 0, NULL, msg, sizeof(msg));
	assert_true(n > DNSMSG_HDR);
	assert_int_equal(dnsmsg_parse_query(msg, (size_t)n, &used, &q),
			 PARSE_OK);
	assert_int_equal(used, (size_t)n);
	assert_string_equal(q.name, "_http._tcp.Example.COM");
	assert_int_equal(q.qtype, ns_t_srv);
	assert_int_equal(q.qclass, ns_c_in);
	assert_int_equal(q.id, msg[0] << 8 | msg[1]);
	/* every shorter message is malformed */
	for (; n > 0; n--)
		assert_int_equal(dnsmsg_parse_query(msg, (size_t)n - 1, &used,
						    &q), PARSE_ERR);
}

static void
test_parse_pointers(void **state)
{
	/* the question's name is "a" + a pointer back to "example" */
	static const uint8_t after[] =
		"\0\1\1\0\0\1\0\0\0\0\0\0"
		"\1a\300\24\0\1\0\1" "\7example\0";
	/* a pointer to itself, and one pointing forward */
	static const uint8_t loop[] = "\0\1\1\0\0\1\0\0\0\0\0\0\300\14\0\1\0\1";
	static const uint8_t fwd[] =
		"\0\1\1\0\0\1\0\0\0\0\0\0\300\16\1a\0\0\1\0\1";
	static const uint8_t two_q[] = "\0\1\1\0\0\2\0\0\0\0\0\0\0\0\1\0\1";
	struct dnsmsg_query q;
	size_t used;

	(void)state;
	/* the name after the question: not where a query puts it, but a
	 * pointer must point before its own name, so this is malformed */
	assert_int_equal(dnsmsg_parse_query(after, sizeof(after) - 1, &used, &q),
			 PARSE_ERR);
	assert_int_equal(dnsmsg_parse_query(loop, sizeof(loop) - 1, &used, &q),
			 PARSE_ERR);
	assert_int_equal(dnsmsg_parse_query(fwd, sizeof(fwd) - 1, &used, &q),
			 PARSE_ERR);
	assert_int_equal(dnsmsg_parse_query(two_q, sizeof(two_q) - 1, &used,
					    &q), PARSE_ERR);
}

/* The reply to a res_query: glibc reads its records back. */
static void
test_build_reply(void **state)
{
	static const uint8_t a4[4] = { 240, 0, 0, 7 };
	struct dnsmsg_rr rr = { .type = DNSMSG_A, .ttl = 60, .rdata = a4,
				.rdlen = 4 };
	struct dnsmsg_query q, back;
	uint8_t out[512];
	char name[256];
	size_t used;
	int n, k;

	(void)state;
	assert_int_equal(dnsmsg_query_init(&q, "www.World.test.", DNSMSG_A,
					   DNSMSG_CLASS_IN, 0x1234), 0);
	assert_string_equal(q.name, "www.World.test");
	n = dnsmsg_build_reply(out, sizeof(out), &q, DNSMSG_NOERROR, &rr, 1);
	assert_int_equal(n, DNSMSG_HDR + 16 + 4 + 16);
	assert_memory_equal(out, "\x12\x34\x81\x80\0\1\0\1\0\0\0\0", 12);
	assert_int_equal(dnsmsg_parse_query(out, (size_t)n, &used, &back),
			 PARSE_OK);
	assert_string_equal(back.name, "www.World.test");
	/* the answer's owner is a pointer glibc follows to the name */
	k = dn_expand(out, out + n, out + used, name, sizeof(name));
	assert_int_equal(k, 2);
	assert_string_equal(name, "www.World.test");
	assert_memory_equal(out + used + 2, "\0\1\0\1\0\0\0\x3c\0\4", 10);
	assert_memory_equal(out + n - 4, a4, 4);
	/* refusals carry no records; a reply that cannot fit is refused */
	n = dnsmsg_build_reply(out, sizeof(out), &q, DNSMSG_REFUSED, NULL, 0);
	assert_int_equal(n, DNSMSG_HDR + 16 + 4);
	assert_int_equal(out[3] & 0xf, DNSMSG_REFUSED);
	assert_int_equal(dnsmsg_build_reply(out, 20, &q, 0, &rr, 1), -ENOSPC);
	assert_int_equal(dnsmsg_query_init(&q, "a..b", 1, 1, 0), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_pton),
		cmocka_unit_test(test_name_ntop),
		cmocka_unit_test(test_hnok),
		cmocka_unit_test(test_ptr_addr),
		cmocka_unit_test(test_parse_glibc_query),
		cmocka_unit_test(test_parse_pointers),
		cmocka_unit_test(test_build_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
