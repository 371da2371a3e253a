/*
 * execfile.c - can the shim follow a program into exec?  The file's side.
 *
 * The exec_check_* functions read the file's head for exec_parse
 * (src/core/execcheck.c) and add what the inode says: setuid/setgid bits
 * that would change the user, and file capabilities.  The loader ignores
 * LD_PRELOAD (from anywhere but the system directories) in all of those,
 * and never runs at all for a static executable.  Files are opened and
 * closed through the real calls: in the library, close is its own hook.
 */
#include "execcheck.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "real.h"

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
	if (need == 0 || (size_t)r < sizeof(head))
		return 0;	/* short file: all of it was judged */
	want = (size_t)r + need;
	big = want <= EXEC_READ_MAX ? malloc(want) : NULL;
	if (big == NULL) {
		if (rc != PARSE_OK)
			img->kind = EXEC_OTHER;	/* let the kernel judge */
		return 0;
	}
	r = pread(fd, big, want, 0);
	if (r > 0) {
		struct exec_image again;

		/* PARSE_OK with need: only Go's note is still unseen, and
		 * what was judged stands */
		if (exec_parse(big, (size_t)r, &need, &again) == PARSE_OK)
			*img = again;
		else if (rc != PARSE_OK)
			img->kind = EXEC_OTHER;
	} else if (rc != PARSE_OK) {
		img->kind = EXEC_OTHER;
	}
	free(big);
	return 0;
}

static int check_path(const char *path, char *interp, size_t n, int depth);

/*
 * The PT_INTERP of the running program, read from its program headers in
 * memory (the auxiliary vector's AT_PHDR; the loader puts the program's
 * there even when run as "ld.so PROG"): no open and read of
 * /proc/self/exe at every process's first exec.  false: no PT_PHDR to
 * place them by, or no interpreter.
 */
static bool
own_interp_mapped(char *own, size_t n)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long i, num = getauxval(AT_PHNUM);
	uintptr_t bias = 0;
	bool placed = false;
	const char *s;
	size_t len;

	if (ph == NULL || num == 0)
		return false;
	for (i = 0; i < num; i++)
		if (ph[i].p_type == PT_PHDR) {
			bias = (uintptr_t)ph - ph[i].p_vaddr;
			placed = true;
		}
	for (i = 0; placed && i < num; i++) {
		if (ph[i].p_type != PT_INTERP || ph[i].p_filesz == 0)
			continue;
		s = (const char *)(bias + ph[i].p_vaddr);
		len = strnlen(s, ph[i].p_filesz);
		if (len == 0 || len >= ph[i].p_filesz || len >= n)
			return false;
		memcpy(own, s, len + 1);
		return true;
	}
	return false;
}

/* The same, from the file's head: a program without PT_PHDR. */
static bool
own_interp_file(char *own, size_t n)
{
	struct exec_image self;
	bool ok = false;
	int fd;

	fd = real_open("/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
	if (fd == -1)
		return false;
	if (judge(fd, &self) == 0 && self.kind == EXEC_ELF_DYNAMIC &&
	    self.interp[0] != '\0' && strlen(self.interp) < n) {
		memcpy(own, self.interp, strlen(self.interp) + 1);
		ok = true;
	}
	real_close(fd);
	return ok;
}

/*
 * Set in a static proxywrap only (the build writes it from the dynamic
 * twin's PT_INTERP): the system's loader, which the tree runs under and
 * which loads the library, when this program runs under none.
 */
extern const char pw_static_loader[] __attribute__((weak));

/* The loader this process runs under, or the system's for a static
 * proxywrap. */
static bool
own_loader(char *own, size_t n)
{
	size_t len;

	if (pw_static_loader != NULL) {
		len = strlen(pw_static_loader);
		if (len == 0 || len >= n)
			return false;
		memcpy(own, pw_static_loader, len + 1);
		return true;
	}
	return own_interp_mapped(own, n) || own_interp_file(own, n);
}

/* Another name for the same file, by real path (a readlink a component,
 * so only when the names differ). */
static __attribute__((noinline)) bool
same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
	       strcmp(ra, rb) == 0;
}

/*
 * Is path the loader this process runs under, which honours LD_PRELOAD?
 * The same name is the same file; another name is compared by real path.
 * An interpreter not seen in the bytes read ("") is not judged.
 */
static bool
system_loader(const char *path)
{
	static char own[EXEC_INTERP_MAX];
	static int known;		/* 1: own is set; -1: cannot tell */
	char mine[EXEC_INTERP_MAX];
	int k = __atomic_load_n(&known, __ATOMIC_ACQUIRE);

	if (path[0] == '\0')
		return true;
	if (k == 0) {
		k = -1;
		if (own_loader(mine, sizeof(mine))) {
			/* threads racing here write the same bytes */
			memcpy(own, mine, strlen(mine) + 1);
			k = 1;
		}
		__atomic_store_n(&known, k, __ATOMIC_RELEASE);
	}
	if (k != 1)
		return true;	/* nothing to compare with: as before */
	if (strcmp(path, own) == 0)
		return true;
	return same_file(path, own);
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
		fd2 = real_open(proc, O_RDONLY | O_CLOEXEC, 0);
		if (fd2 == -1)
			return -errno;
		rc = check_fd(fd2, interp, n, depth);
		real_close(fd2);
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
	if (img.go)
		return EXEC_WHY_GO;
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

	fd = real_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd == -1 && errno == EACCES) {
		/* execute-only (sudo is often 4711): the inode still tells */
		fd = real_open(path, O_PATH | O_CLOEXEC, 0);
		if (fd == -1)
			return -EACCES;
		rc = fstat(fd, &st) == 0 ? privileges(fd, &st) : -errno;
		real_close(fd);
		return rc == EXEC_FOLLOWS ? -EACCES : rc;
	}
	if (fd == -1)
		return -errno;
	rc = check_fd(fd, interp, n, depth);
	real_close(fd);
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
exec_supervised(const struct config *cfg, const char *shown, int why,
		const char *interp, char *msg, size_t n)
{
	if (allowed(cfg, shown) != NULL)
		return false;
	if (why == EXEC_WHY_LOADER)
		snprintf(msg, n, "supervised exec of %s: runs under its own "
			 "program interpreter %s: the shim cannot follow it, "
			 "the supervisor does", shown, interp);
	else if (why == EXEC_WHY_STATIC || why == EXEC_WHY_GO ||
		 why == EXEC_WHY_FOREIGN)
		snprintf(msg, n, "supervised exec of %s: %s: the shim cannot "
			 "follow it, the supervisor does", shown,
			 exec_why_str(why));
	else
		return false;
	return true;
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
