/*
 * supervise_dnswho.c - which supervised process sent a query the DNS
 * responder reads: the redirect notes the loopback port of each socket it
 * sends to the responder, with the caller's pid and executable, before
 * the query can arrive; the responder looks the port up for its log line
 * and audit event.  A bounded ring: the newest entry for a port wins.
 */
#include "supervise_int.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define DNS_WHO_MAX 1024

/* Who sent from a loopback port (for the log), as the redirect saw. */
struct who {
	int family;
	uint16_t port;		/* network order; 0: free */
	pid_t tgid;
	char exe[256];
};

static struct who g_who[DNS_WHO_MAX];
static size_t g_who_next;
static pthread_mutex_t g_who_lock = PTHREAD_MUTEX_INITIALIZER;

/* The port and family of a loopback address as the responder sees it
 * (a v4-mapped one is IPv4). */
static void
port_of(const struct sockaddr_storage *sa, int *family, uint16_t *port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)
					(const void *)sa;
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	*family = sa->ss_family;
	*port = ((const struct sockaddr_in *)(const void *)sa)->sin_port;
	if (sa->ss_family == AF_INET6 &&
	    memcmp(s6->sin6_addr.s6_addr, mapped, 12) == 0)
		*family = AF_INET;
}

void
sup_dns_who_note(struct sup_call *c, const struct sockaddr_storage *local)
{
	struct who *w;
	pid_t tgid = sup_tgid(c);
	const char *exe = sup_exe(c);

	pthread_mutex_lock(&g_who_lock);
	w = &g_who[g_who_next++ % DNS_WHO_MAX];
	port_of(local, &w->family, &w->port);
	w->tgid = tgid;
	snprintf(w->exe, sizeof(w->exe), "%s", exe);
	pthread_mutex_unlock(&g_who_lock);
}

/* The caller for the log: who last sent from that port. */
void
sup_dns_who(const struct sockaddr_storage *from, const struct sup_policy *p,
	    struct sup_call *c)
{
	size_t i, k;
	int fam;
	uint16_t port;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->pidfd = -1;
	snprintf(c->exe, sizeof(c->exe), "?");
	port_of(from, &fam, &port);
	pthread_mutex_lock(&g_who_lock);
	for (i = 0; i < DNS_WHO_MAX; i++) {
		k = (g_who_next - 1 - i) % DNS_WHO_MAX;
		if (g_who[k].port == port && g_who[k].family == fam) {
			c->tgid = g_who[k].tgid;
			c->tid = c->tgid;
			snprintf(c->exe, sizeof(c->exe), "%s", g_who[k].exe);
			break;
		}
	}
	pthread_mutex_unlock(&g_who_lock);
	if (c->tgid == 0)
		c->tgid = -1;	/* not a redirected socket's: no pid */
}
