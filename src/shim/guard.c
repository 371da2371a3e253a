/*
 * guard.c - the re-entry guard (guard.h): a per-thread depth.
 */
#include "guard.h"

static __thread int internal_depth __attribute__((tls_model("initial-exec")));

bool
shim_internal(void)
{
	return internal_depth > 0;
}

void
shim_internal_enter(void)
{
	internal_depth++;
}

void
shim_internal_leave(void)
{
	internal_depth--;
}
