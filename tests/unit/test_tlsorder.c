/*
 * test_tlsorder.c - AES-128-GCM before its AES-256-GCM sibling, on
 * OpenSSL 3.0's default lists (`openssl ciphers -s -tls1_2 DEFAULT`,
 * cut) and on lists an openssl.cnf may narrow them to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsorder.h"

static void
check(const char *in, const char *want)
{
	char out[1024];

	assert_int_equal(tlsorder_prefer128(in, out, sizeof(out)),
			 (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_tls13(void **state)
{
	(void)state;
	check("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
	      "TLS_AES_128_GCM_SHA256",
	      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	      "TLS_CHACHA20_POLY1305_SHA256");
	/* already first, or alone, or without AES-128: as it was */
	check("TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
	      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	check("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
	      "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	check("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
	check("", "");
}

static void
test_tls12(void **state)
{
	(void)state;
	/* each moves next to its sibling: ECDHE stays before DHE and RSA */
	check("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	      "DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
	      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	      "DHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256:"
	      "AES128-SHA",
	      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	      "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
	      "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
	      "ECDHE-ECDSA-CHACHA20-POLY1305:AES128-GCM-SHA256:"
	      "AES256-GCM-SHA384:AES128-SHA");
	/* a sibling the list does not have is not added */
	check("ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256",
	      "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256");
	/* empty entries are dropped */
	check("::AES128-SHA:", "AES128-SHA");
}

static void
test_room(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(tlsorder_prefer128("TLS_AES_256_GCM_SHA384", out,
					    sizeof(out)), -1);
	assert_int_equal(tlsorder_prefer128("AES128-SHA", out, 11), 10);
	assert_int_equal(tlsorder_prefer128("AES128-SHA", out, 10), -1);
	assert_int_equal(tlsorder_prefer128("x", out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_tls12),
		cmocka_unit_test(test_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
