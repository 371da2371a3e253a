/*
 * rules.c - the compiled rule set (see rules.h), matching on the image of
 * rulesimg.h: built here from a config (rules_compile), or one proxywrap
 * built once for the whole session and every process maps (rules_attach).
 *
 * The image's keys are what a destination matches:
 *
 *   names    the name itself for "example.com", ".example.com" and
 *            "*.example.com"; a query looks up each label suffix of the
 *            name (a.b.example.com, b.example.com, example.com, com) and
 *            keeps the entries whose kind fits (the full name: NAME or
 *            SUFFIX; a proper suffix: SUFFIX or GLOB);
 *   cidrs    family, prefix length and masked address; a query masks its
 *            address once per prefix length present in the rule set;
 *   any      "*" entries, a plain list.
 *
 * The decision is the lowest rule index over all keys looked up.  A
 * decided rule is the config's own when the config has the rules; in an
 * attached image it is made from the image's record on first use, once
 * per rule and process, and kept (tunnels hold it).
 *
 * Pure: no I/O.  inet_pton only parses; mmap only reserves zero pages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "rules.h"
#include "rulesimg.h"

struct rules {
	const struct config *cfg;
	struct rimg m;
	void *own;			/* the image, when built here */
	bool attached;			/* rules come from the image's records */
	struct cfg_rule **made;		/* attached: one slot per rule, zero
					 * pages until used */
	size_t made_len;
	struct chunk *chunks;		/* where made rules live (made_alloc) */
};

/*
 * Memory for made rules, without malloc: a decision can be made in a
 * signal handler (a connect there) that interrupted this thread inside
 * malloc, whose lock it must not wait for.  mmap'ed chunks, bumped with
 * an atomic add, all unmapped with the rules.
 */
#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	size_t pad;			/* the data 16-byte aligned */
};

static void *
made_alloc(const struct rules *r, size_t n)
{
	/* the chunks, like made[], are the one part of r that changes */
	struct chunk **head = &((struct rules *)r)->chunks, *c, *fresh;
	size_t off;

	n = (n + 15) & ~(size_t)15;
	if (n > CHUNK_SIZE - sizeof(*c))
		return NULL;
	for (;;) {
		c = __atomic_load_n(head, __ATOMIC_ACQUIRE);
		if (c != NULL) {
			off = __atomic_fetch_add(&c->used, n, __ATOMIC_ACQ_REL);
			if (off + n <= c->cap)
				return (char *)(c + 1) + off;
		}
		fresh = mmap(NULL, CHUNK_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			return NULL;
		fresh->next = c;
		fresh->used = 0;
		fresh->cap = CHUNK_SIZE - sizeof(*fresh);
		if (!__atomic_compare_exchange_n(head, &c, fresh, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(fresh, CHUNK_SIZE);
	}
}

static struct rules *
rules_new(const struct config *cfg, bool records)
{
	struct rules *r = calloc(1, sizeof(*r));
	size_t len = 0;

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->own = rimg_build(cfg, records, &len);
	if (r->own == NULL || rimg_check(r->own, len, &r->m) != 0) {
		free(r->own);
		free(r);
		return NULL;
	}
	return r;
}

struct rules *
rules_compile(const struct config *cfg)
{
	return rules_new(cfg, false);
}

struct rules *
rules_compile_image(const struct config *cfg)
{
	return rules_new(cfg, true);
}

const void *
rules_image(const struct rules *r, size_t *len)
{
	*len = r->m.len;
	return r->m.base;
}

struct rules *
rules_attach(const struct config *cfg, const void *img, size_t len)
{
	struct rules *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->attached = true;
	if (rimg_check(img, len, &r->m) != 0 ||
	    r->m.h->nproxies != cfg->nproxies ||
	    r->m.h->proxy_sum != rimg_proxy_sum(cfg) ||
	    r->m.h->rules.n != r->m.h->nrules) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->made_len = ((size_t)r->m.h->nrules + 1) * sizeof(*r->made);
	r->made = mmap(NULL, r->made_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->made == MAP_FAILED) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

bool
rules_localhost_default(const struct rules *r)
{
	/* "*" never matches loopback: only a rule naming it can */
	return r->m.h->lh_named == 0;
}

bool
rules_direct(const struct rules *r, int family, const uint8_t *addr,
	     uint16_t port)
{
	return rfast_direct(&r->m, family, addr, port, r->cfg->strict);
}

void
rules_free(struct rules *r)
{
	struct chunk *c;

	if (r == NULL)
		return;
	if (r->made != NULL)
		munmap(r->made, r->made_len);
	while (r->chunks != NULL) {
		c = r->chunks;
		r->chunks = c->next;
		munmap(c, CHUNK_SIZE);
	}
	free(r->own);
	free(r);
}

/*
 * Rule i as a cfg_rule.  Attached, it is made once; a thread that loses
 * the race to install it leaves its copy in the chunk.  NULL when the record does not
 * check out (or no memory): the caller fails closed.
 */
static const struct cfg_rule *
rules_rule(const struct rules *r, uint32_t i)
{
	struct cfg_rule *n, *old = NULL;

	if (!r->attached)
		return i < r->cfg->nrules ? &r->cfg->rules[i] : NULL;
	if (i >= r->m.h->nrules)
		return NULL;
	n = __atomic_load_n(&r->made[i], __ATOMIC_ACQUIRE);
	if (n != NULL)
		return n;
	n = made_alloc(r, sizeof(*n));
	if (n == NULL || rimg_rule(&r->m, i, r->cfg, n) != 0)
		return NULL;	/* a chunk's slot is not given back */
	if (!__atomic_compare_exchange_n(&r->made[i], &old, n, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return old;
	return n;
}

/*
 * Turn the best specific match and the "*" match into a decision: a
 * specific rule wins over the loopback default, "*" does not.  A damaged
 * image's answer blocks.
 */
static void
rules_finish(const struct rules *r, uint32_t best, bool loopback,
	     uint16_t port, struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->index = RULES_NO_INDEX;
	if (best == RIMG_NONE && loopback) {
		d->action = CFG_DIRECT;
		d->loopback = true;
		return;
	}
	if (!loopback) {
		uint32_t any = rimg_any(&r->m, port);

		if (any < best)
			best = any;
	}
	if (best == RIMG_NONE) {
		d->action = r->cfg->strict ? CFG_BLOCK : CFG_DIRECT;
		return;
	}
	d->rule = best != RIMG_BAD ? rules_rule(r, best) : NULL;
	if (d->rule == NULL) {
		d->action = CFG_BLOCK;
		return;
	}
	d->index = best;
	d->action = d->rule->action;
}

#define KIND(k) (1u << (k))

void
rules_decide_addr(const struct rules *r, int family, const uint8_t *addr,
		  uint16_t port, struct decision *d)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	static const uint8_t v6lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0, 0, 0, 1 };
	uint8_t key[RIMG_CIDR_KEY];
	const uint8_t *lens;
	uint32_t best = RIMG_NONE, m;
	size_t i, nlens;
	bool loopback;

	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		loopback = addr[0] == 127;
		lens = r->m.h->v4len;
		nlens = r->m.h->nv4len;
	} else if (family == AF_INET6) {
		loopback = memcmp(addr, v6lo, sizeof(v6lo)) == 0;
		lens = r->m.h->v6len;
		nlens = r->m.h->nv6len;
	} else {
		/* Not an IP family: only the default can decide. */
		rules_finish(r, RIMG_NONE, false, port, d);
		return;
	}
	for (i = 0; i < nlens; i++) {
		rimg_cidr_key(key, family, lens[i], addr);
		m = rimg_find(&r->m, true, key, sizeof(key),
			      KIND(DEST_CIDR), port);
		if (m < best)
			best = m;
	}
	rules_finish(r, best, loopback, port, d);
}

/* An address literal (IPv6 perhaps in brackets) is decided as an address. */
static bool
rules_literal(const struct rules *r, const char *name, size_t len,
	      uint16_t port, struct decision *d)
{
	char buf[64];
	uint8_t a[16];
	size_t i;

	if (len >= sizeof(buf))
		return false;
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
		name++;
		len -= 2;
	}
	/* inet_pton takes only digits and dots for IPv4, and an IPv6
	 * address has a ':': a name like most is neither, without asking */
	for (i = 0; i < len && ((name[i] >= '0' && name[i] <= '9') ||
				name[i] == '.'); i++)
		;
	if (i < len && memchr(name, ':', len) == NULL)
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		rules_decide_addr(r, AF_INET, a, port, d);
		return true;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		rules_decide_addr(r, AF_INET6, a, port, d);
		return true;
	}
	return false;
}

void
rules_decide_name(const struct rules *r, const char *name, uint16_t port,
		  struct decision *d)
{
	static const char lh[] = "localhost";
	char q[RIMG_KEY_MAX];
	size_t len = strlen(name), i;
	uint32_t best = RIMG_NONE, m;
	bool loopback;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (rules_literal(r, name, len, port, d))
		return;
	if (len >= sizeof(q)) {
		/* Longer than any DNS name: no name rule can match. */
		rules_finish(r, RIMG_NONE, false, port, d);
		return;
	}
	for (i = 0; i < len; i++)
		q[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
			(char)(name[i] - 'A' + 'a') : name[i];
	q[len] = '\0';
	loopback = strcmp(q, lh) == 0 ||
		   (len > sizeof(lh) && q[len - sizeof(lh)] == '.' &&
		    strcmp(q + len - (sizeof(lh) - 1), lh) == 0);
	if (r->m.h->name_ents.n > 0) {
		best = rimg_find(&r->m, false, (const uint8_t *)q, len,
				 KIND(DEST_NAME) | KIND(DEST_SUFFIX), port);
		for (i = 0; i < len; i++) {
			if (q[i] != '.' || i + 1 >= len)
				continue;
			m = rimg_find(&r->m, false,
				      (const uint8_t *)q + i + 1, len - i - 1,
				      KIND(DEST_SUFFIX) | KIND(DEST_GLOB),
				      port);
			if (m < best)
				best = m;
		}
	}
	rules_finish(r, best, loopback, port, d);
}

void
rules_why(const char *file, const struct decision *dec, bool broken,
	  char *buf, size_t n)
{
	if (dec->rule != NULL && dec->rule->line == 0)
		snprintf(buf, n, "-p: %s", dec->rule->text);
	else if (dec->rule != NULL)
		snprintf(buf, n, "%s:%d %s", file, dec->rule->line,
			 dec->rule->text);
	else if (broken)
		snprintf(buf, n, "configuration unusable");
	else if (dec->loopback)
		snprintf(buf, n, "loopback default");
	else if (dec->stale_fake)
		snprintf(buf, n, "fake address not in this session's table");
	else if (dec->action == CFG_BLOCK)
		snprintf(buf, n, "no rule matched, strict");
	else
		snprintf(buf, n, "no rule matched");
}
