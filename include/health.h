/*
 * health.h - what a session knows of each proxy's health, and choosing a
 * group's member from it.  Pure: the state lives in a struct the caller
 * passes in (the shim maps it onto the session's shared area, health.c in
 * src/shim), every time is passed in as `now` (CLOCK_MONOTONIC ms, which
 * every process of the machine shares), and randomness as a number.
 *
 * Every process of the session reads and writes the same entries at any
 * moment and may be killed at any instant, so there are no locks: each
 * field is a word of its own, read and written with atomics, and a
 * decision tolerates a neighbour's write between two loads (at worst one
 * extra attempt, never a wrong errno and never a slot held for ever).
 *
 * The rules (issue 16, after Envoy's outlier detection and curl --retry):
 *   - a member that fails to connect, times out, resets, or answers 502,
 *     503 or 504 is ejected for 30 s x its consecutive ejections, at most
 *     5 min; then it is half-open: one trial connection decides;
 *   - a 429 or 503 with Retry-After skips it for exactly that long (then
 *     half-open too);
 *   - a 429 without Retry-After backs off: 1 s doubling to 60 s, jittered;
 *   - a 407 means wrong credentials: never again in the session;
 *   - no ejection makes every member unusable at once: when all are, the
 *     first attempt of a connect goes to the one whose ejection ends first.
 * A proxy not yet heard from in the session is tried by one connect at a
 * time, like a half-open one: many processes starting at once must not
 * all learn that it is dead (or says 429) by trying it.
 */
#ifndef PROXYWRAP_HEALTH_H
#define PROXYWRAP_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define HL_EJECT_MS 30000		/* x consecutive ejections */
#define HL_EJECT_MAX_MS 300000		/* 5 min */
#define HL_BACKOFF_MS 1000		/* first back-off */
#define HL_BACKOFF_MAX_MS 60000

/* Why a proxy is skipped until its until_ms. */
enum hl_why {
	HL_WHY_NONE,		/* usable */
	HL_WHY_EJECTED,		/* failed: 30 s x fails */
	HL_WHY_RETRY_AFTER,	/* said Retry-After */
	HL_WHY_BACKOFF,		/* 429 without Retry-After */
};

/* One proxy's health, shared by the session; all fields atomic. */
struct hl_proxy {
	uint32_t key;		/* hl_key(); 0: a free entry */
	uint32_t fails;		/* consecutive ejections */
	int64_t until_ms;	/* skipped until then; 0: not skipped */
	int64_t trial_ms;	/* a half-open trial runs until then */
	uint32_t why;		/* enum hl_why of until_ms */
	uint32_t backoffs;	/* 429s without Retry-After in a row */
	uint32_t auth;		/* 1: answered 407, never again */
	uint32_t conns;		/* tunnels open through it (max_conns) */
	uint32_t attempts;	/* attempts made, for the record */
	uint32_t proven;	/* 1: it has answered in this session */
	uint32_t pad;
	int64_t since_ms;	/* when until_ms was last set */
};

/* What one attempt through a proxy came to. */
enum hl_outcome {
	HL_OK,			/* the proxy said yes */
	HL_FAILED,		/* connect, timeout, reset, 502/503/504:
				 * eject, and try another member */
	HL_RETRY_AFTER,		/* 429/503 with Retry-After */
	HL_BACKOFF,		/* 429 without Retry-After */
	HL_AUTH,		/* 407: remembered for the session, final */
	HL_FINAL,		/* any other refusal (403, a SOCKS5 reply):
				 * about the destination; final, no mark */
};

/* Whether a member may be tried now, and if not why (for the log). */
enum hl_state {
	HL_UP,			/* usable */
	HL_HALF_OPEN,		/* ejection over: one trial may go */
	HL_DOWN,		/* skipped until until_ms (see why) */
	HL_TRIAL_BUSY,		/* half-open or not yet heard from, and
				 * another connect has the trial */
	HL_AUTH_FAILED,		/* 407 earlier in the session */
	HL_FULL,		/* max_conns tunnels open (the caller's) */
	HL_TRIED,		/* already tried in this connect */
};

/* A nonzero identity for a proxy: its name, scheme, host, port, user. */
uint32_t hl_key(const struct cfg_proxy *p);

/*
 * The entry for key in tab[0..n) (open addressing; claims a free one with
 * compare-and-swap), or NULL when the table is full.
 */
struct hl_proxy *hl_find(struct hl_proxy *tab, uint32_t n, uint32_t key);

/* The entry for key in tab[0..n) without claiming one (a read-only
 * mapping), or NULL. */
const struct hl_proxy *hl_lookup(const struct hl_proxy *tab, uint32_t n,
				 uint32_t key);

/* e's state at now (HL_UP, HL_HALF_OPEN, HL_DOWN, HL_TRIAL_BUSY or
 * HL_AUTH_FAILED). */
enum hl_state hl_state(const struct hl_proxy *e, int64_t now);

/*
 * Take e for one attempt that ends by trial_end: true when it may go (up,
 * or half-open and this caller won the trial), false when another caller
 * holds the trial or it is not usable.
 */
bool hl_take(struct hl_proxy *e, int64_t now, int64_t trial_end);

/*
 * Record an attempt's outcome.  retry_ms is Retry-After's delay for
 * HL_RETRY_AFTER; rnd any random number (jitter of HL_BACKOFF).
 */
void hl_report(struct hl_proxy *e, enum hl_outcome o, int64_t now,
	       int64_t retry_ms, uint32_t rnd);

/*
 * The proxy answered an attempt that began at `started` (HL_OK or
 * HL_FINAL): it works, unless it was skipped after that attempt began (an
 * answer that was under way when another connect found it dead says
 * nothing of it now).
 */
void hl_answered(struct hl_proxy *e, int64_t started);

/* Does the outcome let the connect go on to another member? */
bool hl_retryable(enum hl_outcome o);

/*
 * Choose a member of a group of n (<= CFG_GROUP_MAX) whose entries are
 * e[0..n): full and tried are bit masks the caller knows (max_conns
 * reached; already tried in this connect); start is where round-robin
 * begins (a session-wide counter), rnd a random number for mode random.
 * A chosen member is taken (hl_take, until trial_end).  When none is
 * usable and nothing was tried yet, the one whose skip ends first is
 * chosen anyway (never all unusable), unless it answered 407 or is full;
 * but while another connect's trial of a member is under way (in a group
 * of more than one), HL_PICK_WAIT: look again soon, its verdict decides.
 * Returns the member's index, HL_PICK_WAIT or -1; st[0..n) gets each
 * member's state as seen (for the log line), the chosen one's as it was.
 */
#define HL_PICK_WAIT (-2)
int hl_pick(struct hl_proxy *const *e, int n, enum cfg_group_mode mode,
	    uint32_t start, uint32_t rnd, uint32_t full, uint32_t tried,
	    int64_t now, int64_t trial_end, enum hl_state *st);

/* "up", "half-open", "ejected", ... for log lines. */
const char *hl_state_str(enum hl_state s);
const char *hl_why_str(enum hl_why w);

#endif
