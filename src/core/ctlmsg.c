/*
 * ctlmsg.c - the control socket's messages (ctlmsg.h).  Pure: the bytes
 * are checked here, moved by ctl.c (proxywrap) and ctl_client.c (the
 * library).
 */
#include "ctlmsg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int
ctl_req_build(uint8_t *buf, size_t n, enum ctl_type type, const void *p,
	      size_t len)
{
	if (len > CTL_REQ_MAX - 1 || len + 1 > n)
		return -EMSGSIZE;
	buf[0] = (uint8_t)type;
	if (len > 0)
		memcpy(buf + 1, p, len);
	return (int)len + 1;
}

int
ctl_req_parse(const uint8_t *m, size_t n, uint8_t *type, const uint8_t **p,
	      size_t *len)
{
	if (n < 1 || n > CTL_REQ_MAX)
		return -EMSGSIZE;
	*type = m[0];
	*p = m + 1;
	*len = n - 1;
	return 0;
}

static bool
printable(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

int
ctl_resp_parse(const uint8_t *m, size_t n, enum ctl_status *status,
	       const uint8_t **p, size_t *len)
{
	if (n < 1 || n > CTL_RESP_MAX || m[0] > CTL_STATUS_MAX)
		return -EPROTO;
	*status = (enum ctl_status)m[0];
	*p = m + 1;
	*len = n - 1;
	/* an error's text goes into a log line: one line, plain bytes */
	if (*status != CTL_OK &&
	    (*len > CTL_MSG_MAX || !printable(*p, *len) ||
	     (*len == 0 && (*status == CTL_FAILED || *status == CTL_NO_CRED))))
		return -EPROTO;
	return 0;
}

static bool
service_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

int
ctl_neg_name(const uint8_t *p, size_t n, char *out, size_t outn)
{
	size_t i, slash = 0, at = 0;

	if (n == 0 || n >= outn || !printable(p, n))
		return -EINVAL;
	for (i = 0; i < n && p[i] != '/'; i++)
		if (!service_byte(p[i]))
			return -EINVAL;
	slash = i;
	if (slash == 0 || slash + 1 >= n)
		return -EINVAL;
	for (i = slash + 1; i < n; i++) {
		if (p[i] == '/' || p[i] == ' ')
			return -EINVAL;
		if (p[i] == '@') {
			if (at != 0 || i == slash + 1 || i + 1 == n)
				return -EINVAL;
			at = i;
		}
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}
