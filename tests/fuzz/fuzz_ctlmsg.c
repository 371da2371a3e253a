/*
 * fuzz_ctlmsg.c - the control socket's messages (ctlmsg.h) on arbitrary
 * bytes: a request, a response and a Negotiate principal's name.
 *
 * Checks: only data[0..size) is read; a payload handed back lies inside
 * the message; an error's text that parses is printable and short enough
 * for a log line; a name that parses is NUL-terminated, has its '/' and
 * is rebuilt into the same request bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t req[CTL_REQ_MAX], type;
	char name[CTL_REQ_MAX];
	enum ctl_status st;
	const uint8_t *p;
	size_t len, i;
	int n;

	if (ctl_req_parse(data, size, &type, &p, &len) == 0) {
		CHECK(p == data + 1 && len == size - 1 && type == data[0]);
		if (ctl_neg_name(p, len, name, sizeof(name)) == 0) {
			CHECK(strlen(name) == len && strchr(name, '/') != NULL);
			n = ctl_req_build(req, sizeof(req), CTL_NEGOTIATE,
					  name, len);
			CHECK(n == (int)size && memcmp(req + 1, data + 1,
						       len) == 0);
		}
	}
	if (ctl_resp_parse(data, size, &st, &p, &len) == 0) {
		CHECK(p == data + 1 && len == size - 1);
		CHECK(st <= CTL_STATUS_MAX);
		if (st != CTL_OK) {
			CHECK(len <= CTL_MSG_MAX);
			for (i = 0; i < len; i++)
				CHECK(p[i] >= 0x20 && p[i] <= 0x7e);
		}
	}
	return 0;
}
