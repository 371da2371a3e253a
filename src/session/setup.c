/*
 * setup.c - the fds a proxywrap session hands to its tree.
 *
 * Everything is an fd the tree inherits, nothing is a named file: the
 * policy a sealed memfd (nobody can change it, a process that dropped
 * its privileges still reads it), the fake-address table a memfd, the
 * human log a copy of our stderr, the audit log opened once here.  When
 * the last process holding them is gone, so are they, even after a
 * kill -9 of proxywrap.
 */
#include "setup.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

char *
pw_read_rules(const char *path, size_t *len)
{
	struct stat st;
	char *text = NULL, *n;
	size_t cap = 0;
	ssize_t r;
	int fd, e;

	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode))
		errx(2, "%s: not a regular file (a rule file must be one)",
		     path);
	for (;;) {
		if (*len + 1 >= cap) {
			/* the file's size and its NUL, read to the end: a
			 * small file takes a small buffer */
			cap = cap != 0 ? cap * 2 :
			      st.st_size > 0 && st.st_size < SESS_TEXT_MAX ?
			      (size_t)st.st_size + 2 : 65536;
			if (cap > SESS_TEXT_MAX) {
				e = EFBIG;
				goto fail;
			}
			n = realloc(text, cap);
			if (n == NULL) {
				e = ENOMEM;
				goto fail;
			}
			text = n;
		}
		r = read(fd, text + *len, cap - 1 - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	close(fd);
	text[*len] = '\0';
	return text;
fail:
	close(fd);
	if (text != NULL)
		explicit_bzero(text, *len);
	free(text);
	errno = e;
	return NULL;
}

/* Where our fds go: high, as the library puts its own (fdtab_high). */
static long
low_mark(void)
{
	static long mark;	/* 0: not asked yet (the limit stays put) */
	struct rlimit rl;
	long lo = 1000;

	if (mark != 0)
		return mark;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur - (long)rl.rlim_cur / 8 < lo)
		lo = (long)rl.rlim_cur - (long)rl.rlim_cur / 8;
	mark = lo > 3 ? lo : 3;
	return mark;
}

/* fd, moved high and inherited by exec; fd itself closed. */
static int
inherit(int fd, const char *what)
{
	int n = fcntl(fd, F_DUPFD, low_mark());

	if (n == -1)
		err(2, "session: %s", what);
	close(fd);
	return n;
}

static void
ident(int fd, struct sess_view *v, enum sess_file f)
{
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0) {
		v->dev[f] = (uint64_t)st.st_dev;
		v->ino[f] = (uint64_t)st.st_ino;
	}
}

/* The audit log: --log FILE appended to, or a memfd for --summary. */
static void
make_audit(struct pw_session *s, const char *log_path, bool summary)
{
	char proc[64];
	struct stat st;
	int fd, w;

	if (log_path != NULL) {
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd == -1)
			err(2, "--log %s", log_path);
		if (summary) {
			s->audit_read = open(log_path, O_RDONLY | O_CLOEXEC);
			if (s->audit_read == -1)
				err(2, "--summary: cannot read %s", log_path);
			s->audit_from = fstat(fd, &st) == 0 ? st.st_size : 0;
		}
		s->fd[1 + SESS_AUDIT] = inherit(fd, "the audit log");
		return;
	}
	if (!summary)
		return;
	fd = memfd_create("proxywrap-audit", MFD_CLOEXEC);
	if (fd == -1)
		err(2, "--summary: cannot create its log");
	/* an O_APPEND description of the same file, so a process that
	 * seeks it cannot make lines overwrite each other */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	w = open(proc, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (w == -1)
		w = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (w == -1)
		err(2, "--summary: cannot create its log");
	s->audit_read = fd;
	s->audit_from = 0;
	s->fd[1 + SESS_AUDIT] = inherit(w, "the audit log");
}

static void
put_all(int fd, const void *p, size_t n, size_t at)
{
	size_t off;
	ssize_t w;

	for (off = 0; off < n; off += (size_t)w) {
		w = pwrite(fd, (const char *)p + off, n - off,
			   (off_t)(at + off));
		if (w <= 0)
			err(2, "session: the policy");
	}
}

void
pw_session_make(struct pw_session *s, struct sess_view *v,
		const char *log_path, bool summary)
{
	size_t n, off;
	char *buf;
	int fd, i;

	for (i = 0; i <= SESS_NFILES; i++)
		s->fd[i] = -1;
	s->audit_read = -1;
	s->audit_from = 0;
	memset(v->dev, 0, sizeof(v->dev));
	memset(v->ino, 0, sizeof(v->ino));

	fd = memfd_create("proxywrap-table", MFD_CLOEXEC);
	if (fd == -1)
		err(2, "session: the fake-address table");
	s->fd[1 + SESS_TABLE] = inherit(fd, "the fake-address table");
	if (fcntl(STDERR_FILENO, F_GETFD) != -1)
		s->fd[1 + SESS_HUMAN] = inherit(fcntl(STDERR_FILENO,
						      F_DUPFD_CLOEXEC, 0),
						"stderr");
	make_audit(s, log_path, summary);
	for (i = 0; i < SESS_NFILES; i++)
		ident(s->fd[1 + i], v, (enum sess_file)i);

	n = sess_size(v->name, v->proxies, v->pool, v->text_len);
	buf = malloc(n);
	if (buf == NULL || sess_build_head(v, buf, n) != n)
		errx(2, "session: the policy does not fit");
	fd = memfd_create("proxywrap-policy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		err(2, "session: the policy");
	put_all(fd, buf, n, 0);
	explicit_bzero(buf, n);		/* proxy passwords */
	free(buf);
	if (v->image_len > 0) {
		/* the image at its page boundary, straight from the rules */
		off = sess_size_image(n, v->image_len) - v->image_len;
		if (ftruncate(fd, (off_t)off) == -1)
			err(2, "session: the policy");
		put_all(fd, v->image, v->image_len, off);
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS) == -1)
		err(2, "session: sealing the policy");
	s->fd[0] = inherit(fd, "the policy");
}

void
pw_session_env(const struct pw_session *s, char *buf, size_t n)
{
	snprintf(buf, n, "%d,%d,%d,%d", s->fd[0], s->fd[1 + SESS_TABLE],
		 s->fd[1 + SESS_HUMAN], s->fd[1 + SESS_AUDIT]);
}

void
pw_session_audit(const struct pw_session *s, const char *line, size_t len)
{
	if (s->fd[1 + SESS_AUDIT] >= 0 &&
	    write(s->fd[1 + SESS_AUDIT], line, len) != (ssize_t)len) {
		/* the log is best effort, as in the library */
	}
}

bool
pw_session_inherited(void)
{
	const char *v = getenv("SHIM_SESSION_FD");
	char magic[sizeof(SESS_MAGIC) - 1];
	char *end;
	long fd;
	int seals;

	if (v == NULL || v[0] == '\0')
		return false;
	fd = strtol(v, &end, 10);
	if (end == v || fd < 3 || fd > 1 << 30)
		return false;
	seals = fcntl((int)fd, F_GET_SEALS);
	return seals != -1 && (seals & SEALS) == SEALS &&
	       pread((int)fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	       memcmp(magic, SESS_MAGIC, sizeof(magic)) == 0;
}
