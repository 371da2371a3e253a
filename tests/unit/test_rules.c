/*
 * test_rules.c - the rule engine: first match, every destination kind,
 * ports, IPv6 and v4-mapped addresses, the loopback and strict defaults,
 * and a 100,000-rule set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "rules.h"

struct fixture {
	struct config *cfg;
	struct rules *r;
};

static struct fixture
load(const char *text)
{
	struct fixture f;

	f.cfg = cfg_parse("t.conf", text, strlen(text));
	assert_non_null(f.cfg);
	if (f.cfg->nerrs != 0)
		fail_msg("%s", f.cfg->errs[0]);
	f.r = rules_compile(f.cfg);
	assert_non_null(f.r);
	return f;
}

static void
unload(struct fixture *f)
{
	rules_free(f->r);
	cfg_free(f->cfg);
}

/*
 * A query and its expected outcome: the line of the deciding rule (0 for
 * a default), its action, and whether the loopback default decided.
 * A query that parses as an address goes through rules_decide_addr, the
 * rest through rules_decide_name; names starting with '=' are given to
 * rules_decide_name as written even when they are literals.
 */
struct q {
	const char *dest;
	uint16_t port;
	int line;
	enum cfg_action action;
	bool loopback;
};

static void
check(const struct fixture *f, const struct q *qs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct q *q = &qs[i];
		struct decision d;
		uint8_t a[16];

		if (q->dest[0] == '=')
			rules_decide_name(f->r, q->dest + 1, q->port, &d);
		else if (inet_pton(AF_INET, q->dest, a) == 1)
			rules_decide_addr(f->r, AF_INET, a, q->port, &d);
		else if (inet_pton(AF_INET6, q->dest, a) == 1)
			rules_decide_addr(f->r, AF_INET6, a, q->port, &d);
		else
			rules_decide_name(f->r, q->dest, q->port, &d);
		if ((d.rule != NULL ? d.rule->line : 0) != q->line ||
		    d.action != q->action || d.loopback != q->loopback)
			fail_msg("%s:%u: got line %d %s%s, want line %d %s%s",
				 q->dest, q->port,
				 d.rule != NULL ? d.rule->line : 0,
				 cfg_action_str(d.action),
				 d.loopback ? " (loopback)" : "", q->line,
				 cfg_action_str(q->action),
				 q->loopback ? " (loopback)" : "");
	}
}

#define CHECK(f, qs) check(&(f), (qs), sizeof(qs) / sizeof((qs)[0]))

static void
test_rules_names(void **state)
{
	static const char text[] =
		"proxy p http://198.18.0.1:3128\n"
		"block exact.example.com\n"		/* 2 */
		"via p .example.com\n"			/* 3 */
		"direct *.glob.example.org\n"		/* 4 */
		"block example.org\n"			/* 5 */
		"block .com\n";				/* 6 */
	static const struct q qs[] = {
		{ "exact.example.com", 80, 2, CFG_BLOCK, false },
		{ "EXACT.Example.COM.", 80, 2, CFG_BLOCK, false },
		{ "example.com", 80, 3, CFG_VIA, false },
		{ "a.b.example.com", 80, 3, CFG_VIA, false },
		{ "x.exact.example.com", 80, 3, CFG_VIA, false },
		{ "notexample.com", 80, 6, CFG_BLOCK, false },
		{ "glob.example.org", 80, 0, CFG_DIRECT, false },
		{ "a.glob.example.org", 80, 4, CFG_DIRECT, false },
		{ "a.b.glob.example.org", 80, 4, CFG_DIRECT, false },
		{ "example.org", 80, 5, CFG_BLOCK, false },
		{ "x.example.org", 80, 0, CFG_DIRECT, false },
		{ "com", 80, 6, CFG_BLOCK, false },
		{ "example.net", 80, 0, CFG_DIRECT, false },
		{ "", 80, 0, CFG_DIRECT, false },
		{ ".", 80, 0, CFG_DIRECT, false },
		{ "..example.com", 80, 3, CFG_VIA, false },
	};
	struct fixture f = load(text);

	(void)state;
	CHECK(f, qs);
	unload(&f);
}

/* First match wins across destination kinds and tables. */
static void
test_rules_first_match(void **state)
{
	static const char text[] =
		"direct a.example.com 198.18.0.7\n"	/* 1 */
		"block .example.com 198.18.0.0/15\n"	/* 2 */
		"direct .example.com b.example.com\n"	/* 3 */
		"block *\n"				/* 4 */
		"direct c.example.net 198.19.0.0/16\n";	/* 5 */
	static const struct q qs[] = {
		{ "a.example.com", 1, 1, CFG_DIRECT, false },
		{ "b.example.com", 1, 2, CFG_BLOCK, false },
		{ "198.18.0.7", 1, 1, CFG_DIRECT, false },
		{ "198.18.0.8", 1, 2, CFG_BLOCK, false },
		{ "198.19.1.1", 1, 2, CFG_BLOCK, false },
		{ "c.example.net", 1, 4, CFG_BLOCK, false },
		{ "198.20.0.1", 1, 4, CFG_BLOCK, false },
	};
	struct fixture f = load(text);

	(void)state;
	CHECK(f, qs);
	unload(&f);
}

static void
test_rules_ports(void **state)
{
	static const char text[] =
		"block example.com:22\n"		/* 1 */
		"direct example.com:20-25\n"		/* 2 */
		"block .example.com:443\n"		/* 3 */
		"block 198.18.0.0/15:1-1023\n"		/* 4 */
		"block [2001:db8::/32]:22\n"		/* 5 */
		"direct *:53\n"				/* 6 */
		"block *:1-1024\n";			/* 7 */
	static const struct q qs[] = {
		{ "example.com", 22, 1, CFG_BLOCK, false },
		{ "example.com", 21, 2, CFG_DIRECT, false },
		{ "example.com", 25, 2, CFG_DIRECT, false },
		{ "example.com", 26, 7, CFG_BLOCK, false },
		{ "example.com", 443, 3, CFG_BLOCK, false },
		{ "x.example.com", 443, 3, CFG_BLOCK, false },
		{ "x.example.com", 53, 6, CFG_DIRECT, false },
		{ "x.example.com", 8080, 0, CFG_DIRECT, false },
		{ "198.18.3.4", 1023, 4, CFG_BLOCK, false },
		{ "198.18.3.4", 1024, 7, CFG_BLOCK, false },
		{ "198.18.3.4", 1025, 0, CFG_DIRECT, false },
		{ "198.18.3.4", 53, 4, CFG_BLOCK, false },
		{ "2001:db8::1", 22, 5, CFG_BLOCK, false },
		{ "2001:db8::1", 23, 7, CFG_BLOCK, false },
		{ "2001:db9::1", 53, 6, CFG_DIRECT, false },
		{ "2001:db9::1", 65535, 0, CFG_DIRECT, false },
	};
	struct fixture f = load(text);

	(void)state;
	CHECK(f, qs);
	unload(&f);
}

static void
test_rules_cidrs(void **state)
{
	static const char text[] =
		"direct 198.18.5.5\n"			/* 1 */
		"block 198.18.0.0/15\n"			/* 2 */
		"direct 0.0.0.0/0\n"			/* 3 */
		"block 2001:db8:1::/48\n"		/* 4 */
		"direct 2001:db8::/32\n"		/* 5 */
		"block ::ffff:198.19.0.0/112\n"		/* 6 */
		"block ::/0\n";				/* 7 */
	static const struct q qs[] = {
		{ "198.18.5.5", 80, 1, CFG_DIRECT, false },
		{ "198.19.255.255", 80, 2, CFG_BLOCK, false },
		{ "198.20.0.0", 80, 3, CFG_DIRECT, false },
		{ "2001:db8:1:ffff::1", 80, 4, CFG_BLOCK, false },
		{ "2001:db8:2::1", 80, 5, CFG_DIRECT, false },
		{ "2001:db9::1", 80, 7, CFG_BLOCK, false },
		/* v4-mapped addresses are decided as IPv4 */
		{ "::ffff:198.18.5.5", 80, 1, CFG_DIRECT, false },
		{ "::ffff:198.19.0.1", 80, 2, CFG_BLOCK, false },
		{ "::ffff:8.8.8.8", 80, 3, CFG_DIRECT, false },
		/* names that are address literals are decided as addresses */
		{ "=198.18.5.5", 80, 1, CFG_DIRECT, false },
		{ "=[2001:db8:1::1]", 80, 4, CFG_BLOCK, false },
		{ "=2001:db8:1::1", 80, 4, CFG_BLOCK, false },
		{ "=::ffff:198.18.5.5", 80, 1, CFG_DIRECT, false },
		{ "=host.example", 80, 0, CFG_DIRECT, false },
	};
	struct fixture f = load(text);

	(void)state;
	CHECK(f, qs);
	unload(&f);
}

/* Loopback is direct unless a rule other than "*" names it. */
static void
test_rules_loopback(void **state)
{
	static const char text[] =
		"proxy p socks5://198.18.0.1\n"
		"via p *\n"				/* 2 */
		"block 127.0.0.2 db.localhost\n"	/* 3 */
		"strict on\n";
	static const struct q qs[] = {
		{ "127.0.0.1", 80, 0, CFG_DIRECT, true },
		{ "127.255.0.1", 80, 0, CFG_DIRECT, true },
		{ "127.0.0.2", 80, 3, CFG_BLOCK, false },
		{ "::1", 80, 0, CFG_DIRECT, true },
		{ "::ffff:127.0.0.1", 80, 0, CFG_DIRECT, true },
		{ "::ffff:127.0.0.2", 80, 3, CFG_BLOCK, false },
		{ "localhost", 80, 0, CFG_DIRECT, true },
		{ "LOCALHOST.", 80, 0, CFG_DIRECT, true },
		{ "a.localhost", 80, 0, CFG_DIRECT, true },
		{ "db.localhost", 80, 3, CFG_BLOCK, false },
		{ "=127.0.0.1", 80, 0, CFG_DIRECT, true },
		{ "=[::1]", 80, 0, CFG_DIRECT, true },
		{ "xlocalhost", 80, 2, CFG_VIA, false },
		{ "localhost.example", 80, 2, CFG_VIA, false },
		{ "128.0.0.1", 80, 2, CFG_VIA, false },
		{ "::2", 80, 2, CFG_VIA, false },
	};
	struct fixture f = load(text);

	(void)state;
	CHECK(f, qs);
	unload(&f);
}

static void
test_rules_strict(void **state)
{
	static const struct q lax[] = {
		{ "example.net", 80, 0, CFG_DIRECT, false },
		{ "198.18.0.1", 80, 0, CFG_DIRECT, false },
		{ "example.com", 80, 1, CFG_DIRECT, false },
	};
	static const struct q strict[] = {
		{ "example.net", 80, 0, CFG_BLOCK, false },
		{ "198.18.0.1", 80, 0, CFG_BLOCK, false },
		{ "2001:db8::1", 80, 0, CFG_BLOCK, false },
		{ "example.com", 80, 1, CFG_DIRECT, false },
		{ "localhost", 80, 0, CFG_DIRECT, true },
		{ "127.0.0.1", 80, 0, CFG_DIRECT, true },
	};
	struct fixture f = load("direct example.com\n");

	(void)state;
	CHECK(f, lax);
	unload(&f);
	f = load("direct example.com\nstrict on\n");
	CHECK(f, strict);
	unload(&f);
}

static void
test_rules_chain_and_empty(void **state)
{
	static const struct q qs[] = {
		{ "x.lab.example", 22, 3, CFG_VIA, false },
		{ "anything", 22, 0, CFG_DIRECT, false },
		{ "198.18.0.1", 22, 0, CFG_DIRECT, false },
		{ "2001:db8::1", 22, 0, CFG_DIRECT, false },
	};
	struct fixture f = load("proxy a http://198.18.0.1:3128\n"
				"proxy b socks5h://198.18.0.2\n"
				"via a>b *.lab.example\n");
	struct decision d;

	(void)state;
	CHECK(f, qs);
	rules_decide_name(f.r, "x.lab.example", 22, &d);
	assert_int_equal(d.rule->nchain, 2);
	assert_int_equal(d.rule->chain[0], 0);
	assert_int_equal(d.rule->chain[1], 1);
	assert_string_equal(d.rule->text, "via a>b *.lab.example");
	/* an unknown family is left to the default */
	rules_decide_addr(f.r, 12345, (const uint8_t *)"xxxx", 80, &d);
	assert_null(d.rule);
	unload(&f);

	f = load("");
	rules_decide_name(f.r, "example.com", 1, &d);
	assert_null(d.rule);
	assert_int_equal(d.action, CFG_DIRECT);
	unload(&f);
}

/* A name longer than any DNS name must not overflow anything. */
static void
test_rules_long_name(void **state)
{
	struct fixture f = load("block *\n");
	char name[1000];
	struct decision d;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	rules_decide_name(f.r, name, 80, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	unload(&f);
}

/* 100,000 rules of every kind: compile, then spot-check decisions. */
static void
test_rules_100k(void **state)
{
	size_t cap = 100000 * 48, off = 0, i;
	char *text = malloc(cap);
	struct fixture f;
	struct decision d;
	uint8_t a[4];

	(void)state;
	assert_non_null(text);
	for (i = 0; i < 100000; i++) {
		switch (i % 4) {
		case 0:
			off += (size_t)snprintf(text + off, cap - off,
					"block host%zu.example.com\n", i);
			break;
		case 1:
			off += (size_t)snprintf(text + off, cap - off,
					"direct .zone%zu.example.org:443\n", i);
			break;
		case 2:
			off += (size_t)snprintf(text + off, cap - off,
					"block 10.%zu.%zu.0/24\n",
					(i >> 8) & 255, i & 255);
			break;
		default:
			off += (size_t)snprintf(text + off, cap - off,
					"direct 2001:db8:%zx:%zx::/64\n",
					i >> 16, i & 0xffff);
			break;
		}
	}
	f = load(text);
	assert_int_equal(f.cfg->nrules, 100000);
	rules_decide_name(f.r, "host99996.example.com", 1, &d);
	assert_int_equal(d.rule->line, 99997);
	rules_decide_name(f.r, "a.b.zone5.example.org", 443, &d);
	assert_int_equal(d.rule->line, 6);
	rules_decide_name(f.r, "a.b.zone5.example.org", 444, &d);
	assert_null(d.rule);
	a[0] = 10;
	a[1] = (99998 >> 8) & 255;
	a[2] = 99998 & 255;
	a[3] = 7;
	rules_decide_addr(f.r, AF_INET, a, 80, &d);
	/* the first rule with that /24 (the second octet wraps at 65536) */
	assert_non_null(d.rule);
	assert_int_equal(d.rule->action, CFG_BLOCK);
	assert_int_equal(d.rule->line, (int)(99998 % 65536) + 1);
	unload(&f);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_names),
		cmocka_unit_test(test_rules_first_match),
		cmocka_unit_test(test_rules_ports),
		cmocka_unit_test(test_rules_cidrs),
		cmocka_unit_test(test_rules_loopback),
		cmocka_unit_test(test_rules_strict),
		cmocka_unit_test(test_rules_chain_and_empty),
		cmocka_unit_test(test_rules_long_name),
		cmocka_unit_test(test_rules_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
