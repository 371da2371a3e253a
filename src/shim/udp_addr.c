/*
 * udp_addr.c - the addresses and buffers the UDP files share
 * (udp_int.h): comparing peers and destinations, a sockaddr for a
 * socket's family, a message's bytes.  No state, no I/O.
 */
#include "udp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* family/addr/port as a sockaddr for a socket of family sfam (IPv4 as
 * v4-mapped on an IPv6 socket).  0 or -EAFNOSUPPORT. */
int
udp_sockaddr_for(int sfam, int family, const uint8_t *addr, uint16_t port,
	     struct sockaddr_storage *ss, socklen_t *len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (sfam == AF_INET && family == AF_INET) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (sfam != AF_INET6)
		return -EAFNOSUPPORT;
	s6->sin6_family = AF_INET6;
	if (family == AF_INET) {
		memcpy(s6->sin6_addr.s6_addr, mapped, 12);
		memcpy(s6->sin6_addr.s6_addr + 12, addr, 4);
	} else {
		memcpy(&s6->sin6_addr, addr, 16);
	}
	s6->sin6_port = htons(port);
	*len = sizeof(*s6);
	return 0;
}

/* Same address and port (sockaddrs of one family). */
bool
udp_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->ss_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
	       IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr);
}

bool
udp_same_dest(const struct tun_dest *a, const struct tun_dest *b)
{
	if (a->port != b->port || strcmp(a->name, b->name) != 0)
		return false;
	return a->name[0] != '\0' ||
	       (a->family == b->family &&
		memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0);
}

size_t
udp_iov_gather(const struct msghdr *m, uint8_t *to, size_t max)
{
	size_t k, c, done = 0;

	for (k = 0; k < m->msg_iovlen && done < max; k++) {
		c = m->msg_iov[k].iov_len < max - done ?
		    m->msg_iov[k].iov_len : max - done;
		memcpy(to + done, m->msg_iov[k].iov_base, c);
		done += c;
	}
	return done;
}

size_t
udp_iov_total(const struct msghdr *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->msg_iovlen; i++)
		n += m->msg_iov[i].iov_len;
	return n;
}
