/*
 * proxyhealth.c - the proxies' health and tunnel counts in the session's
 * shared area (proxyhealth.h).  The state machine is src/core/health.c;
 * this file only says where its entries live and keeps the leases.
 *
 *   +--------------------------------------------+
 *   | struct hl_proxy x PH_PROXIES  (by hl_key)   |
 *   | group turns x PH_GROUPS       (round-robin) |
 *   | leases x PH_LEASES: { pid, proxy key }      |
 *   +--------------------------------------------+
 *
 * Everything is claimed with compare-and-swap and never locked: a process
 * may die between any two stores.  A lease left by a dead process is
 * taken back (pid 0) by whoever finds its proxy full, and that one
 * process, the winner of the swap, lowers the count.
 */
#include "proxyhealth.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fakedns.h"

#define PH_GROUPS 256

struct ph_turn {
	uint32_t key;		/* 0: free */
	uint32_t turn;
};

struct ph_slot {
	uint32_t pid;		/* 0: free */
	uint32_t key;		/* the proxy's hl_key */
};

#define PH_LEASES ((FDNS_HEALTH_SIZE - PH_PROXIES * sizeof(struct hl_proxy) - \
		    PH_GROUPS * sizeof(struct ph_turn)) / sizeof(struct ph_slot))

struct ph_area {
	struct hl_proxy px[PH_PROXIES];
	struct ph_turn turns[PH_GROUPS];
	struct ph_slot leases[PH_LEASES];
};

_Static_assert(sizeof(struct ph_area) <= FDNS_HEALTH_SIZE,
	       "the health area holds the table");

/* Without a session area: this process's own. */
static struct ph_area local_area;

/* One tunnel's leases (the fd's entry holds it as an fd_ref). */
struct ph_lease {
	struct fd_ref ref;	/* first: fdtab sees only this */
	pid_t pid;		/* who took the slots */
	int n;
	uint32_t slot[CFG_CHAIN_MAX];	/* PH_LEASES: no slot was free */
	struct hl_proxy *e[CFG_CHAIN_MAX];
};

static struct ph_area *
area(void)
{
	size_t n = 0;
	uint8_t *a = fdns_health_area(&n);

	if (a == NULL || n < sizeof(struct ph_area))
		return &local_area;
	return (struct ph_area *)(void *)a;
}

struct hl_proxy *
ph_entry(const struct config *cfg, int idx)
{
	static __thread struct hl_proxy spare;
	struct hl_proxy *e;

	e = hl_find(area()->px, PH_PROXIES, hl_key(&cfg->proxies[idx]));
	return e != NULL ? e : &spare;
}

uint32_t
ph_turn(const struct config *cfg, const struct cfg_group *g)
{
	struct ph_turn *t = area()->turns;
	uint32_t h = 2166136261u, cur, k;
	size_t i;
	int m;

	(void)cfg;
	for (i = 0; g->name[i] != '\0'; i++)
		h = (h ^ (uint8_t)g->name[i]) * 16777619u;
	for (m = 0; m < g->nmembers; m++)
		h = (h ^ (uint32_t)g->members[m]) * 16777619u;
	h = h != 0 ? h : 1;
	for (i = 0; i < PH_GROUPS; i++) {
		struct ph_turn *s = &t[(h + i) % PH_GROUPS];

		cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		k = 0;
		if (cur == h || (cur == 0 &&
		    (__atomic_compare_exchange_n(&s->key, &k, h, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE) || k == h)))
			return __atomic_fetch_add(&s->turn, 1,
						  __ATOMIC_RELAXED);
	}
	return ph_random();
}

uint32_t
ph_random(void)
{
	static __thread uint64_t x;
	struct timespec ts;

	if (x == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
		    (uint64_t)(uintptr_t)&x;
		x |= 1;
	}
	/* xorshift64*: spread, not secrecy */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return (uint32_t)((x * 2685821657736338717ull) >> 32);
}

static bool
pid_gone(uint32_t pid)
{
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* Take back the leases on key held by processes that are gone. */
static void
reclaim(struct hl_proxy *e, uint32_t key)
{
	struct ph_slot *l = area()->leases;
	uint32_t pid;
	size_t i;
	int saved = errno;

	for (i = 0; i < PH_LEASES; i++) {
		pid = __atomic_load_n(&l[i].pid, __ATOMIC_ACQUIRE);
		if (pid == 0 || __atomic_load_n(&l[i].key,
						__ATOMIC_ACQUIRE) != key ||
		    !pid_gone(pid))
			continue;
		if (__atomic_compare_exchange_n(&l[i].pid, &pid, 0, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			__atomic_sub_fetch(&e->conns, 1, __ATOMIC_ACQ_REL);
	}
	errno = saved;
}

bool
ph_full(const struct config *cfg, int idx)
{
	const struct cfg_proxy *p = &cfg->proxies[idx];
	struct hl_proxy *e;

	if (p->max_conns == 0)
		return false;
	e = ph_entry(cfg, idx);
	if (__atomic_load_n(&e->conns, __ATOMIC_ACQUIRE) <
	    (uint32_t)p->max_conns)
		return false;
	reclaim(e, hl_key(p));
	return __atomic_load_n(&e->conns, __ATOMIC_ACQUIRE) >=
	       (uint32_t)p->max_conns;
}

/* A free slot for this process's lease on key, or PH_LEASES. */
static uint32_t
slot_take(uint32_t key, pid_t pid)
{
	struct ph_slot *l = area()->leases;
	uint32_t i, at, z;

	for (i = 0; i < PH_LEASES; i++) {
		at = (uint32_t)(((uint32_t)pid * 2654435761u + key + i) %
				PH_LEASES);
		z = 0;
		if (__atomic_compare_exchange_n(&l[at].pid, &z, (uint32_t)pid,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			__atomic_store_n(&l[at].key, key, __ATOMIC_RELEASE);
			return at;
		}
	}
	return PH_LEASES;
}

/* The last reference went: give the slots back (only the process that
 * took them: a forked child's copy of the entry frees its memory only). */
static void
lease_release(struct fd_ref *r)
{
	struct ph_lease *l = (struct ph_lease *)(void *)r;
	struct ph_slot *s = area()->leases;
	uint32_t pid;
	int i;

	for (i = 0; l->pid == getpid() && i < l->n; i++) {
		if (l->slot[i] < PH_LEASES) {
			pid = (uint32_t)l->pid;
			/* a slot taken back meanwhile was counted down by
			 * whoever took it */
			if (!__atomic_compare_exchange_n(&s[l->slot[i]].pid,
							 &pid, 0, false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue;
		}
		__atomic_sub_fetch(&l->e[i]->conns, 1, __ATOMIC_ACQ_REL);
	}
	free(l);
}

/* One more tunnel through e, within max; false when at the cap. */
static bool
count_up(struct hl_proxy *e, uint32_t key, int max)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (__atomic_add_fetch(&e->conns, 1, __ATOMIC_ACQ_REL) <=
		    (uint32_t)max)
			return true;
		__atomic_sub_fetch(&e->conns, 1, __ATOMIC_ACQ_REL);
		if (tries == 0)
			reclaim(e, key);
	}
	return false;
}

struct fd_ref *
ph_lease(const struct config *cfg, const int *px, int n, int *full_hop)
{
	struct ph_lease *l = NULL;
	int k;

	*full_hop = -1;
	for (k = 0; k < n; k++) {
		const struct cfg_proxy *p = &cfg->proxies[px[k]];
		struct hl_proxy *e;
		uint32_t key;

		if (p->max_conns == 0)
			continue;
		if (l == NULL) {
			l = calloc(1, sizeof(*l));
			if (l == NULL)
				return NULL;
			l->ref.refs = 1;
			l->ref.release = lease_release;
			l->pid = getpid();
		}
		e = ph_entry(cfg, px[k]);
		key = hl_key(p);
		if (!count_up(e, key, p->max_conns)) {
			*full_hop = k;
			fd_ref_put(&l->ref);
			return NULL;
		}
		l->e[l->n] = e;
		l->slot[l->n++] = slot_take(key, l->pid);
	}
	return l != NULL ? &l->ref : NULL;
}
