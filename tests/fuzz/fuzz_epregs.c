/*
 * fuzz_epregs.c - epregs_parse_line on arbitrary bytes, one line at a
 * time as the reader hands them (NUL-terminated, no newline).
 *
 * Checks: nothing is read past the line's NUL; a line that parses has a
 * non-negative fd.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "epregs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epoll_event ev;
	unsigned long ino;
	char *line;
	int tfd;

	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (epregs_parse_line(line, &tfd, &ev, &ino) && tfd < 0)
		abort();
	free(line);
	return 0;
}
