/*
 * config.h - the rule file (shim.conf) parsed into an immutable struct.
 *
 * Grammar (one statement per line, '#' starts a comment):
 *   proxy NAME URL [max_conns=N] [optimistic=on] [tfo=on]
 *                           (N: open tunnels through it, session-wide;
 *                            optimistic: SOCKS5 only, the program's first
 *                            bytes ride with the handshake; tfo: TCP Fast
 *                            Open to the proxy)
 *         [auth=negotiate [spn=SERVICE/HOST[@REALM]]]   (http(s):// only: each
 *                           CONNECT carries a Kerberos token, RFC 4559)
 *     an https:// proxy also takes (config_tls.c):
 *     ca=FILE        its trust anchors (PEM), default the system store
 *     sni=NAME       the name sent and verified, default the URL's host
 *     pin=sha256/B64 the SPKI's SHA-256 must match too (curl's
 *                    sha256//B64 is taken as well)
 *     http2=on|off   offer h2 by ALPN (default off)
 *   group NAME PROXY... [mode=failover|round-robin|random]
 *                           (a group stands wherever a proxy may, at any hop
 *                            of a via chain; it holds proxies, not groups)
 *   direct DEST...          block DEST...          via NAME[>NAME...] DEST...
 *   direct and via take options, words with '=' anywhere among the DESTs:
 *     proxy_protocol=v1|v2  send a PROXY protocol header first
 *     pp_source=ADDR:PORT   its source address ([v6]:PORT) instead of ours
 *   connect_timeout N[ms|s] strict on|off   sni_must_match on|off
 *   fake_pool CIDR [CIDR]   (one IPv4 /1../30 and/or one IPv6 /8../126)
 *   allow_exec PATH...      (absolute paths: executables strict mode lets
 *                            run although the shim cannot follow them)
 *   log PATH                (absolute path: the JSON audit log, one object
 *                            per line; SHIM_LOG / --log take precedence)
 *   log syslog [SOCKET]     (each audit event also to the local syslog
 *                            socket, /dev/log or SOCKET, as RFC 5424)
 * DEST: name | .suffix | *.glob | a.b.c.d[/n] | v6[/n] | any of these with
 *       :PORT or :LOW-HIGH (v6 with a port in brackets: [v6]:PORT,
 *       [v6/n]:PORT) | * | *:PORT
 *
 * Errors never stop parsing: each is recorded as "file:line: message".
 * Pure: cfg_parse does no I/O (src/core/config*.c); cfg_load
 * (src/base/cfgload.c) reads the file, then calls it.
 */
#ifndef PROXYWRAP_CONFIG_H
#define PROXYWRAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "url.h"

#define CFG_NAME_MAX 64		/* proxy names */
#define CFG_CHAIN_MAX 8		/* proxies in one via chain */
#define CFG_ERR_MAX 64		/* errors recorded; later ones only counted */
#define CFG_TIMEOUT_DEFAULT_MS 10000
#define CFG_POOL_MAX 128	/* fake_pool's CIDRs, as written */
#define CFG_GROUP_MAX 16	/* proxies in one group */
#define CFG_GROUPS_MAX 250	/* groups in a file (a hop's group fits a byte) */
#define CFG_MAX_CONNS_MAX 65535	/* max_conns=N */
#define CFG_SPN_MAX 320		/* spn=: service, '/', a host, '@', realm */

enum cfg_auth {
	CFG_AUTH_URL = 0,	/* Basic when the URL has user:password */
	CFG_AUTH_NEGOTIATE,	/* auth=negotiate: HTTP Negotiate (RFC 4559) */
};

enum cfg_action {
	CFG_DIRECT,	/* connect as the application asked */
	CFG_BLOCK,	/* refuse with EACCES */
	CFG_VIA,	/* tunnel through rule->chain */
};

enum cfg_dest_kind {
	DEST_ANY,	/* "*": every name and address (loopback excepted) */
	DEST_NAME,	/* "example.com": that name only */
	DEST_SUFFIX,	/* ".example.com": the name and every name under it */
	DEST_GLOB,	/* "*.example.com": names under it only */
	DEST_CIDR,	/* an address or prefix, v4 or v6 */
};

struct cfg_dest {
	enum cfg_dest_kind kind;
	char *name;		/* DEST_NAME/SUFFIX/GLOB: lowercase, no leading
				 * "." or "*.", no trailing "." */
	int family;		/* DEST_CIDR: AF_INET or AF_INET6 */
	uint8_t addr[16];	/* DEST_CIDR: network order, host bits zero */
	int prefix;		/* DEST_CIDR: 0..32 or 0..128 */
	uint16_t port_lo;	/* 0 and 65535 when no port was given */
	uint16_t port_hi;
};

struct cfg_rule {
	enum cfg_action action;
	int chain[CFG_CHAIN_MAX];	/* CFG_VIA: indexes into cfg->proxies;
					 * a group's hop: its first member */
	int group[CFG_CHAIN_MAX];	/* 0: hop k is the proxy chain[k];
					 * g + 1: the group cfg->groups[g] */
	int nchain;
	struct cfg_dest *dests;
	size_t ndests;
	int line;			/* 1-based line in cfg->file */
	char *text;			/* the statement as written, comments and
					 * extra blanks removed, for log lines */
	/* Options (words with '=' after the action or proxy name): */
	int pp_version;			/* proxy_protocol=v1|v2: 1 or 2 (enum
					 * pp_version); 0 sends no header */
	int pp_src_family;		/* pp_source=ADDR:PORT: AF_INET or
					 * AF_INET6; 0 = the connection's own */
	uint8_t pp_src[16];		/* network order */
	uint16_t pp_src_port;
};

#define CFG_PATH_MAX 1024	/* ca=FILE */
#define CFG_PIN_LEN 44		/* a SHA-256 in padded base64 */

/* TLS to an https:// proxy (proxywrap's relay speaks it). */
struct cfg_tls {
	char ca[CFG_PATH_MAX];		/* ca=FILE; "": the system store */
	char sni[URL_HOST_MAX];		/* sni=NAME; "": the URL's host */
	char pin[CFG_PIN_LEN + 1];	/* pin=: base64 of the SPKI's
					 * SHA-256; "": none */
	bool http2;			/* http2=on */
};

struct cfg_proxy {
	char name[CFG_NAME_MAX];
	struct proxy_url url;
	int line;
	int max_conns;			/* max_conns=N; 0: no cap */
	bool optimistic;		/* optimistic=on (SOCKS5 only) */
	bool tfo;			/* tfo=on */
	struct cfg_tls tls;		/* URL_HTTPS only */
	enum cfg_auth auth;		/* auth=; CFG_AUTH_URL by default */
	char spn[CFG_SPN_MAX];		/* spn=, as written; "": HTTP/ and
					 * the URL's host */
};

enum cfg_group_mode {
	CFG_FAILOVER,		/* the first usable member, in order */
	CFG_ROUND_ROBIN,	/* the next usable member, session-wide */
	CFG_RANDOM,		/* a usable member at random */
};

struct cfg_group {
	char name[CFG_NAME_MAX];	/* shares the proxies' name space */
	int members[CFG_GROUP_MAX];	/* indexes into cfg->proxies */
	int nmembers;			/* >= 1 */
	enum cfg_group_mode mode;
	int line;
};

struct cfg_allow {
	char *path;			/* absolute, as written */
	int line;
};

struct cfg_chunk;

struct config {
	char *file;			/* name used in messages */
	struct cfg_proxy *proxies;
	size_t nproxies;
	struct cfg_group *groups;
	size_t ngroups;
	struct cfg_rule *rules;
	size_t nrules;
	int connect_timeout_ms;		/* CFG_TIMEOUT_DEFAULT_MS if unset */
	bool strict;			/* unmatched destinations are blocked */
	bool sni_must_match;		/* a tunnel whose ClientHello names
					 * another server is closed */
	char fake_pool[CFG_POOL_MAX];	/* "CIDR [CIDR]" or "": defaults */
	struct cfg_allow *allow_exec;	/* allow_exec paths, in file order */
	size_t nallow_exec;
	char *log;			/* `log PATH`, or NULL */
	char *syslog;			/* `log syslog [SOCKET]`: the socket,
					 * or NULL */
	char **errs;			/* "file:line: message", at most CFG_ERR_MAX */
	size_t nerrs;			/* all errors, also those not recorded */
	struct cfg_chunk *arena;	/* the rules' texts, destinations and
					 * names, freed with the config */
};

/*
 * Parse text[0..len) as a rule file called `file` (used in messages).
 * Always returns a config (NULL only when out of memory); check ->nerrs.
 */
struct config *cfg_parse(const char *file, const char *text, size_t len);

/*
 * Read and parse `path`.  A file that cannot be read yields a config with
 * one error "path: cannot read: strerror".  NULL only when out of memory.
 */
struct config *cfg_load(const char *path);

/*
 * Record an error about the whole file, "origin: msg" (escaped as the
 * parser's are), as cfg_load does when it cannot read it.  Out of memory
 * loses the message, not the count.
 */
void cfg_add_error(struct config *cfg, const char *origin, const char *msg);

/*
 * Append statements given outside the file, as proxywrap's -p and --strict
 * do: each URL in urls[0..n) becomes "proxy pN URL" and, together, one
 * final rule "via p1>p2>... *" (n > 0).  `origin` names them in messages
 * (e.g. "-p").  Errors are added to cfg->errs.  Returns 0 or -ENOMEM.
 */
int cfg_add_cli_proxies(struct config *cfg, const char *origin,
			const char *const *urls, size_t n);

/*
 * text[0..len) with every rule statement (direct, block, via) cut to an
 * empty line, so line numbers stay: what a process that matches on the
 * session's compiled image still parses (proxies and settings).  A
 * malloc'd copy of *out_len bytes plus a NUL; NULL when out of memory.
 */
char *cfg_strip_rules(const char *text, size_t len, size_t *out_len);

/* Free everything cfg owns; NULL is fine.  Wipes credentials first. */
void cfg_free(struct config *cfg);

/* "direct", "block", "via" */
const char *cfg_action_str(enum cfg_action a);

/* "failover", "round-robin", "random" */
const char *cfg_group_mode_str(enum cfg_group_mode m);

/* The group at hop k of rule, or NULL when that hop is one proxy. */
const struct cfg_group *cfg_hop_group(const struct config *cfg,
				      const struct cfg_rule *rule, int k);

/*
 * Why a via rule cannot carry UDP datagrams (its proxy speaks HTTP
 * CONNECT, or it is a chain: SOCKS5 relays do not chain), or NULL when it
 * can: one SOCKS5 proxy.
 */
const char *cfg_udp_unfit(const struct config *cfg,
			  const struct cfg_rule *rule);

#endif
