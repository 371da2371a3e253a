/*
 * negotiate.c - Negotiate tokens with MIT krb5's GSSAPI (negotiate.h).
 *
 * One gss_init_sec_context per CONNECT: a token is an AP-REQ with a
 * fresh authenticator, so a proxy's replay cache never sees one twice.
 * The service ticket it needs is fetched from the KDC the first time and
 * kept in the credential cache after that, so later tokens cost no round
 * trip.  No mutual authentication is asked for: the tunnel reads no
 * token back (the proxy's 200 is what counts), and a context that wanted
 * one would never complete.  Tokens are secrets: never logged, wiped
 * once copied.
 */
#include "negotiate.h"

#include <errno.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tunnel.h"
#include "gsslib.h"

/* SPNEGO, RFC 4178: iso.org.dod.internet.security.mechanism.snego */
static gss_OID_desc spnego_oid = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

/* The library's words for (maj, min), one printable line, into buf. */
static void
gss_words(OM_uint32 maj, OM_uint32 min, char *buf, size_t n)
{
	gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
	OM_uint32 m2, ctx = 0;
	size_t i;

	buf[0] = '\0';
	if (min != 0)
		gss_display_status(&m2, min, GSS_C_MECH_CODE, GSS_C_NO_OID,
				   &ctx, &s);
	else
		gss_display_status(&m2, maj, GSS_C_GSS_CODE, GSS_C_NO_OID,
				   &ctx, &s);
	snprintf(buf, n, "%.*s", (int)s.length, (const char *)s.value);
	gss_release_buffer(&m2, &s);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
}

/* SERVICE/HOST -> "SERVICE@HOST" host-based; with @REALM, the Kerberos
 * principal itself. */
static OM_uint32
import(const char *spn, gss_name_t *name, OM_uint32 *min)
{
	char hb[CTL_REQ_MAX];
	const char *slash = strchr(spn, '/');
	gss_buffer_desc b;

	if (strchr(spn, '@') != NULL || slash == NULL) {
		b.value = (void *)spn;
		b.length = strlen(spn);
		return gss_import_name(min, &b, GSS_KRB5_NT_PRINCIPAL_NAME,
				       name);
	}
	snprintf(hb, sizeof(hb), "%.*s@%s", (int)(slash - spn), spn,
		 slash + 1);
	b.value = hb;
	b.length = strlen(hb);
	return gss_import_name(min, &b, GSS_C_NT_HOSTBASED_SERVICE, name);
}

/*
 * Why init_sec_context failed, in words that say what to do.  SPNEGO's
 * own status hides the Kerberos one (and the mechanism glue renumbers
 * minor codes), so the credential cache is asked directly: no Kerberos
 * credential at all, or one with no lifetime left, means "run kinit";
 * anything else (an unknown principal, an unreachable KDC) is said in
 * the library's words.
 */
static enum ctl_status
why_not(const char *spn, const char *words, char *msg, size_t msgn)
{
	gss_OID_set_desc krb5 = { 1, (gss_OID)gss_mech_krb5 };
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min = 0, m2, life = 0;
	char cwords[160];

	maj = gss_acquire_cred(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &krb5,
			       GSS_C_INITIATE, &cred, NULL, &life);
	if (GSS_ERROR(maj)) {
		gss_words(maj, min, cwords, sizeof(cwords));
		snprintf(msg, msgn, "no Kerberos ticket for %s: run kinit (%s)",
			 spn, cwords);
		return CTL_NO_CRED;
	}
	gss_release_cred(&m2, &cred);
	if (life == 0) {
		snprintf(msg, msgn, "the Kerberos ticket for %s has expired: "
			 "run kinit", spn);
		return CTL_NO_CRED;
	}
	snprintf(msg, msgn, "Kerberos: no token for %s: %s", spn, words);
	return CTL_FAILED;
}

enum ctl_status
neg_token(const char *spn, uint8_t *tok, size_t n, size_t *len, char *msg,
	  size_t msgn)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	gss_name_t target = GSS_C_NO_NAME;
	OM_uint32 maj, min = 0, m2;
	enum ctl_status st = CTL_FAILED;
	char words[160];

	*len = 0;
	maj = import(spn, &target, &min);
	if (GSS_ERROR(maj)) {
		gss_words(maj, min, words, sizeof(words));
		snprintf(msg, msgn, "Kerberos: bad name %s: %s", spn, words);
		return CTL_FAILED;
	}
	maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, target,
				   &spnego_oid, 0, GSS_C_INDEFINITE,
				   GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER,
				   NULL, &out, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gss_words(maj, min, words, sizeof(words));
		st = why_not(spn, words, msg, msgn);
	} else if (out.length == 0 || out.length > n) {
		snprintf(msg, msgn, "Kerberos: the token for %s does not fit "
			 "(%zu bytes, at most %zu)", spn, out.length, n);
	} else {
		memcpy(tok, out.value, out.length);
		*len = out.length;
		st = CTL_OK;
	}
	if (out.value != NULL)
		explicit_bzero(out.value, out.length);
	gss_release_buffer(&m2, &out);
	gss_delete_sec_context(&m2, &ctx, GSS_C_NO_BUFFER);
	gss_release_name(&m2, &target);
	return st;
}

enum ctl_status
neg_serve(const uint8_t *p, size_t len, uint8_t *out, size_t n,
	  size_t *outlen)
{
	char spn[CTL_REQ_MAX], msg[CTL_MSG_MAX + 1];
	enum ctl_status st;

	if (ctl_neg_name(p, len, spn, sizeof(spn)) != 0) {
		*outlen = (size_t)snprintf((char *)out, n, "bad principal "
					   "name");
		return CTL_FAILED;
	}
	st = neg_token(spn, out, n, outlen, msg, sizeof(msg));
	if (st != CTL_OK) {
		/* the message, cut to what a response may carry */
		*outlen = strnlen(msg, CTL_MSG_MAX);
		memcpy(out, msg, *outlen);
	}
	return st;
}

int
neg_token_here(const char *spn, uint8_t *out, size_t n, size_t *len,
	       char *msg, size_t msgn, int64_t deadline_ms)
{
	(void)deadline_ms;	/* the KDC's own timeouts (krb5.conf) */
	return (int)neg_token(spn, out, n, len, msg, msgn);
}

int
neg_setup(const struct config *cfg, char ctl[SESS_CTL_MAX])
{
	char why[256];
	size_t i;
	int rc;

	for (i = 0; i < cfg->nproxies; i++)
		if (cfg->proxies[i].auth == CFG_AUTH_NEGOTIATE)
			break;
	if (i == cfg->nproxies)
		return 0;
	if (gsslib_load(why, sizeof(why)) < 0) {
		fprintf(stderr, "proxywrap: Negotiate proxies: %s\n", why);
		errno = ENOENT;
		return -ENOENT;
	}
	rc = ctl_open(ctl);
	if (rc < 0) {
		errno = -rc;	/* for the caller's err() */
		return rc;
	}
	ctl_add(CTL_NEGOTIATE, neg_serve);
	tun_set_token_source(neg_token_here);
	return 0;
}
