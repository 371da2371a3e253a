/*
 * tunnel_relay.c - a hop whose proxy is https://: the tunnel's socket
 * connects to proxywrap's TLS relay on loopback instead, says which
 * proxy (relaymsg.h), and the CONNECT request goes on as for http://; the
 * relay speaks TLS to the proxy and moves the bytes (src/session/
 * relay*.c).  No TLS library ever loads into the program.  Without
 * proxywrap there is no relay, and such a hop fails closed.  tunnel.c
 * calls in here (tunnel_int.h).
 */
#include "tunnel_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "peername.h"
#include "relaymsg.h"
#include "sessfmt.h"

/* "ADDR:PORT TOKEN", set once before any tunnel (the session's policy,
 * or proxywrap's own relay), read-only afterwards; its address too. */
static char relay_where[SESS_RELAY_MAX];
static struct sockaddr_in relay_sin;
uint16_t tun_relay_port;

static int relay_addr(struct sockaddr_in *sin);

void
tun_relay_use(const char *where)
{
	snprintf(relay_where, sizeof(relay_where), "%s",
		 where != NULL ? where : "");
	if (relay_addr(&relay_sin) == 0)
		tun_relay_port = relay_sin.sin_port;
}

bool
tun_relay_is(const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (tun_relay_port == 0)
		return false;
	if (ss->ss_family == AF_INET && len >= sizeof(*sin))
		return sin->sin_port == relay_sin.sin_port &&
		       sin->sin_addr.s_addr == relay_sin.sin_addr.s_addr;
	return ss->ss_family == AF_INET6 && len >= sizeof(*s6) &&
	       s6->sin6_port == relay_sin.sin_port &&
	       IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	       memcmp(s6->sin6_addr.s6_addr + 12, &relay_sin.sin_addr, 4) == 0;
}

static bool
hop_https(const struct tun *t, int hop)
{
	return hop < t->rule->nchain &&
	       hop_proxy(t, hop)->url.scheme == URL_HTTPS;
}

/* The relay's IPv4 address and port from relay_where; -EACCES without. */
static int
relay_addr(struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(relay_where, ':');
	unsigned port = 0;
	size_t i;

	if (colon == NULL || (size_t)(colon - relay_where) >= sizeof(host))
		return -EACCES;
	memcpy(host, relay_where, (size_t)(colon - relay_where));
	host[colon - relay_where] = '\0';
	for (i = 1; colon[i] >= '0' && colon[i] <= '9' && i < 7; i++)
		port = port * 10 + (unsigned)(colon[i] - '0');
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (colon[i] != ' ' || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EACCES;
	return 0;
}

int
relay_sockaddr(struct tun *t, struct sockaddr_storage *ss, socklen_t *len,
	       const char *pstr)
{
	if (!hop_https(t, 0))
		return 1;
	if (relay_addr((struct sockaddr_in *)ss) < 0) {
		t->outcome = HL_FINAL;
		return tun_fail(t, -EACCES, "proxy %s is https: TLS to it "
				"runs in proxywrap (run the program under "
				"proxywrap, not a bare LD_PRELOAD)", pstr);
	}
	*len = sizeof(struct sockaddr_in);
	return 0;
}

int
relay_prefix(struct tun *t)
{
	const struct cfg_proxy *px = hop_proxy(t, t->hop);
	const char *sp = strchr(relay_where, ' ');
	char pstr[TUN_MSG_MAX / 2];
	struct sockaddr_storage dest;
	socklen_t dlen;
	int len;

	if (!hop_https(t, t->hop))
		return 0;
	tun_proxy_str(t, t->hop, pstr, sizeof(pstr));
	if (t->hop > 0)
		return tun_fail(t, -EACCES, "proxy %s is https: only the "
				"first hop of a chain may be", pstr);
	if (sp == NULL)
		return tun_fail(t, -EACCES, "proxy %s: no relay", pstr);
	/* what getpeername says, for the relay to tell after exec */
	dlen = peer_kernel_form(&t->peer, t->peerlen, &dest);
	len = relay_build_req((char *)t->out, sizeof(t->out), sp + 1,
			      t->px[t->hop], px->name, &dest, dlen);
	if (len < 0)
		return tun_fail(t, -EINVAL, "proxy %s: relay request too "
				"long", pstr);
	return len;
}

/* "TLSv1.3", "TLSv1.3 resumed" (a resumed TLS session) or "TLSv1.3 h2
 * 5": the TLS version, and the HTTP/2 stream when the tunnel is one of a
 * shared connection's. */
static void
relay_ok_text(struct tun *t, const char *text)
{
	const char *sp = strchr(text, ' ');
	size_t len = sp != NULL ? (size_t)(sp - text) : strlen(text);
	long id = 0;

	if (len >= sizeof(t->tls))
		len = sizeof(t->tls) - 1;
	memcpy(t->tls, text, len);
	t->tls[len] = '\0';
	t->tls_resumed = sp != NULL && strcmp(sp, " resumed") == 0;
	if (sp == NULL || strncmp(sp, " h2 ", 4) != 0)
		return;
	for (sp += 4; *sp >= '0' && *sp <= '9' && id < 0x7fffffff; sp++)
		id = id * 10 + (*sp - '0');
	t->h2_stream = (int32_t)id;
}

/* recv_msg's parser: the relay's line. */
static int
parse_line(struct tun *t, size_t n, size_t *used, void *ctx)
{
	size_t need = 0;

	return relay_parse_reply((const char *)t->in, n, used, &need, ctx);
}

/*
 * The relay's line, read exactly (recv_msg): after it come the proxy's
 * own bytes, for step_http.
 */
int
step_relay(struct tun *t, const char *pstr)
{
	struct relay_reply rep;
	int r = recv_msg(t, RELAY_LINE_MAX, parse_line, &rep);

	if (r == -EAGAIN)
		return r;
	if (r == -ECONNRESET)
		return tun_fail(t, -ECONNREFUSED, "proxy %s: the relay closed "
				"the connection", pstr);
	if (r == -EMSGSIZE || r == -EBADMSG)
		return tun_fail(t, -EPROTO, "proxy %s: bad answer from the "
				"relay", pstr);
	if (r < 0)
		return io_fail(t, r, pstr);
	t->have = 0;
	if (rep.code == RELAY_OK) {
		relay_ok_text(t, rep.text);
		t->state = TUN_HTTP_HEAD;
		return 0;
	}
	t->outcome = rep.code == RELAY_REFUSED ? HL_FINAL : HL_FAILED;
	return tun_fail(t, -ECONNREFUSED, "proxy %s: %s%s", pstr,
			rep.code == RELAY_TLS_FAILED ? "TLS: " : "", rep.text);
}
