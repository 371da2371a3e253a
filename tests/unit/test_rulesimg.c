/*
 * test_rulesimg.c - the compiled rules' image: an attached image decides
 * as the config it was built from, names its rules (line and text) from
 * its records; a damaged image is refused when its header or sections do
 * not check out, and a damaged entry or record blocks instead of
 * reading outside the image or looping.
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

#include "rules.h"
#include "rulesimg.h"

static const char conf[] =
	"proxy a socks5h://198.18.0.1:1080\n"
	"proxy b http://198.18.0.2:8080\n"
	"block blocked.example\n"
	"via a .via.example proxy_protocol=v2\n"
	"direct *.glob.example:443\n"
	"block 198.18.5.0/24:80-81\n"
	"via a>b [2001:db8::/32]:22\n"
	"direct *:53\n";

struct fix {
	struct config *full, *bare;	/* proxywrap's; a process's */
	struct rules *built, *att;
	uint8_t *img;			/* a copy, 8-aligned (malloc) */
	size_t len;
};

static void
setup(struct fix *f)
{
	const void *b;
	size_t slen;
	char *st;

	f->full = cfg_parse("t.conf", conf, strlen(conf));
	assert_non_null(f->full);
	assert_int_equal(f->full->nerrs, 0);
	f->built = rules_compile_image(f->full);
	assert_non_null(f->built);
	b = rules_image(f->built, &f->len);
	f->img = malloc(f->len);
	assert_non_null(f->img);
	memcpy(f->img, b, f->len);
	st = cfg_strip_rules(conf, strlen(conf), &slen);
	assert_non_null(st);
	f->bare = cfg_parse("t.conf", st, slen);
	free(st);
	assert_non_null(f->bare);
	assert_int_equal(f->bare->nrules, 0);
	assert_int_equal(f->bare->nproxies, 2);
	f->att = NULL;
}

static void
teardown(struct fix *f)
{
	rules_free(f->att);
	rules_free(f->built);
	cfg_free(f->bare);
	cfg_free(f->full);
	free(f->img);
}

static void
decide(const struct rules *r, const char *dest, uint16_t port,
       struct decision *d)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, dest, a) == 1)
		rules_decide_addr(r, AF_INET, a, port, d);
	else if (inet_pton(AF_INET6, dest, a) == 1)
		rules_decide_addr(r, AF_INET6, a, port, d);
	else
		rules_decide_name(r, dest, port, d);
}

static void
test_attached_decides_as_built(void **state)
{
	static const struct { const char *dest; uint16_t port; } qs[] = {
		{ "blocked.example", 80 }, { "BLOCKED.example.", 1 },
		{ "x.blocked.example", 80 }, { "via.example", 80 },
		{ "a.b.via.example", 9 }, { "glob.example", 443 },
		{ "a.glob.example", 443 }, { "a.glob.example", 80 },
		{ "198.18.5.7", 80 }, { "198.18.5.7", 82 },
		{ "2001:db8::1", 22 }, { "::ffff:198.18.5.1", 81 },
		{ "nothing.example", 53 }, { "nothing.example", 54 },
		{ "localhost", 53 }, { "127.0.0.1", 80 }, { "[2001:db8::5]", 22 },
	};
	struct fix f;
	struct decision a, b;
	size_t i;

	(void)state;
	setup(&f);
	f.att = rules_attach(f.bare, f.img, f.len);
	assert_non_null(f.att);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		decide(f.built, qs[i].dest, qs[i].port, &a);
		decide(f.att, qs[i].dest, qs[i].port, &b);
		if (a.action != b.action || a.index != b.index ||
		    a.loopback != b.loopback || (a.rule == NULL) != (b.rule == NULL))
			fail_msg("%s:%u differs", qs[i].dest, qs[i].port);
		if (a.rule == NULL)
			continue;
		/* the record carries what log lines and tunnels need */
		assert_int_equal(a.rule->line, b.rule->line);
		assert_string_equal(a.rule->text, b.rule->text);
		assert_int_equal(a.rule->nchain, b.rule->nchain);
		assert_memory_equal(a.rule->chain, b.rule->chain,
				    sizeof(a.rule->chain));
		assert_memory_equal(a.rule->group, b.rule->group,
				    sizeof(a.rule->group));
		assert_int_equal(a.rule->pp_version, b.rule->pp_version);
	}
	/* made once: the same rule twice is the same pointer */
	decide(f.att, "blocked.example", 80, &a);
	decide(f.att, "blocked.example", 443, &b);
	assert_ptr_equal(a.rule, b.rule);
	assert_int_equal(a.rule->line, 3);
	assert_string_equal(a.rule->text, "block blocked.example");
	teardown(&f);
}

static void
test_cli_rule_and_strict(void **state)
{
	const char *urls[] = { "socks5://198.18.0.9:1080" };
	struct config *full, *bare;
	struct rules *built, *att;
	struct decision d;
	const void *b;
	size_t len;

	(void)state;
	full = cfg_parse("t.conf", "block x.example\n", 16);
	bare = cfg_parse("t.conf", "\n", 1);
	assert_int_equal(cfg_add_cli_proxies(full, "-p", urls, 1), 0);
	assert_int_equal(cfg_add_cli_proxies(bare, "-p", urls, 1), 0);
	full->strict = bare->strict = true;
	built = rules_compile_image(full);
	b = rules_image(built, &len);
	att = rules_attach(bare, b, len);
	assert_non_null(att);
	rules_decide_name(att, "y.example", 80, &d);
	assert_int_equal(d.action, CFG_VIA);
	assert_int_equal(d.rule->line, 0);
	assert_string_equal(d.rule->text, "via p1 *");
	/* a private image has no records to attach to */
	rules_free(att);
	rules_free(built);
	built = rules_compile(full);
	b = rules_image(built, &len);
	assert_null(rules_attach(bare, b, len));
	assert_int_equal(errno, EINVAL);
	rules_free(built);
	cfg_free(full);
	cfg_free(bare);
}

/* Another set of proxies than the image's chains index: refused. */
static void
test_proxies_must_match(void **state)
{
	struct fix f;
	struct config *other;
	static const char t[] = "proxy b http://198.18.0.2:8080\n"
				"proxy a socks5h://198.18.0.1:1080\n";

	(void)state;
	setup(&f);
	other = cfg_parse("t.conf", t, strlen(t));
	assert_int_equal(other->nerrs, 0);
	assert_null(rules_attach(other, f.img, f.len));
	cfg_free(other);
	teardown(&f);
}

/* A group's hop survives the image; other groups than the image's: refused. */
static void
test_groups_in_image(void **state)
{
	static const char t[] = "proxy a http://198.18.0.1:3128\n"
				"proxy b http://198.18.0.2:3128\n"
				"group g a b mode=round-robin\n"
				"via b>g *.example\n";
	static const char t2[] = "proxy a http://198.18.0.1:3128\n"
				 "proxy b http://198.18.0.2:3128\n"
				 "group g b a mode=round-robin\n";
	struct config *full, *bare, *other;
	struct rules *built, *att;
	struct decision d;
	const void *b;
	size_t len, slen;
	char *st;

	(void)state;
	full = cfg_parse("t.conf", t, strlen(t));
	assert_int_equal(full->nerrs, 0);
	st = cfg_strip_rules(t, strlen(t), &slen);
	bare = cfg_parse("t.conf", st, slen);
	free(st);
	assert_int_equal(bare->ngroups, 1);
	other = cfg_parse("t.conf", t2, strlen(t2));
	built = rules_compile_image(full);
	b = rules_image(built, &len);
	att = rules_attach(bare, b, len);
	assert_non_null(att);
	rules_decide_name(att, "x.example", 80, &d);
	assert_int_equal(d.rule->nchain, 2);
	assert_int_equal(d.rule->group[0], 0);
	assert_int_equal(d.rule->group[1], 1);
	assert_int_equal(d.rule->chain[1], 0);
	assert_null(rules_attach(other, b, len));
	rules_free(att);
	rules_free(built);
	cfg_free(full);
	cfg_free(bare);
	cfg_free(other);
}

static struct rimg_hdr *
hdr(struct fix *f)
{
	return (struct rimg_hdr *)f->img;
}

static void
test_header_damage_refused(void **state)
{
	struct fix f;
	struct rimg m;
	struct rimg_hdr saved;

	(void)state;
	setup(&f);
	assert_int_equal(rimg_check(f.img, f.len, &m), 0);
	assert_int_equal(rimg_check(f.img, f.len - 8, &m), -EINVAL);
	assert_int_equal(rimg_check(f.img, 16, &m), -EINVAL);
	assert_int_equal(rimg_check(f.img + 1, f.len - 8, &m), -EINVAL);
	saved = *hdr(&f);
#define BREAK(stmt) do { stmt; \
		assert_int_equal(rimg_check(f.img, f.len, &m), -EINVAL); \
		*hdr(&f) = saved; } while (0)
	BREAK(hdr(&f)->magic[0] ^= 1);
	BREAK(hdr(&f)->version++);
	BREAK(hdr(&f)->hdr_size--);
	BREAK(hdr(&f)->total++);
	BREAK(hdr(&f)->name_ents.off = f.len);
	BREAK(hdr(&f)->name_ents.n = UINT64_MAX / 8);
	BREAK(hdr(&f)->cidr_slots.off += 4);
	BREAK(hdr(&f)->cidr_slots.n = 24);		/* not a power of 2 */
	BREAK(hdr(&f)->strs.n = f.len);
	BREAK(hdr(&f)->rules.n = 1);			/* neither 0 nor nrules */
	BREAK(hdr(&f)->nv4len = 34);
	BREAK(hdr(&f)->v6len[0] = 129);
	BREAK(hdr(&f)->nrules = RIMG_BAD);
#undef BREAK
	teardown(&f);
}

/* Damage past the header: wrong answers block, nothing is read outside. */
static void
test_entry_damage_blocks(void **state)
{
	struct fix f;
	struct rimg m;
	struct rimg_slot *sl;
	struct rimg_ent *e;
	struct rimg_rule *rr;
	struct decision d;
	uint64_t i;

	(void)state;
	setup(&f);
	assert_int_equal(rimg_check(f.img, f.len, &m), 0);
	/* every entry names a rule that does not exist */
	e = (struct rimg_ent *)(f.img + m.h->cidr_ents.off);
	for (i = 0; i < m.h->cidr_ents.n; i++)
		e[i].rule = 1000;
	f.att = rules_attach(f.bare, f.img, f.len);
	assert_non_null(f.att);
	decide(f.att, "198.18.5.7", 80, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	assert_null(d.rule);
	/* a slot's run past the entries, keys past the strings */
	sl = (struct rimg_slot *)(f.img + m.h->name_slots.off);
	e = (struct rimg_ent *)(f.img + m.h->name_ents.off);
	for (i = 0; i < m.h->name_slots.n; i++)
		if (sl[i].count != 0)
			sl[i].start = UINT32_MAX - 1;
	decide(f.att, "blocked.example", 80, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	assert_null(d.rule);
	for (i = 0; i < m.h->name_slots.n; i++)
		sl[i].start = 0;
	for (i = 0; i < m.h->name_ents.n; i++)
		e[i].key = UINT32_MAX - 2;
	decide(f.att, "blocked.example", 80, &d);	/* no key matches */
	assert_int_equal(d.action, CFG_DIRECT);
	/* a full table: one lap of probes, then no match */
	for (i = 0; i < m.h->name_slots.n; i++) {
		sl[i].count = 1;
		sl[i].hash = 0;
	}
	decide(f.att, "nothing.example", 80, &d);
	assert_int_equal(d.action, CFG_DIRECT);
	/* records: a text without its NUL ("direct *:53" is rule 5) */
	rr = (struct rimg_rule *)(f.img + m.h->rules.off);
	rr[5].text_len = 2;
	decide(f.att, "x.example", 53, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	assert_null(d.rule);
	rr[5].text_len = UINT32_MAX;
	decide(f.att, "x.example", 53, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	teardown(&f);
	/* a chain past the proxies; an action out of range */
	setup(&f);
	rr = (struct rimg_rule *)(f.img + hdr(&f)->rules.off);
	rr[1].chain[0] = 2;
	rr[0].action = 3;
	f.att = rules_attach(f.bare, f.img, f.len);
	assert_non_null(f.att);
	decide(f.att, "a.via.example", 80, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	assert_null(d.rule);
	decide(f.att, "blocked.example", 80, &d);
	assert_int_equal(d.action, CFG_BLOCK);
	assert_null(d.rule);
	decide(f.att, "a.glob.example", 443, &d);	/* the rest still works */
	assert_int_equal(d.action, CFG_DIRECT);
	assert_int_equal(d.rule->line, 5);
	teardown(&f);
}

static void
test_strip_keeps_lines(void **state)
{
	static const char t[] = "proxy a http://198.18.0.1:1\n"
				" via a *\n"
				"\tdirect x#c\n"
				"directx y\n"
				"block\n"
				"strict on # via\n"
				"via";
	size_t n;
	char *s = cfg_strip_rules(t, strlen(t), &n);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "proxy a http://198.18.0.1:1\n\n\n"
			    "directx y\n\nstrict on # via\n");
	assert_int_equal(n, strlen(s));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attached_decides_as_built),
		cmocka_unit_test(test_cli_rule_and_strict),
		cmocka_unit_test(test_proxies_must_match),
		cmocka_unit_test(test_groups_in_image),
		cmocka_unit_test(test_header_damage_refused),
		cmocka_unit_test(test_entry_damage_blocks),
		cmocka_unit_test(test_strip_keeps_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
