/*
 * relay_tls.c - TCP and TLS from the relay to an https proxy, and the
 * checks of its certificate (relay.h): the chain against ca= (default the
 * system store), the name against sni= (default the URL's host; an
 * address literal is checked as an address), and pin= against the
 * SHA-256 of its public key (SPKI, as curl's --pinnedpubkey).  Nothing
 * falls back: any failure ends the tunnel with why[] naming it.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_connect.h"
#include "tlsorder.h"
#include "tunnel.h"
#include "tlslib.h"

/* One SSL_CTX per proxy (its trust anchors), made on first use. */
static SSL_CTX *ctxs[RELAY_CTX_MAX];
static const unsigned char alpn_h2[] = "\x02h2\x08http/1.1";
static char ctx_err[RELAY_CTX_MAX][128];
static pthread_mutex_t ctx_mu = PTHREAD_MUTEX_INITIALIZER;

static int
ms_left(long long deadline)
{
	long long left = deadline - tun_now_ms();

	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* The last OpenSSL error's reason, short ("wrong version number"). */
static void
ssl_reason(char *why, size_t n, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(why, n, "%s%s%s", what, r != NULL ? ": " : "",
		 r != NULL ? r : "");
	ERR_clear_error();
}

/*
 * The ciphers the system's configuration allows, AES-128-GCM offered
 * before AES-256-GCM (tlsorder.h; OpenSSL's default is the other way,
 * browsers' and curl's this one): AES-128 costs a fifth less CPU per
 * byte, here and in the proxy, which follows the client's order (stunnel,
 * nghttpx and squid do).  0 or -1.
 */
static int
prefer_aes128(SSL_CTX *c)
{
	const STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(c);
	char v13[256], v12[2048], out[2048];
	size_t l13 = 0, l12 = 0;
	const char *name;
	int i, num = sk != NULL ? OPENSSL_sk_num((const OPENSSL_STACK *)sk) : 0;

	v13[0] = v12[0] = '\0';
	for (i = 0; i < num; i++) {
		name = SSL_CIPHER_get_name(
			OPENSSL_sk_value((const OPENSSL_STACK *)sk, i));
		/* TLS 1.3's suites have IANA names, the others OpenSSL's */
		if (strncmp(name, "TLS_", 4) == 0)
			l13 += (size_t)snprintf(v13 + l13, sizeof(v13) - l13,
						"%s%s", l13 ? ":" : "", name);
		else
			l12 += (size_t)snprintf(v12 + l12, sizeof(v12) - l12,
						"%s%s", l12 ? ":" : "", name);
		if (l13 >= sizeof(v13) || l12 >= sizeof(v12))
			return 0;	/* a list too long to be ours: as it is */
	}
	if (l13 > 0 && (tlsorder_prefer128(v13, out, sizeof(out)) < 0 ||
			SSL_CTX_set_ciphersuites(c, out) != 1))
		return -1;
	if (l12 > 0 && (tlsorder_prefer128(v12, out, sizeof(out)) < 0 ||
			SSL_CTX_set_cipher_list(c, out) != 1))
		return -1;
	return 0;
}

static SSL_CTX *
make_ctx(const struct cfg_proxy *px, char *why, size_t n)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	static const unsigned char alpn[] = "\x08http/1.1";

	if (c == NULL) {
		ssl_reason(why, n, "cannot set up TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/* a FIN without close_notify ends the stream, as TCP's FIN does
	 * (many proxies close so); the program's own TLS inside the tunnel
	 * still sees a truncation */
	SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_alpn_protos(c, alpn, sizeof(alpn) - 1);
	relay_sess_ctx(c);
	if (prefer_aes128(c) < 0) {
		ssl_reason(why, n, "cannot set up TLS");
		SSL_CTX_free(c);
		return NULL;
	}
	/* whole records in few reads: one recv for many records, not two
	 * (header, body) per record */
	SSL_CTX_set_read_ahead(c, 1);
	SSL_CTX_set_default_read_buffer_len(c, RELAY_BUF);
	if (px->tls.ca[0] != '\0' ?
	    SSL_CTX_load_verify_locations(c, px->tls.ca, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(c) != 1) {
		if (px->tls.ca[0] != '\0')
			snprintf(why, n, "cannot load ca=%s", px->tls.ca);
		else
			snprintf(why, n, "cannot load the system's CA store");
		ERR_clear_error();
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* The proxy's context (made once; a bad ca= file fails every tunnel). */
static SSL_CTX *
get_ctx(const struct cfg_proxy *px, int idx, char *why, size_t n)
{
	SSL_CTX *c = NULL;

	if (idx < 0 || idx >= RELAY_CTX_MAX)
		return make_ctx(px, why, n);
	pthread_mutex_lock(&ctx_mu);
	if (ctxs[idx] == NULL && ctx_err[idx][0] == '\0')
		ctxs[idx] = make_ctx(px, ctx_err[idx], sizeof(ctx_err[idx]));
	c = ctxs[idx];
	if (c != NULL)
		SSL_CTX_up_ref(c);
	else
		snprintf(why, n, "%s", ctx_err[idx]);
	pthread_mutex_unlock(&ctx_mu);
	return c;
}

/* TCP to the proxy, non-blocking, by the deadline: the fd or -errno. */
static int
tcp_open(const struct cfg_proxy *px, long long deadline, char *why,
	 size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct pollfd p = { .events = POLLOUT };
	char port[8];
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	snprintf(port, sizeof(port), "%u", (unsigned)px->url.port);
	rc = getaddrinfo(px->url.host, port, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(why, n, "cannot resolve its host");
		return -EHOSTUNREACH;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1 || (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
			 errno != EINPROGRESS)) {
		err = errno;
		goto fail;
	}
	p.fd = fd;
	if (poll(&p, 1, ms_left(deadline)) != 1) {
		err = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0)
		goto fail;
	freeaddrinfo(ai);
	/* whole TLS records go out at once, as curl's (no Nagle wait for
	 * the CONNECT behind the handshake's last flight) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return fd;
fail:
	snprintf(why, n, "unreachable: %s", strerror(err));
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -err;
}

/* The name (or address) the certificate must show. */
static int
set_peer_name(SSL *ssl, const struct cfg_proxy *px)
{
	const char *name = px->tls.sni[0] != '\0' ? px->tls.sni :
			   px->url.host;
	unsigned char a[16];
	bool literal = inet_pton(AF_INET, name, a) == 1 ||
		       inet_pton(AF_INET6, name, a) == 1;

	if (literal)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						     name) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	    SSL_set1_host(ssl, name) != 1)
		return -1;
	return 0;
}

/* pin=: the SHA-256 of the certificate's public key, in base64. */
static int
check_pin(SSL *ssl, const struct cfg_proxy *px, char *why, size_t n)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char b64[CFG_PIN_LEN + 1];
	X509 *cert;
	int len;

	if (px->tls.pin[0] == '\0')
		return 0;
	cert = SSL_get1_peer_certificate(ssl);
	len = cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert),
					     &der) : -1;
	X509_free(cert);
	if (len <= 0) {
		snprintf(why, n, "no public key to check pin= against");
		return -1;
	}
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	httpc_base64(md, sizeof(md), b64, sizeof(b64));
	if (strcmp(b64, px->tls.pin) != 0) {
		snprintf(why, n, "pin mismatch: its public key is "
			 "sha256/%s", b64);
		return -1;
	}
	return 0;
}

/* Why the handshake failed: the certificate's check, else OpenSSL's. */
static void
handshake_why(SSL *ssl, int err, char *why, size_t n)
{
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK) {
		snprintf(why, n, "certificate not trusted: %s",
			 X509_verify_cert_error_string(v));
		ERR_clear_error();
	} else if (err == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
		snprintf(why, n, "handshake failed: the proxy closed the "
			 "connection");
	} else {
		ssl_reason(why, n, "handshake failed");
	}
}

static int
handshake(SSL *ssl, int fd, long long deadline, char *why, size_t n)
{
	struct pollfd p = { .fd = fd };
	int rc, err;

	for (;;) {
		ERR_clear_error();
		rc = SSL_connect(ssl);
		if (rc == 1)
			return 0;
		err = SSL_get_error(ssl, rc);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			handshake_why(ssl, err, why, n);
			return -1;
		}
		p.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&p, 1, ms_left(deadline)) == 0) {
			snprintf(why, n, "handshake timed out");
			return -1;
		}
	}
}

SSL *
relay_tls_open(const struct cfg_proxy *px, int idx, long long deadline,
	       char *why, size_t whylen, bool *tls_failed, bool h2)
{
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd;

	*tls_failed = false;
	fd = tcp_open(px, deadline, why, whylen);
	if (fd < 0)
		return NULL;
	*tls_failed = true;
	ctx = get_ctx(px, idx, why, whylen);
	if (ctx != NULL)
		ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);	/* the SSL holds its own reference */
	if (ssl == NULL) {
		if (ctx != NULL)
			ssl_reason(why, whylen, "cannot set up TLS");
		close(fd);
		return NULL;
	}
	if (SSL_set_fd(ssl, fd) != 1 || set_peer_name(ssl, px) < 0 ||
	    (h2 && SSL_set_alpn_protos(ssl, alpn_h2, sizeof(alpn_h2) - 1))) {
		ssl_reason(why, whylen, "cannot set up TLS");
		goto fail;
	}
	if (!h2)
		relay_sess_offer(ssl, idx);
	if (handshake(ssl, fd, deadline, why, whylen) < 0)
		goto fail;
	/* on a resumed session too: it keeps the proxy's certificate */
	if (check_pin(ssl, px, why, whylen) < 0) {
		relay_sess_forget(ssl);
		goto fail;
	}
	return ssl;
fail:
	relay_tls_close(ssl, false);
	return NULL;
}

void
relay_tls_close(SSL *ssl, bool orderly)
{
	int fd;

	if (ssl == NULL)
		return;
	fd = SSL_get_fd(ssl);
	if (!orderly)
		SSL_set_quiet_shutdown(ssl, 1);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
}
