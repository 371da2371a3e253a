/*
 * rules_bench.c - issue 6 targets: 100,000 rules parse and compile in
 * under 100 ms, and one decision takes under 1 µs; issue 13's: what a
 * process of a session pays to load 1,000,000 rules from the session's
 * compiled image (parse the stripped text, check and map the image).
 *
 *   gcc -std=gnu11 -O2 -Iinclude -D_GNU_SOURCE -o /tmp/rb \
 *       bench/rules_bench.c src/core/[a-z]*.c && /tmp/rb [NRULES [FILE]]
 *
 * The rule file is generated in memory: a mix of exact names, suffixes,
 * globs, IPv4 and IPv6 prefixes, some with ports; with FILE it is also
 * written there (for measuring a wrapped process).  Not part of the tests.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define NDECIDE 1000000

static size_t NRULES = 100000;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *gen(size_t *len);

static void
decide(const struct rules *r, const char *what)
{
	char names[64][64];
	uint8_t v4[4] = { 10, 1, 2, 3 }, v6[16];
	struct decision d;
	double t0, t1;
	size_t i, hits = 0;

	for (i = 0; i < 64; i++)
		snprintf(names[i], sizeof(names[i]), i % 2 ?
			 "a.b.zone%zu.example.org" : "miss%zu.example.com",
			 i * 1501);
	inet_pton(AF_INET6, "2001:db8:0:4::1", v6);
	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		rules_decide_name(r, names[i & 63], 443, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("%sdecide name: %.0f ns each (%zu matched)\n",
	       what, (t1 - t0) * 1e9 / NDECIDE, hits);
	hits = 0;
	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		v4[2] = (uint8_t)i;
		rules_decide_addr(r, AF_INET, v4, 80, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("%sdecide ipv4: %.0f ns each (%zu matched)\n",
	       what, (t1 - t0) * 1e9 / NDECIDE, hits);
	hits = 0;
	t0 = now();
	for (i = 0; i < NDECIDE; i++) {
		v6[7] = (uint8_t)i;
		rules_decide_addr(r, AF_INET6, v6, 22, &d);
		hits += d.rule != NULL;
	}
	t1 = now();
	printf("%sdecide ipv6: %.0f ns each (%zu matched)\n",
	       what, (t1 - t0) * 1e9 / NDECIDE, hits);
}

static char *
gen(size_t *len)
{
	size_t cap = NRULES * 64 + 128, off = 0, i;
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

static void decide(const struct rules *r, const char *what);

/* The session's side: proxywrap strips the text and builds the image,
 * each process parses what is left and attaches to the image. */
static void
session(const struct config *cfg, const char *text, size_t len)
{
	struct config *pc;
	struct rules *img, *att;
	const void *bytes;
	size_t slen, ilen;
	double t0, t1, t2, t3;
	char *st;

	t0 = now();
	img = rules_compile_image(cfg);
	t1 = now();
	st = cfg_strip_rules(text, len, &slen);
	if (img == NULL || st == NULL) {
		fprintf(stderr, "image: no memory\n");
		exit(1);
	}
	bytes = rules_image(img, &ilen);
	printf("session image: build %.1f ms, %.1f MB (stripped text %.1f "
	       "kB)\n", (t1 - t0) * 1e3, ilen / 1e6, slen / 1e3);
	t2 = now();
	pc = cfg_parse("bench", st, slen);
	att = pc != NULL ? rules_attach(pc, bytes, ilen) : NULL;
	t3 = now();
	if (att == NULL) {
		fprintf(stderr, "attach failed\n");
		exit(1);
	}
	printf("per process: parse stripped + attach %.2f ms\n",
	       (t3 - t2) * 1e3);
	decide(att, "attached ");
	rules_free(att);
	cfg_free(pc);
	rules_free(img);
	free(st);
}

int
main(int argc, char **argv)
{
	struct config *cfg;
	struct rules *r;
	double t0, t1, t2;
	size_t len;
	char *text;

	if (argc > 1)
		NRULES = strtoul(argv[1], NULL, 10);
	text = gen(&len);
	if (text == NULL)
		return 1;
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");

		if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f))
			return 1;
	}
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

	decide(r, "");
	session(cfg, text, len);
	rules_free(r);
	cfg_free(cfg);
	free(text);
	return 0;
}
