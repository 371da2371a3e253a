/*
 * test_rulesfast.c - the direct-only tables (rulesfast.h) that connect()
 * and sendto() consult before the rule decision: the loopback and
 * strict defaults, a rule for an address, a range or a port taking its
 * destinations out of the tables (and only those), PROXY protocol on a
 * direct rule, and over random rule sets and random addresses the tables
 * agreeing with rules_decide_addr both ways, built here and attached
 * from a session's image; and whether a rule names "localhost".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "rnd.h"
#include "rules.h"
#include "rulesimg.h"

struct set {
	struct config *cfg;
	struct rules *r;
};

static struct set
load(const char *text)
{
	struct set s;

	s.cfg = cfg_parse("t.conf", text, strlen(text));
	assert_non_null(s.cfg);
	if (s.cfg->nerrs > 0)
		fail_msg("%s\n%s", s.cfg->errs[0], text);
	s.r = rules_compile(s.cfg);
	assert_non_null(s.r);
	return s;
}

static void
unload(struct set *s)
{
	rules_free(s->r);
	cfg_free(s->cfg);
}

/* The tables' answer for an address literal and a port. */
static bool
fast(const struct set *s, const char *a, uint16_t port)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, a, b) == 1)
		return rules_direct(s->r, AF_INET, b, port);
	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
	return rules_direct(s->r, AF_INET6, b, port);
}

/* What the rule decision says the tables must answer. */
static bool
full_says(const struct rules *r, int family, const uint8_t *a, uint16_t port)
{
	struct decision d;

	rules_decide_addr(r, family, a, port, &d);
	return d.action == CFG_DIRECT &&
	       (d.rule == NULL || d.rule->pp_version == 0);
}

static void
test_defaults(void **state)
{
	struct set s = load("");

	(void)state;
	assert_true(fast(&s, "127.0.0.1", 80));
	assert_true(fast(&s, "127.255.255.255", 0));
	assert_true(fast(&s, "198.18.0.1", 443));
	assert_true(fast(&s, "::1", 22));
	assert_true(fast(&s, "2001:db8::1", 22));
	assert_true(fast(&s, "::ffff:127.0.0.1", 22));
	unload(&s);
	s = load("strict on\n");
	assert_true(fast(&s, "127.0.0.1", 80));
	assert_true(fast(&s, "::1", 80));
	assert_true(fast(&s, "::ffff:127.0.0.9", 80));
	assert_false(fast(&s, "198.18.0.1", 443));
	assert_false(fast(&s, "2001:db8::1", 443));
	assert_false(fast(&s, "::2", 443));
	unload(&s);
}

/* The bench's rule file: one loopback address via a proxy. */
static void
test_rule_turns_it_off(void **state)
{
	struct set s = load("proxy p socks5://198.18.0.1:1080\n");

	(void)state;
	assert_true(fast(&s, "127.0.0.2", 80));
	unload(&s);
	s = load("proxy p socks5://198.18.0.1:1080\nvia p 127.0.0.2\n");
	assert_false(fast(&s, "127.0.0.2", 80));
	assert_false(fast(&s, "::ffff:127.0.0.2", 80));
	assert_true(fast(&s, "127.0.0.1", 80));
	assert_true(fast(&s, "127.0.0.3", 80));
	assert_true(fast(&s, "198.18.0.9", 80));
	unload(&s);
	/* a range, a port range, a block */
	s = load("proxy p socks5://198.18.0.1:1080\n"
		 "via p 198.18.4.0/22:8000-8099\n"
		 "block [2001:db8:1::/48]:25\n");
	assert_false(fast(&s, "198.18.4.0", 8000));
	assert_false(fast(&s, "198.18.7.255", 8099));
	assert_true(fast(&s, "198.18.7.255", 8100));
	assert_true(fast(&s, "198.18.7.255", 7999));
	assert_true(fast(&s, "198.18.8.0", 8000));
	assert_true(fast(&s, "198.18.3.255", 8000));
	assert_false(fast(&s, "2001:db8:1:ffff::1", 25));
	assert_true(fast(&s, "2001:db8:1:ffff::1", 26));
	assert_true(fast(&s, "2001:db8:2::1", 25));
	unload(&s);
	/* "*" takes everything but loopback; an earlier direct wins */
	s = load("proxy p socks5://198.18.0.1:1080\n"
		 "direct 198.18.9.0/24\nvia p *\n");
	assert_false(fast(&s, "198.18.0.1", 80));
	assert_false(fast(&s, "2001:db8::1", 80));
	assert_true(fast(&s, "198.18.9.7", 80));
	assert_true(fast(&s, "127.0.0.1", 80));
	assert_true(fast(&s, "::1", 80));
	unload(&s);
	/* a rule for loopback itself */
	s = load("block 127.0.0.0/8:6379\nblock ::1\n");
	assert_false(fast(&s, "127.0.0.1", 6379));
	assert_true(fast(&s, "127.0.0.1", 6380));
	assert_false(fast(&s, "::1", 80));
	unload(&s);
}

/* A direct rule that sends a PROXY protocol header is a tunnel. */
static void
test_proxy_protocol(void **state)
{
	struct set s = load("direct proxy_protocol=v2 198.18.1.2:8443\n"
			    "direct 198.18.1.0/24\n");

	(void)state;
	assert_false(fast(&s, "198.18.1.2", 8443));
	assert_true(fast(&s, "198.18.1.2", 8444));
	assert_true(fast(&s, "198.18.1.3", 8443));
	unload(&s);
}

/* The same tables when a process attaches the session's image. */
static void
test_attached(void **state)
{
	static const char conf[] =
		"proxy p socks5://198.18.0.1:1080\nvia p 127.0.0.2\n"
		"direct 198.18.2.0/24\nstrict on\n";
	struct config *full = cfg_parse("t.conf", conf, strlen(conf)), *bare;
	struct rules *built, *att;
	const void *img;
	uint8_t a[4] = { 127, 0, 0, 2 }, b[4] = { 198, 18, 2, 1 };
	uint8_t c[4] = { 198, 18, 3, 1 }, *copy;
	size_t len, slen;
	char *st;

	(void)state;
	assert_non_null(full);
	built = rules_compile_image(full);
	assert_non_null(built);
	img = rules_image(built, &len);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, img, len);
	st = cfg_strip_rules(conf, strlen(conf), &slen);
	assert_non_null(st);
	bare = cfg_parse("t.conf", st, slen);
	free(st);
	assert_non_null(bare);
	att = rules_attach(bare, copy, len);
	assert_non_null(att);
	assert_false(rules_direct(att, AF_INET, a, 80));
	assert_true(rules_direct(att, AF_INET, b, 80));
	assert_false(rules_direct(att, AF_INET, c, 80));	/* strict */
	a[3] = 1;
	assert_true(rules_direct(att, AF_INET, a, 80));
	rules_free(att);
	rules_free(built);
	free(copy);
	cfg_free(bare);
	cfg_free(full);
}

/* Addresses from a few small pools, so that rules nest and overlap. */
static void
rnd_addr(int family, uint8_t *a)
{
	static const uint8_t v4[][4] = { { 198, 18, 0, 0 }, { 127, 0, 0, 0 },
					 { 198, 19, 255, 0 } };
	static const uint8_t v6[][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8 }, { 0 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18 } };
	int i;

	if (family == AF_INET) {
		memcpy(a, v4[rnd(3)], 4);
		a[2] = (uint8_t)(a[2] | rnd(4));
		a[3] = (uint8_t)rnd(256);
		return;
	}
	memcpy(a, v6[rnd(3)], 16);
	for (i = 14; i < 16; i++)
		a[i] = (uint8_t)rnd(rnd(2) ? 4 : 256);
	if (rnd(8) == 0)
		a[7] = (uint8_t)rnd(256);
}

static size_t
rnd_rule(char *buf, size_t n)
{
	static const char *const act[] = { "direct", "block", "via p",
					   "direct proxy_protocol=v1" };
	char as[INET6_ADDRSTRLEN], ports[24] = "";
	uint8_t a[16];
	int family = rnd(2) ? AF_INET : AF_INET6, plen, lo;

	if (rnd(3) == 0) {
		lo = 1 + (int)rnd(6) * 10;
		snprintf(ports, sizeof(ports), ":%d-%d", lo, lo + (int)rnd(30));
	} else if (rnd(4) == 0) {
		snprintf(ports, sizeof(ports), ":%d", 1 + (int)rnd(60));
	}
	if (rnd(12) == 0)
		return (size_t)snprintf(buf, n, "%s *%s\n", act[rnd(4)], ports);
	rnd_addr(family, a);
	plen = family == AF_INET ? 16 + (int)rnd(17) : 96 + (int)rnd(33);
	if (rnd(10) == 0)
		plen = (int)rnd(family == AF_INET ? 9 : 17);
	mask_prefix(a, family == AF_INET ? 4 : 16, plen);
	inet_ntop(family, a, as, sizeof(as));
	return (size_t)snprintf(buf, n, family == AF_INET6 && ports[0] ?
				"%s [%s/%d]%s\n" : "%s %s/%d%s\n",
				act[rnd(4)], as, plen, ports);
}

/* Random rule files: the tables and the rule decision agree both ways
 * on random addresses and ports. */
static void
test_differential(void **state)
{
	char text[8192];
	uint8_t a[16];
	size_t len, k;
	int round, i, nrules, family, yes = 0, no = 0;
	uint16_t port;

	(void)state;
	for (round = 0; round < 300; round++) {
		struct set s;

		len = (size_t)snprintf(text, sizeof(text),
				       "proxy p socks5://198.18.0.1:1080\n%s",
				       rnd(4) == 0 ? "strict on\n" : "");
		nrules = 1 + (int)rnd(round < 50 ? 4 : 40);
		for (i = 0; i < nrules; i++)
			len += rnd_rule(text + len, sizeof(text) - len);
		s = load(text);
		for (k = 0; k < 2000; k++) {
			family = rnd(2) ? AF_INET : AF_INET6;
			rnd_addr(family, a);
			port = (uint16_t)(rnd(4) == 0 ? rnd(65536) : rnd(70));
			if (rules_direct(s.r, family, a, port) !=
			    full_says(s.r, family, a, port)) {
				char as[INET6_ADDRSTRLEN];

				inet_ntop(family, a, as, sizeof(as));
				fail_msg("%s port %u: tables %d, rules %d\n%s",
					 as, port,
					 rules_direct(s.r, family, a, port),
					 full_says(s.r, family, a, port), text);
			}
			if (full_says(s.r, family, a, port))
				yes++;
			else
				no++;
		}
		unload(&s);
	}
	/* both answers came up often: the comparison meant something */
	assert_true(yes > 50000);
	assert_true(no > 50000);
}

/* "localhost" is the loopback default's for every port until a rule
 * names it; a glob under it does not. */
static void
test_localhost(void **state)
{
	static const struct {
		const char *conf;
		bool dflt;
	} cases[] = {
		{ "", true },
		{ "strict on\n", true },
		{ "direct *.localhost\nblock *\n", true },
		{ "block localhost:6379\n", false },
		{ "block .localhost\n", false },
		{ "direct localhost\n", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct set s = load(cases[i].conf);

		if (rules_localhost_default(s.r) != cases[i].dflt)
			fail_msg("%s", cases[i].conf);
		unload(&s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rule_turns_it_off),
		cmocka_unit_test(test_proxy_protocol),
		cmocka_unit_test(test_attached),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_localhost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
