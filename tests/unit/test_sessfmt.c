/*
 * test_sessfmt.c - the session policy's bytes: what proxywrap builds a
 * wrapped process parses back exactly; anything malformed is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sessfmt.h"

static const char text[] = "proxy tiny http://198.18.0.1:8888\nvia tiny *\n";

static size_t
build(uint8_t **out)
{
	struct sess_view v;
	size_t n;

	memset(&v, 0, sizeof(v));
	v.name = "/etc/proxywrap/shim.conf";
	v.proxies = "socks5h://198.18.0.1:1080";
	v.pool = "240.0.0.0/4";
	v.text = text;
	v.text_len = strlen(text);
	v.strict = true;
	v.supervised = true;
	v.verbose = 2;
	v.dev[SESS_AUDIT] = 7;
	v.ino[SESS_AUDIT] = 99;
	v.relay = "127.0.0.1:4242 00112233445566778899aabbccddeeff";
	strcpy(v.ctl, "proxywrap-ctl-0123abcd");
	n = sess_size(v.name, v.proxies, v.pool, v.text_len);
	*out = malloc(n);
	assert_non_null(*out);
	assert_int_equal(sess_build(&v, *out, n), n);
	return n;
}

static void
test_roundtrip(void **state)
{
	struct sess_view v;
	uint8_t *b;
	size_t n = build(&b);

	(void)state;
	assert_int_equal(sess_parse(b, n, &v), 0);
	assert_string_equal(v.name, "/etc/proxywrap/shim.conf");
	assert_string_equal(v.proxies, "socks5h://198.18.0.1:1080");
	assert_string_equal(v.pool, "240.0.0.0/4");
	assert_string_equal(v.relay, "127.0.0.1:4242 "
			    "00112233445566778899aabbccddeeff");
	assert_int_equal(v.text_len, strlen(text));
	assert_memory_equal(v.text, text, v.text_len);
	assert_true(v.strict);
	assert_true(v.supervised);
	assert_string_equal(v.ctl, "proxywrap-ctl-0123abcd");
	assert_int_equal(v.verbose, 2);
	assert_int_equal(v.ino[SESS_AUDIT], 99);
	assert_int_equal(v.ino[SESS_TABLE], 0);
	free(b);
}

static void
test_malformed(void **state)
{
	struct sess_view v;
	struct sess_hdr h;
	uint8_t *b;
	size_t n = build(&b), i;

	(void)state;
	/* every truncation */
	for (i = 0; i < n; i++)
		assert_int_equal(sess_parse(b, i, &v), -EINVAL);
	b[0] ^= 1;				/* magic */
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	b[0] ^= 1;
	memcpy(&h, b, sizeof(h));
	h.verbose = 4;
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	h.verbose = 2;
	h.flags = 2;				/* a flag nobody knows */
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	h.flags = SESS_F_SUPERVISED;
	h.name_len++;				/* lengths disagree */
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	h.name_len--;
	memcpy(b, &h, sizeof(h));
	b[sizeof(h) + 3] = '\0';		/* a NUL inside the name */
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	b[sizeof(h) + 3] = 'c';
	assert_int_equal(sess_parse(b, n, &v), 0);
	h.ctl[3] = '/';				/* not a control socket's */
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	h.ctl[3] = 'x';
	h.ctl[SESS_CTL_MAX - 1] = 'x';		/* bytes after its NUL */
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	memset(h.ctl, 'a', sizeof(h.ctl));	/* no NUL */
	memcpy(b, &h, sizeof(h));
	assert_int_equal(sess_parse(b, n, &v), -EINVAL);
	free(b);
}

static void
test_build_refuses(void **state)
{
	struct sess_view v;
	uint8_t buf[512];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.name = "x";
	v.proxies = "";
	v.pool = "";
	v.text = "a\0b";
	v.text_len = 3;				/* a NUL in the text */
	assert_int_equal(sess_build(&v, buf, sizeof(buf)), 0);
	v.text_len = 1;
	assert_int_equal(sess_build(&v, buf, 10), 0);	/* too small */
	assert_int_not_equal(sess_build(&v, buf, sizeof(buf)), 0);
	strcpy(v.ctl, "Upper");			/* a control name: [a-z0-9-] */
	assert_int_equal(sess_build(&v, buf, sizeof(buf)), 0);
}

/* The compiled rules ride at a page boundary after the text. */
static void
test_image(void **state)
{
	static const uint64_t img[4] = { 1, 2, 3, 4 };
	struct sess_view v, w;
	struct sess_hdr *h;
	uint8_t *b;
	size_t n;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.name = "n";
	v.proxies = v.pool = "";
	v.text = text;
	v.text_len = strlen(text);
	v.image = img;
	v.image_len = sizeof(img);
	n = sess_size_image(sess_size(v.name, v.proxies, v.pool, v.text_len),
			    v.image_len);
	assert_int_equal(n, SESS_IMAGE_ALIGN + sizeof(img));
	b = malloc(n);
	assert_non_null(b);
	assert_int_equal(sess_build(&v, b, n), n);
	assert_int_equal(sess_parse(b, n, &w), 0);
	assert_int_equal(w.image_off, SESS_IMAGE_ALIGN);
	assert_int_equal(w.image_len, sizeof(img));
	assert_memory_equal(w.image, img, sizeof(img));
	assert_memory_equal(w.text, text, w.text_len);
	h = (struct sess_hdr *)b;
	h->image_off -= 8;		/* not at a page boundary */
	h->image_len += 8;
	assert_int_equal(sess_parse(b, n, &w), -EINVAL);
	h->image_off += 8;
	assert_int_equal(sess_parse(b, n, &w), -EINVAL);	/* short of n */
	h->image_len -= 8;
	assert_int_equal(sess_parse(b, n - 8, &w), -EINVAL);
	h->image_len = 0;		/* no image, but bytes after the text */
	h->image_off = 0;
	assert_int_equal(sess_parse(b, n, &w), -EINVAL);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
