/*
 * sessfmt.c - the session policy's byte layout (sessfmt.h).  Pure.
 */
#include "sessfmt.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static size_t
slen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

size_t
sess_size(const char *name, const char *proxies, const char *pool,
	  size_t text_len)
{
	return sizeof(struct sess_hdr) + slen(name) + 1 + slen(proxies) + 1 +
	       slen(pool) + 1 + text_len + 1;
}

size_t
sess_size_image(size_t base, size_t image_len)
{
	if (image_len == 0)
		return base;
	return ((base + SESS_IMAGE_ALIGN - 1) & ~(size_t)(SESS_IMAGE_ALIGN - 1)) +
	       image_len;
}

static char *
put(char *p, const char *s, size_t len)
{
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p + len + 1;
}

/* A control socket's name: NUL within SESS_CTL_MAX, [a-z0-9-] before it,
 * zero after it (so one policy has one byte image). */
static bool
ctl_ok(const char *c)
{
	size_t i, n = strnlen(c, SESS_CTL_MAX);

	if (n == SESS_CTL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') ||
		      (c[i] >= '0' && c[i] <= '9') || c[i] == '-'))
			return false;
	return true;
}

static bool
ctl_padded(const char *c)
{
	size_t i;

	if (!ctl_ok(c))
		return false;
	for (i = strlen(c); i < SESS_CTL_MAX; i++)
		if (c[i] != '\0')
			return false;
	return true;
}

static size_t
build(const struct sess_view *v, void *buf, size_t n, bool image)
{
	struct sess_hdr h;
	size_t base = sess_size(v->name, v->proxies, v->pool, v->text_len);
	size_t need = sess_size_image(base, v->image_len);
	size_t fill = image ? need : base;
	char *p = buf;
	int i;

	if (n < fill || slen(v->name) > SESS_STR_MAX ||
	    slen(v->proxies) > SESS_STR_MAX || slen(v->pool) > SESS_STR_MAX ||
	    v->text_len > SESS_TEXT_MAX || v->image_len > SESS_IMAGE_MAX ||
	    slen(v->relay) >= SESS_RELAY_MAX ||
	    (v->text_len > 0 && memchr(v->text, '\0', v->text_len) != NULL))
		return 0;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SESS_MAGIC, sizeof(h.magic));
	h.version = SESS_VERSION;
	h.hdr_size = sizeof(h);
	h.total = need;
	h.strict = v->strict;
	h.flags = v->supervised ? SESS_F_SUPERVISED : 0;
	h.verbose = v->verbose;
	h.name_len = (uint32_t)slen(v->name);
	h.proxies_len = (uint32_t)slen(v->proxies);
	h.pool_len = (uint32_t)slen(v->pool);
	h.text_len = v->text_len;
	h.image_len = v->image_len;
	h.image_off = v->image_len > 0 ? need - v->image_len : 0;
	if (v->relay != NULL)
		memcpy(h.relay, v->relay, slen(v->relay));
	for (i = 0; i < SESS_NFILES; i++) {
		h.dev[i] = v->dev[i];
		h.ino[i] = v->ino[i];
	}
	if (!ctl_ok(v->ctl))
		return 0;
	memcpy(h.ctl, v->ctl, strlen(v->ctl));
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	p = put(p, v->name, h.name_len);
	p = put(p, v->proxies, h.proxies_len);
	p = put(p, v->pool, h.pool_len);
	put(p, v->text, v->text_len);
	if (image && v->image_len > 0) {
		memset((char *)buf + base, 0, h.image_off - base);
		memcpy((char *)buf + h.image_off, v->image, v->image_len);
	}
	return fill;
}

size_t
sess_build(const struct sess_view *v, void *buf, size_t n)
{
	return build(v, buf, n, true);
}

size_t
sess_build_head(const struct sess_view *v, void *buf, size_t n)
{
	return build(v, buf, n, false);
}

/* The string of len bytes at *off, NUL-terminated and without a NUL
 * inside; advances *off past its NUL. */
static const char *
take(const char *b, size_t n, size_t *off, uint64_t len)
{
	const char *s = b + *off;

	if (len > n - *off || n - *off - len < 1 || s[len] != '\0' ||
	    memchr(s, '\0', len) != NULL)
		return NULL;
	*off += len + 1;
	return s;
}

/* NUL-terminated and NUL-padded: one policy, one spelling of it. */
static bool
relay_ok(const char *r)
{
	size_t i, len = strnlen(r, SESS_RELAY_MAX);

	if (len == SESS_RELAY_MAX)
		return false;
	for (i = len; i < SESS_RELAY_MAX; i++)
		if (r[i] != '\0')
			return false;
	return true;
}

int
sess_parse(const void *buf, size_t n, struct sess_view *v)
{
	const char *b = buf;
	struct sess_hdr h;
	size_t off = sizeof(h);
	int i;

	if (n < sizeof(h))
		return -EINVAL;
	memcpy(&h, b, sizeof(h));
	if (memcmp(h.magic, SESS_MAGIC, sizeof(h.magic)) != 0 ||
	    h.version != SESS_VERSION || h.hdr_size != sizeof(h) ||
	    h.total != n || h.strict > 1 || h.verbose < 0 || h.verbose > 3 ||
	    (h.flags & ~SESS_F_SUPERVISED) != 0 ||
	    h.name_len > SESS_STR_MAX || h.proxies_len > SESS_STR_MAX ||
	    h.pool_len > SESS_STR_MAX || h.text_len > SESS_TEXT_MAX ||
	    !relay_ok(h.relay) || !ctl_padded(h.ctl))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->name = take(b, n, &off, h.name_len);
	v->proxies = v->name != NULL ? take(b, n, &off, h.proxies_len) : NULL;
	v->pool = v->proxies != NULL ? take(b, n, &off, h.pool_len) : NULL;
	v->text = v->pool != NULL ? take(b, n, &off, h.text_len) : NULL;
	if (v->text == NULL)
		return -EINVAL;
	if (h.image_len == 0 ? h.image_off != 0 || off != n :
	    h.image_len > SESS_IMAGE_MAX || h.image_off % SESS_IMAGE_ALIGN ||
	    h.image_off < off || h.image_off > n ||
	    h.image_len != n - h.image_off)
		return -EINVAL;
	if (h.image_len > 0) {
		v->image = b + h.image_off;
		v->image_len = h.image_len;
		v->image_off = h.image_off;
	}
	v->relay = b + offsetof(struct sess_hdr, relay);
	v->text_len = h.text_len;
	v->strict = h.strict != 0;
	v->supervised = (h.flags & SESS_F_SUPERVISED) != 0;
	v->verbose = h.verbose;
	memcpy(v->ctl, h.ctl, sizeof(v->ctl));
	for (i = 0; i < SESS_NFILES; i++) {
		v->dev[i] = h.dev[i];
		v->ino[i] = h.ino[i];
	}
	return 0;
}
