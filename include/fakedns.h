/*
 * fakedns.h - the fake-address <-> name table for names the proxy resolves.
 *
 * getaddrinfo() for a name routed via a socks5h:// or http:// proxy returns
 * a fake address from a reserved pool; connect() maps it back to the name.
 * The table lives in a shared memory file named by SHIM_SESSION, so every
 * process of one proxywrap session (across fork and exec, and after the
 * first process exits) sees the same mapping.  Without a session it is
 * private to the process (and its forked children).
 *
 * Default pools: IPv4 240.0.0.0/4 minus 255.255.255.255 ("reserved for
 * future use", never routed, not multicast); IPv6 fc00:7077::/32... see
 * fakedns.c for the final choice.  A name gets one slot; its IPv4 and IPv6
 * fakes are both derived from the slot index, so they are stable.
 */
#ifndef PROXYWRAP_FAKEDNS_H
#define PROXYWRAP_FAKEDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Is this address inside a fake pool?  Cheap (a prefix compare), used by
 * connect() on every call.  family AF_INET: 4 bytes; AF_INET6: 16 bytes
 * (v4-mapped addresses are checked as IPv4).
 */
bool fdns_is_fake(int family, const uint8_t *addr);

/*
 * The name a fake address stands for, copied into name[0..n).  Returns 0,
 * -ENOENT when the slot is empty or was reused, -ENOSPC when n is too small.
 */
int fdns_lookup(int family, const uint8_t *addr, char *name, size_t n);

/*
 * The fake address for `name` (lowercased by the caller), allocating a
 * slot on first use.  family AF_INET writes 4 bytes, AF_INET6 16.  Returns
 * 0, or -ENOSPC when the table is full (the caller fails the lookup with
 * EAI_AGAIN and logs once).
 */
int fdns_assign(const char *name, int family, uint8_t *addr);

#endif
