/*
 * tunnel_http.c - the HTTP CONNECT step of a tunnel's handshake: read
 * the response head exactly, and map a refusal to errno.  tunnel.c
 * dispatches here (tunnel_int.h).
 */
#include "tunnel_int.h"

#include <errno.h>
#include <string.h>

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
		return tun_fail(t, -tun_http_errno(resp.code),
				"proxy %s refused: HTTP %d %s%s", pstr,
				resp.code, resp.reason,
				resp.code == 407 ? " (proxy authentication "
				"required)" : "");
	return TUN_NEXT_HOP;
}
