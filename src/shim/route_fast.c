/*
 * route_fast.c - route_fast_direct (route.h): the connects and datagrams
 * no rule sends anywhere but direct, told without the rule decision.
 */
#include "route.h"

#include <arpa/inet.h>
#include <string.h>

#include "addrnames.h"
#include "fakedns.h"
#include "shim.h"

/*
 * The last destination this thread found direct in the tables: a program
 * that connects to one server again and again then pays a compare.  The
 * rules and the fake pools never change in a process; the address-name
 * map may, so its generation is part of the key.
 */
struct fast_memo {
	uint64_t w[3];		/* the address (IPv4 in w[0]), then
				 * anames_gen() + 1 | family << 32 |
				 * port << 48; 0: empty */
};

static __thread struct fast_memo fmemo
	__attribute__((tls_model("initial-exec")));

/* A memo miss: the tables, and what they leave to the caller. */
static __attribute__((noinline)) bool
fast_lookup(int family, const uint8_t *addr, uint16_t port,
	    const struct fast_memo *k)
{
	const struct shim *s = shim_get();

	if (!s->fast || !rules_direct(s->rules, family, addr, port) ||
	    fdns_maybe_fake(family, addr) || anames_maybe(family, addr))
		return false;
	fmemo = *k;
	return true;
}

bool
route_fast_direct(int family, const uint8_t *addr, uint16_t port)
{
	struct fast_memo k;
	uint32_t a4;

	k.w[1] = 0;
	if (family == AF_INET) {
		memcpy(&a4, addr, 4);
		k.w[0] = a4;
	} else {
		memcpy(&k.w[0], addr, 8);
		memcpy(&k.w[1], addr + 8, 8);
	}
	k.w[2] = (uint64_t)(anames_gen() + 1) | (uint64_t)family << 32 |
		 (uint64_t)port << 48;
	/* an entry is made only where shim.fast holds */
	if (k.w[0] == fmemo.w[0] && k.w[1] == fmemo.w[1] &&
	    k.w[2] == fmemo.w[2])
		return true;
	return fast_lookup(family, addr, port, &k);
}

bool
route_fast_sa(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && len >= sizeof(*s4))
		return route_fast_direct(AF_INET,
					 (const uint8_t *)&s4->sin_addr,
					 ntohs(s4->sin_port));
	if (sa->sa_family == AF_INET6 && len >= SIN6_LEN_RFC2133)
		return route_fast_direct(AF_INET6, s6->sin6_addr.s6_addr,
					 ntohs(s6->sin6_port));
	return false;
}
