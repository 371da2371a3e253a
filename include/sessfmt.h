/*
 * sessfmt.h - the policy a proxywrap session hands to every process of
 * its tree, as bytes: proxywrap builds them into a sealed memfd, each
 * wrapped process checks them before it believes a byte.
 *
 *   +------------------------------------------------------+
 *   | struct sess_hdr (magic "pwPOLICY", version, lengths)  |
 *   | name\0     the rule file's name, for file:line        |
 *   | proxies\0  -p URLs, space separated (one chain)        |
 *   | pool\0     SHIM_FAKE_POOL as proxywrap saw it          |
 *   | text\0     the rule file's text, rule statements cut   |
 *   |            to empty lines when an image follows       |
 *   | image      the compiled rules (rulesimg.h), at a page  |
 *   |            boundary so a process maps it alone         |
 *   +------------------------------------------------------+
 *
 * The header also holds the name of the session's control socket (ctl.h:
 * proxywrap's services to the tree, such as Negotiate tokens), and names
 * the session's other files (the fake-address
 * table, the human log, the audit log) by device and inode, so a process
 * can tell the session's fds from look-alikes wherever they now sit.
 * Pure: no I/O.
 */
#ifndef PROXYWRAP_SESSFMT_H
#define PROXYWRAP_SESSFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESS_MAGIC "pwPOLICY"
#define SESS_VERSION 4u
#define SESS_TEXT_MAX (64u << 20)	/* as config.c reads at most */
#define SESS_STR_MAX 65536u		/* name, proxies, pool */
#define SESS_IMAGE_MAX (1ull << 31)	/* the compiled rules */
#define SESS_IMAGE_ALIGN 4096u		/* the image's offset: mmap's unit */
#define SESS_RELAY_MAX 96u		/* the relay's "ADDR:PORT TOKEN" */
#define SESS_CTL_MAX 64u		/* the control socket's name, its NUL */

/* The session's fds besides the policy itself. */
enum sess_file {
	SESS_TABLE = 0,		/* fake-address table (memfd, fakedns.c) */
	SESS_HUMAN = 1,		/* human log lines: proxywrap's stderr */
	SESS_AUDIT = 2,		/* JSON audit log: --log FILE or a memfd */
	SESS_NFILES = 3,
};

struct sess_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;		/* sizeof(struct sess_hdr) */
	uint64_t total;			/* bytes in the whole policy */
	uint32_t strict;		/* 0 or 1 */
	int32_t verbose;		/* 0..3, SHIM_VERBOSE's scale */
	uint32_t name_len, proxies_len, pool_len;
	uint32_t flags;			/* SESS_F_* */
	uint64_t text_len;
	uint64_t dev[SESS_NFILES];	/* st_dev, st_ino of each file; */
	uint64_t ino[SESS_NFILES];	/* ino 0: the session has none */
	char relay[SESS_RELAY_MAX];	/* where proxywrap's TLS relay for
					 * https proxies listens and its
					 * secret (relay.h), NUL-padded;
					 * "": no relay */
	char ctl[SESS_CTL_MAX];		/* the session's control socket
					 * (ctl.h): an abstract AF_UNIX
					 * name, [a-z0-9-], NUL-padded;
					 * "" when it has none */
	uint64_t image_off, image_len;	/* 0, 0: no compiled rules (the
					 * header's last 16 bytes) */
};

#define SESS_F_SUPERVISED 1u	/* the tree runs under proxywrap's seccomp
				 * supervisor (supervise.h) */

/* A checked policy: pointers into the bytes given to sess_parse. */
struct sess_view {
	bool strict;
	bool supervised;		/* SESS_F_SUPERVISED */
	int verbose;
	const char *name, *proxies, *pool, *text;
	size_t text_len;
	uint64_t dev[SESS_NFILES], ino[SESS_NFILES];
	const void *image;		/* the compiled rules, or NULL */
	size_t image_len;
	uint64_t image_off;		/* where they sit in the policy */
	const char *relay;		/* "127.0.0.1:PORT TOKEN", or ""
					 * (NULL to sess_build: "") */
	char ctl[SESS_CTL_MAX];		/* the control socket's name, or "" */
};

/* Bytes needed by sess_build for these strings. */
size_t sess_size(const char *name, const char *proxies, const char *pool,
		 size_t text_len);

/* Bytes for a policy of `base` bytes (sess_size) with an image. */
size_t sess_size_image(size_t base, size_t image_len);

/* Lay v out in buf[0..n), n from sess_size (sess_size_image with an
 * image; the bytes between the text and the image must be zero); returns n, or 0 if it does
 * not fit or a string is too long. */
size_t sess_build(const struct sess_view *v, void *buf, size_t n);

/* sess_build without the image's bytes: buf[0..n), n from sess_size;
 * the caller puts v->image at the header's image_off (the bytes between
 * zero), so a large image is not copied once more. */
size_t sess_build_head(const struct sess_view *v, void *buf, size_t n);

/* Check buf[0..n) and fill v; 0, or -EINVAL for anything malformed
 * (lengths that disagree, a string without its NUL or with one inside,
 * a bad flag). */
int sess_parse(const void *buf, size_t n, struct sess_view *v);

#endif
