/*
 * test_socks5.c - SOCKS5 builders against bytes written from RFC 1928 and
 * RFC 1929, and the parsers split at every offset, followed by
 * application bytes, and fed truncated and malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "socks5.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* What an SSH server sends first; it must stay the application's. */
static const char ssh_banner[] = "SSH-2.0-OpenSSH_9.2\r\n";

/* An exact-size heap copy, so ASan builds catch any read past len. */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n > 0 ? n : 1);

	assert_non_null(d);
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

/* Every builder must refuse every buffer one byte short or shorter. */
static void
check_short_buffers(int (*build)(uint8_t *, size_t, const void *),
		    const void *arg, size_t want_len)
{
	uint8_t *buf;
	size_t n;

	for (n = 0; n < want_len; n++) {
		buf = malloc(n > 0 ? n : 1);
		assert_non_null(buf);
		assert_int_equal(build(buf, n, arg), -ENOSPC);
		free(buf);
	}
}

/* ---- greeting, RFC 1928 §3: VER NMETHODS METHODS ---- */

static int
build_greeting_noauth(uint8_t *b, size_t n, const void *arg)
{
	(void)arg;
	return socks5_build_greeting(b, n, false);
}

static int
build_greeting_auth(uint8_t *b, size_t n, const void *arg)
{
	(void)arg;
	return socks5_build_greeting(b, n, true);
}

static void
test_greeting(void **state)
{
	static const uint8_t noauth[] = { 0x05, 0x01, 0x00 };
	static const uint8_t auth[] = { 0x05, 0x02, 0x00, 0x02 };
	uint8_t buf[16];

	(void)state;
	assert_int_equal(socks5_build_greeting(buf, sizeof(buf), false),
			 sizeof(noauth));
	assert_memory_equal(buf, noauth, sizeof(noauth));
	assert_int_equal(socks5_build_greeting(buf, sizeof(buf), true),
			 sizeof(auth));
	assert_memory_equal(buf, auth, sizeof(auth));
	check_short_buffers(build_greeting_noauth, NULL, sizeof(noauth));
	check_short_buffers(build_greeting_auth, NULL, sizeof(auth));
}

/* A pipelined handshake offers exactly one method (RFC 1928 §3). */
static void
test_greeting_one(void **state)
{
	static const uint8_t none[] = { 0x05, 0x01, 0x00 };
	static const uint8_t userpass[] = { 0x05, 0x01, 0x02 };
	uint8_t buf[8];

	(void)state;
	assert_int_equal(socks5_build_greeting_one(buf, sizeof(buf),
						   SOCKS5_M_NONE), 3);
	assert_memory_equal(buf, none, sizeof(none));
	assert_int_equal(socks5_build_greeting_one(buf, sizeof(buf),
						   SOCKS5_M_USERPASS), 3);
	assert_memory_equal(buf, userpass, sizeof(userpass));
	assert_int_equal(socks5_build_greeting_one(buf, 2, SOCKS5_M_NONE),
			 -ENOSPC);
}

/* ---- RFC 1929 §2: VER ULEN UNAME PLEN PASSWD ---- */

struct cred {
	const char *user, *pass;
};

static int
build_auth(uint8_t *b, size_t n, const void *arg)
{
	const struct cred *c = arg;

	return socks5_build_auth(b, n, c->user, c->pass);
}

static void
test_auth_build(void **state)
{
	static const uint8_t alice[] = {
		0x01, 0x05, 'a', 'l', 'i', 'c', 'e',
		0x06, 's', 'e', 'c', 'r', 'e', 't',
	};
	static const uint8_t nopass[] = { 0x01, 0x01, 'u', 0x00 };
	struct cred c = { "alice", "secret" };
	uint8_t buf[600];
	char u255[256], u256[257];

	(void)state;
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), "alice",
					   "secret"), sizeof(alice));
	assert_memory_equal(buf, alice, sizeof(alice));
	check_short_buffers(build_auth, &c, sizeof(alice));
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), "u", ""),
			 sizeof(nopass));
	assert_memory_equal(buf, nopass, sizeof(nopass));

	memset(u255, 'x', 255);
	u255[255] = '\0';
	memset(u256, 'y', 256);
	u256[256] = '\0';
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), u255, u255),
			 1 + 1 + 255 + 1 + 255);
	assert_int_equal(buf[1], 255);
	assert_int_equal(buf[2 + 255], 255);
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), u256, "p"),
			 -EINVAL);
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), "u", u256),
			 -EINVAL);
	assert_int_equal(socks5_build_auth(buf, sizeof(buf), NULL, "p"),
			 -EINVAL);
}

/* ---- request, RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT ---- */

struct req_case {
	const char *what;
	enum socks5_cmd cmd;
	struct socks5_addr dst;
	uint8_t want[32];
	size_t want_len;
};

static const struct req_case req_cases[] = {
	{ "connect v4 198.18.0.1:80", SOCKS5_CMD_CONNECT,
	  { .atyp = SOCKS5_ATYP_V4, .addr = { 198, 18, 0, 1 }, .port = 80 },
	  { 0x05, 0x01, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x00, 0x50 }, 10 },
	{ "connect v6 [2001:db8::1]:443", SOCKS5_CMD_CONNECT,
	  { .atyp = SOCKS5_ATYP_V6,
	    .addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		      0, 0, 0, 0, 0, 0, 0, 0x01 }, .port = 443 },
	  { 0x05, 0x01, 0x00, 0x04,
	    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	    0x01, 0xbb }, 22 },
	{ "connect name example.com:22", SOCKS5_CMD_CONNECT,
	  { .atyp = SOCKS5_ATYP_NAME, .name = "example.com", .port = 22 },
	  { 0x05, 0x01, 0x00, 0x03, 0x0b,
	    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
	    0x00, 0x16 }, 18 },
	{ "udp associate 0.0.0.0:0", SOCKS5_CMD_UDP,
	  { .atyp = SOCKS5_ATYP_V4, .port = 0 },
	  { 0x05, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	  10 },
	{ "udp associate name a:65535", SOCKS5_CMD_UDP,
	  { .atyp = SOCKS5_ATYP_NAME, .name = "a", .port = 65535 },
	  { 0x05, 0x03, 0x00, 0x03, 0x01, 'a', 0xff, 0xff }, 8 },
};

static const struct req_case *cur_req;

static int
build_cur_req(uint8_t *b, size_t n, const void *arg)
{
	(void)arg;
	return socks5_build_request(b, n, cur_req->cmd, &cur_req->dst);
}

static void
test_request_build(void **state)
{
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(req_cases); i++) {
		cur_req = &req_cases[i];
		print_message("%s\n", cur_req->what);
		assert_int_equal(socks5_build_request(buf, sizeof(buf),
						      cur_req->cmd,
						      &cur_req->dst),
				 cur_req->want_len);
		assert_memory_equal(buf, cur_req->want, cur_req->want_len);
		check_short_buffers(build_cur_req, NULL, cur_req->want_len);
	}
}

static void
test_request_bad(void **state)
{
	uint8_t buf[SOCKS5_REPLY_MAX + 8];
	struct socks5_addr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_NAME;
	assert_int_equal(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_CONNECT, &a), -EINVAL);
	memset(a.name, 'n', SOCKS5_NAME_MAX);
	assert_int_equal(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_CONNECT, &a),
			 4 + 1 + 255 + 2);
	assert_int_equal(buf[4], 255);
	/* No NUL anywhere in the array: longer than 255, refused. */
	memset(a.name, 'n', sizeof(a.name));
	assert_int_equal(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_CONNECT, &a), -EINVAL);
	memset(&a, 0, sizeof(a));
	a.atyp = (enum socks5_atyp)0x02;
	assert_int_equal(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_CONNECT, &a), -EINVAL);
	a.atyp = SOCKS5_ATYP_V4;
	assert_int_equal(socks5_build_request(buf, sizeof(buf),
					      (enum socks5_cmd)0x09, &a),
			 -EINVAL);
}

/* ---- parsers: a generic split-at-every-offset check ---- */

typedef int (*parse_fn)(const uint8_t *, size_t, size_t *, size_t *,
			void *);

static int
parse_method(const uint8_t *p, size_t len, size_t *used, size_t *need,
	     void *out)
{
	return socks5_parse_method(p, len, used, need, out);
}

static int
parse_auth(const uint8_t *p, size_t len, size_t *used, size_t *need,
	   void *out)
{
	return socks5_parse_auth(p, len, used, need, out);
}

static int
parse_reply(const uint8_t *p, size_t len, size_t *used, size_t *need,
	    void *out)
{
	return socks5_parse_reply(p, len, used, need, out);
}

/*
 * Feed every prefix of a valid message: each must be PARSE_MORE with a
 * need that does not reach past the message, then the whole message must
 * be PARSE_OK with *used exact, also when application bytes follow.
 */
static void
check_splits(parse_fn parse, const uint8_t *msg, size_t len, void *out)
{
	uint8_t *copy, *with_tail;
	size_t k, used, need;
	size_t tail_len = sizeof(ssh_banner) - 1;

	for (k = 0; k < len; k++) {
		copy = dup_exact(msg, k);
		need = 0;
		assert_int_equal(parse(k > 0 ? copy : NULL, k, &used, &need,
				       out), PARSE_MORE);
		assert_true(need >= 1);
		assert_true(k + need <= len);
		free(copy);
	}
	copy = dup_exact(msg, len);
	used = 0;
	assert_int_equal(parse(copy, len, &used, &need, out), PARSE_OK);
	assert_int_equal(used, len);
	free(copy);

	with_tail = malloc(len + tail_len);
	assert_non_null(with_tail);
	memcpy(with_tail, msg, len);
	memcpy(with_tail + len, ssh_banner, tail_len);
	used = 0;
	assert_int_equal(parse(with_tail, len + tail_len, &used, &need, out),
			 PARSE_OK);
	assert_int_equal(used, len);
	assert_memory_equal(with_tail + used, ssh_banner, tail_len);
	free(with_tail);
}

static void
test_method_parse(void **state)
{
	static const struct {
		uint8_t in[2];
		int rc;
		uint8_t method;
	} cases[] = {
		{ { 0x05, 0x00 }, PARSE_OK, SOCKS5_M_NONE },
		{ { 0x05, 0x02 }, PARSE_OK, SOCKS5_M_USERPASS },
		{ { 0x05, 0xff }, PARSE_OK, SOCKS5_M_REFUSED },
		{ { 0x04, 0x00 }, PARSE_ERR, 0 },
		{ { 0x01, 0x00 }, PARSE_ERR, 0 },
		{ { 'H', 'T' }, PARSE_ERR, 0 },
	};
	size_t i, used, need;
	uint8_t m;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(socks5_parse_method(cases[i].in, 2, &used,
						     &need, &m), cases[i].rc);
		/* A wrong version is known from the first byte alone. */
		assert_int_equal(socks5_parse_method(cases[i].in, 1, &used,
						     &need, &m),
				 cases[i].rc == PARSE_OK ? PARSE_MORE :
				 PARSE_ERR);
		if (cases[i].rc != PARSE_OK)
			continue;
		check_splits(parse_method, cases[i].in, 2, &m);
		assert_int_equal(m, cases[i].method);
	}
	assert_int_equal(socks5_parse_method(NULL, 0, &used, &need, &m),
			 PARSE_MORE);
	assert_int_equal(need, 2);
}

static void
test_auth_parse(void **state)
{
	static const struct {
		uint8_t in[2];
		int rc;
		bool ok;
	} cases[] = {
		{ { 0x01, 0x00 }, PARSE_OK, true },
		{ { 0x01, 0x01 }, PARSE_OK, false },
		{ { 0x01, 0xff }, PARSE_OK, false },
		/* Broken servers answer with VER 5; accepted on purpose. */
		{ { 0x05, 0x00 }, PARSE_OK, true },
		{ { 0x05, 0x01 }, PARSE_OK, false },
		{ { 0x02, 0x00 }, PARSE_ERR, false },
		{ { 0x00, 0x00 }, PARSE_ERR, false },
	};
	size_t i, used, need;
	bool ok;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(socks5_parse_auth(cases[i].in, 2, &used,
						   &need, &ok), cases[i].rc);
		if (cases[i].rc != PARSE_OK)
			continue;
		check_splits(parse_auth, cases[i].in, 2, &ok);
		assert_true(ok == cases[i].ok);
	}
}

/* ---- request reply, RFC 1928 §6 ---- */

struct reply_case {
	const char *what;
	uint8_t in[SOCKS5_REPLY_MAX];
	size_t len;
	uint8_t rep;
	enum socks5_atyp atyp;
	uint8_t addr[16];
	const char *name;
	uint16_t port;
};

static const struct reply_case reply_cases[] = {
	{ "v4 bound 198.18.0.2:1080",
	  { 0x05, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, 0x04, 0x38 }, 10,
	  SOCKS5_REP_OK, SOCKS5_ATYP_V4, { 198, 18, 0, 2 }, NULL, 1080 },
	{ "v6 bound [2001:db8::2]:443",
	  { 0x05, 0x00, 0x00, 0x04,
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	    0x01, 0xbb }, 22,
	  SOCKS5_REP_OK, SOCKS5_ATYP_V6,
	  { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 },
	  NULL, 443 },
	{ "name bound proxy.test:22",
	  { 0x05, 0x00, 0x00, 0x03, 0x0a,
	    'p', 'r', 'o', 'x', 'y', '.', 't', 'e', 's', 't', 0x00, 0x16 },
	  17, SOCKS5_REP_OK, SOCKS5_ATYP_NAME, { 0 }, "proxy.test", 22 },
	/* The shortest reply there is: an empty name, 7 bytes. */
	{ "empty name",
	  { 0x05, 0x00, 0x00, 0x03, 0x00, 0x00, 0x50 }, 7,
	  SOCKS5_REP_OK, SOCKS5_ATYP_NAME, { 0 }, "", 80 },
	/* RSV is ignored: some servers leave garbage in it. */
	{ "non-zero RSV",
	  { 0x05, 0x00, 0x7f, 0x01, 127, 0, 0, 1, 0x00, 0x00 }, 10,
	  SOCKS5_REP_OK, SOCKS5_ATYP_V4, { 127, 0, 0, 1 }, NULL, 0 },
	{ "refused, with an address",
	  { 0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x00 }, 10,
	  SOCKS5_REP_REFUSED, SOCKS5_ATYP_V4, { 0 }, NULL, 0 },
};

static void
check_reply_fields(const struct reply_case *c, const struct socks5_reply *r)
{
	assert_int_equal(r->rep, c->rep);
	assert_int_equal(r->bnd.atyp, c->atyp);
	assert_int_equal(r->bnd.port, c->port);
	if (c->name != NULL)
		assert_string_equal(r->bnd.name, c->name);
	else
		assert_memory_equal(r->bnd.addr, c->addr,
				    c->atyp == SOCKS5_ATYP_V4 ? 4 : 16);
}

static void
test_reply_parse(void **state)
{
	struct socks5_reply r;
	size_t i, k, used, need;

	(void)state;
	for (i = 0; i < ARRAY_LEN(reply_cases); i++) {
		print_message("%s\n", reply_cases[i].what);
		check_splits(parse_reply, reply_cases[i].in,
			     reply_cases[i].len, &r);
		check_reply_fields(&reply_cases[i], &r);
		/* First exactly 5 bytes, then exactly the rest. */
		for (k = 0; k < 5; k++) {
			assert_int_equal(socks5_parse_reply(reply_cases[i].in,
							    k, &used, &need,
							    &r), PARSE_MORE);
			assert_int_equal(need, 5 - k);
		}
		for (k = 5; k < reply_cases[i].len; k++) {
			assert_int_equal(socks5_parse_reply(reply_cases[i].in,
							    k, &used, &need,
							    &r), PARSE_MORE);
			assert_int_equal(need, reply_cases[i].len - k);
		}
	}
}

/* The longest reply: a 255-byte name, split everywhere. */
static void
test_reply_longest(void **state)
{
	uint8_t in[SOCKS5_REPLY_MAX];
	struct socks5_reply r;

	(void)state;
	in[0] = 0x05;
	in[1] = 0x00;
	in[2] = 0x00;
	in[3] = 0x03;
	in[4] = 255;
	memset(in + 5, 'h', 255);
	in[5 + 255] = 0x12;
	in[5 + 256] = 0x34;
	check_splits(parse_reply, in, sizeof(in), &r);
	assert_int_equal(strlen(r.bnd.name), 255);
	assert_int_equal(r.bnd.port, 0x1234);
}

static void
test_reply_every_rep(void **state)
{
	static const struct {
		uint8_t rep;
		const char *text;
	} codes[] = {
		{ 0x00, "succeeded" },
		{ 0x01, "general SOCKS server failure" },
		{ 0x02, "connection not allowed by ruleset" },
		{ 0x03, "network unreachable" },
		{ 0x04, "host unreachable" },
		{ 0x05, "connection refused" },
		{ 0x06, "TTL expired" },
		{ 0x07, "command not supported" },
		{ 0x08, "address type not supported" },
		{ 0x09, "unknown reply code" },
		{ 0x80, "unknown reply code" },
		{ 0xff, "unknown reply code" },
	};
	uint8_t in[] = { 0x05, 0x00, 0x00, 0x01, 198, 18, 0, 1, 0x1f, 0x90 };
	struct socks5_reply r;
	size_t i, used, need;

	(void)state;
	for (i = 0; i < ARRAY_LEN(codes); i++) {
		in[1] = codes[i].rep;
		assert_int_equal(socks5_parse_reply(in, sizeof(in), &used,
						    &need, &r), PARSE_OK);
		assert_int_equal(used, sizeof(in));
		assert_int_equal(r.rep, codes[i].rep);
		assert_string_equal(socks5_rep_str(codes[i].rep),
				    codes[i].text);
	}
}

static void
test_reply_malformed(void **state)
{
	static const struct {
		const char *what;
		uint8_t in[12];
		size_t len;
	} cases[] = {
		{ "version 4, one byte", { 0x04 }, 1 },
		{ "version 0", { 0x00, 0x00, 0x00, 0x01, 1, 2, 3, 4, 0, 0 }, 10 },
		{ "an HTTP answer", { 'H', 'T', 'T', 'P' }, 4 },
		{ "atyp 0, four bytes", { 0x05, 0x00, 0x00, 0x00 }, 4 },
		{ "atyp 2", { 0x05, 0x00, 0x00, 0x02, 1, 2, 3, 4, 0, 0 }, 10 },
		{ "atyp 5", { 0x05, 0x00, 0x00, 0x05, 0 }, 5 },
		{ "atyp 0xff", { 0x05, 0x01, 0x00, 0xff }, 4 },
		{ "NUL inside a name",
		  { 0x05, 0x00, 0x00, 0x03, 0x03, 'a', 0x00, 'b', 0, 80 }, 10 },
	};
	struct socks5_reply r;
	size_t i, used, need;
	uint8_t *copy;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		print_message("%s\n", cases[i].what);
		copy = dup_exact(cases[i].in, cases[i].len);
		assert_int_equal(socks5_parse_reply(copy, cases[i].len, &used,
						    &need, &r), PARSE_ERR);
		free(copy);
	}
}

/* ---- UDP header, RFC 1928 §7 ---- */

struct udp_case {
	const char *what;
	struct socks5_addr a;
	uint8_t want[32];
	size_t want_len;
};

static const struct udp_case udp_cases[] = {
	{ "v4 198.18.0.53:53",
	  { .atyp = SOCKS5_ATYP_V4, .addr = { 198, 18, 0, 53 }, .port = 53 },
	  { 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x35, 0x00, 0x35 }, 10 },
	{ "v6 [2001:db8::35]:5353",
	  { .atyp = SOCKS5_ATYP_V6,
	    .addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		      0, 0, 0, 0, 0, 0, 0, 0x35 }, .port = 5353 },
	  { 0x00, 0x00, 0x00, 0x04,
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x35,
	    0x14, 0xe9 }, 22 },
	{ "name ns.test:53",
	  { .atyp = SOCKS5_ATYP_NAME, .name = "ns.test", .port = 53 },
	  { 0x00, 0x00, 0x00, 0x03, 0x07, 'n', 's', '.', 't', 'e', 's', 't',
	    0x00, 0x35 }, 14 },
};

static void
test_udp_header(void **state)
{
	static const char payload[] = "\x12\x34 dns query";
	uint8_t buf[64], *copy, frag;
	struct socks5_addr a, src;
	size_t i, k, hdrlen;

	(void)state;
	for (i = 0; i < ARRAY_LEN(udp_cases); i++) {
		print_message("%s\n", udp_cases[i].what);
		assert_int_equal(socks5_build_udp_header(buf, sizeof(buf),
							 &udp_cases[i].a),
				 udp_cases[i].want_len);
		assert_memory_equal(buf, udp_cases[i].want,
				    udp_cases[i].want_len);
		for (k = 0; k < udp_cases[i].want_len; k++)
			assert_int_equal(socks5_build_udp_header(buf, k,
							&udp_cases[i].a),
					 -ENOSPC);

		/* Header then payload: hdrlen exact, payload untouched. */
		memcpy(buf, udp_cases[i].want, udp_cases[i].want_len);
		memcpy(buf + udp_cases[i].want_len, payload, sizeof(payload));
		assert_int_equal(socks5_parse_udp_header(buf,
				udp_cases[i].want_len + sizeof(payload),
				&hdrlen, &frag, &src), PARSE_OK);
		assert_int_equal(hdrlen, udp_cases[i].want_len);
		assert_int_equal(frag, 0);
		assert_int_equal(src.atyp, udp_cases[i].a.atyp);
		assert_int_equal(src.port, udp_cases[i].a.port);
		assert_string_equal(src.name, udp_cases[i].a.name);
		assert_memory_equal(src.addr, udp_cases[i].a.addr, 16);
		assert_memory_equal(buf + hdrlen, payload, sizeof(payload));

		/* A datagram is whole: every truncation is malformed. */
		for (k = 0; k < udp_cases[i].want_len; k++) {
			copy = dup_exact(udp_cases[i].want, k);
			assert_int_equal(socks5_parse_udp_header(copy, k,
					&hdrlen, &frag, &src), PARSE_ERR);
			free(copy);
		}
	}

	/* FRAG is reported; RSV is not checked. */
	memcpy(buf, udp_cases[0].want, udp_cases[0].want_len);
	buf[0] = 0xff;
	buf[2] = 0x03;
	assert_int_equal(socks5_parse_udp_header(buf, udp_cases[0].want_len,
						 &hdrlen, &frag, &src),
			 PARSE_OK);
	assert_int_equal(frag, 3);
	buf[3] = 0x02;
	assert_int_equal(socks5_parse_udp_header(buf, udp_cases[0].want_len,
						 &hdrlen, &frag, &src),
			 PARSE_ERR);

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_NAME;
	assert_int_equal(socks5_build_udp_header(buf, sizeof(buf), &a),
			 -EINVAL);
}

/* The longest name, a name one too long, an empty name on the wire, a
 * header with no payload, and a datagram as large as UDP allows. */
static void
test_udp_header_limits(void **state)
{
	static uint8_t big[65535];
	uint8_t buf[300], frag;
	struct socks5_addr a, src;
	size_t hdrlen;
	int n;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_NAME;
	memset(a.name, 'n', SOCKS5_NAME_MAX);
	a.port = 5353;
	n = socks5_build_udp_header(buf, sizeof(buf), &a);
	assert_int_equal(n, 4 + 1 + SOCKS5_NAME_MAX + 2);
	assert_int_equal(socks5_parse_udp_header(buf, (size_t)n, &hdrlen,
						 &frag, &src), PARSE_OK);
	assert_int_equal(hdrlen, (size_t)n);
	assert_int_equal(strlen(src.name), SOCKS5_NAME_MAX);
	assert_int_equal(src.port, 5353);

	/* the name buffer holds 255 + NUL: a 256th byte is not a name */
	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_NAME;
	memset(a.name, 'n', SOCKS5_NAME_MAX);
	a.name[SOCKS5_NAME_MAX] = 'x';
	assert_int_equal(socks5_build_udp_header(buf, sizeof(buf), &a),
			 -EINVAL);

	/* a zero-length name on the wire is malformed */
	memcpy(buf, "\x00\x00\x00\x03\x00\x00\x35", 7);
	assert_int_equal(socks5_parse_udp_header(buf, 7, &hdrlen, &frag, &src),
			 PARSE_ERR);

	/* header only: an empty datagram to deliver */
	assert_int_equal(socks5_parse_udp_header(udp_cases[0].want,
						 udp_cases[0].want_len,
						 &hdrlen, &frag, &src),
			 PARSE_OK);
	assert_int_equal(hdrlen, udp_cases[0].want_len);

	/* the largest datagram: the header is still found at its start */
	memcpy(big, udp_cases[1].want, udp_cases[1].want_len);
	memset(big + udp_cases[1].want_len, 0xab,
	       sizeof(big) - udp_cases[1].want_len);
	assert_int_equal(socks5_parse_udp_header(big, sizeof(big), &hdrlen,
						 &frag, &src), PARSE_OK);
	assert_int_equal(hdrlen, 22);
	assert_int_equal(src.atyp, SOCKS5_ATYP_V6);
	assert_int_equal(src.port, 5353);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_greeting_one),
		cmocka_unit_test(test_auth_build),
		cmocka_unit_test(test_request_build),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_method_parse),
		cmocka_unit_test(test_auth_parse),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_longest),
		cmocka_unit_test(test_reply_every_rep),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_udp_header),
		cmocka_unit_test(test_udp_header_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
