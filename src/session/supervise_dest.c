/*
 * supervise_dest.c - what the address of a call means: the destination
 * in its bytes, and the two kinds of destination that pass without a
 * rule, because the shim itself connects to them for the programs it
 * routes: the proxies (TCP to their port; UDP to any port of their hosts,
 * where a SOCKS5 UDP relay is at a port of the proxy's choosing) and the
 * resolvers of resolv.conf at port 53, which the shim asks about local
 * names.  A program's own queries to those resolvers go to the
 * supervisor's DNS responder instead (supervise_dnsredir.c), which
 * decides each name as the shim would.
 */
#include "supervise_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#define SUP_ENDPOINTS_MAX 64

struct endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port;		/* 0: any */
	bool udp_only;
	bool resolver;		/* resolv.conf's, at port 53 */
};

static struct endpoint g_ep[SUP_ENDPOINTS_MAX];
static size_t g_nep;

static void
ep_add(int family, const void *addr, uint16_t port, bool udp_only)
{
	if (g_nep == SUP_ENDPOINTS_MAX)
		return;
	g_ep[g_nep].family = family;
	memcpy(g_ep[g_nep].addr, addr, family == AF_INET ? 4 : 16);
	g_ep[g_nep].port = port;
	g_ep[g_nep].udp_only = udp_only;
	g_nep++;
}

/* Every address of host (a literal, or a name looked up now): TCP to
 * port, UDP to any. */
static void
ep_host(const char *host, uint16_t port)
{
	const void *a4, *a6;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;

	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return;
	for (a = ai; a != NULL; a = a->ai_next) {
		a4 = &((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr;
		a6 = &((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr;
		if (a->ai_family == AF_INET) {
			ep_add(AF_INET, a4, port, false);
			ep_add(AF_INET, a4, 0, true);
		} else if (a->ai_family == AF_INET6) {
			ep_add(AF_INET6, a6, port, false);
			ep_add(AF_INET6, a6, 0, true);
		}
	}
	freeaddrinfo(ai);
}

static void
ep_resolver(int family, const uint8_t *a)
{
	size_t n = g_nep;

	ep_add(family, a, 53, false);
	if (g_nep > n)
		g_ep[n].resolver = true;
}

/* "nameserver ADDR" lines (resolv.conf(5)); others are not ours.  None:
 * the resolvers' own default, the local host (glibc, musl, Go). */
static void
ep_resolvers(void)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	char line[512], addr[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];
	FILE *f = fopen("/etc/resolv.conf", "re");
	bool any = false;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %46s", addr) != 1)
			continue;
		if (inet_pton(AF_INET, addr, a) == 1)
			ep_resolver(AF_INET, a);
		else if (inet_pton(AF_INET6, addr, a) == 1)
			ep_resolver(AF_INET6, a);
		else
			continue;
		any = true;
	}
	if (f != NULL)
		fclose(f);
	if (!any) {
		ep_resolver(AF_INET, lo4);
		ep_resolver(AF_INET6, lo6);
	}
}

void
sup_endpoints_init(const struct sup_policy *p)
{
	size_t i;

	for (i = 0; p->cfg != NULL && i < p->cfg->nproxies; i++)
		ep_host(p->cfg->proxies[i].url.host,
			p->cfg->proxies[i].url.port);
	ep_resolvers();
}

bool
sup_is_resolver(const struct sup_dest *d)
{
	size_t i;

	for (i = 0; i < g_nep && d->port == 53; i++)
		if (g_ep[i].resolver && g_ep[i].family == d->family &&
		    memcmp(g_ep[i].addr, d->addr,
			   d->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

bool
sup_endpoint(const struct sup_dest *d, const char *proto)
{
	bool udp = strcmp(proto, "udp") == 0;
	size_t i;

	for (i = 0; i < g_nep; i++)
		if (g_ep[i].family == d->family && (udp || !g_ep[i].udp_only) &&
		    (g_ep[i].port == 0 || g_ep[i].port == d->port) &&
		    memcmp(g_ep[i].addr, d->addr,
			   d->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

void
sup_dest_of(const uint8_t *sa, size_t len, int domain, bool send,
	    struct sup_dest *d)
{
	sa_family_t fam;

	memset(d, 0, sizeof(*d));
	/* only an IP socket reaches an IP destination (AF_UNIX's connect
	 * says EINVAL to an AF_INET address) */
	if (len < sizeof(fam) || (domain != AF_INET && domain != AF_INET6))
		return;
	memcpy(&fam, sa, sizeof(fam));
	/* udp_sendmsg and raw_sendmsg take AF_UNSPEC as AF_INET */
	if (fam == AF_UNSPEC && send && domain == AF_INET)
		fam = AF_INET;
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		d->family = AF_INET;
		memcpy(d->addr, sa + 4, 4);
	} else if (fam == AF_INET6 && len >= 24) {	/* SIN6_LEN_RFC2133 */
		d->family = AF_INET6;
		memcpy(d->addr, sa + 8, 16);
	} else {
		return;
	}
	d->port = (uint16_t)(sa[2] << 8 | sa[3]);
}
