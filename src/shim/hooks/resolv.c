/*
 * resolv.c - the resolver's other entry points: res_query, res_search,
 * res_querydomain, res_send, their res_n* forms, glibc's __res_* aliases
 * of each (what binaries built against an older <resolv.h> call), and
 * getaddrinfo_a.  glibc runs all of these without passing through
 * getaddrinfo, so a program calling them (apt's SRV lookups, say) sent
 * queries no rule allowed.
 *
 * For the question's name (for a reverse name, its address) dnspolicy.c
 * decides, as for getaddrinfo:
 *   may leave (direct)           the real function, untouched
 *   blocked                      NXDOMAIN, no query (logged there)
 *   the proxy resolves it        A / AAAA from the session's fake table;
 *                                other types REFUSED with one log line
 *   under ".localhost"           A 127.0.0.1, AAAA ::1, else no data
 *   reverse name of a fake       PTR with its name; other addresses whose
 *                                rule is not direct: NXDOMAIN
 * The answer is a DNS message (dnsmsg.c) in the caller's buffer, returned
 * as glibc returns a server's: res_send gives its length whatever the
 * rcode; the others give it for an answer with records, else -1 with
 * h_errno HOST_NOT_FOUND (NXDOMAIN), NO_DATA, TRY_AGAIN or NO_RECOVERY
 * (REFUSED).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "dnspolicy.h"
#include "fakedns.h"
#include "guard.h"
#include "names.h"
#include "log.h"
#include "real.h"

#define HOOK __attribute__((visibility("default")))
#define ALIAS(f) __attribute__((visibility("default"), alias(#f)))
#define FAKE_TTL 60		/* a fake address is the session's for ever */
#define REPLY_MAX 1024

/* Where the caller wants the answer. */
struct res_out {
	res_state statp;	/* for res_h_errno */
	unsigned char *answer;
	int anslen;
	bool send;		/* res_send: the length whatever the rcode */
};

static int
set_herr(const struct res_out *o, int herr)
{
	if (o->statp != NULL)
		o->statp->res_h_errno = herr;
	h_errno = herr;
	return -1;
}

/* Copy the reply out (cut, with TC set, when the buffer is short) and
 * return what the caller returns. */
static int
deliver(const struct res_out *o, uint8_t *msg, int len, int rcode,
	size_t nrr)
{
	if (len < 0 || o->anslen < DNSMSG_HDR || o->answer == NULL) {
		errno = EINVAL;
		return o->send ? -1 : set_herr(o, TRY_AGAIN);
	}
	if (len > o->anslen) {
		msg[2] |= 0x02;	/* TC */
		len = o->anslen;
	}
	memcpy(o->answer, msg, (size_t)len);
	if (o->send)
		return len;
	if (rcode == DNSMSG_NXDOMAIN)
		return set_herr(o, HOST_NOT_FOUND);
	if (rcode == DNSMSG_SERVFAIL)
		return set_herr(o, TRY_AGAIN);
	if (rcode != DNSMSG_NOERROR)
		return set_herr(o, NO_RECOVERY);
	if (nrr == 0)
		return set_herr(o, NO_DATA);
	return len;
}

static int
reply(const struct res_out *o, const struct dnsmsg_query *q, int rcode,
      const struct dnsmsg_rr *rr, size_t nrr)
{
	uint8_t msg[REPLY_MAX];

	return deliver(o, msg, dnsmsg_build_reply(msg, sizeof(msg), q, rcode,
						  rr, nrr), rcode, nrr);
}

/* Addresses for an A or AAAA question: one record each. */
static int
reply_addrs(const struct res_out *o, const struct dnsmsg_query *q,
	    const struct addrinfo_addr *a, size_t n)
{
	struct dnsmsg_rr rr[2];
	size_t i, k = 0;
	int fam = q->qtype == DNSMSG_A ? AF_INET : AF_INET6;

	for (i = 0; i < n && k < 2; i++) {
		if (a[i].family != fam)
			continue;
		rr[k].type = q->qtype;
		rr[k].ttl = FAKE_TTL;
		rr[k].rdata = a[i].addr;
		rr[k++].rdlen = fam == AF_INET ? 4 : 16;
	}
	return reply(o, q, DNSMSG_NOERROR, rr, k);
}

static bool
addr_question(const struct dnsmsg_query *q)
{
	return q->qclass == DNSMSG_CLASS_IN &&
	       (q->qtype == DNSMSG_A || q->qtype == DNSMSG_AAAA);
}

/* A reverse name: 1 answered (*rc), 0 libc asks, -1 not an address. */
static int
reverse(const struct dnsmsg_query *q, const struct res_out *o, int *rc)
{
	uint8_t addr[16], wire[DNSMSG_WIRE_MAX];
	char name[FDNS_NAME_MAX + 1];
	struct dnsmsg_rr rr = { .type = DNSMSG_PTR, .ttl = FAKE_TTL };
	int fam, n;

	if (dnsmsg_ptr_addr(q->name, &fam, addr) != 0)
		return -1;
	if (fdns_is_fake(fam, addr) &&
	    fdns_lookup(fam, addr, name, sizeof(name)) == 0) {
		if (q->qtype != DNSMSG_PTR || q->qclass != DNSMSG_CLASS_IN) {
			*rc = reply(o, q, DNSMSG_NOERROR, NULL, 0);
			return 1;
		}
		n = dnsmsg_name_pton(name, wire, sizeof(wire));
		if (n < 0)
			return -1;
		rr.rdata = wire;
		rr.rdlen = (size_t)n;
		*rc = reply(o, q, DNSMSG_NOERROR, &rr, 1);
		return 1;
	}
	if (dnsp_ptr_allowed(fam, addr, "reverse query"))
		return 0;
	*rc = reply(o, q, DNSMSG_NXDOMAIN, NULL, 0);
	return 1;
}

/* Lowercase, no trailing dot: the fake table's key. */
static bool
key_of(const char *name, char *key, size_t n)
{
	size_t len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= n)
		return false;
	for (i = 0; i < len; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] + 32 : name[i]);
	key[len] = '\0';
	return true;
}

static void
log_refused(const struct dnsmsg_query *q)
{
	char t[16];

	dnsp_refuse(q->name, dnsmsg_type_str(q->qtype, t, sizeof(t)),
		    "the proxy resolves this name, and a query would leave "
		    "this host");
}

/*
 * The decision for one question: 1 answered (*rc is the caller's
 * result), 0 the real function may ask.
 */
static int
decide(const struct dnsmsg_query *q, const struct res_out *o, int *rc)
{
	struct addrinfo_addr a[2];
	char key[FDNS_NAME_MAX + 1];
	size_t n;
	int r;

	r = reverse(q, o, rc);
	if (r >= 0)
		return r;
	if (!key_of(q->name, key, sizeof(key))) {
		*rc = reply(o, q, DNSMSG_NXDOMAIN, NULL, 0);
		return 1;
	}
	switch (dnsp_route_name(q->name, 0)) {
	case ROUTE_LOCAL:
		if (!dnsp_under_localhost(key))
			return 0;
		n = addr_question(q) ? dnsp_loopback(AF_UNSPEC, a) : 0;
		*rc = reply_addrs(o, q, a, n);
		return 1;
	case ROUTE_BLOCK:
		*rc = reply(o, q, DNSMSG_NXDOMAIN, NULL, 0);
		return 1;
	case ROUTE_FAKE:
		break;
	}
	if (!addr_question(q) || !dnsmsg_hnok(q->name)) {
		log_refused(q);
		*rc = reply(o, q, DNSMSG_REFUSED, NULL, 0);
		return 1;
	}
	r = dnsp_fake_addrs(key, q->qtype == DNSMSG_A ? AF_INET : AF_INET6, a,
			    &n);
	if (r != 0)
		*rc = reply(o, q, r == EAI_AGAIN ? DNSMSG_SERVFAIL :
				  DNSMSG_NXDOMAIN, NULL, 0);
	else
		*rc = reply_addrs(o, q, a, n);
	return 1;
}

/* res_query / res_search / res_querydomain on a name (already joined). */
static int
by_name(const char *name, int class, int type, const struct res_out *o,
	int *rc)
{
	static unsigned int ids;
	struct dnsmsg_query q;
	int saved = errno, r;

	if (shim_internal() || name == NULL || class < 0 || class > 0xffff ||
	    type < 0 || type > 0xffff)
		return 0;
	/* the id only has to look like one: nothing is sent */
	if (dnsmsg_query_init(&q, name, (uint16_t)type, (uint16_t)class,
			      (uint16_t)(__atomic_add_fetch(&ids, 40503,
							    __ATOMIC_RELAXED) ^
					 ((uintptr_t)&q >> 4))) != 0)
		return 0;	/* glibc refuses it itself, without a query */
	r = decide(&q, o, rc);
	if (r == 0 || *rc >= 0)
		errno = saved;
	return r;
}

static int
by_message(const unsigned char *msg, int msglen, const struct res_out *o,
	   int *rc)
{
	struct dnsmsg_query q;
	size_t used;
	int saved = errno, r;

	/* glibc refuses an answer buffer shorter than a header (EINVAL)
	 * before it sends anything: its answer */
	if (shim_internal() || msg == NULL || msglen < DNSMSG_HDR ||
	    o->anslen < DNSMSG_HDR)
		return 0;
	if (dnsmsg_parse_query(msg, (size_t)msglen, &used, &q) != PARSE_OK) {
		/* no question the rules could allow: not sent */
		log_msg(LOG_WARN, "refused res_send of a message that is not "
			"one DNS question");
		errno = EACCES;
		*rc = -1;
		return 1;
	}
	r = decide(&q, o, rc);
	if (r == 0 || *rc >= 0)
		errno = saved;
	return r;
}

HOOK int
res_nquery(res_state statp, const char *name, int class, int type,
	   unsigned char *answer, int anslen)
{
	struct res_out o = { statp, answer, anslen, false };
	int rc;

	if (by_name(name, class, type, &o, &rc))
		return rc;
	return real_res_nquery(statp, name, class, type, answer, anslen);
}

HOOK int
res_query(const char *name, int class, int type, unsigned char *answer,
	  int anslen)
{
	struct res_out o = { &_res, answer, anslen, false };
	int rc;

	if (by_name(name, class, type, &o, &rc))
		return rc;
	return real_res_query(name, class, type, answer, anslen);
}

/* The search list is applied to names that may leave only: a name the
 * proxy resolves is answered as given. */
HOOK int
res_nsearch(res_state statp, const char *name, int class, int type,
	    unsigned char *answer, int anslen)
{
	struct res_out o = { statp, answer, anslen, false };
	int rc;

	if (by_name(name, class, type, &o, &rc))
		return rc;
	return real_res_nsearch(statp, name, class, type, answer, anslen);
}

HOOK int
res_search(const char *name, int class, int type, unsigned char *answer,
	   int anslen)
{
	struct res_out o = { &_res, answer, anslen, false };
	int rc;

	if (by_name(name, class, type, &o, &rc))
		return rc;
	return real_res_search(name, class, type, answer, anslen);
}

/* name.domain as glibc joins them; false when too long (glibc then
 * fails without a query). */
static bool
join(const char *name, const char *domain, char *out, size_t n)
{
	size_t nl, dl;

	if (name == NULL)
		return false;
	nl = strlen(name);
	if (domain == NULL) {
		if (nl > 0 && name[nl - 1] == '.')
			nl--;
		if (nl >= n)
			return false;
		memcpy(out, name, nl);
		out[nl] = '\0';
		return true;
	}
	dl = strlen(domain);
	if (nl + 1 + dl >= n)
		return false;
	memcpy(out, name, nl);
	out[nl] = '.';
	memcpy(out + nl + 1, domain, dl + 1);
	return true;
}

HOOK int
res_nquerydomain(res_state statp, const char *name, const char *domain,
		 int class, int type, unsigned char *answer, int anslen)
{
	struct res_out o = { statp, answer, anslen, false };
	char full[NS_MAXDNAME];
	int rc;

	if (join(name, domain, full, sizeof(full)) &&
	    by_name(full, class, type, &o, &rc))
		return rc;
	return real_res_nquerydomain(statp, name, domain, class, type, answer,
				     anslen);
}

HOOK int
res_querydomain(const char *name, const char *domain, int class, int type,
		unsigned char *answer, int anslen)
{
	struct res_out o = { &_res, answer, anslen, false };
	char full[NS_MAXDNAME];
	int rc;

	if (join(name, domain, full, sizeof(full)) &&
	    by_name(full, class, type, &o, &rc))
		return rc;
	return real_res_querydomain(name, domain, class, type, answer, anslen);
}

HOOK int
res_nsend(res_state statp, const unsigned char *msg, int msglen,
	  unsigned char *answer, int anslen)
{
	struct res_out o = { statp, answer, anslen, true };
	int rc;

	if (by_message(msg, msglen, &o, &rc))
		return rc;
	return real_res_nsend(statp, msg, msglen, answer, anslen);
}

HOOK int
res_send(const unsigned char *msg, int msglen, unsigned char *answer,
	 int anslen)
{
	struct res_out o = { &_res, answer, anslen, true };
	int rc;

	if (by_message(msg, msglen, &o, &rc))
		return rc;
	return real_res_send(msg, msglen, answer, anslen);
}

/* glibc 2.36 exports each of these under its old __res_ name too.  The
 * aliases need not repeat glibc's nothrow/leaf declarations. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmissing-attributes"
int __res_query(const char *, int, int, unsigned char *, int)
	ALIAS(res_query);
int __res_search(const char *, int, int, unsigned char *, int)
	ALIAS(res_search);
int __res_querydomain(const char *, const char *, int, int,
		      unsigned char *, int) ALIAS(res_querydomain);
int __res_send(const unsigned char *, int, unsigned char *, int)
	ALIAS(res_send);
int __res_nquery(res_state, const char *, int, int, unsigned char *, int)
	ALIAS(res_nquery);
int __res_nsearch(res_state, const char *, int, int, unsigned char *, int)
	ALIAS(res_nsearch);
int __res_nquerydomain(res_state, const char *, const char *, int, int,
		       unsigned char *, int) ALIAS(res_nquerydomain);
int __res_nsend(res_state, const unsigned char *, int, unsigned char *,
		int) ALIAS(res_nsend);
#pragma GCC diagnostic pop

/* ---- getaddrinfo_a ---- */

struct notify {
	void (*fn)(union sigval);
	union sigval val;
};

static void *
notify_thread(void *arg)
{
	struct notify n = *(struct notify *)arg;

	free(arg);
	n.fn(n.val);
	return NULL;
}

/* Every request was answered here: tell the caller as glibc would. */
static void
notify(const struct sigevent *sev)
{
	pthread_attr_t *attr;
	struct notify *n;
	pthread_t t;

	if (sev->sigev_notify == SIGEV_SIGNAL) {
		sigqueue(getpid(), sev->sigev_signo, sev->sigev_value);
	} else if (sev->sigev_notify == SIGEV_THREAD) {
		n = malloc(sizeof(*n));
		if (n == NULL)
			return;
		n->fn = sev->sigev_notify_function;
		n->val = sev->sigev_value;
		attr = (pthread_attr_t *)sev->sigev_notify_attributes;
		if (pthread_create(&t, attr, notify_thread, n) != 0) {
			free(n);
			return;
		}
		if (attr == NULL)
			pthread_detach(t);
	}
}

/*
 * Requests the getaddrinfo hook answers without a query that may leave
 * are answered here, at once (gai_error and gai_suspend read __return;
 * gai_cancel then says EAI_ALLDONE); the others go to glibc, whose
 * threads resolve them as they would have.
 */
HOOK int
getaddrinfo_a(int mode, struct gaicb *list[], int nitems,
	      struct sigevent *sevp)
{
	struct gaicb **rest;
	int i, n = 0, rc, saved = errno;

	if (shim_internal() || list == NULL || nitems <= 0 ||
	    (mode != GAI_WAIT && mode != GAI_NOWAIT))
		return real_getaddrinfo_a(mode, list, nitems, sevp);
	rest = calloc((size_t)nitems, sizeof(*rest));
	if (rest == NULL)
		return EAI_MEMORY;
	for (i = 0; i < nitems; i++) {
		struct gaicb *g = list[i];

		if (g == NULL)
			continue;
		g->ar_result = NULL;
		rc = hooks_dns_gai_now(g->ar_name, g->ar_service,
				       g->ar_request, &g->ar_result);
		if (rc == HOOKS_DNS_DEFER)
			rest[n++] = g;
		else
			g->__return = rc;
	}
	rc = 0;
	if (n > 0)
		rc = real_getaddrinfo_a(mode, rest, n, sevp);
	else if (mode == GAI_NOWAIT && sevp != NULL)
		notify(sevp);
	free(rest);
	if (rc != EAI_SYSTEM)
		errno = saved;
	return rc;
}
