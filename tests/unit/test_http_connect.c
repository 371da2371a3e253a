/*
 * test_http_connect.c - the CONNECT request against text written from
 * RFC 9110 §9.3.6 and RFC 7617, base64 against RFC 4648 §10, and the
 * response parser split at every offset, followed by tunnel bytes, and
 * fed oversized and malformed heads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlmsg.h"
#include "http_connect.h"
#include "tunnel.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char ssh_banner[] = "SSH-2.0-OpenSSH_9.2\r\n";

/* An exact-size heap copy, so ASan builds catch any read past len. */
static uint8_t *
dup_exact(const void *p, size_t n)
{
	uint8_t *d = malloc(n > 0 ? n : 1);

	assert_non_null(d);
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static int
parse_exact(const void *p, size_t len, size_t *used, size_t *need,
	    struct httpc_response *r)
{
	uint8_t *copy = dup_exact(p, len);
	int rc;

	rc = httpc_parse_response(len > 0 ? copy : NULL, len, used, need, r);
	free(copy);
	return rc;
}

/* ---- base64, RFC 4648 §10 test vectors ---- */

static void
test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const uint8_t bin[] = { 0xfb, 0xff, 0xbf };
	char out[16];
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(v); i++) {
		n = strlen(v[i].in);
		assert_int_equal(httpc_base64((const uint8_t *)v[i].in, n,
					      out, sizeof(out)),
				 strlen(v[i].out));
		assert_string_equal(out, v[i].out);
		/* Room for the NUL is required. */
		assert_int_equal(httpc_base64((const uint8_t *)v[i].in, n,
					      out, strlen(v[i].out)),
				 -ENOSPC);
	}
	/* The two last alphabet characters. */
	assert_int_equal(httpc_base64(bin, sizeof(bin), out, sizeof(out)), 4);
	assert_string_equal(out, "+/+/");
}

/* ---- request builder ---- */

static const struct req_case {
	const char *what;
	const char *host;
	uint16_t port;
	const char *user, *pass;
	const char *want;
} req_cases[] = {
	{ "name", "example.com", 443, NULL, NULL,
	  "CONNECT example.com:443 HTTP/1.1\r\n"
	  "Host: example.com:443\r\n"
	  "\r\n" },
	{ "v4 literal, port 0", "198.18.0.1", 0, NULL, NULL,
	  "CONNECT 198.18.0.1:0 HTTP/1.1\r\n"
	  "Host: 198.18.0.1:0\r\n"
	  "\r\n" },
	{ "v6 literal is bracketed", "2001:db8::1", 65535, NULL, NULL,
	  "CONNECT [2001:db8::1]:65535 HTTP/1.1\r\n"
	  "Host: [2001:db8::1]:65535\r\n"
	  "\r\n" },
	{ "already bracketed v6", "[2001:db8::2]", 22, NULL, NULL,
	  "CONNECT [2001:db8::2]:22 HTTP/1.1\r\n"
	  "Host: [2001:db8::2]:22\r\n"
	  "\r\n" },
	/* RFC 7617 §2 example credentials. */
	{ "basic auth", "db.corp.example", 5432, "Aladdin", "open sesame",
	  "CONNECT db.corp.example:5432 HTTP/1.1\r\n"
	  "Host: db.corp.example:5432\r\n"
	  "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
	  "\r\n" },
	{ "user without password", "h.test", 80, "u", NULL,
	  "CONNECT h.test:80 HTTP/1.1\r\n"
	  "Host: h.test:80\r\n"
	  "Proxy-Authorization: Basic dTo=\r\n"
	  "\r\n" },
	{ "empty user and password", "h.test", 80, "", "",
	  "CONNECT h.test:80 HTTP/1.1\r\n"
	  "Host: h.test:80\r\n"
	  "Proxy-Authorization: Basic Og==\r\n"
	  "\r\n" },
};

static void
test_request_build(void **state)
{
	char buf[512], *small;
	const struct req_case *c;
	size_t i, n, want_len;

	(void)state;
	for (i = 0; i < ARRAY_LEN(req_cases); i++) {
		c = &req_cases[i];
		print_message("%s\n", c->what);
		want_len = strlen(c->want);
		assert_int_equal(httpc_build_request(buf, sizeof(buf), c->host,
						     c->port, c->user,
						     c->pass), want_len);
		assert_string_equal(buf, c->want);
		/* Exactly fits with its NUL; one byte less is too small. */
		for (n = 0; n <= want_len; n++) {
			small = malloc(n > 0 ? n : 1);
			assert_non_null(small);
			assert_int_equal(httpc_build_request(small, n, c->host,
							     c->port, c->user,
							     c->pass),
					 -ENOSPC);
			free(small);
		}
		small = malloc(want_len + 1);
		assert_non_null(small);
		assert_int_equal(httpc_build_request(small, want_len + 1,
						     c->host, c->port,
						     c->user, c->pass),
				 want_len);
		free(small);
	}
}

static void
test_request_bad(void **state)
{
	static const char *const bad_hosts[] = {
		"", "a\r\nX-Injected: 1", "a\nb", "a\rb", "a b", "a\tb",
		"a\x7f", "\x01",
	};
	char buf[4096], *longpass;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad_hosts); i++)
		assert_int_equal(httpc_build_request(buf, sizeof(buf),
						     bad_hosts[i], 80, NULL,
						     NULL), -EINVAL);
	assert_int_equal(httpc_build_request(buf, sizeof(buf), NULL, 80,
					     NULL, NULL), -EINVAL);

	/* "user:pass" beyond the 1024-byte scratch is refused, buf wiped. */
	longpass = malloc(1100);
	assert_non_null(longpass);
	memset(longpass, 'p', 1099);
	longpass[1099] = '\0';
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(httpc_build_request(buf, sizeof(buf), "h.test", 80,
					     "u", longpass), -EINVAL);
	assert_null(memchr(buf, 'z', sizeof(buf)));
	longpass[1023] = '\0';
	assert_int_equal(httpc_build_request(buf, sizeof(buf), "h.test", 80,
					     "u", longpass), -EINVAL);
	longpass[1022] = '\0';
	assert_true(httpc_build_request(buf, sizeof(buf), "h.test", 80, "u",
					longpass) > 0);
	free(longpass);
}

/* ---- response parser ---- */

static const struct ok_case {
	const char *what;
	const char *in;
	int code, minor;
	const char *reason;
} ok_cases[] = {
	{ "200 established",
	  "HTTP/1.1 200 Connection established\r\n\r\n",
	  200, 1, "Connection established" },
	{ "HTTP/1.0 200 with a header",
	  "HTTP/1.0 200 OK\r\nProxy-agent: tinyproxy/1.11\r\n\r\n",
	  200, 0, "OK" },
	{ "204", "HTTP/1.1 204 No Content\r\n\r\n", 204, 1, "No Content" },
	{ "299 without a reason", "HTTP/1.1 299\r\n\r\n", 299, 1, "" },
	{ "200 with an empty reason", "HTTP/1.1 200 \r\n\r\n", 200, 1, "" },
	{ "407",
	  "HTTP/1.1 407 Proxy Authentication Required\r\n"
	  "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
	  "Content-Length: 0\r\n\r\n",
	  407, 1, "Proxy Authentication Required" },
	{ "403", "HTTP/1.1 403 Forbidden\r\nVia: 1.1 squid\r\n\r\n",
	  403, 1, "Forbidden" },
	{ "502", "HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, 1, "Bad Gateway" },
	/* 1xx is interim (RFC 9110 §15.2): the final head decides */
	{ "100 Continue before 200",
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 200, 1,
	  "OK" },
	{ "two 1xx with headers before 407",
	  "HTTP/1.1 100 Continue\r\nX: y\r\n\r\n"
	  "HTTP/1.1 103 Early Hints\nLink: </a>\n\n"
	  "HTTP/1.0 407 Auth\r\n\r\n", 407, 0, "Auth" },
	{ "599", "HTTP/1.1 599 x\r\n\r\n", 599, 1, "x" },
	{ "LF only", "HTTP/1.1 200 OK\n\n", 200, 1, "OK" },
	{ "LF only with headers",
	  "HTTP/1.1 200 OK\nVia: x\nX-A: b\n\n", 200, 1, "OK" },
	{ "CRLF then LF", "HTTP/1.1 200 OK\r\nVia: x\r\n\n", 200, 1, "OK" },
	{ "LF then CRLF", "HTTP/1.1 200 OK\nVia: x\n\r\n", 200, 1, "OK" },
	{ "reason with control bytes",
	  "HTTP/1.1 403 Bad\x01\x7f\xff\tX\r\n\r\n", 403, 1, "Bad????X" },
};

/* Every prefix of a valid head is PARSE_MORE, need 1. */
static void
check_ok(const struct ok_case *c)
{
	struct httpc_response r;
	size_t len = strlen(c->in), k, used, need;
	char *with_tail;
	size_t tail_len = sizeof(ssh_banner) - 1;

	for (k = 0; k < len; k++) {
		need = 0;
		assert_int_equal(parse_exact(c->in, k, &used, &need, &r),
				 PARSE_MORE);
		assert_int_equal(need, 1);
	}
	memset(&r, 0x55, sizeof(r));
	assert_int_equal(parse_exact(c->in, len, &used, &need, &r), PARSE_OK);
	assert_int_equal(used, len);
	assert_int_equal(r.code, c->code);
	assert_int_equal(r.minor, c->minor);
	assert_string_equal(r.reason, c->reason);

	/* The SSH server spoke first: its banner is not part of the head. */
	with_tail = malloc(len + tail_len);
	assert_non_null(with_tail);
	memcpy(with_tail, c->in, len);
	memcpy(with_tail + len, ssh_banner, tail_len);
	assert_int_equal(parse_exact(with_tail, len + tail_len, &used, &need,
				     &r), PARSE_OK);
	assert_int_equal(used, len);
	assert_memory_equal(with_tail + used, ssh_banner, tail_len);
	free(with_tail);
}

static void
test_response_ok(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ok_cases); i++) {
		print_message("%s\n", ok_cases[i].what);
		check_ok(&ok_cases[i]);
	}
}

static void
test_response_malformed(void **state)
{
	static const struct {
		const char *what;
		const char *in;
		size_t len;	/* 0: strlen */
	} cases[] = {
		/* nc accepted this until 2025: no SP after the code. */
		{ "200poo", "HTTP/1.0 200poo\r\n\r\n", 0 },
		{ "HTTP/2", "HTTP/2 200\r\n\r\n", 0 },
		{ "lower case", "http/1.1 200 OK\r\n\r\n", 0 },
		{ "HTTP/1.x", "HTTP/1.x 200 OK\r\n\r\n", 0 },
		{ "two-digit minor", "HTTP/1.10 200 OK\r\n\r\n", 0 },
		{ "two-digit code", "HTTP/1.1 20 OK\r\n\r\n", 0 },
		{ "four-digit code", "HTTP/1.1 2000 OK\r\n\r\n", 0 },
		{ "code 099", "HTTP/1.1 099 x\r\n\r\n", 0 },
		{ "code 600", "HTTP/1.1 600 x\r\n\r\n", 0 },
		{ "two spaces", "HTTP/1.1  200 OK\r\n\r\n", 0 },
		{ "tab", "HTTP/1.1\t200 OK\r\n\r\n", 0 },
		{ "tab after code", "HTTP/1.1 200\tOK\r\n\r\n", 0 },
		{ "leading space", " HTTP/1.1 200 OK\r\n\r\n", 0 },
		{ "empty head", "\r\n\r\n", 0 },
		{ "no version", "HTTP/1.\r\n\r\n", 0 },
		{ "a SOCKS reply", "\x05\x00", 2 },
		{ "NUL in a header", "HTTP/1.1 200 OK\r\nA: \0b\r\n\r\n", 25 },
		{ "NUL in the reason", "HTTP/1.1 200 O\0K\r\n\r\n", 20 },
		{ "bare CR", "HTTP/1.1 200 OK\rX: y\r\n\r\n", 0 },
		{ "bare CR, incomplete", "HTTP/1.1 200 OK\r\nA\rb", 0 },
		/* Wrong from the first bytes: no need to wait for the end. */
		{ "not HTTP, short", "SSH-2", 0 },
		{ "not HTTP, one byte", "h", 0 },
		/* after an interim head: the next must be HTTP too */
		{ "100 then SSH", "HTTP/1.1 100 Continue\r\n\r\nSSH-2", 0 },
		{ "100 then a bad status",
		  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20 OK\r\n\r\n", 0 },
	};
	struct httpc_response r;
	size_t i, len, used, need;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		print_message("%s\n", cases[i].what);
		len = cases[i].len > 0 ? cases[i].len : strlen(cases[i].in);
		assert_int_equal(parse_exact(cases[i].in, len, &used, &need,
					     &r), PARSE_ERR);
	}
}

/* Build "HTTP/1.1 200 OK\r\n" + n field lines + "\r\n" into a malloc. */
static char *
head_with_lines(size_t n, size_t *len)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";
	static const char field[] = "X-Filler: 0123456789\r\n";
	char *h = malloc(sizeof(status) + n * (sizeof(field) - 1) + 3);
	size_t i, off = 0;

	assert_non_null(h);
	memcpy(h, status, sizeof(status) - 1);
	off += sizeof(status) - 1;
	for (i = 0; i < n; i++) {
		memcpy(h + off, field, sizeof(field) - 1);
		off += sizeof(field) - 1;
	}
	memcpy(h + off, "\r\n", 2);
	*len = off + 2;
	return h;
}

/* An interim head alone is not the answer: wait for the final one. */
static void
test_response_1xx_alone(void **state)
{
	static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
				 "HTTP/1.1 102 Processing\r\n\r\n";
	struct httpc_response r;
	size_t used = 0, need = 0;

	(void)state;
	assert_int_equal(parse_exact(in, sizeof(in) - 1, &used, &need, &r),
			 PARSE_MORE);
	assert_int_equal(need, 1);
}

static void
test_response_line_cap(void **state)
{
	struct httpc_response r;
	size_t len, used, need;
	char *h;

	(void)state;
	h = head_with_lines(HTTPC_HDR_LINES_MAX, &len);
	assert_int_equal(parse_exact(h, len, &used, &need, &r), PARSE_OK);
	assert_int_equal(used, len);
	free(h);

	h = head_with_lines(HTTPC_HDR_LINES_MAX + 1, &len);
	assert_int_equal(parse_exact(h, len, &used, &need, &r), PARSE_ERR);
	/* The 65th line is refused as soon as it is complete. */
	assert_int_equal(parse_exact(h, len - 2, &used, &need, &r),
			 PARSE_ERR);
	free(h);
}

/* "HTTP/1.1 200 OK\r\nX: aaaa...\r\n\r\n" of exactly `total` bytes. */
static char *
head_of_size(size_t total)
{
	static const char start[] = "HTTP/1.1 200 OK\r\nX: ";
	char *h = malloc(total);

	assert_non_null(h);
	assert_true(total > sizeof(start) + 4);
	memcpy(h, start, sizeof(start) - 1);
	memset(h + sizeof(start) - 1, 'a', total - (sizeof(start) - 1) - 4);
	memcpy(h + total - 4, "\r\n\r\n", 4);
	return h;
}

static void
test_response_byte_cap(void **state)
{
	struct httpc_response r;
	size_t used, need;
	char *h;

	(void)state;
	h = head_of_size(HTTPC_HDR_MAX);
	assert_int_equal(parse_exact(h, HTTPC_HDR_MAX, &used, &need, &r),
			 PARSE_OK);
	assert_int_equal(used, HTTPC_HDR_MAX);
	/* Incomplete but still under the cap: more could help. */
	assert_int_equal(parse_exact(h, HTTPC_HDR_MAX - 1, &used, &need, &r),
			 PARSE_MORE);
	free(h);

	h = head_of_size(HTTPC_HDR_MAX + 1);
	assert_int_equal(parse_exact(h, HTTPC_HDR_MAX + 1, &used, &need, &r),
			 PARSE_ERR);
	/* At the cap with no end in sight: nothing more can help. */
	assert_int_equal(parse_exact(h, HTTPC_HDR_MAX, &used, &need, &r),
			 PARSE_ERR);
	assert_int_equal(parse_exact(h, HTTPC_HDR_MAX - 1, &used, &need, &r),
			 PARSE_MORE);
	free(h);

	h = head_of_size(4 * HTTPC_HDR_MAX);
	assert_int_equal(parse_exact(h, 4 * HTTPC_HDR_MAX, &used, &need, &r),
			 PARSE_ERR);
	free(h);
}

static void
test_response_reason_cut(void **state)
{
	char in[300];
	struct httpc_response r;
	size_t used, need, len;

	(void)state;
	memcpy(in, "HTTP/1.1 502 ", 13);
	memset(in + 13, 'r', 200);
	memcpy(in + 213, "\r\n\r\n", 4);
	len = 217;
	assert_int_equal(parse_exact(in, len, &used, &need, &r), PARSE_OK);
	assert_int_equal(used, len);
	assert_int_equal(r.code, 502);
	assert_int_equal(strlen(r.reason), HTTPC_REASON_MAX - 1);
	assert_int_equal(r.reason[0], 'r');
}

/* Retry-After: delay-seconds, the three HTTP-date forms, junk. */
static void
test_retry_after_values(void **state)
{
	static const struct {
		const char *v;
		int rc;
		int64_t val;
	} cases[] = {
		{ "2", 1, 2 },
		{ "  120 ", 1, 120 },
		{ "0", 1, 0 },
		{ "99999999999999999999999", 1, HTTPC_RETRY_MAX_S },
		{ "86401", 1, HTTPC_RETRY_MAX_S },
		/* RFC 9110 §5.6.7's examples: 784111777 */
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 2, 784111777 },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 2, 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 2, 784111777 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 2, 0 },
		{ "Tue, 01 Dec 2026 23:00:05 GMT", 2, 1796166005 },
		{ "Wed, 29 Feb 2040 12:00:00 GMT", 2, 2214129600 },
		{ "", 0, 0 },
		{ "-1", 0, 0 },
		{ "2s", 0, 0 },
		{ "1.5", 0, 0 },
		{ "Sun, 06 Nov 1994 25:49:37 GMT", 0, 0 },
		{ "Sun, 06 Foo 1994 08:49:37 GMT", 0, 0 },
		{ "Sun, 32 Nov 1994 08:49:37 GMT", 0, 0 },
		{ "Sun, 06 Nov 1994 08:49:37 PST", 0, 0 },
		{ "Sun, 06 Nov 1994", 0, 0 },
		{ "soon", 0, 0 },
	};
	int64_t d, date;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = date = -7;
		rc = httpc_retry_after(cases[i].v, strlen(cases[i].v), &d,
				       &date);
		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d", cases[i].v, rc);
		if (rc == 1 && d != cases[i].val)
			fail_msg("'%s': delay %lld", cases[i].v, (long long)d);
		if (rc == 2 && date != cases[i].val)
			fail_msg("'%s': date %lld", cases[i].v,
				 (long long)date);
	}
}

/* The fields of the final head, none of an interim one's. */
static void
test_response_fields(void **state)
{
	static const char r429[] =
		"HTTP/1.1 429 Too Many Requests\r\n"
		"retry-after:   2  \r\n"
		"Content-Length: 0\r\n\r\nAPP";
	static const char r503[] =
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n";
	static const char r407[] =
		"HTTP/1.1 100 Continue\r\nRetry-After: 9\r\n"
		"Proxy-Authenticate: Bogus\r\n\r\n"
		"HTTP/1.1 407 Proxy Authentication Required\r\n"
		"Proxy-Authenticate: Negotiate\r\n"
		"Proxy-Authenticate: NTLM, Basic realm=\"corp, inc\", "
		"charset=\"UTF-8\"\r\n"
		"proxy-authenticate: Digest realm=\"x\", nonce=\"a,b\", "
		"qop=auth, Bearer token68abc=\r\n\r\n";
	static const char bad[] =
		"HTTP/1.1 429 Slow down\r\nRetry-After: later\r\n\r\n";
	struct httpc_response r;
	size_t used = 0, need = 0;

	(void)state;
	assert_int_equal(httpc_parse_response((const uint8_t *)r429,
					      sizeof(r429) - 1, &used, &need,
					      &r), PARSE_OK);
	assert_int_equal(used, sizeof(r429) - 1 - 3);
	assert_int_equal(r.code, 429);
	assert_int_equal(r.retry_after_s, 2);
	assert_int_equal(r.retry_date, 0);
	assert_string_equal(r.schemes, "");
	assert_int_equal(httpc_parse_response((const uint8_t *)r503,
					      sizeof(r503) - 1, &used, &need,
					      &r), PARSE_OK);
	assert_int_equal(r.retry_after_s, -1);
	assert_int_equal(r.retry_date, 784111777);
	assert_int_equal(httpc_parse_response((const uint8_t *)r407,
					      sizeof(r407) - 1, &used, &need,
					      &r), PARSE_OK);
	assert_int_equal(r.code, 407);
	assert_int_equal(r.retry_after_s, -1);
	assert_string_equal(r.schemes, "Negotiate, NTLM, Basic, Digest, "
			    "Bearer");
	assert_int_equal(httpc_parse_response((const uint8_t *)bad,
					      sizeof(bad) - 1, &used, &need,
					      &r), PARSE_OK);
	assert_int_equal(r.retry_after_s, -1);
	assert_int_equal(r.retry_date, 0);
}

/* Schemes are cut at a whole name. */
static void
test_response_schemes_cut(void **state)
{
	char buf[2048];
	struct httpc_response r;
	size_t used = 0, need = 0, off, i;

	(void)state;
	off = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 407 x\r\n");
	for (i = 0; i < 30; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"Proxy-Authenticate: Scheme%02zu\r\n",
					i);
	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\r\n");
	assert_int_equal(httpc_parse_response((const uint8_t *)buf, off,
					      &used, &need, &r), PARSE_OK);
	assert_true(strlen(r.schemes) < sizeof(r.schemes));
	assert_true(strlen(r.schemes) > sizeof(r.schemes) - 12);
	assert_int_equal(strncmp(r.schemes, "Scheme00, Scheme01", 18), 0);
	off = strlen(r.schemes);
	assert_true(r.schemes[off - 1] >= '0' && r.schemes[off - 1] <= '9');
}

/*
 * Negotiate (RFC 4559 §4): the token's base64 after "Negotiate ", no
 * Basic; the exact room needed and one byte less; an empty token and a
 * buffer the token does not fit are refused and the buffer wiped.
 */
static void
test_request_negotiate(void **state)
{
	static const uint8_t tok[] = { 0x60, 0x82, 0x02, 0x0b, 0x06, 0x09 };
	static const char want[] =
		"CONNECT h.test:443 HTTP/1.1\r\nHost: h.test:443\r\n"
		"Proxy-Authorization: Negotiate YIICCwYJ\r\n\r\n";
	static uint8_t big[CTL_TOKEN_MAX];
	static char out[CTL_TOKEN_MAX * 2];
	char buf[256];
	size_t i;
	int n;

	(void)state;
	n = httpc_build_negotiate(buf, sizeof(buf), "h.test", 443, tok,
				  sizeof(tok));
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(buf, want);
	assert_int_equal(httpc_build_negotiate(buf, sizeof(want), "h.test", 443,
					       tok, sizeof(tok)),
			 sizeof(want) - 1);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(httpc_build_negotiate(buf, sizeof(want) - 1, "h.test",
					       443, tok, sizeof(tok)), -ENOSPC);
	for (i = 0; i < sizeof(want) - 1; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(httpc_build_negotiate(buf, sizeof(buf), "h.test", 443,
					       tok, 0), -EINVAL);
	assert_int_equal(httpc_build_negotiate(buf, sizeof(buf), "h.test", 443,
					       NULL, 4), -EINVAL);
	assert_int_equal(httpc_build_negotiate(buf, sizeof(buf), "h\r\nX: y",
					       443, tok, sizeof(tok)), -EINVAL);
	/* the largest token the control socket carries fits the request
	 * buffer the tunnel has for it */
	memset(big, 0xa5, sizeof(big));
	n = httpc_build_negotiate(out, sizeof(out), "proxy.test", 3128, big,
				  sizeof(big));
	assert_true(n > 0 && (size_t)n < TUN_OUT_MAX);
	assert_non_null(strstr(out, "\r\n\r\n"));
	assert_int_equal(strstr(out, "\r\n\r\n") - out + 4, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_request_build),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_request_negotiate),
		cmocka_unit_test(test_response_ok),
		cmocka_unit_test(test_response_malformed),
		cmocka_unit_test(test_response_1xx_alone),
		cmocka_unit_test(test_response_line_cap),
		cmocka_unit_test(test_response_byte_cap),
		cmocka_unit_test(test_response_reason_cut),
		cmocka_unit_test(test_retry_after_values),
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_response_schemes_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
