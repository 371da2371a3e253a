/*
 * sockfit.h - make the application's socket fit the first proxy's
 * address family.
 *
 * A dual-stack AF_INET6 socket reaches an IPv4 proxy through a v4-mapped
 * address.  An IPV6_V6ONLY one (Ruby, servers) cannot, nor can an AF_INET
 * socket reach an IPv6 proxy: those get a socket of the proxy's family in
 * their place, on the same fd number, with the options, flags and local
 * port carried over.  What cannot be carried (a bound address of the other
 * family) is refused with the errno the kernel gives for it, and a reason
 * that names the socket's real limit.
 */
#ifndef PROXYWRAP_SOCKFIT_H
#define PROXYWRAP_SOCKFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum sockfit_how {
	SOCKFIT_SAME,		/* families match: connect as it is */
	SOCKFIT_MAP,		/* AF_INET6 socket, IPv4 proxy: ::ffff:a.b.c.d */
	SOCKFIT_REPLACE,	/* a new socket of the proxy's family */
	SOCKFIT_CANNOT,		/* err, and why */
};

struct sockfit_plan {
	enum sockfit_how how;
	int family;			/* REPLACE: the new socket's */
	bool v6only;			/* REPLACE to AF_INET6: set IPV6_V6ONLY */
	struct sockaddr_storage bind;	/* REPLACE: bind here first ... */
	socklen_t bindlen;		/* ... when not 0 (a port to keep) */
	int err;			/* CANNOT: errno (positive) */
	char why[96];			/* CANNOT: "IPv6-only socket bound to
					 * [::1]:4000" */
};

/*
 * Pure: what to do with a socket whose local address is `own` (its
 * getsockname(), family and port 0 when unbound), IPV6_V6ONLY `v6only`,
 * facing a proxy of `proxyfam`.
 */
void sockfit_decide(const struct sockaddr *own, socklen_t ownlen, bool v6only,
		    int proxyfam, struct sockfit_plan *p);

/*
 * Fit fd to the proxy address *ss (rewritten to v4-mapped for MAP).
 * Returns 0, 1 when the socket was replaced, or -errno; for 1 and -errno
 * why[] says what happened, for the caller to name the proxy after it
 * ("IPv6-only socket bound to [::1]:4000 cannot reach IPv4 proxy").
 */
int sockfit_apply(int fd, struct sockaddr_storage *ss, socklen_t *len,
		  char *why, size_t n);

#endif
