/*
 * setup.h - proxywrap's side of a session: the inherited fds every
 * process of the tree finds its policy and logs through (session.h has
 * the library's side, sessfmt.h the policy's bytes).
 */
#ifndef PROXYWRAP_PW_SESSION_H
#define PROXYWRAP_PW_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include "sessfmt.h"

struct pw_session {
	int fd[1 + SESS_NFILES];	/* policy, then enum sess_file; -1 */
	int audit_read;			/* --summary reads the log here; -1 */
	off_t audit_from;		/* where this session's lines start */
};

/*
 * A rule file's text (NUL-terminated, *len bytes), read once: what the
 * session hands on is what was checked.  NULL with errno when it cannot
 * be read; a file that is not a regular file (a FIFO would hang every
 * reader) exits 2 with a message.
 */
char *pw_read_rules(const char *path, size_t *len);

/*
 * Make the session's fds, inherited by the command (not close-on-exec)
 * and kept out of the low numbers programs use.  v gives the policy
 * (its dev/ino fields are filled here); log_path: the JSON audit log
 * (--log), or NULL; summary: keep a way to read the log back (a memfd
 * when there is no --log).  Exits 2 on failure.
 */
void pw_session_make(struct pw_session *s, struct sess_view *v,
		     const char *log_path, bool summary);

/* SHIM_SESSION_FD's value: "policy,table,human,audit". */
void pw_session_env(const struct pw_session *s, char *buf, size_t n);

/* Append one line to the session's audit log, if it has one. */
void pw_session_audit(const struct pw_session *s, const char *line,
		      size_t len);

/* True when this proxywrap runs inside another's session (its sealed
 * policy is where SHIM_SESSION_FD says). */
bool pw_session_inherited(void);

#endif
