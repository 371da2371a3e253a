/*
 * test_cmsg32.c - a 32-bit program's control messages in native form:
 * SCM_RIGHTS and an 8-byte payload at 4-byte alignment, two messages,
 * and what the kernel's compat layer refuses with EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cmsg32.h"

/* A compat header (len, level, type) at p, then n payload bytes. */
static size_t
put32(uint8_t *p, int level, int type, const void *body, uint32_t n)
{
	uint32_t h[3] = { 12 + n, (uint32_t)level, (uint32_t)type };

	memcpy(p, h, sizeof(h));
	memcpy(p + 12, body, n);
	return (12 + n + 3) & ~(size_t)3;
}

static void
test_rights_and_txtime(void **state)
{
	uint8_t cb[64], out[128];
	int fds[2] = { 7, 9 };
	uint64_t t = 0x1122334455667788ULL, got;
	struct cmsghdr *h;
	size_t n = 0, len;

	(void)state;
	n += put32(cb + n, SOL_SOCKET, SCM_RIGHTS, fds, sizeof(fds));
	n += put32(cb + n, SOL_SOCKET, 61 /* SCM_TXTIME */, &t, sizeof(t));
	assert_int_equal(cmsg32_to_native(cb, n, NULL, 0, &len), 0);
	assert_int_equal(len, CMSG_SPACE(sizeof(fds)) + CMSG_SPACE(8));
	assert_int_equal(cmsg32_to_native(cb, n, out, sizeof(out), &len), 0);
	h = (struct cmsghdr *)(void *)out;
	assert_int_equal(h->cmsg_len, CMSG_LEN(sizeof(fds)));
	assert_int_equal(h->cmsg_level, SOL_SOCKET);
	assert_int_equal(h->cmsg_type, SCM_RIGHTS);
	assert_memory_equal(CMSG_DATA(h), fds, sizeof(fds));
	h = (struct cmsghdr *)(void *)(out + CMSG_SPACE(sizeof(fds)));
	assert_int_equal(h->cmsg_len, CMSG_LEN(8));
	assert_int_equal(h->cmsg_type, 61);
	memcpy(&got, CMSG_DATA(h), sizeof(got));
	assert_true(got == t);
	/* too small a buffer */
	assert_int_equal(cmsg32_to_native(cb, n, out, len - 1, &len), -ENOSPC);
}

/* What cmsghdr_from_user_compat_to_kern refuses. */
static void
test_refused(void **state)
{
	uint8_t cb[32] = { 0 };
	uint32_t l;
	size_t len;
	int fd = 3;

	(void)state;
	/* non-empty but shorter than a header: no message at all */
	assert_int_equal(cmsg32_to_native(cb, 8, NULL, 0, &len), -EINVAL);
	/* a length under the header's */
	l = 8;
	memcpy(cb, &l, 4);
	assert_int_equal(cmsg32_to_native(cb, 16, NULL, 0, &len), -EINVAL);
	/* a length past the bytes */
	put32(cb, SOL_SOCKET, SCM_RIGHTS, &fd, 4);
	assert_int_equal(cmsg32_to_native(cb, 15, NULL, 0, &len), -EINVAL);
	/* the header alone is a message (no payload) */
	l = 12;
	memcpy(cb, &l, 4);
	assert_int_equal(cmsg32_to_native(cb, 12, NULL, 0, &len), 0);
	assert_int_equal(len, CMSG_SPACE(0));
	/* trailing bytes too few for another header are not looked at */
	put32(cb, SOL_SOCKET, SCM_RIGHTS, &fd, 4);
	memset(cb + 16, 0xff, 8);
	assert_int_equal(cmsg32_to_native(cb, 24, NULL, 0, &len), 0);
	assert_int_equal(len, CMSG_SPACE(4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rights_and_txtime),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
