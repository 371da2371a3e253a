/*
 * dns.h - local name resolution: c-ares 1.18, statically linked and private
 * to the library, its sockets opened with the real libc functions, driven
 * on the caller's thread (no helper thread a forked child could lose).
 *
 * Names c-ares cannot handle as glibc would go to the real getaddrinfo:
 * with SHIM_DNS_BACKEND=libc always; with "auto" (the default) when
 * /etc/nsswitch.conf lists a hosts source besides files and dns, for names
 * such a source owns (single-label names, *.local, the host's own name).
 * SHIM_DNS_BACKEND=cares never falls back (except when c-ares cannot
 * start).  XXX: a `dns_backend` rule-file statement (issue 3).
 *
 * Every function preserves errno and is thread- and fork-safe.
 */
#ifndef PROXYWRAP_DNS_H
#define PROXYWRAP_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "addrinfo.h"

#define DNS_ADDRS_MAX 64	/* answers kept per lookup */

struct dns_answer {
	struct addrinfo_addr addrs[DNS_ADDRS_MAX];
	size_t n;
	char canon[256];	/* final CNAME target, else the name */
	bool libc;		/* answered by the real getaddrinfo */
};

/*
 * Resolve `name` (not numeric: the caller handles literals) for family
 * AF_UNSPEC, AF_INET or AF_INET6, honouring /etc/hosts and resolv.conf,
 * within a hard deadline (resolv.conf's timeout x attempts, as glibc).
 * Returns 0 with ans->n > 0, or EAI_NONAME, EAI_NODATA, EAI_AGAIN,
 * EAI_FAIL, EAI_MEMORY.
 */
int dns_resolve(const char *name, int family, struct dns_answer *ans);

/*
 * glibc's AI_ADDRCONFIG test: is a non-loopback IPv4 / IPv6 address
 * configured?  (127.0.0.1 and ::1 do not count; other addresses do.)
 */
void dns_addrconfig(bool *v4, bool *v6);

/* Map a c-ares status to an EAI_* code (research/c-ares.md 5). */
int dns_status_to_eai(int status);

#endif
