/*
 * dnspolicy.h - which DNS query may leave this host, shared by every DNS
 * entry point (hooks/names.c: getaddrinfo and the gethostby* calls;
 * hooks/resolv.c: res_query and friends, getaddrinfo_a): one decision per
 * name, one answer for names that never leave.
 *
 * The rule for every entry point: a DNS query leaves this host only for
 * a name (for a reverse lookup, an address) whose rule lets the shim
 * resolve it locally (direct, or via a socks5:// proxy, which takes
 * addresses).  Names under ".localhost" are loopback (RFC 6761 §6.3),
 * without a query.
 */
#ifndef PROXYWRAP_DNSPOLICY_H
#define PROXYWRAP_DNSPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrinfo.h"

enum name_route {
	ROUTE_LOCAL,	/* resolve locally: a query may leave */
	ROUTE_FAKE,	/* the proxy resolves: fake addresses */
	ROUTE_BLOCK,	/* fail, no query (logged) */
};

/* The rule decision for a name (logged and audited as the hooks do). */
enum name_route dnsp_route_name(const char *name, uint16_t port);

/*
 * The fake address of `key` (lowercase, no trailing dot) for family
 * AF_INET, AF_INET6 or AF_UNSPEC (IPv4, unless this host has only IPv6)
 * into a[0], *n 1.  0 or EAI_*.
 */
int dnsp_fake_addrs(const char *key, int family, struct addrinfo_addr *a,
		    size_t *n);

/*
 * "localhost" goes direct by the loopback default when no rule names it:
 * glibc answers it from /etc/hosts itself, so it keeps answering it, at
 * its own cost (the commonest lookup of all).  True for "localhost" or
 * "localhost." (any case) with a numeric or absent service (a rule could
 * name a port) that the loopback default decides.
 */
bool dnsp_localhost_default(const char *node, const char *service);

/* Set (1) once dnsp_localhost_default found that no rule names
 * "localhost" at all: the rules never change in a process. */
extern int dnsp_lh_default;

/*
 * dnsp_localhost_default for the usual call, "localhost" in lowercase
 * with a service of up to 5 digits or none, once the rules were found not
 * to name it: inline, a compare a byte, each byte read only once the ones
 * before it matched.  False only means "ask the long way" (which also
 * takes "LocalHost").
 */
static inline bool
dnsp_localhost_quick(const char *node, const char *service)
{
	unsigned int port, i;

	if (node == NULL || node[0] != 'l' || node[1] != 'o' ||
	    node[2] != 'c' || node[3] != 'a' || node[4] != 'l' ||
	    node[5] != 'h' || node[6] != 'o' || node[7] != 's' ||
	    node[8] != 't' ||
	    (node[9] != '\0' && (node[9] != '.' || node[10] != '\0')) ||
	    !__atomic_load_n(&dnsp_lh_default, __ATOMIC_RELAXED))
		return false;
	if (service == NULL)
		return true;
	/* up to 4 digits: no port number is too big */
	for (i = 0; i < 4; i++) {
		if ((unsigned int)(service[i] - '0') > 9)
			return i > 0 && service[i] == '\0';
	}
	if (service[4] == '\0')
		return true;
	port = 0;
	for (i = 0; i < 5; i++)
		port = port * 10 + (unsigned int)(service[i] - '0');
	return (unsigned int)(service[4] - '0') <= 9 && service[5] == '\0' &&
	       port <= 65535;
}

/* "x.localhost" (any case, a trailing dot allowed; not "localhost"
 * itself, which glibc answers from /etc/hosts). */
bool dnsp_under_localhost(const char *name);

/* The loopback answers of a ".localhost" name for `family` (::1 before
 * 127.0.0.1 for AF_UNSPEC, as glibc sorts them); returns how many. */
size_t dnsp_loopback(int family, struct addrinfo_addr *a);

/*
 * May a reverse (PTR) query for this address leave this host?  True when
 * its rule is direct.  Otherwise false, with one log line (at -v) naming
 * the rule.
 */
bool dnsp_ptr_allowed(int family, const uint8_t *addr, const char *what);

/*
 * A query the shim answers with a refusal (a remote name's SRV, say):
 * one log line naming the name's rule, and a "resolve" audit event with
 * action "block".
 */
void dnsp_refuse(const char *name, const char *type, const char *why);

#endif
