/*
 * proxyhealth.h - the proxies' health (health.h) and their open-tunnel
 * counts (max_conns), kept in the session's shared area (fakedns.h's
 * fdns_health_area) so that every process of a session knows what one
 * learnt; without a session, in this process (and the children it forks).
 *
 * Tunnel counts: a tunnel through a proxy with max_conns holds a lease, a
 * shared slot with the pid of the process that opened it, from the start
 * of its attempt until the program closes the fd (the lease is an fd_ref
 * of the fd's entry, so dup'ed copies share it and the last close frees
 * it).  A process killed with tunnels open leaves its leases behind; they
 * are taken back when a connect finds the proxy full and their pid gone.
 * A tunnel fd passed to another process (fork, exec, SCM_RIGHTS) counts
 * until the process that opened it closes it or exits.
 */
#ifndef PROXYWRAP_PROXYHEALTH_H
#define PROXYWRAP_PROXYHEALTH_H

#include <stdint.h>

#include "config.h"
#include "fdtab.h"
#include "health.h"

/* The health area (fdns_health_area) begins with PH_PROXIES entries,
 * found by hl_key (health.h), which another program may read. */
#define PH_PROXIES 256

/* The shared health entry of cfg->proxies[idx] (a private one when the
 * shared table is full: then this process keeps its own). */
struct hl_proxy *ph_entry(const struct config *cfg, int idx);

/* The next round-robin turn of group g (session-wide). */
uint32_t ph_turn(const struct config *cfg, const struct cfg_group *g);

/* A random number (jitter, mode=random). */
uint32_t ph_random(void);

/*
 * A lease on each of px[0..n) that has max_conns, for one tunnel: the
 * lease's reference (the caller owns it), NULL when no hop has max_conns,
 * or NULL with *full_hop set to the first hop at its cap (nothing held).
 * On out of memory the tunnel goes uncounted (NULL, *full_hop -1).
 */
struct fd_ref *ph_lease(const struct config *cfg, const int *px, int n,
			int *full_hop);

/* Is cfg->proxies[idx] at its max_conns (dead processes' leases taken
 * back first)? */
bool ph_full(const struct config *cfg, int idx);

#endif
