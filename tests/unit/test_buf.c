/*
 * test_buf.c - the bounded reader and writer: every read that does not fit
 * fails without moving the cursor; every write that does not fit sticks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_reader_fields(void **state)
{
	const uint8_t in[] = { 0x05, 0x01, 0xbb, 'a', 'b', 'c' };
	struct bufr b;
	uint8_t v8, three[3];
	uint16_t v16;

	(void)state;
	bufr_init(&b, in, sizeof(in));
	assert_true(bufr_u8(&b, &v8));
	assert_int_equal(v8, 0x05);
	assert_true(bufr_be16(&b, &v16));
	assert_int_equal(v16, 0x01bb);
	assert_int_equal(bufr_left(&b), 3);
	assert_true(bufr_bytes(&b, three, sizeof(three)));
	assert_memory_equal(three, "abc", 3);
	assert_int_equal(bufr_left(&b), 0);
	assert_false(bufr_u8(&b, &v8));
	assert_true(bufr_bytes(&b, three, 0));
	assert_true(bufr_skip(&b, 0));
}

/* Reads that do not fit fail and leave the cursor where it was. */
static void
test_reader_short(void **state)
{
	const uint8_t in[] = { 0x12, 0x34, 0x56 };
	struct bufr b;
	uint8_t out[4] = { 0 };
	uint16_t v16 = 0xdead;
	uint8_t v8 = 0xee;

	(void)state;
	bufr_init(&b, in, sizeof(in));
	assert_false(bufr_bytes(&b, out, 4));
	assert_int_equal(b.off, 0);
	assert_false(bufr_skip(&b, 4));
	assert_int_equal(b.off, 0);
	assert_true(bufr_skip(&b, 2));
	assert_false(bufr_be16(&b, &v16));
	assert_int_equal(v16, 0xdead);
	assert_int_equal(b.off, 2);
	assert_false(bufr_skip(&b, SIZE_MAX));
	assert_true(bufr_u8(&b, &v8));
	assert_int_equal(v8, 0x56);

	bufr_init(&b, NULL, 0);
	assert_false(bufr_u8(&b, &v8));
	assert_false(bufr_be16(&b, &v16));
	assert_int_equal(bufr_left(&b), 0);
}

static void
test_writer_fit(void **state)
{
	const uint8_t want[] = { 0x05, 0x00, 0x50, 'x', 'y' };
	uint8_t out[sizeof(want)];
	struct bufw w;

	(void)state;
	bufw_init(&w, out, sizeof(out));
	bufw_u8(&w, 0x05);
	bufw_be16(&w, 80);
	bufw_bytes(&w, "xy", 2);
	bufw_bytes(&w, "", 0);
	assert_int_equal(bufw_result(&w), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

/* Once a write overflows, later writes (even small ones) do nothing. */
static void
test_writer_overflow_sticks(void **state)
{
	uint8_t out[4];
	struct bufw w;
	size_t cap;

	(void)state;
	for (cap = 0; cap < 4; cap++) {
		memset(out, 0xaa, sizeof(out));
		bufw_init(&w, out, cap);
		bufw_u8(&w, 1);
		bufw_be16(&w, 0x0203);
		bufw_u8(&w, 4);
		assert_int_equal(bufw_result(&w), -ENOSPC);
		assert_true(w.overflow);
		assert_true(w.off <= cap);
		assert_int_equal(out[3], 0xaa);
	}
	bufw_init(&w, out, 2);
	bufw_be16(&w, 0x0102);
	bufw_u8(&w, 3);
	bufw_bytes(&w, "", 0);
	assert_int_equal(bufw_result(&w), -ENOSPC);
}

/* Log text: control bytes, ANSI escapes, bad UTF-8 as visible escapes. */
static void
test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain name.example", "plain name.example" },
		{ "a\r\nproxywrap: forged", "a\\r\\nproxywrap: forged" },
		{ "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m" },
		{ "tab\there\x7f", "tab\\there\\x7f" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
		{ "bad \xff\xc3(", "bad \\xff\\xc3(" },
		{ "C1 CSI \xc2\x9b", "C1 CSI \\xc2\\x9b" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(buf_escape(cases[i].in, out, sizeof(out)),
				 strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
	}
	/* cut before an escape that does not fit, never inside it */
	assert_int_equal(buf_escape("ab\x1b", out, 5), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(buf_escape("ab\xc3\xa9", out, 4), 2);
	assert_int_equal(buf_escape("x", out, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_fields),
		cmocka_unit_test(test_reader_short),
		cmocka_unit_test(test_writer_fit),
		cmocka_unit_test(test_writer_overflow_sticks),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
