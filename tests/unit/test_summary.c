/*
 * test_summary.c - --summary: audit lines as log.c writes them (and the
 * close event's fields) folded per destination, as text and markdown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "summary.h"

#define EXE "\"exe\":\"/usr/bin/curl\""
#define CONN(name, port, act, proxy) \
	"{\"time\":\"t\",\"pid\":1," EXE ",\"event\":\"connect\"," \
	"\"proto\":\"tcp\",\"dest\":{\"name\":" name ",\"addr\":null," \
	"\"port\":" port "},\"rule\":{\"at\":null,\"text\":\"x\"}," \
	"\"action\":\"" act "\",\"proxy\":" proxy ",\"outcome\":\"ok\"," \
	"\"error\":null,\"handshake_ms\":3}"
#define CLOSE(name, port, up, down, tls) \
	"{\"time\":\"t\",\"pid\":1," EXE ",\"event\":\"close\"," \
	"\"proto\":\"tcp\",\"dest\":{\"name\":" name ",\"addr\":null," \
	"\"port\":" port "},\"rule\":{\"at\":null,\"text\":\"x\"}," \
	"\"action\":\"direct\",\"proxy\":null,\"outcome\":\"ok\"," \
	"\"error\":null,\"handshake_ms\":null,\"bytes_up\":" up \
	",\"bytes_down\":" down ",\"duration_ms\":5,\"first_byte_ms\":1," \
	"\"end\":\"program-close\",\"tls\":" tls ",\"sni_mismatch\":false}"

static const char *const lines[] = {
	CONN("\"a.test\"", "443", "direct", "null"),
	CONN("\"a.test\"", "443", "direct", "null"),
	CONN("\"b.test\"", "80", "via",
	     "{\"name\":\"corp\",\"url\":\"http://u:***@198.18.0.1:3128\"}"),
	CLOSE("\"a.test\"", "443", "1000", "2048",
	      "{\"sni\":\"a.test\",\"alpn\":\"h2\",\"outcome\":\"established\","
	      "\"alert\":null}"),
	CLOSE("\"a.test\"", "443", "24", "2048",
	      "{\"sni\":\"a.test\",\"alpn\":null,\"outcome\":\"alert\","
	      "\"alert\":{\"level\":\"fatal\",\"description\":"
	      "\"protocol_version\",\"code\":70,\"sender\":\"peer\"}}"),
	"{\"time\":\"t\",\"pid\":2," EXE ",\"event\":\"block\",\"proto\":"
	"\"tcp\",\"dest\":{\"name\":null,\"addr\":\"198.18.1.2\",\"port\":81},"
	"\"rule\":{\"at\":\"c:3\",\"text\":\"block 198.18.1.2:81\"},"
	"\"action\":\"block\",\"proxy\":null,\"outcome\":\"EACCES\","
	"\"error\":\"Permission denied\",\"handshake_ms\":null}",
	"{\"time\":\"t\",\"pid\":2,\"exe\":\"/usr/bin/py|thon\",\"event\":"
	"\"block\",\"proto\":\"tcp\",\"dest\":{\"name\":null,\"addr\":"
	"\"198.18.1.2\",\"port\":81},\"rule\":{\"at\":null,\"text\":\"y\"},"
	"\"action\":\"block\",\"proxy\":null,\"outcome\":\"EACCES\","
	"\"error\":null,\"handshake_ms\":null}",
	"{\"time\":\"t\",\"pid\":3," EXE ",\"event\":\"proxy-error\","
	"\"proto\":\"tcp\",\"dest\":{\"name\":\"b.test\",\"addr\":null,"
	"\"port\":80},\"rule\":{\"at\":null,\"text\":\"x\"},\"action\":"
	"\"via\",\"proxy\":{\"name\":\"corp\",\"url\":\"u\"},\"outcome\":"
	"\"ECONNREFUSED\",\"error\":\"refused\",\"handshake_ms\":1}",
	/* a group's member tried and one passed over: the connect's own
	 * event counts them, not these */
	"{\"time\":\"t\",\"pid\":3," EXE ",\"event\":\"attempt\","
	"\"proto\":\"tcp\",\"dest\":{\"name\":\"b.test\",\"addr\":null,"
	"\"port\":80},\"rule\":{\"at\":null,\"text\":\"x\"},\"action\":"
	"\"via\",\"proxy\":{\"name\":\"a\",\"url\":\"u\",\"group\":\"g\"},"
	"\"outcome\":\"ECONNREFUSED\",\"error\":\"refused\","
	"\"handshake_ms\":1}",
	"{\"time\":\"t\",\"pid\":3," EXE ",\"event\":\"skip\","
	"\"proto\":\"tcp\",\"dest\":{\"name\":\"b.test\",\"addr\":null,"
	"\"port\":80},\"rule\":{\"at\":null,\"text\":\"x\"},\"action\":"
	"\"via\",\"proxy\":{\"name\":\"b\",\"url\":\"u\",\"group\":\"g\"},"
	"\"outcome\":\"skipped\",\"error\":\"ejected\",\"handshake_ms\":0}",
	"not json",
};

static struct summary *
fold(void)
{
	struct summary *s = malloc(sizeof(*s));
	size_t i;

	assert_non_null(s);
	summary_init(s);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		summary_add(s, lines[i], strlen(lines[i]));
	return s;
}

static void
test_summary_parse(void **state)
{
	struct sum_ev ev;
	char d[128];

	(void)state;
	assert_true(summary_parse(lines[4], strlen(lines[4]), &ev));
	assert_string_equal(ev.event, "close");
	assert_string_equal(ev.tls, "alert");
	assert_string_equal(ev.alert, "protocol_version");
	assert_string_equal(ev.bytes_up, "24");
	assert_string_equal(ev.outcome, "ok");	/* the top level's */
	summary_dest(&ev, d, sizeof(d));
	assert_string_equal(d, "a.test:443");
	assert_true(summary_parse(lines[5], strlen(lines[5]), &ev));
	assert_string_equal(ev.rule_at, "c:3");
	summary_dest(&ev, d, sizeof(d));
	assert_string_equal(d, "198.18.1.2:81");
	/* arrays skipped, v6 bracketed, trailing junk refused */
	{
		static const char arr[] = "{\"event\":\"x\",\"l\":[1,{\"a\":"
			"[]}],\"dest\":{\"addr\":\"2001:db8::1\",\"port\":22}}";

		assert_true(summary_parse(arr, sizeof(arr) - 1, &ev));
	}
	summary_dest(&ev, d, sizeof(d));
	assert_string_equal(d, "[2001:db8::1]:22");
	assert_false(summary_parse("{\"event\":\"x\"} x", 16, &ev));
	assert_false(summary_parse("{\"a\":1}", 7, &ev));
}

static void
test_summary_rows(void **state)
{
	struct summary *s = fold();
	const struct sum_dest *a = NULL, *b = NULL, *blk = NULL;
	size_t i;

	(void)state;
	assert_int_equal(s->connects, 3);
	assert_int_equal(s->blocks, 2);
	assert_int_equal(s->fails, 1);
	assert_int_equal(s->bad_lines, 1);
	for (i = 0; i < s->nrows; i++) {
		if (strcmp(s->rows[i].key, "a.test:443/tcp") == 0)
			a = &s->rows[i];
		if (strcmp(s->rows[i].key, "b.test:80/tcp") == 0)
			b = &s->rows[i];
		if (strcmp(s->rows[i].key, "198.18.1.2:81/tcp") == 0)
			blk = &s->rows[i];
	}
	assert_int_equal(s->nrows, 3);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(blk);
	assert_int_equal(a->conns, 2);
	assert_int_equal(a->up, 1024);
	assert_int_equal(a->down, 4096);
	assert_int_equal(a->tls_ok, 1);
	assert_int_equal(a->tls_fail, 1);
	assert_string_equal(a->why[0].why, "alert protocol_version");
	assert_string_equal(b->group, "via corp");
	assert_int_equal(b->errors, 1);
	assert_int_equal(blk->blocked, 2);
	assert_int_equal(s->nblocked, 2);	/* two programs */
	free(s);
}

static void
test_summary_text(void **state)
{
	struct summary *s = fold();
	char *out = malloc(65536);

	(void)state;
	summary_format(s, SUM_TEXT, out, 65536);
	assert_non_null(strstr(out, "proxywrap: summary: 3 connections, 2 "
			       "blocked, 1 error\n"));
	assert_non_null(strstr(out, "\n  direct               1 destination "
			       "      2 connections\n"));
	assert_non_null(strstr(out, "\n  198.18.1.2:81 tcp  by /usr/bin/curl"
			       "  (1x)\n"));
	assert_non_null(strstr(out, "1.0 KiB"));
	assert_non_null(strstr(out, "4.0 KiB"));
	assert_non_null(strstr(out, "1 ok, 1 failed: alert protocol_version "
			       "1x"));
	/* most used first */
	assert_true(strstr(out, "a.test:443/tcp") < strstr(out, "b.test:80"));
	free(out);
	free(s);
}

static void
test_summary_markdown(void **state)
{
	struct summary *s = fold();
	char *out = malloc(65536);

	(void)state;
	summary_format(s, SUM_MARKDOWN, out, 65536);
	assert_true(strncmp(out, "### proxywrap: 3 connections, 2 blocked, "
			    "1 error\n\n| Destination |", 55) == 0);
	assert_non_null(strstr(out, "\n| a.test:443/tcp | direct | 2 | 1.0 "
			       "KiB | 4.0 KiB | 1 ok, 1 failed: alert "
			       "protocol\\_version 1x | 0 | 0 |\n"));
	assert_non_null(strstr(out, "\n| b.test:80/tcp | via corp | 1 | - | "
			       "- | - | 0 | 1 |\n"));
	/* a '|' from the program cannot split a cell */
	assert_non_null(strstr(out, "| 198.18.1.2:81 tcp | /usr/bin/py\\|"
			       "thon | 1 |\n"));
	free(out);
	free(s);
}

/* A table cut to a small buffer stays NUL-terminated. */
static void
test_summary_cut(void **state)
{
	struct summary *s = fold();
	char out[40];

	(void)state;
	summary_format(s, SUM_MARKDOWN, out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_parse),
		cmocka_unit_test(test_summary_rows),
		cmocka_unit_test(test_summary_text),
		cmocka_unit_test(test_summary_markdown),
		cmocka_unit_test(test_summary_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
