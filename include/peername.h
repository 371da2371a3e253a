/*
 * peername.h - a destination as the kernel's getpeername would give it,
 * for a tunnelled socket whose kernel peer is a proxy or the TLS relay:
 * the shim's hook, the relay's table (asked after exec) and the
 * supervisor all answer with this one form.  Pure.
 */
#ifndef PROXYWRAP_PEERNAME_H
#define PROXYWRAP_PEERNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define PEER_HEX_MAX (2 * 28 + 1)	/* a sockaddr_in6 in hex, and NUL */

/*
 * sa[0..len) (AF_INET or AF_INET6, as connect() took it) into *out as
 * inet_getname / inet6_getname fill it: a whole sockaddr_in (sin_zero
 * zeroed) or sockaddr_in6 (RFC 2133's 24 bytes grow to 28, flowinfo 0,
 * a scope id only for an address that needs one).  Its length, or 0 for
 * another family.
 */
socklen_t peer_kernel_form(const void *sa, socklen_t len,
			   struct sockaddr_storage *out);

/* Is p[0..n) an address in that form (what a peer may be told)? */
bool peer_is_kernel_form(const void *p, size_t n);

/* The form's bytes as lowercase hex into out[PEER_HEX_MAX]; and back:
 * the length, or 0 unless s[0..n) is the hex of a kernel form. */
void peer_hex(const struct sockaddr_storage *sa, socklen_t len,
	      char out[PEER_HEX_MAX]);
socklen_t peer_unhex(const char *s, size_t n, struct sockaddr_storage *out);

/* A socket's own address as the relay (which listens on IPv4) sees it:
 * an IPv4 one, or an IPv6 socket's v4-mapped one unmapped, into *out
 * (sin_zero zeroed).  false for anything else. */
bool peer_as_v4(const struct sockaddr_storage *ss, socklen_t len,
		struct sockaddr_in *out);

#endif
