/* oddargs_dns.h - the resolver's calls (part of oddargs.c).  Only names
 * and addresses /etc/hosts or the numeric parsers answer, and bad
 * arguments glibc refuses before it asks anyone. */

/* what a binary linked before glibc 2.34 calls (see dnsprobe.c) */
int old_res_query(const char *, int, int, unsigned char *, int);
__asm__(".symver old_res_query, __res_query@GLIBC_2.2.5");

static void
show_gai(const char *what, int rc, struct addrinfo *res)
{
	struct addrinfo *a;
	char h[INET6_ADDRSTRLEN];

	printf("%s = %d %s%s%s\n", what, rc, rc ? gai_strerror(rc) : "",
	       rc == EAI_SYSTEM ? " " : "",
	       rc == EAI_SYSTEM ? strerrorname_np(errno) : "");
	for (a = rc == 0 ? res : NULL; a != NULL; a = a->ai_next) {
		h[0] = 0;
		if (a->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr,
				  h, sizeof(h));
		else if (a->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr,
				  h, sizeof(h));
		printf("  fam=%d type=%d proto=%d len=%u flags=%#x %s port=%d canon=%s\n",
		       a->ai_family, a->ai_socktype, a->ai_protocol,
		       (unsigned)a->ai_addrlen, (unsigned)a->ai_flags, h,
		       ntohs(((struct sockaddr_in *)a->ai_addr)->sin_port),
		       a->ai_canonname ? a->ai_canonname : "-");
	}
	if (rc == 0)
		freeaddrinfo(res);
	fflush(stdout);
}

#define GAI(n, s, fam, type, fl) do { \
	struct addrinfo h_ = { .ai_family = (fam), .ai_socktype = (type), \
			       .ai_flags = (fl) }, *r_ = NULL; \
	errno = 0; \
	show_gai("getaddrinfo(" #n ", " #s ", " #fam ", " #type ", " #fl ")", \
		 getaddrinfo(n, s, &h_, &r_), r_); } while (0)

static void
show_hent(const char *what, struct hostent *h, int herr, int rc)
{
	int n = 0;

	printf("%s = %s rc=%d herr=%d", what, h ? "hostent" : "NULL", rc,
	       h ? 0 : herr);
	if (h != NULL) {
		while (h->h_addr_list[n] != NULL)
			n++;
		printf(" name=%s type=%d len=%d addrs=%d", h->h_name,
		       h->h_addrtype, h->h_length, n);
	}
	printf("\n");
	fflush(stdout);
}

#define HE(e) do { h_errno = 0; struct hostent *h_ = (e); \
	show_hent(#e, h_, h_errno, 0); } while (0)
#define HR(e) do { struct hostent *h_ = NULL; herr = 0; int rc_ = (e); \
	show_hent(#e, h_ ? h_ : hp, herr, rc_); } while (0)

static void
t_dns(void)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(80),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(443),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	char host[NI_MAXHOST], serv[NI_MAXSERV], buf[2048], longname[300];
	struct hostent he, *hp;
	unsigned char ans[512];
	int herr;
	struct addrinfo *r0 = NULL;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	errno = 0;
	show_gai("getaddrinfo(NULL, NULL, NULL)", getaddrinfo(NULL, NULL, NULL, &r0), r0);
	r0 = NULL;
	show_gai("getaddrinfo(127.0.0.1, 80, NULL)",
		 getaddrinfo("127.0.0.1", "80", NULL, &r0), r0);
	GAI(NULL, NULL, AF_UNSPEC, 0, 0);
	GAI(NULL, "80", AF_UNSPEC, SOCK_STREAM, AI_PASSIVE);
	GAI(NULL, "80", AF_UNSPEC, SOCK_STREAM, 0);
	GAI("127.0.0.1", "80", 12345, 0, 0);
	GAI("127.0.0.1", "80", AF_UNSPEC, 999, 0);
	GAI("127.0.0.1", "80", AF_UNSPEC, 0, 0x7fff0000);
	GAI("127.0.0.1", "no-such-service-x", AF_UNSPEC, 0, 0);
	GAI("127.0.0.1", "http", AF_INET, SOCK_STREAM, AI_NUMERICSERV);
	GAI("127.0.0.1", "80", AF_INET6, 0, 0);
	GAI("127.0.0.1", "80", AF_INET6, 0, AI_V4MAPPED);
	GAI("127.0.0.1", "80", AF_UNSPEC, SOCK_DGRAM, AI_CANONNAME);
	GAI("::1", "443", AF_UNSPEC, SOCK_STREAM, AI_NUMERICHOST);
	GAI("::1", "443", AF_INET, 0, 0);
	GAI("localhost", "80", AF_UNSPEC, SOCK_STREAM, AI_NUMERICHOST);
	GAI("localhost", "80", AF_INET, SOCK_STREAM, 0);
	GAI("localhost", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME);
	GAI("0x7f.1", "80", AF_INET, SOCK_STREAM, 0);
	GAI("127.1", "80", AF_INET, SOCK_STREAM, AI_NUMERICHOST);
	GAI("", "80", AF_INET, SOCK_STREAM, AI_NUMERICHOST);
	GAI("1.2.3.4.5", "80", AF_INET, SOCK_STREAM, AI_NUMERICHOST);
	GAI(longname, "80", AF_INET, SOCK_STREAM, AI_NUMERICHOST);
	GAI("127.0.0.1", "99999", AF_INET, SOCK_STREAM, 0);
	GAI("127.0.0.1", "-1", AF_INET, SOCK_STREAM, 0);

#define GNI(sa, l, hl, sl, fl) do { strcpy(host, "-"); strcpy(serv, "-"); \
	int rc_ = getnameinfo((void *)(sa), l, (hl) ? host : NULL, hl, \
			      (sl) ? serv : NULL, sl, fl); \
	printf("getnameinfo(" #sa ", " #l ", " #hl ", " #sl ", " #fl ") = %d %s host=%s serv=%s\n", \
	       rc_, rc_ ? gai_strerror(rc_) : "", host, serv); } while (0)
	GNI(NULL, 0, 64, 32, 0);
	GNI(&s, 4, 64, 32, 0);
	GNI(&s, sizeof(s), 0, 0, 0);
	GNI(&s, sizeof(s), 64, 32, NI_NUMERICHOST | NI_NUMERICSERV);
	GNI(&s, sizeof(s), 64, 32, NI_NUMERICHOST);
	GNI(&s, sizeof(s), 3, 32, NI_NUMERICHOST);
	GNI(&s, sizeof(s), 64, 1, NI_NUMERICHOST);
	GNI(&s, sizeof(s), 64, 32, 0x7fff0000);
	GNI(&s, sizeof(s), 64, 32, NI_NAMEREQD);
	GNI(&s, sizeof(s), 64, 0, 0);
	GNI(&s, 1000, 64, 32, NI_NUMERICHOST);
	GNI(&s6, sizeof(s6), 64, 32, NI_NUMERICHOST | NI_DGRAM);
	GNI(&s6, 24, 64, 32, NI_NUMERICHOST);
	GNI(&s6, sizeof(s), 64, 32, NI_NUMERICHOST);
	s.sin_family = AF_UNIX;
	GNI(&s, sizeof(s), 64, 32, NI_NUMERICHOST);

	HE(gethostbyname("127.0.0.1"));
	HE(gethostbyname("localhost"));
	HE(gethostbyname(""));
	HE(gethostbyname(longname));
	HE(gethostbyname2("127.0.0.1", AF_INET6));
	HE(gethostbyname2("::1", AF_INET));
	HE(gethostbyname2("::1", AF_INET6));
	HE(gethostbyname2("127.0.0.1", 12345));
	HE(gethostbyaddr(&lo, sizeof(lo), AF_INET));
	HE(gethostbyaddr(&lo, 3, AF_INET));
	HE(gethostbyaddr(&lo, sizeof(lo), 12345));
	HE(gethostbyaddr(&s6.sin6_addr, 16, AF_INET6));
	HE(gethostbyaddr(&s6.sin6_addr, 4, AF_INET6));
	HR(gethostbyname_r("127.0.0.1", &he, buf, sizeof(buf), &hp, &herr));
	HR(gethostbyname_r("127.0.0.1", &he, buf, 1, &hp, &herr));
	HR(gethostbyname_r("localhost", &he, buf, 8, &hp, &herr));
	HR(gethostbyname2_r("::1", AF_INET6, &he, buf, sizeof(buf), &hp, &herr));
	HR(gethostbyname2_r("::1", 12345, &he, buf, sizeof(buf), &hp, &herr));
	HR(gethostbyname2_r("::1", AF_INET6, &he, buf, 4, &hp, &herr));
	HR(gethostbyaddr_r(&lo, sizeof(lo), AF_INET, &he, buf, sizeof(buf), &hp, &herr));
	HR(gethostbyaddr_r(&lo, sizeof(lo), AF_INET, &he, buf, 4, &hp, &herr));
	HR(gethostbyaddr_r(&lo, 2, AF_INET, &he, buf, sizeof(buf), &hp, &herr));

	/* refused before any query: a name too long to encode, a buffer
	 * too short for a header */
#define RQ(e) do { h_errno = 0; errno = 0; int rc_ = (e); \
	printf("%s = %d herr=%d%s%s\n", #e, rc_, rc_ < 0 ? h_errno : 0, \
	       rc_ < 0 ? " " : "", rc_ < 0 ? strerrorname_np(errno) : ""); \
	fflush(stdout); } while (0)
	RQ(res_query(longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(res_search(longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(res_querydomain(longname, "x", C_IN, T_A, ans, sizeof(ans)));
	RQ(res_querydomain("x", longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(res_send(ans, 12, ans, 4));
	RQ(res_nquery(&_res, longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(res_nsearch(&_res, longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(res_nquerydomain(&_res, longname, "x", C_IN, T_A, ans, sizeof(ans)));
	RQ(res_nsend(&_res, ans, 12, ans, 4));
	RQ(old_res_query(longname, C_IN, T_A, ans, sizeof(ans)));
	RQ(old_res_query("x", C_IN, T_A, ans, 4));
}
