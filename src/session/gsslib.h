/*
 * gsslib.h - GSSAPI (Kerberos) for HTTP Negotiate tokens (negotiate.h),
 * loaded when a rule file names a Negotiate proxy, not with proxywrap:
 * linked in, libgssapi_krb5 and the six libraries it needs made every
 * start of proxywrap slower than proxychains4's.  Included by
 * negotiate.c after the GSSAPI headers; as tlslib.h, a name it starts to
 * use goes into the list (the link fails until it does).
 */
#ifndef PROXYWRAP_GSSLIB_H
#define PROXYWRAP_GSSLIB_H

#include <stddef.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

/* functions, and the OIDs the library exports as variables */
#define GSSLIB_NAMES(X)							\
	X(gss_acquire_cred) X(gss_delete_sec_context)			\
	X(gss_display_status) X(gss_import_name) X(gss_init_sec_context) \
	X(gss_release_buffer) X(gss_release_cred) X(gss_release_name)	\
	X(GSS_C_NT_HOSTBASED_SERVICE) X(GSS_KRB5_NT_PRINCIPAL_NAME)	\
	X(gss_mech_krb5)

struct gsslib {
#define GSSLIB_PTR(f) __typeof__(f) *f;
	GSSLIB_NAMES(GSSLIB_PTR)
#undef GSSLIB_PTR
};

extern struct gsslib gsslib;

/* Load libgssapi_krb5 and fill the table, once, before any thread uses
 * it.  0, or -1 with why[] saying what is missing. */
int gsslib_load(char *why, size_t whylen);

#ifndef OPTLIB_NO_NAMES
#define gss_acquire_cred (*gsslib.gss_acquire_cred)
#define gss_delete_sec_context (*gsslib.gss_delete_sec_context)
#define gss_display_status (*gsslib.gss_display_status)
#define gss_import_name (*gsslib.gss_import_name)
#define gss_init_sec_context (*gsslib.gss_init_sec_context)
#define gss_release_buffer (*gsslib.gss_release_buffer)
#define gss_release_cred (*gsslib.gss_release_cred)
#define gss_release_name (*gsslib.gss_release_name)
#define GSS_C_NT_HOSTBASED_SERVICE (*gsslib.GSS_C_NT_HOSTBASED_SERVICE)
#define GSS_KRB5_NT_PRINCIPAL_NAME (*gsslib.GSS_KRB5_NT_PRINCIPAL_NAME)
#define gss_mech_krb5 (*gsslib.gss_mech_krb5)
#endif

#endif
