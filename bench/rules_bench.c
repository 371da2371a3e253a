/*
 * rules_bench.c - issue 6 targets: 100,000 rules parse and compile in
 * under 100 ms, and one decision takes under 1 µs.
 *
 *   gcc -std=gnu11 -O2 -Iinclude -D_GNU_SOURCE -o /tmp/rb \
 *       bench/rules_bench.c src/rules.c src/config.c src/url.c && /tmp/rb
 *
 * The rule file is generated in memory: a mix of exact names, suffixes,
 * globs, IPv4 and IPv6 prefixes, some with ports.  Not part of the tests.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define NRULES 100000
#define NDECIDE 1000000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
gen(size_t *len)
{
	size_t cap = (size_t)NRULES * 64, off = 0, i;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	off += (size_t)snprintf(t, cap, "proxy p socks5h://198.18.0.1:1080\n");
	for (i = 0; i < NRULES; i++) {
		const char *fmt[] = {
			"block host%zu.example.com\n",
			"via p .zone%zu.example.org\n",
			"direct *.glob%zu.example.net:443\n",
			"block 10.%zu.%zu.0/24\n",
			"direct [2001:db8:%zx:%zx::/64]:22\n",
		};
		size_t k = i % 5;

		if (k == 3)
			off += (size_t)snprintf(t + off, cap - off, fmt[k],
						(i >> 8) & 255, i & 255);
		else if (k == 4)
			off += (size_t)snprintf(t + off, cap - off, fmt[k],
						i >> 16, i & 0xffff);
		else
			off += (size_t)snprintf(t + off, cap - off, fmt[k], i);
	}
	off += (size_t)snprintf(t + off, cap - off, "via p *:443\n");
	*len = off;
	return t;
}

int
main(void)
{
	char names[64][64];
	uint8_t v4[4] = { 10, 1, 2, 3 }, v6[16];
	struct config *cfg;
	struct rules *r;
	struct decision d;
	double t0, t1, t2;
	size_t len, i, hits = 0;
	char *text = gen(&len);

	if (text == NULL)
		return 1;
	for (i = 0; i < 64; i++)
		snprintf(names[i], sizeof(names[i]), i % 2 ?
			 "a.b.zone%zu.example.org" : "miss%zu.example.com",
			 i * 1501);
	inet_pton(AF_INET6, "2001:db8:0:4::1", v6);
	t0 = now();
	cfg = cfg_parse("bench", text, len);
	t1 = now();
	r = cfg != NULL ? rules_compile(cfg) : NULL;
	t2 = now();
	if (r == NULL || cfg->nerrs != 0) {
		fprintf(stderr, "setup failed: %s\n",
			cfg != NULL && cfg->nerrs ? cfg->errs[0] : "no memory");
		return 1;
	}
	printf("%zu rules: parse %.1f ms, compile %.1f ms, total %.1f ms\n",
	       cfg->nrules, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       (t2 - t0) * 1e3);

	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		rules_decide_name(r, names[i & 63], 443, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("decide name: %.0f ns each (%zu matched)\n",
	       (t1 - t0) * 1e9 / NDECIDE, hits);
	hits = 0;
	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		v4[2] = (uint8_t)i;
		rules_decide_addr(r, AF_INET, v4, 80, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("decide ipv4: %.0f ns each (%zu matched)\n",
	       (t1 - t0) * 1e9 / NDECIDE, hits);
	hits = 0;
	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		v6[7] = (uint8_t)i;
		rules_decide_addr(r, AF_INET6, v6, 22, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("decide ipv6: %.0f ns each (%zu matched)\n",
	       (t1 - t0) * 1e9 / NDECIDE, hits);
	rules_free(r);
	cfg_free(cfg);
	free(text);
	return 0;
}
