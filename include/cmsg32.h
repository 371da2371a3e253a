/*
 * cmsg32.h - a 32-bit (i386) program's control messages as the kernel's
 * compat layer turns them into native ones (net/compat.c,
 * cmsghdr_from_user_compat_to_kern): each 12-byte header (32-bit length,
 * level, type) and its payload at 4-byte alignment becomes a native
 * header and the same payload at native alignment.
 *
 * Pure (bytes in, bytes out): the supervisor reads the bytes from the
 * program's memory, which may hold anything.
 */
#ifndef PROXYWRAP_CMSG32_H
#define PROXYWRAP_CMSG32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The n control bytes at cb in native form into out[0..max) (out NULL:
 * only measured), their length in *len.  0, or -EINVAL as the kernel
 * says it (a length shorter than its header or past the bytes, no
 * message at all in a non-empty buffer), or -ENOSPC when max is short.
 */
int cmsg32_to_native(const uint8_t *cb, size_t n, uint8_t *out, size_t max,
		     size_t *len);

#endif
