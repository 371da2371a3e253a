/*
 * tunnel_pp.c - the PROXY protocol header a rule asks for, queued once
 * every hop said yes (proxy_proto.c builds it).  tunnel.c calls
 * tun_finish (tunnel_int.h).
 */
#include "tunnel_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addrnames.h"
#include "fakedns.h"
#include "proxy_proto.h"

/* An IPv4-mapped IPv6 address as the IPv4 address it is. */
static void
pp_unmap(int *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (*family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
}

/*
 * The PROXY protocol header (HAProxy's proxy-protocol.txt) for t into
 * out[]: source = pp_source, else this socket's own local address (what
 * the destination cannot see behind a proxy); destination = the address
 * the application connected to, and for v2 the name it asked for, if
 * any, in an AUTHORITY TLV.  Never LOCAL: this is a real connection.
 */
static int
pp_build(struct tun *t)
{
	const struct cfg_rule *r = t->rule;
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof(own);
	struct pp_addrs a;
	char name[URL_HOST_MAX];

	memset(&a, 0, sizeof(a));
	if (r->pp_src_family != 0) {
		a.src_family = r->pp_src_family;
		memcpy(a.src, r->pp_src, sizeof(a.src));
		a.src_port = r->pp_src_port;
	} else if (getsockname(t->fd, (struct sockaddr *)&own, &ownlen) == -1) {
		return tun_fail(t, -errno, "proxy_protocol: getsockname: %s",
				strerror(errno));
	} else if (own.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&own;

		a.src_family = AF_INET;
		memcpy(a.src, &s4->sin_addr, 4);
		a.src_port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&own;

		a.src_family = AF_INET6;
		memcpy(a.src, &s6->sin6_addr, 16);
		a.src_port = ntohs(s6->sin6_port);
	}
	a.dst_family = t->dst.family;
	memcpy(a.dst, t->dst.addr, sizeof(a.dst));
	a.dst_port = t->dst.port;
	pp_unmap(&a.src_family, a.src);
	pp_unmap(&a.dst_family, a.dst);
	snprintf(name, sizeof(name), "%s", t->dst.name);
	if (name[0] == '\0' &&
	    !anames_get(t->dst.family, t->dst.addr, name, sizeof(name)))
		name[0] = '\0';
	if (r->pp_version == 1) {
		/* config.c refuses v1 where names resolve remotely; a fake
		 * address must still never be sent as if it were real */
		if (t->dst.name[0] != '\0' &&
		    fdns_is_fake(t->dst.family, t->dst.addr))
			return tun_fail(t, -EINVAL, "proxy_protocol=v1 cannot "
					"carry the name %s (only v2 can)",
					t->dst.name);
		return pp_build_v1(&a, t->out, sizeof(t->out));
	}
	return pp_build_v2(&a, name[0] != '\0' ? name : NULL, t->out,
			   sizeof(t->out));
}

/* Every hop said yes: the PROXY protocol header if the rule asks, then
 * done.  It is the first thing the destination reads. */
int
tun_finish(struct tun *t)
{
	int len;

	if (t->rule->pp_version == 0 || t->pp_len > 0 || t->udp) {
		t->state = TUN_DONE;
		return 0;
	}
	len = pp_build(t);
	if (t->state == TUN_FAILED)
		return t->err;
	if (len <= 0)
		return tun_fail(t, -EINVAL, "cannot build the PROXY protocol "
				"header");
	t->pp_len = len;
	queue(t, len, TUN_DONE);
	return 0;
}
