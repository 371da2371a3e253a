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

#include <fcntl.h>
#include <sys/resource.h>

#include "real.h"

struct fd_entry **fdtab_pages[FDTAB_PAGES];
int fdtab_live;

void
fd_ref_get(struct fd_ref *r)
{
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
}

void
fd_ref_put(struct fd_ref *r)
{
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		r->release(r);
}

/* The UDP state as the reference it begins with (udp_int.h). */
static struct fd_ref *
udp_ref(struct udp_sock *u)
{
	return (struct fd_ref *)(void *)u;
}

/* The same for a tunnel's evidence (evid.h). */
static struct fd_ref *
evid_ref(struct evid *v)
{
	return (struct fd_ref *)(void *)v;
}

static void
entry_free(struct fd_entry *e)
{
	if (e != NULL && e->udp != NULL)
		fd_ref_put(udp_ref(e->udp));
	if (e != NULL && e->evid != NULL)
		fd_ref_put(evid_ref(e->evid));
	if (e != NULL && e->lease != NULL)
		fd_ref_put(e->lease);
	free(e);
}

static struct fd_entry **
slot(int fd, bool create)
{
	struct fd_entry **page, **fresh;
	unsigned int u = (unsigned int)fd;

	if (fd < 0 || (u >> FDTAB_PAGE_BITS) >= FDTAB_PAGES)
		return NULL;
	page = __atomic_load_n(&fdtab_pages[u >> FDTAB_PAGE_BITS],
			       __ATOMIC_ACQUIRE);
	if (page == NULL) {
		if (!create)
			return NULL;
		fresh = calloc(FDTAB_PAGE, sizeof(*fresh));
		if (fresh == NULL)
			return NULL;
		page = NULL;
		if (__atomic_compare_exchange_n(&fdtab_pages[u >> FDTAB_PAGE_BITS],
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
	entry_free(old);
	return e;
}

bool
fdtab_adopt(int fd, const struct fd_entry *init)
{
	struct fd_entry **s = slot(fd, true);
	struct fd_entry *e, *none = NULL;

	if (s == NULL || (e = malloc(sizeof(*e))) == NULL)
		return false;
	memcpy(e, init, sizeof(*e));
	if (__atomic_compare_exchange_n(s, &none, e, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return true;
	free(e);
	return false;
}

void
fdtab_clear(int fd)
{
	struct fd_entry **s = slot(fd, false);
	struct fd_entry *old;

	if (s == NULL || __atomic_load_n(s, __ATOMIC_RELAXED) == NULL)
		return;
	old = __atomic_exchange_n(s, NULL, __ATOMIC_ACQ_REL);
	entry_free(old);
}

void
fdtab_dup(int fd, int newfd)
{
	struct fd_entry *src = fdtab_get(fd), *dst;

	if (src == NULL) {
		fdtab_clear(newfd);
		return;
	}
	if (src->internal) {
		fdtab_clear(newfd);	/* a copy of ours is the app's */
		return;
	}
	dst = fdtab_set(newfd);
	if (dst == NULL)
		return;
	memcpy(dst, src, sizeof(*dst));
	/* the readiness bookkeeping stays with the fd the tunnel runs on */
	dst->tun = NULL;
	dst->ep = NULL;
	dst->err_unread = false;
	if (dst->udp != NULL)
		fd_ref_get(udp_ref(dst->udp));
	if (dst->evid != NULL)
		fd_ref_get(evid_ref(dst->evid));
	if (dst->lease != NULL)
		fd_ref_get(dst->lease);
}

bool
fdtab_internal(int fd)
{
	struct fd_entry *e = fdtab_get(fd);

	return e != NULL && e->internal;
}

/*
 * Our fd goes high, out of the range where programs expect their own
 * numbers (shells' "exec 5>file", daemons' dup2 onto 0..2 and 3..N).
 * Returns the new fd (fd itself closed) or fd when it cannot move.
 */
int
fdtab_high(int fd)
{
	struct rlimit rl;
	long lo = 1000;
	int n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur - (long)rl.rlim_cur / 8 < lo)
		lo = (long)rl.rlim_cur - (long)rl.rlim_cur / 8;
	if (lo <= fd)
		return fd;
	n = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)lo);
	if (n == -1)
		return fd;
	real_close(fd);
	return n;
}
