/*
 * peek.c - a tunnel's first bytes, for its record (evid.h): what the send
 * and receive hooks call around the real call while e->peek says so.
 */
#include <errno.h>

#include "hooks.h"

int
hook_peek_pre(int fd, struct fd_entry *e, const struct iovec *iov, size_t n)
{
	size_t i;
	int rc;

	if (!evid_strict())
		return 0;
	/* what the kernel refuses (EFAULT, EINVAL) it answers itself */
	if (n > UIO_MAXIOV || bad_ptr(iov, n * sizeof(*iov)))
		return 0;
	for (i = 0; i < n; i++)
		if (bad_ptr(iov[i].iov_base, iov[i].iov_len < TLSPEEK_MAX ?
			    iov[i].iov_len : TLSPEEK_MAX))
			return 0;
	rc = evid_sending(fd, e, iov, n);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* After the real call the entry is looked up again: another thread may
 * have closed fd meanwhile. */
void
hook_peek_out(int fd, const struct iovec *iov, size_t n, ssize_t r)
{
	struct fd_entry *e = fdtab_get(fd);

	if (e != NULL && e->evid != NULL)
		evid_sent(fd, e, iov, n, r);
}

void
hook_peek_in(int fd, const struct iovec *iov, size_t n, ssize_t r, int flags)
{
	struct fd_entry *e = fdtab_get(fd);

	if (e != NULL && e->evid != NULL)
		evid_received(fd, e, iov, n, r, flags);
}
