/*
 * test_relaymsg.c - the shim's and the TLS relay's lines: what one
 * builds the other parses back; a line cut short asks for more; anything
 * else is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peername.h"
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
	len = relay_build_req(buf, sizeof(buf), tok, 3, "corp-tls", NULL, 0);
	assert_true(len > 0);
	memcpy(buf + len, "CONNECT", 7);	/* the tunnel's bytes follow */
	assert_int_equal(relay_parse_req(buf, (size_t)len + 7, &used, &need,
					 &r), PARSE_OK);
	assert_int_equal(used, (size_t)len);
	assert_string_equal(r.token, tok);
	assert_int_equal(r.index, 3);
	assert_string_equal(r.name, "corp-tls");
	assert_int_equal(r.peerlen, 0);
	for (i = 0; i < (size_t)len; i++)
		assert_int_equal(relay_parse_req(buf, i, &used, &need, &r),
				 PARSE_MORE);
	assert_int_equal(relay_build_req(buf, 20, tok, 3, "x", NULL, 0),
			 -ENOSPC);
}

/* The destination rides along in getpeername's form, both families; the
 * longest name and an IPv6 peer still fit the line. */
static void
test_req_peer(void **state)
{
	char buf[RELAY_LINE_MAX + 32], name[CFG_NAME_MAX];
	struct sockaddr_storage ss, back;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct relay_req r;
	size_t used = 0, need = 0;
	int len;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(80);
	inet_pton(AF_INET, "198.18.1.2", &sin->sin_addr);
	len = relay_build_req(buf, sizeof(buf), tok, 0, "tls", &ss,
			      sizeof(*sin));
	assert_true(len > 0);
	assert_int_equal(relay_parse_req(buf, (size_t)len, &used, &need, &r),
			 PARSE_OK);
	assert_string_equal(r.name, "tls");
	assert_int_equal(r.peerlen, sizeof(*sin));
	assert_memory_equal(&r.peer, &ss, sizeof(*sin));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::7", &s6->sin6_addr);
	len = relay_build_req(buf, sizeof(buf), tok, 12345, name, &ss,
			      sizeof(*s6));
	assert_true(len > 0 && len <= RELAY_LINE_MAX);
	assert_int_equal(relay_parse_req(buf, (size_t)len, &used, &need, &r),
			 PARSE_OK);
	assert_int_equal(r.peerlen, sizeof(*s6));
	assert_memory_equal(&r.peer, &ss, sizeof(*s6));
	/* not the kernel's form (a flow label, sin_zero set): refused */
	s6->sin6_flowinfo = htonl(5);
	assert_int_equal(peer_kernel_form(&ss, sizeof(*s6), &back),
			 sizeof(*s6));
	assert_false(peer_is_kernel_form(&ss, sizeof(*s6)));
	assert_true(peer_is_kernel_form(&back, sizeof(*s6)));
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
		/* a peer that is not a sockaddr_in in getpeername's form:
		 * too short, upper case, sin_zero set, a third field */
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a 0200\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a "
		"02000050C6120102" "0000000000000000\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a "
		"02000050c6120102" "0000000000000001\r\n",
		"PWRELAY/1 00112233445566778899aabbccddeeff 0 a "
		"02000050c6120102" "0000000000000000 x\r\n",
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
		cmocka_unit_test(test_req_peer),
		cmocka_unit_test(test_req_bad),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
