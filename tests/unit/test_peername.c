/*
 * test_peername.c - a destination in the form the kernel's getpeername
 * gives it, whatever form connect() took it in; and its hex for the
 * relay's line.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peername.h"

/* A name as a program may pass it: sin_zero dirty, a long length. */
static void
test_v4(void **state)
{
	struct sockaddr_storage in, out;
	struct sockaddr_in *sin = (struct sockaddr_in *)&in;

	(void)state;
	memset(&in, 0xa5, sizeof(in));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(80);
	inet_pton(AF_INET, "198.18.1.2", &sin->sin_addr);
	assert_int_equal(peer_kernel_form(&in, sizeof(in), &out),
			 sizeof(struct sockaddr_in));
	assert_memory_equal(&out, "\x02\x00\x00\x50\xc6\x12\x01\x02"
			    "\0\0\0\0\0\0\0\0", 16);
	assert_true(peer_is_kernel_form(&out, 16));
	assert_false(peer_is_kernel_form(&in, 16));	/* sin_zero */
	assert_false(peer_is_kernel_form(&out, 15));
	assert_int_equal(peer_kernel_form(&in, 15, &out), 0);
}

static void
test_v6(void **state)
{
	struct sockaddr_storage in, out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&in;
	struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)&out;

	(void)state;
	memset(&in, 0, sizeof(in));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(443);
	s6->sin6_flowinfo = htonl(0x12345);
	s6->sin6_scope_id = 3;
	inet_pton(AF_INET6, "2001:db8::2", &s6->sin6_addr);
	/* RFC 2133's 24 bytes grow to 28; flow label and a global
	 * address's scope are not the kernel's to report */
	assert_int_equal(peer_kernel_form(&in, 24, &out),
			 sizeof(struct sockaddr_in6));
	assert_int_equal(o6->sin6_flowinfo, 0);
	assert_int_equal(o6->sin6_scope_id, 0);
	assert_int_equal(peer_kernel_form(&in, sizeof(*s6), &out),
			 sizeof(struct sockaddr_in6));
	assert_int_equal(o6->sin6_scope_id, 0);
	inet_pton(AF_INET6, "fe80::1", &s6->sin6_addr);
	assert_int_equal(peer_kernel_form(&in, sizeof(*s6), &out),
			 sizeof(struct sockaddr_in6));
	assert_int_equal(o6->sin6_scope_id, 3);
	assert_true(peer_is_kernel_form(&out, sizeof(*s6)));
	assert_int_equal(peer_kernel_form(&in, 23, &out), 0);
	s6->sin6_family = AF_UNIX;
	assert_int_equal(peer_kernel_form(&in, sizeof(*s6), &out), 0);
}

static void
test_hex(void **state)
{
	struct sockaddr_storage in, out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&in;
	char hex[PEER_HEX_MAX];

	(void)state;
	memset(&in, 0, sizeof(in));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(443);
	inet_pton(AF_INET6, "::ffff:198.18.1.2", &s6->sin6_addr);
	peer_hex(&in, sizeof(*s6), hex);
	assert_int_equal(strlen(hex), 56);
	assert_int_equal(peer_unhex(hex, strlen(hex), &out), sizeof(*s6));
	assert_memory_equal(&out, &in, sizeof(*s6));
	assert_int_equal(peer_unhex(hex, strlen(hex) - 1, &out), 0);
	assert_int_equal(peer_unhex(hex, 32, &out), 0);	/* not AF_INET */
	hex[10] = 'A';
	assert_int_equal(peer_unhex(hex, strlen(hex), &out), 0);
	assert_int_equal(peer_unhex("", 0, &out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
