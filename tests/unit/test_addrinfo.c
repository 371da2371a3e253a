/*
 * test_addrinfo.c - lists built by addrinfo_build against glibc itself.
 *
 * For numeric hosts glibc's getaddrinfo is the reference: for every
 * combination of family, socktype, protocol, service and flags we ask glibc
 * for the literal, and we build the same answer from the literal's address
 * plus the template glibc gives for "0.0.0.0" (what the hooks do for a
 * name), and compare node by node.  The lists are freed with glibc's
 * freeaddrinfo, so ASan checks the layout too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "addrinfo.h"

static const char *const nodes[] = { "198.18.0.1", "2001:db8::7" };
static const char *const services[] = { NULL, "80", "0", "65535", "http",
					"domain", "ssh", "no-such-svc", "x1",
					"70000" };
static const int families[] = { AF_UNSPEC, AF_INET, AF_INET6 };
static const int socktypes[] = { 0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
				 SOCK_SEQPACKET, 99 };
static const int protocols[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
static const int flagbits[] = { AI_PASSIVE, AI_CANONNAME, AI_V4MAPPED,
				AI_ALL, AI_NUMERICSERV };

static void
lit_addr(const char *s, struct addrinfo_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, a->addr), 1);
	a->family = AF_INET6;
}

/* What the hooks do for a name whose addresses are addrs[0..n). */
static int
ours(const struct addrinfo_addr *addrs, size_t n, const char *service,
     const struct addrinfo *hints, const char *canon, struct addrinfo **out)
{
	struct addrinfo th, *tmpl;
	int rc;

	addrinfo_tmpl_hints(hints, &th);
	rc = getaddrinfo("0.0.0.0", service, &th, &tmpl);
	if (rc != 0)
		return rc;
	rc = addrinfo_build(addrs, n, tmpl, hints, canon, out);
	freeaddrinfo(tmpl);
	return rc;
}

static void
same_list(const struct addrinfo *a, const struct addrinfo *b,
	  const char *what)
{
	int i = 0;

	for (; a != NULL && b != NULL; a = a->ai_next, b = b->ai_next, i++) {
		if (a->ai_flags != b->ai_flags || a->ai_family != b->ai_family ||
		    a->ai_socktype != b->ai_socktype ||
		    a->ai_protocol != b->ai_protocol ||
		    a->ai_addrlen != b->ai_addrlen ||
		    memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) != 0 ||
		    (a->ai_canonname == NULL) != (b->ai_canonname == NULL) ||
		    (a->ai_canonname != NULL &&
		     strcmp(a->ai_canonname, b->ai_canonname) != 0))
			fail_msg("%s: node %d differs", what, i);
	}
	if (a != NULL || b != NULL)
		fail_msg("%s: lengths differ at node %d", what, i);
}

static void
test_every_hint_against_glibc(void **state)
{
	struct addrinfo h, *g, *o;
	struct addrinfo_addr a;
	size_t ni, si, fi, ti, pi;
	int mask, rg, ro, cases = 0;
	char what[256];

	(void)state;
	for (ni = 0; ni < 2; ni++)
	for (si = 0; si < sizeof(services) / sizeof(services[0]); si++)
	for (fi = 0; fi < 3; fi++)
	for (ti = 0; ti < sizeof(socktypes) / sizeof(socktypes[0]); ti++)
	for (pi = 0; pi < sizeof(protocols) / sizeof(protocols[0]); pi++)
	for (mask = 0; mask < 1 << 5; mask++) {
		memset(&h, 0, sizeof(h));
		h.ai_family = families[fi];
		h.ai_socktype = socktypes[ti];
		h.ai_protocol = protocols[pi];
		for (int b = 0; b < 5; b++)
			if (mask & 1 << b)
				h.ai_flags |= flagbits[b];
		snprintf(what, sizeof(what), "%s/%s fam=%d st=%d pr=%d fl=%#x",
			 nodes[ni], services[si] ? services[si] : "NULL",
			 h.ai_family, h.ai_socktype, h.ai_protocol,
			 h.ai_flags);
		lit_addr(nodes[ni], &a);
		rg = getaddrinfo(nodes[ni], services[si], &h, &g);
		ro = ours(&a, 1, services[si], &h, nodes[ni], &o);
		/* a literal of the other family is EAI_ADDRFAMILY; a name
		 * without addresses of that family is EAI_NODATA */
		if (rg == EAI_ADDRFAMILY)
			rg = EAI_NODATA;
		if (rg != ro)
			fail_msg("%s: glibc %d, ours %d", what, rg, ro);
		if (rg == 0) {
			same_list(g, o, what);
			freeaddrinfo(g);
			freeaddrinfo(o);
		}
		cases++;
	}
	assert_true(cases > 10000);
}

/* hints == NULL means AI_V4MAPPED|AI_ADDRCONFIG, AF_UNSPEC, any type. */
static void
test_null_hints(void **state)
{
	struct addrinfo_addr a[2];
	struct addrinfo *g, *o;

	(void)state;
	lit_addr("198.18.0.1", &a[0]);
	assert_int_equal(getaddrinfo("198.18.0.1", "443", NULL, &g), 0);
	assert_int_equal(ours(a, 1, "443", NULL, NULL, &o), 0);
	same_list(g, o, "null hints");
	freeaddrinfo(g);
	freeaddrinfo(o);

	/* two families, service NULL: address-major order, port 0 */
	lit_addr("2001:db8::1", &a[1]);
	assert_int_equal(ours(a, 2, NULL, NULL, NULL, &o), 0);
	assert_int_equal(o->ai_family, AF_INET);
	assert_int_equal(o->ai_next->ai_next->ai_next->ai_family, AF_INET6);
	assert_null(o->ai_next->ai_next->ai_next->ai_next->ai_next->ai_next);
	freeaddrinfo(o);
}

static void
test_v4mapped_names(void **state)
{
	struct addrinfo_addr a[2];
	struct addrinfo h = { .ai_family = AF_INET6,
			      .ai_socktype = SOCK_STREAM }, *o, *p;
	struct addrinfo tmpl = { .ai_socktype = SOCK_STREAM,
				 .ai_protocol = IPPROTO_TCP };
	int n;

	(void)state;
	lit_addr("198.18.0.1", &a[0]);
	lit_addr("2001:db8::1", &a[1]);
	/* v6 exists: V4MAPPED alone gives only it */
	h.ai_flags = AI_V4MAPPED;
	assert_int_equal(addrinfo_build(a, 2, &tmpl, &h, NULL, &o), 0);
	assert_null(o->ai_next);
	freeaddrinfo(o);
	/* with AI_ALL both, the v4 one mapped */
	h.ai_flags = AI_V4MAPPED | AI_ALL | AI_CANONNAME;
	assert_int_equal(addrinfo_build(a, 2, &tmpl, &h, "c.example", &o), 0);
	for (n = 0, p = o; p != NULL; p = p->ai_next, n++)
		assert_int_equal(p->ai_family, AF_INET6);
	assert_int_equal(n, 2);
	assert_string_equal(o->ai_canonname, "c.example");
	assert_null(o->ai_next->ai_canonname);
	freeaddrinfo(o);
	/* no v6 and no V4MAPPED: no data */
	h.ai_flags = 0;
	assert_int_equal(addrinfo_build(a, 1, &tmpl, &h, NULL, &o),
			 EAI_NODATA);
	h.ai_family = AF_UNIX;
	assert_int_equal(addrinfo_build(a, 1, &tmpl, &h, NULL, &o),
			 EAI_FAMILY);
}

static void
test_hostent(void **state)
{
	struct addrinfo_addr a[3];
	struct hostent h;
	char buf[512];
	size_t need;
	int rc;

	(void)state;
	lit_addr("198.18.0.1", &a[0]);
	lit_addr("2001:db8::1", &a[1]);
	lit_addr("198.18.0.2", &a[2]);
	assert_int_equal(addrinfo_hostent("h.example", AF_INET, 0, a, 3, &h,
					  buf, sizeof(buf)), 0);
	assert_string_equal(h.h_name, "h.example");
	assert_int_equal(h.h_length, 4);
	assert_int_equal(h.h_addrtype, AF_INET);
	assert_memory_equal(h.h_addr_list[0], a[0].addr, 4);
	assert_memory_equal(h.h_addr_list[1], a[2].addr, 4);
	assert_null(h.h_addr_list[2]);
	assert_null(h.h_aliases[0]);
	assert_int_equal(addrinfo_hostent("h.example", AF_INET6, 0, a, 3, &h,
					  buf, sizeof(buf)), 0);
	assert_memory_equal(h.h_addr_list[0], a[1].addr, 16);
	assert_null(h.h_addr_list[1]);
	assert_int_equal(addrinfo_hostent("h.example", AF_INET6, 0, a, 1, &h,
					  buf, sizeof(buf)), -ENOENT);
	/* every size below the need is ERANGE, at any alignment */
	for (need = 0; need < 200; need++) {
		rc = addrinfo_hostent("h.example", AF_INET, 0, a, 3, &h,
				      buf + 1, need);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ERANGE);
	}
	assert_true(need < 200);
	assert_int_equal((uintptr_t)h.h_addr_list % sizeof(char *), 0);
	assert_true(h.h_name + strlen(h.h_name) + 1 <= buf + 1 + need);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_hint_against_glibc),
		cmocka_unit_test(test_null_hints),
		cmocka_unit_test(test_v4mapped_names),
		cmocka_unit_test(test_hostent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
