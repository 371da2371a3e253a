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

enum log_level {
	LOG_ERR = 0,	/* config errors, internal failures */
	LOG_WARN = 1,	/* blocked or failed connections */
	LOG_INFO = 2,	/* every decision (-v) */
	LOG_DEBUG = 3,	/* handshake states (-vv) */
};

/* Open SHIM_LOG / read SHIM_VERBOSE (trusted=false: ignore env). */
void log_init(bool trusted);

/* True when a message at `lv` would be written. */
bool log_enabled(enum log_level lv);

/* "proxywrap: " + formatted text + "\n", one write.  Lines are cut at
 * LOG_LINE_MAX bytes. */
void log_msg(enum log_level lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG_LINE_MAX 1024

#endif
