/*
 * dnspolicy.c - which DNS query may leave this host (see dnspolicy.h):
 * the rule decision for a name, the fake addresses of names the proxy
 * resolves, loopback for ".localhost" names, and whether a reverse
 * lookup of an address may be sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns.h"
#include "dnspolicy.h"
#include "fakedns.h"
#include "log.h"
#include "route.h"
#include "shim.h"

/* The audit log line for a name's decision. */
static void
audit_name(const char *name, uint16_t port, const struct decision *d,
	   const char *action, int err, const char *msg)
{
	struct tun_dest td;

	if (!log_json_enabled())
		return;
	memset(&td, 0, sizeof(td));
	snprintf(td.name, sizeof(td.name), "%s", name);
	td.port = port;
	route_audit("resolve", "dns", &td, d, action, err, msg, -1);
}

enum name_route
dnsp_route_name(const char *name, uint16_t port)
{
	const struct shim *sh = shim_get();
	const struct cfg_proxy *last;
	struct decision d;
	enum name_route r;

	rules_decide_name(sh->rules, name, port, &d);
	if (d.action == CFG_BLOCK) {
		if (d.rule != NULL)
			log_msg(LOG_WARN, "blocked name %s (%s:%d %s)", name,
				sh->cfg->file, d.rule->line, d.rule->text);
		else if (sh->broken)
			log_msg(LOG_WARN, "blocked name %s (unusable "
				"configuration)", name);
		else if (port != 0)
			log_msg(LOG_WARN, "blocked name %s (strict: no rule "
				"matched; add: direct %s:%u)", name, name, port);
		else
			log_msg(LOG_WARN, "blocked name %s (strict: no rule "
				"matched; add: direct %s)", name, name);
		audit_name(name, port, &d, "block", EACCES,
			   "name blocked: the lookup fails (EAI_NONAME)");
		return ROUTE_BLOCK;
	}
	r = ROUTE_LOCAL;
	if (d.action == CFG_VIA && d.rule != NULL && d.rule->nchain > 0) {
		/* the last hop is the one that receives the name */
		last = &sh->cfg->proxies[d.rule->chain[d.rule->nchain - 1]];
		if (url_remote_dns(&last->url))
			r = ROUTE_FAKE;
	}
	audit_name(name, port, &d, r == ROUTE_FAKE ? "remote" : "local", 0,
		   NULL);
	return r;
}

/*
 * The fake address of `key` for `family`: one address, so a destination
 * that fails costs one proxy attempt, not one per family (glibc's
 * AF_UNSPEC answer has both, and clients try each in turn).  AF_UNSPEC
 * gets IPv4 unless this host has IPv6 and no IPv4 at all: every socket
 * reaches the proxy from either family (sockfit.c), and IPv4 is what
 * clients that sort, log or filter answers expect first.  AI_ADDRCONFIG
 * is otherwise ignored, since a fake never reaches the network, only the
 * proxy does.  Returns 0 or EAI_*.
 */
/*
 * Which families this host has: dns_addrconfig is a netlink dump (about
 * 55 us, 100 times the rest of a remote lookup), so its answer is kept
 * for a second, which an address change can wait.  One 64-bit word: the
 * expiry in ms << 2 | v4 << 1 | v6.
 */
static void
host_families(bool *v4, bool *v6)
{
	static uint64_t memo;
	struct timespec ts;
	uint64_t now, m = __atomic_load_n(&memo, __ATOMIC_RELAXED);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (m != 0 && now < m >> 2) {
		*v4 = (m & 2) != 0;
		*v6 = (m & 1) != 0;
		return;
	}
	dns_addrconfig(v4, v6);
	m = (now + 1000) << 2 | (uint64_t)*v4 << 1 | (uint64_t)*v6;
	__atomic_store_n(&memo, m, __ATOMIC_RELAXED);
}

int
dnsp_fake_addrs(const char *key, int family, struct addrinfo_addr *a,
		size_t *n)
{
	static int full_logged;
	bool v4 = true, v6 = false;
	int rc;

	*n = 0;
	if (family == AF_UNSPEC)
		host_families(&v4, &v6);
	memset(&a[0], 0, sizeof(a[0]));
	a[0].family = addrinfo_fake_family(family, v4, v6);
	rc = fdns_assign(key, a[0].family, a[0].addr);
	if (rc == 0)
		*n = 1;
	if (rc == -ENOSPC || rc == -ENOMEM) {
		if (!__atomic_exchange_n(&full_logged, 1, __ATOMIC_RELAXED))
			log_msg(LOG_WARN, "fake address table full (%d names):"
				" %s and later new names fail", FDNS_SLOTS,
				key);
		return EAI_AGAIN;
	}
	return rc == 0 ? 0 : EAI_NONAME;
}


bool
dnsp_under_localhost(const char *name)
{
	static const char sfx[] = ".localhost";
	size_t len = strlen(name), n = sizeof(sfx) - 1;

	if (len > 0 && name[len - 1] == '.')
		len--;
	return len > n && strncasecmp(name + len - n, sfx, n) == 0;
}

size_t
dnsp_loopback(int family, struct addrinfo_addr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	size_t n = 0;

	if (family != AF_INET) {
		memset(&a[n], 0, sizeof(a[n]));
		a[n].family = AF_INET6;
		memcpy(a[n++].addr, lo6, sizeof(lo6));
	}
	if (family != AF_INET6) {
		memset(&a[n], 0, sizeof(a[n]));
		a[n].family = AF_INET;
		memcpy(a[n++].addr, lo4, sizeof(lo4));
	}
	return n;
}

bool
dnsp_ptr_allowed(int family, const uint8_t *addr, const char *what)
{
	const struct shim *sh = shim_get();
	struct decision d;
	char s[INET6_ADDRSTRLEN] = "", rule[256];
	struct tun_dest td;

	rules_decide_addr(sh->rules, family, addr, 0, &d);
	if (d.action == CFG_DIRECT)
		return true;
	/* an answer, not a refusal (the program hears "no name"), but the
	 * audit log shows what was kept from the resolver */
	if (log_json_enabled()) {
		memset(&td, 0, sizeof(td));
		td.family = family;
		memcpy(td.addr, addr, family == AF_INET ? 4 : 16);
		route_audit("resolve", "dns", &td, &d, "local", 0, NULL, -1);
	}
	if (log_enabled(LOG_INFO)) {
		inet_ntop(family, addr, s, sizeof(s));
		route_rule_str(sh, &d, rule, sizeof(rule));
		log_msg(LOG_INFO, "%s of %s answered without a query: %s",
			what, s, rule);
	}
	return false;
}

void
dnsp_refuse(const char *name, const char *type, const char *why)
{
	const struct shim *sh = shim_get();
	struct decision d;
	char msg[128], rule[256];

	memset(&d, 0, sizeof(d));
	d.action = CFG_BLOCK;
	if (sh->rules != NULL)
		rules_decide_name(sh->rules, name, 0, &d);
	route_rule_str(sh, &d, rule, sizeof(rule));
	log_msg(LOG_WARN, "refused a %s query for %s: %s (%s)", type, name,
		why, rule);
	snprintf(msg, sizeof(msg), "%s query refused: %s", type, why);
	audit_name(name, 0, &d, "block", EACCES, msg);
}

int dnsp_lh_default;

/*
 * "localhost" goes direct by the loopback default when no rule names it:
 * glibc answers it from /etc/hosts itself, so it keeps answering it, at
 * its own cost (the commonest lookup of all).  Names under ".localhost"
 * take the shim's path, which answers loopback without a query (glibc
 * sends them to the resolver).  Only for a numeric or absent service: a
 * rule could name a port.
 */
bool
dnsp_localhost_default(const char *node, const char *service)
{
	static const char lh[] = "localhost";
	const struct shim *sh;
	struct decision d;
	unsigned long port = 0;
	const char *p;
	char *end;

	/* "localhost" or "localhost.", any case: (c | 0x20) is lowercase
	 * for a letter and never a letter for NUL; unrolled, and each
	 * byte read only once the ones before it matched */
#define LH(k) ((node[k] | 0x20) == lh[k])
	if (!(LH(0) && LH(1) && LH(2) && LH(3) && LH(4) && LH(5) && LH(6) &&
	      LH(7) && LH(8)))
		return false;
#undef LH
	if (node[9] != '\0' && (node[9] != '.' || node[10] != '\0'))
		return false;
	if (service != NULL) {
		/* digits, as nearly every caller writes it; else strtoul's
		 * reading, as glibc's (" 80", "+80") */
		for (p = service; (unsigned)(*p - '0') <= 9 && p - service < 5;
		     p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (*p != '\0' || p == service) {
			int saved = errno;

			port = strtoul(service, &end, 10);
			errno = saved;
			if (*service == '\0' || *end != '\0')
				return false;
		}
		if (port > 65535)
			return false;
	}
	sh = shim_get();
	if (sh->rules == NULL)
		return false;
	/* no rule names it: the default decides for every port, and
	 * dnsp_localhost_quick may say so from now on */
	if (rules_localhost_default(sh->rules)) {
		__atomic_store_n(&dnsp_lh_default, 1, __ATOMIC_RELAXED);
		return true;
	}
	rules_decide_name(sh->rules, node, (uint16_t)port, &d);
	return d.loopback && d.rule == NULL && d.action == CFG_DIRECT;
}
