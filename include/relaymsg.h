/*
 * relaymsg.h - the two lines the shim and proxywrap's TLS relay say to
 * each other on the loopback connection that stands for an https proxy.
 *
 *   shim -> relay   "PWRELAY/1 TOKEN INDEX NAME [PEER]\r\n", then the
 *                   tunnel's own bytes (the CONNECT request) for the proxy
 *   relay -> shim   "PWRELAY/1 200 TLSv1.3\r\n" once TLS to the proxy is
 *                   up, then the proxy's bytes; or
 *                   "PWRELAY/1 525 REASON\r\n" and the end (TLS failed)
 *
 * TOKEN is the session's secret (hex), so another user's process on the
 * machine cannot use the relay; INDEX and NAME say which proxy of the
 * session's configuration (the name guards against a configuration that
 * is not the session's).  PEER, the hex of the destination in
 * getpeername's form (peername.h), is what the program connected to:
 * the relay keeps it by the program socket's address, for a process that
 * has the socket without the shim's record of it (after exec, SCM_RIGHTS;
 * CTL_RELAY_PEER asks).  Pure: builders and parsers over byte buffers
 * (parse.h's contract).
 */
#ifndef PROXYWRAP_RELAYMSG_H
#define PROXYWRAP_RELAYMSG_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "parse.h"

#define RELAY_TOKEN_LEN 32		/* hex digits: 16 random bytes */
#define RELAY_LINE_MAX 192		/* the longest line either way */
#define RELAY_OK 200			/* TLS to the proxy is up */
#define RELAY_TLS_FAILED 525		/* TLS to the proxy failed */
#define RELAY_NO_PROXY 502		/* the proxy cannot be reached */
#define RELAY_REFUSED 403		/* bad token or proxy */

struct relay_req {
	char token[RELAY_TOKEN_LEN + 1];
	int index;			/* into the session's cfg->proxies */
	char name[CFG_NAME_MAX];
	struct sockaddr_storage peer;	/* PEER, when peerlen > 0 */
	socklen_t peerlen;
};

struct relay_reply {
	int code;			/* RELAY_* */
	char text[RELAY_LINE_MAX];	/* TLS version, or why not */
};

/* The request line into buf[0..n) (peer in getpeername's form, or
 * peerlen 0 for none): its length, or -ENOSPC. */
int relay_build_req(char *buf, size_t n, const char *token, int index,
		    const char *name, const struct sockaddr_storage *peer,
		    socklen_t peerlen);
int relay_parse_req(const char *p, size_t len, size_t *used, size_t *need,
		    struct relay_req *r);

/* The reply line (text: printable ASCII; longer text is cut). */
int relay_build_reply(char *buf, size_t n, int code, const char *text);
int relay_parse_reply(const char *p, size_t len, size_t *used, size_t *need,
		      struct relay_reply *r);

#endif
