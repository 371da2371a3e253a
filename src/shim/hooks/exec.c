/*
 * exec.c - the exec family and posix_spawn: every program the
 * wrapped tree starts stays wrapped.
 *
 * Two things happen before the real call:
 *  - the environment passed on is checked for our LD_PRELOAD entry and
 *    the SHIM_* settings; what a program scrubbed (env -i, daemons that
 *    reset their environment, "unset LD_PRELOAD") is put back, with the
 *    values this process started with;
 *  - the program is judged (src/base/execfile.c): one the shim cannot
 *    follow (static, setuid/setgid, file capabilities) is refused with
 *    EACCES in strict mode unless allow_exec names it, and logged otherwise.
 *
 * glibc's execv, execvp, execl... call the kernel without going through
 * execve's PLT entry, so each has its own hook.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "async.h"
#include "execcheck.h"
#include "guard.h"
#include "log.h"
#include "real.h"
#include "session.h"
#include "shim.h"

#define HOOK __attribute__((visibility("default")))
#define EXEC_ARGS_MAX 65536	/* execl's arguments we collect */

extern char **environ;

/* The settings re-inserted when missing, as this process started. */
static const char *const env_names[] = {
	"SHIM_CONFIG", "SHIM_PROXY", "SHIM_STRICT", "SHIM_LOG",
	"SHIM_VERBOSE", "SHIM_SESSION", "SHIM_FAKE_POOL", "SHIM_SESSION_FD",
};
#define ENV_N (sizeof(env_names) / sizeof(env_names[0]))

static pthread_once_t snap_once = PTHREAD_ONCE_INIT;
static char *snap[ENV_N];		/* "NAME=value", or NULL */
static char *snap_preload;		/* LD_PRELOAD's value, or NULL */
static char self_path[PATH_MAX];	/* our library, as the loader found it */
static bool snap_secure;

static char *
join(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = malloc(la + ls + lb + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, sep, ls);
	memcpy(s + la + ls, b, lb + 1);
	return s;
}

#define ENVIRON_MAX (256 * 1024)

/*
 * The environment this process was started with, from the kernel's copy
 * (/proc/self/environ): what getenv no longer shows when the program ran
 * clearenv() or unsetenv() before our first look (env -i does).
 * NUL-separated, *len bytes; NULL when unavailable.
 */
static char *
initial_environ(size_t *len)
{
	char *buf;
	ssize_t r;
	int fd;

	*len = 0;
	fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	buf = malloc(ENVIRON_MAX);
	while (buf != NULL && *len < ENVIRON_MAX - 1) {
		r = real_read(fd, buf + *len, ENVIRON_MAX - 1 - *len);
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	real_close(fd);
	if (buf != NULL)
		buf[*len] = '\0';
	return buf;
}

/* NAME's value in a NUL-separated block, or NULL. */
static const char *
block_get(const char *blk, size_t len, const char *name)
{
	size_t n = strlen(name), off = 0, l;

	while (blk != NULL && off < len) {
		l = strlen(blk + off);
		if (l > n && strncmp(blk + off, name, n) == 0 &&
		    blk[off + n] == '=')
			return blk + off + n + 1;
		off += l + 1;
	}
	return NULL;
}

static void
snapshot(void)
{
	Dl_info info;
	const char *v;
	char *init = NULL;
	size_t i, ilen = 0;
	bool read_init = false;
	int saved = errno;

	snap_secure = getauxval(AT_SECURE) != 0;
	if (snap_secure)
		return;	/* nothing from the environment is trusted */
	if (dladdr((void *)snapshot, &info) != 0 && info.dli_fname != NULL &&
	    strlen(info.dli_fname) < sizeof(self_path))
		memcpy(self_path, info.dli_fname, strlen(info.dli_fname) + 1);
	for (i = 0; i <= ENV_N; i++) {
		const char *name = i < ENV_N ? env_names[i] : "LD_PRELOAD";

		v = getenv(name);
		if (v == NULL && !read_init) {
			init = initial_environ(&ilen);
			read_init = true;
		}
		if (v == NULL)
			v = block_get(init, ilen, name);
		if (v == NULL)
			continue;
		if (i < ENV_N)
			snap[i] = join(name, "=", v);
		else if (v[0] != '\0')
			snap_preload = strdup(v);
	}
	free(init);
	errno = saved;
}

void
exec_env_snapshot(void)
{
	pthread_once(&snap_once, snapshot);
}

/* Does the LD_PRELOAD value list our library?  (space or colon lists) */
static bool
lists_self(const char *v)
{
	size_t n = strlen(self_path), i = 0, j;

	while (v[i] != '\0') {
		while (v[i] == ' ' || v[i] == ':')
			i++;
		j = i;
		while (v[j] != '\0' && v[j] != ' ' && v[j] != ':')
			j++;
		if (j - i == n && n > 0 && memcmp(v + i, self_path, n) == 0)
			return true;
		i = j;
	}
	return false;
}

static const char *
env_find(char *const env[], const char *name, size_t *idx)
{
	size_t n = strlen(name), i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=') {
			*idx = i;
			return env[i] + n + 1;
		}
	}
	return NULL;
}

struct newenv {
	char **env;	/* NULL: pass the original on */
	char *preload;	/* "LD_PRELOAD=..." we allocated */
	char *sessfd;	/* "SHIM_SESSION_FD=..." we allocated */
};

/*
 * SHIM_SESSION_FD as the session's fds are numbered now, when env says
 * otherwise (one moved out of the program's way, or the variable is
 * gone): the next program then finds them where they are.  *old: the
 * index of env's own entry, replaced; SIZE_MAX if none.
 */
static char *
sessfd_fix(char *const env[], size_t *old)
{
	char cur[64];
	const char *v;

	*old = SIZE_MAX;
	if (!session_hint(cur, sizeof(cur)))
		return NULL;
	v = env_find(env, "SHIM_SESSION_FD", old);
	if (v != NULL && strcmp(v, cur) == 0)
		return NULL;
	if (v == NULL)
		*old = SIZE_MAX;
	return join("SHIM_SESSION_FD=", cur, "");
}

/*
 * The environment to pass on: env with our settings put back where they
 * are missing.  On no memory the original goes on unchanged.  Every exec
 * and spawn comes here last: handshakes held for the program's first
 * bytes go now, as the new program has no helper (tunnel_early.c).
 */
static char *const *
env_fix(char *const env[], struct newenv *ne)
{
	const char *pre;
	size_t n = 0, i, k, at = 0, sat;
	bool add[ENV_N];
	size_t nadd = 0;

	async_early_flush_all(false);

	ne->env = NULL;
	ne->preload = NULL;
	ne->sessfd = NULL;
	session_keep_over_exec();	/* the next program finds the session */
	exec_env_snapshot();
	if (snap_secure || shim_internal())
		return env;
	while (env != NULL && env[n] != NULL)
		n++;
	for (i = 0; i < ENV_N; i++) {
		add[i] = snap[i] != NULL && env_find(env, env_names[i], &k) == NULL;
		nadd += add[i];
	}
	ne->sessfd = sessfd_fix(env, &sat);
	for (i = 0; ne->sessfd != NULL && i < ENV_N; i++) {
		if (add[i] && strcmp(env_names[i], "SHIM_SESSION_FD") == 0) {
			add[i] = false;		/* ours, numbered as now */
			nadd--;
		}
	}
	pre = env_find(env, "LD_PRELOAD", &at);
	if (self_path[0] != '\0' && (pre == NULL || !lists_self(pre))) {
		if (pre != NULL && pre[0] != '\0')
			ne->preload = join("LD_PRELOAD=", self_path, "");
		if (ne->preload != NULL) {
			char *t = join(ne->preload, " ", pre);

			free(ne->preload);
			ne->preload = t;
		} else if (snap_preload != NULL && lists_self(snap_preload)) {
			ne->preload = join("LD_PRELOAD=", snap_preload, "");
		} else {
			ne->preload = join("LD_PRELOAD=", self_path, "");
		}
	}
	if (nadd == 0 && ne->preload == NULL && ne->sessfd == NULL)
		return env;
	ne->env = malloc((n + ENV_N + 3) * sizeof(char *));
	if (ne->env == NULL) {
		free(ne->preload);
		free(ne->sessfd);
		ne->preload = NULL;
		ne->sessfd = NULL;
		return env;
	}
	k = 0;
	if (ne->preload != NULL)
		ne->env[k++] = ne->preload;
	for (i = 0; i < n; i++)
		if ((ne->preload == NULL || pre == NULL || i != at) &&
		    (ne->sessfd == NULL || i != sat))
			ne->env[k++] = env[i];
	for (i = 0; i < ENV_N; i++)
		if (add[i])
			ne->env[k++] = snap[i];
	if (ne->sessfd != NULL)
		ne->env[k++] = ne->sessfd;
	ne->env[k] = NULL;
	return ne->env;
}

static void
env_free(struct newenv *ne)
{
	int saved = errno;

	free(ne->env);
	free(ne->preload);
	free(ne->sessfd);
	errno = saved;
}

/* 0 to go on, -EACCES to refuse; the verdict's log line, if any. */
static int
gate_verdict(const char *shown, int why, const char *interp)
{
	const struct shim *s;
	char msg[LOG_LINE_MAX];
	int rc;

	if (why <= 0)
		return 0;	/* follows, or unreadable: exec will say */
	s = shim_get();
	rc = exec_verdict(s->cfg, s->cfg != NULL && s->cfg->strict, shown, why,
			  interp, msg, sizeof(msg));
	log_msg(LOG_WARN, "%s", msg);
	if (log_json_enabled()) {
		struct log_event ev;

		log_event_init(&ev, rc < 0 ? "exec-refused" : "exec-allowed");
		ev.path = shown;
		ev.err = rc < 0 ? -rc : 0;
		ev.msg = msg;
		log_event(&ev);
	}
	return rc;
}

static int
gate_path(const char *path)
{
	char interp[EXEC_INTERP_MAX];
	int saved = errno, rc;

	/* supervised: the supervisor judges every exec, on the file the
	 * kernel is asked for (supervise_exec.c) */
	if (path == NULL || shim_internal() || shim_get()->supervised)
		return 0;
	rc = gate_verdict(path, exec_check_path(path, interp, sizeof(interp)),
			  interp);
	errno = saved;
	return rc;
}

static int
gate_fd(int fd, const char *shown)
{
	char interp[EXEC_INTERP_MAX], proc[64], link[PATH_MAX];
	int saved = errno, rc;
	ssize_t n;

	if (shim_internal() || shim_get()->supervised)
		return 0;
	if (shown == NULL) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		n = readlink(proc, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		shown = n > 0 ? link : proc;
	}
	rc = gate_verdict(shown, exec_check_fd(fd, interp, sizeof(interp)),
			  interp);
	errno = saved;
	return rc;
}

static int
gate_search(const char *file)
{
	char path[PATH_MAX];
	int saved = errno;
	bool found;

	if (file == NULL)
		return 0;
	found = exec_search(file, getenv("PATH"), path, sizeof(path));
	errno = saved;
	return found ? gate_path(path) : 0;
}

HOOK int
execve(const char *path, char *const argv[], char *const envp[])
{
	struct newenv ne;
	int rc;

	rc = gate_path(path);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	rc = real_execve(path, argv, env_fix(envp, &ne));
	env_free(&ne);
	return rc;
}

HOOK int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

HOOK int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct newenv ne;
	int rc;

	rc = gate_search(file);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	rc = real_execvpe(file, argv, env_fix(envp, &ne));
	env_free(&ne);
	return rc;
}

HOOK int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

HOOK int
fexecve(int fd, char *const argv[], char *const envp[])
{
	struct newenv ne;
	int rc;

	rc = gate_fd(fd, NULL);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	rc = real_fexecve(fd, argv, env_fix(envp, &ne));
	env_free(&ne);
	return rc;
}

HOOK int
execveat(int dirfd, const char *path, char *const argv[],
	 char *const envp[], int flags)
{
	struct newenv ne;
	int rc = 0, fd, saved = errno;

	if (path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
		rc = gate_fd(dirfd, NULL);
	} else {
		fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC |
			    (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0));
		if (fd != -1) {
			rc = gate_fd(fd, path[0] == '/' ? path : NULL);
			real_close(fd);
		}
	}
	errno = saved;
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	rc = real_execveat(dirfd, path, argv, env_fix(envp, &ne), flags);
	env_free(&ne);
	return rc;
}

HOOK int
posix_spawn(pid_t *pid, const char *path,
	    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at,
	    char *const argv[], char *const envp[])
{
	struct newenv ne;
	int rc;

	rc = gate_path(path);
	if (rc < 0)
		return -rc;	/* posix_spawn returns the error number */
	rc = real_posix_spawn(pid, path, fa, at, argv, env_fix(envp, &ne));
	env_free(&ne);
	return rc;
}

HOOK int
posix_spawnp(pid_t *pid, const char *file,
	     const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at,
	     char *const argv[], char *const envp[])
{
	struct newenv ne;
	int rc;

	rc = gate_search(file);
	if (rc < 0)
		return -rc;
	rc = real_posix_spawnp(pid, file, fa, at, argv, env_fix(envp, &ne));
	env_free(&ne);
	return rc;
}

/*
 * execl and friends: collect the arguments (and execle's environment
 * after the terminating NULL) into an array.
 */
static char **
collect(const char *arg0, va_list ap, char ***envp)
{
	va_list cp;
	size_t n = 1, i;
	char **argv;

	va_copy(cp, ap);
	while (arg0 != NULL && va_arg(cp, char *) != NULL && n < EXEC_ARGS_MAX)
		n++;
	va_end(cp);
	argv = malloc((n + 1) * sizeof(char *));
	if (argv == NULL)
		return NULL;
	argv[0] = (char *)arg0;
	for (i = 1; arg0 != NULL && i <= n; i++) {
		argv[i] = va_arg(ap, char *);
		if (argv[i] == NULL)
			break;
	}
	argv[arg0 != NULL ? n : 0] = NULL;
	if (envp != NULL)
		*envp = va_arg(ap, char **);
	return argv;
}

HOOK int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv;
	int rc;

	va_start(ap, arg);
	argv = collect(arg, ap, NULL);
	va_end(ap);
	if (argv == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = execve(path, argv, environ);
	env_free(&(struct newenv){ .env = argv });
	return rc;
}

HOOK int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv, **envp = NULL;
	int rc;

	va_start(ap, arg);
	argv = collect(arg, ap, &envp);
	va_end(ap);
	if (argv == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = execve(path, argv, envp);
	env_free(&(struct newenv){ .env = argv });
	return rc;
}

HOOK int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	char **argv;
	int rc;

	va_start(ap, arg);
	argv = collect(arg, ap, NULL);
	va_end(ap);
	if (argv == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = execvpe(file, argv, environ);
	env_free(&(struct newenv){ .env = argv });
	return rc;
}
