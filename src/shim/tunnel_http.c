/*
 * tunnel_http.c - the HTTP CONNECT step of a tunnel's handshake: the
 * request (with Basic credentials, or a Negotiate token for an
 * auth=negotiate proxy), reading the response head exactly, and mapping
 * a refusal to errno.  tunnel.c dispatches here (tunnel_int.h).
 *
 * Negotiate is sent at once, on the first CONNECT (RFC 4559 §5 allows
 * it): no 407 round trip first, and never a second try on the same
 * connection.  A 407 after a token (the proxy refused it) is remembered
 * for the session like any 407 (health.h: HL_AUTH); so is one after no
 * token could be made (no ticket: one CONNECT, and the line says to run
 * kinit), so a program that retries never storms the proxy.
 */
#include "tunnel_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "health.h"

static tun_token_fn token_source;

void
tun_set_token_source(tun_token_fn fn)
{
	token_source = fn;
}

/* A token for px into t->in (free until the reply comes): its length,
 * or 0 with t->neg_msg saying why there is none. */
static size_t
negotiate_token(struct tun *t, const struct cfg_proxy *px)
{
	char spn[CFG_SPN_MAX + URL_HOST_MAX];
	size_t len = 0;
	int rc;

	if (px->spn[0] != '\0')
		snprintf(spn, sizeof(spn), "%s", px->spn);
	else
		snprintf(spn, sizeof(spn), "HTTP/%s", px->url.host);
	if (token_source == NULL) {
		snprintf(t->neg_msg, sizeof(t->neg_msg), "no Negotiate token "
			 "for %s: nothing here makes them", spn);
		return 0;
	}
	rc = token_source(spn, t->in, sizeof(t->in), &len, t->neg_msg,
			  sizeof(t->neg_msg), t->deadline_ms);
	if (rc != CTL_OK || len == 0 || len > CTL_TOKEN_MAX) {
		explicit_bzero(t->in, sizeof(t->in));
		if (t->neg_msg[0] == '\0')
			snprintf(t->neg_msg, sizeof(t->neg_msg), "no Negotiate "
				 "token for %s", spn);
		return 0;
	}
	return len;
}

void
http_prefetch(struct tun *t)
{
	const struct cfg_proxy *px = hop_proxy(t, 0);

	if (t->rule->nchain == 0 || px->auth != CFG_AUTH_NEGOTIATE)
		return;
	t->neg_msg[0] = '\0';
	t->neg_pre_len = negotiate_token(t, px);
	t->neg_pre_px = t->px[0];
	t->neg_pre = true;
}

void
http_prefetch_drop(struct tun *t)
{
	if (t->neg_pre && t->neg_pre_len > 0)
		explicit_bzero(t->in, t->neg_pre_len);
	t->neg_pre = false;
	t->neg_pre_len = 0;
}

int
http_request(struct tun *t, size_t off, const char *host, uint16_t port)
{
	const struct cfg_proxy *px = hop_proxy(t, t->hop);
	const struct proxy_url *u = &px->url;
	char *out = (char *)t->out + off;
	size_t n = sizeof(t->out) - off, toklen;
	bool pre = t->neg_pre && t->hop == 0 && t->neg_pre_px == t->px[0];
	int len;

	t->neg_sent = false;
	if (!pre)
		t->neg_msg[0] = '\0';
	if (px->auth == CFG_AUTH_NEGOTIATE) {
		toklen = pre ? t->neg_pre_len : negotiate_token(t, px);
		t->neg_pre = false;	/* used, once */
		t->neg_pre_len = 0;
		if (toklen > 0) {
			len = httpc_build_negotiate(out, n, host, port, t->in,
						    toklen);
			explicit_bzero(t->in, toklen);
			t->neg_sent = len > 0;
		} else {
			len = httpc_build_request(out, n, host, port, NULL,
						  NULL);
		}
	} else {
		len = httpc_build_request(out, n, host, port,
					  u->has_auth ? u->user : NULL,
					  u->pass);
	}
	if (len < 0)
		return tun_fail(t, -EINVAL, "cannot build CONNECT for %s",
				host);
	return len;
}

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
	char extra[HTTPC_SCHEMES_MAX + CTL_MSG_MAX + 64] = "";

	switch (r->code) {
	case 407:
		t->outcome = HL_AUTH;
		if (t->neg_sent)
			snprintf(extra, sizeof(extra), " (it refused our "
				 "Kerberos token; it offers %s)",
				 r->schemes[0] != '\0' ? r->schemes :
				 "no scheme");
		else if (t->neg_msg[0] != '\0')
			snprintf(extra, sizeof(extra), " (%s; it offers %s)",
				 t->neg_msg, r->schemes[0] != '\0' ?
				 r->schemes : "no scheme");
		else
			snprintf(extra, sizeof(extra), " (proxy "
				 "authentication required; it offers %s)",
				 r->schemes[0] != '\0' ? r->schemes :
				 "no scheme");
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

/* recv_msg's parser: the response head. */
static int
parse_head(struct tun *t, size_t n, size_t *used, void *ctx)
{
	size_t need = 0;

	memset(ctx, 0, sizeof(struct httpc_response));
	return httpc_parse_response(t->in, n, used, &need, ctx);
}

/* HTTP: the response head, read exactly (recv_msg), then its verdict. */
int
step_http(struct tun *t, const char *pstr)
{
	struct httpc_response resp;
	int r = recv_msg(t, sizeof(t->in), parse_head, &resp);

	if (r == -EAGAIN)
		return r;
	if (r == -EMSGSIZE)
		return tun_fail(t, -EPROTO, "proxy %s: response head too "
				"long", pstr);
	if (r == -EBADMSG)
		return tun_fail(t, -EPROTO, "proxy %s sent a malformed HTTP "
				"response", pstr);
	if (r < 0)
		return io_fail(t, r, pstr);
	if (resp.code / 100 != 2)
		return refused(t, &resp, pstr);
	return TUN_NEXT_HOP;
}
