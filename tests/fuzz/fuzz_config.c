/*
 * fuzz_config.c - cfg_parse on arbitrary bytes, then rules_compile and a
 * few decisions over names and addresses of every kind; and what the
 * proxies' options promise.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static void
fuzz_config_decide(const struct rules *r, const struct config *cfg)
{
	static const char *const names[] = {
		"example.com", "a.b.example.com", "localhost", "x.localhost",
		"198.18.0.1", "[2001:db8::1]", "::ffff:127.0.0.1", "", ".",
		"onion", "host.lab.example.",
	};
	static const uint8_t v4[4] = { 198, 18, 3, 4 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 1 };
	struct decision d;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rules_decide_name(r, names[i], (uint16_t)(i * 1000 + 22), &d);
		if (d.rule != NULL &&
		    (d.rule < cfg->rules || d.rule >= cfg->rules + cfg->nrules))
			abort();
	}
	rules_decide_addr(r, AF_INET, v4, 443, &d);
	rules_decide_addr(r, AF_INET6, v6, 22, &d);
	/* The names of the file's own rules must match something. */
	for (i = 0; i < cfg->nrules && i < 16; i++) {
		const struct cfg_dest *dst = &cfg->rules[i].dests[0];

		if (dst->kind != DEST_NAME)
			continue;
		rules_decide_name(r, dst->name, dst->port_lo, &d);
		if (d.rule == NULL && !d.loopback)
			abort();
	}
}

/* What a proxy line's options promise (config_proxy.c): Negotiate only
 * on an http:// or https:// proxy without a URL password, an spn only
 * with it. */
static void
fuzz_config_proxies(const struct config *cfg)
{
	const struct cfg_proxy *px;
	size_t i;

	for (i = 0; i < cfg->nproxies; i++) {
		px = &cfg->proxies[i];
		if (px->auth != CFG_AUTH_URL && px->auth != CFG_AUTH_NEGOTIATE)
			abort();
		if (px->auth == CFG_AUTH_NEGOTIATE &&
		    ((px->url.scheme != URL_HTTP &&
		      px->url.scheme != URL_HTTPS) || px->url.has_auth))
			abort();
		if (memchr(px->spn, '\0', sizeof(px->spn)) == NULL)
			abort();
		if (px->spn[0] != '\0' && (px->auth != CFG_AUTH_NEGOTIATE ||
					   strchr(px->spn, '/') == NULL ||
					   strchr(px->spn, ' ') != NULL))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	struct rules *r;
	size_t i;

	cfg = cfg_parse("fuzz.conf", (const char *)data, size);
	if (cfg == NULL)
		return 0;
	for (i = 0; i < cfg->nerrs && i < CFG_ERR_MAX; i++)
		if (cfg->errs[i] == NULL || strlen(cfg->errs[i]) == 0)
			abort();
	fuzz_config_proxies(cfg);
	r = rules_compile(cfg);
	if (r != NULL)
		fuzz_config_decide(r, cfg);
	rules_free(r);
	cfg_free(cfg);
	return 0;
}
