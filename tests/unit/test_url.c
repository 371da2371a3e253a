/*
 * test_url.c - proxy URL parsing and redaction, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "url.h"

struct url_ok_case {
	const char *in;
	enum url_scheme scheme;
	const char *host;
	uint16_t port;
	bool has_auth;
	const char *user;
	const char *pass;
	const char *redacted;
};

static const struct url_ok_case ok_cases[] = {
	{ "http://proxy.example:3128", URL_HTTP, "proxy.example", 3128,
	  false, "", "", "http://proxy.example:3128" },
	{ "socks5://198.18.0.1", URL_SOCKS5, "198.18.0.1", 1080,
	  false, "", "", "socks5://198.18.0.1:1080" },
	{ "socks5h://127.0.0.1:9050/", URL_SOCKS5H, "127.0.0.1", 9050,
	  false, "", "", "socks5h://127.0.0.1:9050" },
	{ "SOCKS5H://h:1", URL_SOCKS5H, "h", 1, false, "", "",
	  "socks5h://h:1" },
	{ "HtTp://h:65535", URL_HTTP, "h", 65535, false, "", "",
	  "http://h:65535" },
	{ "http://[2001:db8::1]:8080", URL_HTTP, "2001:db8::1", 8080,
	  false, "", "", "http://[2001:db8::1]:8080" },
	{ "socks5://[::1]", URL_SOCKS5, "::1", 1080, false, "", "",
	  "socks5://[::1]:1080" },
	{ "http://alice:secret@proxy.example:3128", URL_HTTP,
	  "proxy.example", 3128, true, "alice", "secret",
	  "http://alice:***@proxy.example:3128" },
	{ "http://alice@h", URL_HTTP, "h", 1080, true, "alice", "",
	  "http://alice:***@h:1080" },
	{ "http://alice:@h", URL_HTTP, "h", 1080, true, "alice", "",
	  "http://alice:***@h:1080" },
	{ "socks5://a%40b:p%23w%3Ad@h", URL_SOCKS5, "h", 1080, true, "a@b",
	  "p#w:d", "socks5://a%40b:***@h:1080" },
	{ "socks5://u:p@ss@h", URL_SOCKS5, "h", 1080, true, "u", "p@ss",
	  "socks5://u:***@h:1080" },
	{ "socks5://u:a:b@h", URL_SOCKS5, "h", 1080, true, "u", "a:b",
	  "socks5://u:***@h:1080" },
	{ "https://proxy.example", URL_HTTPS, "proxy.example", 443, false,
	  "", "", "https://proxy.example:443" },
	{ "HTTPS://u:p@h:8443", URL_HTTPS, "h", 8443, true, "u", "p",
	  "https://u:***@h:8443" },
	{ "http://u%c3%a9:x@my_proxy-1.example", URL_HTTP,
	  "my_proxy-1.example", 1080, true, "u\xc3\xa9", "x",
	  "http://u%C3%A9:***@my_proxy-1.example:1080" },
};

static void
test_url_ok(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		const struct url_ok_case *c = &ok_cases[i];
		struct proxy_url u;
		const char *err = NULL;
		char buf[600];
		size_t n;

		assert_int_equal(url_parse(c->in, strlen(c->in), &u, &err), 0);
		assert_int_equal(u.scheme, c->scheme);
		assert_string_equal(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_int_equal(u.has_auth, c->has_auth);
		assert_string_equal(u.user, c->user);
		assert_string_equal(u.pass, c->pass);
		n = url_redact(&u, buf, sizeof(buf));
		assert_string_equal(buf, c->redacted);
		assert_int_equal(n, strlen(c->redacted));
	}
}

struct url_bad_case {
	const char *in;
	const char *err;
};

static const struct url_bad_case bad_cases[] = {
	{ "proxy.example:3128", "missing scheme (use http://, https://, "
	  "socks5:// or socks5h://)" },
	{ "", "missing scheme (use http://, https://, socks5:// or socks5h://)" },
	{ "ftp://h", "unknown scheme (use http, https, socks5 or socks5h)" },
	{ "socks4://h", "unknown scheme (use http, https, socks5 or socks5h)" },
	{ "://h", "unknown scheme (use http, https, socks5 or socks5h)" },
	{ "http://", "empty host" },
	{ "http://:80", "empty host" },
	{ "http://u:p@", "empty host" },
	{ "http://h:0", "bad port (use 1..65535)" },
	{ "http://h:65536", "bad port (use 1..65535)" },
	{ "http://h:123456", "bad port (use 1..65535)" },
	{ "http://h:", "bad port (use 1..65535)" },
	{ "http://h:8x", "bad port (use 1..65535)" },
	{ "http://h:-1", "bad port (use 1..65535)" },
	{ "http://h:80:81", "bad port (use 1..65535)" },
	{ "http://h/path", "a proxy URL has no path, query or fragment" },
	{ "http://h//", "a proxy URL has no path, query or fragment" },
	{ "http://h?x", "a proxy URL has no path, query or fragment" },
	{ "http://h#x", "a proxy URL has no path, query or fragment" },
	{ "http://[2001:db8::1", "missing ']' after IPv6 address" },
	{ "http://[]:80", "bad IPv6 address" },
	{ "http://[2001:db8::g]", "bad IPv6 address" },
	{ "http://[198.18.0.1]", "bad IPv6 address" },
	{ "http://[::1]x", "junk after IPv6 address" },
	{ "socks5h://2001:db8::1:1080", "an IPv6 address needs brackets: "
	  "[2001:db8::1]:1080 (or [2001:db8::1:1080]:PORT)" },
	{ "http://fe80::1:99999", "an IPv6 address needs brackets: "
	  "[fe80::1]:99999" },
	{ "http://::ffff:198.18.0.1", "an IPv6 address needs brackets: "
	  "[::ffff:198.18.0.1]:PORT" },
	{ "http://1:2:3", "an IPv6 address needs brackets: "
	  "[ADDRESS]:PORT" },
	{ "http://198.18.0.256", "bad IPv4 address" },
	{ "http://1.2.3", "bad IPv4 address" },
	{ "http://bad host", "bad host name" },
	{ "http://a..b", "bad host name" },
	{ "http://h%41", "bad host name" },
	{ "http://:p@h", "empty user name" },
	{ "http://u:%zz@h", "bad percent-encoding" },
	{ "http://u:%4@h", "bad percent-encoding" },
	{ "http://u:%@h", "bad percent-encoding" },
	{ "http://u%00:p@h", "bad percent-encoding" },
	{ "http://u p:x@h", "bad character in user or password" },
};

static void
test_url_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct proxy_url u;
		const char *err = NULL;
		const char *in = bad_cases[i].in;

		assert_int_equal(url_parse(in, strlen(in), &u, &err), -1);
		assert_non_null(err);
		assert_string_equal(err, bad_cases[i].err);
	}
}

/* Credentials and hosts at and over their limits. */
static void
test_url_limits(void **state)
{
	char in[1200], user[300];
	struct proxy_url u;
	const char *err;

	(void)state;
	memset(user, 'u', 255);
	user[255] = '\0';
	snprintf(in, sizeof(in), "socks5://%s:pw@h", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), 0);
	assert_int_equal(strlen(u.user), 255);
	snprintf(in, sizeof(in), "socks5://%su:pw@h", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), -1);
	assert_string_equal(err, "user name or password too long");
	snprintf(in, sizeof(in), "socks5://u:%s@h", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), 0);
	snprintf(in, sizeof(in), "socks5://u:%sp@h", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), -1);
	/* a 64-octet label */
	snprintf(in, sizeof(in), "http://%.64s.example", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), -1);
	assert_string_equal(err, "bad host name");
	snprintf(in, sizeof(in), "http://%.63s.example", user);
	assert_int_equal(url_parse(in, strlen(in), &u, &err), 0);
}

/* The parser reads only s[0..len): a longer buffer is cut where asked. */
static void
test_url_len_bound(void **state)
{
	const char *s = "socks5://h:1080/garbage";
	struct proxy_url u;
	const char *err;

	(void)state;
	assert_int_equal(url_parse(s, 15, &u, &err), 0);
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 1080);
	assert_int_equal(url_parse(s, 16, &u, &err), 0);
	assert_int_equal(url_parse("http://h\0x", 10, &u, &err), -1);
}

/* Redaction never shows the password, also when the buffer is short,
 * and returns the full length like snprintf. */
static void
test_url_redact(void **state)
{
	const char *in = "http://alice:hunter2@proxy.example:3128";
	const char *want = "http://alice:***@proxy.example:3128";
	struct proxy_url u;
	const char *err;
	char buf[64];
	size_t n;

	(void)state;
	assert_int_equal(url_parse(in, strlen(in), &u, &err), 0);
	for (n = 0; n <= strlen(want) + 1; n++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(url_redact(&u, buf, n), strlen(want));
		if (n > 0) {
			assert_int_equal(strlen(buf), n - 1 < strlen(want) ?
					 n - 1 : strlen(want));
			assert_memory_equal(buf, want, strlen(buf));
			assert_null(strstr(buf, "hunter2"));
		}
		assert_int_equal(buf[n], 'X');
	}
}

static void
test_url_misc(void **state)
{
	struct proxy_url u;

	(void)state;
	assert_string_equal(url_scheme_str(URL_HTTP), "http");
	assert_string_equal(url_scheme_str(URL_SOCKS5), "socks5");
	assert_string_equal(url_scheme_str(URL_SOCKS5H), "socks5h");
	assert_string_equal(url_scheme_str(URL_HTTPS), "https");
	memset(&u, 0, sizeof(u));
	u.scheme = URL_HTTP;
	assert_true(url_remote_dns(&u));
	u.scheme = URL_SOCKS5H;
	assert_true(url_remote_dns(&u));
	u.scheme = URL_SOCKS5;
	assert_false(url_remote_dns(&u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_ok),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_url_limits),
		cmocka_unit_test(test_url_len_bound),
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_url_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
