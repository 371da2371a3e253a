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

__thread struct route_memo route_memo
	__attribute__((tls_model("initial-exec")));

bool
route_fast_lookup(int family, const uint8_t *addr, uint16_t port,
		  const struct route_memo *k)
{
	const struct shim *s = shim_get();

	if (!s->fast || !rules_direct(s->rules, family, addr, port) ||
	    fdns_maybe_fake(family, addr) || anames_maybe(family, addr))
		return false;
	route_memo = *k;
	return true;
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
