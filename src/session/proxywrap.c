/*
 * proxywrap - run a command with libshim.so preloaded and a rule file
 * checked before anything runs.
 *
 *   proxywrap [-c FILE] [-p URL]... [--strict] [-q|-v] [--log FILE] [--]
 *             CMD [ARG...]
 *   proxywrap --check [-c FILE] [-p URL]...
 *   proxywrap --explain DEST [-c FILE] [-p URL]...
 *
 * The command line is read in options.c, the session the tree inherits
 * made in setup.c, the supervisor in supervise*.c.
 */
#include <err.h>
#include <errno.h>
#include <libgen.h>
#include <netdb.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "ctl.h"
#include "execcheck.h"
#include "explain.h"
#include "fromenv.h"
#include "learn.h"
#include "livehealth.h"
#include "log.h"
#include "log_syslog.h"
#include "negotiate.h"
#include "options.h"
#include "optlib.h"
#include "relay.h"
#include "setup.h"
#include "report.h"

#ifndef PROXYWRAP_LIBDIR
#define PROXYWRAP_LIBDIR "/usr/local/lib/proxywrap"
#endif
/* The same directory relative to the prefix, so that an install moved
 * elsewhere as a whole (a package unpacked into a scratch root) finds its
 * own library before the system's. */
#ifndef PROXYWRAP_LIBDIR_REL
#define PROXYWRAP_LIBDIR_REL "lib/proxywrap"
#endif

static bool
readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* -c, then $SHIM_CONFIG, then the user's and the system's file. */
static const char *
find_config(const struct opts *o, char *buf, size_t n)
{
	const char *env = getenv("SHIM_CONFIG"), *home = getenv("HOME");

	if (o->config != NULL)
		return o->config;
	if (o->nproxies > 0)
		return NULL;	/* -p alone: everything via that proxy */
	if (env != NULL && env[0] != '\0')
		return env;
	if (home != NULL) {
		snprintf(buf, n, "%s/.config/proxywrap/shim.conf", home);
		if (readable(buf))
			return buf;
	}
	if (readable("/etc/proxywrap/shim.conf"))
		return "/etc/proxywrap/shim.conf";
	return NULL;
}

/*
 * The configuration from text (the rule file read once, or --from-env's);
 * text NULL with a path: the file could not be read, and cfg_load says
 * why in the usual words.
 */
static struct config *
load(const struct opts *o, const char *path, const char *text, size_t len)
{
	struct config *cfg;
	size_t i;

	if (text != NULL)
		cfg = cfg_parse(path, text, len);
	else
		cfg = path != NULL ? cfg_load(path) :
				     cfg_parse("(none)", "", 0);
	if (cfg == NULL || cfg_add_cli_proxies(cfg, "-p", o->proxies,
					       o->nproxies) < 0)
		errx(2, "out of memory");
	if (o->strict)
		cfg->strict = true;
	if (cfg->nerrs == 0)
		return cfg;
	for (i = 0; i < cfg->nerrs && i < CFG_ERR_MAX; i++)
		fprintf(stderr, "%s\n", cfg->errs[i]);
	if (cfg->nerrs > CFG_ERR_MAX)
		fprintf(stderr, "proxywrap: %zu more errors\n",
			cfg->nerrs - CFG_ERR_MAX);
	fprintf(stderr, "proxywrap: %zu error%s in the configuration; "
		"nothing was run\n", cfg->nerrs, cfg->nerrs == 1 ? "" : "s");
	exit(2);
}

/* name (libshim.so, proxywrap-dl) next to this executable (build tree),
 * else in the install's library directory; allocated. */
static __attribute__((noinline)) char *
find_file(const char *name)
{
	char exe[PATH_MAX], buf[PATH_MAX], *found;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len > 0) {
		exe[len] = '\0';
		snprintf(buf, sizeof(buf), "%s/%s", dirname(exe), name);
		if (readable(buf))
			goto found;
		/* dirname() left the bin directory in exe */
		snprintf(buf, sizeof(buf), "%s/../%s/%s", exe,
			 PROXYWRAP_LIBDIR_REL, name);
		if (readable(buf))
			goto found;
	}
	snprintf(buf, sizeof(buf), "%s/%s", PROXYWRAP_LIBDIR, name);
	if (!readable(buf))
		errx(2, "cannot find %s next to proxywrap or in %s", name,
		     PROXYWRAP_LIBDIR);
found:
	found = strdup(buf);
	if (found == NULL)
		errx(2, "out of memory");
	return found;
}

/* A static proxywrap cannot load libssl, nghttp2 or GSSAPI (optlib.h):
 * the dynamic build runs the same command line. */
static __attribute__((noinline)) void
exec_dynamic(char **argv)
{
	char *dl = find_file("proxywrap-dl");

	execv(dl, argv);
	err(2, "%s", dl);
}

/* A local name's answers, looked up here (proxywrap runs unwrapped), each
 * with the decision connect() would take for it. */
static void
explain_answers(const struct config *cfg, const struct rules *r,
		const char *host, unsigned int port, char *out, size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	size_t len;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0) {
		len = strlen(out);
		snprintf(out + len, n - len, "  answers: none (%s)\n",
			 gai_strerror(rc));
		return;
	}
	for (p = ai; p != NULL; p = p->ai_next) {
		if (p->ai_family == AF_INET)
			explain_answer(cfg, r, host, port, AF_INET,
				       (const uint8_t *)&((struct sockaddr_in *)
					       (void *)p->ai_addr)->sin_addr,
				       out, n);
		else if (p->ai_family == AF_INET6)
			explain_answer(cfg, r, host, port, AF_INET6,
				       ((struct sockaddr_in6 *)(void *)
					       p->ai_addr)->sin6_addr.s6_addr,
				       out, n);
	}
	freeaddrinfo(ai);
}

/* --explain DEST: what connect() would do, on stdout.  Out of line, as
 * the other rare paths with buffers of their own: main's frame stays
 * small, and so do the stack pages every start touches below it. */
static __attribute__((noinline)) int
explain_dest(const struct config *cfg, const struct rules *r,
	     const char *dest)
{
	char host[URL_HOST_MAX], *out;
	unsigned int port;

	if (explain_parse_dest(dest, host, sizeof(host), &port))
		errx(2, "--explain: bad destination '%s' (want "
		     "host[:port] or [v6]:port)", dest);
	out = malloc(4096);
	if (out == NULL)
		errx(2, "out of memory");
	live_health_explain();	/* inside a session: its health */
	explain(cfg, r, host, port, out, 4096);
	if (explain_dns_local(cfg, r, host, port))
		explain_answers(cfg, r, host, port, out, 4096);
	fputs(out, stdout);
	free(out);
	return 0;
}

/* "url url ..." of the -p proxies (one chain), allocated; its length
 * in *len. */
static char *
join_proxies(const struct opts *o, size_t *len)
{
	size_t i, n = 1, off = 0;
	char *buf;

	for (i = 0; i < o->nproxies; i++)
		n += strlen(o->proxies[i]) + 1;
	buf = malloc(n);
	if (buf == NULL)
		errx(2, "out of memory");
	buf[0] = '\0';
	for (i = 0; i < o->nproxies; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s",
					i ? " " : "", o->proxies[i]);
	*len = n;
	return buf;
}

/* "NAME=value", in memory that stays with the environment. */
static char *
env_str(const char *name, const char *value, const char *more)
{
	size_t n = strlen(name) + 1 + strlen(value) +
		   (more != NULL ? 1 + strlen(more) : 0) + 1;
	char *s = malloc(n);

	if (s == NULL)
		errx(2, "out of memory");
	snprintf(s, n, "%s=%s%s%s", name, value, more != NULL ? " " : "",
		 more != NULL ? more : "");
	return s;
}

/*
 * LD_PRELOAD (keeping what was there, after our library) and the
 * session's fds reach every process of the tree through the environment;
 * the settings themselves are in the session's policy, so the SHIM_*
 * variables of a bare LD_PRELOAD are dropped (nothing in the tree reads
 * them, and the proxies' passwords stay out of every environment).  One
 * pass over the environment, not a setenv or unsetenv (each a pass) a
 * variable.
 */
static void
export_settings(const char *lib, const struct pw_session *sess)
{
	static const char *const drop[] = {
		"SHIM_CONFIG", "SHIM_PROXY", "SHIM_STRICT", "SHIM_LOG",
		"SHIM_VERBOSE", "SHIM_SESSION", "SHIM_FAKE_POOL",
		"SHIM_SESSION_FD", "LD_PRELOAD",
	};
	const char *old = getenv("LD_PRELOAD");
	char **env, fds[64];
	size_t n, i, k, d, len;

	for (n = 0; environ[n] != NULL; n++)
		;
	env = malloc((n + 3) * sizeof(*env));
	if (env == NULL)
		errx(2, "out of memory");
	for (i = k = 0; i < n; i++) {
		/* all of drop[] starts so */
		d = environ[i][0] == 'S' || environ[i][0] == 'L' ? 0 :
		    sizeof(drop) / sizeof(drop[0]);
		for (; d < sizeof(drop) / sizeof(drop[0]); d++) {
			len = strlen(drop[d]);
			if (strncmp(environ[i], drop[d], len) == 0 &&
			    environ[i][len] == '=')
				break;
		}
		if (d == sizeof(drop) / sizeof(drop[0]))
			env[k++] = environ[i];
	}
	env[k++] = env_str("LD_PRELOAD", lib,
			   old != NULL && old[0] != '\0' ? old : NULL);
	pw_session_env(sess, fds, sizeof(fds));
	env[k++] = env_str("SHIM_SESSION_FD", fds, NULL);
	env[k] = NULL;
	environ = env;	/* execvp's, the supervised child's, getenv's */
}

/* --log FILE as an absolute path (the file may not exist yet). */
static __attribute__((noinline)) const char *
abs_log(const char *log, char *abs, size_t n)
{
	char cwd[PATH_MAX];

	if (realpath(log, abs) != NULL)
		return abs;
	if (log[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL &&
	    strlen(cwd) + strlen(log) + 2 <= n) {
		snprintf(abs, n, "%s/%s", cwd, log);
		return abs;
	}
	return log;
}

static struct pw_session sess;		/* the fds the tree inherits */

/* The verdict on the command itself, in the audit log as the library
 * writes one for every exec inside the tree. */
static __attribute__((noinline)) void
audit_exec(const char *cmd, int rc, const char *msg)
{
	char line[LOG_JSON_MAX + 2], now[40], path[PATH_MAX], exe[PATH_MAX];
	struct log_event ev;
	struct timespec ts;
	struct tm tm;
	ssize_t n;
	size_t len;

	if (sess.fd[1 + SESS_AUDIT] < 0 && !log_syslog_on())
		return;
	log_event_init(&ev, rc < 0 ? "exec-refused" : "exec-allowed");
	ev.path = exec_search(cmd, getenv("PATH"), path, sizeof(path)) ?
		  path : cmd;
	ev.err = rc < 0 ? -rc : 0;
	ev.msg = msg;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(now + len, sizeof(now) - len, ".%03ldZ",
		 ts.tv_nsec / 1000000);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	len = log_event_format(&ev, now, (long)getpid(), exe, line,
			       sizeof(line));
	pw_session_audit(&sess, line, len);
	if (log_syslog_send(ev.event, now, line, len) != 0)
		warnx("log syslog: cannot send to %s", log_syslog_path());
}

/*
 * Before starting cmd: a rule file holding passwords that other users can
 * read draws a warning; a command the shim cannot follow is refused in
 * strict mode and warned about otherwise (the library does the same for
 * every exec inside the tree).
 */
static __attribute__((noinline)) void
preflight(const struct config *cfg, const char *path, const char *cmd,
	  bool supervised, int verbose)
{
	char msg[1024];
	struct stat st;
	size_t i;
	int rc;

	for (i = 0; path != NULL && i < cfg->nproxies; i++) {
		if (cfg->proxies[i].url.has_auth && stat(path, &st) == 0 &&
		    (st.st_mode & 044)) {
			warnx("%s holds proxy credentials and other users can "
			      "read it (chmod 600 %s)", path, path);
			break;
		}
	}
	if (supervised)
		rc = sup_preflight(cfg, cfg->strict, cmd, msg, sizeof(msg));
	else
		rc = sup_check_cmd(cfg, cfg->strict, cmd, msg, sizeof(msg));
	if (rc < 0 || msg[0] != '\0')
		audit_exec(cmd, rc, msg);
	if (rc < 0)
		errx(126, "%s", msg);
	/* a supervised one is said with -v: nothing goes around the rules */
	if (msg[0] != '\0' && (!supervised || strncmp(msg, "supervised ",
							 11) != 0 ||
				verbose >= 2))
		warnx("%s", msg);
}

static pid_t child;
static void (*after_child)(void);	/* --summary, before we exit */
static struct sup_launch *supervisor;	/* NULL: no supervision */
static bool serving;		/* the TLS relay or the control socket
				 * runs in this process */

static void
forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Run argv as a child; return its status the way a shell would see it. */
static int
run(char **argv)
{
	static const int fwd[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = forward };
	int status, e;
	size_t i;

	/* Nothing left to do once the command runs (no supervisor, no TLS
	 * relay or control socket, no --summary or --learn): it takes our
	 * place, as proxychains4 does, without a fork and a process waiting
	 * on it.  Its exit status and signals are then its own, as they are
	 * seen through us otherwise; the session's fds are the tree's
	 * either way. */
	if (supervisor == NULL && !serving && after_child == NULL) {
		fflush(NULL);
		execvp(argv[0], argv);
		e = errno;
		fprintf(stderr, "proxywrap: %s: %s\n", argv[0], strerror(e));
		return e == ENOENT ? 127 : 126;
	}
	if (supervisor != NULL)
		sup_launch_prepare(supervisor);
	child = fork();
	if (child == -1)
		err(2, "fork");
	if (child == 0) {
		if (supervisor != NULL)
			sup_launch_child(supervisor);
		execvp(argv[0], argv);
		e = errno;
		fprintf(stderr, "proxywrap: %s: %s\n", argv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	if (supervisor != NULL)
		sup_launch_parent(supervisor, child);
	/* Terminal signals reach the child through its process group. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	while (waitpid(child, &status, 0) == -1)
		if (errno != EINTR)
			err(2, "waitpid");
	if (after_child != NULL)
		after_child();
	if (WIFSIGNALED(status)) {
		/* die the same way, so our parent sees what the command did */
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

static const char *
env_get(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* --from-env: the rule file text, from the proxy variables. */
static char *
from_env_text(void)
{
	struct fromenv_vars v;
	size_t n;
	char *text;
	int rc;

	fromenv_pick(env_get, NULL, &v);
	n = 65536 + (v.no_proxy != NULL ? 2 * strlen(v.no_proxy) : 0);
	text = malloc(n);
	if (text == NULL)
		errx(2, "out of memory");
	rc = fromenv_build(&v, text, n);
	if (rc == -EINVAL)
		errx(2, "--from-env: a proxy variable holds blanks or control "
		     "characters");
	if (rc < 0)
		errx(2, "--from-env: %s", strerror(-rc));
	return text;
}


static struct report report;	/* --summary, --learn */

static void
at_exit_report(void)
{
	report_at_exit(&report);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct config *cfg;
	struct rules *r;
	struct sess_view v;
	/* static: main's frame small (see explain_dest) */
	static char buf[PATH_MAX], abs[PATH_MAX];
	char relay[SESS_RELAY_MAX], why[256], *name = NULL, *proxies;
	const char *path, *pool;
	char *text = NULL, *stripped;
	size_t len = 0, slen, plen;

	parse_opts(argc, argv, &o);
	if (o.from_env && o.config != NULL)
		errx(2, "--from-env and -c: use one");
	if (o.from_env) {
		text = from_env_text();
		len = strlen(text);
		path = "--from-env";
	} else {
		path = find_config(&o, buf, sizeof(buf));
		if (path != NULL)
			text = pw_read_rules(path, &len);
	}
	if (o.learn != NULL && o.strict)
		errx(2, "--learn and --strict: --learn runs without strict "
		     "mode, to see what strict mode would refuse");
	cfg = load(&o, path, text, len);
	if (o.learn != NULL)
		cfg->strict = false;	/* the rule file's `strict on` too */
	if (cfg->syslog != NULL && log_syslog_use(cfg->syslog) < 0)
		errx(2, "log syslog: the socket's path is too long");
	if (path != NULL && text == NULL)
		err(2, "%s", path);	/* cfg_load could, we could not */
	/* a session proxywrap-dl must run: before the image, which it
	 * compiles itself */
	if (optlib_static() && optlib_wanted(cfg) && !o.check &&
	    o.explain == NULL && optind < argc && !pw_session_inherited())
		exec_dynamic(argv);
	/* compiled once for the whole session: every process of the tree
	 * matches on this image, mapped from the policy */
	r = rules_compile_image(cfg);
	if (r == NULL)
		errx(2, "out of memory");
	if (o.check) {
		printf("%s: ok (%zu prox%s, %zu rule%s%s)\n",
		       path != NULL ? path : "-p", cfg->nproxies,
		       cfg->nproxies == 1 ? "y" : "ies", cfg->nrules,
		       cfg->nrules == 1 ? "" : "s",
		       cfg->strict ? ", strict" : "");
		return 0;
	}
	if (o.explain != NULL)
		return explain_dest(cfg, r, o.explain);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (pw_session_inherited()) {
		/* a session inside a session could loosen the outer one:
		 * the command runs under the policy already in force */
		warnx("already inside a proxywrap session: %s runs under its "
		      "policy, not this one", argv[optind]);
		execvp(argv[optind], argv + optind);
		err(errno == ENOENT ? 127 : 126, "%s", argv[optind]);
	}
	if (o.log == NULL && cfg->log != NULL)
		o.log = cfg->log;
	if (o.log != NULL)
		o.log = abs_log(o.log, abs, sizeof(abs));

	/* The session: the policy exactly as checked above, and its logs. */
	memset(&v, 0, sizeof(v));
	v.name = path != NULL ? path : "(none)";
	if (path != NULL && !o.from_env &&
	    (name = realpath(path, NULL)) != NULL)
		v.name = name;	/* as the library named it: file:line */
	proxies = join_proxies(&o, &plen);
	v.proxies = proxies;
	pool = getenv("SHIM_FAKE_POOL");
	v.pool = pool != NULL ? pool : "";
	/* the tree parses only what the image does not hold: proxies and
	 * settings (line numbers kept) */
	stripped = cfg_strip_rules(text != NULL ? text : "", len, &slen);
	if (stripped == NULL)
		errx(2, "out of memory");
	if (o.learn != NULL)
		learn_unstrict(stripped, slen);
	v.text = stripped;
	v.text_len = slen;
	v.image = rules_image(r, &v.image_len);
	v.strict = cfg->strict;
	v.verbose = o.verbose;
	supervisor = sup_choose(o.supervise_set ? o.supervise :
				cfg->strict ? SUP_ALL : SUP_AUTO, cfg, r,
				v.name, argv[optind], o.verbose, -1);
	v.supervised = supervisor != NULL;
	/* https proxies: TLS runs here, in the relay, never in the tree */
	if (relay_start(cfg, relay, why, sizeof(why)) < 0)
		errx(2, "the TLS relay for https proxies: %s", why);
	v.relay = relay;
	/* the control socket, for the tree's Negotiate tokens (negotiate.h) */
	if (neg_setup(cfg, v.ctl) < 0)
		err(2, "session: the control socket");
	/* ... and for getpeername of an https tunnel after exec */
	if (relay[0] != '\0' && relay_peer_serve(v.ctl) < 0)
		err(2, "session: the control socket");
	/* the relay and the control socket are served by this process */
	serving = relay[0] != '\0' || v.ctl[0] != '\0';
	pw_session_make(&sess, &v, o.log, o.summary || o.learn != NULL);
	if (v.ctl[0] != '\0' && ctl_serve(sess.fd[0]) < 0)
		errx(2, "session: cannot serve the control socket");
	if (supervisor != NULL) {
		supervisor->pol.audit_fd = sess.fd[1 + SESS_AUDIT];
		supervisor->pol.table_fd = sess.fd[1 + SESS_TABLE];
		supervisor->pol.pool = v.pool;
	}
	explicit_bzero(stripped, slen);
	free(stripped);
	explicit_bzero(proxies, plen);
	free(proxies);
	if (text != NULL)
		explicit_bzero(text, len);
	free(text);
	if (o.summary || o.learn != NULL) {
		report = (struct report){
			.summary = o.summary, .summary_file = o.summary_file,
			.format = o.summary_format, .learn = o.learn,
			.cfg = cfg, .argv = argv + optind,
			.fd = sess.audit_read, .from = sess.audit_from,
		};
		after_child = at_exit_report;
	}

	preflight(cfg, o.from_env ? NULL : path, argv[optind],
		  supervisor != NULL, o.verbose);
	export_settings(find_file("libshim.so"), &sess);
	/* the tree has the image: nothing of the rules stays here while it
	 * runs (a million rules are some 300 MB parsed), unless the
	 * supervisor decides with them; when the command takes our place
	 * (run), exec drops them all at once */
	if (supervisor == NULL && o.learn == NULL &&
	    (serving || after_child != NULL)) {
		rules_free(r);
		cfg_free(cfg);
		malloc_trim(0);
	}
	return run(argv + optind);
}
