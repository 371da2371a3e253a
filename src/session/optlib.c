/*
 * optlib.c - the libraries only some sessions need, loaded by name when
 * one does (tlslib.h: libssl for https proxies; h2lib.h: nghttp2 for
 * http2=on; gsslib.h: GSSAPI for Negotiate proxies), not linked: each
 * linked library costs every start of proxywrap its loading and
 * relocations.  The names are the sonames proxywrap was built against; a
 * missing library or name refuses what needed it (never a tunnel
 * without it).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "real.h"

/* The tables' own names: not through them. */
#define OPTLIB_NO_NAMES
#include "gsslib.h"
#include "h2lib.h"
#include "tlslib.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBSSL "libssl.so." STR(OPENSSL_VERSION_MAJOR)
#define LIBNGHTTP2 "libnghttp2.so.14"
#define LIBGSSAPI "libgssapi_krb5.so.2"

struct tlslib tlslib;
struct h2lib h2lib;
struct gsslib gsslib;

/* Open lib (its dependencies come with it: libcrypto's names are found
 * through libssl's handle); NULL with why[] set. */
static void *
open_lib(const char *lib, char *why, size_t whylen)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
		snprintf(why, whylen, "cannot load %s: %s", lib, dlerror());
	return h;
}

#define OPTLIB_GET(tab, f)						\
	*(void **)&tab.f = real_libsym(h, #f);				\
	if (tab.f == NULL) {						\
		snprintf(why, whylen, "%s has no %s", lib, #f);		\
		return -1;						\
	}

int
tlslib_load(char *why, size_t whylen)
{
	static bool loaded;
	const char *lib = LIBSSL;
	void *h;

	if (loaded)
		return 0;
	h = open_lib(lib, why, whylen);
	if (h == NULL)
		return -1;
#define GET(f) OPTLIB_GET(tlslib, f)
	TLSLIB_FUNCS(GET)
#undef GET
	loaded = true;
	return 0;
}

int
h2lib_load(char *why, size_t whylen)
{
	static bool loaded;
	const char *lib = LIBNGHTTP2;
	void *h;

	if (loaded)
		return 0;
	h = open_lib(lib, why, whylen);
	if (h == NULL)
		return -1;
#define GET(f) OPTLIB_GET(h2lib, f)
	H2LIB_FUNCS(GET)
#undef GET
	loaded = true;
	return 0;
}

int
gsslib_load(char *why, size_t whylen)
{
	static bool loaded;
	const char *lib = LIBGSSAPI;
	void *h;

	if (loaded)
		return 0;
	h = open_lib(lib, why, whylen);
	if (h == NULL)
		return -1;
#define GET(f) OPTLIB_GET(gsslib, f)
	GSSLIB_NAMES(GET)
#undef GET
	loaded = true;
	return 0;
}
