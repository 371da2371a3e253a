/*
 * fuzz_rulesimg.c - the compiled rules' image on arbitrary bytes (what a
 * wrapped process maps from the session's policy).
 *
 * Checks: rimg_check and every decision read only data[0..size) (ASan
 * sees a read past the copy); a decided rule's text lies inside the
 * image and ends at its NUL, its chain indexes the config's proxies; no
 * decision loops (libFuzzer's -timeout).  The seeds are images built for
 * the two proxies below (image version 2; the third also with a group,
 * which these proxies alone do not attach to: lookups only), so
 * mutations past the header reach the lookups.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rulesimg.h"

static const char proxies[] = "proxy a socks5h://198.18.0.1:1080\n"
			      "proxy b http://198.18.0.2:8080\n";

static void
inside(const struct decision *d, const uint8_t *img, size_t size,
       const struct config *cfg)
{
	const char *t;
	int i;

	if (d->rule == NULL)
		return;
	t = d->rule->text;
	if ((const uint8_t *)t < img || (const uint8_t *)t >= img + size ||
	    (const uint8_t *)t + strlen(t) >= img + size)
		abort();
	if (d->rule->nchain < 0 || d->rule->nchain > CFG_CHAIN_MAX)
		abort();
	for (i = 0; i < d->rule->nchain; i++)
		if (d->rule->chain[i] < 0 ||
		    (size_t)d->rule->chain[i] >= cfg->nproxies ||
		    d->rule->group[i] < 0 ||
		    (size_t)d->rule->group[i] > cfg->ngroups)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"blocked.example", "a.b.via.example", "x.glob.example",
		"example", "localhost", "a.localhost", "198.18.5.7",
		"[2001:db8::1]", "nothing.example",
	};
	static const char *const v4[] = { "198.18.5.7", "127.0.0.1", "0.0.0.0" };
	static const char *const v6[] = { "2001:db8::1", "::1", "::ffff:198.18.5.1" };
	static struct config *cfg;
	struct rules *r;
	struct decision d;
	uint8_t *img, a[16];
	size_t i;
	struct rimg m;

	if (cfg == NULL)
		cfg = cfg_parse("fuzz", proxies, strlen(proxies));
	/* an exact-size copy: ASan flags any read past it; malloc aligns */
	img = malloc(size + 1);
	if (img == NULL || cfg == NULL)
		return 0;
	memcpy(img, data, size);
	if (rimg_check(img, size, &m) != 0) {
		free(img);
		return 0;
	}
	r = rules_attach(cfg, img, size);
	if (r == NULL) {
		/* no records or other proxies: the lookups alone */
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)rimg_find(&m, false, (const uint8_t *)names[i],
					strlen(names[i]), ~0u, 80);
		(void)rimg_any(&m, 53);
		free(img);
		return 0;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rules_decide_name(r, names[i], (uint16_t)(i * 7919), &d);
		inside(&d, img, size, cfg);
	}
	for (i = 0; i < 3; i++) {
		inet_pton(AF_INET, v4[i], a);
		rules_decide_addr(r, AF_INET, a, 80, &d);
		inside(&d, img, size, cfg);
		inet_pton(AF_INET6, v6[i], a);
		rules_decide_addr(r, AF_INET6, a, 22, &d);
		inside(&d, img, size, cfg);
	}
	rules_free(r);
	free(img);
	return 0;
}
