/*
 * fdtab.c - per-fd state, a lazily allocated two-level table.
 *
 * fds are dense small integers, so a page of FDTAB_PAGE pointers per
 * FDTAB_PAGE fds is compact; pages are created on first use with a
 * compare-and-swap and never freed, so readers need no lock.
 */
#include "fdtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FDTAB_PAGE_BITS 10
#define FDTAB_PAGE (1u << FDTAB_PAGE_BITS)
#define FDTAB_PAGES 1024		/* fds up to 1M */

static struct fd_entry **pages[FDTAB_PAGES];

static struct fd_entry **
slot(int fd, bool create)
{
	struct fd_entry **page, **fresh;
	unsigned int u = (unsigned int)fd;

	if (fd < 0 || (u >> FDTAB_PAGE_BITS) >= FDTAB_PAGES)
		return NULL;
	page = __atomic_load_n(&pages[u >> FDTAB_PAGE_BITS], __ATOMIC_ACQUIRE);
	if (page == NULL) {
		if (!create)
			return NULL;
		fresh = calloc(FDTAB_PAGE, sizeof(*fresh));
		if (fresh == NULL)
			return NULL;
		page = NULL;
		if (__atomic_compare_exchange_n(&pages[u >> FDTAB_PAGE_BITS],
						&page, fresh, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			page = fresh;
		else
			free(fresh);
	}
	return &page[u & (FDTAB_PAGE - 1)];
}

struct fd_entry *
fdtab_get(int fd)
{
	struct fd_entry **s = slot(fd, false);

	return s != NULL ? __atomic_load_n(s, __ATOMIC_ACQUIRE) : NULL;
}

struct fd_entry *
fdtab_set(int fd)
{
	struct fd_entry **s = slot(fd, true);
	struct fd_entry *e, *old;

	if (s == NULL)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	old = __atomic_exchange_n(s, e, __ATOMIC_ACQ_REL);
	free(old);
	return e;
}

void
fdtab_clear(int fd)
{
	struct fd_entry **s = slot(fd, false);
	struct fd_entry *old;

	if (s == NULL || __atomic_load_n(s, __ATOMIC_RELAXED) == NULL)
		return;
	old = __atomic_exchange_n(s, NULL, __ATOMIC_ACQ_REL);
	free(old);
}

void
fdtab_dup(int fd, int newfd)
{
	struct fd_entry *src = fdtab_get(fd), *dst;

	if (src == NULL) {
		fdtab_clear(newfd);
		return;
	}
	dst = fdtab_set(newfd);
	if (dst != NULL)
		memcpy(dst, src, sizeof(*dst));
}
