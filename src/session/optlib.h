/*
 * optlib.h - whether this proxywrap can load the libraries some sessions
 * need (optlib.c), and whether a configuration needs them.
 *
 * proxywrap is linked statically, its start the cost of its own code
 * only (no loader, no libc to map and bind); a static program cannot
 * dlopen libssl, nghttp2 or GSSAPI, so a session with https or
 * Negotiate proxies runs the same command line in proxywrap-dl, the same
 * program linked dynamically, installed next to the library.
 */
#ifndef PROXYWRAP_OPTLIB_H
#define PROXYWRAP_OPTLIB_H

#include <stdbool.h>

#include "config.h"

/* This program is the static build (it cannot load libraries). */
bool optlib_static(void);

/* cfg has https proxies (the TLS relay, HTTP/2) or Negotiate ones. */
bool optlib_wanted(const struct config *cfg);

#endif
