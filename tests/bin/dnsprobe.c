/*
 * dnsprobe.c - call one of libc's DNS entry points and print what came
 * back, for the integration tests (t_harden.sh):
 *
 *   dnsprobe query|search|nquery|oldquery|send NAME TYPE
 *   dnsprobe querydomain NAME DOMAIN TYPE
 *   dnsprobe gai_a NAME wait|nowait|thread
 *   dnsprobe gai NAME
 *   dnsprobe ni ADDR [namereqd]      getnameinfo
 *   dnsprobe hba ADDR                gethostbyaddr
 *
 * TYPE is a number or A, AAAA, PTR, SRV, TXT, MX.  A res_* answer prints
 * "rc=N herr=H rcode=R an=N" and, for A/AAAA, each address in the
 * answer section; -1 prints "rc=-1 herr=H".  Exit 0 unless the call could
 * not be made at all.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a binary linked against glibc before 2.34 calls: a reference to
 * __res_query@GLIBC_2.2.5, bound by the dynamic linker as it binds such
 * a binary's (to the shim's when it is preloaded). */
int old_res_query(const char *, int, int, unsigned char *, int);
__asm__(".symver old_res_query, __res_query@GLIBC_2.2.5");

static int
type_of(const char *s)
{
	static const struct {
		const char *n;
		int t;
	} t[] = { { "A", 1 }, { "AAAA", 28 }, { "PTR", 12 }, { "SRV", 33 },
		  { "TXT", 16 }, { "MX", 15 } };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].n) == 0)
			return t[i].t;
	return atoi(s);
}

/* Walk the answer section with dn_expand; print A / AAAA rdata. */
static void
print_answer(const unsigned char *m, int len)
{
	const unsigned char *p = m + 12, *end = m + len;
	char name[NS_MAXDNAME], a[INET6_ADDRSTRLEN];
	int qd, an, i, n, type, rdlen;

	if (len < 12)
		return;
	qd = m[4] << 8 | m[5];
	an = m[6] << 8 | m[7];
	printf(" rcode=%d an=%d", m[3] & 0xf, an);
	for (i = 0; i < qd; i++) {
		n = dn_expand(m, end, p, name, sizeof(name));
		if (n < 0 || p + n + 4 > end)
			return;
		p += n + 4;
	}
	for (i = 0; i < an; i++) {
		n = dn_expand(m, end, p, name, sizeof(name));
		if (n < 0 || p + n + 10 > end)
			return;
		p += n;
		type = p[0] << 8 | p[1];
		rdlen = p[8] << 8 | p[9];
		p += 10;
		if (p + rdlen > end)
			return;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			inet_ntop(type == 1 ? AF_INET : AF_INET6, p, a,
				  sizeof(a));
			printf(" %s", a);
		} else if (type == 12 &&
			   dn_expand(m, end, p, name, sizeof(name)) > 0) {
			printf(" PTR %s", name);
		}
		p += rdlen;
	}
}

static void
report(int rc, const unsigned char *ans)
{
	printf("rc=%d herr=%d", rc, h_errno);
	if (rc > 0)
		print_answer(ans, rc);
	printf("\n");
}

static int
res_cmd(int argc, char **argv)
{
	unsigned char ans[4096], q[512];
	const char *cmd = argv[1], *name = argv[2];
	struct __res_state st;
	int rc, type, qn;

	if (strcmp(cmd, "querydomain") == 0) {
		if (argc < 5)
			return 2;
		rc = res_querydomain(name, argv[3], C_IN, type_of(argv[4]),
				     ans, sizeof(ans));
		report(rc, ans);
		return 0;
	}
	if (argc < 4)
		return 2;
	type = type_of(argv[3]);
	h_errno = 0;
	if (strcmp(cmd, "query") == 0) {
		rc = res_query(name, C_IN, type, ans, sizeof(ans));
	} else if (strcmp(cmd, "oldquery") == 0) {
		rc = old_res_query(name, C_IN, type, ans, sizeof(ans));
	} else if (strcmp(cmd, "search") == 0) {
		rc = res_search(name, C_IN, type, ans, sizeof(ans));
	} else if (strcmp(cmd, "nquery") == 0) {
		memset(&st, 0, sizeof(st));
		if (res_ninit(&st) != 0)
			return 2;
		rc = res_nquery(&st, name, C_IN, type, ans, sizeof(ans));
		res_nclose(&st);
	} else if (strcmp(cmd, "send") == 0) {
		qn = res_mkquery(QUERY, name, C_IN, type, NULL, 0, NULL, q,
				 sizeof(q));
		if (qn < 0)
			return 2;
		rc = res_send(q, qn, ans, sizeof(ans));
	} else {
		return 2;
	}
	report(rc, ans);
	return 0;
}

static volatile sig_atomic_t notified;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void
on_done(union sigval v)
{
	(void)v;
	pthread_mutex_lock(&mu);
	notified = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void
print_ai(int rc, const struct addrinfo *r)
{
	char a[INET6_ADDRSTRLEN] = "-";

	if (rc == 0 && r != NULL)
		getnameinfo(r->ai_addr, r->ai_addrlen, a, sizeof(a), NULL, 0,
			    NI_NUMERICHOST);
	printf("gai=%d first=%s", rc, a);
}

static int
gai_a_cmd(const char *name, const char *how)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct gaicb g = { .ar_name = name, .ar_request = &hints };
	struct gaicb *list[1] = { &g };
	const struct gaicb *cl[1] = { &g };
	struct sigevent sev;
	struct timespec ts, to = { 10, 0 };
	int rc;

	memset(&sev, 0, sizeof(sev));
	if (strcmp(how, "wait") == 0) {
		rc = getaddrinfo_a(GAI_WAIT, list, 1, NULL);
	} else if (strcmp(how, "nowait") == 0) {
		rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
		if (rc == 0)
			gai_suspend(cl, 1, &to);
	} else {
		sev.sigev_notify = SIGEV_THREAD;
		sev.sigev_notify_function = on_done;
		rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		pthread_mutex_lock(&mu);
		while (rc == 0 && !notified &&
		       pthread_cond_timedwait(&cv, &mu, &ts) == 0)
			;
		pthread_mutex_unlock(&mu);
		printf("notified=%d ", (int)notified);
	}
	printf("submit=%d error=%d ", rc, gai_error(&g));
	print_ai(gai_error(&g), g.ar_result);
	printf("\n");
	return 0;
}

static int
addr_of(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct addrinfo *r = NULL, hints = { .ai_socktype = SOCK_STREAM };
	struct hostent *he;
	socklen_t len;
	char host[NI_MAXHOST];
	int fam, rc;

	if (argc < 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "gai_a") == 0)
		return gai_a_cmd(argv[2], argc > 3 ? argv[3] : "wait");
	if (strcmp(argv[1], "gai") == 0) {
		rc = getaddrinfo(argv[2], NULL, &hints, &r);
		print_ai(rc, r);
		printf("\n");
		return 0;
	}
	if (strcmp(argv[1], "ni") == 0 || strcmp(argv[1], "hba") == 0) {
		fam = addr_of(argv[2], &ss, &len);
		if (fam < 0)
			return 2;
		if (argv[1][0] == 'n') {
			rc = getnameinfo((struct sockaddr *)&ss, len, host,
					 sizeof(host), NULL, 0,
					 argc > 3 ? NI_NAMEREQD : 0);
			printf("ni=%d host=%s\n", rc, rc == 0 ? host : "-");
			return 0;
		}
		he = gethostbyaddr(fam == AF_INET ?
				   (void *)&((struct sockaddr_in *)&ss)->sin_addr :
				   (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
				   fam == AF_INET ? 4 : 16, fam);
		printf("hba=%s herr=%d\n", he != NULL ? he->h_name : "-",
		       he != NULL ? 0 : h_errno);
		return 0;
	}
	return res_cmd(argc, argv);
}
