/*
 * test_syslog.c - `log syslog`: the RFC 5424 message of an audit event,
 * and the rule-file statement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "log_syslog.h"

static void
test_syslog_format(void **state)
{
	static const char json[] = "{\"event\":\"block\"}\n";
	char buf[256];
	size_t n;

	(void)state;
	/* RFC 5424 §6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
	 * PROCID SP MSGID SP STRUCTURED-DATA SP MSG; user.warning is 12 */
	n = log_syslog_format("block", "2026-12-01T12:00:00.123Z", "ci-7", 42,
			      json, sizeof(json) - 1, buf, sizeof(buf));
	assert_string_equal(buf, "<12>1 2026-12-01T12:00:00.123Z ci-7 "
				 "proxywrap 42 block - {\"event\":\"block\"}");
	assert_int_equal(n, strlen(buf));
	/* user.info 14; no hostname: "-"; a blank in a field cannot shift
	 * the header */
	log_syslog_format("connect", "T", "", 1, "{}", 2, buf, sizeof(buf));
	assert_string_equal(buf, "<14>1 T - proxywrap 1 connect - {}");
	log_syslog_format("a b", "T", "h\nx", 1, "{}", 2, buf, sizeof(buf));
	assert_string_equal(buf, "<14>1 T h_x proxywrap 1 a_b - {}");
	/* cut to the buffer, NUL-terminated */
	n = log_syslog_format("connect", "T", "h", 1, json, sizeof(json) - 1,
			      buf, 10);
	assert_int_equal(n, 9);
	assert_int_equal(strlen(buf), 9);
}

static void
test_syslog_config(void **state)
{
	static const char ok[] = "log syslog\nlog /var/log/pw.json\n";
	static const char path[] = "log syslog /run/pw/log.sock\n";
	static const char bad[] = "log syslog run/log\nlog syslog /a /b\n";
	struct config *c;

	(void)state;
	c = cfg_parse("t", ok, sizeof(ok) - 1);
	assert_int_equal(c->nerrs, 0);
	assert_string_equal(c->syslog, "/dev/log");
	assert_string_equal(c->log, "/var/log/pw.json");	/* both */
	cfg_free(c);
	c = cfg_parse("t", path, sizeof(path) - 1);
	assert_int_equal(c->nerrs, 0);
	assert_string_equal(c->syslog, "/run/pw/log.sock");
	assert_null(c->log);
	cfg_free(c);
	c = cfg_parse("t", bad, sizeof(bad) - 1);
	assert_int_equal(c->nerrs, 2);
	assert_non_null(strstr(c->errs[0], "t:1: log syslog"));
	cfg_free(c);
	assert_int_equal(log_syslog_use("/dev/log"), 0);
	assert_true(log_syslog_on());
	assert_int_equal(log_syslog_use("/x/1234567890123456789012345678901"
					"234567890123456789012345678901234567890"
					"12345678901234567890123456789012345678"),
			 -ENAMETOOLONG);
	assert_false(log_syslog_on());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_format),
		cmocka_unit_test(test_syslog_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
