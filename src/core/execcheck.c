/*
 * execcheck.c - can the shim follow a program into exec?
 *
 * exec_parse judges a file's first bytes (pure: ELF headers and "#!"
 * lines are decoded field by field, every read bounds-checked).  The
 * exec_check_* functions read the file and add what the inode says:
 * setuid/setgid bits that would change the user, and file capabilities.
 * The loader ignores LD_PRELOAD (from anywhere but the system directories)
 * in all of those, and never runs at all for a static executable.
 */
#include "execcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ELF_PT_INTERP 3		/* ELF gABI, program header p_type */
#define ELF_ET_EXEC 2
#define ELF_ET_DYN 3
#define EXEC_READ_MAX (1u << 20)	/* program headers further in: give up */

/* An unsigned field of `size` bytes at p[off], in the file's byte order. */
static bool
field(const uint8_t *p, size_t len, size_t off, size_t size, bool le,
      uint64_t *v)
{
	size_t i;

	if (off > len || size > len - off)
		return false;
	*v = 0;
	for (i = 0; i < size; i++) {
		size_t k = le ? size - 1 - i : i;

		*v = (*v << 8) | p[off + k];
	}
	return true;
}

/*
 * "#!" then optional blanks, then the interpreter up to a blank or the
 * end of the line (Linux fs/binfmt_script.c).  Bytes past the first line
 * or past EXEC_INTERP_MAX are not looked at.
 */
static void
parse_script(const uint8_t *p, size_t len, struct exec_image *img)
{
	size_t i = 2, n = 0;

	if (len > EXEC_INTERP_MAX)
		len = EXEC_INTERP_MAX;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
	       p[i] != '\0' && n < sizeof(img->interp) - 1)
		img->interp[n++] = (char)p[i++];
	img->interp[n] = '\0';
	img->kind = n > 0 ? EXEC_SCRIPT : EXEC_OTHER;
}

/*
 *  ELF header (gABI)             ELF32   ELF64
 *   e_ident[16]: 7f 'E' 'L' 'F' class(1|2) data(1 LE|2 BE) ...
 *   e_type                       16/2    16/2
 *   e_phoff                      28/4    32/8
 *   e_phentsize                  42/2    54/2
 *   e_phnum                      44/2    56/2
 *  each program header starts with p_type (4 bytes).
 */
/* This build's ELF class and machine: what the library can load into. */
#if defined(__x86_64__)
#define ELF_NATIVE_MACHINE 62		/* EM_X86_64 */
#elif defined(__aarch64__)
#define ELF_NATIVE_MACHINE 183		/* EM_AARCH64 */
#elif defined(__i386__)
#define ELF_NATIVE_MACHINE 3		/* EM_386 */
#else
#define ELF_NATIVE_MACHINE 0		/* unknown: never called foreign */
#endif
#define ELF_NATIVE_64 (sizeof(void *) == 8)

/*
 * A PT_INTERP's path, p_offset and p_filesz at the program header's
 * offsets 8/32 (ELF64) or 4/16 (ELF32), NUL-terminated within filesz.
 * Left "" when the bytes are not in p[0..len) or not a proper string.
 */
static void
elf_interp(const uint8_t *p, size_t len, size_t ph, bool is64, bool le,
	   struct exec_image *img)
{
	uint64_t off, sz;
	size_t i;

	if (!field(p, len, ph + (is64 ? 8 : 4), is64 ? 8 : 4, le, &off) ||
	    !field(p, len, ph + (is64 ? 32 : 16), is64 ? 8 : 4, le, &sz) ||
	    sz < 2 || sz > sizeof(img->interp) || off > len ||
	    sz > len - off)
		return;
	for (i = 0; i + 1 < sz && p[off + i] != '\0'; i++)
		img->interp[i] = (char)p[off + i];
	img->interp[i] = '\0';
}

int
exec_parse(const uint8_t *p, size_t len, size_t *need,
	   struct exec_image *img)
{
	uint64_t type, machine, phoff, phent, phnum, ptype, i;
	bool le, is64;
	size_t end;

	memset(img, 0, sizeof(*img));
	img->kind = EXEC_OTHER;
	if (len == 0)
		return PARSE_ERR;
	if (len >= 2 && p[0] == '#' && p[1] == '!') {
		parse_script(p, len, img);
		return PARSE_OK;
	}
	if (len < 16 || memcmp(p, "\177ELF", 4) != 0 ||
	    (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
		return PARSE_OK;
	is64 = p[4] == 2;
	le = p[5] == 1;
	if (!field(p, len, 16, 2, le, &type) ||
	    !field(p, len, 18, 2, le, &machine) ||
	    !field(p, len, is64 ? 32 : 28, is64 ? 8 : 4, le, &phoff) ||
	    !field(p, len, is64 ? 54 : 42, 2, le, &phent) ||
	    !field(p, len, is64 ? 56 : 44, 2, le, &phnum))
		return PARSE_OK;	/* a truncated header: not runnable */
	if ((type != ELF_ET_EXEC && type != ELF_ET_DYN) ||
	    phent != (is64 ? 56u : 32u) || phnum == 0 ||
	    phnum > EXEC_PHNUM_MAX || phoff > EXEC_READ_MAX)
		return PARSE_OK;
	end = (size_t)(phoff + phent * phnum);
	if (end > len) {
		*need = end - len;
		return PARSE_MORE;
	}
	img->kind = EXEC_ELF_STATIC;
	img->foreign = ELF_NATIVE_MACHINE != 0 &&
		       (is64 != ELF_NATIVE_64 || machine != ELF_NATIVE_MACHINE);
	for (i = 0; i < phnum; i++) {
		if (!field(p, len, (size_t)(phoff + i * phent), 4, le, &ptype))
			break;
		if (ptype == ELF_PT_INTERP) {
			img->kind = EXEC_ELF_DYNAMIC;
			elf_interp(p, len, (size_t)(phoff + i * phent), is64,
				   le, img);
			break;
		}
	}
	return PARSE_OK;
}

const char *
exec_why_str(enum exec_why w)
{
	switch (w) {
	case EXEC_FOLLOWS:
		return "";
	case EXEC_WHY_STATIC:
		return "statically linked";
	case EXEC_WHY_SETUID:
		return "setuid";
	case EXEC_WHY_SETGID:
		return "setgid";
	case EXEC_WHY_FCAPS:
		return "file capabilities";
	case EXEC_WHY_INTERP:
		return "its interpreter cannot be followed";
	case EXEC_WHY_FOREIGN:
		return "built for another word size or machine";
	case EXEC_WHY_LOADER:
		return "runs under its own program interpreter";
	}
	return "?";
}

/* Would exec change the user or group, or raise capabilities? */
static int
privileges(int fd, const struct stat *st)
{
	struct statvfs vfs;
	ssize_t n;

	if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return EXEC_FOLLOWS;
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return EXEC_WHY_SETUID;
	/* setgid without group execute means mandatory locking */
	if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	    st->st_gid != getgid())
		return EXEC_WHY_SETGID;
	n = fgetxattr(fd, "security.capability", NULL, 0);
	if (n > 0)
		return EXEC_WHY_FCAPS;
	return EXEC_FOLLOWS;
}

/* Read the file's head (and its program headers) and judge it. */
static int
judge(int fd, struct exec_image *img)
{
	uint8_t head[EXEC_HEAD_MAX], *big;
	size_t need = 0, want;
	ssize_t r;
	int rc;

	r = pread(fd, head, sizeof(head), 0);
	if (r == -1)
		return -errno;
	rc = exec_parse(head, (size_t)r, &need, img);
	if (rc != PARSE_MORE || (size_t)r < sizeof(head))
		return 0;	/* short file: all of it was judged */
	want = (size_t)r + need;
	big = want <= EXEC_READ_MAX ? malloc(want) : NULL;
	if (big == NULL)
		return 0;	/* EXEC_OTHER: let the kernel judge */
	r = pread(fd, big, want, 0);
	if (r > 0)
		rc = exec_parse(big, (size_t)r, &need, img);
	if (rc != PARSE_OK)
		img->kind = EXEC_OTHER;
	free(big);
	return 0;
}

static int check_path(const char *path, char *interp, size_t n, int depth);

/*
 * Is path the loader this process runs under (the PT_INTERP of
 * /proc/self/exe, compared by real path), which honours LD_PRELOAD?  An
 * interpreter not seen in the bytes read ("") is not judged.
 */
static bool
system_loader(const char *path)
{
	static char own[PATH_MAX];
	static int known;		/* 1: own is set; -1: cannot tell */
	struct exec_image self;
	char real[PATH_MAX];
	int fd, k = __atomic_load_n(&known, __ATOMIC_ACQUIRE);

	if (path[0] == '\0')
		return true;
	if (k == 0) {
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		k = -1;
		if (fd != -1 && judge(fd, &self) == 0 &&
		    self.kind == EXEC_ELF_DYNAMIC && self.interp[0] != '\0' &&
		    realpath(self.interp, own) != NULL)
			k = 1;
		if (fd != -1)
			close(fd);
		__atomic_store_n(&known, k, __ATOMIC_RELEASE);
	}
	if (k != 1)
		return true;	/* nothing to compare with: as before */
	return realpath(path, real) != NULL && strcmp(real, own) == 0;
}

static int
check_fd(int fd, char *interp, size_t n, int depth)
{
	struct exec_image img;
	struct stat st;
	char proc[64];
	int rc, fd2;

	if (fstat(fd, &st) == -1)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return EXEC_FOLLOWS;	/* exec fails with EACCES anyway */
	rc = judge(fd, &img);
	if (rc == -EBADF) {
		/* an O_PATH fd (fexecve allows it): read it through /proc */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		fd2 = open(proc, O_RDONLY | O_CLOEXEC);
		if (fd2 == -1)
			return -errno;
		rc = check_fd(fd2, interp, n, depth);
		close(fd2);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (img.kind == EXEC_SCRIPT) {
		/* the kernel ignores setuid bits on scripts */
		if (depth >= EXEC_SCRIPT_DEPTH)
			return EXEC_FOLLOWS;	/* ELOOP from the kernel */
		rc = check_path(img.interp, interp, n, depth + 1);
		if (rc > 0 && rc != EXEC_WHY_INTERP && n > 0)
			snprintf(interp, n, "%s", img.interp);
		return rc > 0 ? EXEC_WHY_INTERP : rc;
	}
	rc = privileges(fd, &st);
	if (rc != EXEC_FOLLOWS)
		return rc;
	if (img.kind == EXEC_ELF_STATIC)
		return EXEC_WHY_STATIC;
	if (img.kind == EXEC_ELF_DYNAMIC && img.foreign)
		return EXEC_WHY_FOREIGN;
	if (img.kind == EXEC_ELF_DYNAMIC && !system_loader(img.interp)) {
		if (n > 0)
			snprintf(interp, n, "%s", img.interp);
		return EXEC_WHY_LOADER;
	}
	return EXEC_FOLLOWS;
}

static int
check_path(const char *path, char *interp, size_t n, int depth)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && errno == EACCES) {
		/* execute-only (sudo is often 4711): the inode still tells */
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd == -1)
			return -EACCES;
		rc = fstat(fd, &st) == 0 ? privileges(fd, &st) : -errno;
		close(fd);
		return rc == EXEC_FOLLOWS ? -EACCES : rc;
	}
	if (fd == -1)
		return -errno;
	rc = check_fd(fd, interp, n, depth);
	close(fd);
	return rc;
}

int
exec_check_fd(int fd, char *interp, size_t n)
{
	if (n > 0)
		interp[0] = '\0';
	return check_fd(fd, interp, n, 0);
}

int
exec_check_path(const char *path, char *interp, size_t n)
{
	if (n > 0)
		interp[0] = '\0';
	return check_path(path, interp, n, 0);
}

/* allow_exec: the path as exec'd, or its real path, names it. */
static const struct cfg_allow *
allowed(const struct config *cfg, const char *path)
{
	char real[PATH_MAX];
	bool have_real;
	size_t i;

	if (cfg == NULL || path == NULL || cfg->nallow_exec == 0)
		return NULL;
	have_real = realpath(path, real) != NULL;
	for (i = 0; i < cfg->nallow_exec; i++)
		if (strcmp(cfg->allow_exec[i].path, path) == 0 ||
		    (have_real && strcmp(cfg->allow_exec[i].path, real) == 0))
			return &cfg->allow_exec[i];
	return NULL;
}

int
exec_verdict(const struct config *cfg, bool strict, const char *shown,
	     int why, const char *interp, char *msg, size_t n)
{
	const struct cfg_allow *a;
	char what[EXEC_INTERP_MAX + 64];

	if (why == EXEC_WHY_INTERP)
		snprintf(what, sizeof(what), "interpreter %s cannot be followed",
			 interp);
	else if (why == EXEC_WHY_LOADER)
		snprintf(what, sizeof(what), "runs under its own program "
			 "interpreter %s", interp);
	else
		snprintf(what, sizeof(what), "%s", exec_why_str(why));
	a = allowed(cfg, shown);
	if (a == NULL && why == EXEC_WHY_INTERP)
		a = allowed(cfg, interp);
	if (a != NULL) {
		snprintf(msg, n, "allowed exec of %s: %s: runs without the "
			 "shim (%s:%d allow_exec %s)", shown, what, cfg->file,
			 a->line, a->path);
		return 0;
	}
	if (!strict) {
		snprintf(msg, n, "exec of %s: %s: the shim cannot follow it",
			 shown, what);
		return 0;
	}
	snprintf(msg, n, "refused exec of %s: %s: the shim cannot follow it "
		 "(strict mode; allow with allow_exec %s)", shown, what, shown);
	return -EACCES;
}

bool
exec_search(const char *file, const char *pathvar, char *buf, size_t n)
{
	const char *p, *end;
	size_t dl, fl = strlen(file);

	if (strchr(file, '/') != NULL) {
		snprintf(buf, n, "%s", file);
		return true;
	}
	if (fl == 0)
		return false;
	p = pathvar != NULL ? pathvar : "/bin:/usr/bin";
	for (;;) {
		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		if (dl + 1 + fl + 1 <= n) {
			if (dl == 0)
				snprintf(buf, n, "%s", file);
			else
				snprintf(buf, n, "%.*s/%s", (int)dl, p, file);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (*end == '\0')
			return false;
		p = end + 1;
	}
}

int
exec_check_cmd(const struct config *cfg, bool strict, const char *file,
	       char *msg, size_t n)
{
	char path[PATH_MAX], interp[EXEC_INTERP_MAX];
	int why;

	msg[0] = '\0';
	if (!exec_search(file, getenv("PATH"), path, sizeof(path)))
		return 0;	/* exec will report it */
	why = exec_check_path(path, interp, sizeof(interp));
	if (why <= 0)
		return 0;
	return exec_verdict(cfg, strict, path, why, interp, msg, n);
}
