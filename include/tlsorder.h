/*
 * tlsorder.h - the order in which the relay offers ciphers to an https
 * proxy: the system's list (openssl.cnf may narrow it) with each
 * AES-128-GCM cipher just before its AES-256-GCM sibling, so that a proxy
 * that follows the client's order picks the cheaper one (a fifth less
 * CPU per byte on both ends) and no cipher is added or dropped.  Pure.
 */
#ifndef PROXYWRAP_TLSORDER_H
#define PROXYWRAP_TLSORDER_H

#include <stddef.h>

/*
 * in: OpenSSL cipher names separated by ':' (TLS 1.3 suites
 * "TLS_AES_256_GCM_SHA384", TLS 1.2 ciphers "ECDHE-RSA-AES256-GCM-SHA384").
 * Writes the reordered list to out[0..n); its length, or -1 when it does
 * not fit.
 */
int tlsorder_prefer128(const char *in, char *out, size_t n);

#endif
