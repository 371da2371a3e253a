/*
 * supervise_decide.c - the supervisor's decisions, with the session's
 * compiled rules, and their log lines and audit events (the shim's
 * words, tagged with the caller's pid and executable).
 *
 * The proxies and the resolvers pass without a rule (supervise_dest.c).
 *
 * A direct rule that names a host ("direct git.corp.example") decided a
 * program's connect by the name it looked up; the supervisor sees only
 * the address, so it looks those names up itself (when an address would
 * be refused, at most every SUP_NAMES_TTL seconds) and an address among
 * their answers is decided as the name.  Suffix rules (".corp.example")
 * match the names the DNS responder answered for a program that asked
 * itself (supervise_dnsseen.c).
 */
#include "supervise_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "fakedns.h"
#include "log.h"
#include "log_syslog.h"
#include "tunnel.h"

#define SUP_NAMES_MAX 64	/* direct names looked up */
#define SUP_NAME_ADDRS_MAX 256
#define SUP_NAMES_TTL 10	/* seconds an answer is used */

struct name_addr {
	int family;
	uint8_t addr[16];
	const char *name;	/* the rule's destination */
};

static struct name_addr g_na[SUP_NAME_ADDRS_MAX];
static size_t g_nna;
static time_t g_na_when;	/* 0: never looked up */
static pthread_mutex_t g_na_lock = PTHREAD_MUTEX_INITIALIZER;

static void
na_add(const char *name, const struct addrinfo *a)
{
	struct name_addr *n = &g_na[g_nna];

	if (g_nna == SUP_NAME_ADDRS_MAX)
		return;
	if (a->ai_family == AF_INET)
		memcpy(n->addr, &((struct sockaddr_in *)(void *)a->ai_addr)->
			       sin_addr, 4);
	else if (a->ai_family == AF_INET6)
		memcpy(n->addr, &((struct sockaddr_in6 *)(void *)a->ai_addr)->
			       sin6_addr, 16);
	else
		return;
	n->family = a->ai_family;
	n->name = name;
	g_nna++;
}

/* Look up the names of the direct rules again (the lock held). */
static void
na_refresh(const struct config *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	size_t i, j, names = 0;

	g_nna = 0;
	for (i = 0; cfg != NULL && i < cfg->nrules; i++) {
		if (cfg->rules[i].action != CFG_DIRECT)
			continue;
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			const char *name = cfg->rules[i].dests[j].name;

			if (cfg->rules[i].dests[j].kind != DEST_NAME ||
			    names++ == SUP_NAMES_MAX ||
			    getaddrinfo(name, NULL, &hints, &ai) != 0)
				continue;
			for (a = ai; a != NULL; a = a->ai_next)
				na_add(name, a);
			freeaddrinfo(ai);
		}
	}
}

/* The name of a direct rule that d's address answers for, from answer
 * *at on (*at is left past it: several names may share an address), or
 * NULL. */
static const char *
na_name(struct sup_call *c, const struct sup_dest *d, size_t *at)
{
	const char *name = NULL;
	time_t now = time(NULL);
	size_t i;

	pthread_mutex_lock(&g_na_lock);
	if (g_na_when == 0 || now - g_na_when >= SUP_NAMES_TTL) {
		sup_may_block();	/* a lookup may take a while */
		na_refresh(c->p->cfg);
		g_na_when = now;
	}
	for (i = *at; i < g_nna && name == NULL; i++)
		if (g_na[i].family == d->family &&
		    memcmp(g_na[i].addr, d->addr,
			   d->family == AF_INET ? 4 : 16) == 0)
			name = g_na[i].name;
	*at = i;
	pthread_mutex_unlock(&g_na_lock);
	return name;
}

void
sup_decide_init(const struct sup_policy *p)
{
	/* the session's fake addresses, as the shim maps them (shim.c) */
	if (p->cfg != NULL && p->cfg->fake_pool[0] != '\0')
		fdns_set_pools(p->cfg->fake_pool);
	if (p->table_fd >= 0)
		fdns_use_session(p->table_fd, p->pool);
	sup_endpoints_init(p);
}

static void
dest_str(const struct sup_dest *d, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(d->family, d->addr, a, sizeof(a));
	snprintf(buf, n, d->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 d->port);
}

/* One human line, "proxywrap: ..." and the caller, in one write. */
static void
say(struct sup_call *c, int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;
	size_t len;

	if (c->p->verbose < level)
		return;
	n = snprintf(line, sizeof(line), "proxywrap: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	len = (size_t)n < sizeof(line) - 64 ? (size_t)n : sizeof(line) - 64;
	len += (size_t)snprintf(line + len, sizeof(line) - len,
				" [supervised: pid %d %s]\n",
				(int)sup_tgid(c), sup_exe(c));
	if (len > sizeof(line) - 1)
		len = sizeof(line) - 1;
	if (write(STDERR_FILENO, line, len) != (ssize_t)len) {
		/* best effort, as every log line */
	}
}

static void
audit(struct sup_call *c, struct log_event *ev)
{
	char line[LOG_JSON_MAX + 2], now[40];
	struct timespec ts;
	size_t len;

	if (c->p->audit_fd < 0 && !log_syslog_on())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	log_utc(ts.tv_sec, (int)(ts.tv_nsec / 1000000), now, sizeof(now));
	len = log_event_format(ev, now, (long)sup_tgid(c), sup_exe(c), line,
			       sizeof(line));
	if (c->p->audit_fd >= 0 &&
	    write(c->p->audit_fd, line, len) != (ssize_t)len) {
		/* best effort */
	}
	/* `log syslog`: the warning, if any, is the library's to give */
	(void)log_syslog_send(ev->event, now, line, len);
}

/* The rule of an event: where it is and its text, or why none decided
 * (at and why hold the words). */
static void
audit_rule(struct sup_call *c, struct log_event *ev,
	   const struct decision *dec, char *at, size_t atn, char *why,
	   size_t whyn)
{
	if (dec->rule != NULL) {
		if (dec->rule->line == 0)
			snprintf(at, atn, "-p");
		else
			snprintf(at, atn, "%s:%d", c->p->name, dec->rule->line);
		ev->rule_at = at;
		ev->rule_text = dec->rule->text;
	} else {
		rules_why(c->p->name, dec, false, why, whyn);
		ev->rule_text = why;
	}
}

static void
audit_dest(struct sup_call *c, const char *event, const char *proto,
	   const struct sup_dest *d, const struct decision *dec, int err,
	   const char *msg)
{
	struct log_event ev;
	char at[300], why[64];

	log_event_init(&ev, event);
	ev.proto = proto;
	ev.family = d->family;
	ev.addr = d->addr;
	ev.port = d->port;
	ev.action = cfg_action_str(dec->action);
	audit_rule(c, &ev, dec, at, sizeof(at), why, sizeof(why));
	ev.err = err;
	ev.msg = msg;
	audit(c, &ev);
}

void
sup_report_name(struct sup_call *c, const char *name, uint16_t qtype,
		const struct decision *dec, const char *action)
{
	struct log_event ev;
	char at[300], why[64], rstr[512], type[16];
	bool block = strcmp(action, "block") == 0;

	if (c->p->audit_fd >= 0 || log_syslog_on()) {
		log_event_init(&ev, "resolve");
		ev.proto = "dns";
		ev.name = name;
		ev.action = action;
		audit_rule(c, &ev, dec, at, sizeof(at), why, sizeof(why));
		ev.err = block ? EACCES : 0;
		ev.msg = block ? "name blocked: the answer is NXDOMAIN" : NULL;
		audit(c, &ev);
	}
	if (!block)
		return;
	rules_why(c->p->name, dec, false, rstr, sizeof(rstr));
	if (dec->rule == NULL)
		/* strict refused it for want of a rule: name the rule */
		snprintf(rstr + strlen(rstr), sizeof(rstr) - strlen(rstr),
			 "; add: direct %s", name);
	say(c, LOG_WARN, "blocked name %s: %s query answered NXDOMAIN (%s)",
	    name, dnsmsg_type_str(qtype, type, sizeof(type)), rstr);
}

/*
 * Is the caller a program an allow_exec statement lets run without the
 * shim (by the path or its real path)?  Those ran unrouted before there
 * was a supervisor; they still go direct, but a block rule still holds.
 */
static const struct cfg_allow *
allowed_exe(struct sup_call *c)
{
	const struct config *cfg = c->p->cfg;
	char real[PATH_MAX];
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nallow_exec; i++)
		if (strcmp(cfg->allow_exec[i].path, sup_exe(c)) == 0 ||
		    (realpath(cfg->allow_exec[i].path, real) != NULL &&
		     strcmp(real, sup_exe(c)) == 0))
			return &cfg->allow_exec[i];
	return NULL;
}

/*
 * The rules' decision for d: its address's, or, as the shim decides an
 * address it resolved, a direct rule's for a name it answers for when
 * that rule comes first.
 */
static void
decide(struct sup_call *c, const struct sup_dest *d, struct decision *dec)
{
	struct decision byname;
	const char *name;
	char fake[FDNS_NAME_MAX + 1];
	size_t at = 0;

	/* a fake address stands for the name a program of the session
	 * resolved; one no longer in the table is never direct */
	if (fdns_is_fake(d->family, d->addr)) {
		if (fdns_lookup(d->family, d->addr, fake, sizeof(fake)) == 0) {
			rules_decide_name(c->p->rules, fake, d->port, dec);
			return;
		}
		memset(dec, 0, sizeof(*dec));
		dec->action = CFG_BLOCK;
		dec->stale_fake = true;
		return;
	}
	rules_decide_addr(c->p->rules, d->family, d->addr, d->port, dec);
	if (dec->action == CFG_DIRECT)
		return;
	while ((name = na_name(c, d, &at)) != NULL) {
		rules_decide_name(c->p->rules, name, d->port, &byname);
		if (byname.action == CFG_DIRECT && byname.rule != NULL &&
		    (dec->rule == NULL || byname.index < dec->index)) {
			*dec = byname;
			return;
		}
	}
	/* and the names the DNS responder's answers gave it for */
	for (at = 0; sup_seen_name(d, &at, fake, sizeof(fake));) {
		rules_decide_name(c->p->rules, fake, d->port, &byname);
		if (byname.action == CFG_DIRECT && byname.rule != NULL &&
		    (dec->rule == NULL || byname.index < dec->index)) {
			*dec = byname;
			return;
		}
	}
}

int
sup_decide(struct sup_call *c, const char *proto, const struct sup_dest *d,
	   struct decision *via)
{
	const char *notyet = strcmp(proto, "tcp") == 0 ?
			     "supervised TCP fast open via a proxy: not yet" :
			     strcmp(proto, "udp") == 0 ?
			     "supervised udp via a proxy: not yet" :
			     "a raw socket cannot go via a proxy";
	const struct cfg_allow *a;
	char dstr[INET6_ADDRSTRLEN + 16], rstr[512];
	struct decision dec;

	if (d->family == 0 || sup_endpoint(d, proto))
		return 0;
	decide(c, d, &dec);
	/* a direct rule with proxy_protocol: as in the shim, a tunnel
	 * without proxies that connects and writes the header first (a
	 * program with the shim writes its own) */
	if (dec.action == CFG_DIRECT && dec.rule != NULL &&
	    dec.rule->pp_version != 0 && via != NULL &&
	    strcmp(proto, "tcp") == 0 && !sup_has_shim(c)) {
		*via = dec;
		return 2;
	}
	if (dec.action == CFG_DIRECT)
		return dec.loopback ? 0 : 1;
	dest_str(d, dstr, sizeof(dstr));
	rules_why(c->p->name, &dec, false, rstr, sizeof(rstr));
	if ((dec.action == CFG_VIA || dec.rule == NULL) &&
	    (a = allowed_exe(c)) != NULL) {
		say(c, LOG_INFO, "direct %s (%s:%d allow_exec %s: runs "
		    "unrouted)", dstr, c->p->name, a->line, a->path);
		return 0;
	}
	if (dec.action == CFG_VIA && dec.rule != NULL && via != NULL &&
	    strcmp(proto, "tcp") == 0) {
		*via = dec;
		return 2;
	}
	if (dec.action == CFG_BLOCK && dec.rule == NULL && !dec.stale_fake)
		/* strict refused it for want of a rule: name the rule */
		snprintf(rstr + strlen(rstr), sizeof(rstr) - strlen(rstr),
			 "; add: direct %s", dstr);
	if (dec.action == CFG_BLOCK) {
		audit_dest(c, "block", proto, d, &dec, EACCES, NULL);
		say(c, LOG_WARN, "blocked %s%s (%s)",
		    strcmp(proto, "tcp") == 0 ? "" : "udp ", dstr, rstr);
		return -EACCES;
	}
	/* XXX: issue 15: SOCKS5 UDP ASSOCIATE for a supervised datagram;
	 * TCP fast open's data before the tunnel */
	audit_dest(c, "block", proto, d, &dec, EACCES, notyet);
	say(c, LOG_WARN, "refused %s: %s (%s)", dstr, notyet, rstr);
	return -EACCES;
}

void
sup_report_direct(struct sup_call *c, const char *proto,
		  const struct sup_dest *d, int err)
{
	char dstr[INET6_ADDRSTRLEN + 16], rstr[512];
	struct decision dec;

	decide(c, d, &dec);
	if (c->p->verbose >= LOG_INFO) {
		dest_str(d, dstr, sizeof(dstr));
		rules_why(c->p->name, &dec, false, rstr, sizeof(rstr));
		say(c, LOG_INFO, "direct %s (%s)", dstr, rstr);
	}
	/* a program with the shim has its own event for it */
	if ((c->p->audit_fd >= 0 || log_syslog_on()) && !sup_has_shim(c))
		audit_dest(c, "connect", proto, d, &dec, err, NULL);
}

void
sup_report_call(struct sup_call *c, const char *what, int err,
		const char *why)
{
	struct log_event ev;

	log_event_init(&ev, err != 0 ? "block" : "connect");
	ev.proto = "raw";
	ev.path = sup_exe(c);
	ev.rule_text = what;
	ev.action = err != 0 ? "block" : "direct";
	ev.err = err;
	ev.msg = why;
	audit(c, &ev);
	if (err != 0)
		say(c, LOG_WARN, "refused %s (%s): %s", what,
		    log_errno_name(err), why);
	else
		say(c, LOG_WARN, "allowed %s: %s", what, why);
}

void
sup_report_exec(struct sup_call *c, const char *path, int err, int level,
		const char *msg)
{
	struct log_event ev;

	log_event_init(&ev, err != 0 ? "exec-refused" : "exec-allowed");
	ev.path = path;
	ev.err = err;
	ev.msg = msg;
	audit(c, &ev);
	say(c, level, "%s", msg);
}

/* route_report's words (src/shim/route.c) for a supervised tunnel. */
void
sup_report_via(struct sup_call *c, const struct tun *t, int rc)
{
	const struct cfg_rule *rule = t->rule;
	const struct cfg_proxy *px;
	char dstr[URL_HOST_MAX + 16], rstr[512], pstr[TUN_MSG_MAX];
	char at[300], url[URL_HOST_MAX + 64];
	long long ms = (long long)(tun_now_ms() - t->started_ms);
	struct log_event ev;

	if (c->p->audit_fd >= 0 || log_syslog_on()) {
		log_event_init(&ev, rc < 0 ? "proxy-error" : "connect");
		ev.proto = "tcp";
		ev.name = t->dst.name[0] != '\0' ? t->dst.name : NULL;
		if (ev.name == NULL) {
			ev.family = t->dst.family;
			ev.addr = t->dst.addr;
		}
		ev.port = t->dst.port;
		ev.action = cfg_action_str(rule->action);
		if (rule->line == 0)
			snprintf(at, sizeof(at), "-p");
		else
			snprintf(at, sizeof(at), "%s:%d", c->p->name,
				 rule->line);
		ev.rule_at = at;
		ev.rule_text = rule->text;
		if (rule->nchain > 0) {
			px = &c->p->cfg->proxies[t->px[rule->nchain - 1]];
			url_redact(&px->url, url, sizeof(url));
			ev.proxy = px->name;
			ev.proxy_url = url;
		}
		ev.err = rc < 0 ? -rc : 0;
		ev.msg = rc < 0 ? (t->traillen > 0 ? t->trail : t->msg) : NULL;
		ev.handshake_ms = ms;
		if (rc == 0 && t->pp_len > 0)
			ev.proxy_protocol = rule->pp_version;
		if (t->tls[0] != '\0')		/* an https proxy's TLS */
			ev.proxy_tls = t->tls;
		ev.proxy_tls_resumed = t->tls_resumed;
		ev.proxy_h2_stream = t->h2_stream;
		audit(c, &ev);
	}
	if (t->dst.name[0] != '\0') {
		snprintf(dstr, sizeof(dstr), "%s:%u", t->dst.name, t->dst.port);
	} else {
		struct sup_dest d = { .family = t->dst.family,
				      .port = t->dst.port };

		memcpy(d.addr, t->dst.addr, sizeof(d.addr));
		dest_str(&d, dstr, sizeof(dstr));
	}
	if (rule->line == 0)
		snprintf(rstr, sizeof(rstr), "-p: %s", rule->text);
	else
		snprintf(rstr, sizeof(rstr), "%s:%d %s", c->p->name,
			 rule->line, rule->text);
	if (rc < 0) {
		say(c, LOG_WARN, "failed %s: %s (%s)", dstr,
		    t->traillen > 0 ? t->trail : t->msg, rstr);
		return;
	}
	if (t->pp_len > 0)
		say(c, LOG_INFO, "proxy_protocol v%d sent to %s (%d bytes, %s)",
		    rule->pp_version, dstr, t->pp_len, rstr);
	if (rule->nchain == 0)
		return;
	tun_proxy_str(t, rule->nchain - 1, pstr, sizeof(pstr));
	say(c, LOG_INFO, "via %s: %s in %lld ms (%s)", pstr, dstr, ms, rstr);
}
