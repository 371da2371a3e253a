/*
 * cmsg32.c - a 32-bit program's control messages in native form (see
 * cmsg32.h), walked as the kernel walks them: CMSG_COMPAT_FIRSTHDR,
 * CMSG_COMPAT_OK and cmsg_compat_nxthdr.
 */
#include "cmsg32.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct c32_cmsghdr {
	uint32_t len;
	int32_t level;
	int32_t type;
};

#define C32_ALIGN(n) (((n) + 3) & ~(size_t)3)	/* CMSG_COMPAT_ALIGN */

int
cmsg32_to_native(const uint8_t *cb, size_t n, uint8_t *out, size_t max,
		 size_t *len)
{
	struct c32_cmsghdr h;
	struct cmsghdr k;
	size_t off = 0, kl = 0, body;

	while (n >= sizeof(h) && off <= n - sizeof(h)) {
		memcpy(&h, cb + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > n - off)
			return -EINVAL;
		body = h.len - sizeof(h);
		if (out != NULL) {
			if (CMSG_SPACE(body) > max - kl)
				return -ENOSPC;
			memset(out + kl, 0, CMSG_SPACE(body));
			memset(&k, 0, sizeof(k));
			k.cmsg_len = CMSG_LEN(body);
			k.cmsg_level = h.level;
			k.cmsg_type = h.type;
			memcpy(out + kl, &k, sizeof(k));
			memcpy(out + kl + CMSG_LEN(0), cb + off + sizeof(h),
			       body);
		}
		kl += CMSG_SPACE(body);
		if (C32_ALIGN(h.len) > n - off)
			break;
		off += C32_ALIGN(h.len);
	}
	if (kl == 0)
		return -EINVAL;
	*len = kl;
	return 0;
}
