/*
 * supervise_loop.c - receiving notifications and answering them.
 *
 * Threads receive on the listener side by side (the kernel gives each
 * notification to one of them).  A thread about to perform a call that
 * may block (a connect on a blocking socket to a slow host) first makes
 * sure another thread is receiving, so one slow call never holds up the
 * rest of the tree.  The pool grows on demand up to SUP_THREADS_MAX.
 */
#include "supervise_int.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SUP_THREADS_MAX 256

static int g_lfd = -1;
static const struct sup_policy *g_pol;
static struct seccomp_notif_sizes g_sz;
static int g_idle;		/* threads waiting in NOTIF_RECV (atomic) */
static int g_threads;		/* all of them (atomic) */

static void *receiver(void *arg);

static void
spawn(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;

	if (__atomic_add_fetch(&g_threads, 1, __ATOMIC_SEQ_CST) >
	    SUP_THREADS_MAX) {
		__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* the main thread takes the signals it forwards to the command */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, receiver, NULL) != 0)
		__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
may_block(void)
{
	if (__atomic_load_n(&g_idle, __ATOMIC_SEQ_CST) == 0)
		spawn();
}

static void
answer(struct sup_call *c, struct seccomp_notif_resp *resp)
{
	int64_t val = 0;
	int err = 0;
	bool cont = false;

	sup_handle(c, &val, &err, &cont);
	memset(resp, 0, g_sz.seccomp_notif_resp);
	resp->id = c->id;
	if (cont) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (err != 0) {
		resp->error = -err;
		resp->val = 0;
	} else {
		resp->val = val;
	}
	/* ENOENT: the target died or was interrupted; nothing to answer */
	if (ioctl(c->lfd, SECCOMP_IOCTL_NOTIF_SEND, resp) == -1 &&
	    errno != ENOENT && errno != EINTR) {
		/* the listener is broken; the call fails with ENOSYS when
		 * it closes, nothing more to do here */
	}
}

static void *
receiver(void *arg)
{
	struct seccomp_notif *n = calloc(1, g_sz.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, g_sz.seccomp_notif_resp);
	struct sup_call c;
	int r;

	(void)arg;
	if (n == NULL || resp == NULL)
		goto out;
	for (;;) {
		memset(n, 0, g_sz.seccomp_notif);
		__atomic_add_fetch(&g_idle, 1, __ATOMIC_SEQ_CST);
		r = ioctl(g_lfd, SECCOMP_IOCTL_NOTIF_RECV, n);
		__atomic_sub_fetch(&g_idle, 1, __ATOMIC_SEQ_CST);
		if (r == -1 && (errno == EINTR || errno == ENOENT))
			continue;	/* ENOENT: the caller is gone */
		if (r == -1)
			break;
		memset(&c, 0, sizeof(c));
		c.p = g_pol;
		c.lfd = g_lfd;
		c.id = n->id;
		c.tid = (pid_t)n->pid;
		c.arch = n->data.arch;
		c.nr = n->data.nr;
		memcpy(c.args, n->data.args, sizeof(c.args));
		c.pidfd = -1;
		answer(&c, resp);
		if (c.pidfd >= 0)
			close(c.pidfd);
		if (sup_tainted())
			break;	/* not proxywrap's credentials any more */
	}
out:
	free(n);
	free(resp);
	__atomic_sub_fetch(&g_threads, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int
sup_serve(int lfd, const struct sup_policy *p)
{
	int rc;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &g_sz) == -1)
		return -errno;
	/* the kernel's structs may have grown: never less than ours */
	if (g_sz.seccomp_notif < sizeof(struct seccomp_notif))
		g_sz.seccomp_notif = sizeof(struct seccomp_notif);
	if (g_sz.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		g_sz.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	/* a send to a peer that is gone must not kill proxywrap: EPIPE,
	 * and the caller gets its SIGPIPE from us (supervise_call.c) */
	signal(SIGPIPE, SIG_IGN);
	g_lfd = lfd;
	g_pol = p;
	sup_on_block(may_block);
	sup_decide_init(p);
	rc = sup_dns_start(p);
	if (rc < 0 && p->verbose > 0)
		fprintf(stderr, "proxywrap: the DNS responder could not start "
			"(%s): programs with their own resolver ask the "
			"resolvers of resolv.conf\n", strerror(-rc));
	spawn();
	spawn();
	return __atomic_load_n(&g_threads, __ATOMIC_SEQ_CST) > 0 ? 0 : -EAGAIN;
}
