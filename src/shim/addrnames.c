/*
 * addrnames.c - a small per-process map from resolved addresses to the
 * names they answered.  Open hashing into fixed slots under one mutex:
 * lookups happen once per routed connect(), which costs a syscall anyway.
 */
#include "addrnames.h"

#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "guard.h"

#define ANAMES_SLOTS 1024	/* power of two */
#define ANAMES_NAME_MAX 256

struct aname {
	int family;		/* 0: empty */
	uint8_t addr[16];
	char name[ANAMES_NAME_MAX];
};

static struct aname slots[ANAMES_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
unsigned int anames_generation;	/* atomic */
/* Each slot's address hash (| 1; 0: empty), atomic, stored once the slot
 * is written: anames_maybe reads it without the lock. */
static uint32_t tags[ANAMES_SLOTS];

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* FNV-1a over the address bytes. */
static uint32_t
hash_of(int family, const uint8_t *addr)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < addr_len(family); i++)
		h = (h ^ addr[i]) * 16777619u;
	return h;
}

static size_t
slot_of(int family, const uint8_t *addr)
{
	return hash_of(family, addr) & (ANAMES_SLOTS - 1);
}

void
anames_put(int family, const uint8_t *addr, const char *name)
{
	struct aname *a;
	size_t len = strlen(name);

	if ((family != AF_INET && family != AF_INET6) ||
	    len >= ANAMES_NAME_MAX)
		return;
	/* while the lock is held a signal handler's connect on this thread
	 * must not wait for it (route_reentered refuses it instead) */
	shim_internal_enter();
	pthread_mutex_lock(&mu);
	/* a collision overwrites: the map is a hint for rule order only */
	a = &slots[slot_of(family, addr)];
	a->family = family;
	memset(a->addr, 0, sizeof(a->addr));
	memcpy(a->addr, addr, addr_len(family));
	memcpy(a->name, name, len + 1);
	__atomic_store_n(&tags[slot_of(family, addr)],
			 hash_of(family, addr) | 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&anames_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mu);
	shim_internal_leave();
}


bool
anames_get(int family, const uint8_t *addr, char *name, size_t n)
{
	const struct aname *a;
	bool found = false;

	/* nothing resolved yet in this process: no lock to take */
	if ((family != AF_INET && family != AF_INET6) || anames_gen() == 0)
		return false;
	shim_internal_enter();
	pthread_mutex_lock(&mu);
	a = &slots[slot_of(family, addr)];
	if (a->family == family &&
	    memcmp(a->addr, addr, addr_len(family)) == 0 &&
	    strlen(a->name) < n) {
		memcpy(name, a->name, strlen(a->name) + 1);
		found = true;
	}
	pthread_mutex_unlock(&mu);
	shim_internal_leave();
	return found;
}

bool
anames_maybe(int family, const uint8_t *addr)
{
	uint32_t h;

	if ((family != AF_INET && family != AF_INET6) ||
	    __atomic_load_n(&anames_generation, __ATOMIC_RELAXED) == 0)
		return false;
	h = hash_of(family, addr);
	return __atomic_load_n(&tags[h & (ANAMES_SLOTS - 1)],
			       __ATOMIC_ACQUIRE) == (h | 1);
}
