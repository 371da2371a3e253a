/*
 * addrinfo.h - glibc-shaped results built from a list of addresses.
 *
 * Lists are laid out exactly as glibc lays out its own: one malloc per node
 * holding the struct addrinfo and its sockaddr, ai_canonname a separate
 * malloc on the first node only, so the application frees them with
 * glibc's own freeaddrinfo (which we do not hook) and lists from the real
 * resolver and from us mix safely.
 *
 * Socket types, protocols and ports are not re-implemented: the caller
 * asks glibc for a *template* (getaddrinfo("0.0.0.0", service, hints
 * adjusted by addrinfo_tmpl_hints)), which carries glibc's exact socktype
 * expansion ((1,6) (2,17) (3,0) for socktype 0), protocol filling, named
 * service lookup per protocol, and EAI_SERVICE/EAI_SOCKTYPE/EAI_BADFLAGS
 * checks.  This module then crosses the template with the addresses.
 * Pure: no I/O.
 */
#ifndef PROXYWRAP_ADDRINFO_H
#define PROXYWRAP_ADDRINFO_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrinfo_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	uint32_t scope_id;	/* AF_INET6 only */
};

/* The flags glibc assumes when hints is NULL. */
#define ADDRINFO_DEFAULT_FLAGS (AI_V4MAPPED | AI_ADDRCONFIG)

/*
 * The hints for the template call: the caller's (or glibc's defaults for
 * NULL) with family AF_INET, AI_NUMERICHOST added and the flags that only
 * concern addresses (AI_CANONNAME, AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL)
 * removed.  Unknown flags are kept so that glibc rejects them as it would.
 */
void addrinfo_tmpl_hints(const struct addrinfo *hints, struct addrinfo *out);

/*
 * The one family of a remotely resolved name's fake address for a request
 * of `family`: that family when the program names one, else IPv4, or IPv6
 * on a host that has IPv6 and no IPv4 (has_v4/has_v6: addresses other
 * than loopback, as AI_ADDRCONFIG counts them).
 */
int addrinfo_fake_family(int family, bool has_v4, bool has_v6);

/*
 * Cross addrs[0..n) (in order) with every node of tmpl (in order) into a
 * new list at *out, as glibc would answer a name with these addresses and
 * the caller's hints (NULL: glibc's defaults):
 *   - AF_INET keeps IPv4 addresses; AF_INET6 keeps IPv6 ones, plus IPv4
 *     ones as ::ffff:a.b.c.d when AI_V4MAPPED is set and no IPv6 address
 *     exists, or always with AI_V4MAPPED|AI_ALL; AF_UNSPEC keeps all.
 *   - ai_flags is the caller's flags; the port is the template node's.
 *   - AI_CANONNAME: canon (NULL: none) on the first node.
 * Returns 0, EAI_NODATA when no address is left, EAI_FAMILY for a family
 * other than AF_UNSPEC/INET/INET6, EAI_MEMORY.  Nothing is allocated on
 * failure.  AI_ADDRCONFIG is the caller's business (it needs I/O).
 */
int addrinfo_build(const struct addrinfo_addr *addrs, size_t n,
		   const struct addrinfo *tmpl, const struct addrinfo *hints,
		   const char *canon, struct addrinfo **out);

/*
 * Fill a struct hostent for gethostbyname*() in the caller's buffer: h_name
 * = name, no aliases, the addresses of `family` (AF_INET: IPv4 ones;
 * AF_INET6: IPv6 ones, or IPv4 ones mapped when `mapped` and no IPv6 one
 * exists).  Returns 0, -ERANGE when buf is too small, -ENOENT when no
 * address of the family exists.
 */
int addrinfo_hostent(const char *name, int family, int mapped,
		     const struct addrinfo_addr *addrs, size_t n,
		     struct hostent *h, char *buf, size_t buflen);

#endif
