/*
 * log_syslog.h - the audit log's events also as RFC 5424 messages on the
 * local syslog socket (the rule file's `log syslog [SOCKET]`), where
 * journald or rsyslog collects them for a fleet's pipeline:
 *   <PRI>1 TIMESTAMP HOSTNAME proxywrap PID EVENT - {"time":...}
 * Facility user; severity warning for refusals and failures, info for
 * the rest.  Each message is one datagram sent without waiting
 * (MSG_DONTWAIT | MSG_NOSIGNAL) from a socket made for it: nothing blocks
 * or kills the program, and no fd stays open for it to close.  A socket
 * that is not there draws one warning per process (from log.c), then
 * silence.
 */
#ifndef PROXYWRAP_LOG_SYSLOG_H
#define PROXYWRAP_LOG_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>

/* Send events to the socket at path (NULL: stop).  0, or -ENAMETOOLONG
 * for a path longer than a sockaddr_un holds (nothing is sent then). */
int log_syslog_use(const char *path);

/* True when events go to syslog. */
bool log_syslog_on(void);

/* The message for one event into buf[0..n): json[0..jlen) is its JSON
 * line (a final '\n' dropped), time its RFC 3339 time, host the hostname
 * ("" becomes "-").  Pure; returns the length, cut to n - 1. */
size_t log_syslog_format(const char *event, const char *time,
			 const char *host, long pid, const char *json,
			 size_t jlen, char *buf, size_t n);

/* Send one event's JSON line (log.c calls it for each event).  0; or,
 * the first time sending fails for good, the errno (the caller warns;
 * nothing more is sent from this process). */
int log_syslog_send(const char *event, const char *time, const char *json,
		    size_t jlen);

/* The socket's path, for that warning. */
const char *log_syslog_path(void);

#endif
