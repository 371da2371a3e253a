/*
 * supervise_dns.c - the DNS responder of a supervised session: programs
 * with their own resolver (Go's, musl's, dig's) send their queries for
 * the resolvers of resolv.conf here instead (supervise_dnsredir.c moves
 * them), and supervise_dnsans.c decides each answer.
 *
 * One thread, one poll loop: UDP and TCP sockets on loopback (127.0.0.1
 * and ::1, ports the kernel picks), up to DNS_CONNS_MAX TCP connections
 * and the c-ares sockets of the queries forwarded to the real resolver.
 * Nothing in it blocks: a query that cannot be parsed is dropped, a TCP
 * length over DNS_QUERY_MAX or a connection idle for DNS_IDLE_MS is
 * closed, queries beyond DNS_PENDING_MAX wait at the resolver are
 * answered SERVFAIL, and c-ares gives each up after its timeout.  The
 * supervisor's threads only read the addresses and the caller table.
 *
 * c-ares 1.18 in proxywrap (not the shim's copy): its own sockets (this
 * process is not supervised), ares_getsock and ares_process_fd (no
 * fd_set), resolv.conf's servers.  A forwarded query keeps its bytes;
 * c-ares gives it an ID of its own, and the caller's is put back.
 */
#include "supervise_int.h"

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "tunnel.h"

#define DNS_CONNS_MAX 64
#define DNS_PENDING_MAX 256
#define DNS_QUERY_MAX 4096	/* bytes of one query: more is not DNS */
#define DNS_REPLY_MAX 65535	/* TCP's two-byte length */
#define DNS_IDLE_MS 10000
#define DNS_TIMEOUT_MS 2000	/* per try, as c-ares 1.18 ignores
				 * resolv.conf's options */
#define DNS_TRIES 2
#define DNS_ANSWER_MAX 2048	/* what we answer ourselves */
#define DNS_POLL_MAX (4 + DNS_CONNS_MAX + 2 * ARES_GETSOCK_MAXNUM)

struct conn {
	int fd;			/* -1: free */
	uint32_t gen;		/* changes when the slot is reused */
	int64_t last_ms;
	uint8_t in[2 + DNS_QUERY_MAX];
	size_t inlen;
	uint8_t *out;		/* a reply being written, or NULL */
	size_t outlen, outoff;
	bool waiting;		/* a query at the resolver */
	struct sockaddr_storage peer;
};

/* A forwarded query's way back. */
struct pending {
	int udp;		/* the UDP socket to answer from, or -1 */
	int conn;		/* else the connection's slot and gen */
	uint32_t gen;
	uint16_t id;		/* the caller's */
	uint8_t bits;		/* its third byte: opcode and RD */
	char learn[256];	/* a direct rule's name, or "" */
	struct sockaddr_storage to;
	socklen_t tolen;
};

static const struct sup_policy *g_pol;
static int g_udp[2] = { -1, -1 }, g_tcp[2] = { -1, -1 };	/* v4, v6 */
static struct sockaddr_storage g_udp_sa[2], g_tcp_sa[2];
static ares_channel g_ch_udp, g_ch_tcp;
static struct conn g_conn[DNS_CONNS_MAX];
static int g_npending;
static bool g_on;

/* A non-blocking socket on loopback of the family, port 0. */
static int
lo_socket(int v6, int type, struct sockaddr_storage *sa)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	socklen_t l = sizeof(*sa);
	int fd, one = 1;

	memset(sa, 0, sizeof(*sa));
	if (v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
	} else {
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	fd = socket(v6 ? AF_INET6 : AF_INET,
		    type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)sa, v6 ? sizeof(*s6) : sizeof(*s4))
	    == -1 || getsockname(fd, (struct sockaddr *)sa, &l) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 64) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

bool
sup_dns_responder(int family, bool tcp, struct sockaddr_storage *sa,
		  socklen_t *len)
{
	int v6 = family == AF_INET6;
	const struct sockaddr_storage *at = tcp ? &g_tcp_sa[v6] : &g_udp_sa[v6];
	struct sockaddr_in6 *m = (struct sockaddr_in6 *)sa;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)
				       (const void *)&g_udp_sa[0];

	if (!g_on)
		return false;
	if ((tcp ? g_tcp : g_udp)[v6] >= 0) {
		*sa = *at;
		*len = v6 ? sizeof(struct sockaddr_in6) :
			    sizeof(struct sockaddr_in);
		return true;
	}
	if (!v6 || (tcp ? g_tcp : g_udp)[0] < 0)
		return false;
	/* no ::1: an IPv6 socket reaches 127.0.0.1 v4-mapped */
	a4 = (const struct sockaddr_in *)(const void *)(tcp ? &g_tcp_sa[0] :
							      &g_udp_sa[0]);
	memset(sa, 0, sizeof(*sa));
	m->sin6_family = AF_INET6;
	m->sin6_port = a4->sin_port;
	m->sin6_addr.s6_addr[10] = 0xff;
	m->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
	*len = sizeof(*m);
	return true;
}

static void
conn_close(struct conn *k)
{
	close(k->fd);
	k->fd = -1;
	k->gen++;
	free(k->out);
	k->out = NULL;
	k->waiting = false;
}

/* Queue a reply on a connection (its length first); written by the loop. */
static void
conn_reply(struct conn *k, const uint8_t *msg, size_t len)
{
	if (len > DNS_REPLY_MAX || (k->out = malloc(2 + len)) == NULL) {
		conn_close(k);
		return;
	}
	k->out[0] = (uint8_t)(len >> 8);
	k->out[1] = (uint8_t)len;
	memcpy(k->out + 2, msg, len);
	k->outlen = 2 + len;
	k->outoff = 0;
}

/* SERVFAIL for a query we could not forward: its ID, QR, its opcode and
 * RD, RA; no sections. */
static size_t
servfail(uint16_t id, uint8_t bits, uint8_t *out)
{
	memset(out, 0, DNSMSG_HDR);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)(0x80 | (bits & 0x79));
	out[3] = 0x80 | DNSMSG_SERVFAIL;
	return DNSMSG_HDR;
}

static void
deliver(struct pending *pd, const uint8_t *msg, size_t len)
{
	struct conn *k;

	if (pd->udp >= 0) {
		if (sendto(pd->udp, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (struct sockaddr *)&pd->to, pd->tolen) == -1) {
			/* a full buffer drops it, as the network would */
		}
		return;
	}
	k = &g_conn[pd->conn];
	if (k->fd < 0 || k->gen != pd->gen)
		return;		/* closed meanwhile */
	k->waiting = false;
	conn_reply(k, msg, len);
}

/* The addresses of a forwarded answer, for a direct rule's name (c-ares'
 * parsers: A or AAAA records, CNAMEs followed). */
static void
learn(const char *name, const uint8_t *abuf, int alen)
{
	struct ares_addrttl a4[16];
	struct ares_addr6ttl a6[16];
	int i, n = 16;

	if (ares_parse_a_reply(abuf, alen, NULL, a4, &n) == ARES_SUCCESS)
		for (i = 0; i < n; i++)
			sup_seen_add(name, AF_INET, (const uint8_t *)
				     &a4[i].ipaddr, a4[i].ttl);
	n = 16;
	if (ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n) == ARES_SUCCESS)
		for (i = 0; i < n; i++)
			sup_seen_add(name, AF_INET6, (const uint8_t *)
				     &a6[i].ip6addr, a6[i].ttl);
}

static void
forwarded(void *arg, int status, int timeouts, unsigned char *abuf,
	  int alen)
{
	struct pending *pd = arg;
	uint8_t fail[DNSMSG_HDR], *copy;

	(void)timeouts;
	g_npending--;
	if (status == ARES_SUCCESS && abuf != NULL && alen >= DNSMSG_HDR &&
	    (copy = malloc((size_t)alen)) != NULL) {
		if (pd->learn[0] != '\0')
			learn(pd->learn, abuf, alen);
		memcpy(copy, abuf, (size_t)alen);
		copy[0] = (uint8_t)(pd->id >> 8);	/* the caller's ID */
		copy[1] = (uint8_t)pd->id;
		deliver(pd, copy, (size_t)alen);
		free(copy);
	} else {
		deliver(pd, fail, servfail(pd->id, pd->bits, fail));
	}
	free(pd);
}

/* One query from `from`: answered here, forwarded, or dropped. */
static void
query(const uint8_t *msg, size_t len, int udp, int conn,
      const struct sockaddr_storage *from, socklen_t fromlen)
{
	static uint8_t out[DNS_ANSWER_MAX];
	struct sup_call who;
	struct pending pd, *p;
	int n;

	sup_dns_who(from, g_pol, &who);
	memset(&pd, 0, sizeof(pd));
	n = sup_dns_answer(&who, msg, len, out, sizeof(out), pd.learn,
			   sizeof(pd.learn));
	if (n < 0) {
		if (conn >= 0)
			conn_close(&g_conn[conn]);
		return;
	}
	pd.udp = udp;
	pd.conn = conn;
	pd.gen = conn >= 0 ? g_conn[conn].gen : 0;
	pd.id = (uint16_t)(msg[0] << 8 | msg[1]);
	pd.bits = msg[2];
	pd.to = *from;
	pd.tolen = fromlen;
	if (n > 0) {
		deliver(&pd, out, (size_t)n);
		return;
	}
	if (g_npending >= DNS_PENDING_MAX || (p = malloc(sizeof(*p))) == NULL) {
		deliver(&pd, out, servfail(pd.id, pd.bits, out));
		return;
	}
	*p = pd;
	g_npending++;
	if (conn >= 0)
		g_conn[conn].waiting = true;
	ares_send(udp >= 0 ? g_ch_udp : g_ch_tcp, msg, (int)len, forwarded, p);
}

static void
udp_read(int fd)
{
	uint8_t buf[DNS_QUERY_MAX];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	int i;

	/* a burst is read in turns with the rest of the loop */
	for (i = 0; i < 64; i++) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n == -1)
			return;
		if ((size_t)n > sizeof(buf) || n < DNSMSG_HDR)
			continue;	/* not a query we take */
		query(buf, (size_t)n, fd, -1, &from, fl);
	}
}

static void
tcp_accept(int lfd)
{
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	int fd, i;

	fd = accept4(lfd, (struct sockaddr *)&from, &fl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < DNS_CONNS_MAX && g_conn[i].fd >= 0; i++)
		;
	if (i == DNS_CONNS_MAX) {
		close(fd);	/* too many at once: the client retries */
		return;
	}
	g_conn[i].fd = fd;
	g_conn[i].inlen = 0;
	g_conn[i].last_ms = tun_now_ms();
	g_conn[i].peer = from;
}

/* Bytes from a connection; a whole query (length, message) is taken. */
static void
tcp_read(int i)
{
	struct conn *k = &g_conn[i];
	size_t want;
	ssize_t n;

	want = k->inlen < 2 ? 2 : 2 + (size_t)(k->in[0] << 8 | k->in[1]);
	n = read(k->fd, k->in + k->inlen, want - k->inlen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(k);
		return;
	}
	k->inlen += (size_t)n;
	k->last_ms = tun_now_ms();
	if (k->inlen == 2) {
		want = (size_t)(k->in[0] << 8 | k->in[1]);
		if (want > DNS_QUERY_MAX || want < DNSMSG_HDR)
			conn_close(k);	/* not a query: no buffer for it */
		return;
	}
	if (k->inlen < 2 || k->inlen < want)
		return;
	k->inlen = 0;
	query(k->in + 2, want - 2, -1, i, &k->peer, sizeof(k->peer));
}

static void
tcp_write(struct conn *k)
{
	ssize_t n = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(k);
		return;
	}
	k->outoff += (size_t)n;
	k->last_ms = tun_now_ms();
	if (k->outoff == k->outlen) {
		free(k->out);
		k->out = NULL;
	}
}

/* The c-ares sockets into the poll set; returns how many. */
static int
ares_add(ares_channel ch, struct pollfd *pf, ares_socket_t *socks)
{
	int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM), i, n = 0;

	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		if (!ARES_GETSOCK_READABLE(bits, i) &&
		    !ARES_GETSOCK_WRITABLE(bits, i))
			continue;
		pf[n].fd = socks[i];
		pf[n].events = (short)((ARES_GETSOCK_READABLE(bits, i) ?
					POLLIN : 0) |
				       (ARES_GETSOCK_WRITABLE(bits, i) ?
					POLLOUT : 0));
		pf[n].revents = 0;
		n++;
	}
	return n;
}

static void
ares_run(ares_channel ch, const struct pollfd *pf, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ares_process_fd(ch,
				pf[i].revents & (POLLIN | POLLERR | POLLHUP) ?
				pf[i].fd : ARES_SOCKET_BAD,
				pf[i].revents & POLLOUT ? pf[i].fd :
				ARES_SOCKET_BAD);
	/* the timeouts */
	ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static int
poll_ms(void)
{
	struct timeval max = { .tv_sec = 1 }, tv, *t;

	t = ares_timeout(g_ch_udp, &max, &tv);
	max = *t;
	t = ares_timeout(g_ch_tcp, &max, &tv);
	return (int)(t->tv_sec * 1000 + t->tv_usec / 1000) + 1;
}

static void *
loop(void *arg)
{
	struct pollfd pf[DNS_POLL_MAX];
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int idx[DNS_CONNS_MAX], i, n, nc, au, at;
	int64_t now;

	(void)arg;
	for (;;) {
		n = 0;
		for (i = 0; i < 2; i++) {
			pf[n++] = (struct pollfd){ .fd = g_udp[i],
						   .events = POLLIN };
			pf[n++] = (struct pollfd){ .fd = g_tcp[i],
						   .events = POLLIN };
		}
		nc = 0;
		now = tun_now_ms();
		for (i = 0; i < DNS_CONNS_MAX; i++) {
			struct conn *k = &g_conn[i];

			if (k->fd < 0)
				continue;
			if (now - k->last_ms > DNS_IDLE_MS) {
				conn_close(k);	/* idle, or a slow loris */
				continue;
			}
			idx[nc++] = i;
			pf[n++] = (struct pollfd){ .fd = k->fd,
				.events = (short)(k->out != NULL ? POLLOUT :
						  k->waiting ? 0 : POLLIN) };
		}
		au = ares_add(g_ch_udp, pf + n, socks);
		at = ares_add(g_ch_tcp, pf + n + au, socks);
		if (poll(pf, (nfds_t)(n + au + at), poll_ms()) == -1 &&
		    errno != EINTR)
			sleep(1);	/* never a busy loop */
		for (i = 0; i < 4; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			if (i % 2 == 0)
				udp_read(pf[i].fd);
			else
				tcp_accept(pf[i].fd);
		}
		for (i = 0; i < nc; i++) {
			struct conn *k = &g_conn[idx[i]];

			if (k->fd != pf[4 + i].fd)
				continue;
			if (pf[4 + i].revents & POLLOUT)
				tcp_write(k);
			else if (pf[4 + i].revents & (POLLIN | POLLHUP | POLLERR))
				tcp_read(idx[i]);
		}
		ares_run(g_ch_udp, pf + n, au);
		ares_run(g_ch_tcp, pf + n + au, at);
	}
	return NULL;
}

static int
channel(ares_channel *ch, int flags)
{
	struct ares_options o = { .flags = flags, .timeout = DNS_TIMEOUT_MS,
				  .tries = DNS_TRIES };

	return ares_init_options(ch, &o, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
				 ARES_OPT_TRIES) == ARES_SUCCESS ? 0 : -EAGAIN;
}

int
sup_dns_start(const struct sup_policy *p)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;
	int i, rc;

	g_pol = p;
	for (i = 0; i < DNS_CONNS_MAX; i++)
		g_conn[i].fd = -1;
	for (i = 0; i < 2; i++) {
		g_udp[i] = lo_socket(i, SOCK_DGRAM, &g_udp_sa[i]);
		g_tcp[i] = lo_socket(i, SOCK_STREAM, &g_tcp_sa[i]);
	}
	if (g_udp[0] < 0 && g_udp[1] < 0)
		return -EADDRNOTAVAIL;
	/* the answers of the real resolver as they are: a truncated one
	 * is the client's to retry over TCP, a refusal its to see */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
	    channel(&g_ch_udp, ARES_FLAG_IGNTC | ARES_FLAG_NOCHECKRESP) < 0 ||
	    channel(&g_ch_tcp, ARES_FLAG_USEVC | ARES_FLAG_NOCHECKRESP) < 0)
		return -EAGAIN;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &a, loop, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	g_on = true;
	return 0;
}
