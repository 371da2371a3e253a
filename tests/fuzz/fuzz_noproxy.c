/*
 * fuzz_noproxy.c - NO_PROXY values (bytes from the environment) through
 * fromenv_noproxy and fromenv_build.
 *
 * Checks: only data[0..size) is read; the rules built always parse
 * without errors (no token can inject a statement); for a few hosts,
 * the rules send direct exactly what curl's algorithm leaves unproxied,
 * except where fromenv.h documents a token curl cannot match either.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fromenv.h"
#include "rules.h"

static const char *const hosts[] = {
	"example.com", "a.example.com", "10.1.2.3", "2001:db8::7", "localhost",
};

static void
fuzz_noproxy_agree(const struct rules *r, const char *np)
{
	struct decision d;
	uint8_t a[16];
	size_t i;
	bool direct;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (inet_pton(AF_INET, hosts[i], a) == 1)
			rules_decide_addr(r, AF_INET, a, 80, &d);
		else if (inet_pton(AF_INET6, hosts[i], a) == 1)
			rules_decide_addr(r, AF_INET6, a, 80, &d);
		else
			rules_decide_name(r, hosts[i], 80, &d);
		direct = d.action == CFG_DIRECT && d.rule != NULL;
		if (strcmp(np, "*") == 0)
			direct = d.action == CFG_DIRECT;
		if (direct != fromenv_curl_noproxy(hosts[i], np))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fromenv_vars v = { .all = "http://p:1", .all_var = "ALL_PROXY",
				  .no_proxy_var = "NO_PROXY" };
	char out[512], *np, *text;
	struct config *cfg;
	struct rules *r;
	size_t tn;
	bool all;
	int n;

	n = fromenv_noproxy((const char *)data, size, &all, out, sizeof(out));
	if (n < -1000 || (n >= 0 && (size_t)n != strlen(out)))
		abort();
	if (size == 0 || memchr(data, '\0', size) != NULL)
		return 0;	/* an environment value has no NUL */
	np = malloc(size + 1);
	tn = 2 * size + 1024;
	text = malloc(tn);
	if (np == NULL || text == NULL)
		goto out;
	memcpy(np, data, size);
	np[size] = '\0';
	v.no_proxy = np;
	n = fromenv_build(&v, text, tn);
	if (n < 0)
		abort();
	cfg = cfg_parse("env", text, (size_t)n);
	if (cfg == NULL)
		goto out;
	if (cfg->nerrs > 0)
		abort();
	r = rules_compile(cfg);
	if (r != NULL)
		fuzz_noproxy_agree(r, np);
	rules_free(r);
	cfg_free(cfg);
out:
	free(np);
	free(text);
	return 0;
}
