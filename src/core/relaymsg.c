/*
 * relaymsg.c - the shim's and the TLS relay's lines (relaymsg.h).  Pure.
 */
#include "relaymsg.h"
#include "peername.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RELAY_MAGIC "PWRELAY/1 "

/* The line at p[0..len): its length without CRLF in *llen, PARSE_*. */
static int
relay_line(const char *p, size_t len, size_t *used, size_t *need,
	   size_t *llen)
{
	size_t i, m = sizeof(RELAY_MAGIC) - 1;

	for (i = 0; i < len && i < m; i++)
		if (p[i] != RELAY_MAGIC[i])
			return PARSE_ERR;
	for (i = 0; i < len && i < RELAY_LINE_MAX; i++) {
		if (p[i] == '\n') {
			if (i < m || p[i - 1] != '\r')
				return PARSE_ERR;
			*llen = i - 1;
			*used = i + 1;
			return PARSE_OK;
		}
		if (p[i] == '\r' && i + 1 < len && p[i + 1] != '\n')
			return PARSE_ERR;
		if ((unsigned char)p[i] < 0x20 && p[i] != '\r')
			return PARSE_ERR;
		if ((unsigned char)p[i] >= 0x7f)
			return PARSE_ERR;
	}
	if (i == RELAY_LINE_MAX)
		return PARSE_ERR;
	*need = 1;
	return PARSE_MORE;
}

/* A decimal number of 1..maxd digits at s[*i..end); -1 when none. */
static long
relay_num(const char *s, size_t *i, size_t end, size_t maxd)
{
	long v = 0;
	size_t d = 0;

	while (*i < end && s[*i] >= '0' && s[*i] <= '9' && d < maxd) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		d++;
	}
	return d == 0 ? -1 : v;
}

int
relay_build_req(char *buf, size_t n, const char *token, int index,
		const char *name, const struct sockaddr_storage *peer,
		socklen_t peerlen)
{
	char hex[PEER_HEX_MAX] = "";
	int len;

	if (peer != NULL && peerlen > 0)
		peer_hex(peer, peerlen, hex);
	len = snprintf(buf, n, RELAY_MAGIC "%s %d %s%s%s\r\n", token, index,
		       name, hex[0] != '\0' ? " " : "", hex);

	return len < 0 || (size_t)len >= n ? -ENOSPC : len;
}

int
relay_parse_req(const char *p, size_t len, size_t *used, size_t *need,
		struct relay_req *r)
{
	size_t llen = 0, i = sizeof(RELAY_MAGIC) - 1, nlen;
	const char *sp;
	long idx;
	int rc = relay_line(p, len, used, need, &llen);

	if (rc != PARSE_OK)
		return rc;
	memset(r, 0, sizeof(*r));
	if (llen < i + RELAY_TOKEN_LEN + 1)
		return PARSE_ERR;
	for (; i < sizeof(RELAY_MAGIC) - 1 + RELAY_TOKEN_LEN; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return PARSE_ERR;
	}
	memcpy(r->token, p + sizeof(RELAY_MAGIC) - 1, RELAY_TOKEN_LEN);
	if (p[i++] != ' ')
		return PARSE_ERR;
	idx = relay_num(p, &i, llen, 5);
	if (idx < 0 || i >= llen || p[i++] != ' ')
		return PARSE_ERR;
	nlen = llen - i;
	sp = memchr(p + i, ' ', nlen);
	if (sp != NULL) {
		/* the destination, in the form getpeername gives */
		r->peerlen = peer_unhex(sp + 1, (size_t)(p + llen - sp - 1),
					&r->peer);
		if (r->peerlen == 0)
			return PARSE_ERR;
		nlen = (size_t)(sp - (p + i));
	}
	if (nlen == 0 || nlen >= sizeof(r->name))
		return PARSE_ERR;
	memcpy(r->name, p + i, nlen);
	r->index = (int)idx;
	return PARSE_OK;
}

int
relay_build_reply(char *buf, size_t n, int code, const char *text)
{
	char t[RELAY_LINE_MAX - 20];
	size_t i;
	int len;

	/* one line whatever the text says (an OpenSSL reason string) */
	for (i = 0; text[i] != '\0' && i + 1 < sizeof(t); i++)
		t[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	t[i] = '\0';
	len = snprintf(buf, n, RELAY_MAGIC "%03d %s\r\n", code, t);
	return len < 0 || (size_t)len >= n ? -ENOSPC : len;
}

int
relay_parse_reply(const char *p, size_t len, size_t *used, size_t *need,
		  struct relay_reply *r)
{
	size_t llen = 0, i = sizeof(RELAY_MAGIC) - 1;
	long code;
	int rc = relay_line(p, len, used, need, &llen);

	if (rc != PARSE_OK)
		return rc;
	memset(r, 0, sizeof(*r));
	code = relay_num(p, &i, llen, 3);
	if (code < 100 || i != sizeof(RELAY_MAGIC) - 1 + 3 ||
	    (i < llen && p[i] != ' '))
		return PARSE_ERR;
	if (i < llen)
		i++;
	if (llen - i >= sizeof(r->text))
		return PARSE_ERR;
	memcpy(r->text, p + i, llen - i);
	r->code = (int)code;
	return PARSE_OK;
}
