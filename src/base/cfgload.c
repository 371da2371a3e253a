/*
 * cfgload.c - cfg_load: read the whole rule file, then parse it
 * (src/core/config.c).
 *
 * The parser is pure; the reading is here, in both roles' base, and goes
 * through the real calls: in the library, read and close are its own hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "config.h"
#include "real.h"

#define CFG_FILE_MAX (64u << 20)	/* refuse rule files above 64 MiB */

static const char *
file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/*
 * The text is read into pages of its own, not the heap: a library that
 * freed a 64 KiB heap buffer under the objects the parse left behind
 * gave the program a hole that every later allocation above 1 KiB was
 * split from and merged back into (glibc's getaddrinfo paid some 260
 * instructions a call for it).  Sized from fstat, grown if the file is.
 */
static char *
text_grow(char *text, size_t *cap, size_t want)
{
	size_t n = (want + 4095) & ~(size_t)4095;
	void *p;

	if (text == NULL)
		p = mmap(NULL, n, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		p = mremap(text, *cap, n, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return NULL;
	*cap = n;
	return p;
}

struct config *
cfg_load(const char *path)
{
	struct config *cfg;
	char *text = NULL, *n;
	size_t len = 0, cap = 0, want;
	int fd, err = 0;
	ssize_t r;
	struct stat st;
	char msg[256];

	/* O_NONBLOCK: opening a FIFO for reading waits for a writer, for
	 * ever; only a regular file is read (a FIFO, a tty or a device could
	 * hang or never end) */
	fd = real_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	if (fd == -1)
		err = errno;
	else if (fstat(fd, &st) == -1)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = -1;
	if (err != 0 && fd != -1) {
		real_close(fd);
		fd = -1;
	}
	while (fd != -1) {
		if (len == cap) {
			/* one more byte than fstat said: the read that
			 * returns 0 needs room */
			want = cap * 2;
			if (cap == 0)
				want = (uint64_t)st.st_size < CFG_FILE_MAX ?
				       (size_t)st.st_size + 1 : CFG_FILE_MAX;
			if (want > CFG_FILE_MAX)
				want = CFG_FILE_MAX;
			if (want <= cap) {
				err = EFBIG;
				break;
			}
			n = text_grow(text, &cap, want);
			if (n == NULL) {
				err = ENOMEM;
				break;
			}
			text = n;
		}
		r = real_read(fd, text + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err = errno;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (fd != -1)
		real_close(fd);
	if (err == ENOMEM) {
		if (text != NULL) {
			explicit_bzero(text, len);
			munmap(text, cap);
		}
		return NULL;
	}
	cfg = cfg_parse(path, err == 0 ? text : "", err == 0 ? len : 0);
	if (text != NULL) {
		explicit_bzero(text, len);
		munmap(text, cap);
	}
	if (cfg != NULL && err != 0) {
		if (err == -1)
			snprintf(msg, sizeof(msg), "cannot read: not a regular "
				 "file (%s)", file_kind(st.st_mode));
		else
			snprintf(msg, sizeof(msg), "cannot read: %s",
				 strerror(err));
		cfg_add_error(cfg, path, msg);
	}
	return cfg;
}
