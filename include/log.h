/*
 * log.h - one line per event, written with a single write(2) so lines
 * from threads and processes never interleave.  Human text by default:
 *   proxywrap: blocked 93.184.216.34:443 (shim.conf:12 block 93.184.0.0/16)
 * Never prints credentials: callers pass redacted URLs (url_redact).
 * Every function saves and restores errno.
 */
#ifndef PROXYWRAP_LOG_H
#define PROXYWRAP_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_ERR = 0,	/* config errors, internal failures */
	LOG_WARN = 1,	/* blocked or failed connections */
	LOG_INFO = 2,	/* every decision (-v) */
	LOG_DEBUG = 3,	/* handshake states (-vv) */
};

/* Open SHIM_LOG / read SHIM_VERBOSE (trusted=false: ignore env). */
void log_init(bool trusted);

/*
 * Under a proxywrap session (session.h): the level is the session's and
 * the environment's SHIM_LOG / SHIM_VERBOSE are ignored; sink(which)
 * gives the fd for human lines (LOG_SINK_HUMAN; -1: stderr) and, with
 * audit, for JSON lines (LOG_SINK_AUDIT; -1: dropped).
 */
#define LOG_SINK_HUMAN 1	/* = SESS_HUMAN */
#define LOG_SINK_AUDIT 2	/* = SESS_AUDIT */
void log_use_session(int level, bool audit, int (*sink)(int which));

/* True when a message at `lv` would be written. */
bool log_enabled(enum log_level lv);

/* "proxywrap: " + formatted text + "\n", one write.  Lines are cut at
 * LOG_LINE_MAX bytes. */
void log_msg(enum log_level lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG_LINE_MAX 1024

/*
 * The audit log: with SHIM_LOG (proxywrap --log) or `log PATH` in the rule
 * file, every decision is also written there as one JSON object per line,
 * appended with one write(2) on an O_APPEND fd, at most LOG_JSON_MAX bytes
 * (fields are cut to fit), so lines from many processes never interleave:
 *   {"time":"2024-05-01T12:00:00.123Z","pid":42,"exe":"/usr/bin/curl",
 *    "event":"connect","proto":"tcp","dest":{"name":"example.com",
 *    "addr":"198.18.0.1","port":443},"rule":{"at":"shim.conf:12",
 *    "text":"via corp *"},"action":"via","proxy":{"name":"corp",
 *    "url":"http://alice:***@198.18.0.2:3128"},"outcome":"ok",
 *    "error":null,"handshake_ms":3}
 * Human lines stay on stderr (at SHIM_VERBOSE); the file gets JSON only.
 * Absent fields are null.  No secrets: callers pass redacted URLs.
 */
#define LOG_JSON_MAX 4000

/*
 * A tunnel's end (event "close"), or with end NULL only the TLS names
 * (event "sni-mismatch"):
 *   "bytes_up":N,"bytes_down":N,"duration_ms":N,"first_byte_ms":N,
 *   "end":"program-close","tls":{"sni":"example.com","alpn":"h2,http/1.1",
 *   "outcome":"alert","alert":{"level":"fatal","description":
 *   "protocol_version","code":70,"sender":"peer"}},"sni_mismatch":false
 */
struct log_close {
	long long bytes_up, bytes_down;	/* -1: null */
	long long duration_ms;
	long long first_byte_ms;	/* -1: null (nothing read) */
	const char *end;		/* "program-close", "peer-fin",
					 * "reset", "closed", "error",
					 * "process-exit", "refused"; NULL:
					 * the TLS part only */
	const char *tls;		/* "established", "alert", "not-tls",
					 * "none", "no-reply", "unseen" */
	const char *sni, *alpn;		/* NULL: none offered */
	int alert;			/* tls "alert": its code, else -1 */
	const char *alert_level;	/* "warning", "fatal" */
	const char *alert_sender;	/* "peer" (the destination's answer to
					 * the ClientHello), "program" (its
					 * answer to the ServerHello) */
	bool sni_mismatch;
};

struct log_event {
	const char *event;	/* "resolve", "connect", "block",
				 * "exec-refused", "exec-allowed",
				 * "proxy-error", "close",
				 * "sni-mismatch", "attempt" (one proxy of
				 * a connect), "skip" (a group's member
				 * not tried, msg says why) */
	const char *proto;	/* "tcp", "udp", "dns", or NULL */
	const char *name;	/* destination name, or NULL */
	int family;		/* AF_INET/AF_INET6 with addr, else 0 */
	const void *addr;	/* 4 or 16 bytes, network order */
	int port;		/* -1: none */
	const char *path;	/* exec events: the program, else NULL */
	const char *rule_at;	/* "shim.conf:12", or NULL (no rule) */
	const char *rule_text;	/* "via corp *", or why no rule decided */
	const char *action;	/* "direct", "block", "via", "local",
				 * "remote" */
	const char *proxy;	/* the proxy's name (last hop), or NULL */
	const char *proxy_url;	/* redacted (url_redact), or NULL */
	const char *group;	/* the proxy's group, or NULL (omitted) */
	const char *outcome;	/* instead of "ok"/the errno's name
				 * ("skipped"), or NULL */
	int err;		/* 0: outcome "ok"; else the errno */
	const char *msg;	/* what went wrong, or NULL */
	long long handshake_ms;	/* -1: none */
	int proxy_protocol;	/* PROXY protocol header sent: 1 or 2; 0 */
	const char *proxy_tls;	/* TLS to an https proxy: its version
				 * ("TLSv1.3"), or NULL (omitted) */
	bool proxy_tls_resumed;	/* that TLS resumed a session:
				 * "proxy_tls_resumed":true; false: omitted */
	long long proxy_h2_stream;	/* the tunnel's HTTP/2 stream on the
					 * proxy's connection: "proxy_h2":
					 * {"stream":N,"shared":B} (shared: the
					 * connection carried tunnels before);
					 * 0: omitted */
	const struct log_close *close;	/* "close"/"sni-mismatch", else
					 * NULL */
};

/* True when an audit log is configured (log_event would write). */
bool log_json_enabled(void);

/* Use path as the audit log unless SHIM_LOG already chose one (the rule
 * file's `log PATH`). */
void log_set_default_file(const char *path);

/* secs (since the epoch) and ms as "YYYY-MM-DDTHH:MM:SS.mmmZ", without
 * the C library's time-zone lock. */
void log_utc(long long secs, int ms, char *buf, size_t n);

/* A struct log_event with every field absent. */
void log_event_init(struct log_event *ev, const char *event);

/* Append ev as one JSON line to the audit log (nothing if none). */
void log_event(const struct log_event *ev);

/*
 * The JSON line for ev into buf[0..n) (pure but for time, pid and exe,
 * given here): returns its length including the final '\n'.  n must be
 * at least 256; longer fields are cut so the line always fits.
 */
size_t log_event_format(const struct log_event *ev, const char *time,
			long pid, const char *exe, char *buf, size_t n);

/* JSON-escape s (quotes included) into buf[0..n); returns the length
 * written, never cutting an escape in half.  NULL becomes null. */
size_t log_json_str(const char *s, char *buf, size_t n);

/* errno's symbolic name ("ECONNREFUSED"), or "E?" */
const char *log_errno_name(int e);

#endif
