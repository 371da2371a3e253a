/*
 * supervise_dnsseen.c - the addresses the DNS responder's forwarded
 * answers gave for names a direct rule names, so that the supervisor
 * decides a connect to one of them as the name, as the shim decides the
 * connect of a name it looked up: under --strict, `direct .corp.example`
 * then lets a Go program reach git.corp.example (the supervisor sees only
 * the address).
 *
 * Bounded (the oldest answer goes), each entry for its record's TTL
 * within SEEN_TTL_MIN..SEEN_TTL_MAX seconds.  Only answers of the real
 * resolver to a query for such a name land here.
 */
#include "supervise_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEEN_MAX 1024
#define SEEN_TTL_MIN 30		/* a connect follows its lookup */
#define SEEN_TTL_MAX 3600

struct seen {
	int family;		/* 0: free */
	uint8_t addr[16];
	time_t until;
	char name[256];
};

static struct seen g_seen[SEEN_MAX];
static size_t g_next;
static pthread_mutex_t g_seen_lock = PTHREAD_MUTEX_INITIALIZER;

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
sup_seen_add(const char *name, int family, const uint8_t *addr, int ttl)
{
	struct seen *e;
	size_t i, alen = family == AF_INET ? 4 : 16;

	if (ttl < SEEN_TTL_MIN)
		ttl = SEEN_TTL_MIN;
	if (ttl > SEEN_TTL_MAX)
		ttl = SEEN_TTL_MAX;
	pthread_mutex_lock(&g_seen_lock);
	/* the same answer again: only its time */
	for (i = 0, e = NULL; i < SEEN_MAX && e == NULL; i++)
		if (g_seen[i].family == family &&
		    memcmp(g_seen[i].addr, addr, alen) == 0 &&
		    strcmp(g_seen[i].name, name) == 0)
			e = &g_seen[i];
	if (e == NULL)
		e = &g_seen[g_next++ % SEEN_MAX];
	e->family = family;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, addr, alen);
	e->until = now_s() + ttl;
	snprintf(e->name, sizeof(e->name), "%s", name);
	pthread_mutex_unlock(&g_seen_lock);
}

bool
sup_seen_name(const struct sup_dest *d, size_t *at, char *name, size_t n)
{
	time_t now = now_s();
	bool found = false;
	size_t i;

	pthread_mutex_lock(&g_seen_lock);
	for (i = *at; i < SEEN_MAX && !found; i++)
		if (g_seen[i].family == d->family && g_seen[i].until > now &&
		    memcmp(g_seen[i].addr, d->addr,
			   d->family == AF_INET ? 4 : 16) == 0) {
			snprintf(name, n, "%s", g_seen[i].name);
			found = true;
		}
	*at = i;
	pthread_mutex_unlock(&g_seen_lock);
	return found;
}
