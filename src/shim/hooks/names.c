/*
 * names.c - the name-resolution interposers.
 *
 * For each name: the first matching rule decides.
 *   block                       fail as glibc fails for a name that does
 *                               not exist (EAI_NONAME / HOST_NOT_FOUND),
 *                               without any query, and log one line
 *   via a socks5h:// or http://  one fake address from the session table
 *   proxy (remote DNS)          (dnsp_fake_addrs() says which family); no
 *                               query at all: connect() maps it back
 *   anything else               resolved locally (dns.c, c-ares)
 * Answers are not filtered by IP rules here: connect() decides by address.
 * Literals, a NULL node, other families and calls made while the shim is
 * itself inside libc (shim_internal()) go to the real functions untouched.
 * getnameinfo/gethostbyaddr answer a fake address with its name, and
 * send a PTR query only for an address whose rule is direct (others get
 * the answer of an address without a name).  Names under ".localhost"
 * are loopback without a query (RFC 6761); names glibc would not send to
 * a server (res_hnok: a space, a newline, a ';') fail as in glibc.
 * Which query may leave is decided in dnspolicy.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrinfo.h"
#include "addrnames.h"
#include "dns.h"
#include "dnsmsg.h"
#include "dnspolicy.h"
#include "fakedns.h"
#include "names.h"
#include "guard.h"
#include "log.h"
#include "real.h"
#include "route.h"
#include "shim.h"

#define HOOK __attribute__((visibility("default")))
#define HOSTENT_BUF 2048	/* per-thread buffer of the non-_r calls */

/* Lowercase, trailing dot dropped; false when it cannot be a DNS name. */
static bool
name_key(const char *name, char *out, size_t n)
{
	size_t len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= n || len > FDNS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return true;
}

/* A literal glibc refused (AI_ADDRCONFIG): never a name to look up. */
static bool
is_literal(const char *node)
{
	uint8_t a[16];

	return inet_pton(AF_INET, node, a) == 1 ||
	       inet_pton(AF_INET6, node, a) == 1;
}

/*
 * Could glibc parse this as an address (inet_aton's 127.1 and 0x7f.1,
 * IPv6 with a %scope)?  Names that cannot skip glibc's numeric pass: with
 * AI_ADDRCONFIG it takes a process-wide lock (check_pf.c) that a fork()
 * in another thread leaves held in the child, so the fewer calls the
 * better.
 */
static bool
maybe_numeric(const char *node)
{
	const char *p;

	if (strchr(node, ':') != NULL)
		return true;
	for (p = node; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p) && *p != '.' && *p != 'x' &&
		    *p != 'X')
			return false;
	return true;
}

static void
log_fake(const char *key, const struct addrinfo_addr *a, size_t n)
{
	char s[INET6_ADDRSTRLEN] = "";

	if (!log_enabled(LOG_INFO) || n == 0)
		return;
	inet_ntop(a[0].family, a[0].addr, s, sizeof(s));
	log_msg(LOG_INFO, "dns %s: remote (fake %s)", key, s);
}

/* Remember which name the answers came from, for connect()'s rules. */
static void
remember(const char *key, const struct dns_answer *ans)
{
	size_t i;

	for (i = 0; i < ans->n; i++)
		anames_put(ans->addrs[i].family, ans->addrs[i].addr, key);
}

/* glibc's AI_ADDRCONFIG narrowing; EAI_NONAME when nothing can work. */
static int
addrconfig(int flags, int *family)
{
	bool v4, v6;

	if (!(flags & AI_ADDRCONFIG))
		return 0;
	dns_addrconfig(&v4, &v6);
	if (*family == AF_UNSPEC && v4 != v6)
		*family = v4 ? AF_INET : AF_INET6;
	else if ((*family == AF_INET && !v4) || (*family == AF_INET6 && !v6))
		return EAI_NONAME;
	return 0;
}

static int
lookup_name(const char *node, const char *service,
	    const struct addrinfo *hints, struct addrinfo **res,
	    bool defer_local)
{
	struct addrinfo th, *tmpl = NULL;
	struct dns_answer ans;
	int rc, family = hints != NULL ? hints->ai_family : AF_UNSPEC;
	int flags = hints != NULL ? hints->ai_flags : ADDRINFO_DEFAULT_FLAGS;
	uint16_t port = 0;
	char key[FDNS_NAME_MAX + 1];

	/* glibc checks the service before any lookup: so do we */
	addrinfo_tmpl_hints(hints, &th);
	rc = real_getaddrinfo("0.0.0.0", service, &th, &tmpl);
	if (rc != 0) {
		/* glibc's AI_ADDRCONFIG refusal comes before its service
		 * check */
		if (addrconfig(flags, &family) == EAI_NONAME)
			rc = EAI_NONAME;
		return rc;
	}
	if (tmpl->ai_addr != NULL)
		port = ntohs(((struct sockaddr_in *)(void *)tmpl->ai_addr)
				     ->sin_port);
	/* a name glibc would not send to a server (a space, a newline, a
	 * ';'): glibc's answer, and neither c-ares nor a proxy gets it */
	if (!name_key(node, key, sizeof(key)) || !dnsmsg_hnok(node)) {
		rc = EAI_NONAME;
		goto out;
	}
	switch (dnsp_route_name(node, port)) {
	case ROUTE_BLOCK:
		rc = EAI_NONAME;
		break;
	case ROUTE_FAKE:
		rc = dnsp_fake_addrs(key, family, ans.addrs, &ans.n);
		if (rc == 0) {
			log_fake(key, ans.addrs, ans.n);
			rc = addrinfo_build(ans.addrs, ans.n, tmpl, hints, key,
					    res);
		}
		break;
	case ROUTE_LOCAL:
		if (dnsp_under_localhost(key)) {
			/* RFC 6761 §6.3: loopback, never a query */
			ans.n = dnsp_loopback(family, ans.addrs);
			rc = addrinfo_build(ans.addrs, ans.n, tmpl, hints, key,
					    res);
			break;
		}
		if (defer_local) {
			rc = HOOKS_DNS_DEFER;
			break;
		}
		rc = addrconfig(flags, &family);
		if (rc != 0)
			break;
		/* v4-mapped answers need the A records too */
		if (family == AF_INET6 && (flags & AI_V4MAPPED))
			family = AF_UNSPEC;
		rc = dns_resolve(node, family, &ans);
		if (rc == 0) {
			remember(key, &ans);
			rc = addrinfo_build(ans.addrs, ans.n, tmpl, hints,
					    ans.canon, res);
		}
		break;
	}
out:
	freeaddrinfo(tmpl);
	return rc;
}

static __attribute__((noinline)) int
gai_slow(const char *node, const char *service, const struct addrinfo *hints,
	 struct addrinfo **res)
{
	struct addrinfo h;
	int saved, rc, family = hints != NULL ? hints->ai_family : AF_UNSPEC;

	if (shim_internal() || node == NULL || *node == '\0' ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return real_getaddrinfo(node, service, hints, res);
	/* AI_NUMERICHOST: never a name, whatever the rules say (ssh-keyscan
	 * asks this way whether its argument is an address) */
	if (hints != NULL && (hints->ai_flags & AI_NUMERICHOST))
		return real_getaddrinfo(node, service, hints, res);
	/* never numeric: asked first, as the commonest lookup of all */
	if (dnsp_localhost_default(node, service))
		return real_getaddrinfo(node, service, hints, res);
	saved = errno;
	if (!maybe_numeric(node))
		goto name;
	/* literals exactly as glibc parses them (127.1, fe80::1%eth0):
	 * never a query; connect() decides by address */
	if (hints != NULL)
		h = *hints;
	else
		h = (struct addrinfo){ .ai_flags = ADDRINFO_DEFAULT_FLAGS };
	h.ai_flags |= AI_NUMERICHOST;
	rc = real_getaddrinfo(node, service, &h, res);
	if (rc != EAI_NONAME || is_literal(node) ||
	    (hints != NULL && (hints->ai_flags & AI_NUMERICHOST)))
		return rc;
name:
	rc = lookup_name(node, service, hints, res, false);
	errno = saved;
	return rc;
}

HOOK int
getaddrinfo(const char *node, const char *service,
	    const struct addrinfo *hints, struct addrinfo **res)
{
	/* "localhost" that no rule names: glibc's, before anything else
	 * (whatever the rest of gai_slow would check, it also hands it to
	 * glibc) */
	if (dnsp_localhost_quick(node, service))
		return real_getaddrinfo(node, service, hints, res);
	return gai_slow(node, service, hints, res);
}

int
hooks_dns_gai_now(const char *node, const char *service,
		  const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h, *lit = NULL;
	int rc, family = hints != NULL ? hints->ai_family : AF_UNSPEC;

	if (node == NULL || *node == '\0' ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) ||
	    (hints != NULL && (hints->ai_flags & AI_NUMERICHOST)) ||
	    dnsp_localhost_default(node, service))
		return HOOKS_DNS_DEFER;
	if (maybe_numeric(node)) {
		/* a literal glibc parses itself, without a query */
		h = hints != NULL ? *hints : (struct addrinfo){
			.ai_flags = ADDRINFO_DEFAULT_FLAGS };
		h.ai_flags |= AI_NUMERICHOST;
		rc = real_getaddrinfo(node, service, &h, &lit);
		if (lit != NULL)
			freeaddrinfo(lit);
		if (rc != EAI_NONAME || is_literal(node))
			return HOOKS_DNS_DEFER;
	}
	*res = NULL;
	return lookup_name(node, service, hints, res, true);
}

/* ---- gethostbyname family ---- */

static int
eai_to_herr(int eai)
{
	switch (eai) {
	case EAI_NONAME:
		return HOST_NOT_FOUND;
	case EAI_NODATA:
		return NO_DATA;
	case EAI_AGAIN:
		return TRY_AGAIN;
	default:
		return NO_RECOVERY;
	}
}

/* Resolve `name` for `af` into the caller's hostent buffer.  Returns 0
 * (also when not found: *result NULL, *herr set) or ERANGE / EAGAIN as
 * glibc's _r functions do. */
static int
hostent_name(const char *name, int af, struct hostent *ret, char *buf,
	     size_t buflen, struct hostent **result, int *herr)
{
	struct dns_answer ans;
	char key[FDNS_NAME_MAX + 1];
	const char *hname;
	int rc = EAI_NONAME;

	*result = NULL;
	if (name_key(name, key, sizeof(key)) && dnsmsg_hnok(name)) {
		switch (dnsp_route_name(name, 0)) {
		case ROUTE_BLOCK:
			break;
		case ROUTE_FAKE:
			rc = dnsp_fake_addrs(key, af, ans.addrs, &ans.n);
			if (rc == 0)
				log_fake(key, ans.addrs, ans.n);
			hname = key;
			break;
		case ROUTE_LOCAL:
			if (dnsp_under_localhost(key)) {
				ans.n = dnsp_loopback(af, ans.addrs);
				hname = key;
				rc = 0;
				break;
			}
			rc = dns_resolve(name, af, &ans);
			if (rc == 0)
				remember(key, &ans);
			hname = ans.canon;
			break;
		}
	}
	if (rc != 0) {
		*herr = eai_to_herr(rc);
		return rc == EAI_AGAIN ? EAGAIN : 0;
	}
	rc = addrinfo_hostent(hname, af, 0, ans.addrs, ans.n, ret, buf,
			      buflen);
	if (rc == -ERANGE) {
		*herr = NETDB_INTERNAL;
		return ERANGE;
	}
	if (rc < 0) {
		*herr = NO_DATA;
		return 0;
	}
	*herr = NETDB_SUCCESS;
	*result = ret;
	return 0;
}

/* Ours when not internal, a supported family, and not a literal (glibc
 * answers literals itself, without a query). */
static bool
hostent_mine(const char *name, int af)
{
	return !shim_internal() && name != NULL && *name != '\0' &&
	       (af == AF_INET || af == AF_INET6) && !is_literal(name);
}

HOOK int
gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
		 size_t buflen, struct hostent **result, int *h_errnop)
{
	int saved, rc;

	if (!hostent_mine(name, af))
		return real_gethostbyname2_r(name, af, ret, buf, buflen,
					     result, h_errnop);
	saved = errno;
	rc = hostent_name(name, af, ret, buf, buflen, result, h_errnop);
	errno = rc != 0 ? rc : saved;
	return rc;
}

HOOK int
gethostbyname_r(const char *name, struct hostent *ret, char *buf,
		size_t buflen, struct hostent **result, int *h_errnop)
{
	if (!hostent_mine(name, AF_INET))
		return real_gethostbyname_r(name, ret, buf, buflen, result,
					    h_errnop);
	return gethostbyname2_r(name, AF_INET, ret, buf, buflen, result,
				h_errnop);
}

/* glibc documents the non-_r calls as non-reentrant (one static result);
 * ours keeps one per thread, which is at least as safe. */
static __thread struct hostent tls_hostent;
static __thread char tls_hostbuf[HOSTENT_BUF];

HOOK struct hostent *
gethostbyname2(const char *name, int af)
{
	struct hostent *r;
	int herr, saved;

	if (!hostent_mine(name, af))
		return real_gethostbyname2(name, af);
	saved = errno;
	if (hostent_name(name, af, &tls_hostent, tls_hostbuf,
			 sizeof(tls_hostbuf), &r, &herr) != 0)
		r = NULL;
	h_errno = herr;
	errno = saved;
	return r;
}

HOOK struct hostent *
gethostbyname(const char *name)
{
	if (!hostent_mine(name, AF_INET))
		return real_gethostbyname(name);
	return gethostbyname2(name, AF_INET);
}

/* ---- reverse: a fake address answers with its name ---- */

enum reverse {
	REV_LIBC,	/* libc looks it up: its PTR query may leave */
	REV_FAKE,	/* a fake address: its name, no query */
	REV_NONE,	/* no query allowed: no name, as for a missing PTR */
};

static enum reverse
reverse_of(int family, const void *addr, char *name, size_t n,
	   const char *what)
{
	if (shim_internal())
		return REV_LIBC;
	if (fdns_is_fake(family, addr) &&
	    fdns_lookup(family, addr, name, n) == 0)
		return REV_FAKE;
	return dnsp_ptr_allowed(family, addr, what) ? REV_LIBC : REV_NONE;
}

static int
hostent_addr(const char *name, const void *addr, socklen_t len, int type,
	     struct hostent *ret, char *buf, size_t buflen,
	     struct hostent **result, int *herr)
{
	struct addrinfo_addr a = { .family = type };
	int rc;

	memcpy(a.addr, addr, len);
	rc = addrinfo_hostent(name, type, 0, &a, 1, ret, buf, buflen);
	*result = NULL;
	if (rc == -ERANGE) {
		*herr = NETDB_INTERNAL;
		return ERANGE;
	}
	*herr = NETDB_SUCCESS;
	*result = ret;
	return 0;
}

static bool
addr_ok(socklen_t len, int type)
{
	return (type == AF_INET && len == 4) || (type == AF_INET6 && len == 16);
}

HOOK int
gethostbyaddr_r(const void *addr, socklen_t len, int type,
		struct hostent *ret, char *buf, size_t buflen,
		struct hostent **result, int *h_errnop)
{
	char name[FDNS_NAME_MAX + 1];
	int saved = errno, rc;
	enum reverse how = REV_LIBC;

	if (addr != NULL && addr_ok(len, type))
		how = reverse_of(type, addr, name, sizeof(name),
				 "gethostbyaddr");
	if (how == REV_LIBC) {
		errno = saved;
		return real_gethostbyaddr_r(addr, len, type, ret, buf, buflen,
					    result, h_errnop);
	}
	if (how == REV_NONE) {
		*result = NULL;
		*h_errnop = HOST_NOT_FOUND;
		errno = saved;
		return 0;
	}
	rc = hostent_addr(name, addr, len, type, ret, buf, buflen, result,
			  h_errnop);
	errno = rc != 0 ? rc : saved;
	return rc;
}

HOOK struct hostent *
gethostbyaddr(const void *addr, socklen_t len, int type)
{
	char name[FDNS_NAME_MAX + 1];
	struct hostent *r;
	int saved = errno, herr;
	enum reverse how = REV_LIBC;

	if (addr != NULL && addr_ok(len, type))
		how = reverse_of(type, addr, name, sizeof(name),
				 "gethostbyaddr");
	if (how == REV_LIBC) {
		errno = saved;
		return real_gethostbyaddr(addr, len, type);
	}
	if (how == REV_NONE) {
		h_errno = HOST_NOT_FOUND;
		errno = saved;
		return NULL;
	}
	if (hostent_addr(name, addr, len, type, &tls_hostent, tls_hostbuf,
			 sizeof(tls_hostbuf), &r, &herr) != 0)
		r = NULL;
	h_errno = herr;
	errno = saved;
	return r;
}

HOOK int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
	    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	char name[FDNS_NAME_MAX + 1];
	const void *addr = NULL;
	int saved = errno, rc;
	size_t len;
	enum reverse how = REV_LIBC;

	if (sa != NULL && sa->sa_family == AF_INET &&
	    salen >= (socklen_t)sizeof(struct sockaddr_in))
		addr = &((const struct sockaddr_in *)(const void *)sa)
				->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6 &&
		 salen >= (socklen_t)sizeof(struct sockaddr_in6))
		addr = &((const struct sockaddr_in6 *)(const void *)sa)
				->sin6_addr;
	if (addr != NULL && host != NULL && hostlen != 0 &&
	    !(flags & NI_NUMERICHOST))
		how = reverse_of(sa->sa_family, addr, name, sizeof(name),
				 "getnameinfo");
	if (how != REV_FAKE) {
		/* no query allowed: the numeric form, or EAI_NONAME with
		 * NI_NAMEREQD, as glibc answers when no name is found */
		errno = saved;
		return real_getnameinfo(sa, salen, host, hostlen, serv,
					servlen, how == REV_NONE ?
					flags | NI_NUMERICHOST : flags);
	}
	/* the service part is glibc's, without any host lookup */
	if (serv != NULL && servlen > 0) {
		rc = real_getnameinfo(sa, salen, NULL, 0, serv, servlen,
				      flags);
		if (rc != 0)
			return rc;
	}
	len = strlen(name);
	if (len >= hostlen)
		return EAI_OVERFLOW;
	memcpy(host, name, len + 1);
	errno = saved;
	return 0;
}
