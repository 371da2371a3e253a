/*
 * report.c - the session's audit log read back when the command has
 * exited, once, for --summary (summary.h) and --learn (learn.h).
 */
#include "report.h"

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn.h"

#define REPORT_OUT_MAX 65536
#define REPORT_CMD_MAX 1024

static void
put_summary(const struct report *r, const struct summary *s)
{
	char *out = malloc(REPORT_OUT_MAX);
	FILE *to = stderr;

	if (out == NULL) {
		warnx("--summary: out of memory");
		return;
	}
	summary_format(s, r->format, out, REPORT_OUT_MAX);
	if (r->summary_file != NULL &&
	    (to = fopen(r->summary_file, "ae")) == NULL) {
		warn("--summary=%s", r->summary_file);
		to = stderr;
	}
	fputs(out, to);
	if (to != stderr && fclose(to) != 0)
		warn("--summary=%s", r->summary_file);
	free(out);
}

/* The learned rules into r->learn, 0600: a copied proxy may carry its
 * password. */
static void
put_learned(const struct report *r, const struct learn *l)
{
	char cmd[REPORT_CMD_MAX], *text;
	size_t len = 0, off = 0, i;
	ssize_t w;
	int fd;

	cmd[0] = '\0';
	for (i = 0; r->argv[i] != NULL && off + 1 < sizeof(cmd); i++)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%s",
					i > 0 ? " " : "", r->argv[i]);
	text = learn_text(l, r->cfg, cmd, &len);
	if (text == NULL) {
		warnx("--learn: out of memory");
		return;
	}
	fd = open(r->learn, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		warn("--learn %s", r->learn);
		goto out;
	}
	for (off = 0; off < len; off += (size_t)w) {
		w = write(fd, text + off, len - off);
		if (w <= 0) {
			warn("--learn %s", r->learn);
			break;
		}
	}
	if (close(fd) == 0 && off == len)
		warnx("--learn: the rules for what ran are in %s (check them "
		      "with: proxywrap --strict -c %s ...)", r->learn,
		      r->learn);
out:
	explicit_bzero(text, len);
	free(text);
}

void
report_at_exit(const struct report *r)
{
	struct summary *s = NULL;
	struct learn *l = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	f = r->fd >= 0 ? fdopen(r->fd, "r") : NULL;
	if (r->summary)
		s = malloc(sizeof(*s));
	if (r->learn != NULL)
		l = learn_new();
	if (f == NULL || fseeko(f, r->from, SEEK_SET) != 0 ||
	    (r->summary && s == NULL) || (r->learn != NULL && l == NULL)) {
		warnx("%s: cannot read the audit log",
		      r->summary ? "--summary" : "--learn");
		goto done;
	}
	if (s != NULL)
		summary_init(s);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		if (s != NULL)
			summary_add(s, line, (size_t)len);
		if (l != NULL)
			learn_add(l, line, (size_t)len);
	}
	if (s != NULL)
		put_summary(r, s);
	if (l != NULL)
		put_learned(r, l);
done:
	if (f != NULL)
		fclose(f);
	free(line);
	free(s);
	learn_free(l);
}
