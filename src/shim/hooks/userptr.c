/*
 * userptr.c - is a pointer the kernel would refuse (EFAULT)?  The hooks
 * ask before they read what a program passed.
 */
#include <errno.h>

#include "hooks.h"

/* The slow half of bad_ptr (hooks.h): read the range once. */
#define CHECK_PAGES 64		/* pages looked at in one call at most */

USERPTR_TLS uintptr_t userptr_lo[2];	/* [lo, hi) each */
USERPTR_TLS uintptr_t userptr_hi[2];

__attribute__((noinline)) bool
userptr_unreadable(const void *p, size_t n)
{
	struct iovec local[CHECK_PAGES + 1], remote[CHECK_PAGES + 1];
	uintptr_t a = (uintptr_t)p, lo = a & ~(PG - 1), pg;
	uintptr_t hi = (a + n - 1) & ~(PG - 1);
	char byte[CHECK_PAGES + 1];
	size_t k = 0;
	int saved = errno;
	ssize_t got;

	if (hi - lo >= CHECK_PAGES * PG)
		return false;	/* a huge vector: left to the kernel */
	/* one byte of each page, the first byte asked for in the first */
	for (pg = lo; pg <= hi; pg += PG, k++) {
		remote[k].iov_base = (void *)(pg == lo ? a : pg);
		remote[k].iov_len = 1;
		local[k].iov_base = &byte[k];
		local[k].iov_len = 1;
	}
	got = process_vm_readv(getpid(), local, k, remote, k, 0);
	/* a short read stopped at the first page that is not there */
	if ((got == -1 && errno == EFAULT) || (got >= 0 && got < (ssize_t)k)) {
		errno = saved;
		return true;
	}
	errno = saved;
	if (got == (ssize_t)k) {
		userptr_lo[1] = userptr_lo[0];
		userptr_hi[1] = userptr_hi[0];
		userptr_lo[0] = lo;
		userptr_hi[0] = hi + PG;
	}
	return false;
}
