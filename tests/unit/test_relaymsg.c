/*
 * test_relaymsg.c - the shim's and the TLS relay's lines: what one
 * builds the other parses back; a line cut short asks for more; anything
 * else is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relaymsg.h"

static const char tok[] = "00112233445566778899aabbccddeeff";

static void
test_req_roundtrip(void **state)
{
	char buf[RELAY_LINE_MAX + 32];
	struct relay_req r;
	size_t used = 0, need = 0, i;
	int len;

	(void)state;
	len = relay_build_req(buf, sizeof(buf), tok, 3, "corp-tls");
	assert_true(len > 0);
	memcpy(buf + len, "CONNECT", 7);	/* the tunnel's bytes follow */
	assert_int_equal(relay_parse_req(buf, (size_t)len + 7, &used, &need,
					 &r), PARSE_OK);
	assert_int_equal(used, (size_t)len);
	assert_string_equal(r.token, tok);
	assert_int_equal(r.index, 3);
	assert_string_equal(r.name, "corp-tls");
	for (i = 0; i < (size_t)len; i++)
		assert_int_equal(relay_parse_req(buf, i, &used, &need, &r),
				 PARSE_MORE);
	assert_int_equal(relay_build_req(buf, 20, tok, 3, "x"), -ENOSPC);
}

static void
test_req_bad(void **state)
{
	static const char *const bad[] = {
		"PWRELAY/2 00112233445566778899aabbccddeeff 0 a\r\n",
		"PWRELAY/1 00112233445566778899AABBCCDDEEFF 0 a\r\n",
		"PWRELAY/1 0011223344556677 0 a\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff x a\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 \r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a b\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a\rb\r\n",
		"CONNECT h:1 HTTP/1.1\r\n",
	};
	struct relay_req r;
	size_t used, need, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(relay_parse_req(bad[i], strlen(bad[i]), &used,
						 &need, &r), PARSE_ERR);
}

static void
test_reply(void **state)
{
	char buf[RELAY_LINE_MAX];
	struct relay_reply r;
	size_t used = 0, need = 0;
	int len;

	(void)state;
	len = relay_build_reply(buf, sizeof(buf), RELAY_OK, "TLSv1.3");
	assert_int_equal(relay_parse_reply(buf, (size_t)len, &used, &need, &r),
			 PARSE_OK);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.text, "TLSv1.3");
	/* a reason with a control byte stays one line */
	len = relay_build_reply(buf, sizeof(buf), RELAY_TLS_FAILED,
				"certificate\r\nhas expired");
	assert_int_equal(relay_parse_reply(buf, (size_t)len, &used, &need, &r),
			 PARSE_OK);
	assert_int_equal(r.code, 525);
	assert_string_equal(r.text, "certificate??has expired");
	assert_int_equal(relay_parse_reply(buf, 12, &used, &need, &r),
			 PARSE_MORE);
	assert_int_equal(relay_parse_reply("PWRELAY/1 2000 x\r\n", 18, &used,
					   &need, &r), PARSE_ERR);
	assert_int_equal(relay_parse_reply("HTTP/1.1 200 OK\r\n", 17, &used,
					   &need, &r), PARSE_ERR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_req_bad),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
