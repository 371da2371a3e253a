/*
 * health.c - the proxies' health state machine and the choice of a
 * group's member (health.h).  Pure: the entries are the caller's memory
 * (shared by every process of a session), times and randomness are passed
 * in.  No locks: each field is one atomic word, and a process killed
 * between two stores leaves a state that is still valid (a half-open
 * trial it held ends at its own deadline).
 *
 *   NEW ── first contact: one connect at a time (a trial) ──► UP or DOWN
 *            fail                    30 s x fails (<= 5 min)
 *   UP ───────────────► DOWN ───────────────────────► HALF-OPEN
 *    ▲   429/503 + Retry-After: exactly that long        │ one trial
 *    │   429 alone: 1 s, 2 s, ... 60 s (jittered)         │ (the rest skip)
 *    └───────────────── ok ◄──────────────────────────────┘ fail: DOWN again
 *   407: AUTH-FAILED for the rest of the session
 */
#include "health.h"

#include <string.h>

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

uint32_t
hl_key(const struct cfg_proxy *p)
{
	uint32_t h = 2166136261u;
	const char *parts[3] = { p->name, p->url.host, p->url.user };
	size_t i, k;

	for (k = 0; k < 3; k++) {
		for (i = 0; parts[k][i] != '\0'; i++)
			h = (h ^ (uint8_t)parts[k][i]) * 16777619u;
		h = (h ^ 0xffu) * 16777619u;
	}
	h = (h ^ (uint32_t)p->url.scheme) * 16777619u;
	h = (h ^ p->url.port) * 16777619u;
	return h != 0 ? h : 1;
}

struct hl_proxy *
hl_find(struct hl_proxy *tab, uint32_t n, uint32_t key)
{
	uint32_t i, k, cur;

	for (i = 0; i < n; i++) {
		struct hl_proxy *e = &tab[(key + i) % n];

		cur = LOAD(&e->key);
		if (cur == key)
			return e;
		if (cur != 0)
			continue;
		k = 0;
		/* claim it; another process may claim it first, maybe for
		 * the same proxy */
		if (__atomic_compare_exchange_n(&e->key, &k, key, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE) || k == key)
			return e;
	}
	return NULL;
}

const struct hl_proxy *
hl_lookup(const struct hl_proxy *tab, uint32_t n, uint32_t key)
{
	uint32_t i, cur;

	for (i = 0; i < n; i++) {
		cur = LOAD(&tab[(key + i) % n].key);
		if (cur == key)
			return &tab[(key + i) % n];
		if (cur == 0)
			return NULL;
	}
	return NULL;
}

enum hl_state
hl_state(const struct hl_proxy *e, int64_t now)
{
	int64_t until;

	if (LOAD(&e->auth))
		return HL_AUTH_FAILED;
	until = LOAD(&e->until_ms);
	if (until == 0 && (LOAD(&e->proven) || LOAD(&e->trial_ms) <= now))
		return HL_UP;
	if (until == 0)
		return HL_TRIAL_BUSY;	/* its first contact is under way */
	if (now < until)
		return HL_DOWN;
	if (LOAD(&e->trial_ms) > now)
		return HL_TRIAL_BUSY;
	return HL_HALF_OPEN;
}

bool
hl_take(struct hl_proxy *e, int64_t now, int64_t trial_end)
{
	int64_t t;

	switch (hl_state(e, now)) {
	case HL_UP:
		if (LOAD(&e->proven))
			break;
		/* the first contact is a trial too */
		__attribute__((fallthrough));
	case HL_HALF_OPEN:
		/* one trial: whoever swaps in its deadline first */
		t = LOAD(&e->trial_ms);
		if (t > now || !__atomic_compare_exchange_n(&e->trial_ms, &t,
							    trial_end, false,
							    __ATOMIC_ACQ_REL,
							    __ATOMIC_ACQUIRE))
			return false;
		break;
	default:
		return false;
	}
	__atomic_add_fetch(&e->attempts, 1, __ATOMIC_RELAXED);
	return true;
}

static void
skip(struct hl_proxy *e, int64_t now, int64_t ms, enum hl_why why)
{
	int64_t until = now + (ms > 0 ? ms : 0);

	STORE(&e->why, (uint32_t)why);
	STORE(&e->since_ms, now);
	STORE(&e->until_ms, until != 0 ? until : 1);	/* 0: not skipped */
	STORE(&e->trial_ms, 0);
}

/* 30 s x consecutive ejections, at most 5 min. */
static void
eject(struct hl_proxy *e, int64_t now)
{
	uint32_t f;
	int64_t ms;

	/* several processes that failed on it at once eject it once: the
	 * period is not stretched by their number */
	if (LOAD(&e->why) == HL_WHY_EJECTED && LOAD(&e->until_ms) > now &&
	    LOAD(&e->trial_ms) == 0)
		return;
	f = __atomic_add_fetch(&e->fails, 1, __ATOMIC_ACQ_REL);
	ms = (int64_t)HL_EJECT_MS * f;
	if (f > HL_EJECT_MAX_MS / HL_EJECT_MS || ms > HL_EJECT_MAX_MS)
		ms = HL_EJECT_MAX_MS;
	skip(e, now, ms, HL_WHY_EJECTED);
}

/* 1 s doubling to 60 s, less up to a tenth at random (so that many
 * clients told "slow down" at once do not all come back at once). */
static void
back_off(struct hl_proxy *e, int64_t now, uint32_t rnd)
{
	uint32_t b = __atomic_fetch_add(&e->backoffs, 1, __ATOMIC_ACQ_REL);
	int64_t ms = HL_BACKOFF_MAX_MS;

	if (b < 6)
		ms = (int64_t)HL_BACKOFF_MS << b;
	if (ms > HL_BACKOFF_MAX_MS)
		ms = HL_BACKOFF_MAX_MS;
	ms -= (int64_t)(rnd % (uint32_t)(ms / 10 + 1));
	skip(e, now, ms, HL_WHY_BACKOFF);
}

void
hl_report(struct hl_proxy *e, enum hl_outcome o, int64_t now,
	  int64_t retry_ms, uint32_t rnd)
{
	switch (o) {
	case HL_OK:
	case HL_FINAL:
		/* it answered: whatever it said of the destination, the
		 * proxy itself works */
		STORE(&e->proven, 1);
		STORE(&e->fails, 0);
		STORE(&e->backoffs, 0);
		STORE(&e->why, HL_WHY_NONE);
		STORE(&e->until_ms, 0);
		STORE(&e->trial_ms, 0);
		break;
	case HL_FAILED:
		eject(e, now);
		break;
	case HL_RETRY_AFTER:
		skip(e, now, retry_ms, HL_WHY_RETRY_AFTER);
		break;
	case HL_BACKOFF:
		back_off(e, now, rnd);
		break;
	case HL_AUTH:
		STORE(&e->auth, 1);
		STORE(&e->proven, 1);
		STORE(&e->trial_ms, 0);
		break;
	}
}

void
hl_answered(struct hl_proxy *e, int64_t started)
{
	if (LOAD(&e->until_ms) != 0 && LOAD(&e->since_ms) > started)
		return;
	hl_report(e, HL_OK, started, 0, 0);
}

bool
hl_retryable(enum hl_outcome o)
{
	return o == HL_FAILED || o == HL_RETRY_AFTER || o == HL_BACKOFF;
}

/* Nothing usable: the skipped member whose skip ends first, or -1. */
static int
soonest(struct hl_proxy *const *e, int n, const enum hl_state *st)
{
	int64_t best_until = 0, u;
	int k, best = -1;

	for (k = 0; k < n; k++) {
		if (st[k] != HL_DOWN && st[k] != HL_TRIAL_BUSY)
			continue;
		u = LOAD(&e[k]->until_ms);
		if (best < 0 || u < best_until) {
			best = k;
			best_until = u;
		}
	}
	if (best >= 0)
		__atomic_add_fetch(&e[best]->attempts, 1, __ATOMIC_RELAXED);
	return best;
}

int
hl_pick(struct hl_proxy *const *e, int n, enum cfg_group_mode mode,
	uint32_t start, uint32_t rnd, uint32_t full, uint32_t tried,
	int64_t now, int64_t trial_end, enum hl_state *st)
{
	uint32_t base = 0;
	int j, k;

	if (n <= 0 || n > CFG_GROUP_MAX)
		return -1;
	for (k = 0; k < n; k++) {
		if (tried & (1u << k))
			st[k] = HL_TRIED;
		else if (LOAD(&e[k]->auth))
			st[k] = HL_AUTH_FAILED;
		else if (full & (1u << k))
			st[k] = HL_FULL;
		else
			st[k] = hl_state(e[k], now);
	}
	if (mode == CFG_ROUND_ROBIN)
		base = start % (uint32_t)n;
	else if (mode == CFG_RANDOM)
		base = rnd % (uint32_t)n;
	for (j = 0; j < n; j++) {
		k = (int)((base + (uint32_t)j) % (uint32_t)n);
		if (st[k] != HL_UP && st[k] != HL_HALF_OPEN)
			continue;
		if (hl_take(e[k], now, trial_end))
			return k;
		st[k] = hl_state(e[k], now);	/* lost the trial */
	}
	for (k = 0; n > 1 && k < n; k++)
		if (st[k] == HL_TRIAL_BUSY)
			return HL_PICK_WAIT;
	return tried == 0 ? soonest(e, n, st) : -1;
}

const char *
hl_state_str(enum hl_state s)
{
	static const char *const names[] = {
		[HL_UP] = "up",
		[HL_HALF_OPEN] = "half-open",
		[HL_DOWN] = "skipped",
		[HL_TRIAL_BUSY] = "being tried by another connect",
		[HL_AUTH_FAILED] = "refused our credentials (407) earlier "
				   "in this session",
		[HL_FULL] = "at max_conns",
		[HL_TRIED] = "tried",
	};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]) && names[s])
		return names[s];
	return "?";
}

const char *
hl_why_str(enum hl_why w)
{
	switch (w) {
	case HL_WHY_NONE:
		return "healthy";
	case HL_WHY_EJECTED:
		return "ejected after failing";
	case HL_WHY_RETRY_AFTER:
		return "asked to wait (Retry-After)";
	case HL_WHY_BACKOFF:
		return "backing off after 429";
	}
	return "?";
}
