/*
 * evid_close.c - a tunnel's close event: written when the program closes
 * the last fd naming the socket, or, for tunnels still open, when the
 * process exits (a destructor walks the fd table).  Counts and state come
 * from the kernel in one getsockopt(TCP_INFO); nothing was counted on the
 * way.
 *
 * What gets no event: a process killed by a signal or ending with _exit
 * or exit_group (no destructor runs), sockets closed by exec's
 * close-on-exec, and a forked or vforked child's copies (the record
 * belongs to the process that made the tunnel; a child that goes on using
 * an inherited tunnel leaves the parent's event to say what it saw when
 * it closed its own copy).
 */
#include "evid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/tcp.h>		/* tcpi_bytes_acked: not in glibc's */

#include "log.h"
#include "real.h"
#include "route.h"
#include "shim.h"

/* The kernel's TCP states (include/net/tcp_states.h), which glibc's
 * netinet/tcp.h names but linux/tcp.h, needed for tcp_info, does not. */
enum {
	ST_FIN_WAIT2 = 5,
	ST_TIME_WAIT = 6,
	ST_CLOSE = 7,
	ST_CLOSE_WAIT = 8,
	ST_LAST_ACK = 9,
	ST_CLOSING = 11,
};

/* Counters in the socket's own bytes: TCP_INFO counts the SYN in
 * bytes_acked, our FIN once it is acked, and the peer's FIN in
 * bytes_received. */
static bool
our_fin_acked(int st)
{
	return st == ST_FIN_WAIT2 || st == ST_TIME_WAIT;
}

static bool
peer_fin(int st)
{
	return st == ST_CLOSE_WAIT || st == ST_LAST_ACK ||
	       st == ST_CLOSING || st == ST_TIME_WAIT;
}

static long long
minus(unsigned long long v, unsigned long long less)
{
	return v > less ? (long long)(v - less) : 0;
}

/*
 * How the connection ended, from its TCP state when the program closed
 * it: still established or half-closed by the program: "program-close";
 * the peer's FIN came first: "peer-fin".  A socket already closed both
 * ways (TCP_CLOSE) asks SO_ERROR (a second getsockopt, on this path
 * only): a reset, another error, or none left to read - a reset the
 * program already read, or an orderly end after its own shutdown, which
 * the kernel no longer tells apart ("closed").
 */
static const char *
end_of(int fd, int st, int *err)
{
	socklen_t len = sizeof(*err);

	*err = 0;
	switch (st) {
	case ST_CLOSE_WAIT:
	case ST_LAST_ACK:
		return "peer-fin";
	case ST_CLOSE:
		if (real_getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == -1)
			*err = 0;
		if (*err == ECONNRESET || *err == EPIPE)
			return "reset";
		return *err != 0 ? "error" : "closed";
	default:
		return "program-close";
	}
}

/* The proxy the tunnel went through: a group's member, not the
 * rule's first (route_audit_fill's). */
static void
member(struct log_event *ev, struct route_abuf *b, const struct evid *v)
{
	const struct shim *s = shim_get();
	const struct cfg_proxy *px;

	if (v->px < 0 || s->cfg == NULL || (size_t)v->px >= s->cfg->nproxies)
		return;
	px = &s->cfg->proxies[v->px];
	url_redact(&px->url, b->url, sizeof(b->url));
	ev->proxy = px->name;
	ev->proxy_url = b->url;
}

/* The TLS part: what the program sent first and what came back. */
static void
tls_of(const struct evid *v, struct log_close *c)
{
	c->alert = -1;
	if (v->out != EVID_OUT_HELLO) {
		c->tls = "none";
		return;
	}
	c->sni = v->hello.sni[0] != '\0' ? v->hello.sni : NULL;
	c->alpn = v->hello.alpn[0] != '\0' ? v->hello.alpn : NULL;
	switch (v->in) {
	case EVID_IN_HELLO:
		c->tls = "established";
		if (!v->prog_alert)
			break;
		c->tls = "alert";
		c->alert = v->prog_desc;
		c->alert_level = tlspeek_level_str(v->prog_level);
		c->alert_sender = "program";
		break;
	case EVID_IN_ALERT:
		c->tls = "alert";
		c->alert = v->alert_desc;
		c->alert_level = tlspeek_level_str(v->alert_level);
		c->alert_sender = "peer";
		break;
	case EVID_IN_OTHER:
		c->tls = "not-tls";
		break;
	default:
		/* nothing read: nothing came, or the program never read it */
		c->tls = c->bytes_down > 0 ? "unseen" : "no-reply";
	}
}

static void
emit(int fd, struct evid *v, enum evid_end why)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct log_close c;
	struct log_event ev;
	struct route_abuf b;
	int64_t now = tun_now_ms(), ready, first;
	int err = 0, st;
	bool both;

	memset(&c, 0, sizeof(c));
	memset(&ti, 0, sizeof(ti));
	c.bytes_up = c.bytes_down = -1;
	st = -1;
	if (real_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= offsetof(struct tcp_info, tcpi_bytes_received) +
		   sizeof(ti.tcpi_bytes_received))
		st = ti.tcpi_state;
	if (v->refused)
		c.end = "refused";
	else if (why == EVID_END_EXIT)
		c.end = "process-exit";
	else
		c.end = st >= 0 ? end_of(fd, st, &err) : "error";
	if (st >= 0) {
		/* closed both ways without an error: both FINs counted */
		both = st == ST_CLOSE && err == 0;
		c.bytes_up = minus(ti.tcpi_bytes_acked, 1ull + v->hs_up +
				   (our_fin_acked(st) || both ? 1 : 0));
		c.bytes_down = minus(ti.tcpi_bytes_received, v->hs_down +
				     (peer_fin(st) || both ? 1ull : 0));
	}
	c.duration_ms = now - v->start_ms;
	ready = __atomic_load_n(&v->ready_ms, __ATOMIC_ACQUIRE);
	first = __atomic_load_n(&v->first_ms, __ATOMIC_ACQUIRE);
	if (ready == 0)
		ready = v->start_ms;
	c.first_byte_ms = first == 0 ? -1 : first > ready ? first - ready : 0;
	tls_of(v, &c);
	c.sni_mismatch = v->sni_mismatch;
	route_audit_fill(&ev, &b, "close", "tcp", &v->dst, &v->dec, NULL, err,
			 NULL, -1);
	member(&ev, &b, v);
	ev.close = &c;
	log_event(&ev);
}

void
evid_end(int fd, struct evid *v, bool ready, enum evid_end why)
{
	int saved = errno;

	if (!evid_drop(v))
		return;		/* another fd still names the socket */
	if (ready && v->pid == getpid() && log_json_enabled() &&
	    !__atomic_exchange_n(&v->done, 1, __ATOMIC_ACQ_REL))
		emit(fd, v, why);
	evid_free(v);
	errno = saved;
}

void
evid_mismatch(struct evid *v, bool refused)
{
	const struct shim *s = shim_get();
	char dstr[URL_HOST_MAX + 16], rstr[512], msg[TLSPEEK_SNI_MAX + 96];
	struct log_close c;
	struct log_event ev;
	struct route_abuf b;

	route_dest_str(&v->dst, dstr, sizeof(dstr));
	route_rule_str(s, &v->dec, rstr, sizeof(rstr));
	snprintf(msg, sizeof(msg), "TLS server name '%s' is not the routed "
		 "name%s", v->hello.sni, refused ? " (sni_must_match on)" : "");
	log_msg(LOG_WARN, "%s %s: %s (%s)", refused ? "closed" : "tls to",
		dstr, msg, rstr);
	if (!log_json_enabled())
		return;
	memset(&c, 0, sizeof(c));
	c.sni = v->hello.sni;
	c.alpn = v->hello.alpn[0] != '\0' ? v->hello.alpn : NULL;
	c.sni_mismatch = true;
	route_audit_fill(&ev, &b, "sni-mismatch", "tcp", &v->dst, &v->dec,
			 refused ? "block" : NULL, refused ? ECONNRESET : 0,
			 msg, -1);
	member(&ev, &b, v);
	ev.close = &c;
	log_event(&ev);
}

/*
 * When the process exits (the exit call or a return from main; not
 * _exit, not a fatal signal), every tunnel still open gets its event.  A
 * vforked child that calls exit shares the parent's memory: the pid check
 * leaves the parent's records alone.
 */
__attribute__((destructor)) static void
evid_exit(void)
{
	struct fd_entry **page, *e;
	struct evid *v;
	unsigned int p, i;
	pid_t me;

	if (!__atomic_load_n(&fdtab_live, __ATOMIC_ACQUIRE))
		return;
	me = getpid();
	for (p = 0; p < FDTAB_PAGES; p++) {
		page = __atomic_load_n(&fdtab_pages[p], __ATOMIC_ACQUIRE);
		for (i = 0; page != NULL && i < FDTAB_PAGE; i++) {
			e = __atomic_load_n(&page[i], __ATOMIC_ACQUIRE);
			v = e != NULL ? __atomic_load_n(&e->evid,
							__ATOMIC_ACQUIRE) : NULL;
			/* the record stays with the entry (nothing is freed:
			 * the exit may come from a signal handler that
			 * interrupted malloc); dup'ed copies share it, and
			 * done lets one of them write its event */
			if (v == NULL || v->pid != me ||
			    __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) !=
			    FD_TUNNEL_READY || !log_json_enabled() ||
			    __atomic_exchange_n(&v->done, 1, __ATOMIC_ACQ_REL))
				continue;
			emit((int)(p << FDTAB_PAGE_BITS | i), v, EVID_END_EXIT);
		}
	}
}
