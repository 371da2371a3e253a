/*
 * test_learn.c - --learn's rule file from hand-written audit lines: the
 * rule each destination had, proxies and groups copied with their
 * passwords, names never widened, lookups without a port, refusals as
 * comments, and names that are not DNS names kept out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "learn.h"

#define EV(ev, exe, name, addr, port, at, text, act) \
	"{\"time\":\"t\",\"pid\":1,\"exe\":\"" exe "\",\"event\":\"" ev \
	"\",\"proto\":\"tcp\",\"dest\":{\"name\":" name ",\"addr\":" addr \
	",\"port\":" port "},\"rule\":{\"at\":" at ",\"text\":\"" text \
	"\"},\"action\":\"" act "\",\"proxy\":null,\"outcome\":\"ok\"," \
	"\"error\":null,\"handshake_ms\":null}"

static const char conf[] =
	"proxy a http://u%40x:p%23w@198.18.0.1:3128 max_conns=4\n"
	"proxy b socks5h://[2001:db8::1]:1080\n"
	"proxy c socks5h://198.18.0.3:1080\n"
	"group g b c mode=round-robin\n"
	"via a .world.test\n"
	"via g>a proxy_protocol=v2 *.deep.test\n"
	"block 198.18.1.3\n"
	"direct .local.test\n"
	"strict on\n";

static const char *const lines[] = {
	EV("connect", "/usr/bin/curl", "\"www.world.test\"", "null", "80",
	   "\"c.conf:5\"", "via a .world.test", "via"),
	EV("connect", "/usr/bin/curl", "\"www.world.test\"", "null", "80",
	   "\"c.conf:5\"", "via a .world.test", "via"),
	EV("connect", "/usr/bin/curl", "\"api.world.test\"", "null", "443",
	   "\"c.conf:5\"", "via a .world.test", "via"),
	EV("proxy-error", "/usr/bin/git", "\"x.deep.test\"", "null", "22",
	   "\"c.conf:6\"", "via g>a proxy_protocol=v2 *.deep.test", "via"),
	/* no rule: direct; a name by address (the event names it) */
	EV("connect", "/usr/bin/python3.11", "\"Py.Local.Test.\"",
	   "\"198.18.0.1\"", "8080", "\"c.conf:8\"", "direct .local.test",
	   "direct"),
	EV("connect", "/usr/bin/python3.11", "null", "\"198.18.0.1\"", "8080",
	   "null", "no rule matched", "direct"),
	EV("connect", "/usr/bin/python3.11", "null", "\"2001:db8::5\"", "22",
	   "null", "no rule matched", "direct"),
	/* a lookup without a port, then a connect: the name on any port */
	EV("resolve", "/usr/bin/ssh", "\"h.other.test\"", "null", "null",
	   "null", "no rule matched", "local"),
	EV("connect", "/usr/bin/ssh", "\"h.other.test\"", "\"198.18.0.9\"",
	   "22", "null", "no rule matched", "direct"),
	EV("block", "/usr/bin/curl", "null", "\"198.18.1.3\"", "80",
	   "\"c.conf:7\"", "block 198.18.1.3", "block"),
	EV("connect", "/usr/bin/curl", "null", "\"127.0.0.1\"", "80",
	   "null", "loopback default", "direct"),
	/* the program's bytes: never a rule */
	EV("connect", "/usr/bin/evil", "\"a.test\\n\\nvia a *\"", "null",
	   "80", "null", "no rule matched", "direct"),
	EV("connect", "/usr/bin/evil", "\"b test\"", "null", "80", "null",
	   "no rule matched", "direct"),
};

static char *
learned(void)
{
	struct config *cfg = cfg_parse("c.conf", conf, sizeof(conf) - 1);
	struct learn *l = learn_new();
	size_t i, len;
	char *text;

	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 0);
	assert_non_null(l);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		learn_add(l, lines[i], strlen(lines[i]));
	text = learn_text(l, cfg, "sh -c 'make test'", &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	learn_free(l);
	cfg_free(cfg);
	return text;
}

static void
test_learn_rules(void **state)
{
	char *t = learned();

	(void)state;
	assert_non_null(strstr(t, "\nstrict on\n"));
	/* the proxies the kept rules name, with their credentials */
	assert_non_null(strstr(t, "\nproxy a http://u%40x:p%23w@198.18.0.1:"
			       "3128 max_conns=4\n"));
	assert_non_null(strstr(t, "\nproxy b socks5h://[2001:db8::1]:1080\n"
			       "proxy c socks5h://198.18.0.3:1080\n"
			       "group g b c mode=round-robin\n"));
	/* the same programs share a line, names next to their suffix */
	assert_non_null(strstr(t, "\n# /usr/bin/curl 3x\nvia a "
			       "api.world.test:443 www.world.test:80\n"));
	assert_non_null(strstr(t, "\n# /usr/bin/git 1x\nvia g>a "
			       "proxy_protocol=v2 x.deep.test:22\n"));
	/* names first, then addresses */
	assert_non_null(strstr(t, "\n# /usr/bin/python3.11 3x\ndirect "
			       "py.local.test:8080 198.18.0.1:8080 "
			       "[2001:db8::5]:22\n"));
	assert_non_null(strstr(t, "\n# /usr/bin/ssh 1x\ndirect "
			       "h.other.test\n"));
	assert_null(strstr(t, "h.other.test:22"));
	/* refusals and loopback are no rules */
	assert_non_null(strstr(t, "\n#   198.18.1.3:80 by /usr/bin/curl "
			       "(c.conf:7 block 198.18.1.3)\n"));
	assert_null(strstr(t, "127.0.0.1"));
	assert_null(strstr(t, "\nblock"));
	/* nothing from the program's names reaches a line of its own */
	assert_null(strstr(t, "\nvia a *"));
	assert_null(strstr(t, "b test"));
	assert_non_null(strstr(t, "2 uses of names that are not DNS names"));
	free(t);
}

/* The learned text parses, and decides as the events said. */
static void
test_learn_parses(void **state)
{
	char *t = learned();
	struct config *cfg = cfg_parse("learned", t, strlen(t));

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 0);
	assert_true(cfg->strict);
	assert_int_equal(cfg->nproxies, 3);
	assert_int_equal(cfg->ngroups, 1);
	cfg_free(cfg);
	free(t);
}

static void
test_learn_unstrict(void **state)
{
	char text[] = "proxy a http://h:1\n  strict on # x\nstrictness\n"
		      "\tstrict\toff\nvia a *\n";
	struct config *cfg;

	(void)state;
	learn_unstrict(text, strlen(text));
	assert_string_equal(text, "proxy a http://h:1\n               \n"
				  "strictness\n\t          \nvia a *\n");
	cfg = cfg_parse("t", "strict on\n", 10);
	assert_true(cfg->strict);
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_rules),
		cmocka_unit_test(test_learn_parses),
		cmocka_unit_test(test_learn_unstrict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
