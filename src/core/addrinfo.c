/*
 * addrinfo.c - glibc-shaped addrinfo lists and hostents from addresses.
 *
 * glibc's freeaddrinfo() does, for each node, free(ai_canonname) then
 * free(node); it never frees ai_addr.  So each node here is one block,
 * struct addrinfo followed by its sockaddr, and only the first node has a
 * canonical name.  Pure: no I/O.
 */
#include "addrinfo.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct ai_node {
	struct addrinfo ai;
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} sa;
};

void
addrinfo_tmpl_hints(const struct addrinfo *hints, struct addrinfo *out)
{
	memset(out, 0, sizeof(*out));
	if (hints == NULL) {
		out->ai_flags = ADDRINFO_DEFAULT_FLAGS;
	} else {
		out->ai_flags = hints->ai_flags;
		out->ai_socktype = hints->ai_socktype;
		out->ai_protocol = hints->ai_protocol;
	}
	out->ai_flags &= ~(AI_CANONNAME | AI_ADDRCONFIG | AI_V4MAPPED |
			   AI_ALL);
	out->ai_flags |= AI_NUMERICHOST;
	out->ai_family = AF_INET;
}

int
addrinfo_fake_family(int family, bool has_v4, bool has_v6)
{
	if (family == AF_INET || family == AF_INET6)
		return family;
	return !has_v4 && has_v6 ? AF_INET6 : AF_INET;
}

static uint16_t
tmpl_port(const struct addrinfo *t)
{
	if (t->ai_addr == NULL)
		return 0;
	if (t->ai_addr->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)
			t->ai_addr)->sin6_port;
	return ((const struct sockaddr_in *)(const void *)t->ai_addr)
		->sin_port;
}

/* Which addresses a request for `family` keeps, as glibc decides. */
static int
want(const struct addrinfo_addr *a, int family, int flags, int have6,
     int *as_mapped)
{
	*as_mapped = 0;
	if (family == AF_UNSPEC)
		return 1;
	if (a->family == family)
		return 1;
	if (family == AF_INET6 && a->family == AF_INET &&
	    (flags & AI_V4MAPPED) && (!have6 || (flags & AI_ALL))) {
		*as_mapped = 1;
		return 1;
	}
	return 0;
}

static struct ai_node *
node_new(const struct addrinfo_addr *a, int mapped, const struct addrinfo *t,
	 int flags)
{
	struct ai_node *nd = calloc(1, sizeof(*nd));

	if (nd == NULL)
		return NULL;
	nd->ai.ai_flags = flags;
	nd->ai.ai_socktype = t->ai_socktype;
	nd->ai.ai_protocol = t->ai_protocol;
	nd->ai.ai_addr = (struct sockaddr *)&nd->sa;
	if (a->family == AF_INET && !mapped) {
		nd->ai.ai_family = AF_INET;
		nd->ai.ai_addrlen = sizeof(nd->sa.sin);
		nd->sa.sin.sin_family = AF_INET;
		nd->sa.sin.sin_port = tmpl_port(t);
		memcpy(&nd->sa.sin.sin_addr, a->addr, 4);
		return nd;
	}
	nd->ai.ai_family = AF_INET6;
	nd->ai.ai_addrlen = sizeof(nd->sa.sin6);
	nd->sa.sin6.sin6_family = AF_INET6;
	nd->sa.sin6.sin6_port = tmpl_port(t);
	if (mapped) {
		nd->sa.sin6.sin6_addr.s6_addr[10] = 0xff;
		nd->sa.sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&nd->sa.sin6.sin6_addr.s6_addr[12], a->addr, 4);
	} else {
		memcpy(&nd->sa.sin6.sin6_addr, a->addr, 16);
		nd->sa.sin6.sin6_scope_id = a->scope_id;
	}
	return nd;
}

static void
list_free(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai->ai_canonname);
		free(ai);
	}
}

int
addrinfo_build(const struct addrinfo_addr *addrs, size_t n,
	       const struct addrinfo *tmpl, const struct addrinfo *hints,
	       const char *canon, struct addrinfo **out)
{
	int family = hints != NULL ? hints->ai_family : AF_UNSPEC;
	int flags = hints != NULL ? hints->ai_flags : ADDRINFO_DEFAULT_FLAGS;
	struct addrinfo *head = NULL, **tail = &head;
	const struct addrinfo *t;
	struct ai_node *nd;
	int have6 = 0, mapped;
	size_t i;

	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	for (i = 0; i < n; i++)
		if (addrs[i].family == AF_INET6)
			have6 = 1;
	for (i = 0; i < n; i++) {
		if (!want(&addrs[i], family, flags, have6, &mapped))
			continue;
		for (t = tmpl; t != NULL; t = t->ai_next) {
			nd = node_new(&addrs[i], mapped, t, flags);
			if (nd == NULL) {
				list_free(head);
				return EAI_MEMORY;
			}
			*tail = &nd->ai;
			tail = &nd->ai.ai_next;
		}
	}
	if (head == NULL)
		return EAI_NODATA;
	if ((flags & AI_CANONNAME) && canon != NULL) {
		head->ai_canonname = strdup(canon);
		if (head->ai_canonname == NULL) {
			list_free(head);
			return EAI_MEMORY;
		}
	}
	*out = head;
	return 0;
}

/*
 * Buffer layout, as glibc's nss_dns fills it:
 *   [addresses, aligned] [h_addr_list: n+1 pointers] [h_aliases: 1 NULL]
 *   [name\0]
 */
int
addrinfo_hostent(const char *name, int family, int mapped,
		 const struct addrinfo_addr *addrs, size_t n,
		 struct hostent *h, char *buf, size_t buflen)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	size_t pad, i, k, cnt = 0, need, nlen = strlen(name) + 1;
	int have6 = 0, as_mapped;
	char **list, *p;

	for (i = 0; i < n; i++)
		if (addrs[i].family == AF_INET6)
			have6 = 1;
	for (i = 0; i < n; i++)
		if (want(&addrs[i], family, mapped ? AI_V4MAPPED : 0, have6,
			 &as_mapped))
			cnt++;
	if (cnt == 0)
		return -ENOENT;
	pad = (sizeof(char *) - (uintptr_t)buf % sizeof(char *)) %
	      sizeof(char *);
	need = pad + cnt * alen + (cnt + 1 + 1) * sizeof(char *) + nlen;
	/* round the address block up so the pointers stay aligned */
	need += (sizeof(char *) - cnt * alen % sizeof(char *)) %
		sizeof(char *);
	if (buflen < need)
		return -ERANGE;
	p = buf + pad;
	list = (char **)(void *)(p + cnt * alen +
				 (sizeof(char *) - cnt * alen %
				  sizeof(char *)) % sizeof(char *));
	for (i = 0, k = 0; i < n; i++) {
		if (!want(&addrs[i], family, mapped ? AI_V4MAPPED : 0, have6,
			  &as_mapped))
			continue;
		if (as_mapped) {
			memset(p, 0, 10);
			memset(p + 10, 0xff, 2);
			memcpy(p + 12, addrs[i].addr, 4);
		} else {
			memcpy(p, addrs[i].addr, alen);
		}
		list[k++] = p;
		p += alen;
	}
	list[k] = NULL;
	list[k + 1] = NULL;
	h->h_addr_list = list;
	h->h_aliases = &list[k + 1];
	h->h_name = (char *)&list[k + 2];
	memcpy(h->h_name, name, nlen);
	h->h_addrtype = family;
	h->h_length = (int)alen;
	return 0;
}
