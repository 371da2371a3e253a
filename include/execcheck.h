/*
 * execcheck.h - can the shim follow a program into exec?
 *
 * The dynamic loader honours LD_PRELOAD only for a dynamically linked
 * executable (one with a PT_INTERP program header) that does not gain
 * privileges on exec: a statically linked program, a setuid/setgid one
 * and one with file capabilities run without the shim.  Strict mode
 * refuses to exec them (unless `allow_exec PATH` names them); otherwise
 * the library logs a warning.
 *
 * exec_parse is pure (bytes of a file's head in, verdict out:
 * src/core/execcheck.c); the exec_check_* functions read the file (open,
 * pread, fstat, fgetxattr) and, with exec_verdict and exec_search, are
 * shared by the library and proxywrap (src/base/execfile.c).
 */
#ifndef PROXYWRAP_EXECCHECK_H
#define PROXYWRAP_EXECCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "parse.h"

#define EXEC_HEAD_MAX 4096	/* bytes of a file read to judge it */
#define EXEC_INTERP_MAX 256	/* "#!" line; Linux BINPRM_BUF_SIZE is 256 */
#define EXEC_SCRIPT_DEPTH 4	/* Linux follows at most 4 interpreters */
#define EXEC_PHNUM_MAX 4096	/* program headers we look at */
#define EXEC_READ_MAX (1u << 20)	/* program headers further in: give up */

enum exec_kind {
	EXEC_ELF_DYNAMIC,	/* ELF with PT_INTERP: the loader runs */
	EXEC_ELF_STATIC,	/* ELF without PT_INTERP (also static-pie) */
	EXEC_SCRIPT,		/* "#!": img->interp is the interpreter */
	EXEC_OTHER,		/* anything else: the kernel decides */
};

struct exec_image {
	enum exec_kind kind;
	char interp[EXEC_INTERP_MAX];	/* EXEC_SCRIPT: NUL-terminated path;
					 * EXEC_ELF_DYNAMIC: its PT_INTERP
					 * ("" when not in the bytes read) */
	bool foreign;			/* ELF of another word size or machine
					 * than this build's: the library
					 * cannot load into it */
	bool go;			/* has Go's build-id note: a Go
					 * program makes its own system calls,
					 * the library loads but sees none */
};

/*
 * Judge a file from its first bytes p[0..len).  PARSE_OK: *img is set
 * (an ELF whose headers are malformed is EXEC_OTHER: the kernel refuses
 * it), and *need is 0, or the bytes more that would reach a note segment
 * (where Go's build-id may be).  PARSE_MORE: the program headers lie
 * beyond len; *need more bytes would reach them.  PARSE_ERR: len is 0.
 * Reads only p[0..len).
 */
int exec_parse(const uint8_t *p, size_t len, size_t *need,
	       struct exec_image *img);

enum exec_why {
	EXEC_FOLLOWS = 0,	/* the shim will be loaded */
	EXEC_WHY_STATIC,	/* statically linked */
	EXEC_WHY_SETUID,	/* setuid to another user */
	EXEC_WHY_SETGID,	/* setgid to another group */
	EXEC_WHY_FCAPS,		/* file capabilities */
	EXEC_WHY_INTERP,	/* a script whose interpreter is one of these */
	EXEC_WHY_FOREIGN,	/* another word size or machine (32-bit) */
	EXEC_WHY_LOADER,	/* its own program interpreter (PT_INTERP),
				 * not the system's loader */
	EXEC_WHY_GO,		/* a dynamically linked Go program (a static
				 * one is EXEC_WHY_STATIC) */
};

/* "statically linked", "setuid", ...; "" for EXEC_FOLLOWS. */
const char *exec_why_str(enum exec_why w);

/*
 * Judge the open file fd (any fd the process may read, also O_PATH).
 * Scripts are followed to their interpreter (EXEC_SCRIPT_DEPTH levels);
 * a problem with the interpreter gives EXEC_WHY_INTERP and copies its
 * path into interp (size n).  Returns an exec_why, or -errno when the
 * file cannot be read (the caller lets exec report that itself).
 */
int exec_check_fd(int fd, char *interp, size_t n);

/* The same for a path (relative to the current directory). */
int exec_check_path(const char *path, char *interp, size_t n);

/*
 * The policy for a program judged `why` (> 0) by exec_check_*: allowed
 * when an allow_exec statement names `shown` or its real path (or, for
 * EXEC_WHY_INTERP, the interpreter); otherwise refused when strict.
 * Writes the one log line (without "proxywrap: ") to msg.  Returns 0 to
 * let it run, -EACCES to refuse.
 */
int exec_verdict(const struct config *cfg, bool strict, const char *shown,
		 int why, const char *interp, char *msg, size_t n);

/*
 * Under the session's supervisor (supervise.h), which covers what a
 * static, Go, own-interpreter or 32-bit program does: true for such a
 * why, with the line that says so in msg ("supervised exec of ...");
 * false for the rest (setuid and file capabilities are the exec check's
 * as before) and for a program an allow_exec
 * statement names (exec_verdict says so, as before).
 */
bool exec_supervised(const struct config *cfg, const char *shown, int why,
		     const char *interp, char *msg, size_t n);

/*
 * execvp's search: the file that PATH (pathvar, NULL for the default)
 * would run, written to buf; a name with '/' is used as is.  False if
 * nothing executable is found.
 */
bool exec_search(const char *file, const char *pathvar, char *buf, size_t n);

/*
 * Library side (hooks/exec.c): remember LD_PRELOAD and the SHIM_*
 * settings as this process has them now, before the program can change
 * its environment; exec re-inserts them where a program scrubbed them.
 * Called when the configuration loads and on the first exec (idempotent,
 * thread-safe).  Nothing is remembered in a secure-execution process.
 */
void exec_env_snapshot(void);

#endif
