/*
 * livehealth.h - the running session's proxy health, for --explain run
 * inside a session (livehealth.c).
 */
#ifndef PROXYWRAP_LIVEHEALTH_H
#define PROXYWRAP_LIVEHEALTH_H

#include <stdint.h>

#include "health.h"

/*
 * When this process runs inside a proxywrap session (SHIM_SESSION_FD
 * names its table), map the table's health entries read-only: *tab gets
 * them (*n entries) and *now the time they are read against.  0, or -1
 * when there is no session or its table is not one this build reads.
 */
int live_health(const struct hl_proxy **tab, uint32_t *n, int64_t *now);

/* live_health, handed to explain_set_health when there is a session. */
void live_health_explain(void);

#endif
