/*
 * test_log.c - the audit log's JSON: escaping, field cutting, layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "log.h"

static void
test_log_json_str(void **state)
{
	static const struct { const char *in, *out; } c[] = {
		{ "plain", "\"plain\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
		{ "\n\r\t\b\f\x01\x7f", "\"\\n\\r\\t\\b\\f\\u0001\\u007f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },		/* UTF-8 kept */
		{ "bad\xff\xc3", "\"bad\\ufffd\\ufffd\"" },	/* not UTF-8 */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* surrogate */
	};
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(log_json_str(c[i].in, buf, sizeof(buf)),
				 strlen(c[i].out));
		assert_string_equal(buf, c[i].out);
	}
	assert_int_equal(log_json_str(NULL, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "null");
	/* cut between escapes, never inside one, and still closed */
	assert_int_equal(log_json_str("\"\"\"\"", buf, 8), 6);
	assert_string_equal(buf, "\"\\\"\\\"\"");
}

static void
test_log_event_format(void **state)
{
	struct log_event ev;
	unsigned char a[4] = { 198, 18, 0, 1 };
	char buf[LOG_JSON_MAX + 2], big[8000];
	size_t n;

	(void)state;
	log_event_init(&ev, "connect");
	ev.proto = "tcp";
	ev.name = "example.com";
	ev.family = AF_INET;
	ev.addr = a;
	ev.port = 443;
	ev.rule_at = "shim.conf:3";
	ev.rule_text = "via corp *";
	ev.action = "via";
	ev.proxy = "corp";
	ev.proxy_url = "http://u:***@p:1";
	ev.handshake_ms = 7;
	n = log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf,
		"{\"time\":\"T\",\"pid\":42,\"exe\":\"/bin/x\",\"event\":"
		"\"connect\",\"proto\":\"tcp\",\"dest\":{\"name\":"
		"\"example.com\",\"addr\":\"198.18.0.1\",\"port\":443},"
		"\"rule\":{\"at\":\"shim.conf:3\",\"text\":\"via corp *\"},"
		"\"action\":\"via\",\"proxy\":{\"name\":\"corp\",\"url\":"
		"\"http://u:***@p:1\"},\"outcome\":\"ok\",\"error\":null,"
		"\"handshake_ms\":7}\n");
	/* every field huge and full of escapes: still one line < 4 KiB */
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev.name = ev.rule_text = ev.msg = ev.proxy_url = ev.path = big;
	ev.err = ECONNREFUSED;
	n = log_event_format(&ev, "T", 42, big, buf, sizeof(buf));
	assert_true(n <= LOG_JSON_MAX);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	assert_non_null(strstr(buf, "\"outcome\":\"ECONNREFUSED\""));
	assert_non_null(strstr(buf, "\"handshake_ms\":7}"));
	assert_string_equal(log_errno_name(EACCES), "EACCES");
}

/* The close event's fields, as README's audit-log section shows them. */
static void
test_log_close_format(void **state)
{
	struct log_close c = {
		.bytes_up = 517, .bytes_down = 4096, .duration_ms = 30,
		.first_byte_ms = -1, .end = "peer-fin", .tls = "alert",
		.sni = "example.com", .alpn = "h2,http/1.1", .alert = 70,
		.alert_level = "fatal", .alert_sender = "peer",
	};
	struct log_event ev;
	char buf[LOG_JSON_MAX + 2];

	(void)state;
	log_event_init(&ev, "close");
	ev.close = &c;
	log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"handshake_ms\":null,\"bytes_up\":517,"
		"\"bytes_down\":4096,\"duration_ms\":30,\"first_byte_ms\":null,"
		"\"end\":\"peer-fin\",\"tls\":{\"sni\":\"example.com\",\"alpn\":"
		"\"h2,http/1.1\",\"outcome\":\"alert\",\"alert\":{\"level\":"
		"\"fatal\",\"description\":\"protocol_version\",\"code\":70,"
		"\"sender\":\"peer\"}},\"sni_mismatch\":false}\n"));
	/* the TLS part alone (sni-mismatch), and no alert */
	c.end = NULL;
	c.sni_mismatch = true;
	log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"handshake_ms\":null,\"tls\":{\"sni\":"
		"\"example.com\",\"alpn\":\"h2,http/1.1\"},"
		"\"sni_mismatch\":true}\n"));
	c.end = "program-close";
	c.alert = -1;
	c.sni = c.alpn = NULL;
	c.tls = "none";
	log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"tls\":{\"sni\":null,\"alpn\":null,"
		"\"outcome\":\"none\",\"alert\":null}"));
}

/* A group's attempt and skip events: the member's group inside proxy,
 * and an outcome other than ok or an errno. */
static void
test_log_group_events(void **state)
{
	struct log_event ev;
	char buf[LOG_JSON_MAX + 2];

	(void)state;
	log_event_init(&ev, "skip");
	ev.proxy = "a";
	ev.proxy_url = "http://198.18.0.1:3128";
	ev.group = "corp";
	ev.outcome = "skipped";
	ev.msg = "ejected after failing for 29.000 s more";
	log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"event\":\"skip\""));
	assert_non_null(strstr(buf, "\"proxy\":{\"name\":\"a\",\"url\":"
		"\"http://198.18.0.1:3128\",\"group\":\"corp\"},\"outcome\":"
		"\"skipped\",\"error\":\"ejected after failing for 29.000 s "
		"more\""));
	ev.group = NULL;
	ev.outcome = NULL;
	ev.err = 111;
	log_event_format(&ev, "T", 42, "/bin/x", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"url\":\"http://198.18.0.1:3128\"},"
		"\"outcome\":\"ECONNREFUSED\""));
}

/* log_utc agrees with gmtime_r (which it replaces for its lock) across
 * leap years, century rules and the epoch's both sides. */
static void
test_log_utc(void **state)
{
	static const long long at[] = {
		0, -1, 86399, 86400, 951782400 /* 2000-02-29 */,
		951868799, 4107542399LL /* 2100-02-28T23:59:59 */,
		4107542400LL, 1796083200 /* 2026-12-01 */, -2208988800LL,
		253402300799LL /* 9999-12-31T23:59:59 */,
	};
	char got[40], want[40];
	struct tm tm;
	time_t t;
	size_t i;
	long long x;

	(void)state;
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		t = (time_t)at[i];
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.042Z", &tm);
		log_utc(at[i], 42, got, sizeof(got));
		assert_string_equal(got, want);
	}
	/* and every 7 hours 13 minutes over 400 years */
	for (x = 946684800LL; x < 946684800LL + 400LL * 365 * 86400;
	     x += 7 * 3600 + 13 * 60 + 7) {
		t = (time_t)x;
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
		log_utc(x, 0, got, sizeof(got));
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_json_str),
		cmocka_unit_test(test_log_event_format),
		cmocka_unit_test(test_log_close_format),
		cmocka_unit_test(test_log_group_events),
		cmocka_unit_test(test_log_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
