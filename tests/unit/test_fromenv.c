/*
 * test_fromenv.c - --from-env: curl's variable precedence, the rules
 * built, and NO_PROXY decisions of those rules against curl's algorithm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "config.h"
#include "fromenv.h"
#include "rules.h"

/* A fake environment: "NAME=value" strings, NULL-terminated. */
static const char *
fake_get(const char *name, void *ctx)
{
	const char *const *env = ctx;
	size_t l = strlen(name);

	for (; *env != NULL; env++)
		if (strncmp(*env, name, l) == 0 && (*env)[l] == '=')
			return *env + l + 1;
	return NULL;
}

static void
test_fromenv_pick(void **state)
{
	const char *e1[] = { "HTTP_PROXY=http://up:1", "HTTPS_PROXY=http://s:2",
			     "https_proxy=", "ALL_PROXY=socks5h://a:3",
			     "NO_PROXY=x.example", NULL };
	const char *e2[] = { "http_proxy=h:1", "https_proxy=http://s:2",
			     "HTTPS_PROXY=http://S:3", "all_proxy=socks5://a:4",
			     "ALL_PROXY=socks5://A:5", "no_proxy=a",
			     "NO_PROXY=b", NULL };
	struct fromenv_vars v;

	(void)state;
	fromenv_pick(fake_get, e1, &v);
	assert_null(v.http);	/* curl ignores HTTP_PROXY */
	assert_string_equal(v.https, "http://s:2");	/* empty = unset */
	assert_string_equal(v.https_var, "HTTPS_PROXY");
	assert_string_equal(v.all, "socks5h://a:3");
	assert_string_equal(v.no_proxy, "x.example");
	assert_string_equal(v.no_proxy_var, "NO_PROXY");
	fromenv_pick(fake_get, e2, &v);
	assert_string_equal(v.http, "h:1");
	assert_string_equal(v.https, "http://s:2");
	assert_string_equal(v.all, "socks5://a:4");
	assert_string_equal(v.no_proxy, "a");
}

/* Build, parse, compile; the config must have no errors. */
static struct config *
build(const struct fromenv_vars *v, struct rules **r)
{
	char text[8192];
	struct config *cfg;
	int n = fromenv_build(v, text, sizeof(text));

	assert_true(n > 0);
	cfg = cfg_parse("env", text, (size_t)n);
	assert_non_null(cfg);
	if (cfg->nerrs > 0)
		fail_msg("%s\n%s", text, cfg->errs[0]);
	*r = rules_compile(cfg);
	assert_non_null(*r);
	return cfg;
}

static void
test_fromenv_ports(void **state)
{
	struct fromenv_vars v = { .http = "http://h:3128/",
				  .https = "s.example:8080",
				  .all = "socks5h://a:1080",
				  .http_var = "http_proxy",
				  .https_var = "HTTPS_PROXY",
				  .all_var = "ALL_PROXY" };
	struct rules *r;
	struct config *cfg = build(&v, &r);
	struct decision d;

	(void)state;
	rules_decide_name(r, "x.example", 443, &d);
	assert_int_equal(d.action, CFG_VIA);
	assert_string_equal(cfg->proxies[d.rule->chain[0]].name, "https");
	assert_int_equal(cfg->proxies[d.rule->chain[0]].url.scheme, URL_HTTP);
	rules_decide_name(r, "x.example", 80, &d);
	assert_string_equal(cfg->proxies[d.rule->chain[0]].name, "http");
	rules_decide_name(r, "x.example", 22, &d);
	assert_string_equal(cfg->proxies[d.rule->chain[0]].name, "all");
	rules_free(r);
	cfg_free(cfg);

	/* no HTTPS proxy: 443 falls back to ALL; no ALL: others direct */
	memset(&v, 0, sizeof(v));
	v.all = "socks5h://a:1080";
	v.all_var = "all_proxy";
	cfg = build(&v, &r);
	rules_decide_name(r, "x.example", 443, &d);
	assert_string_equal(cfg->proxies[d.rule->chain[0]].name, "all");
	rules_free(r);
	cfg_free(cfg);
	memset(&v, 0, sizeof(v));
	v.https = "http://s:1";
	v.https_var = "https_proxy";
	cfg = build(&v, &r);
	rules_decide_name(r, "x.example", 22, &d);
	assert_int_equal(d.action, CFG_DIRECT);
	assert_null(d.rule);
	rules_free(r);
	cfg_free(cfg);
}

static void
test_fromenv_bad_url(void **state)
{
	struct fromenv_vars v = { .all = "http://a b", .all_var = "ALL_PROXY" };
	char text[512];

	(void)state;
	assert_int_equal(fromenv_build(&v, text, sizeof(text)), -EINVAL);
	v.all = "http://a:1\n via x *";
	assert_int_equal(fromenv_build(&v, text, sizeof(text)), -EINVAL);
	v.all = "http://u:p#w@a:1";	/* '#' must not start a comment */
	assert_true(fromenv_build(&v, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "u:p%23w@a:1"));
	assert_int_equal(fromenv_build(&v, text, 8), -ENOSPC);
}

static void
test_fromenv_noproxy_text(void **state)
{
	static const struct { const char *in, *out; bool all; } c[] = {
		{ "*", "", true },
		{ "", "", false },
		{ "Example.COM", ".example.com", false },
		{ ".example.com, ,a.b", ".example.com .a.b", false },
		{ "10.1.2.3/8,10.1.2.3", "10.0.0.0/8 10.1.2.3/32", false },
		{ "10.0.0.0/0", "10.0.0.0/32", false },	/* curl: 0 = all */
		{ "10.0.0.0/33,10.0.0.0/-1", "", false },
		{ "2001:db8::1/32,::1", "2001:db8::/32 ::1/128", false },
		{ "host:80,*.x,*,a*b,x/y,a..b,a.,\tx", "", false },
		{ "*,a", ".a", false },
		{ "123,1.2.3", "", false },
	};
	char out[256];
	bool all;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_true(fromenv_noproxy(c[i].in, strlen(c[i].in), &all,
					    out, sizeof(out)) >= 0);
		assert_string_equal(out, c[i].out);
		assert_int_equal(all, c[i].all);
	}
	assert_int_equal(fromenv_noproxy("a.example", 9, &all, out, 4),
			 -ENOSPC);
}

/* The rules' decision for host agrees with curl's algorithm. */
static bool
rules_noproxy(const char *np, const char *host)
{
	struct fromenv_vars v = { .all = "http://p:1", .all_var = "A",
				  .no_proxy = np, .no_proxy_var = "N" };
	struct rules *r;
	struct config *cfg = build(&v, &r);
	struct decision d;
	uint8_t a[16];
	bool direct;

	if (inet_pton(AF_INET, host, a) == 1)
		rules_decide_addr(r, AF_INET, a, 80, &d);
	else if (inet_pton(AF_INET6, host, a) == 1)
		rules_decide_addr(r, AF_INET6, a, 80, &d);
	else
		rules_decide_name(r, host, 80, &d);
	direct = d.action == CFG_DIRECT;
	rules_free(r);
	cfg_free(cfg);
	return direct;
}

static void
test_fromenv_vs_curl(void **state)
{
	static const struct { const char *np, *host; bool direct; } c[] = {
		{ "example.com", "example.com", true },
		{ "example.com", "www.example.com", true },
		{ "example.com", "wwwexample.com", false },
		{ ".example.com", "example.com", true },
		{ ".example.com", "a.b.example.com", true },
		{ "EXAMPLE.com", "www.Example.COM", true },
		{ "example.com", "example.com.", true },
		{ "example.com:80", "example.com", false },
		{ "*.example.com", "a.example.com", false },
		{ "com", "a.example.com", true },
		{ "a,b ,c", "x.c", true },
		{ "a;b", "a", false },
		{ "10.0.0.0/8", "10.9.8.7", true },
		{ "10.0.0.0/8", "11.0.0.1", false },
		{ "10.1.2.3", "10.1.2.3", true },
		{ "10.1.2.3", "10.1.2.4", false },
		{ "10.0.0.0/0", "10.0.0.1", false },
		{ "10.0.0.0/33", "10.0.0.0", false },
		{ "10.0.0.0/8", "ten.example", false },
		{ "2001:db8::/32", "2001:db8:1::5", true },
		{ "2001:db8::/32", "2001:db9::5", false },
		{ "*", "anything.example", true },
		{ "*,x", "anything.example", false },
		{ "", "example.com", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (fromenv_curl_noproxy(c[i].host, c[i].np) != c[i].direct)
			fail_msg("curl model: NO_PROXY=%s %s", c[i].np,
				 c[i].host);
		if (c[i].np[0] == '\0')
			continue;	/* unset: not a NO_PROXY rule */
		if (rules_noproxy(c[i].np, c[i].host) != c[i].direct)
			fail_msg("rules: NO_PROXY=%s %s", c[i].np, c[i].host);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fromenv_pick),
		cmocka_unit_test(test_fromenv_ports),
		cmocka_unit_test(test_fromenv_bad_url),
		cmocka_unit_test(test_fromenv_noproxy_text),
		cmocka_unit_test(test_fromenv_vs_curl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
