/*
 * fakedns.c - the fake-address <-> name table shared by one session.
 *
 * Layout of the shared mapping (under proxywrap a memfd every process of
 * the session inherits, so nothing of it outlives the tree; with a bare
 * LD_PRELOAD a tmpfs file named by SHIM_SESSION, or an anonymous
 * MAP_SHARED region):
 *
 *   +--------------------------------------------+
 *   | header: magic, version, nslots, size        |  one page
 *   +--------------------------------------------+
 *   | slot 0: state word, hash, name[256]         |
 *   | slot 1 ...                                  |  FDNS_SLOTS slots
 *   +--------------------------------------------+
 *   | the proxies' health (proxyhealth.c)         |  FDNS_HEALTH_SIZE
 *   +--------------------------------------------+
 *
 * Slots are found by open addressing (linear probing from the FNV-1a hash
 * of the name) and are never freed, so a name keeps its slot, and hence
 * its fake addresses, for the life of the session.  Processes may die at
 * any instant, so there is no lock: a slot's state word goes EMPTY ->
 * WRITING(pid) -> READY with compare-and-swap; the name is written between
 * the two and published with a release store.  A slot left WRITING by a
 * dead process is taken over (the name was never visible).  Only the first
 * sizing of the file is serialised, with flock(), released before the
 * mapping is used.
 */
#include "fakedns.h"
#include "real.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FDNS_MAGIC 0x70774e53u	/* "pwNS" */
#define FDNS_VERSION 2u	/* 2: the health area after the slots */
#define FDNS_HDR_SIZE 4096u

#define SLOT_EMPTY 0u		/* never used */
#define SLOT_READY 1u		/* name published */
/* any other even value: WRITING, by the process whose pid is value / 2 */

/* How long a reader waits for a slot being written before it checks
 * whether the writer is still alive (the copy takes nanoseconds). */
#define FDNS_SPIN_MAX 10000

struct fdns_slot {
	uint32_t state;		/* atomic: EMPTY, READY or pid * 2 */
	uint32_t hash;		/* FNV-1a of name, set before READY */
	char name[FDNS_NAME_MAX + 1];
};

_Static_assert(sizeof(struct fdns_slot) == FDNS_SLOT_SIZE &&
	       FDNS_MAGIC == FDNS_TABLE_MAGIC &&
	       FDNS_VERSION == FDNS_TABLE_VERSION &&
	       FDNS_HDR_SIZE + (size_t)FDNS_SLOTS * FDNS_SLOT_SIZE ==
	       FDNS_HEALTH_OFFSET, "fakedns.h describes the layout");

struct fdns_hdr {
	uint32_t magic;		/* written last, under flock */
	uint32_t version;
	uint32_t nslots;
	uint32_t slot_size;
	uint64_t size;		/* bytes in the whole mapping */
};

struct fdns_pools {
	uint32_t v4;		/* host order, host bits zero */
	int v4_len;
	uint8_t v6[16];
	int v6_len;
	uint32_t cap;		/* usable slots: min over both pools */
};

/*
 * Defaults.  IPv4: 240.0.0.0/4, "reserved for future use" (RFC 1112 4):
 * not multicast, never routed, and no real host has such an address; a
 * few programs refuse to connect to it, hence SHIM_FAKE_POOL.  IPv6: a
 * unique local prefix (RFC 4193 fd00::/8) with a fixed global ID: never
 * globally routed, and a clash with a site's own randomly chosen ULA /48 is
 * a 1 in 2^40 chance.  Not 2001:db8::/32 (documentation, used by tests for
 * real hosts), not 64:ff9b::/96 (NAT64) and not 100::/64 (discard-only,
 * which some routers treat specially).
 */
static struct fdns_pools g_pools = {
	.v4 = 0xf0000000u, .v4_len = 4,
	.v6 = { 0xfd, 0x70, 0x72, 0x77, 0x72, 0x61 }, .v6_len = 96,
	.cap = FDNS_SLOTS,
};
static int g_pools_env;		/* atomic: SHIM_FAKE_POOL read */
static struct fdns_hdr *g_tab;	/* atomic: the mapping, once made */
static int g_session_fd = -1;	/* the session's table (memfd), or -1 */

static uint32_t
fdns_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t
pool_cap(int bits_free)
{
	/* index + 1 is added to the base; the last address is left out
	 * (255.255.255.255 in the default v4 pool is the broadcast) */
	if (bits_free >= 32)
		return UINT32_MAX;
	return (uint32_t)((1ull << bits_free) - 2);
}

static int
parse_cidr(const char *s, size_t len, struct fdns_pools *p)
{
	char buf[64];
	const char *slash;
	uint8_t a[16];
	char *end;
	long n;
	int i;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	n = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || *end != '\0')
		return -EINVAL;
	buf[slash - buf] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		/* at least 2 usable addresses */
		if (n < 1 || n > 30)
			return -EINVAL;
		p->v4_len = (int)n;
		p->v4 = ntohl(*(uint32_t *)(void *)a);
		p->v4 &= ~(uint32_t)0 << (32 - n);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		if (n < 8 || n > 126)
			return -EINVAL;
		for (i = 0; i < 16; i++) {
			int keep = (int)n - i * 8;

			if (keep <= 0)
				a[i] = 0;
			else if (keep < 8)
				a[i] &= (uint8_t)(0xff00 >> keep);
		}
		memcpy(p->v6, a, 16);
		p->v6_len = (int)n;
		return 0;
	}
	return -EINVAL;
}

int
fdns_set_pools(const char *spec)
{
	struct fdns_pools p = g_pools;
	const char *s = spec;
	uint32_t c4, c6;
	size_t len;
	int rc;

	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		rc = parse_cidr(s, len, &p);
		if (rc < 0)
			return rc;
		s += len;
	}
	c4 = pool_cap(32 - p.v4_len);
	c6 = pool_cap(128 - p.v6_len);
	p.cap = FDNS_SLOTS;
	if (c4 < p.cap)
		p.cap = c4;
	if (c6 < p.cap)
		p.cap = c6;
	g_pools = p;
	return 0;
}

static void
pools_load(void)
{
	const char *env;
	int saved;

	if (__atomic_load_n(&g_pools_env, __ATOMIC_ACQUIRE))
		return;
	saved = errno;
	env = secure_getenv("SHIM_FAKE_POOL");
	if (env != NULL && *env != '\0')
		(void)fdns_set_pools(env);	/* XXX: log once (issue 3) */
	__atomic_store_n(&g_pools_env, 1, __ATOMIC_RELEASE);
	errno = saved;
}

static size_t
table_size(void)
{
	return FDNS_HDR_SIZE + (size_t)FDNS_SLOTS * sizeof(struct fdns_slot) +
	       FDNS_HEALTH_SIZE;
}

static struct fdns_slot *
table_slots(struct fdns_hdr *h)
{
	return (struct fdns_slot *)(void *)((char *)h + FDNS_HDR_SIZE);
}

static bool
hdr_valid(const struct fdns_hdr *h, size_t size)
{
	return h->magic == FDNS_MAGIC && h->version == FDNS_VERSION &&
	       h->nslots == FDNS_SLOTS &&
	       h->slot_size == sizeof(struct fdns_slot) && h->size == size;
}

static void
hdr_fill(struct fdns_hdr *h, size_t size)
{
	h->version = FDNS_VERSION;
	h->nslots = FDNS_SLOTS;
	h->slot_size = sizeof(struct fdns_slot);
	h->size = size;
	__atomic_store_n(&h->magic, FDNS_MAGIC, __ATOMIC_RELEASE);
}

/* Map the session's table from fd (sized by its first user); NULL when
 * it is unusable. */
static struct fdns_hdr *
table_map_fd(int fd, size_t size)
{
	struct fdns_hdr *h = NULL;
	struct stat st;
	void *m;

	if (flock(fd, LOCK_EX) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode))
		goto out;
	if (st.st_size == 0 && ftruncate(fd, (off_t)size) == -1)
		goto out;
	if (st.st_size != 0 && (size_t)st.st_size != size)
		goto out;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto out;
	h = m;
	if (st.st_size == 0)
		hdr_fill(h, size);
	else if (!hdr_valid(h, size)) {
		munmap(m, size);
		h = NULL;
	}
out:
	/*
	 * Unlock explicitly: a flock belongs to the open file description,
	 * and the mapping keeps that alive after close(), so close() alone
	 * would hold the lock for the life of the mapping and every other
	 * thread or process of the session would wait in flock() forever.
	 */
	flock(fd, LOCK_UN);
	return h;
}

/* Map the session file; NULL when it is missing or unusable. */
static struct fdns_hdr *
table_map_file(const char *path, size_t size)
{
	struct fdns_hdr *h;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return NULL;
	h = table_map_fd(fd, size);
	real_close(fd);
	return h;
}

void
fdns_use_session(int fd, const char *pools)
{
	if (pools != NULL && pools[0] != '\0')
		(void)fdns_set_pools(pools);	/* proxywrap checked it */
	/* the session's pools are fixed: SHIM_FAKE_POOL is not read */
	__atomic_store_n(&g_pools_env, 1, __ATOMIC_RELEASE);
	g_session_fd = fd;
}

static struct fdns_hdr *
table_get(void)
{
	struct fdns_hdr *h = __atomic_load_n(&g_tab, __ATOMIC_ACQUIRE);
	struct fdns_hdr *expected = NULL;
	size_t size = table_size();
	const char *path;
	int saved;

	if (h != NULL)
		return h;
	saved = errno;
	path = g_session_fd < 0 ? secure_getenv("SHIM_SESSION") : NULL;
	if (g_session_fd >= 0)
		h = table_map_fd(g_session_fd, size);
	else if (path != NULL && *path != '\0')
		h = table_map_file(path, size);
	if (h == NULL) {
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		if (m == MAP_FAILED) {
			errno = saved;
			return NULL;
		}
		h = m;
		hdr_fill(h, size);
	}
	/* Two threads may race here; the loser drops its mapping. */
	if (!__atomic_compare_exchange_n(&g_tab, &expected, h, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(h, size);
		h = expected;
	}
	errno = saved;
	return h;
}

/*
 * The rest of the header page holds small session-wide state for other
 * modules (tunnel.c remembers there which proxies take a pipelined SOCKS5
 * handshake), so every process of the session learns it once.
 */
uint8_t *
fdns_session_area(size_t *n)
{
	struct fdns_hdr *h = table_get();

	if (h == NULL)
		return NULL;
	*n = FDNS_AREA_SIZE;
	return (uint8_t *)h + FDNS_HDR_SIZE - FDNS_AREA_SIZE;
}

/*
 * After the slots: the proxies' health (proxyhealth.c), also zeroed when
 * the session starts.  Pages nobody touches cost nothing (MAP_NORESERVE,
 * a sparse memfd).
 */
uint8_t *
fdns_health_area(size_t *n)
{
	struct fdns_hdr *h = table_get();

	if (h == NULL)
		return NULL;
	*n = FDNS_HEALTH_SIZE;
	return (uint8_t *)h + FDNS_HDR_SIZE +
	       (size_t)FDNS_SLOTS * sizeof(struct fdns_slot);
}

/* Wait for a slot being written; returns its settled state, or EMPTY
 * after taking over a slot whose writer died (the caller may claim it). */
static uint32_t
slot_settle(struct fdns_slot *s)
{
	uint32_t st;
	int spins = 0;

	for (;;) {
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st == SLOT_EMPTY || st == SLOT_READY)
			return st;
		if (++spins < FDNS_SPIN_MAX) {
			if (spins % 64 == 0)
				sched_yield();
			continue;
		}
		spins = 0;
		if (kill((pid_t)(st / 2), 0) == -1 && errno == ESRCH &&
		    __atomic_compare_exchange_n(&s->state, &st, SLOT_EMPTY,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return SLOT_EMPTY;
	}
}

static void
index_to_addr(uint32_t idx, int family, uint8_t *addr)
{
	uint32_t v;
	int i;

	if (family == AF_INET) {
		v = htonl(g_pools.v4 + idx + 1);
		memcpy(addr, &v, 4);
		return;
	}
	/* the pool's low bits are zero and hold at most 2^32 - 1 indexes */
	memcpy(addr, g_pools.v6, 16);
	v = idx + 1;
	for (i = 15; i >= 12; i--, v >>= 8)
		addr[i] |= (uint8_t)v;
}

/* Slot index for a fake address, or -1. */
static long
addr_to_index(int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	uint32_t v, off;
	int i;

	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		memcpy(&v, addr, 4);
		v = ntohl(v);
		if (((v ^ g_pools.v4) >> (32 - g_pools.v4_len)) != 0)
			return -1;
		off = v - g_pools.v4;
	} else if (family == AF_INET6) {
		for (i = 0; i < g_pools.v6_len / 8; i++)
			if (addr[i] != g_pools.v6[i])
				return -1;
		if (g_pools.v6_len % 8 != 0 &&
		    ((addr[i] ^ g_pools.v6[i]) >> (8 - g_pools.v6_len % 8)))
			return -1;
		/* indexes live in the last 32 bits; anything between the
		 * prefix and them must be zero */
		for (i = g_pools.v6_len / 8 + (g_pools.v6_len % 8 != 0);
		     i < 12; i++)
			if (addr[i] != 0)
				return -1;
		off = 0;
		for (i = 12; i < 16; i++)
			off = off << 8 | addr[i];
		if (g_pools.v6_len > 96)
			off &= (uint32_t)(1ull << (128 - g_pools.v6_len)) - 1;
	} else {
		return -1;
	}
	if (off == 0 || off > g_pools.cap)
		return -1;
	return (long)off - 1;
}

bool
fdns_is_fake(int family, const uint8_t *addr)
{
	pools_load();
	return addr_to_index(family, addr) >= 0;
}

bool
fdns_maybe_fake(int family, const uint8_t *addr)
{
	uint32_t v;

	pools_load();
	if (family == AF_INET) {
		memcpy(&v, addr, 4);
		return ((ntohl(v) ^ g_pools.v4) >> (32 - g_pools.v4_len)) == 0;
	}
	/* IPv6 and v4-mapped: the exact test */
	return addr_to_index(family, addr) >= 0;
}

int
fdns_lookup(int family, const uint8_t *addr, char *name, size_t n)
{
	struct fdns_hdr *h;
	struct fdns_slot *s;
	size_t len;
	long idx;

	pools_load();
	idx = addr_to_index(family, addr);
	if (idx < 0)
		return -ENOENT;
	h = table_get();
	if (h == NULL)
		return -ENOENT;
	s = &table_slots(h)[idx];
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY)
		return -ENOENT;
	len = strnlen(s->name, FDNS_NAME_MAX);
	if (len + 1 > n)
		return -ENOSPC;
	memcpy(name, s->name, len);
	name[len] = '\0';
	return 0;
}

int
fdns_assign(const char *name, int family, uint8_t *addr)
{
	size_t len = strlen(name);
	uint32_t hash, cap, i, idx, st, mine;
	struct fdns_slot *slots, *s;
	struct fdns_hdr *h;
	int saved, rc = -ENOSPC;

	if (len == 0 || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if (len > FDNS_NAME_MAX)
		return -ENAMETOOLONG;
	pools_load();
	h = table_get();
	if (h == NULL)
		return -ENOMEM;
	saved = errno;	/* kill() in slot_settle may set it */
	slots = table_slots(h);
	cap = g_pools.cap < h->nslots ? g_pools.cap : h->nslots;
	hash = fdns_hash(name, len);
	mine = (uint32_t)getpid() * 2;
	for (i = 0; i < cap; i++) {
		idx = (hash + i) % cap;
		s = &slots[idx];
		st = slot_settle(s);
		if (st == SLOT_EMPTY) {
			if (!__atomic_compare_exchange_n(&s->state, &st, mine,
							 false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE)) {
				i--;	/* lost the race: look again */
				continue;
			}
			memcpy(s->name, name, len);
			memset(s->name + len, 0, sizeof(s->name) - len);
			s->hash = hash;
			__atomic_store_n(&s->state, SLOT_READY,
					 __ATOMIC_RELEASE);
		} else if (s->hash != hash ||
			   strncmp(s->name, name, sizeof(s->name)) != 0) {
			continue;
		}
		index_to_addr(idx, family, addr);
		rc = 0;
		break;
	}
	errno = saved;
	return rc;
}
