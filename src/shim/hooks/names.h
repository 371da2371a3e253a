/*
 * names.h - the getaddrinfo hook's decision, for getaddrinfo_a
 * (hooks/resolv.c), whose lookups glibc runs without calling getaddrinfo.
 */
#ifndef PROXYWRAP_HOOKS_DNS_H
#define PROXYWRAP_HOOKS_DNS_H

#include <netdb.h>

#define HOOKS_DNS_DEFER 1	/* not an EAI_* code (those are <= 0) */

/*
 * Answer now what the getaddrinfo hook answers without a query that may
 * leave this host (a blocked name, a fake address, a ".localhost" name, a
 * name glibc refuses): returns the EAI_* result, *res set as getaddrinfo
 * sets it.  HOOKS_DNS_DEFER when glibc's own lookup may run instead (a
 * literal, "localhost", a name whose rule resolves it locally).
 */
int hooks_dns_gai_now(const char *node, const char *service,
		      const struct addrinfo *hints, struct addrinfo **res);

#endif
