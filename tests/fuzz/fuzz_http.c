/*
 * fuzz_http.c - the CONNECT response parser under the parse.h contract,
 * and the request builder on hosts and credentials cut from the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static bool
ends_with(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && memcmp(p + len - n, s, n) == 0;
}

static void
fuzz_response(const uint8_t *data, size_t size)
{
	struct httpc_response r, back;
	size_t used = 0, need = 0, used2 = 0, i;
	int rc;

	rc = httpc_parse_response(data, size, &used, &need, &r);
	if (rc == PARSE_MORE) {
		CHECK(need == 1 && size < HTTPC_HDR_MAX);
		return;
	}
	if (rc != PARSE_OK)
		return;
	CHECK(used <= size && used <= HTTPC_HDR_MAX);
	/* An empty line ends the head: "\n\n" or "\n\r\n" (so "\r\n\r\n"). */
	CHECK(ends_with(data, used, "\n\n") || ends_with(data, used, "\n\r\n"));
	CHECK(memchr(data, '\0', used) == NULL);
	CHECK(r.code >= 100 && r.code <= 599 && r.minor >= 0 && r.minor <= 9);
	CHECK(memchr(r.reason, '\0', sizeof(r.reason)) != NULL);
	for (i = 0; r.reason[i] != '\0'; i++)
		CHECK(r.reason[i] >= 0x20 && r.reason[i] < 0x7f);
	/* The head alone parses the same; one byte less is incomplete. */
	/* Retry-After within its cap; schemes printable and cut whole */
	CHECK(r.retry_after_s >= -1 && r.retry_after_s <= HTTPC_RETRY_MAX_S);
	CHECK(r.retry_after_s == -1 || r.retry_date == 0);
	CHECK(memchr(r.schemes, '\0', sizeof(r.schemes)) != NULL);
	for (i = 0; r.schemes[i] != '\0'; i++)
		CHECK(r.schemes[i] >= 0x20 && r.schemes[i] < 0x7f);
	CHECK(httpc_parse_response(data, used, &used2, &need, &back) ==
	      PARSE_OK && used2 == used && back.code == r.code &&
	      strcmp(back.reason, r.reason) == 0 &&
	      back.retry_after_s == r.retry_after_s &&
	      back.retry_date == r.retry_date &&
	      strcmp(back.schemes, r.schemes) == 0);
	CHECK(httpc_parse_response(data, used - 1, &used2, &need, &back) ==
	      PARSE_MORE);
}

/* Cut a NUL-terminated string of at most max bytes off the input. */
static char *
take_str(const uint8_t **p, size_t *left, size_t max)
{
	size_t n = *left < max ? *left : max;
	const uint8_t *nl = memchr(*p, '|', n);
	char *s;

	if (nl != NULL)
		n = (size_t)(nl - *p);
	s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n;
	*left -= n;
	if (*left > 0) {
		(*p)++;
		(*left)--;
	}
	return s;
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	static char out[4096];
	const uint8_t *p = data;
	size_t left = size;
	char *host, *user, *pass;
	uint16_t port;
	int n;

	if (size < 3)
		return;
	port = (uint16_t)(data[0] << 8 | data[1]);
	p += 2;
	left -= 2;
	host = take_str(&p, &left, 300);
	user = take_str(&p, &left, 600);
	pass = take_str(&p, &left, 600);
	n = httpc_build_request(out, sizeof(out), host, port,
				user[0] == '-' ? NULL : user, pass);
	if (n >= 0) {
		CHECK((size_t)n == strlen(out));
		CHECK(memcmp(out, "CONNECT ", 8) == 0);
		CHECK(ends_with((const uint8_t *)out, (size_t)n, "\r\n\r\n"));
		/* Exactly one empty line: the host cannot inject another. */
		CHECK(strstr(out, "\r\n\r\n") == out + n - 4);
	}
	free(host);
	free(user);
	free(pass);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_response(data, size);
	fuzz_request(data, size);
	return 0;
}
