/*
 * test_rulesref.c - the compiled rules against the rule file read line
 * by line: over random rule files whose rules repeat the same names,
 * suffixes, globs and prefixes with other ports, actions and orders,
 * every decision (compiled here, and attached from a session's image) is
 * the one of the first rule in the file that matches, as a plain scan of
 * the config finds it, and the direct-only tables (rulesfast.h) agree.
 * Whatever the image does to group or sort its keys, a key's earliest
 * rule must win.
 */
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

static const char *const labels[] = { "a", "b", "www", "x" };
static const char *const bases[] = { "x.test", "y.test", "test",
				     "localhost", "a.x.test" };

/* A name of 0..2 labels over a base. */
static void
rnd_name(char *buf, size_t n)
{
	size_t len = 0;
	uint32_t k = rnd(3);

	buf[0] = '\0';
	while (k-- > 0)
		len += (size_t)snprintf(buf + len, n - len, "%s.",
					labels[rnd(4)]);
	snprintf(buf + len, n - len, "%s", bases[rnd(5)]);
}

/* An address from a small pool, masked to plen when plen >= 0. */
static void
rnd_addr(int family, uint8_t *a, int plen)
{
	int n = family == AF_INET ? 4 : 16;

	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = rnd(6) == 0 ? 127 : 198;
		a[1] = a[0] == 127 ? 0 : 18;
		a[2] = (uint8_t)rnd(3);
		a[3] = (uint8_t)rnd(4);
	} else if (rnd(6) == 0) {
		a[15] = (uint8_t)rnd(3);	/* ::, ::1, ::2 */
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[7] = (uint8_t)rnd(3);
		a[15] = (uint8_t)rnd(4);
	}
	if (plen >= 0)
		mask_prefix(a, n, plen);
}

/* One destination, with or without a port. */
static size_t
rnd_dest(char *buf, size_t n)
{
	static const int v4len[] = { 8, 16, 24, 30, 32 };
	static const int v6len[] = { 32, 64, 126, 128 };
	char name[64], as[INET6_ADDRSTRLEN], ports[16] = "";
	uint8_t a[16];
	int family, plen;
	uint32_t k = rnd(10);

	if (rnd(3) == 0) {
		int lo = 1 + (int)rnd(4) * 10;

		snprintf(ports, sizeof(ports), ":%d-%d", lo, lo + (int)rnd(15));
	} else if (rnd(3) == 0) {
		snprintf(ports, sizeof(ports), ":%d", 1 + (int)rnd(40));
	}
	if (k == 0)
		return (size_t)snprintf(buf, n, " *%s", ports);
	if (k <= 5) {
		rnd_name(name, sizeof(name));
		return (size_t)snprintf(buf, n, " %s%s%s",
					k <= 2 ? "" : k <= 4 ? "." : "*.",
					name, ports);
	}
	family = k <= 7 ? AF_INET : AF_INET6;
	plen = family == AF_INET ? v4len[rnd(5)] : v6len[rnd(4)];
	rnd_addr(family, a, plen);
	inet_ntop(family, a, as, sizeof(as));
	return (size_t)snprintf(buf, n, family == AF_INET6 && ports[0] ?
				" [%s/%d]%s" : " %s/%d%s", as, plen, ports);
}

/* What the first matching rule of the file decides. */
struct ref {
	uint32_t index;
	enum cfg_action action;
	bool loopback;
};

static bool
name_hit(const struct cfg_dest *d, const char *q)
{
	size_t n = strlen(q), k = strlen(d->name);
	bool full = strcmp(q, d->name) == 0;
	bool under = n > k && q[n - k - 1] == '.' &&
		     strcmp(q + n - k, d->name) == 0;

	return d->kind == DEST_NAME ? full :
	       d->kind == DEST_SUFFIX ? full || under :
	       d->kind == DEST_GLOB && under;
}

static bool
cidr_hit(const struct cfg_dest *d, int family, const uint8_t *a)
{
	int i;

	if (d->family != family)
		return false;
	for (i = 0; i < d->prefix; i++)
		if (((a[i / 8] ^ d->addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* name NULL: the address family/a.  q lowercased, no trailing dot. */
static struct ref
scan(const struct config *cfg, const char *q, int family, const uint8_t *a,
     uint16_t port, bool loopback)
{
	struct ref r = { RULES_NO_INDEX, CFG_DIRECT, false };
	size_t i, j;

	for (i = 0; i < cfg->nrules; i++)
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const struct cfg_dest *d = &cfg->rules[i].dests[j];
			bool hit;

			if (port < d->port_lo || port > d->port_hi)
				continue;
			if (d->kind == DEST_ANY)
				hit = !loopback;
			else if (d->kind == DEST_CIDR)
				hit = q == NULL && cidr_hit(d, family, a);
			else
				hit = q != NULL && name_hit(d, q);
			if (hit) {
				r.index = (uint32_t)i;
				r.action = cfg->rules[i].action;
				return r;
			}
		}
	if (loopback)
		r.loopback = true;
	else if (cfg->strict)
		r.action = CFG_BLOCK;
	return r;
}

static void
same(const struct decision *d, const struct ref *r, const char *what,
     uint16_t port, const char *text)
{
	if (d->index != r->index || d->action != r->action ||
	    d->loopback != r->loopback)
		fail_msg("%s port %u: rules %u/%d/%d, the file %u/%d/%d\n%s",
			 what, port, d->index, d->action, d->loopback,
			 r->index, r->action, r->loopback, text);
}

/* Random queries against both compiled forms of one file. */
static void
queries(const struct config *cfg, const struct rules *const *rs,
	const char *text, int *hits)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	char name[64], up[64], as[INET6_ADDRSTRLEN];
	struct decision d;
	struct ref want;
	uint8_t a[16];
	uint16_t port;
	int k, family, w;
	bool direct;
	size_t i;

	for (k = 0; k < 400; k++) {
		port = (uint16_t)(rnd(8) == 0 ? rnd(65536) : rnd(60));
		if (rnd(2)) {
			rnd_name(name, sizeof(name));
			/* the rules ignore case and a trailing dot */
			for (i = 0; name[i] != '\0'; i++)
				up[i] = rnd(3) == 0 && name[i] >= 'a' &&
					name[i] <= 'z' ? (char)(name[i] - 32) :
					name[i];
			up[i] = '\0';
			if (rnd(4) == 0)
				snprintf(up + i, sizeof(up) - i, ".");
			want = scan(cfg, name, 0, NULL, port,
				    strcmp(name, "localhost") == 0 ||
				    (strlen(name) > 10 &&
				     strcmp(name + strlen(name) - 10,
					    ".localhost") == 0));
			for (w = 0; w < 3; w++) {
				rules_decide_name(rs[w], up, port, &d);
				same(&d, &want, up, port, text);
			}
		} else {
			family = rnd(2) ? AF_INET : AF_INET6;
			rnd_addr(family, a, -1);
			want = scan(cfg, NULL, family, a, port,
				    family == AF_INET ? a[0] == 127 :
				    memcmp(a, v6lo, 16) == 0);
			inet_ntop(family, a, as, sizeof(as));
			/* the direct-only tables: direct, no PROXY header */
			direct = want.action == CFG_DIRECT &&
				 (want.index == RULES_NO_INDEX ||
				  cfg->rules[want.index].pp_version == 0);
			for (w = 0; w < 3; w++) {
				rules_decide_addr(rs[w], family, a, port, &d);
				same(&d, &want, as, port, text);
				if (rules_direct(rs[w], family, a, port) != direct)
					fail_msg("%s port %u: tables %d, the "
						 "file %d\n%s", as, port,
						 !direct, direct, text);
			}
		}
		*hits += want.index != RULES_NO_INDEX;
	}
}

static void
test_first_match(void **state)
{
	static const char *const act[] = { "direct", "block", "via p",
					   "direct proxy_protocol=v1" };
	static char text[32768];
	struct config *cfg, *bare;
	const struct rules *rs[3];
	struct rules *plain, *built, *att;
	const void *img;
	size_t len, slen, ilen;
	int round, i, j, nrules, ndests, hits = 0;
	char *st;

	(void)state;
	for (round = 0; round < 300; round++) {
		len = (size_t)snprintf(text, sizeof(text),
				       "proxy p socks5://198.18.0.1:1080\n%s",
				       rnd(4) == 0 ? "strict on\n" : "");
		nrules = 1 + (int)rnd(round < 100 ? 8 : 150);
		for (i = 0; i < nrules; i++) {
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%s", act[rnd(4)]);
			ndests = 1 + (int)rnd(3);
			for (j = 0; j < ndests; j++)
				len += rnd_dest(text + len, sizeof(text) - len);
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"\n");
		}
		assert_true(len < sizeof(text) - 1);
		cfg = cfg_parse("t.conf", text, len);
		assert_non_null(cfg);
		if (cfg->nerrs > 0)
			fail_msg("%s\n%s", cfg->errs[0], text);
		built = rules_compile_image(cfg);
		assert_non_null(built);
		img = rules_image(built, &ilen);
		st = cfg_strip_rules(text, len, &slen);
		assert_non_null(st);
		bare = cfg_parse("t.conf", st, slen);
		free(st);
		assert_non_null(bare);
		att = rules_attach(bare, img, ilen);
		assert_non_null(att);
		plain = rules_compile(cfg);
		assert_non_null(plain);
		rs[0] = plain;
		rs[1] = built;
		rs[2] = att;
		queries(cfg, rs, text, &hits);
		rules_free(plain);
		rules_free(att);
		rules_free(built);
		cfg_free(bare);
		cfg_free(cfg);
	}
	/* most queries met a rule: the comparison meant something */
	assert_true(hits > 300 * 400 / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
