/*
 * fakedns.h - the fake-address <-> name table for names the proxy resolves.
 *
 * getaddrinfo() for a name routed via a socks5h:// or http:// proxy returns
 * a fake address from a reserved pool; connect() maps it back to the name.
 * The table lives in a shared memory file named by SHIM_SESSION, so every
 * process of one proxywrap session (across fork and exec, and after the
 * first process exits) sees the same mapping.  Without a session (or when
 * the file is unusable) it is an anonymous shared mapping, private to the
 * process and the children it forks.
 *
 * Default pools (see fakedns.c for why): IPv4 240.0.0.0/4 (class E), IPv6
 * fd70:7277:7261::/96 (a ULA).  SHIM_FAKE_POOL="CIDR [CIDR]" overrides
 * either (until the rule file's `fake_pool` statement is wired).  A name
 * gets one slot for ever; its IPv4 and IPv6 fakes are both derived from the
 * slot index (pool base + index + 1), so they are stable.
 *
 * Every function is thread-safe, async-fork-safe (no locks are held across
 * calls) and preserves errno.
 */
#ifndef PROXYWRAP_FAKEDNS_H
#define PROXYWRAP_FAKEDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDNS_SLOTS 65536	/* names in one session's table */
#define FDNS_NAME_MAX 255	/* RFC 1035 2.3.4 */

/*
 * Is this address inside a fake pool?  Cheap (a prefix compare), used by
 * connect() on every call; never maps the table.  family AF_INET: 4 bytes;
 * AF_INET6: 16 bytes (v4-mapped addresses are checked as IPv4).
 */
bool fdns_is_fake(int family, const uint8_t *addr);

/* False when the address is surely not a fake one (outside the pools'
 * prefixes); cheaper than fdns_is_fake for IPv4. */
bool fdns_maybe_fake(int family, const uint8_t *addr);

/*
 * The name a fake address stands for, copied NUL-terminated into
 * name[0..n).  Returns 0, -ENOENT when the address is not fake or its slot
 * is empty, -ENOSPC when n is too small.
 */
int fdns_lookup(int family, const uint8_t *addr, char *name, size_t n);

/*
 * The fake address for `name` (lowercased by the caller, no trailing dot),
 * allocating a slot on first use.  family AF_INET writes 4 bytes, AF_INET6
 * 16.  Returns 0; -ENOSPC when the table (or the pool) is full: the caller
 * fails the lookup with EAI_AGAIN and logs once; -ENAMETOOLONG for a name
 * longer than FDNS_NAME_MAX; -EINVAL for an empty name or another family;
 * -ENOMEM when no table can be mapped at all.
 */
int fdns_assign(const char *name, int family, uint8_t *addr);

/*
 * Parse a pool list ("240.0.0.0/4 fd70:7277:7261::/96", blanks or commas
 * between, either family optional) and make it the process's pools.
 * Returns 0 or -EINVAL (pools unchanged).  Called with SHIM_FAKE_POOL on
 * first use; the config module will call it for `fake_pool`.
 */
int fdns_set_pools(const char *spec);

/*
 * A small byte area in the session's shared table (zeroed when the session
 * starts) for session-wide state of other modules; *n gets its size
 * (FDNS_AREA_SIZE).  NULL when no table could be mapped.  Access the
 * bytes with atomics: every process of the session shares them.
 */
#define FDNS_AREA_SIZE 256
uint8_t *fdns_session_area(size_t *n);

/*
 * The session's area for the proxies' health (proxyhealth.c): *n gets
 * FDNS_HEALTH_SIZE, 8-byte aligned, zeroed when the session starts; NULL
 * when no table could be mapped.  Atomics only, as above.
 */
#define FDNS_HEALTH_SIZE 65536
uint8_t *fdns_health_area(size_t *n);

/* The table's layout as another program of the session may read it
 * (proxywrap --explain): the header starts with the magic and version
 * words; the health area lies at FDNS_HEALTH_OFFSET, a page boundary. */
#define FDNS_TABLE_MAGIC 0x70774e53u	/* "pwNS" */
#define FDNS_TABLE_VERSION 2u
#define FDNS_SLOT_SIZE 264u
#define FDNS_HEALTH_OFFSET (4096u + (size_t)FDNS_SLOTS * FDNS_SLOT_SIZE)

/*
 * Under a proxywrap session: the table is the memfd fd (not SHIM_SESSION)
 * and the pools are the session's (pools, if not empty, then fixed:
 * SHIM_FAKE_POOL is not read).  Call before the first lookup.
 */
void fdns_use_session(int fd, const char *pools);

#endif
