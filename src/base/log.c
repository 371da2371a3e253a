/*
 * log.c - one line per event: human text on stderr, and the JSON audit
 * log in a file.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2).  The audit log is opened per line with O_APPEND (so lines
 * from many processes never interleave, and the library holds no
 * long-lived fd that an application could close or dup2 over).
 */
#include "buf.h"
#include "log.h"
#include "log_syslog.h"
#include "real.h"
#include "tlspeek.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_PATH_MAX 4096
#define LOG_EXE_MAX 512

static int log_level = LOG_WARN;
static char log_path[LOG_PATH_MAX];	/* empty: no audit log */
static bool log_path_env;		/* SHIM_LOG chose it */
/* Under a proxywrap session: where its lines go (session.h), else NULL. */
static int (*log_sink)(int which);
static bool log_sink_audit;		/* the session has an audit log */

void
log_init(bool trusted)
{
	const char *v, *p;

	log_level = LOG_WARN;
	log_path[0] = '\0';
	log_path_env = false;
	if (!trusted)
		return;
	v = getenv("SHIM_VERBOSE");
	if (v != NULL && v[0] >= '0' && v[0] <= '9' && v[1] == '\0')
		log_level = v[0] - '0';
	p = getenv("SHIM_LOG");
	if (p != NULL && p[0] != '\0' && strlen(p) < sizeof(log_path)) {
		memcpy(log_path, p, strlen(p) + 1);
		log_path_env = true;
	}
}

void
log_use_session(int level, bool audit, int (*sink)(int which))
{
	log_level = level;
	log_path[0] = '\0';
	log_path_env = true;	/* the rule file's `log` changes nothing */
	log_sink_audit = audit;
	log_sink = sink;
}

void
log_set_default_file(const char *path)
{
	if (log_path_env || path == NULL || strlen(path) >= sizeof(log_path))
		return;
	memcpy(log_path, path, strlen(path) + 1);
}

bool
log_enabled(enum log_level lv)
{
	return (int)lv <= log_level;
}

bool
log_json_enabled(void)
{
	return log_path[0] != '\0' || log_sink_audit || log_syslog_on();
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], esc[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	int n, fd;
	size_t len;

	if (!log_enabled(lv)) {
		errno = saved;
		return;
	}
	memcpy(line, "proxywrap: ", sizeof("proxywrap: ") - 1);
	va_start(ap, fmt);
	n = vsnprintf(line + sizeof("proxywrap: ") - 1,
		      sizeof(line) - sizeof("proxywrap: "), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	/* names from the program and tokens from the rule file are in the
	 * text: a CR or LF must not forge a line, nor an escape sequence
	 * reach the terminal */
	len = sizeof("proxywrap: ") - 1 +
	      buf_escape(line + sizeof("proxywrap: ") - 1, esc,
			 sizeof(line) - sizeof("proxywrap: "));
	memcpy(line + sizeof("proxywrap: ") - 1, esc,
	       len - (sizeof("proxywrap: ") - 1));
	line[len++] = '\n';
	/* One write: a short write on a pipe is possible but never mixed.
	 * A session's lines go to proxywrap's stderr, wherever the
	 * program's own went. */
	fd = log_sink != NULL ? log_sink(LOG_SINK_HUMAN) : -1;
	if (real_write(fd >= 0 ? fd : STDERR_FILENO, line, len) == -1) {
		/* nothing sensible to do: logging must not fail a call */
	}
	errno = saved;
}

size_t
log_json_str(const char *s, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	const char *add;
	size_t len = 0, alen, u;

	if (n < 7)
		return 0;
	if (s == NULL) {
		memcpy(buf, "null", 5);
		return 4;
	}
	buf[len++] = '"';
	while (*p != '\0') {
		add = esc;
		alen = 2;
		esc[0] = '\\';
		u = 1;
		switch (*p) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				alen = 6;
			} else if (*p < 0x80) {
				add = (const char *)p;
				alen = 1;
			} else {
				u = buf_utf8_len(p);
				if (u == 0) {
					add = "\\ufffd";
					alen = 6;
					u = 1;
				} else {
					add = (const char *)p;
					alen = u;
				}
			}
		}
		if (len + alen + 2 > n)
			break;	/* cut whole characters only */
		memcpy(buf + len, add, alen);
		len += alen;
		p += u;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return len;
}

const char *
log_errno_name(int e)
{
	const char *s = strerrorname_np(e);

	return s != NULL ? s : "E?";
}

/* A bounded JSON writer: text that does not fit is dropped. */
struct jw {
	char *buf;
	size_t n, len;
};

static void
jw_raw(struct jw *w, const char *s)
{
	size_t l = strlen(s);

	if (w->len + l + 1 < w->n) {
		memcpy(w->buf + w->len, s, l + 1);
		w->len += l;
	}
}

/* "key":"value" (or null), the value at most max bytes escaped. */
static void
jw_str(struct jw *w, const char *key, const char *v, size_t max)
{
	jw_raw(w, key);
	if (max > w->n - w->len - 1)
		max = w->n - w->len - 1;
	w->len += log_json_str(v, w->buf + w->len, max);
}

static void
jw_num(struct jw *w, const char *key, long long v)
{
	char num[32];

	jw_raw(w, key);
	if (v < 0) {
		jw_raw(w, "null");
		return;
	}
	snprintf(num, sizeof(num), "%lld", v);
	jw_raw(w, num);
}

/* The name of a TLS alert (RFC 8446 §6), for the close event. */
static const char *
alert_name(int code)
{
	return code >= 0 && code <= 255 ? tlspeek_alert_str((uint8_t)code)
					: NULL;
}

static void
jw_close(struct jw *w, const struct log_close *c)
{
	if (c->end != NULL) {
		jw_num(w, ",\"bytes_up\":", c->bytes_up);
		jw_num(w, ",\"bytes_down\":", c->bytes_down);
		jw_num(w, ",\"duration_ms\":", c->duration_ms);
		jw_num(w, ",\"first_byte_ms\":", c->first_byte_ms);
		jw_str(w, ",\"end\":", c->end, 40);
	}
	jw_str(w, ",\"tls\":{\"sni\":", c->sni, 300);
	jw_str(w, ",\"alpn\":", c->alpn, 160);
	if (c->end != NULL) {
		jw_str(w, ",\"outcome\":", c->tls, 40);
		if (c->alert >= 0) {
			jw_str(w, ",\"alert\":{\"level\":", c->alert_level,
			       40);
			jw_str(w, ",\"description\":",
			       alert_name(c->alert) != NULL ?
			       alert_name(c->alert) : "unknown", 60);
			jw_num(w, ",\"code\":", c->alert);
			jw_str(w, ",\"sender\":", c->alert_sender, 40);
			jw_raw(w, "}");
		} else {
			jw_raw(w, ",\"alert\":null");
		}
	}
	jw_raw(w, "}");
	jw_raw(w, c->sni_mismatch ? ",\"sni_mismatch\":true"
				  : ",\"sni_mismatch\":false");
}

size_t
log_event_format(const struct log_event *ev, const char *time, long pid,
		 const char *exe, char *buf, size_t n)
{
	struct jw w = { buf, n - 1, 0 };	/* room for '\n' */
	char addr[INET6_ADDRSTRLEN];
	const char *a = NULL;

	if (ev->addr != NULL && (ev->family == AF_INET ||
				 ev->family == AF_INET6))
		a = inet_ntop(ev->family, ev->addr, addr, sizeof(addr));
	buf[0] = '\0';
	jw_str(&w, "{\"time\":", time, 40);
	jw_num(&w, ",\"pid\":", pid);
	jw_str(&w, ",\"exe\":", exe, 500);
	jw_str(&w, ",\"event\":", ev->event, 40);
	jw_str(&w, ",\"proto\":", ev->proto, 16);
	jw_str(&w, ",\"dest\":{\"name\":", ev->name, 520);
	jw_str(&w, ",\"addr\":", a, 60);
	jw_num(&w, ",\"port\":", ev->port);
	jw_raw(&w, "}");
	if (ev->path != NULL)
		jw_str(&w, ",\"path\":", ev->path, 500);
	jw_str(&w, ",\"rule\":{\"at\":", ev->rule_at, 300);
	jw_str(&w, ",\"text\":", ev->rule_text, 700);
	jw_raw(&w, "}");
	jw_str(&w, ",\"action\":", ev->action, 16);
	if (ev->proxy != NULL || ev->proxy_url != NULL) {
		jw_str(&w, ",\"proxy\":{\"name\":", ev->proxy, 100);
		jw_str(&w, ",\"url\":", ev->proxy_url, 400);
		if (ev->group != NULL)
			jw_str(&w, ",\"group\":", ev->group, 100);
		jw_raw(&w, "}");
	} else {
		jw_raw(&w, ",\"proxy\":null");
	}
	jw_str(&w, ",\"outcome\":", ev->outcome != NULL ? ev->outcome :
		   ev->err == 0 ? "ok" : log_errno_name(ev->err), 40);
	jw_str(&w, ",\"error\":", ev->err == 0 && ev->msg == NULL ? NULL :
		   ev->msg != NULL ? ev->msg : strerror(ev->err), 400);
	jw_num(&w, ",\"handshake_ms\":", ev->handshake_ms);
	if (ev->proxy_protocol > 0)
		jw_num(&w, ",\"proxy_protocol\":", ev->proxy_protocol);
	if (ev->proxy_tls != NULL)
		jw_str(&w, ",\"proxy_tls\":", ev->proxy_tls, 24);
	if (ev->proxy_tls_resumed)
		jw_raw(&w, ",\"proxy_tls_resumed\":true");
	if (ev->proxy_h2_stream > 0) {
		jw_num(&w, ",\"proxy_h2\":{\"stream\":", ev->proxy_h2_stream);
		jw_raw(&w, ev->proxy_h2_stream > 1 ? ",\"shared\":true}" :
		       ",\"shared\":false}");
	}
	if (ev->close != NULL)
		jw_close(&w, ev->close);
	jw_raw(&w, "}");
	buf[w.len++] = '\n';
	buf[w.len] = '\0';
	return w.len;
}

void
log_event_init(struct log_event *ev, const char *event)
{
	memset(ev, 0, sizeof(*ev));
	ev->event = event;
	ev->port = -1;
	ev->handshake_ms = -1;
}

/* readlink(/proc/self/exe), once per process image. */
static const char *
log_exe(void)
{
	static char exe[LOG_EXE_MAX];
	static int done;
	ssize_t len;

	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return exe;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return exe;
}

/*
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" for a time in seconds since the epoch, with
 * the days-to-civil-date arithmetic done here: glibc's gmtime_r takes the
 * time-zone lock, and a signal handler whose refused connect is logged
 * while the interrupted code holds it would wait for ever.
 */
void
log_utc(long long secs, int ms, char *buf, size_t n)
{
	long long days = secs / 86400, rem = secs % 86400, era, doe, yoe, y;
	unsigned int doy, mp, d, m;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	days += 719468;			/* from 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = (unsigned int)(doe - (365 * yoe + yoe / 4 - yoe / 100));
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	snprintf(buf, n, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03dZ", y, m, d,
		 rem / 3600, rem / 60 % 60, rem % 60, ms);
}

void
log_event(const struct log_event *ev)
{
	char line[LOG_JSON_MAX + 2], now[40];
	struct timespec ts;
	size_t len;
	int saved = errno, fd, e;

	if (!log_json_enabled())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	log_utc(ts.tv_sec, (int)(ts.tv_nsec / 1000000), now, sizeof(now));
	len = log_event_format(ev, now, (long)getpid(), log_exe(), line,
			       sizeof(line));
	if (log_sink_audit) {
		/* the session's fd, opened once by proxywrap: a process that
		 * dropped its privileges still writes it */
		fd = log_sink(LOG_SINK_AUDIT);
		if (fd >= 0 && real_write(fd, line, len) == -1) {
			/* logging must not fail a call */
		}
	} else if (log_path[0] != '\0') {
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd != -1) {
			if (real_write(fd, line, len) == -1) {
				/* logging must not fail a call */
			}
			real_close(fd);
		}
	}
	e = log_syslog_send(ev->event, now, line, len);
	if (e != 0)
		log_msg(LOG_WARN, "log syslog: cannot send to %s: %s; audit "
			"events from this process do not go to syslog",
			log_syslog_path(), strerror(e));
	errno = saved;
}
