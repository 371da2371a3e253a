/*
 * supervise_compat.c - a call's arguments in the caller's own layout.
 *
 * A 32-bit (i386) program reaches the kernel's compat layer: its calls
 * have their own numbers, socketcall(2) passes its arguments as an array
 * of 32-bit words in the caller's memory, and msghdr, iovec, mmsghdr and
 * cmsghdr have 32-bit pointers and lengths (compat_msghdr, net/compat.c).
 * Here they are read the way the kernel reads them and turned into the
 * native forms, so that supervise_call.c decides and performs one form.
 * A native caller's headers are read here too.
 */
#include "supervise_int.h"

#include <errno.h>
#include <linux/audit.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "cmsg32.h"

/* The layouts of net/compat.h. */
struct c32_msghdr {
	uint32_t name;
	int32_t namelen;
	uint32_t iov;
	uint32_t iovlen;
	uint32_t control;
	uint32_t controllen;
	uint32_t flags;
};

struct c32_mmsghdr {
	struct c32_msghdr hdr;
	uint32_t len;
};

struct c32_iovec {
	uint32_t base;
	uint32_t len;
};

static const struct {
	int i386, nr;
} g_nr[] = {
	{ I386_CONNECT, __NR_connect },
	{ I386_SENDTO, __NR_sendto },
	{ I386_SENDMSG, __NR_sendmsg },
	{ I386_SENDMMSG, __NR_sendmmsg },
	{ I386_SOCKET, __NR_socket },
	{ I386_GETPEERNAME, __NR_getpeername },
	{ I386_IO_URING_SETUP, __NR_io_uring_setup },
	{ I386_EXECVE, __NR_execve },
	{ I386_EXECVEAT, __NR_execveat },
};

static const struct {
	int call, nr, words;
} g_sc[] = {
	{ SC_SOCKET, __NR_socket, 3 },
	{ SC_CONNECT, __NR_connect, 3 },
	{ SC_GETPEERNAME, __NR_getpeername, 3 },
	{ SC_SENDTO, __NR_sendto, 6 },
	{ SC_SENDMSG, __NR_sendmsg, 3 },
	{ SC_SENDMMSG, __NR_sendmmsg, 4 },
};

int
sup_call_native(struct sup_call *c)
{
	uint32_t w[6];
	size_t i;
	int rc;

	c->compat = c->arch != AUDIT_ARCH_X86_64;
	if (!c->compat)
		return 0;
	for (i = 0; i < sizeof(g_nr) / sizeof(g_nr[0]); i++)
		if (g_nr[i].i386 == c->nr) {
			c->nr = g_nr[i].nr;
			return 0;
		}
	if (c->nr != I386_SOCKETCALL)
		return -ENOSYS;
	for (i = 0; i < sizeof(g_sc) / sizeof(g_sc[0]); i++)
		if (g_sc[i].call == (int)c->args[0])
			break;
	if (i == sizeof(g_sc) / sizeof(g_sc[0]))
		return -EINVAL;		/* the filter passes the others */
	/* compat_sys_socketcall: the words copied once; the kernel would
	 * read them again after a CONTINUE, so c->words forbids one */
	rc = sup_read(c, c->args[1], w, (size_t)g_sc[i].words * 4);
	if (rc < 0)
		return rc;
	c->nr = g_sc[i].nr;
	c->words = true;
	memset(c->args, 0, sizeof(c->args));
	for (rc = 0; rc < g_sc[i].words; rc++)
		c->args[rc] = w[rc];
	return 0;
}

int
sup_msghdr_read(struct sup_call *c, uint64_t addr, struct sup_msghdr *m)
{
	struct c32_msghdr h;
	struct msghdr n;
	int rc;

	if (!c->compat) {
		rc = sup_read(c, addr, &n, sizeof(n));
		if (rc < 0)
			return rc;
		m->name = (uintptr_t)n.msg_name;
		m->namelen = (int)n.msg_namelen;
		m->iov = (uintptr_t)n.msg_iov;
		m->iovlen = n.msg_iovlen;
		m->control = (uintptr_t)n.msg_control;
		m->controllen = n.msg_controllen;
		return 0;
	}
	rc = sup_read(c, addr, &h, sizeof(h));
	if (rc < 0)
		return rc;
	m->name = h.name;
	m->namelen = h.namelen;
	m->iov = h.iov;
	m->iovlen = h.iovlen;
	m->control = h.control;
	m->controllen = h.controllen;
	return 0;
}

size_t
sup_mmsg_size(const struct sup_call *c)
{
	return c->compat ? sizeof(struct c32_mmsghdr) : sizeof(struct mmsghdr);
}

size_t
sup_mmsg_len_at(const struct sup_call *c)
{
	return c->compat ? offsetof(struct c32_mmsghdr, len) :
			   offsetof(struct mmsghdr, msg_len);
}

int
sup_iov_read(struct sup_call *c, uint64_t addr, size_t n, struct iovec *v)
{
	struct c32_iovec *w;
	size_t i;
	int rc;

	if (!c->compat) {
		rc = sup_read(c, addr, v, n * sizeof(*v));
		for (i = 0; rc == 0 && i < n; i++)
			if ((ssize_t)v[i].iov_len < 0)
				rc = -EINVAL;
		return rc;
	}
	/* compat_import_iovec: 8-byte entries, a negative length EINVAL;
	 * the native array is at least as large, so read into its end */
	w = (struct c32_iovec *)(void *)((char *)v + n * sizeof(*v) -
					 n * sizeof(*w));
	rc = sup_read(c, addr, w, n * sizeof(*w));
	for (i = 0; rc == 0 && i < n; i++) {
		struct c32_iovec e = w[i];

		if ((int32_t)e.len < 0)
			return -EINVAL;
		v[i].iov_base = (void *)(uintptr_t)e.base;
		v[i].iov_len = e.len;
	}
	return rc;
}

int
sup_cmsg_native(const struct sup_call *c, void **ctl, size_t *len)
{
	uint8_t *out;
	size_t kl;
	int rc;

	if (!c->compat || *len == 0)
		return 0;
	rc = cmsg32_to_native(*ctl, *len, NULL, 0, &kl);
	if (rc < 0)
		return rc;
	out = malloc(kl);
	if (out == NULL)
		return -ENOMEM;
	cmsg32_to_native(*ctl, *len, out, kl, &kl);
	free(*ctl);
	*ctl = out;
	*len = kl;
	return 0;
}
