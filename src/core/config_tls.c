/*
 * config_tls.c - the options of an https:// proxy's line (config.h):
 *
 *   proxy corp https://proxy.example:443 ca=/etc/corp-ca.pem
 *         sni=proxy.example pin=sha256/BASE64 http2=on
 *
 * They say how proxywrap's relay checks the proxy's certificate; the
 * checking itself is the relay's (src/session/relay_tls.c).  Pure.
 */
#include <string.h>

#include "config_int.h"

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * A SHA-256 in padded base64: 43 characters of the alphabet and '=';
 * the last one carries 4 bits of the hash and 2 zero bits (RFC 4648
 * §3.5: a canonical encoding), so one digest has one spelling.
 */
static bool
cfg_pin_ok(const char *b64)
{
	size_t i;

	if (strlen(b64) != CFG_PIN_LEN || b64[CFG_PIN_LEN - 1] != '=')
		return false;
	for (i = 0; i < CFG_PIN_LEN - 1; i++)
		if (b64[i] == '\0' || strchr(b64_chars, b64[i]) == NULL)
			return false;
	return strchr("AEIMQUYcgkosw048", b64[CFG_PIN_LEN - 2]) != NULL;
}

/* A host name the way a certificate names one (RFC 1035 letters, digits,
 * '-', dots; labels of 1..63). */
static bool
cfg_sni_ok(const char *s)
{
	size_t i, label = 0, len = strlen(s);

	if (len == 0 || len >= URL_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-') ||
		    ++label > 63)
			return false;
	}
	return true;
}

static int
cfg_tls_set(struct cfg_parser *p, struct cfg_proxy *px, const char *key,
	    const char *val)
{
	struct cfg_tls *t = &px->tls;

	if (strcmp(key, "ca") == 0) {
		if (val[0] != '/') {
			cfg_err(p, "proxy '%s': ca= needs an absolute path",
				px->name);
			return -1;
		}
		if (strlen(val) >= sizeof(t->ca)) {
			cfg_err(p, "proxy '%s': ca= path too long", px->name);
			return -1;
		}
		memcpy(t->ca, val, strlen(val) + 1);
	} else if (strcmp(key, "sni") == 0) {
		if (!cfg_sni_ok(val)) {
			cfg_err(p, "proxy '%s': bad sni '%.64s' (a DNS name)",
				px->name, val);
			return -1;
		}
		memcpy(t->sni, val, strlen(val) + 1);
	} else if (strcmp(key, "pin") == 0) {
		/* curl writes sha256//B64 (--pinnedpubkey): both spellings,
		 * told apart by the length (a digest's base64 may itself
		 * start with '/') */
		if (strncmp(val, "sha256/", 7) != 0)
			val = "";
		else if (strlen(val + 7) == CFG_PIN_LEN + 1 && val[7] == '/')
			val += 8;
		else
			val += 7;
		if (!cfg_pin_ok(val)) {
			cfg_err(p, "proxy '%s': bad pin (use sha256/ and the "
				"base64 of a SHA-256, 44 characters)",
				px->name);
			return -1;
		}
		memcpy(t->pin, val, CFG_PIN_LEN + 1);
	} else if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0) {
		t->http2 = strcmp(val, "on") == 0;
	} else {
		cfg_err(p, "proxy '%s': bad http2 '%.16s' (use on or off)",
			px->name, val);
		return -1;
	}
	return 0;
}

int
cfg_tls_option(struct cfg_parser *p, struct cfg_proxy *px, const char *key,
	       size_t klen, const char *val)
{
	static const char *const keys[] = { "ca", "sni", "pin", "http2" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == klen && strncmp(key, keys[i], klen) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return 1;
	if (px->url.scheme != URL_HTTPS) {
		cfg_err(p, "proxy '%s': %s= is for an https:// proxy",
			px->name, keys[i]);
		return -1;
	}
	return cfg_tls_set(p, px, keys[i], val);
}
