/*
 * tlspeer.c - bench/https.sh's cheapest https proxy: TLS (OpenSSL) on
 * 127.0.0.1:PORT that answers every CONNECT with 200 itself and then
 * plays pwbench serve: "GET /N" gets N zero bytes.  No second hop and
 * no copy through a proxy: what is left of its cost is TLS (AES-GCM and
 * one write per 16 KiB record), so the relay's throughput with it says
 * what the relay can do when the proxy's end costs little.
 *
 *   tlspeer PORT CERT KEY
 *
 * One thread per connection; a line "reused N" on stderr per resumed
 * session, to check resumption by hand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SSL_CTX *ctx;
static unsigned long reused;

/* The request head, whole, into buf (NUL-terminated); 0 or -1. */
static int
read_head(SSL *ssl, char *buf, size_t n)
{
	size_t got = 0;
	int r;

	while (got < n - 1) {
		r = SSL_read(ssl, buf + got, (int)(n - 1 - got));
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return 0;
	}
	return -1;
}

static int
write_all(SSL *ssl, const void *p, size_t n)
{
	int r;

	while (n > 0) {
		r = SSL_write(ssl, p, n > 1 << 30 ? 1 << 30 : (int)n);
		if (r <= 0)
			return -1;
		p = (const char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

static void *
one(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	static char zeros[256 * 1024];
	int fd = (int)(intptr_t)arg;
	unsigned long long want, left;
	char req[4096], hdr[128];
	SSL *ssl = SSL_new(ctx);
	int n;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		goto out;
	if (SSL_session_reused(ssl))
		fprintf(stderr, "reused %lu\n",
			__atomic_add_fetch(&reused, 1, __ATOMIC_RELAXED));
	if (read_head(ssl, req, sizeof(req)) < 0 ||
	    strncmp(req, "CONNECT ", 8) != 0 ||
	    write_all(ssl, ok, sizeof(ok) - 1) < 0 ||
	    read_head(ssl, req, sizeof(req)) < 0)
		goto out;
	want = strncmp(req, "GET /", 5) == 0 ? strtoull(req + 5, NULL, 10) : 0;
	n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Length: "
		     "%llu\r\n\r\n", want);
	if (write_all(ssl, hdr, (size_t)n) < 0)
		goto out;
	for (left = want; left > 0;) {
		size_t k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);

		if (write_all(ssl, zeros, k) < 0)
			break;
		left -= k;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int ls, fd, one_ = 1;
	pthread_attr_t at;
	pthread_t th;

	if (argc != 4) {
		fprintf(stderr, "usage: tlspeer PORT CERT KEY\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 128) < 0) {
		perror("tlspeer");
		return 1;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof(one_));
		if (pthread_create(&th, &at, one, (void *)(intptr_t)fd) != 0)
			close(fd);
	}
}
