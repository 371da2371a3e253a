/*
 * dns.c - local resolution with a private, statically linked c-ares 1.18.
 *
 * The sharp edges (research/c-ares.md) and what this file does about them:
 *  - c-ares' own socket(), connect(), recvfrom() and writev() calls would
 *    bind to our exported hooks: socket functions calling real_*() are
 *    installed (dns_sock.c), and they add SOCK_NONBLOCK|SOCK_CLOEXEC themselves (1.18
 *    skips its own socket setup once they are installed).  Calls they do
 *    not cover (getsockname in the sort probes, NSS for services) run with
 *    the shim_internal() guard set, so every hook passes through.
 *  - ares_fds()/fd_set aborts on fds >= 1024 (the Debian build is
 *    fortified): lookups are driven with ares_getsock + poll +
 *    ares_process_fd, on the caller's thread, with a hard deadline.
 *  - 1.18 channels have no locking: one immutable template channel is
 *    configured once and worker channels are ares_dup()ed from it into a
 *    small free list under a mutex; a channel is used by one thread at a
 *    time.
 *  - c-ares knows nothing of fork: a pthread_atfork child handler (and a
 *    pid check, for raw clone) makes the child drop every inherited
 *    channel, close the sockets of lookups that were running in other
 *    threads, and build a fresh template (fresh query-ID key).
 *  - 1.18 ignores resolv.conf's timeout:/attempts: they are parsed here.
 *  - `search .` makes 1.18 fail single-label names: such entries are
 *    removed from the template's search list.
 * ares_library_cleanup() is never called: the library stays initialised
 * for the life of the process, and an application's own c-ares (node) is a
 * separate copy that this one never touches.
 */
#include "dns_int.h"

#include <errno.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "real.h"

#define DNS_POOL_MAX 8		/* idle worker channels kept */
#define DNS_DEADLINE_MIN_MS 1000
#define DNS_DEADLINE_MAX_MS 60000

enum dns_backend {
	BACKEND_AUTO,	/* c-ares, libc for names NSS sources own */
	BACKEND_CARES,	/* always c-ares */
	BACKEND_LIBC,	/* always the real getaddrinfo */
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static ares_channel tmpl;	/* under pool_mu; NULL: not built */
static bool tmpl_failed;	/* under pool_mu: use libc */
static ares_channel idle[DNS_POOL_MAX];	/* under pool_mu */
static int nidle;
static pid_t pool_pid;		/* under pool_mu: who built the pool */
static int deadline_ms;		/* under pool_mu, with the template */
static enum dns_backend backend;
static bool nss_extra;		/* hosts: lists more than files and dns */


/* ---- configuration c-ares 1.18 does not read ---- */

/* "timeout:N" and "attempts:N" from an options line (glibc's caps). */
static void
parse_options(const char *s, int *timeout_s, int *attempts)
{
	const char *p;
	long v;

	if ((p = strstr(s, "timeout:")) != NULL) {
		v = strtol(p + 8, NULL, 10);
		if (v >= 1)
			*timeout_s = v > 30 ? 30 : (int)v;
	}
	if ((p = strstr(s, "attempts:")) != NULL) {
		v = strtol(p + 9, NULL, 10);
		if (v >= 1)
			*attempts = v > 5 ? 5 : (int)v;
	}
}

/* Read resolv.conf's and RES_OPTIONS' timeout and attempts (glibc: 5 s,
 * 2 attempts), and whether nsswitch's hosts line has other sources. */
static void
read_system_config(int *timeout_s, int *attempts)
{
	char line[512], *w, *save;
	const char *env;
	FILE *f;

	*timeout_s = 5;
	*attempts = 2;
	f = fopen("/etc/resolv.conf", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "options", 7) == 0)
			parse_options(line + 7, timeout_s, attempts);
	if (f != NULL)
		fclose(f);
	env = secure_getenv("RES_OPTIONS");
	if (env != NULL)
		parse_options(env, timeout_s, attempts);

	nss_extra = false;
	f = fopen("/etc/nsswitch.conf", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "hosts:", 6) != 0)
			continue;
		for (w = strtok_r(line + 6, " \t\n", &save); w != NULL;
		     w = strtok_r(NULL, " \t\n", &save)) {
			if (*w == '#')
				break;
			if (*w != '[' && strcmp(w, "files") != 0 &&
			    strcmp(w, "dns") != 0)
				nss_extra = true;
		}
	}
	if (f != NULL)
		fclose(f);
}

/* ---- the template and the pool ---- */

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&pool_mu);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&pool_mu);
}

static void
atfork_child(void)
{
	pthread_mutex_init(&pool_mu, NULL);
	pool_pid = 0;	/* the next acquire drops the parent's channels */
}

static void
dns_once(void)
{
	const char *env = secure_getenv("SHIM_DNS_BACKEND");

	ares_library_init(ARES_LIB_INIT_ALL);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	if (env != NULL && strcmp(env, "cares") == 0)
		backend = BACKEND_CARES;
	else if (env != NULL && strcmp(env, "libc") == 0)
		backend = BACKEND_LIBC;
}

/* Drop `search .` entries, which make 1.18 fail single-label names. */
static void
fix_search(ares_channel *ch, struct ares_options *o, int mask)
{
	struct ares_options so;
	char *keep[16];
	int smask, i, n = 0;
	bool dot = false;
	ares_channel fixed;

	if (ares_save_options(*ch, &so, &smask) != ARES_SUCCESS)
		return;
	for (i = 0; i < so.ndomains; i++) {
		if (strcmp(so.domains[i], ".") == 0)
			dot = true;
		else if (n < 16)
			keep[n++] = so.domains[i];
	}
	if (dot) {
		o->domains = keep;
		o->ndomains = n;
		if (ares_init_options(&fixed, o, mask | ARES_OPT_DOMAINS) ==
		    ARES_SUCCESS) {
			ares_destroy(*ch);
			*ch = fixed;
		}
	}
	ares_destroy_options(&so);
}

/* Under pool_mu. */
static void
tmpl_build(void)
{
	struct ares_options o;
	int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES, t, a, nserv;

	read_system_config(&t, &a);
	memset(&o, 0, sizeof(o));
	o.timeout = t * 1000;
	o.tries = a;
	tmpl_failed = ares_init_options(&tmpl, &o, mask) != ARES_SUCCESS;
	if (tmpl_failed) {
		tmpl = NULL;
		return;
	}
	fix_search(&tmpl, &o, mask);
	ares_set_socket_functions(tmpl, &dns_sock_funcs, NULL);
	nserv = 1;
	{
		struct ares_addr_port_node *srv = NULL, *s;

		if (ares_get_servers_ports(tmpl, &srv) == ARES_SUCCESS) {
			for (nserv = 0, s = srv; s != NULL; s = s->next)
				nserv++;
			ares_free_data(srv);
		}
	}
	deadline_ms = t * 1000 * a * (nserv > 0 ? nserv : 1);
	if (deadline_ms < DNS_DEADLINE_MIN_MS)
		deadline_ms = DNS_DEADLINE_MIN_MS;
	if (deadline_ms > DNS_DEADLINE_MAX_MS)
		deadline_ms = DNS_DEADLINE_MAX_MS;
}

/* Under pool_mu, in a child of fork (or of a raw clone): the parent's
 * channels belong to the parent.  Idle ones own no sockets in 1.18
 * (no STAYOPEN) and are destroyed; those that were running in another
 * thread are leaked, and their sockets closed. */
static void
pool_reset_after_fork(void)
{
	int i;

	for (i = 0; i < nidle; i++)
		ares_destroy(idle[i]);
	nidle = 0;
	if (tmpl != NULL)
		ares_destroy(tmpl);
	tmpl = NULL;
	tmpl_failed = false;
	dns_sock_close_all();
}

/* A channel for this thread's exclusive use, or NULL (use libc). */
static ares_channel
chan_get(int *dl_ms)
{
	ares_channel ch = NULL;
	pid_t me = getpid();

	pthread_mutex_lock(&pool_mu);
	if (pool_pid != me) {
		if (pool_pid != 0 || tmpl != NULL)
			pool_reset_after_fork();
		pool_pid = me;
	}
	if (tmpl == NULL && !tmpl_failed)
		tmpl_build();
	if (nidle > 0)
		ch = idle[--nidle];
	else if (tmpl != NULL && ares_dup(&ch, tmpl) != ARES_SUCCESS)
		ch = NULL;
	*dl_ms = deadline_ms;
	pthread_mutex_unlock(&pool_mu);
	return ch;
}

static void
chan_put(ares_channel ch)
{
	pthread_mutex_lock(&pool_mu);
	if (pool_pid == getpid() && nidle < DNS_POOL_MAX) {
		idle[nidle++] = ch;
		ch = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	if (ch != NULL)
		ares_destroy(ch);
}

/* ---- one lookup ---- */

struct req {
	int done;
	int status;
	struct ares_addrinfo *ai;
};

static void
on_ai(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct req *r = arg;

	(void)timeouts;
	r->done = 1;
	r->status = status;
	r->ai = ai;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the channel until the request completes or the deadline passes
 * (then ares_cancel runs the callback with ARES_ECANCELLED).  Returns
 * whether the request completed. */
static bool
drive(ares_channel ch, const struct req *r, int64_t deadline)
{
	ares_socket_t s[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	struct timeval max, tv, *t;
	int64_t left;
	nfds_t n, i;
	int bits, k, ms;

	while (!r->done) {
		left = deadline - now_ms();
		if (left <= 0) {
			ares_cancel(ch);
			break;
		}
		bits = ares_getsock(ch, s, ARES_GETSOCK_MAXNUM);
		for (n = 0, k = 0; k < ARES_GETSOCK_MAXNUM; k++) {
			short ev = (ARES_GETSOCK_READABLE(bits, k) ? POLLIN : 0) |
				   (ARES_GETSOCK_WRITABLE(bits, k) ? POLLOUT : 0);
			if (ev != 0)
				p[n++] = (struct pollfd){ .fd = s[k],
							  .events = ev };
		}
		max.tv_sec = left / 1000;
		max.tv_usec = (left % 1000) * 1000;
		t = ares_timeout(ch, &max, &tv);
		ms = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
		k = real_poll(p, n, ms);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (p[i].revents == 0)
				continue;
			ares_process_fd(ch,
					p[i].revents & (POLLIN | POLLERR |
							POLLHUP) ?
						p[i].fd : ARES_SOCKET_BAD,
					p[i].revents & POLLOUT ?
						p[i].fd : ARES_SOCKET_BAD);
		}
	}
	return r->done;
}

int
dns_status_to_eai(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOTFOUND:
	case ARES_EBADNAME:
	case ARES_ENONAME:
		return EAI_NONAME;
	case ARES_ENODATA:
		return EAI_NODATA;
	case ARES_ENOMEM:
		return EAI_MEMORY;
	case ARES_ESERVICE:
		return EAI_SERVICE;
	case ARES_EBADFAMILY:
	case ARES_ENOTIMP:
		return EAI_FAMILY;
	case ARES_EBADFLAGS:
	case ARES_EBADHINTS:
		return EAI_BADFLAGS;
	case ARES_EFORMERR:
	case ARES_EBADRESP:
	case ARES_EOF:
	case ARES_EFILE:
		return EAI_FAIL;
	default:	/* timeouts, refusals, SERVFAIL, our deadline */
		return EAI_AGAIN;
	}
}

static void
answer_add(struct dns_answer *ans, const struct sockaddr *sa)
{
	struct addrinfo_addr *a;

	if (ans->n == DNS_ADDRS_MAX)
		return;
	a = &ans->addrs[ans->n];
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->addr, &((const struct sockaddr_in *)(const void *)
				  sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		a->family = AF_INET6;
		memcpy(a->addr, &s6->sin6_addr, 16);
		a->scope_id = s6->sin6_scope_id;
	} else {
		return;
	}
	ans->n++;
}

static void
canon_set(struct dns_answer *ans, const char *name)
{
	size_t len = strlen(name);

	if (len >= sizeof(ans->canon))
		len = sizeof(ans->canon) - 1;
	memcpy(ans->canon, name, len);
	ans->canon[len] = '\0';
}

static int
resolve_cares(ares_channel ch, int dl_ms, const char *name, int family,
	      struct dns_answer *ans)
{
	struct ares_addrinfo_hints h = { .ai_family = family,
					 .ai_flags = ARES_AI_CANONNAME };
	const struct ares_addrinfo_cname *c;
	const struct ares_addrinfo_node *nd;
	struct req r = { 0 };
	const char *cn = name;
	int rc;

	ares_getaddrinfo(ch, name, NULL, &h, on_ai, &r);
	if (!drive(ch, &r, now_ms() + dl_ms)) {
		/* still pending: the stack request must not outlive us */
		ares_destroy(ch);
		return EAI_AGAIN;
	}
	rc = dns_status_to_eai(r.status);
	if (rc == 0 && r.ai != NULL) {
		for (nd = r.ai->nodes; nd != NULL; nd = nd->ai_next)
			answer_add(ans, nd->ai_addr);
		if (r.ai->name != NULL)
			cn = r.ai->name;
		for (c = r.ai->cnames; c != NULL; c = c->next)
			if (c->name != NULL)
				cn = c->name;
		canon_set(ans, cn);
		if (ans->n == 0)
			rc = EAI_NODATA;
	}
	if (r.ai != NULL)
		ares_freeaddrinfo(r.ai);
	chan_put(ch);
	return rc;
}

static int
resolve_libc(const char *name, int family, struct dns_answer *ans)
{
	struct addrinfo h = { .ai_family = family, .ai_flags = AI_CANONNAME,
			      .ai_socktype = SOCK_STREAM }, *res, *p;
	int rc;

	ans->libc = true;
	rc = real_getaddrinfo(name, NULL, &h, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? EAI_AGAIN : rc;
	for (p = res; p != NULL; p = p->ai_next)
		answer_add(ans, p->ai_addr);
	canon_set(ans, res->ai_canonname != NULL ? res->ai_canonname : name);
	freeaddrinfo(res);
	return ans->n > 0 ? 0 : EAI_NODATA;
}

/* Names that an NSS source other than files/dns may own (mdns,
 * myhostname, resolve, mymachines, nis, ...): c-ares would miss them. */
static bool
nss_owns(const char *name)
{
	size_t len = strlen(name);
	char host[256];

	if (backend == BACKEND_LIBC)
		return true;
	if (backend == BACKEND_CARES || !nss_extra)
		return false;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (memchr(name, '.', len) == NULL)
		return true;
	if (len >= 6 && strncasecmp(name + len - 6, ".local", 6) == 0)
		return true;
	if (gethostname(host, sizeof(host)) == 0 &&
	    strncasecmp(host, name, len) == 0 && host[len] == '\0')
		return true;
	return false;
}

int
dns_resolve(const char *name, int family, struct dns_answer *ans)
{
	int saved = errno, rc, dl_ms;
	ares_channel ch;

	pthread_once(&once, dns_once);
	memset(ans, 0, sizeof(*ans));
	shim_internal_enter();
	ch = chan_get(&dl_ms);	/* reads nsswitch.conf on first use */
	if (ch == NULL || nss_owns(name)) {
		if (ch != NULL)
			chan_put(ch);
		rc = resolve_libc(name, family, ans);
	} else {
		rc = resolve_cares(ch, dl_ms, name, family, ans);
	}
	shim_internal_leave();
	errno = saved;
	return rc;
}

void
dns_addrconfig(bool *v4, bool *v6)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	struct ifaddrs *ifa, *p;
	int saved = errno;

	*v4 = *v6 = false;
	if (getifaddrs(&ifa) == -1) {
		/* as glibc when netlink fails: assume both */
		*v4 = *v6 = true;
		errno = saved;
		return;
	}
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL)
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)p->ifa_addr;

			if (s->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
				*v4 = true;
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s =
				(const void *)p->ifa_addr;

			if (memcmp(&s->sin6_addr, lo6, 16) != 0)
				*v6 = true;
		}
	}
	freeifaddrs(ifa);
	errno = saved;
}
