/*
 * tunnel_http.c - the HTTP CONNECT step of a tunnel's handshake: read
 * the response head exactly, and map a refusal to errno.  tunnel.c
 * dispatches here (tunnel_int.h).
 */
#include "tunnel_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "health.h"

/* HTTP status of a failed CONNECT -> errno. */
int
tun_http_errno(int code)
{
	if (code / 100 == 2)
		return 0;
	switch (code) {
	case 401:
	case 403:
	case 407:
		return EACCES;		/* refused by policy or credentials */
	case 504:
	case 408:
		return ETIMEDOUT;
	case 502:
		return ECONNREFUSED;	/* the proxy could not connect */
	case 503:
		return EHOSTUNREACH;
	default:
		return ECONNREFUSED;
	}
}

/* Retry-After as milliseconds from now; -1 when none. */
static int64_t
retry_ms(const struct httpc_response *r)
{
	struct timespec now;

	if (r->retry_after_s >= 0)
		return r->retry_after_s * 1000;
	if (r->retry_date == 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	if (r->retry_date <= now.tv_sec)
		return 0;
	if (r->retry_date - now.tv_sec > HTTPC_RETRY_MAX_S)
		return (int64_t)HTTPC_RETRY_MAX_S * 1000;
	return (r->retry_date - now.tv_sec) * 1000 - now.tv_nsec / 1000000;
}

/*
 * A refusal, and what it says of the proxy (health.h): 407 (wrong
 * credentials: never again this session) and 403 (policy) are final;
 * 429 and 503 with Retry-After, 429 alone, 502, 503 and 504 let the
 * connect try another member of the hop's group.
 */
static int
refused(struct tun *t, const struct httpc_response *r, const char *pstr)
{
	int64_t ra = retry_ms(r);
	char extra[HTTPC_SCHEMES_MAX + 64] = "";

	switch (r->code) {
	case 407:
		t->outcome = HL_AUTH;
		snprintf(extra, sizeof(extra), " (proxy authentication "
			 "required; it offers %s)", r->schemes[0] != '\0' ?
			 r->schemes : "no scheme");
		break;
	case 429:
		t->outcome = ra >= 0 ? HL_RETRY_AFTER : HL_BACKOFF;
		break;
	case 503:
		t->outcome = ra >= 0 ? HL_RETRY_AFTER : HL_FAILED;
		break;
	case 502:
	case 504:
		t->outcome = HL_FAILED;
		break;
	default:
		t->outcome = HL_FINAL;
	}
	if (t->outcome == HL_RETRY_AFTER) {
		t->retry_ms = ra;
		snprintf(extra, sizeof(extra), " (Retry-After %lld.%03lld s)",
			 (long long)(ra / 1000), (long long)(ra % 1000));
	}
	return tun_fail(t, -tun_http_errno(r->code),
			"proxy %s refused: HTTP %d %s%s", pstr, r->code,
			r->reason, extra);
}

/*
 * HTTP: peek at what has arrived, and consume it only up to the end of
 * the response head.  Bytes peeked before the end is seen are all head
 * bytes, so they are consumed at once; this keeps poll() from reporting
 * the same bytes forever.
 */
int
step_http(struct tun *t, const char *pstr)
{
	struct httpc_response resp;
	size_t used = 0, need = 0;
	int r, prc;

	for (;;) {
		if (t->have == sizeof(t->in))
			return tun_fail(t, -EPROTO, "proxy %s: response head "
					"too long", pstr);
		r = recv_some(t, sizeof(t->in) - t->have, MSG_PEEK);
		if (r == -EAGAIN)
			return r;
		if (r < 0)
			return io_fail(t, r, pstr);
		memset(&resp, 0, sizeof(resp));
		prc = httpc_parse_response(t->in, t->have + (size_t)r, &used,
					   &need, &resp);
		if (prc == PARSE_ERR)
			return tun_fail(t, -EPROTO, "proxy %s sent a malformed "
					"HTTP response", pstr);
		if (prc == PARSE_MORE) {
			r = recv_some(t, (size_t)r, 0);
			if (r < 0)
				return io_fail(t, r, pstr);
			continue;
		}
		r = recv_some(t, used - t->have, 0);
		if (r < 0)
			return io_fail(t, r, pstr);
		break;
	}
	if (resp.code / 100 != 2)
		return refused(t, &resp, pstr);
	return TUN_NEXT_HOP;
}
