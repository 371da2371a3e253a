/*
 * test_ctlmsg.c - the control socket's messages: a request built is the
 * request parsed; oversized and empty ones are refused; a response's
 * status and error text are checked before a log line carries them; a
 * Negotiate request names a principal or is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctlmsg.h"

static void
test_req_roundtrip(void **state)
{
	static uint8_t big[CTL_REQ_MAX + 1];
	uint8_t buf[CTL_REQ_MAX], t;
	const uint8_t *p;
	size_t len;
	int n;

	(void)state;
	n = ctl_req_build(buf, sizeof(buf), CTL_NEGOTIATE, "HTTP/h", 6);
	assert_int_equal(n, 7);
	assert_int_equal(buf[0], CTL_NEGOTIATE);
	assert_int_equal(ctl_req_parse(buf, (size_t)n, &t, &p, &len), 0);
	assert_int_equal(t, CTL_NEGOTIATE);
	assert_int_equal(len, 6);
	assert_memory_equal(p, "HTTP/h", 6);
	/* no payload: the type alone */
	assert_int_equal(ctl_req_build(buf, sizeof(buf), CTL_NEGOTIATE, NULL,
				       0), 1);
	assert_int_equal(ctl_req_parse(buf, 1, &t, &p, &len), 0);
	assert_int_equal(len, 0);
	/* the largest, one more, and a buffer too small */
	assert_int_equal(ctl_req_build(big, sizeof(big), CTL_NEGOTIATE, big,
				       CTL_REQ_MAX - 1), CTL_REQ_MAX);
	assert_int_equal(ctl_req_build(big, sizeof(big), CTL_NEGOTIATE, big,
				       CTL_REQ_MAX), -EMSGSIZE);
	assert_int_equal(ctl_req_build(buf, 4, CTL_NEGOTIATE, "HTTP/h", 6),
			 -EMSGSIZE);
	assert_int_equal(ctl_req_parse(big, 0, &t, &p, &len), -EMSGSIZE);
	assert_int_equal(ctl_req_parse(big, CTL_REQ_MAX, &t, &p, &len), 0);
	assert_int_equal(ctl_req_parse(big, CTL_REQ_MAX + 1, &t, &p, &len),
			 -EMSGSIZE);
}

struct resp_case {
	const char *m;
	size_t n;
	int rc;
	enum ctl_status st;
};

#define M(s) s, sizeof(s) - 1

static const struct resp_case resp_cases[] = {
	{ M("\x00" "\x60\x82\x00"), 0, CTL_OK },
	{ M("\x00"), 0, CTL_OK },	/* an empty answer is the service's */
	{ M("\x02no Kerberos ticket: run kinit"), 0, CTL_NO_CRED },
	{ M("\x01gss: it failed"), 0, CTL_FAILED },
	{ M("\x03"), 0, CTL_UNKNOWN },
	{ M("\x05"), 0, CTL_BUSY },
	{ M(""), -EPROTO, 0 },		/* empty */
	{ M("\x06"), -EPROTO, 0 },	/* a status nobody knows */
	{ M("\x01"), -EPROTO, 0 },	/* an error without its text */
	{ M("\x02"), -EPROTO, 0 },
	{ M("\x01two\nlines"), -EPROTO, 0 },	/* no line breaks in a log */
	{ M("\x01\x1b[2J"), -EPROTO, 0 },
	{ M("\x01" "a\xff"), -EPROTO, 0 },
};

static void
test_resp_parse(void **state)
{
	static uint8_t big[CTL_RESP_MAX + 1];
	enum ctl_status st;
	const uint8_t *p;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *c = &resp_cases[i];

		st = CTL_STATUS_MAX;
		assert_int_equal(ctl_resp_parse((const uint8_t *)c->m, c->n,
						&st, &p, &len), c->rc);
		if (c->rc == 0) {
			assert_int_equal(st, c->st);
			assert_int_equal(len, c->n - 1);
		}
	}
	/* a token as long as there is room for, one byte more */
	assert_int_equal(ctl_resp_parse(big, CTL_RESP_MAX, &st, &p, &len), 0);
	assert_int_equal(len, CTL_TOKEN_MAX);
	assert_int_equal(ctl_resp_parse(big, CTL_RESP_MAX + 1, &st, &p, &len),
			 -EPROTO);
	/* an error's text: at most CTL_MSG_MAX */
	memset(big, 'a', sizeof(big));
	big[0] = CTL_FAILED;
	assert_int_equal(ctl_resp_parse(big, 1 + CTL_MSG_MAX, &st, &p, &len),
			 0);
	assert_int_equal(ctl_resp_parse(big, 2 + CTL_MSG_MAX, &st, &p, &len),
			 -EPROTO);
}

struct name_case {
	const char *in;
	int rc;
};

static const struct name_case name_cases[] = {
	{ "HTTP/proxy.test.example", 0 },
	{ "HTTP/proxy.test.example@TEST.EXAMPLE", 0 },
	{ "host-svc/198.18.0.1", 0 },
	{ "HTTP/h", 0 },
	{ "", -EINVAL },
	{ "HTTP", -EINVAL },		/* no host */
	{ "HTTP/", -EINVAL },
	{ "/h", -EINVAL },		/* no service */
	{ "HT TP/h", -EINVAL },
	{ "HT_P/h", -EINVAL },
	{ "HTTP/a/b", -EINVAL },
	{ "HTTP/h@", -EINVAL },		/* an empty realm */
	{ "HTTP/@R", -EINVAL },		/* an empty host */
	{ "HTTP/h@R@S", -EINVAL },
	{ "HTTP/h x", -EINVAL },
	{ "HTTP/h\n", -EINVAL },
};

static void
test_neg_name(void **state)
{
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		int rc = ctl_neg_name((const uint8_t *)c->in, strlen(c->in),
				      out, sizeof(out));

		if (rc != c->rc)
			fail_msg("'%s': %d, want %d", c->in, rc, c->rc);
		if (rc == 0)
			assert_string_equal(out, c->in);
	}
	/* the NUL needs room */
	assert_int_equal(ctl_neg_name((const uint8_t *)"HTTP/h", 6, out, 6),
			 -EINVAL);
	assert_int_equal(ctl_neg_name((const uint8_t *)"HTTP/h", 6, out, 7), 0);
	/* p is not NUL-terminated: only p[0..n) is read */
	assert_int_equal(ctl_neg_name((const uint8_t *)"HTTP/hXYZ", 6, out,
				      sizeof(out)), 0);
	assert_string_equal(out, "HTTP/h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_resp_parse),
		cmocka_unit_test(test_neg_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
