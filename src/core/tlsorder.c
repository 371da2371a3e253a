/*
 * tlsorder.c - AES-128-GCM before AES-256-GCM in a cipher list
 * (tlsorder.h).  A cipher's sibling has the same name with the AES-256
 * part swapped, so its key exchange and authentication are the same
 * (ECDHE-RSA-AES256-GCM-SHA384 and ECDHE-RSA-AES128-GCM-SHA256): moving
 * it never puts a weaker key exchange first.  Pure.
 */
#include <stdbool.h>
#include <string.h>

#include "tlsorder.h"

#define NAME_MAX_ 64

static const struct {
	const char *big, *small;
} pairs[] = {
	{ "AES_256_GCM_SHA384", "AES_128_GCM_SHA256" },	/* TLS 1.3 */
	{ "AES256-GCM-SHA384", "AES128-GCM-SHA256" },	/* TLS 1.2 */
};

/* The sibling of name[0..len) in s[]: its AES-128-GCM one (up) if name
 * is an AES-256-GCM cipher, else (!up) the other way. */
static bool
sibling(const char *name, size_t len, bool up, char s[NAME_MAX_])
{
	const char *from, *to;
	size_t i, k, fl;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		from = up ? pairs[i].big : pairs[i].small;
		to = up ? pairs[i].small : pairs[i].big;
		fl = strlen(from);
		if (len < fl || len - fl + strlen(to) >= NAME_MAX_ ||
		    memcmp(name + len - fl, from, fl) != 0)
			continue;
		k = len - fl;
		memcpy(s, name, k);
		memcpy(s + k, to, strlen(to) + 1);
		return true;
	}
	return false;
}

/* Whether the list has the entry name[0..len) before position end. */
static bool
listed(const char *list, const char *end, const char *name, size_t len)
{
	const char *p = list, *q;

	while (p < end) {
		q = strchr(p, ':');
		if (q == NULL || q > end)
			q = end;
		if ((size_t)(q - p) == len && memcmp(p, name, len) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

static int
put(char *out, size_t n, size_t *at, const char *name, size_t len)
{
	if (*at + (*at > 0) + len + 1 > n)
		return -1;
	if (*at > 0)
		out[(*at)++] = ':';
	memcpy(out + *at, name, len);
	*at += len;
	out[*at] = '\0';
	return 0;
}

int
tlsorder_prefer128(const char *in, char *out, size_t n)
{
	const char *end = in + strlen(in), *p = in, *q;
	char s[NAME_MAX_];
	size_t at = 0, len;

	if (n == 0)
		return -1;
	out[0] = '\0';
	for (; p < end; p = q + 1) {
		q = strchr(p, ':');
		if (q == NULL)
			q = end;
		len = (size_t)(q - p);
		if (len == 0)
			continue;
		if (sibling(p, len, true, s) && listed(p, end, s, strlen(s)) &&
		    !listed(in, p, s, strlen(s))) {
			/* its AES-128 sibling comes later: it goes here */
			if (put(out, n, &at, s, strlen(s)) < 0)
				return -1;
		} else if (sibling(p, len, false, s) &&
			   listed(in, p, s, strlen(s))) {
			continue;	/* went before its AES-256 sibling */
		}
		if (put(out, n, &at, p, len) < 0)
			return -1;
	}
	return (int)at;
}
