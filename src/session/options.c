/*
 * options.c - proxywrap's command line (options.h): the option table, the
 * usage text, and the parse.
 */
#include "options.h"

#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <ares_version.h>	/* of the libcares.a linked into libshim.so */

void
usage(FILE *f)
{
	fprintf(f,
"usage: proxywrap [-c FILE | --from-env] [-p URL]... [--strict] [-q|-v]\n"
"                 [--log FILE] [--summary[=FILE]] [--summary-format FMT]\n"
"                 [--learn FILE] [--supervise=auto|all|off]\n"
"                 [--] CMD [ARG...]\n"
"       proxywrap --check [-c FILE] [-p URL]...\n"
"       proxywrap --explain DEST [-c FILE] [-p URL]...\n"
"\n"
"Run CMD with its TCP connections routed by a rule file: direct, blocked,\n"
"or through HTTP CONNECT / SOCKS5 proxies.\n"
"\n"
"  -c, --config FILE   rule file (default: $SHIM_CONFIG, then\n"
"                      ~/.config/proxywrap/shim.conf, then\n"
"                      /etc/proxywrap/shim.conf)\n"
"  -p, --proxy URL     send everything not matched by the rule file\n"
"                      through URL (http://, socks5://, socks5h://,\n"
"                      user:password@ allowed); repeat to chain proxies\n"
"      --strict        block destinations that no rule matches\n"
"  -q, --quiet         log errors only\n"
"  -v, --verbose       log every decision (twice: handshake details)\n"
"      --log FILE      append the JSON audit log (one object per line,\n"
"                      every decision) to FILE; human lines stay on stderr\n"
"      --summary[=FILE]\n"
"                      when CMD exits, a table per destination:\n"
"                      connections, bytes, TLS outcomes, blocked attempts\n"
"                      by program, errors; to stderr, or appended to FILE\n"
"      --summary-format text|markdown\n"
"                      the table as text (default) or as GitHub markdown\n"
"                      (--summary=\"$GITHUB_STEP_SUMMARY\")\n"

"      --learn FILE    audit mode: strict off (block rules still hold),\n"
"                      everything recorded; when CMD exits, FILE gets the\n"
"                      rules allowing exactly what it used, for\n"
"                      --strict -c FILE\n"
"      --supervise=auto|all|off\n"
"                      the kernel backstop: a seccomp supervisor decides\n"
"                      the network calls the shim cannot see, for a\n"
"                      command it cannot follow (auto, the default), every\n"
"                      process (all, the default under --strict) or none\n"
"      --from-env      rules from ALL_PROXY, HTTPS_PROXY, http_proxy and\n"
"                      NO_PROXY as curl reads them (port 443: HTTPS proxy,\n"
"                      80: HTTP proxy, others: ALL proxy)\n"
"      --check         validate the configuration and exit\n"
"      --explain DEST  say which rule decides DEST (host[:port],\n"
"                      [v6]:port) and what it does, then exit\n"
"  -h, --help          this text\n"
"      --version       the version, and c-ares's\n"
"\n"
"Exit status: CMD's, or 2 for a bad configuration or usage.\n");
}

void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_STRICT = 256, O_LOG, O_CHECK, O_EXPLAIN, O_VERSION,
	       O_SUMMARY, O_FROM_ENV, O_SUPERVISE, O_SUMMARY_FORMAT,
	       O_LEARN };
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "proxy", required_argument, NULL, 'p' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log", required_argument, NULL, O_LOG },
		{ "check", no_argument, NULL, O_CHECK },
		{ "explain", required_argument, NULL, O_EXPLAIN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "summary", optional_argument, NULL, O_SUMMARY },
		{ "summary-format", required_argument, NULL, O_SUMMARY_FORMAT },
		{ "learn", required_argument, NULL, O_LEARN },
		{ "from-env", no_argument, NULL, O_FROM_ENV },
		{ "supervise", required_argument, NULL, O_SUPERVISE },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->verbose = 1;
	/* '+': options stop at the command, whose own options are its own */
	while ((c = getopt_long(argc, argv, "+c:p:qvh", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			if (o->nproxies == MAX_CLI_PROXIES)
				errx(2, "at most %d -p proxies",
				     MAX_CLI_PROXIES);
			o->proxies[o->nproxies++] = optarg;
			break;
		case O_STRICT:
			o->strict = true;
			break;
		case 'q':
			o->verbose = 0;
			break;
		case 'v':
			o->verbose = o->verbose < 3 ? o->verbose + 1 : 3;
			break;
		case O_LOG:
			o->log = optarg;
			break;
		case O_CHECK:
			o->check = true;
			break;
		case O_EXPLAIN:
			o->explain = optarg;
			break;
		case O_SUMMARY:
			o->summary = true;
			o->summary_file = optarg;
			if (optarg != NULL && optarg[0] == '\0')
				errx(2, "--summary=: a file name, or none for "
				     "stderr");
			break;
		case O_SUMMARY_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->summary_format = SUM_TEXT;
			else if (strcmp(optarg, "markdown") == 0)
				o->summary_format = SUM_MARKDOWN;
			else
				errx(2, "--summary-format: text or markdown, "
				     "not '%s'", optarg);
			break;

		case O_FROM_ENV:
			o->from_env = true;
			break;
		case O_SUPERVISE:
			if (!sup_mode_parse(optarg, &o->supervise))
				errx(2, "--supervise: auto, all or off, not "
				     "'%s'", optarg);
			o->supervise_set = true;
			break;
		case O_LEARN:
			o->learn = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("proxywrap %s\nc-ares %s (static, in libshim.so)\n",
			       PROXYWRAP_VERSION, ARES_VERSION_STR);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
}
