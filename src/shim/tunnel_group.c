/*
 * tunnel_group.c - which proxy each hop of a tunnel goes through, and
 * what an attempt's end teaches the session (tunnel_int.h).
 *
 * A hop names one proxy or a group.  Before an attempt every hop gets its
 * proxy: a group's member chosen by mode and health (health.h), a lone
 * proxy as it is (it is tried even while ejected: nothing else could
 * be), unless it refused our credentials earlier in the session or is at
 * max_conns.  When an attempt fails at a group's hop in a way another
 * member could fix (a dead proxy, a 5xx, a 429), the engine disconnects
 * the socket and starts again with another member for that hop, within
 * the same connect_timeout: the program sees one connect() and, only when
 * every member failed, one error (the last attempt's errno) with one log
 * line naming each member and why.  Each attempt and each skipped member
 * is one audit event.  Calls run down only: the engine (tunnel.c) calls
 * here, this calls proxyhealth.c, tunnel_base.c and the log.
 */
#include "tunnel_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fakedns.h"
#include "log.h"
#include "proxyhealth.h"

/* The hop's candidates: its group's members, or its one proxy. */
static int
hop_members(const struct tun *t, int k, const int **m)
{
	const struct cfg_group *g = cfg_hop_group(t->cfg, t->rule, k);

	if (g == NULL) {
		*m = &t->rule->chain[k];
		return 1;
	}
	*m = g->members;
	return g->nmembers;
}

static int
member_index(const struct tun *t, int k, int px)
{
	const int *m;
	int n = hop_members(t, k, &m), i;

	for (i = 0; i < n; i++)
		if (m[i] == px)
			return i;
	return 0;
}

static void
trail_add(struct tun *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
trail_add(struct tun *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->traillen >= sizeof(t->trail) - 1)
		return;
	if (t->traillen > 0 && !(t->traillen >= 2 &&
				 t->trail[t->traillen - 2] == ':')) {
		n = snprintf(t->trail + t->traillen,
			     sizeof(t->trail) - t->traillen, "; ");
		t->traillen += (size_t)n;
		if (t->traillen >= sizeof(t->trail))
			t->traillen = sizeof(t->trail) - 1;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->trail + t->traillen, sizeof(t->trail) - t->traillen,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		t->traillen += (size_t)n;
	if (t->traillen >= sizeof(t->trail))
		t->traillen = sizeof(t->trail) - 1;
}

/* "group g: " once, before the first member's entry. */
static void
trail_group(struct tun *t, int k)
{
	const struct cfg_group *g = cfg_hop_group(t->cfg, t->rule, k);

	if (g != NULL && t->traillen == 0)
		trail_add(t, "group %s: ", g->name);
}

static bool
has_group(const struct tun *t)
{
	int k;

	for (k = 0; k < t->rule->nchain; k++)
		if (t->rule->group[k] != 0)
			return true;
	return false;
}

/* One audit event for proxy px at hop k: an attempt's end, or a skip. */
static void
audit(const struct tun *t, int k, int px, const char *event,
      const char *outcome, int err, const char *msg)
{
	const struct cfg_proxy *p = &t->cfg->proxies[px];
	const struct cfg_group *g = cfg_hop_group(t->cfg, t->rule, k);
	char at[300], url[URL_HOST_MAX + 2 * URL_CRED_MAX + 32];
	struct log_event ev;

	/* a rule without groups has one attempt: its connect event */
	if (!log_json_enabled() || !has_group(t))
		return;
	log_event_init(&ev, event);
	ev.proto = t->udp ? "udp" : "tcp";
	ev.name = t->dst.name[0] != '\0' ? t->dst.name : NULL;
	if (t->dst.family != 0 && (t->dst.name[0] == '\0' ||
				   !fdns_is_fake(t->dst.family, t->dst.addr))) {
		ev.family = t->dst.family;
		ev.addr = t->dst.addr;
	}
	ev.port = t->dst.port;
	if (t->rule->line > 0)
		snprintf(at, sizeof(at), "%s:%d", t->cfg->file, t->rule->line);
	else
		snprintf(at, sizeof(at), "-p");
	ev.rule_at = at;
	ev.rule_text = t->rule->text;
	ev.action = "via";
	url_redact(&p->url, url, sizeof(url));
	ev.proxy = p->name;
	ev.proxy_url = url;
	ev.group = g != NULL ? g->name : NULL;
	ev.outcome = outcome;
	ev.err = err;
	ev.msg = msg;
	ev.handshake_ms = tun_now_ms() - t->started_ms;
	log_event(&ev);
}

/* Why a member was passed over, for the log line and the audit event. */
static void
skip_why(const struct tun *t, int px, enum hl_state st, int64_t now,
	 char *buf, size_t n)
{
	struct hl_proxy *e = ph_entry(t->cfg, px);
	int64_t left = __atomic_load_n(&e->until_ms, __ATOMIC_ACQUIRE) - now;

	if (st == HL_DOWN)
		snprintf(buf, n, "%s for %lld.%03lld s more",
			 hl_why_str((enum hl_why)__atomic_load_n(
				 &e->why, __ATOMIC_ACQUIRE)),
			 (long long)(left / 1000), (long long)(left % 1000));
	else if (st == HL_FULL)
		snprintf(buf, n, "at max_conns=%d", t->cfg->proxies[px].max_conns);
	else
		snprintf(buf, n, "%s", hl_state_str(st));
}

/* Note the members passed over (not the one chosen, not those tried). */
static void
note_skips(struct tun *t, int k, const int *m, int n, const enum hl_state *st,
	   int chosen, int64_t now)
{
	char why[96];
	int i;

	for (i = 0; i < n; i++) {
		if (i == chosen || st[i] == HL_TRIED || st[i] == HL_UP ||
		    st[i] == HL_HALF_OPEN)
			continue;
		skip_why(t, m[i], st[i], now, why, sizeof(why));
		trail_group(t, k);
		if (n > 1 || chosen < 0)
			trail_add(t, "%s skipped: %s",
				  t->cfg->proxies[m[i]].name, why);
		audit(t, k, m[i], "skip", "skipped", 0, why);
	}
}

/*
 * Hop k's proxy for the next attempt: 0 (t->px[k] set), -EAGAIN (every
 * candidate left is at max_conns, or being tried by another connect:
 * wait), -1 (none: the connect fails).
 */
static int
pick(struct tun *t, int k, uint32_t turn, int64_t now, int64_t trial_end)
{
	struct hl_proxy *e[CFG_GROUP_MAX];
	enum hl_state st[CFG_GROUP_MAX];
	const struct cfg_group *g = cfg_hop_group(t->cfg, t->rule, k);
	const int *m;
	int n = hop_members(t, k, &m), i, idx;
	uint32_t full = 0;

	for (i = 0; i < n; i++) {
		e[i] = ph_entry(t->cfg, m[i]);
		if (!(t->tried[k] & (1u << i)) && ph_full(t->cfg, m[i]))
			full |= 1u << i;
	}
	idx = hl_pick(e, n, g != NULL ? g->mode : CFG_FAILOVER, turn,
		      ph_random(), full, t->tried[k], now, trial_end, st);
	if (idx == HL_PICK_WAIT)
		return -EAGAIN;		/* another connect's trial decides */
	for (i = 0; idx < 0 && i < n; i++)
		if (st[i] == HL_FULL)
			return -EAGAIN;
	note_skips(t, k, m, n, st, idx, now);
	if (idx < 0)
		return -1;
	t->px[k] = m[idx];
	return 0;
}

/* Do other members of hop k remain for a next attempt? */
static bool
others_left(const struct tun *t, int k)
{
	const int *m;
	int n = hop_members(t, k, &m), i, untried = 0;

	for (i = 0; i < n; i++)
		if (!(t->tried[k] & (1u << i)))
			untried++;
	return untried > 1;
}

/* The attempt's own deadline: half the time left while another member
 * could still be tried (a member that hangs must not eat the budget). */
static void
set_attempt_deadline(struct tun *t, int64_t now)
{
	int k;

	t->attempt_deadline_ms = t->deadline_ms;
	for (k = 0; k < t->rule->nchain; k++)
		if (cfg_hop_group(t->cfg, t->rule, k) != NULL &&
		    others_left(t, k)) {
			t->attempt_deadline_ms = now + (t->deadline_ms - now) / 2;
			return;
		}
}

/* Hop `from`'s proxy (and, with all, every later hop's) picked, and the
 * leases taken: 0, -EAGAIN (t waits in TUN_WAIT_SLOT), -1. */
static int
pick_from(struct tun *t, int from, bool all)
{
	int64_t now = tun_now_ms();
	const struct cfg_group *g;
	int k, rc, full_hop;

	t->slot_wait_ms = 0;
	set_attempt_deadline(t, now);
	for (k = from; k < t->rule->nchain; k++) {
		g = cfg_hop_group(t->cfg, t->rule, k);
		rc = pick(t, k, g != NULL && t->attempts == 0 ?
			  ph_turn(t->cfg, g) : 0, now, t->attempt_deadline_ms);
		if (rc == -EAGAIN) {
			t->wait_hop = k;
			t->wait_all = all;
			goto wait;
		}
		if (rc < 0)
			return -1;
		if (!all)
			break;
	}
	t->lease = ph_lease(t->cfg, t->px, t->rule->nchain, &full_hop);
	if (t->lease == NULL && full_hop >= 0) {
		/* another connect took the last slot: look at every hop's
		 * choice again (none holds a trial it would wait for) */
		t->wait_hop = full_hop;
		t->wait_all = false;
		goto wait;
	}
	return 0;
wait:
	t->slot_wait_ms = now + TUN_SLOT_POLL_MS;
	if (t->slot_wait_ms > t->deadline_ms)
		t->slot_wait_ms = t->deadline_ms;
	t->state = TUN_WAIT_SLOT;
	t->want = 0;
	return -EAGAIN;
}

/* Nothing could be tried: fail t with what the trail says. */
static int
none_usable(struct tun *t)
{
	int err = t->err < 0 ? t->err : -EACCES;
	const struct cfg_group *g = cfg_hop_group(t->cfg, t->rule, 0);

	if (t->attempts == 0 && t->rule->nchain == 1 && g == NULL) {
		char pstr[TUN_MSG_MAX / 2];

		tun_proxy_str(t, 0, pstr, sizeof(pstr));
		t->traillen = 0;
		t->trail[0] = '\0';
		return tun_fail(t, -EACCES, "proxy %s refused our credentials "
				"(407) earlier in this session: not asked "
				"again", pstr);
	}
	return tun_fail(t, err, "no usable proxy");
}

int
grp_begin(struct tun *t)
{
	int k;

	for (k = 0; k < t->rule->nchain; k++)
		t->px[k] = t->rule->chain[k];
	if (pick_from(t, 0, true) < 0 && t->state != TUN_WAIT_SLOT)
		return none_usable(t);
	return t->state == TUN_WAIT_SLOT ? -EAGAIN : 0;
}

int
grp_slot_retry(struct tun *t)
{
	int rc;

	if (tun_now_ms() >= t->deadline_ms) {
		trail_add(t, "no proxy free for %d ms (max_conns)",
			  t->cfg->connect_timeout_ms);
		return tun_fail(t, -ETIMEDOUT, "no proxy free for %d ms "
				"(max_conns)", t->cfg->connect_timeout_ms);
	}
	t->state = TUN_CONNECTING;
	rc = pick_from(t, t->wait_hop, t->wait_all);
	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		return none_usable(t);
	return 0;
}

/* What an error says of the proxy, when the step did not say. */
static enum hl_outcome
classify(int err)
{
	switch (-err) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case EPROTO:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return HL_FAILED;
	default:
		return HL_FINAL;
	}
}

void
grp_done(struct tun *t)
{
	int64_t now = tun_now_ms();
	int k;

	(void)now;
	for (k = 0; k < t->rule->nchain; k++)
		hl_answered(ph_entry(t->cfg, t->px[k]), t->attempt_started_ms);
	if (t->attempts > 0)
		audit(t, t->rule->nchain - 1, t->px[t->rule->nchain - 1],
		      "attempt", NULL, 0, NULL);
}

int
grp_failed(struct tun *t)
{
	int64_t now = tun_now_ms();
	int k = t->state == TUN_FAILED && t->hop < t->rule->nchain ? t->hop : 0;
	enum hl_outcome o;
	int i;

	if (t->rule->nchain == 0)
		return 0;
	o = t->outcome >= 0 ? (enum hl_outcome)t->outcome : classify(t->err);
	if (o == HL_FINAL)
		hl_answered(ph_entry(t->cfg, t->px[k]), t->attempt_started_ms);
	else
		hl_report(ph_entry(t->cfg, t->px[k]), o, now, t->retry_ms,
			  ph_random());
	for (i = 0; i < k; i++)		/* they answered */
		hl_answered(ph_entry(t->cfg, t->px[i]), t->attempt_started_ms);
	if (t->lease != NULL) {
		fd_ref_put(t->lease);
		t->lease = NULL;
	}
	audit(t, k, t->px[k], "attempt", NULL, -t->err, t->msg);
	t->attempts++;
	if (cfg_hop_group(t->cfg, t->rule, k) == NULL) {
		/* a lone proxy: its message stands alone, as ever, unless a
		 * group's member failed before it */
		if (t->traillen > 0)
			trail_add(t, "%s", t->msg);
		return 0;
	}
	trail_group(t, k);
	trail_add(t, "%s", t->msg);
	t->tried[k] |= 1u << member_index(t, k, t->px[k]);
	if (!hl_retryable(o) || now >= t->deadline_ms)
		return 0;
	if (pick_from(t, k, false) < 0)
		return t->state == TUN_WAIT_SLOT ? -EAGAIN : 0;
	return 1;
}

void
grp_free(struct tun *t)
{
	if (t->lease != NULL) {
		fd_ref_put(t->lease);
		t->lease = NULL;
	}
}
