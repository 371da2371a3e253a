/*
 * evid.c - a tunnel's evidence record: made when routing hands the
 * program a tunnel, shared by the fds that name the socket (dup), freed
 * with the last of them.  Its close event is written by evid_close.c.
 */
#include "evid.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
release(struct fd_ref *r)
{
	struct evid *v = (struct evid *)(void *)r;

	free(v->out_buf);
	free(v);
}

struct evid *
evid_new(const struct tun_dest *d, const struct decision *dec,
	 int64_t start_ms)
{
	struct evid *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	_Static_assert(offsetof(struct evid, ref) == 0, "fdtab's reference");
	v->ref.refs = 1;
	v->ref.release = release;
	v->pid = getpid();
	v->start_ms = start_ms;
	v->dec = *dec;
	v->dst = *d;
	v->px = -1;
	return v;
}

void
evid_attach(struct fd_entry *e, struct evid *v)
{
	if (v == NULL)
		return;
	if (e == NULL || e->evid != NULL) {
		release(&v->ref);
		return;
	}
	e->evid = v;
	__atomic_store_n(&e->peek, EVID_PEEK_OUT | EVID_PEEK_IN,
			 __ATOMIC_RELEASE);
	/* from now on the I/O hooks look the entry up */
	__atomic_store_n(&fdtab_live, 1, __ATOMIC_RELEASE);
}

void
evid_ready(struct evid *v, const struct tun *t)
{
	v->hs_up = t->hs_up;
	v->hs_down = t->hs_down;
	if (t->rule->nchain > 0)
		v->px = t->px[t->rule->nchain - 1];
	__atomic_store_n(&v->ready_ms, tun_now_ms(), __ATOMIC_RELEASE);
}

struct evid *
evid_take(struct fd_entry *e)
{
	return __atomic_exchange_n(&e->evid, NULL, __ATOMIC_ACQ_REL);
}

bool
evid_drop(struct evid *v)
{
	return __atomic_sub_fetch(&v->ref.refs, 1, __ATOMIC_ACQ_REL) == 0;
}

void
evid_free(struct evid *v)
{
	release(&v->ref);
}
