/*
 * shim.c - the library's process state: settings read from the
 * environment and the rule file loaded once, lazily, on the first call
 * that needs them.  Nothing runs at load time, so a process that never
 * opens a socket pays only for the dynamic loader's work.
 */
#include "shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "ctl_client.h"
#include "fakedns.h"
#include "guard.h"
#include "log.h"
#include "log_syslog.h"
#include "session.h"
#include "tunnel.h"

#define SHIM_PROXY_MAX CFG_CHAIN_MAX

static struct shim state;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* Split SHIM_PROXY ("url url ...") into cfg_add_cli_proxies' array. */
static int
add_env_proxies(struct config *cfg, const char *origin, const char *list)
{
	char *copy, *save = NULL, *tok;
	const char *urls[SHIM_PROXY_MAX + 1];
	size_t n = 0;
	int rc;

	copy = strdup(list);
	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n == SHIM_PROXY_MAX + 1)
			break;
		urls[n++] = tok;
	}
	rc = n > 0 ? cfg_add_cli_proxies(cfg, origin, urls, n) : 0;
	explicit_bzero(copy, strlen(list));
	free(copy);
	return rc;
}

static struct config *
load_config(bool trusted)
{
	const char *path = trusted ? getenv("SHIM_CONFIG") : NULL;
	const char *proxies = trusted ? getenv("SHIM_PROXY") : NULL;
	const char *strict = trusted ? getenv("SHIM_STRICT") : NULL;
	struct config *cfg;

	if (path != NULL && path[0] != '\0')
		cfg = cfg_load(path);
	else
		cfg = cfg_parse("(none)", "", 0);
	if (cfg == NULL)
		return NULL;
	if (proxies != NULL && proxies[0] != '\0' &&
	    add_env_proxies(cfg, "SHIM_PROXY", proxies) < 0) {
		cfg_free(cfg);
		return NULL;
	}
	if (strict != NULL && strcmp(strict, "1") == 0)
		cfg->strict = true;
	return cfg;
}

/*
 * The session's policy, as proxywrap checked it when it started: nothing
 * in the environment changes it.
 */
static struct config *
load_session(const struct sess_view *v)
{
	struct config *cfg = cfg_parse(v->name, v->text, v->text_len);

	if (cfg == NULL)
		return NULL;
	if (v->proxies[0] != '\0' && add_env_proxies(cfg, "-p", v->proxies) < 0) {
		cfg_free(cfg);
		return NULL;
	}
	if (v->strict)
		cfg->strict = true;
	tun_relay_use(v->relay);	/* https proxies' TLS relay */
	return cfg;
}

static int
session_sink(int which)
{
	return session_fd((enum sess_file)which);
}

/*
 * A config that blocks everything but loopback: used when the real one is
 * unusable, so that a broken setup fails closed instead of going direct.
 */
static void
fail_closed(struct config **cfg)
{
	struct config *empty = cfg_parse("(none)", "", 0);

	if (empty == NULL)
		return;
	empty->strict = true;
	/* keep the broken config's errors reachable for the log only */
	cfg_free(*cfg);
	*cfg = empty;
}

/*
 * The rules to match on: the session's compiled image, the same shared
 * pages in every process of the tree (the text v's config was parsed
 * from has no rule statements then), or compiled here from cfg.
 */
static void
compile(struct config **cfg, const struct sess_view *v)
{
	if (v != NULL && v->image != NULL) {
		state.rules = rules_attach(*cfg, v->image, v->image_len);
		if (state.rules != NULL)
			return;
		log_msg(LOG_ERR, "the session's compiled rules do not check "
			"out: connections other than loopback are blocked");
		state.broken = true;
		fail_closed(cfg);
	}
	state.rules = rules_compile(*cfg);
	if (state.rules == NULL) {
		log_msg(LOG_ERR, "out of memory compiling the rules");
		state.broken = true;
	}
}

static void
shim_load(void)
{
	int saved = errno;
	const struct sess_view *v = NULL;
	enum session_state ss = SESSION_NONE;
	struct config *cfg;
	size_t i;

	state.secure = getauxval(AT_SECURE) != 0;
	shim_internal_enter();
	if (!state.secure)
		ss = session_init(&v);
	log_init(!state.secure && ss == SESSION_NONE);
	if (ss == SESSION_OK) {
		log_use_session(v->verbose, v->ino[SESS_AUDIT] != 0,
				session_sink);
		fdns_use_session(session_fd(SESS_TABLE), NULL);
		cfg = load_session(v);
		state.supervised = v->supervised;
	} else {
		cfg = load_config(!state.secure && ss == SESSION_NONE);
	}
	if (ss == SESSION_LOST) {
		/* named by SHIM_SESSION_FD, not inherited: fail closed */
		log_msg(LOG_ERR, "this process lost the proxywrap session's "
			"policy (its fds were closed before exec): connections "
			"other than loopback are blocked");
		state.broken = true;
		fail_closed(&cfg);
	}
	if (state.secure) {
		/* setuid/setgid/capabilities: no environment is trusted */
		log_msg(LOG_WARN, "secure-execution process: settings ignored, "
			"connections other than loopback are blocked");
		if (cfg != NULL)
			cfg->strict = true;
	}
	if (cfg != NULL && cfg->nerrs > 0) {
		for (i = 0; i < cfg->nerrs && i < CFG_ERR_MAX && cfg->errs; i++)
			log_msg(LOG_ERR, "%s", cfg->errs[i]);
		log_msg(LOG_ERR, "configuration unusable: connections other "
			"than loopback are blocked");
		state.broken = true;
		fail_closed(&cfg);
	}
	if (cfg == NULL) {
		log_msg(LOG_ERR, "out of memory loading the configuration");
		state.broken = true;
	} else {
		compile(&cfg, ss == SESSION_OK && !state.broken ? v : NULL);
	}
	/* the rule file's pool; SHIM_FAKE_POOL, read later, overrides it */
	if (cfg != NULL && cfg->fake_pool[0] != '\0')
		fdns_set_pools(cfg->fake_pool);
	if (ss == SESSION_OK) {
		fdns_use_session(session_fd(SESS_TABLE), v->pool);
		session_release();	/* v is gone */
	}
	if (cfg != NULL && cfg->log != NULL && ss != SESSION_OK)
		log_set_default_file(cfg->log);	/* SHIM_LOG wins */
	/* every process of a session parses the policy's `log syslog` */
	if (cfg != NULL && cfg->syslog != NULL &&
	    log_syslog_use(cfg->syslog) < 0)
		log_msg(LOG_WARN, "log syslog: the socket's path is too long; "
			"audit events do not go to syslog");
	/* an auth=negotiate proxy's tokens: proxywrap makes them */
	tun_set_token_source(ctl_negotiate);
	state.cfg = cfg;
	state.timeout_ms = cfg != NULL ? cfg->connect_timeout_ms
				       : CFG_TIMEOUT_DEFAULT_MS;
	/* the log's settings are all made above, for good */
	state.fast = state.rules != NULL && !log_enabled(LOG_INFO) &&
		     !log_json_enabled();
	shim_internal_leave();
	errno = saved;
}

/* Set once shim_load has run: every hook that decides asks, so the usual
 * answer is one load, not a call into pthread_once. */
static bool loaded;

const struct shim *
shim_get(void)
{
	if (__builtin_expect(__atomic_load_n(&loaded, __ATOMIC_ACQUIRE), 1))
		return &state;
	pthread_once(&once, shim_load);
	__atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
	return &state;
}
