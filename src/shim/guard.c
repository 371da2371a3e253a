/*
 * guard.c - the re-entry guard (guard.h): a per-thread depth.
 */
#include "guard.h"

__thread int shim_internal_depth __attribute__((tls_model("initial-exec")));

void
shim_internal_enter(void)
{
	shim_internal_depth++;
}

void
shim_internal_leave(void)
{
	shim_internal_depth--;
}
