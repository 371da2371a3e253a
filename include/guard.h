/*
 * guard.h - a thread-local guard for code that may re-enter our hooks
 * without meaning to (c-ares' NSS calls, getaddrinfo for a proxy's name):
 * while set, hooks pass straight through to libc.  It sits below every
 * other part of the library, so the tunnel engine and the resolver can
 * take it without reaching up into the process state (shim.h).
 */
#ifndef PROXYWRAP_GUARD_H
#define PROXYWRAP_GUARD_H

#include <stdbool.h>

/* The depth (guard.c); read inline, since every hook asks. */
extern __thread int shim_internal_depth
	__attribute__((tls_model("initial-exec")));

static inline bool
shim_internal(void)
{
	return shim_internal_depth > 0;
}

void shim_internal_enter(void);
void shim_internal_leave(void);

#endif
