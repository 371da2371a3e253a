/*
 * session.h - a wrapped process's view of its proxywrap session.
 *
 * proxywrap hands every process of its tree four inherited fds: the policy
 * (a sealed memfd, sessfmt.h), the fake-address table (a memfd), the
 * human log (proxywrap's own stderr) and the JSON audit log.  They are
 * found by SHIM_SESSION_FD ("policy,table,human,audit" numbers, -1 for
 * none) and, where the numbers no longer fit, by looking through the
 * process's fds; nothing is believed until it checks out (seals, magic,
 * device and inode named by the policy).  The fds are the library's own:
 * the program's close, dup2 and close_range leave them alone, and they
 * stay open across exec.
 */
#ifndef PROXYWRAP_SESSION_H
#define PROXYWRAP_SESSION_H

#include "sessfmt.h"

enum session_state {
	SESSION_NONE = 0,	/* bare LD_PRELOAD: the environment decides */
	SESSION_OK = 1,		/* the session's policy, fixed */
	SESSION_LOST = -1,	/* a session was named, its policy is gone */
};

/*
 * Find and check the session (once; thread-safe, errno kept).  With
 * SESSION_OK, *v points into a read-only mapping of the policy, valid
 * until session_release().
 */
enum session_state session_init(const struct sess_view **v);

/* Drop the policy's mapping (the configuration was parsed from it); the
 * image of the compiled rules (v->image) stays mapped for good. */
void session_release(void);

/* The fd of one of the session's files now, or -1. */
int session_fd(enum sess_file f);

/* The session's control socket's abstract name (ctl_client.c), or NULL
 * when the session has none or there is no session. */
const char *session_ctl(void);

/* The sealed policy's fd now (what proves to proxywrap's control socket
 * that a process is of the session), or -1. */
int session_policy_fd(void);

/* Before exec: our fds lose FD_CLOEXEC again (moving one out of the
 * program's way, or close_range(CLOSE_RANGE_CLOEXEC), may have set it). */
void session_keep_over_exec(void);

/* SHIM_SESSION_FD's value for the fds as they are numbered now (one may
 * have moved out of the program's way); false when there is no session. */
bool session_hint(char *buf, size_t n);

#endif
