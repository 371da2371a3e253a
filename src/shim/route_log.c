/*
 * route_log.c - what a decision and a tunnel's end leave behind: the log
 * line naming the rule, the audit event, and strict mode's hint of the
 * rule that would allow a refused destination.
 */
#include "route.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addrnames.h"
#include "fakedns.h"
#include "log.h"
#include "shim.h"

void
route_dest_str(const struct tun_dest *d, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (d->name[0] != '\0') {
		snprintf(buf, n, "%s:%u", d->name, d->port);
		return;
	}
	inet_ntop(d->family, d->addr, a, sizeof(a));
	snprintf(buf, n, d->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 d->port);
}

void
route_rule_str(const struct shim *s, const struct decision *dec, char *buf,
	       size_t n)
{
	rules_why(s->cfg->file, dec, s->broken, buf, n);
}

/*
 * What strict mode refused for want of a rule, with the rule that would
 * allow it appended to the rule text in buf: "; add: direct NAME:PORT"
 * (the name the program asked for, when this process resolved the
 * address).  Nothing for a refusal a rule made.
 */
void
route_hint(const struct shim *s, const struct decision *dec,
	   const struct tun_dest *d, char *buf, size_t n)
{
	char name[URL_HOST_MAX], a[INET6_ADDRSTRLEN];
	size_t len = strlen(buf);

	if (dec->rule != NULL || dec->action != CFG_BLOCK || s->broken ||
	    dec->loopback || dec->stale_fake || len >= n)
		return;
	if (d->name[0] != '\0')
		snprintf(buf + len, n - len, "; add: direct %s:%u", d->name,
			 d->port);
	else if (anames_get(d->family, d->addr, name, sizeof(name)))
		snprintf(buf + len, n - len, "; add: direct %s:%u", name,
			 d->port);
	else if (inet_ntop(d->family, d->addr, a, sizeof(a)) != NULL)
		snprintf(buf + len, n - len, d->family == AF_INET6 ?
			 "; add: direct [%s]:%u" : "; add: direct %s:%u", a,
			 d->port);
}

/* "shim.conf:12" for a rule (NULL for none or -p's), into buf. */
static const char *
rule_at(const struct shim *s, const struct cfg_rule *rule, char *buf,
	size_t n)
{
	if (rule == NULL)
		return NULL;
	if (rule->line == 0)
		snprintf(buf, n, "-p");
	else
		snprintf(buf, n, "%s:%d", s->cfg->file, rule->line);
	return buf;
}

void
route_audit_fill(struct log_event *evp, struct route_abuf *b,
		 const char *event,
	   const char *proto, const struct tun_dest *d,
	   const struct decision *dec, const char *action, int err,
	   const char *msg, long long ms)
{
	const struct shim *s = shim_get();
	const struct cfg_proxy *px = NULL;
	struct log_event ev;
	char *at = b->at, *why = b->why, *url = b->url;

	log_event_init(&ev, event);
	ev.proto = proto;
	ev.name = d->name[0] != '\0' ? d->name : NULL;
	if (d->family != 0 && (d->name[0] == '\0' ||
			       !fdns_is_fake(d->family, d->addr))) {
		ev.family = d->family;
		ev.addr = d->addr;
	}
	/* an address this process resolved from a name: the name too, what
	 * the program asked for (and what --learn writes a rule for) */
	if (ev.name == NULL && d->family != 0 &&
	    anames_get(d->family, d->addr, b->name, sizeof(b->name)))
		ev.name = b->name;
	ev.port = d->port;
	ev.action = action != NULL ? action : cfg_action_str(dec->action);
	if (dec->rule != NULL) {
		ev.rule_at = rule_at(s, dec->rule, at, sizeof(b->at));
		ev.rule_text = dec->rule->text;
	} else {
		route_rule_str(s, dec, why, sizeof(b->why));
		ev.rule_text = why;
	}
	if (dec->action == CFG_VIA && dec->rule != NULL &&
	    dec->rule->nchain > 0) {
		px = &s->cfg->proxies[dec->rule->chain[dec->rule->nchain - 1]];
		url_redact(&px->url, url, sizeof(b->url));
		ev.proxy = px->name;
		ev.proxy_url = url;
	}
	ev.err = err;
	ev.msg = msg;
	ev.handshake_ms = ms;
	*evp = ev;
}

void
route_audit(const char *event, const char *proto, const struct tun_dest *d,
	    const struct decision *dec, const char *action, int err,
	    const char *msg, long long ms)
{
	struct log_event ev;
	struct route_abuf b;

	if (!log_json_enabled())
		return;
	route_audit_fill(&ev, &b, event, proto, d, dec, action, err, msg, ms);
	log_event(&ev);
}

void
route_report(const struct tun *t, int rc)
{
	const struct shim *s = shim_get();
	struct decision dec = { .action = t->rule->action, .rule = t->rule };
	const struct cfg_proxy *px;
	char dstr[URL_HOST_MAX + 16], rstr[512], pstr[TUN_MSG_MAX];
	long long ms = (long long)(tun_now_ms() - t->started_ms);

	/* a UDP association's destinations are logged one by one (udp.c) */
	if (log_json_enabled() && (rc < 0 || !t->udp)) {
		struct log_event ev;
		struct route_abuf b;

		route_audit_fill(&ev, &b, rc < 0 ? "proxy-error" : "connect",
			   t->udp ? "udp" : "tcp",
			   &t->dst, &dec, NULL, rc < 0 ? -rc : 0,
			   rc < 0 ? t->msg : NULL, ms);
		/* the PROXY protocol header, when one went out */
		if (rc == 0 && t->pp_len > 0)
			ev.proxy_protocol = t->rule->pp_version;
		if (t->tls[0] != '\0')		/* an https proxy's TLS */
			ev.proxy_tls = t->tls;
		ev.proxy_tls_resumed = t->tls_resumed;
		ev.proxy_h2_stream = t->h2_stream;
		/* the proxy this connect went through (a group's member) */
		if (t->rule->nchain > 0) {
			px = &s->cfg->proxies[t->px[t->rule->nchain - 1]];
			url_redact(&px->url, b.url, sizeof(b.url));
			ev.proxy = px->name;
			ev.proxy_url = b.url;
			if (t->traillen > 0 && rc < 0)
				ev.msg = t->trail;
		}
		log_event(&ev);
	}
	if (!log_enabled(rc < 0 ? LOG_WARN : LOG_INFO))
		return;
	route_dest_str(&t->dst, dstr, sizeof(dstr));
	if (t->rule->line == 0)
		snprintf(rstr, sizeof(rstr), "-p: %s", t->rule->text);
	else
		snprintf(rstr, sizeof(rstr), "%s:%d %s", s->cfg->file,
			 t->rule->line, t->rule->text);
	if (rc < 0) {
		log_msg(LOG_WARN, "failed %s%s: %s (%s)", t->udp ? "udp " : "",
			dstr, t->traillen > 0 ? t->trail : t->msg, rstr);
		return;
	}
	if (t->pp_len > 0)
		log_msg(LOG_INFO, "proxy_protocol v%d sent to %s (%d bytes, "
			"%s)", t->rule->pp_version, dstr, t->pp_len, rstr);
	if (t->rule->nchain == 0)
		return;		/* direct: only for the header */
	tun_proxy_str(t, t->rule->nchain - 1, pstr, sizeof(pstr));
	if (t->udp)
		log_msg(LOG_INFO, "udp association with %s in %lld ms (%s)",
			pstr, ms, rstr);
	else
		log_msg(LOG_INFO, "via %s: %s in %lld ms (%s)", pstr, dstr, ms,
			rstr);
}
