/*
 * route_fast.c - route_fast_name (route.h): the connects and datagrams
 * no rule sends anywhere but direct, told without the rule decision.
 */
#include "route.h"

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
