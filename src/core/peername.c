/*
 * peername.c - destinations in the kernel's getpeername form
 * (peername.h).  Pure.
 */
#include "peername.h"

#include <netinet/in.h>
#include <string.h>


/* ipv6_iface_scope_id: the kernel reports a scope only for an address
 * that needs one (link-local unicast, interface- and link-local
 * multicast). */
static bool
needs_scope(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_LINKLOCAL(a) ||
	       IN6_IS_ADDR_MC_NODELOCAL(a);
}

socklen_t
peer_kernel_form(const void *sa, socklen_t len, struct sockaddr_storage *out)
{
	struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)out;
	sa_family_t family;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(family))
		return 0;
	memcpy(&family, sa, sizeof(family));
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(out, sa, sizeof(struct sockaddr_in));
		memset(((struct sockaddr_in *)out)->sin_zero, 0, 8);
		return sizeof(struct sockaddr_in);
	}
	if (family != AF_INET6 || len < offsetof(struct sockaddr_in6,
						 sin6_scope_id))
		return 0;
	memcpy(out, sa, len < sizeof(*o6) ? len : sizeof(*o6));
	o6->sin6_flowinfo = 0;
	if (!needs_scope(&o6->sin6_addr))
		o6->sin6_scope_id = 0;
	return sizeof(*o6);
}

bool
peer_is_kernel_form(const void *p, size_t n)
{
	struct sockaddr_storage ss;

	if (n > sizeof(ss))
		return false;
	return peer_kernel_form(p, (socklen_t)n, &ss) == n &&
	       memcmp(&ss, p, n) == 0;
}

void
peer_hex(const struct sockaddr_storage *sa, socklen_t len,
	 char out[PEER_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = (const unsigned char *)sa;
	size_t i;

	if (len > (PEER_HEX_MAX - 1) / 2)
		len = 0;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * i] = '\0';
}

/* A lowercase hex digit's value, or -1: peer_hex writes lowercase, and
 * the relay's line takes only what it writes. */
static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

socklen_t
peer_unhex(const char *s, size_t n, struct sockaddr_storage *out)
{
	unsigned char b[(PEER_HEX_MAX - 1) / 2] = { 0 };
	size_t i;
	int hi, lo;

	memset(out, 0, sizeof(*out));
	if (n % 2 != 0 || n / 2 > sizeof(b))
		return 0;
	for (i = 0; i < n / 2; i++) {
		hi = nibble(s[2 * i]);
		lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!peer_is_kernel_form(b, n / 2))
		return 0;
	memcpy(out, b, n / 2);
	return (socklen_t)(n / 2);
}

bool
peer_as_v4(const struct sockaddr_storage *ss, socklen_t len,
	   struct sockaddr_in *out)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (ss->ss_family == AF_INET && len >= sizeof(*out)) {
		out->sin_port = ((const struct sockaddr_in *)ss)->sin_port;
		out->sin_addr = ((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	if (ss->ss_family != AF_INET6 || len < sizeof(*s6) ||
	    !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return false;
	out->sin_port = s6->sin6_port;
	memcpy(&out->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	return true;
}
