/*
 * learn.h - `proxywrap --learn FILE`: the session's audit log (log.h's
 * JSON lines) turned into the smallest rule file that allows exactly what
 * the command used, each destination with the action the rules gave it
 * (direct, or via the same proxies, whose definitions are copied), one
 * comment per rule line naming the programs and how often.  Pure: the
 * caller feeds lines and writes the text.
 */
#ifndef PROXYWRAP_LEARN_H
#define PROXYWRAP_LEARN_H

#include <stddef.h>

#include "config.h"

struct learn;

/* An empty collection; NULL when out of memory. */
struct learn *learn_new(void);

/* Fold one audit line (without its '\n') in: connect, proxy-error and
 * resolve events are destinations used; block events are refusals the
 * file records as comments; other lines are ignored. */
void learn_add(struct learn *l, const char *line, size_t len);

/*
 * The rule file, malloc'd and NUL-terminated (*len without the NUL), or
 * NULL when out of memory.  cfg is the session's configuration: each
 * event's rule (by its line) gives the action and options to keep, and
 * the proxies and groups a kept via rule names are copied from it, with
 * their passwords (the caller writes the file 0600).  cmd names the
 * command in the header.  Names that are not DNS names (the program's
 * bytes) are counted in a comment, never written as rules.
 */
char *learn_text(const struct learn *l, const struct config *cfg,
		 const char *cmd, size_t *len);

void learn_free(struct learn *l);

/*
 * Blank the `strict` statements of rule-file text[0..len) in place (the
 * bytes become blanks, so every line keeps its number): the text a
 * --learn session hands its processes, which must not be strict.
 */
void learn_unstrict(char *text, size_t len);

#endif
