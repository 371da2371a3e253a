/*
 * tlslib.h - libssl and libcrypto for the TLS relay (relay.h), loaded
 * when the relay starts, not with proxywrap: linked in, their relocations
 * and constructors cost every start of proxywrap about 3 ms (more than
 * the whole rest of its start), and most sessions have no https proxy.
 *
 * Included by the relay's files after the OpenSSL headers: the functions
 * they call become calls through the table tlslib_load (optlib.c) fills, the types
 * and macros stay OpenSSL's own.  A function the relay starts to use goes
 * into TLSLIB_FUNCS and the list of names below (the link fails until it
 * does: proxywrap does not link libssl).
 */
#ifndef PROXYWRAP_TLSLIB_H
#define PROXYWRAP_TLSLIB_H

#include <stddef.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLSLIB_FUNCS(X)							\
	X(CRYPTO_free) X(CRYPTO_memcmp) X(ERR_clear_error)		\
	X(ERR_peek_last_error) X(ERR_reason_error_string) X(SHA256)	\
	X(SSL_CTX_ctrl) X(SSL_CTX_free) X(SSL_CTX_load_verify_locations) \
	X(SSL_CTX_new) X(SSL_CTX_set_alpn_protos)			\
	X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_set_options)	\
	X(SSL_CTX_set_verify) X(SSL_CTX_up_ref) X(SSL_connect)		\
	X(SSL_ctrl) X(SSL_free) X(SSL_get0_param)			\
	X(SSL_get1_peer_certificate) X(SSL_get_error) X(SSL_get_fd)	\
	X(SSL_get_verify_result) X(SSL_get_version) X(SSL_new)		\
	X(SSL_read) X(SSL_set1_host) X(SSL_set_fd)			\
	X(SSL_set_quiet_shutdown) X(SSL_shutdown) X(SSL_write)		\
	X(TLS_client_method) X(X509_VERIFY_PARAM_set1_ip_asc)		\
	X(X509_free) X(X509_get_X509_PUBKEY)				\
	X(X509_verify_cert_error_string) X(i2d_X509_PUBKEY)		\
	X(SSL_CTX_set_default_read_buffer_len) X(SSL_get0_alpn_selected) \
	X(SSL_pending) X(SSL_set_alpn_protos) X(SSL_CTX_set_ciphersuites)	\
	X(SSL_CTX_set_cipher_list) X(SSL_CTX_get_ciphers) X(SSL_CIPHER_get_name) \
	X(OPENSSL_sk_num) X(OPENSSL_sk_value) X(SSL_CTX_sess_set_new_cb)	\
	X(SSL_SESSION_free) X(SSL_SESSION_get_protocol_version)		\
	X(SSL_SESSION_is_resumable) X(SSL_SESSION_up_ref) X(SSL_get_ex_data)	\
	X(SSL_get_session) X(SSL_session_reused) X(SSL_set_ex_data)	\
	X(SSL_set_session)

struct tlslib {
#define TLSLIB_PTR(f) __typeof__(f) *f;
	TLSLIB_FUNCS(TLSLIB_PTR)
#undef TLSLIB_PTR
};

extern struct tlslib tlslib;

/* Load the libraries and fill the table, once (not thread-safe: the
 * relay calls it before its threads start).  0, or -1 with why[] saying
 * what is missing. */
int tlslib_load(char *why, size_t whylen);

/* The names, through the table (after it, so it keeps the real types). */
#ifndef OPTLIB_NO_NAMES
#define CRYPTO_free (*tlslib.CRYPTO_free)
#define CRYPTO_memcmp (*tlslib.CRYPTO_memcmp)
#define ERR_clear_error (*tlslib.ERR_clear_error)
#define ERR_peek_last_error (*tlslib.ERR_peek_last_error)
#define ERR_reason_error_string (*tlslib.ERR_reason_error_string)
#define SHA256 (*tlslib.SHA256)
#define SSL_CTX_ctrl (*tlslib.SSL_CTX_ctrl)
#define SSL_CTX_free (*tlslib.SSL_CTX_free)
#define SSL_CTX_load_verify_locations (*tlslib.SSL_CTX_load_verify_locations)
#define SSL_CTX_new (*tlslib.SSL_CTX_new)
#define SSL_CTX_set_alpn_protos (*tlslib.SSL_CTX_set_alpn_protos)
#define SSL_CTX_set_default_verify_paths \
	(*tlslib.SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_options (*tlslib.SSL_CTX_set_options)
#define SSL_CTX_set_verify (*tlslib.SSL_CTX_set_verify)
#define SSL_CTX_up_ref (*tlslib.SSL_CTX_up_ref)
#define SSL_connect (*tlslib.SSL_connect)
#define SSL_ctrl (*tlslib.SSL_ctrl)
#define SSL_free (*tlslib.SSL_free)
#define SSL_get0_param (*tlslib.SSL_get0_param)
#define SSL_get1_peer_certificate (*tlslib.SSL_get1_peer_certificate)
#define SSL_get_error (*tlslib.SSL_get_error)
#define SSL_get_fd (*tlslib.SSL_get_fd)
#define SSL_get_verify_result (*tlslib.SSL_get_verify_result)
#define SSL_get_version (*tlslib.SSL_get_version)
#define SSL_new (*tlslib.SSL_new)
#define SSL_read (*tlslib.SSL_read)
#define SSL_set1_host (*tlslib.SSL_set1_host)
#define SSL_set_fd (*tlslib.SSL_set_fd)
#define SSL_set_quiet_shutdown (*tlslib.SSL_set_quiet_shutdown)
#define SSL_shutdown (*tlslib.SSL_shutdown)
#define SSL_write (*tlslib.SSL_write)
#define TLS_client_method (*tlslib.TLS_client_method)
#define X509_VERIFY_PARAM_set1_ip_asc (*tlslib.X509_VERIFY_PARAM_set1_ip_asc)
#define X509_free (*tlslib.X509_free)
#define X509_get_X509_PUBKEY (*tlslib.X509_get_X509_PUBKEY)
#define X509_verify_cert_error_string (*tlslib.X509_verify_cert_error_string)
#define i2d_X509_PUBKEY (*tlslib.i2d_X509_PUBKEY)
#define SSL_CTX_set_default_read_buffer_len \
	(*tlslib.SSL_CTX_set_default_read_buffer_len)
#define SSL_get0_alpn_selected (*tlslib.SSL_get0_alpn_selected)
#define SSL_pending (*tlslib.SSL_pending)
#define SSL_CTX_set_ciphersuites (*tlslib.SSL_CTX_set_ciphersuites)
#define SSL_CTX_set_cipher_list (*tlslib.SSL_CTX_set_cipher_list)
#define SSL_CTX_get_ciphers (*tlslib.SSL_CTX_get_ciphers)
#define SSL_CIPHER_get_name (*tlslib.SSL_CIPHER_get_name)
#define OPENSSL_sk_num (*tlslib.OPENSSL_sk_num)
#define OPENSSL_sk_value (*tlslib.OPENSSL_sk_value)
#define SSL_CTX_sess_set_new_cb (*tlslib.SSL_CTX_sess_set_new_cb)
#define SSL_SESSION_free (*tlslib.SSL_SESSION_free)
#define SSL_SESSION_get_protocol_version (*tlslib.SSL_SESSION_get_protocol_version)
#define SSL_SESSION_is_resumable (*tlslib.SSL_SESSION_is_resumable)
#define SSL_SESSION_up_ref (*tlslib.SSL_SESSION_up_ref)
#define SSL_get_ex_data (*tlslib.SSL_get_ex_data)
#define SSL_get_session (*tlslib.SSL_get_session)
#define SSL_session_reused (*tlslib.SSL_session_reused)
#define SSL_set_ex_data (*tlslib.SSL_set_ex_data)
#define SSL_set_session (*tlslib.SSL_set_session)
#define SSL_set_alpn_protos (*tlslib.SSL_set_alpn_protos)
#endif

#endif
