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

#include "optlib.h"
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

/* A library's names and where they go, in one order. */
#define NAME(f) #f,
#define SLOT_TLS(f) (void **)&tlslib.f,
#define SLOT_H2(f) (void **)&h2lib.f,
#define SLOT_GSS(f) (void **)&gsslib.f,
static const char *const tls_names[] = { TLSLIB_FUNCS(NAME) };
static void **const tls_slots[] = { TLSLIB_FUNCS(SLOT_TLS) };
static const char *const h2_names[] = { H2LIB_FUNCS(NAME) };
static void **const h2_slots[] = { H2LIB_FUNCS(SLOT_H2) };
static const char *const gss_names[] = { GSSLIB_NAMES(NAME) };
static void **const gss_slots[] = { GSSLIB_NAMES(SLOT_GSS) };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Open lib (its dependencies come with it: libcrypto's names are found
 * through libssl's handle) and fill slots[i] with names[i], once:
 * *loaded is set only when every name was there.  0, or -1 with why[]
 * set.
 */
static int
load(const char *lib, const char *const *names, void **const *slots,
     size_t n, bool *loaded, char *why, size_t whylen)
{
	void *h;
	size_t i;

	if (*loaded)
		return 0;
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(why, whylen, "cannot load %s: %s", lib, dlerror());
		return -1;
	}
	for (i = 0; i < n; i++) {
		*slots[i] = real_libsym(h, names[i]);
		if (*slots[i] == NULL) {
			snprintf(why, whylen, "%s has no %s", lib, names[i]);
			return -1;
		}
	}
	*loaded = true;
	return 0;
}

int
tlslib_load(char *why, size_t whylen)
{
	static bool loaded;

	return load(LIBSSL, tls_names, tls_slots, N(tls_names), &loaded, why,
		    whylen);
}

int
h2lib_load(char *why, size_t whylen)
{
	static bool loaded;

	return load(LIBNGHTTP2, h2_names, h2_slots, N(h2_names), &loaded,
		    why, whylen);
}

int
gsslib_load(char *why, size_t whylen)
{
	static bool loaded;

	return load(LIBGSSAPI, gss_names, gss_slots, N(gss_names), &loaded,
		    why, whylen);
}

/* Defined in the static build only (Makefile: static_loader.c). */
extern const char pw_static_loader[] __attribute__((weak));

bool
optlib_static(void)
{
	return pw_static_loader != NULL;
}

bool
optlib_wanted(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nproxies; i++)
		if (cfg->proxies[i].url.scheme == URL_HTTPS ||
		    cfg->proxies[i].auth == CFG_AUTH_NEGOTIATE)
			return true;
	return false;
}
