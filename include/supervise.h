/*
 * supervise.h - proxywrap as the session's supervisor: a seccomp filter
 * with a user-notification listener, installed in the command before its
 * first exec and inherited by every process it starts, hands proxywrap
 * the network calls the shim cannot see (static and Go programs, inline
 * syscalls, a second libc, io_uring, raw and packet sockets).
 *
 * proxywrap decides each call with the session's compiled rules and, when
 * it is allowed, performs it itself on a duplicate of the target's socket
 * (pidfd_getfd), so what was checked is what happens: a connect is never
 * let through with SECCOMP_USER_NOTIF_FLAG_CONTINUE.
 *
 * Phase 1 (issue 15): direct, block and strict; a `via` TCP connect runs
 * the shim's tunnel engine on the duplicate (a `via` datagram is refused
 * with a log line).  execve and execveat are notified too: the shim's
 * exec check is made here for the whole tree (a program started under
 * the filter inherits it, so what it execs is supervised whatever the
 * file turns out to be: the check only says so, see supervise_exec.c).
 */
#ifndef PROXYWRAP_SUPERVISE_H
#define PROXYWRAP_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "rules.h"

enum sup_mode {
	SUP_AUTO = 0,		/* only a command the shim cannot follow */
	SUP_ALL,		/* the whole tree (default under --strict) */
	SUP_OFF,		/* never */
};

/* "auto", "all", "off" into *m; false for anything else. */
bool sup_mode_parse(const char *s, enum sup_mode *m);

/*
 * proxywrap's check of the command it starts, supervised: static, Go,
 * custom-loader and 32-bit programs run (the supervisor covers them; msg
 * says so), the rest as sup_check_cmd decides.
 */
int sup_preflight(const struct config *cfg, bool strict, const char *file,
		  char *msg, size_t n);

/*
 * proxywrap's check of the command it starts, unsupervised (sup_choose's
 * look at the file is kept for it): 0 (go on; a warning may be in msg)
 * or -EACCES (refused; the reason is in msg).  msg[0] is '\0' when there
 * is nothing to say.
 */
int sup_check_cmd(const struct config *cfg, bool strict, const char *file,
		  char *msg, size_t n);

/* What the supervisor decides with (all must outlive the supervisor). */
struct sup_policy {
	const struct config *cfg;
	const struct rules *rules;
	const char *name;	/* the rule file as the log names it */
	bool strict;
	int verbose;		/* 0 -q .. 3 -vv */
	int audit_fd;		/* the session's JSON audit log, or -1 */
	int table_fd;		/* the session's fake-address table, or -1 */
	const char *pool;	/* the session's fake pools ("": the file's) */
};

/* A supervised start: the policy and the pipes between fork and exec. */
struct sup_launch {
	struct sup_policy pol;
	bool required;		/* strict runs the command only supervised */
	int up[2], down[2];	/* the listener's number up, "taken" down */
};

/*
 * Mode m for cmd: NULL when it is not supervised (off, auto and a
 * command the shim follows, or a kernel that cannot: said once unless
 * verbose is 0), else the launch (static storage) with the policy from
 * the arguments, which must outlive the command.
 */
struct sup_launch *sup_choose(enum sup_mode m, const struct config *cfg,
			      const struct rules *r, const char *name,
			      const char *cmd, int verbose, int audit_fd);

/* Before fork: the pipes.  Exits 2 when they cannot be made. */
void sup_launch_prepare(struct sup_launch *l);

/*
 * In the child, before exec: no_new_privs and the filter, its listener
 * handed to the parent.  When that fails the command runs without (a
 * message says so), or, if l->required, the child exits 126.
 */
void sup_launch_child(struct sup_launch *l);

/* In the parent: take the listener and serve it in threads of this
 * process while the command runs. */
void sup_launch_parent(struct sup_launch *l, pid_t child);

#endif
