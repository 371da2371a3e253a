/*
 * supervise_dnsans.c - what the supervisor's DNS responder answers a
 * program that has its own resolver, with the rules the shim decides
 * names by (dnspolicy.c):
 *  - a name a rule sends through a proxy that resolves names (socks5h,
 *    HTTP CONNECT) gets the session's fake address (the table the shim
 *    fills: fakedns.h), so that its connect carries the name to the
 *    proxy; A and AAAA each their family's, any other type an empty
 *    NOERROR answer.  No query about it leaves the host;
 *  - a blocked name gets NXDOMAIN, a log line and an audit event;
 *  - any other name is the real resolver's: the query is forwarded as it
 *    came (any type, EDNS and all), and its answer given back; for a name
 *    a direct rule names, its addresses are noted (supervise_dnsseen.c).
 * A reverse (PTR) query of a fake address is answered with its name;
 * one of another address leaves only when its rule is direct.
 * The wire format is dnsmsg.c's, the only DNS parser of the project.
 */
#include "supervise_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsmsg.h"
#include "fakedns.h"
#include "url.h"

#define FAKE_TTL 60		/* the fake never changes in a session */
#define OPCODE_QUERY 0
#define RCODE_NOTIMP 4

static int
reply(const struct dnsmsg_query *q, int rcode, const struct dnsmsg_rr *rr,
      size_t nrr, uint8_t *out, size_t n)
{
	int len = dnsmsg_build_reply(out, n, q, rcode, rr, nrr);

	return len > 0 ? len : -1;
}

/* Does the rule's last hop take names (the one that receives it)? */
static bool
remote_dns(const struct config *cfg, const struct decision *dec)
{
	const struct cfg_rule *r = dec->rule;

	return dec->action == CFG_VIA && r != NULL && r->nchain > 0 &&
	       url_remote_dns(&cfg->proxies[r->chain[r->nchain - 1]].url);
}

/* A remote name's answer: its fake address for A and AAAA. */
static int
fake(const struct dnsmsg_query *q, const char *key, uint8_t *out, size_t n)
{
	struct dnsmsg_rr rr = { .type = q->qtype, .ttl = FAKE_TTL };
	uint8_t addr[16];
	int fam = q->qtype == DNSMSG_A ? AF_INET : AF_INET6, rc;

	if (q->qtype != DNSMSG_A && q->qtype != DNSMSG_AAAA)
		return reply(q, DNSMSG_NOERROR, NULL, 0, out, n);
	rc = fdns_assign(key, fam, addr);
	if (rc == -ENOSPC || rc == -ENOMEM)	/* the table is full */
		return reply(q, DNSMSG_SERVFAIL, NULL, 0, out, n);
	if (rc < 0)
		return reply(q, DNSMSG_NXDOMAIN, NULL, 0, out, n);
	rr.rdata = addr;
	rr.rdlen = fam == AF_INET ? 4 : 16;
	return reply(q, DNSMSG_NOERROR, &rr, 1, out, n);
}

/* A reverse query: a fake's name, or the resolver's when the address's
 * rule is direct (others would tell the resolver what we talk to). */
static int
ptr(struct sup_call *who, const struct dnsmsg_query *q, int fam,
    const uint8_t *addr, uint8_t *out, size_t n)
{
	char name[FDNS_NAME_MAX + 1];
	uint8_t wire[DNSMSG_WIRE_MAX];
	struct dnsmsg_rr rr = { .type = DNSMSG_PTR, .ttl = FAKE_TTL };
	struct decision dec;
	int wl;

	if (fdns_is_fake(fam, addr)) {
		if (fdns_lookup(fam, addr, name, sizeof(name)) < 0 ||
		    (wl = dnsmsg_name_pton(name, wire, sizeof(wire))) < 0)
			return reply(q, DNSMSG_NXDOMAIN, NULL, 0, out, n);
		rr.rdata = wire;
		rr.rdlen = (size_t)wl;
		return reply(q, DNSMSG_NOERROR, &rr, 1, out, n);
	}
	rules_decide_addr(who->p->rules, fam, addr, 0, &dec);
	if (dec.action == CFG_DIRECT)
		return 0;
	return reply(q, DNSMSG_NXDOMAIN, NULL, 0, out, n);
}

/*
 * A query carries no port, and a rule may name one ("via p host:80",
 * which --learn writes): the name is decided at port 0 and at every port
 * a rule names (the first of each range).  Remote at any of them: the
 * fake, whose connects are then decided by the name and their port; else
 * local at any: the resolver's answer; else blocked (port 0's decision,
 * for the log).  A connect to a fake at a port whose rule is direct
 * fails (XXX: the shim resolves that name locally for that port).
 */
#define ANS_PORTS_MAX 64

static uint16_t g_ports[ANS_PORTS_MAX];
static size_t g_nports;
static bool g_ports_done;	/* the responder's thread only */

static void
ports_init(const struct config *cfg)
{
	size_t i, j, k;
	uint16_t p;

	g_ports[g_nports++] = 0;
	for (i = 0; cfg != NULL && i < cfg->nrules; i++)
		for (j = 0; j < cfg->rules[i].ndests; j++) {
			if (cfg->rules[i].dests[j].kind == DEST_CIDR)
				continue;
			p = cfg->rules[i].dests[j].port_lo;
			for (k = 0; k < g_nports && g_ports[k] != p; k++)
				;
			if (k == g_nports && g_nports < ANS_PORTS_MAX)
				g_ports[g_nports++] = p;
		}
	g_ports_done = true;
}

enum how { HOW_BLOCK, HOW_LOCAL, HOW_FAKE };

static enum how
route(struct sup_call *who, const char *key, struct decision *dec)
{
	struct decision d, local;
	bool have_local = false;
	size_t i;

	if (!g_ports_done)
		ports_init(who->p->cfg);
	rules_decide_name(who->p->rules, key, 0, dec);
	for (i = 0; i < g_nports; i++) {
		d = *dec;
		if (i > 0)
			rules_decide_name(who->p->rules, key, g_ports[i], &d);
		if (remote_dns(who->p->cfg, &d)) {
			*dec = d;
			return HOW_FAKE;
		}
		if (d.action != CFG_BLOCK && !have_local) {
			local = d;
			have_local = true;
		}
	}
	if (!have_local)
		return HOW_BLOCK;
	*dec = local;
	return HOW_LOCAL;
}

int
sup_dns_answer(struct sup_call *who, const uint8_t *msg, size_t len,
	       uint8_t *out, size_t n, char *learn, size_t ln)
{
	struct dnsmsg_query q;
	struct decision dec;
	char key[DNSMSG_TEXT_MAX + 1];
	uint8_t addr[16];
	enum how how;
	size_t used, i;
	int fam;

	learn[0] = '\0';
	if (dnsmsg_parse_query(msg, len, &used, &q) != PARSE_OK ||
	    (q.flags & 0x8000))	/* a response is no question */
		return -1;
	if (((q.flags >> 11) & 0xf) != OPCODE_QUERY)
		return reply(&q, RCODE_NOTIMP, NULL, 0, out, n);
	if (q.qtype == DNSMSG_PTR && dnsmsg_ptr_addr(q.name, &fam, addr) == 0)
		return ptr(who, &q, fam, addr, out, n);
	/* the table's key: lowercase (dnsmsg gives no trailing dot) */
	for (i = 0; q.name[i] != '\0'; i++)
		key[i] = (char)tolower((unsigned char)q.name[i]);
	key[i] = '\0';
	how = route(who, key, &dec);
	if (how == HOW_BLOCK) {
		sup_report_name(who, key, q.qtype, &dec, "block");
		return reply(&q, DNSMSG_NXDOMAIN, NULL, 0, out, n);
	}
	if (how == HOW_LOCAL) {
		sup_report_name(who, key, q.qtype, &dec, "local");
		/* its connects are decided by the name (supervise_dnsseen.c) */
		if (dec.action == CFG_DIRECT && dec.rule != NULL)
			snprintf(learn, ln, "%s", key);
		return 0;
	}
	sup_report_name(who, key, q.qtype, &dec, "remote");
	/* a name glibc would not ask about is not one to give a proxy */
	if (!dnsmsg_hnok(key))
		return reply(&q, DNSMSG_NXDOMAIN, NULL, 0, out, n);
	return fake(&q, key, out, n);
}
