/*
 * test_config.c - the rule file: every statement, every destination form,
 * every error message exactly as a user sees it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "config.h"

static struct config *
parse(const char *text)
{
	struct config *cfg = cfg_parse("shim.conf", text, strlen(text));

	assert_non_null(cfg);
	return cfg;
}

/* The example of DESIGN.md parses cleanly. */
static void
test_cfg_design_example(void **state)
{
	static const char text[] =
		"proxy corp  http://alice:secret@proxy.corp.example:3128\n"
		"proxy tor   socks5h://127.0.0.1:9050        # remote DNS\n"
		"proxy lab   socks5://198.18.0.7:1080\n"
		"\n"
		"direct  localhost 127.0.0.0/8 ::1 .corp.example 10.0.0.0/8\n"
		"block   169.254.169.254\n"
		"via tor   .onion\n"
		"via lab   198.18.1.0/24:22 *.lab.example\n"
		"via corp  *\n"
		"\n"
		"connect_timeout 5s\n"
		"strict on           # unmatched destinations are blocked\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->nproxies, 3);
	assert_string_equal(cfg->proxies[0].name, "corp");
	assert_string_equal(cfg->proxies[0].url.pass, "secret");
	assert_int_equal(cfg->proxies[1].url.scheme, URL_SOCKS5H);
	assert_int_equal(cfg->proxies[2].line, 3);
	assert_int_equal(cfg->nrules, 5);
	assert_int_equal(cfg->rules[0].action, CFG_DIRECT);
	assert_int_equal(cfg->rules[0].ndests, 5);
	assert_int_equal(cfg->rules[0].line, 5);
	assert_string_equal(cfg->rules[0].text,
			    "direct localhost 127.0.0.0/8 ::1 .corp.example "
			    "10.0.0.0/8");
	assert_int_equal(cfg->rules[1].action, CFG_BLOCK);
	assert_string_equal(cfg->rules[1].text, "block 169.254.169.254");
	assert_int_equal(cfg->rules[2].action, CFG_VIA);
	assert_int_equal(cfg->rules[2].nchain, 1);
	assert_int_equal(cfg->rules[2].chain[0], 1);
	assert_int_equal(cfg->rules[3].chain[0], 2);
	assert_int_equal(cfg->rules[4].dests[0].kind, DEST_ANY);
	assert_int_equal(cfg->connect_timeout_ms, 5000);
	assert_true(cfg->strict);
	cfg_free(cfg);
}

static void
test_cfg_defaults(void **state)
{
	struct config *cfg = parse("# nothing\n\n   \t\n");

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->nrules, 0);
	assert_int_equal(cfg->connect_timeout_ms, CFG_TIMEOUT_DEFAULT_MS);
	assert_false(cfg->strict);
	assert_false(cfg->sni_must_match);
	cfg_free(cfg);
	cfg = parse("sni_must_match on\n");
	assert_int_equal(cfg->nerrs, 0);
	assert_true(cfg->sni_must_match);
	assert_string_equal(cfg_action_str(CFG_DIRECT), "direct");
	assert_string_equal(cfg_action_str(CFG_BLOCK), "block");
	assert_string_equal(cfg_action_str(CFG_VIA), "via");
	cfg_free(cfg);
	cfg = parse("");
	assert_int_equal(cfg->nerrs, 0);
	cfg_free(cfg);
}

struct dest_case {
	const char *word;
	enum cfg_dest_kind kind;
	const char *name;	/* names */
	int family;		/* cidrs */
	const char *addr;
	int prefix;
	uint16_t lo, hi;
};

static const struct dest_case dest_cases[] = {
	{ "example.com", DEST_NAME, "example.com", 0, NULL, 0, 0, 65535 },
	{ "Example.COM.", DEST_NAME, "example.com", 0, NULL, 0, 0, 65535 },
	{ ".example.com", DEST_SUFFIX, "example.com", 0, NULL, 0, 0, 65535 },
	{ "*.example.com", DEST_GLOB, "example.com", 0, NULL, 0, 0, 65535 },
	{ "*.Example.com.:443", DEST_GLOB, "example.com", 0, NULL, 0,
	  443, 443 },
	{ "my_host-1", DEST_NAME, "my_host-1", 0, NULL, 0, 0, 65535 },
	{ "example.com:22", DEST_NAME, "example.com", 0, NULL, 0, 22, 22 },
	{ ".example.com:8000-8080", DEST_SUFFIX, "example.com", 0, NULL, 0,
	  8000, 8080 },
	{ "*", DEST_ANY, NULL, 0, NULL, 0, 0, 65535 },
	{ "*:443", DEST_ANY, NULL, 0, NULL, 0, 443, 443 },
	{ "*:1-1024", DEST_ANY, NULL, 0, NULL, 0, 1, 1024 },
	{ "10.0.0.0/8", DEST_CIDR, NULL, AF_INET, "10.0.0.0", 8, 0, 65535 },
	{ "198.18.0.1", DEST_CIDR, NULL, AF_INET, "198.18.0.1", 32,
	  0, 65535 },
	{ "0.0.0.0/0", DEST_CIDR, NULL, AF_INET, "0.0.0.0", 0, 0, 65535 },
	{ "198.18.0.0/15:22", DEST_CIDR, NULL, AF_INET, "198.18.0.0", 15,
	  22, 22 },
	{ "198.18.0.1:1-65535", DEST_CIDR, NULL, AF_INET, "198.18.0.1", 32,
	  1, 65535 },
	{ "2001:db8::/32", DEST_CIDR, NULL, AF_INET6, "2001:db8::", 32,
	  0, 65535 },
	{ "::1", DEST_CIDR, NULL, AF_INET6, "::1", 128, 0, 65535 },
	{ "::/0", DEST_CIDR, NULL, AF_INET6, "::", 0, 0, 65535 },
	{ "[2001:db8::1]:22", DEST_CIDR, NULL, AF_INET6, "2001:db8::1", 128,
	  22, 22 },
	{ "[2001:db8::/32]:22-23", DEST_CIDR, NULL, AF_INET6, "2001:db8::",
	  32, 22, 23 },
	{ "[2001:db8::1]", DEST_CIDR, NULL, AF_INET6, "2001:db8::1", 128,
	  0, 65535 },
	/* v4-mapped prefixes become IPv4: addresses are decided that way */
	{ "::ffff:198.18.0.0/112", DEST_CIDR, NULL, AF_INET, "198.18.0.0",
	  16, 0, 65535 },
	{ "[::ffff:198.18.0.1]:80", DEST_CIDR, NULL, AF_INET, "198.18.0.1",
	  32, 80, 80 },
};

static void
test_cfg_dests(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dest_cases) / sizeof(dest_cases[0]); i++) {
		const struct dest_case *c = &dest_cases[i];
		const struct cfg_dest *d;
		struct config *cfg;
		char text[128];
		uint8_t a[16] = { 0 };

		snprintf(text, sizeof(text), "block %s\n", c->word);
		cfg = parse(text);
		if (cfg->nerrs != 0)
			fail_msg("%s: %s", c->word, cfg->errs[0]);
		assert_int_equal(cfg->nrules, 1);
		assert_int_equal(cfg->rules[0].ndests, 1);
		d = &cfg->rules[0].dests[0];
		assert_int_equal(d->kind, c->kind);
		if (c->name != NULL)
			assert_string_equal(d->name, c->name);
		if (c->kind == DEST_CIDR) {
			assert_int_equal(d->family, c->family);
			assert_int_equal(inet_pton(c->family, c->addr, a), 1);
			assert_memory_equal(d->addr, a,
					    c->family == AF_INET ? 4 : 16);
			assert_int_equal(d->prefix, c->prefix);
		}
		assert_int_equal(d->port_lo, c->lo);
		assert_int_equal(d->port_hi, c->hi);
		cfg_free(cfg);
	}
}

struct err_case {
	const char *text;
	const char *err;
};

static const struct err_case err_cases[] = {
	{ "frobnicate x", "shim.conf:1: unknown keyword 'frobnicate'" },
	/* raw bytes of the file never reach a terminal: escaped */
	{ "\x1b[2Jfrob\x7f x", "shim.conf:1: unknown keyword "
	  "'\\x1b[2Jfrob\\x7f'" },
	{ "\nDirect x", "shim.conf:2: unknown keyword 'Direct'" },
	{ "proxy corp", "shim.conf:1: proxy: expected NAME URL [max_conns=N] "
	  "[optimistic=on] [tfo=on] [auth=negotiate [spn=SERVICE/HOST]]" },
	{ "proxy corp http://h x", "shim.conf:1: proxy 'corp': unknown option "
	  "'x' (known: max_conns, optimistic, tfo, auth, spn, ca, sni, pin, "
	  "http2)" },
	{ "proxy corp http://h mode=random", "shim.conf:1: proxy 'corp': "
	  "unknown option 'mode' (known: max_conns, optimistic, tfo, auth, spn, ca, sni, pin, "
	  "http2)" },
	/* RFC 9931: a CONNECT tunnel takes no byte before its 2xx */
	{ "proxy a http://h optimistic=on", "shim.conf:1: proxy 'a': "
	  "optimistic=on needs a SOCKS5 proxy (HTTP CONNECT waits for its 2xx "
	  "before any byte of the program: RFC 9931)" },
	{ "proxy a https://h optimistic=on", "shim.conf:1: proxy 'a': "
	  "optimistic=on needs a SOCKS5 proxy (HTTP CONNECT waits for its 2xx "
	  "before any byte of the program: RFC 9931)" },
	{ "proxy a socks5://h optimistic=yes", "shim.conf:1: proxy 'a': bad "
	  "optimistic 'yes' (use on or off)" },
	{ "proxy a socks5://h tfo=", "shim.conf:1: proxy 'a': bad tfo '' "
	  "(use on or off)" },
	{ "proxy a socks5://h optimistic", "shim.conf:1: proxy 'a': unknown "
	  "option 'optimistic' (known: max_conns, optimistic, tfo, auth, spn, ca, sni, pin, "
	  "http2)" },
	{ "proxy a http://h ca=/etc/ssl/x.pem", "shim.conf:1: proxy 'a': ca= "
	  "is for an https:// proxy" },
	{ "proxy a https://h ca=etc/x.pem", "shim.conf:1: proxy 'a': ca= "
	  "needs an absolute path" },
	{ "proxy a https://h sni=bad_name!", "shim.conf:1: proxy 'a': bad "
	  "sni 'bad_name!' (a DNS name)" },
	{ "proxy a https://h pin=md5/AAAA", "shim.conf:1: proxy 'a': bad pin "
	  "(use sha256/ and the base64 of a SHA-256, 44 characters)" },
	{ "proxy a https://h pin=sha256/AAAA", "shim.conf:1: proxy 'a': bad "
	  "pin (use sha256/ and the base64 of a SHA-256, 44 characters)" },
	{ "proxy a https://h http2=yes", "shim.conf:1: proxy 'a': bad http2 "
	  "'yes' (use on or off)" },
	{ "proxy a http://h\nproxy b https://h\nvia a>b *", "shim.conf:3: via: "
	  "https proxy 'b' can only be a chain's first hop" },
	{ "proxy a http://h auth=ntlm", "shim.conf:1: proxy 'a': bad auth "
	  "'ntlm' (known: negotiate; a Basic user:password goes in the URL)" },
	{ "proxy a http://h auth=", "shim.conf:1: proxy 'a': bad auth '' "
	  "(known: negotiate; a Basic user:password goes in the URL)" },
	{ "proxy a socks5h://h auth=negotiate", "shim.conf:1: proxy 'a': "
	  "auth=negotiate is for http:// and https:// proxies (HTTP "
	  "Negotiate, RFC 4559)" },
	{ "proxy a http://u:p@h auth=negotiate", "shim.conf:1: proxy 'a': "
	  "auth=negotiate and a user:password in the URL: use one" },
	{ "proxy a http://h spn=HTTP/h", "shim.conf:1: proxy 'a': spn= needs "
	  "auth=negotiate" },
	{ "proxy a http://h auth=negotiate spn=h", "shim.conf:1: proxy 'a': "
	  "bad spn 'h' (want SERVICE/HOST or SERVICE/HOST@REALM, e.g. "
	  "HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=/h", "shim.conf:1: proxy 'a': "
	  "bad spn '/h' (want SERVICE/HOST or SERVICE/HOST@REALM, e.g. "
	  "HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=HTTP/", "shim.conf:1: proxy "
	  "'a': bad spn 'HTTP/' (want SERVICE/HOST or SERVICE/HOST@REALM, "
	  "e.g. HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=HTTP/h/i", "shim.conf:1: proxy "
	  "'a': bad spn 'HTTP/h/i' (want SERVICE/HOST or SERVICE/HOST@REALM, "
	  "e.g. HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=HTTP/h@", "shim.conf:1: proxy "
	  "'a': bad spn 'HTTP/h@' (want SERVICE/HOST or SERVICE/HOST@REALM, "
	  "e.g. HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=HTTP/h@R@S", "shim.conf:1: "
	  "proxy 'a': bad spn 'HTTP/h@R@S' (want SERVICE/HOST or "
	  "SERVICE/HOST@REALM, e.g. HTTP/proxy.example.com)" },
	{ "proxy a http://h auth=negotiate spn=HT_P/h", "shim.conf:1: proxy "
	  "'a': bad spn 'HT_P/h' (want SERVICE/HOST or SERVICE/HOST@REALM, "
	  "e.g. HTTP/proxy.example.com)" },
	{ "proxy a http://h max_conns=0", "shim.conf:1: proxy 'a': bad "
	  "max_conns '0' (use 1..65535)" },
	{ "proxy a http://h max_conns=65536", "shim.conf:1: proxy 'a': bad "
	  "max_conns '65536' (use 1..65535)" },
	{ "proxy a http://h max_conns=", "shim.conf:1: proxy 'a': bad "
	  "max_conns '' (use 1..65535)" },
	{ "proxy a http://h max_conns=2x", "shim.conf:1: proxy 'a': bad "
	  "max_conns '2x' (use 1..65535)" },
	{ "group g", "shim.conf:1: group: expected NAME and one or more "
	  "proxies" },
	{ "group g a", "shim.conf:1: group 'g': unknown proxy 'a'" },
	{ "group g>h a", "shim.conf:1: bad group name 'g>h' (letters, digits, "
	  "'-', '_', '.')" },
	{ "proxy a http://h\ngroup a a", "shim.conf:2: group 'a': a proxy of "
	  "that name is defined at line 1" },
	{ "proxy a http://h\ngroup g a\ngroup g a", "shim.conf:3: group 'g' "
	  "already defined at line 2" },
	{ "proxy a http://h\ngroup g a a", "shim.conf:2: group 'g': proxy 'a' "
	  "named twice" },
	/* a group holds proxies only: not itself, not another group */
	{ "proxy a http://h\ngroup g g a", "shim.conf:2: group 'g': 'g' is a "
	  "group (a group holds proxies, not groups)" },
	{ "proxy a http://h\ngroup h a\ngroup g a h", "shim.conf:3: group "
	  "'g': 'h' is a group (a group holds proxies, not groups)" },
	{ "proxy a http://h\ngroup g a mode=fast", "shim.conf:2: group 'g': "
	  "bad mode 'fast' (use failover, round-robin or random)" },
	{ "proxy a http://h\ngroup g a speed=1", "shim.conf:2: group 'g': "
	  "unknown option 'speed' (known: mode)" },
	{ "group g mode=random", "shim.conf:1: group 'g': no proxies" },
	{ "proxy a http://h\nproxy b socks5://h\ngroup g a b",
	  "shim.conf:3: group 'g': 'a' leaves names to the proxy, 'b' "
	  "resolves them locally first (members must agree: http:// or "
	  "socks5h://, or socks5:// for all)" },
	{ "proxy c>p http://h", "shim.conf:1: bad proxy name 'c>p' "
	  "(letters, digits, '-', '_', '.')" },
	{ "proxy corp ftp://h", "shim.conf:1: bad URL for proxy 'corp': "
	  "unknown scheme (use http, https, socks5 or socks5h)" },
	{ "proxy corp http://alice:hunter2@h:0",
	  "shim.conf:1: bad URL for proxy 'corp': bad port (use 1..65535)" },
	{ "proxy corp socks5://u:1#x@h", "shim.conf:1: '#' starts a comment: "
	  "write it as %23 inside a URL" },
	{ "proxy corp http://h\n\nproxy corp http://g",
	  "shim.conf:3: proxy 'corp' already defined at line 1" },
	{ "direct", "shim.conf:1: direct: no destinations" },
	{ "block # all", "shim.conf:1: block: no destinations" },
	{ "via", "shim.conf:1: via: missing proxy name" },
	{ "proxy corp http://h\nvia corp", "shim.conf:2: via: no destinations" },
	{ "via corp2 *", "shim.conf:1: unknown proxy 'corp2' "
	  "(no proxies defined)" },
	{ "proxy corp http://h\nproxy tor socks5h://h\nvia corp2 *",
	  "shim.conf:3: unknown proxy 'corp2' (defined: corp, tor)" },
	{ "proxy a http://h\nvia a>>a *",
	  "shim.conf:2: via: empty proxy name in 'a>>a'" },
	{ "proxy a http://h\nvia a>a>a>a>a>a>a>a>a *",
	  "shim.conf:2: via: more than 8 proxies in a chain" },
	{ "block 10.0.0.1/8", "shim.conf:1: host bits set in 10.0.0.1/8; "
	  "did you mean 10.0.0.0/8?" },
	{ "block 2001:db8::1/32", "shim.conf:1: host bits set in "
	  "2001:db8::1/32; did you mean 2001:db8::/32?" },
	{ "block 10.0.0.0/33", "shim.conf:1: bad prefix length in "
	  "'10.0.0.0/33' (use 0..32)" },
	{ "block 10.0.0.0/", "shim.conf:1: bad prefix length in "
	  "'10.0.0.0/' (use 0..32)" },
	{ "block ::/129", "shim.conf:1: bad prefix length in '::/129' "
	  "(use 0..128)" },
	{ "block 10.0.0.0/x", "shim.conf:1: bad prefix length in "
	  "'10.0.0.0/x' (use 0..32)" },
	{ "block 10.0.0.256", "shim.conf:1: bad address in '10.0.0.256'" },
	{ "block 10.1", "shim.conf:1: bad address in '10.1'" },
	{ "block 2001:db8::g", "shim.conf:1: bad address in '2001:db8::g'" },
	{ "block [2001:db8::1", "shim.conf:1: bad destination "
	  "'[2001:db8::1'" },
	{ "block [198.18.0.1]:22", "shim.conf:1: bad destination "
	  "'[198.18.0.1]:22'" },
	{ "block [::1]x", "shim.conf:1: bad destination '[::1]x'" },
	{ "block a:0", "shim.conf:1: bad port in 'a:0' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block a:65536", "shim.conf:1: bad port in 'a:65536' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block a:20-10", "shim.conf:1: bad port in 'a:20-10' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block a:1-2-3", "shim.conf:1: bad port in 'a:1-2-3' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block a:", "shim.conf:1: bad port in 'a:' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block *:x", "shim.conf:1: bad port in '*:x' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block [::1]:0", "shim.conf:1: bad port in '[::1]:0' "
	  "(use 1..65535 or LOW-HIGH)" },
	{ "block a..b", "shim.conf:1: bad destination 'a..b'" },
	{ "block .", "shim.conf:1: bad destination '.'" },
	/* fuzz_config: "a.." was kept as the name "a." */
	{ "block a..", "shim.conf:1: bad destination 'a..'" },
	{ "block .a..", "shim.conf:1: bad destination '.a..'" },
	{ "block *.", "shim.conf:1: bad destination '*.'" },
	{ "block **.a", "shim.conf:1: bad destination '**.a'" },
	{ "block a.*.b", "shim.conf:1: bad destination 'a.*.b'" },
	{ "block a/b", "shim.conf:1: bad address in 'a/b'" },
	{ "connect_timeout", "shim.conf:1: connect_timeout: expected one "
	  "value like 5s or 500ms" },
	{ "connect_timeout 0", "shim.conf:1: bad connect_timeout '0' "
	  "(use 1ms..600s)" },
	{ "connect_timeout 601s", "shim.conf:1: bad connect_timeout '601s' "
	  "(use 1ms..600s)" },
	{ "connect_timeout 5m", "shim.conf:1: bad connect_timeout '5m' "
	  "(use 1ms..600s)" },
	{ "connect_timeout s", "shim.conf:1: bad connect_timeout 's' "
	  "(use 1ms..600s)" },
	{ "connect_timeout 99999999999999999999",
	  "shim.conf:1: bad connect_timeout '99999999999999999999' "
	  "(use 1ms..600s)" },
	{ "strict yes", "shim.conf:1: bad strict value 'yes' "
	  "(use on or off)" },
	{ "strict", "shim.conf:1: strict: expected on or off" },
	{ "strict on off", "shim.conf:1: strict: expected on or off" },
	{ "sni_must_match yes", "shim.conf:1: bad sni_must_match value "
	  "'yes' (use on or off)" },
	{ "sni_must_match", "shim.conf:1: sni_must_match: expected on or off" },
	{ "block a\0b", "shim.conf:1: NUL byte in line" },
};

static void
test_cfg_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const char *t = err_cases[i].text;
		size_t len = strlen(t);
		struct config *cfg;

		/* the NUL case: the text goes on after the NUL */
		if (strcmp(t, "block a") == 0)
			len = 9;
		cfg = cfg_parse("shim.conf", t, len);
		assert_non_null(cfg);
		if (cfg->nerrs != 1)
			fail_msg("'%s': %zu errors", t, cfg->nerrs);
		assert_string_equal(cfg->errs[0], err_cases[i].err);
		assert_null(strstr(cfg->errs[0], "hunter2"));
		/* a rule with an error is dropped whole */
		assert_int_equal(cfg->nrules, 0);
		cfg_free(cfg);
	}
}

static void
test_cfg_timeouts(void **state)
{
	static const struct {
		const char *v;
		int ms;
	} cases[] = {
		{ "5", 5000 }, { "5s", 5000 }, { "1ms", 1 },
		{ "600s", 600000 }, { "600000ms", 600000 }, { "250ms", 250 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[64];
		struct config *cfg;

		snprintf(text, sizeof(text), "connect_timeout %s", cases[i].v);
		cfg = parse(text);
		assert_int_equal(cfg->nerrs, 0);
		assert_int_equal(cfg->connect_timeout_ms, cases[i].ms);
		cfg_free(cfg);
	}
}

/* Errors come out in line order, parsing goes on after each, and a
 * proxy may be defined after the rule that uses it. */
static void
test_cfg_keeps_going(void **state)
{
	static const char text[] =
		"via tor .onion\n"
		"bogus\n"
		"proxy tor socks5h://127.0.0.1:9050\n"
		"proxy bad ftp://h\n"
		"block 10.0.0.1/8 198.18.0.0/15\n"
		"direct example.com\n"
		"strict maybe\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 4);
	assert_string_equal(cfg->errs[0], "shim.conf:2: unknown keyword "
			    "'bogus'");
	assert_string_equal(cfg->errs[1], "shim.conf:4: bad URL for proxy "
			    "'bad': unknown scheme (use http, https, socks5 "
			    "or socks5h)");
	assert_string_equal(cfg->errs[2], "shim.conf:5: host bits set in "
			    "10.0.0.1/8; did you mean 10.0.0.0/8?");
	assert_string_equal(cfg->errs[3], "shim.conf:7: bad strict value "
			    "'maybe' (use on or off)");
	assert_int_equal(cfg->nrules, 2);
	assert_int_equal(cfg->rules[0].chain[0], 0);
	assert_string_equal(cfg->rules[1].text, "direct example.com");
	assert_int_equal(cfg->rules[1].line, 6);
	cfg_free(cfg);
}

/* Only CFG_ERR_MAX messages are kept; all are counted. */
static void
test_cfg_many_errors(void **state)
{
	char *text = malloc(100 * 8);
	struct config *cfg;
	size_t i, off = 0;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < 100; i++)
		off += (size_t)snprintf(text + off, 8, "bad%02zu\n", i);
	cfg = cfg_parse("f", text, off);
	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 100);
	assert_string_equal(cfg->errs[0], "f:1: unknown keyword 'bad00'");
	assert_string_equal(cfg->errs[CFG_ERR_MAX - 1],
			    "f:64: unknown keyword 'bad63'");
	cfg_free(cfg);
	free(text);
}

static void
test_cfg_chains(void **state)
{
	static const char text[] =
		"proxy a http://198.18.0.1:3128\n"
		"proxy b socks5://198.18.0.2\n"
		"proxy c socks5h://[2001:db8::3]:1080\n"
		"via a>b>c   .example.com\t198.18.0.0/15:443\n"
		"via c>a *\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->rules[0].nchain, 3);
	assert_int_equal(cfg->rules[0].chain[0], 0);
	assert_int_equal(cfg->rules[0].chain[1], 1);
	assert_int_equal(cfg->rules[0].chain[2], 2);
	assert_string_equal(cfg->rules[0].text,
			    "via a>b>c .example.com 198.18.0.0/15:443");
	assert_int_equal(cfg->rules[1].nchain, 2);
	assert_int_equal(cfg->rules[1].chain[0], 2);
	cfg_free(cfg);
}

static void
test_cfg_cli_proxies(void **state)
{
	const char *urls[] = { "socks5://u:pw@198.18.0.1:1080",
			       "http://198.18.0.2:3128" };
	const char *bad[] = { "ftp://u:hunter2@h" };
	struct config *cfg = parse("direct .example.com\n");

	(void)state;
	assert_int_equal(cfg_add_cli_proxies(cfg, "-p", urls, 2), 0);
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->nproxies, 2);
	assert_string_equal(cfg->proxies[0].name, "p1");
	assert_string_equal(cfg->proxies[1].name, "p2");
	assert_int_equal(cfg->nrules, 2);
	assert_string_equal(cfg->rules[1].text, "via p1>p2 *");
	assert_int_equal(cfg->rules[1].nchain, 2);
	assert_int_equal(cfg->rules[1].dests[0].kind, DEST_ANY);
	assert_int_equal(cfg->rules[1].dests[0].port_hi, 65535);
	cfg_free(cfg);

	cfg = parse("");
	assert_int_equal(cfg_add_cli_proxies(cfg, "-p", bad, 1), 0);
	assert_int_equal(cfg->nerrs, 1);
	assert_string_equal(cfg->errs[0], "-p: bad URL for proxy 'p1': "
			    "unknown scheme (use http, https, socks5 or "
			    "socks5h)");
	assert_int_equal(cfg->nrules, 0);
	cfg_free(cfg);

	cfg = parse("proxy p1 http://h\n");
	assert_int_equal(cfg_add_cli_proxies(cfg, "-p", urls, 1), 0);
	assert_int_equal(cfg->nerrs, 1);
	assert_string_equal(cfg->errs[0], "-p: proxy 'p1' already defined "
			    "at line 1");
	cfg_free(cfg);
}

static void
test_cfg_fake_pool(void **state)
{
	static const struct {
		const char *text, *pool, *err;
	} cases[] = {
		{ "fake_pool 198.18.7.0/28\n", "198.18.7.0/28", NULL },
		{ "fake_pool 240.0.0.0/4 fd00:1::/64\n",
		  "240.0.0.0/4 fd00:1::/64", NULL },
		{ "fake_pool 224.0.0.0/4\n", "",
		  "shim.conf:1: bad fake_pool '224.0.0.0/4' (want one IPv4 "
		  "/1../30 and/or one IPv6 /8../126 prefix, not multicast)" },
		{ "fake_pool 10.0.0.0/8 11.0.0.0/8\n", "",
		  "shim.conf:1: bad fake_pool '11.0.0.0/8' (want one IPv4 "
		  "/1../30 and/or one IPv6 /8../126 prefix, not multicast)" },
		{ "fake_pool 10.0.0.0/31\n", "",
		  "shim.conf:1: bad fake_pool '10.0.0.0/31' (want one IPv4 "
		  "/1../30 and/or one IPv6 /8../126 prefix, not multicast)" },
		{ "fake_pool\n", "", "shim.conf:1: fake_pool: expected an "
		  "IPv4 and/or an IPv6 prefix" },
	};
	struct config *cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = cfg_parse("shim.conf", cases[i].text,
				strlen(cases[i].text));
		assert_non_null(cfg);
		assert_string_equal(cfg->fake_pool, cases[i].pool);
		if (cases[i].err == NULL) {
			assert_int_equal(cfg->nerrs, 0);
		} else {
			assert_int_equal(cfg->nerrs, 1);
			assert_string_equal(cfg->errs[0], cases[i].err);
		}
		cfg_free(cfg);
	}
}

static void
test_cfg_load(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	char fifo[] = "/tmp/test_config_fifo_XXXXXX";
	static const char text[] = "block 198.18.0.0/15\nnope\n";
	struct config *cfg;
	int fd;

	(void)state;
	cfg = cfg_load("/nonexistent/shim.conf");
	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 1);
	assert_string_equal(cfg->errs[0], "/nonexistent/shim.conf: cannot "
			    "read: No such file or directory");
	cfg_free(cfg);

	/* a FIFO with no writer: refused at once (opening it waited for a
	 * writer for ever); a directory and a device too */
	fd = mkstemp(fifo);
	assert_true(fd >= 0);
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	cfg = cfg_load(fifo);
	unlink(fifo);
	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 1);
	assert_non_null(strstr(cfg->errs[0], ": cannot read: not a regular "
			       "file (a FIFO)"));
	cfg_free(cfg);
	cfg = cfg_load("/tmp");
	assert_non_null(cfg);
	assert_string_equal(cfg->errs[0], "/tmp: cannot read: not a regular "
			    "file (a directory)");
	cfg_free(cfg);
	cfg = cfg_load("/dev/zero");
	assert_non_null(cfg);
	assert_string_equal(cfg->errs[0], "/dev/zero: cannot read: not a "
			    "regular file (a character device)");
	cfg_free(cfg);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)sizeof(text) - 1);
	close(fd);
	cfg = cfg_load(path);
	unlink(path);
	assert_non_null(cfg);
	assert_int_equal(cfg->nrules, 1);
	assert_int_equal(cfg->nerrs, 1);
	assert_non_null(strstr(cfg->errs[0], ":2: unknown keyword 'nope'"));
	cfg_free(cfg);
	cfg_free(NULL);
}

/* Which via rules can carry UDP: one SOCKS5 proxy only. */
/* group: members, modes, used before its line, at any hop; max_conns. */
/* optimistic= and tfo= after the URL, in any order with max_conns. */
static void
test_cfg_proxy_flags(void **state)
{
	static const char text[] =
		"proxy d socks5://198.18.0.1:1080 optimistic=on tfo=on\n"
		"proxy e socks5h://198.18.0.1:1081 tfo=on max_conns=3 "
		"optimistic=off\n"
		"proxy h http://198.18.0.1:3128 optimistic=off tfo=on\n"
		"via d *\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_true(cfg->proxies[0].optimistic);
	assert_true(cfg->proxies[0].tfo);
	assert_false(cfg->proxies[1].optimistic);
	assert_true(cfg->proxies[1].tfo);
	assert_int_equal(cfg->proxies[1].max_conns, 3);
	assert_false(cfg->proxies[2].optimistic);
	assert_true(cfg->proxies[2].tfo);
	cfg_free(cfg);
}

static void
test_cfg_groups(void **state)
{
	static const char text[] =
		"via pool>jump *.lab.example\n"
		"group pool a b s mode=round-robin\n"
		"via corp *\n"
		"group corp a b\n"
		"proxy a http://198.18.0.1:3128 max_conns=16\n"
		"proxy b http://198.18.0.2:3128\n"
		"proxy s socks5h://198.18.0.3:1080\n"
		"proxy jump socks5h://198.18.0.4:1080 max_conns=1\n"
		"group rnd s mode=random\n"
		"group fo jump mode=failover\n";
	struct config *cfg = parse(text);
	const struct cfg_group *g;

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->proxies[0].max_conns, 16);
	assert_int_equal(cfg->proxies[1].max_conns, 0);
	assert_int_equal(cfg->proxies[3].max_conns, 1);
	assert_false(cfg->proxies[0].optimistic);
	assert_false(cfg->proxies[0].tfo);
	assert_int_equal(cfg->ngroups, 4);
	assert_string_equal(cfg->groups[0].name, "pool");
	assert_int_equal(cfg->groups[0].nmembers, 3);
	assert_int_equal(cfg->groups[0].members[2], 2);
	assert_int_equal(cfg->groups[0].mode, CFG_ROUND_ROBIN);
	assert_int_equal(cfg->groups[0].line, 2);
	assert_int_equal(cfg->groups[1].mode, CFG_FAILOVER);
	assert_int_equal(cfg->groups[2].mode, CFG_RANDOM);
	assert_int_equal(cfg->groups[3].mode, CFG_FAILOVER);
	assert_string_equal(cfg_group_mode_str(CFG_ROUND_ROBIN),
			    "round-robin");
	assert_int_equal(cfg->nrules, 2);
	/* the group's hop keeps its first member in chain[] */
	assert_int_equal(cfg->rules[0].nchain, 2);
	assert_int_equal(cfg->rules[0].group[0], 1);
	assert_int_equal(cfg->rules[0].chain[0], 0);
	assert_int_equal(cfg->rules[0].group[1], 0);
	assert_int_equal(cfg->rules[0].chain[1], 3);
	g = cfg_hop_group(cfg, &cfg->rules[0], 0);
	assert_non_null(g);
	assert_string_equal(g->name, "pool");
	assert_null(cfg_hop_group(cfg, &cfg->rules[0], 1));
	assert_null(cfg_hop_group(cfg, &cfg->rules[0], 2));
	assert_int_equal(cfg->rules[1].group[0], 2);
	assert_string_equal(cfg_udp_unfit(cfg, &cfg->rules[1]),
			    "UDP cannot go through a group of proxies");
	cfg_free(cfg);
}

/* Errors of the three passes come out in line order. */
static void
test_cfg_group_error_order(void **state)
{
	static const char text[] =
		"via nope *\n"
		"group g zz\n"
		"proxy a http://h max_conns=x\n"
		"strict maybe\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 4);
	assert_string_equal(cfg->errs[0], "shim.conf:1: unknown proxy 'nope' "
			    "(no proxies defined)");
	assert_string_equal(cfg->errs[1], "shim.conf:2: group 'g': unknown "
			    "proxy 'zz'");
	assert_string_equal(cfg->errs[2], "shim.conf:3: proxy 'a': bad "
			    "max_conns 'x' (use 1..65535)");
	assert_string_equal(cfg->errs[3], "shim.conf:4: bad strict value "
			    "'maybe' (use on or off)");
	cfg_free(cfg);
}

/* Each pass splits only its own statements: the keyword is the first
 * word wherever the line's blanks and comments put it, and a line's
 * errors still come once, in line order. */
static void
test_cfg_pass_keywords(void **state)
{
	static const char text[] =
		"  via\tp>g  .a.test # later proxy and group\n"
		"\tgroup g p\n"
		"proxyx a#b\n"
		"proxy#c\n"
		"direct b\0.test\n"
		"groupie g\n"
		"   # proxy q socks5://198.18.0.1:1\n"
		"proxy\tp socks5://198.18.0.1:1080#x\n"
		"block 198.18.9.0/24\n";
	struct config *cfg = cfg_parse("shim.conf", text, sizeof(text) - 1);

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->nproxies, 1);
	assert_int_equal(cfg->ngroups, 1);
	assert_int_equal(cfg->nrules, 2);
	assert_int_equal(cfg->rules[0].action, CFG_VIA);
	assert_int_equal(cfg->rules[1].action, CFG_BLOCK);
	assert_int_equal(cfg->nerrs, 7);
	assert_string_equal(cfg->errs[0], "shim.conf:3: '#' starts a comment: "
			    "write it as %23 inside a URL");
	assert_string_equal(cfg->errs[1], "shim.conf:3: unknown keyword "
			    "'proxyx'");
	assert_string_equal(cfg->errs[2], "shim.conf:4: '#' starts a comment: "
			    "write it as %23 inside a URL");
	assert_string_equal(cfg->errs[3], "shim.conf:4: proxy: expected NAME "
			    "URL [max_conns=N] [optimistic=on] [tfo=on] "
			    "[auth=negotiate [spn=SERVICE/HOST]]");
	assert_string_equal(cfg->errs[4], "shim.conf:5: NUL byte in line");
	assert_string_equal(cfg->errs[5], "shim.conf:6: unknown keyword "
			    "'groupie'");
	assert_string_equal(cfg->errs[6], "shim.conf:8: '#' starts a comment: "
			    "write it as %23 inside a URL");
	cfg_free(cfg);
}

static void
test_cfg_udp_unfit(void **state)
{
	struct config *cfg = parse(
		"proxy s socks5://198.18.0.1:1080\n"
		"proxy sh socks5h://198.18.0.1:1080\n"
		"proxy h http://198.18.0.1:3128\n"
		"via s 198.18.1.0/24\n"
		"via sh .test\n"
		"via h 198.18.2.0/24\n"
		"via s>sh 198.18.3.0/24\n");

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_null(cfg_udp_unfit(cfg, &cfg->rules[0]));
	assert_null(cfg_udp_unfit(cfg, &cfg->rules[1]));
	assert_string_equal(cfg_udp_unfit(cfg, &cfg->rules[2]),
			    "an HTTP CONNECT proxy cannot carry UDP");
	assert_string_equal(cfg_udp_unfit(cfg, &cfg->rules[3]),
			    "UDP cannot go through a chain of proxies");
	cfg_free(cfg);
}

/* auth=negotiate and spn= on a proxy line, alone and with max_conns. */
static void
test_cfg_negotiate(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = parse("proxy a http://198.18.0.1:3128 auth=negotiate\n"
		    "proxy b http://198.18.0.2:3128 max_conns=3 auth=negotiate "
		    "spn=HTTP/proxy.test.example\n"
		    "proxy c http://u:p@198.18.0.3:3128\n"
		    "proxy d http://h auth=negotiate spn=HTTP/h.example@EX.ORG\n");
	if (cfg->nerrs != 0)
		fail_msg("%s", cfg->errs[0]);
	assert_int_equal(cfg->nproxies, 4);
	assert_int_equal(cfg->proxies[0].auth, CFG_AUTH_NEGOTIATE);
	assert_string_equal(cfg->proxies[0].spn, "");
	assert_int_equal(cfg->proxies[1].auth, CFG_AUTH_NEGOTIATE);
	assert_int_equal(cfg->proxies[1].max_conns, 3);
	assert_string_equal(cfg->proxies[1].spn, "HTTP/proxy.test.example");
	assert_int_equal(cfg->proxies[2].auth, CFG_AUTH_URL);
	assert_string_equal(cfg->proxies[3].spn, "HTTP/h.example@EX.ORG");
	cfg_free(cfg);
}

/* An https proxy's TLS options; a pin may start with '/', in either
 * spelling. */
static void
test_cfg_tls(void **state)
{
	static const char text[] =
		"proxy a https://h ca=/etc/ca.pem sni=proxy.test http2=on "
		"pin=sha256//EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFU=\n"
		"proxy b https://h:8443 "
		"pin=sha256///EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFU=\n"
		"proxy c https://h pin=sha256//"
		"EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFUA=\n";
	struct config *cfg = parse(text);

	(void)state;
	assert_int_equal(cfg->nerrs, 0);
	assert_string_equal(cfg->proxies[0].tls.ca, "/etc/ca.pem");
	assert_string_equal(cfg->proxies[0].tls.sni, "proxy.test");
	assert_true(cfg->proxies[0].tls.http2);
	assert_int_equal(cfg->proxies[0].url.port, 443);
	assert_string_equal(cfg->proxies[0].tls.pin,
			    "/EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFU=");
	assert_string_equal(cfg->proxies[1].tls.pin,
			    "/EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFU=");
	assert_string_equal(cfg->proxies[2].tls.pin,
			    "EZeJnn/uNHBfP+g/76TUoW5ygLLV+MKTEIwnO5vKFUA=");
	assert_false(cfg->proxies[1].tls.http2);
	assert_string_equal(cfg->proxies[1].tls.ca, "");
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_design_example),
		cmocka_unit_test(test_cfg_defaults),
		cmocka_unit_test(test_cfg_dests),
		cmocka_unit_test(test_cfg_errors),
		cmocka_unit_test(test_cfg_proxy_flags),
		cmocka_unit_test(test_cfg_timeouts),
		cmocka_unit_test(test_cfg_keeps_going),
		cmocka_unit_test(test_cfg_many_errors),
		cmocka_unit_test(test_cfg_chains),
		cmocka_unit_test(test_cfg_cli_proxies),
		cmocka_unit_test(test_cfg_fake_pool),
		cmocka_unit_test(test_cfg_load),
		cmocka_unit_test(test_cfg_udp_unfit),
		cmocka_unit_test(test_cfg_groups),
		cmocka_unit_test(test_cfg_tls),
		cmocka_unit_test(test_cfg_negotiate),
		cmocka_unit_test(test_cfg_group_error_order),
		cmocka_unit_test(test_cfg_pass_keywords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
