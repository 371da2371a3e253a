/*
 * livehealth.c - read the running session's proxy health (livehealth.h).
 *
 * The table is the memfd every process of a session inherits (its number
 * is the second of SHIM_SESSION_FD's); the health area lies at a fixed
 * page-aligned offset after the fake-address slots (fakedns.h), its
 * first PH_PROXIES entries the proxies' (proxyhealth.h).  Mapped
 * read-only: this process only looks, never claims an entry.
 */
#include "livehealth.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "explain.h"
#include "fakedns.h"
#include "proxyhealth.h"

int
live_health(const struct hl_proxy **tab, uint32_t *n, int64_t *now)
{
	const char *v = getenv("SHIM_SESSION_FD"), *comma;
	uint32_t hdr[2];
	struct timespec ts;
	struct stat st;
	char *end;
	void *m;
	long fd;

	if (v == NULL || (comma = strchr(v, ',')) == NULL)
		return -1;
	fd = strtol(comma + 1, &end, 10);
	if (end == comma + 1 || fd < 3 || fd > 1 << 30 ||
	    fstat((int)fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < FDNS_HEALTH_OFFSET + FDNS_HEALTH_SIZE ||
	    pread((int)fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr[0] != FDNS_TABLE_MAGIC || hdr[1] != FDNS_TABLE_VERSION)
		return -1;
	m = mmap(NULL, FDNS_HEALTH_SIZE, PROT_READ, MAP_SHARED, (int)fd,
		 (off_t)FDNS_HEALTH_OFFSET);
	if (m == MAP_FAILED)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*tab = m;
	*n = PH_PROXIES;
	*now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

void
live_health_explain(void)
{
	const struct hl_proxy *tab;
	uint32_t n;
	int64_t now;

	if (live_health(&tab, &n, &now) == 0)
		explain_set_health(tab, n, now);
}
