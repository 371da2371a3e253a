/*
 * tlslib.c - libssl loaded by name when the TLS relay starts (tlslib.h).
 * The names are the OpenSSL 3 sonames proxywrap was built against; a
 * missing library or function fails the relay's start, which refuses
 * the session (never a tunnel without TLS).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "real.h"

/* The table's own names: not through it. */
#define TLSLIB_NO_NAMES
#include "tlslib.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBSSL "libssl.so." STR(OPENSSL_VERSION_MAJOR)

struct tlslib tlslib;

int
tlslib_load(char *why, size_t whylen)
{
	static bool loaded;
	void *lib;

	if (loaded)
		return 0;
	lib = dlopen(LIBSSL, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(why, whylen, "cannot load %s: %s", LIBSSL, dlerror());
		return -1;
	}
	/* libcrypto's functions come from libssl's dependencies */
#define TLSLIB_GET(f)							\
	*(void **)&tlslib.f = real_libsym(lib, #f);			\
	if (tlslib.f == NULL) {						\
		snprintf(why, whylen, "%s has no %s", LIBSSL, #f);	\
		return -1;						\
	}
	TLSLIB_FUNCS(TLSLIB_GET)
#undef TLSLIB_GET
	loaded = true;
	return 0;
}
