/*
 * http_fields.c - the few response header fields a CONNECT client acts
 * on: Retry-After (RFC 9110 §10.2.3), which says how long a 429 or 503
 * proxy wants to be left alone, and Proxy-Authenticate (§11.7.1), whose
 * schemes a 407 offers, for the log line.  http_connect.c's parser hands
 * each field line of the final head here.  Pure: no I/O, and no time (an
 * HTTP-date comes back as seconds since the epoch; the caller knows now).
 */
#include <stdbool.h>
#include <string.h>

#include "http_connect.h"

static bool
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_of(const char *t, size_t n)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int i;

	if (n != 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (lower((uint8_t)t[0]) == months[i * 3] &&
		    lower((uint8_t)t[1]) == months[i * 3 + 1] &&
		    lower((uint8_t)t[2]) == months[i * 3 + 2])
			return i + 1;
	return 0;
}

/* "HH:MM:SS" at t[0..n) into seconds of the day; -1 when not one. */
static int
time_of(const char *t, size_t n)
{
	int h, m, s;

	if (n != 8 || t[2] != ':' || t[5] != ':' ||
	    !is_digit((uint8_t)t[0]) || !is_digit((uint8_t)t[1]) ||
	    !is_digit((uint8_t)t[3]) || !is_digit((uint8_t)t[4]) ||
	    !is_digit((uint8_t)t[6]) || !is_digit((uint8_t)t[7]))
		return -1;
	h = (t[0] - '0') * 10 + (t[1] - '0');
	m = (t[3] - '0') * 10 + (t[4] - '0');
	s = (t[6] - '0') * 10 + (t[7] - '0');
	if (h > 23 || m > 59 || s > 60)
		return -1;
	return h * 3600 + m * 60 + s;
}

/*
 * The three HTTP-date forms (RFC 9110 §5.6.7), read as words split at
 * blanks, ',' and '-':
 *   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime      Sun Nov  6 08:49:37 1994
 * The weekday is not checked against the date (the RFC lets a recipient
 * ignore it); a two-digit year is 19xx from 70 on, else 20xx (§5.6.7's
 * "more than 50 years in the future" rule, for years before 2070).
 */
static int
parse_date(const char *v, size_t n, int64_t *date)
{
	int day = -1, mon = 0, secs = -1, words = 0;
	int64_t year = -1;
	size_t i = 0, w, k;

	while (i < n) {
		while (i < n && (is_blank((uint8_t)v[i]) || v[i] == ',' ||
				 v[i] == '-'))
			i++;
		if (i >= n)
			break;
		for (w = i; w < n && !is_blank((uint8_t)v[w]) && v[w] != ',' &&
			    v[w] != '-'; w++)
			;
		if (++words > 6)
			return 0;
		if (is_digit((uint8_t)v[i]) && w - i <= 4) {
			int64_t num = 0;

			for (k = i; k < w; k++) {
				if (!is_digit((uint8_t)v[k]))
					return 0;
				num = num * 10 + (v[k] - '0');
			}
			if (day < 0 && w - i <= 2)
				day = (int)num;
			else if (year < 0 && (w - i == 4 || w - i == 2))
				year = w - i == 4 ? num
				     : (num >= 70 ? 1900 : 2000) + num;
			else
				return 0;
		} else if (month_of(v + i, w - i) != 0 && mon == 0) {
			mon = month_of(v + i, w - i);
		} else if (time_of(v + i, w - i) >= 0 && secs < 0) {
			secs = time_of(v + i, w - i);
		} else if (words > 1 && !(w - i == 3 && memcmp(v + i, "GMT", 3) == 0)) {
			return 0;	/* only the weekday (first) and GMT are
					 * words besides the month */
		}
		i = w;
	}
	if (day < 1 || day > 31 || mon == 0 || secs < 0 || year < 1970 ||
	    year > 9999)
		return 0;
	*date = days_from_civil(year, mon, day) * 86400 + secs;
	return 2;
}

int
httpc_retry_after(const char *v, size_t n, int64_t *delay_s, int64_t *date)
{
	int64_t d = 0;
	size_t i;

	while (n > 0 && is_blank((uint8_t)v[0])) {
		v++;
		n--;
	}
	while (n > 0 && is_blank((uint8_t)v[n - 1]))
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < n && is_digit((uint8_t)v[i]); i++)
		if (d <= HTTPC_RETRY_MAX_S)
			d = d * 10 + (v[i] - '0');
	if (i == n) {
		*delay_s = d > HTTPC_RETRY_MAX_S ? HTTPC_RETRY_MAX_S : d;
		return 1;
	}
	return parse_date(v, n, date);
}

/*
 * Proxy-Authenticate = #challenge; challenge = auth-scheme [ 1*SP
 * ( token68 / #auth-param ) ].  The scheme names are what a user needs
 * ("it offers Negotiate, NTLM"), so only they are kept: a word that
 * starts the value or follows a ',' and is not followed by '=' (an
 * auth-param's name is).  Quoted strings are skipped whole.
 */
static void
take_schemes(struct httpc_response *r, const uint8_t *v, size_t n)
{
	size_t i = 0, w, off = strlen(r->schemes);
	bool start = true;

	while (i < n) {
		if (v[i] == '"') {
			for (i++; i < n && v[i] != '"'; i++)
				if (v[i] == '\\')
					i++;
			i++;
			start = false;
			continue;
		}
		if (v[i] == ',') {
			start = true;
			i++;
			continue;
		}
		if (is_blank(v[i])) {
			i++;
			continue;
		}
		for (w = i; w < n && !is_blank(v[w]) && v[w] != ',' &&
			    v[w] != '=' && v[w] != '"'; w++)
			;
		if (start && (w >= n || v[w] != '=') && w > i) {
			size_t k, len = w - i;

			if (off + len + 3 > sizeof(r->schemes))
				return;		/* whole names only */
			if (off > 0) {
				memcpy(r->schemes + off, ", ", 2);
				off += 2;
			}
			for (k = 0; k < len; k++)
				r->schemes[off + k] = v[i + k] >= 0x21 &&
						      v[i + k] < 0x7f
						      ? (char)v[i + k] : '?';
			off += len;
			r->schemes[off] = '\0';
		}
		/* a token68 or the auth-params run to the next ',' */
		start = false;
		i = w > i ? w : i + 1;
	}
}

static bool
name_is(const uint8_t *p, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	if (n != len)
		return false;
	for (i = 0; i < len; i++)
		if (lower(p[i]) != lower((uint8_t)name[i]))
			return false;
	return true;
}

void
httpc_take_field(struct httpc_response *r, const uint8_t *line, size_t n)
{
	const uint8_t *colon = memchr(line, ':', n);
	size_t nlen, vlen;
	int64_t d, date;

	if (colon == NULL)
		return;
	nlen = (size_t)(colon - line);
	vlen = n - nlen - 1;
	if (name_is(line, nlen, "retry-after")) {
		switch (httpc_retry_after((const char *)colon + 1, vlen, &d,
					  &date)) {
		case 1:
			r->retry_after_s = d;
			r->retry_date = 0;
			break;
		case 2:
			r->retry_date = date;
			r->retry_after_s = -1;
			break;
		}
	} else if (name_is(line, nlen, "proxy-authenticate")) {
		take_schemes(r, colon + 1, vlen);
	}
}
