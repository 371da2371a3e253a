/*
 * shim.h - the library's process state: the configuration loaded once,
 * lazily, on the first call that needs it, and re-validated after fork.
 *
 * Settings reach the library through the environment (proxywrap sets them):
 *   SHIM_CONFIG   rule file path
 *   SHIM_PROXY    proxy URLs for "everything via", separated by spaces
 *                 (proxywrap -p), forming one chain
 *   SHIM_STRICT   "1": unmatched destinations are blocked
 *   SHIM_LOG      log file path (default: stderr)
 *   SHIM_VERBOSE  0 quiet (errors only), 1 normal (blocks, failures),
 *                 2 every decision
 *   SHIM_SESSION  the fake-address table shared by one proxywrap session
 * Under proxywrap none of these is read: the session's policy (rules,
 * -p proxies, strict, log level and log fds) comes from the fds named by
 * SHIM_SESSION_FD and checked there (session.h), fixed for the whole tree.
 * In a secure-execution process (AT_SECURE) none of these is trusted: the
 * library then blocks every connection it would have routed.
 */
#ifndef PROXYWRAP_SHIM_H
#define PROXYWRAP_SHIM_H

#include <stdbool.h>

#include "config.h"
#include "rules.h"

struct shim {
	const struct config *cfg;	/* never NULL once loaded */
	const struct rules *rules;	/* never NULL once loaded */
	bool broken;			/* config had errors: fail closed */
	bool secure;			/* AT_SECURE: environment ignored */
	bool supervised;		/* the session's seccomp supervisor sees
					 * what this process's programs do */
	int timeout_ms;			/* connect_timeout */
	bool fast;			/* rules_direct may decide: no log
					 * line or audit event is written for
					 * a direct connect (route.c) */
};

/*
 * The loaded state; loads it on first use (thread-safe, errno preserved).
 * Never NULL: on an unusable config (or no memory) it is a state whose
 * `broken` is true and whose rules block everything.
 */
const struct shim *shim_get(void);

#endif
