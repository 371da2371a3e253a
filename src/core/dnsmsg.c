/*
 * dnsmsg.c - DNS messages (RFC 1035 §4.1) as pure functions over byte
 * buffers: parse the one question of a query, build a reply, convert and
 * check names.  Every read goes through the bounded cursor of buf.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "dnsmsg.h"

#define LABEL_MAX 63
#define QR_BIT 0x8000
#define OPCODE_MASK 0x7800
#define RD_BIT 0x0100
#define RA_BIT 0x0080
#define RR_MAX 16

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
dnsmsg_name_pton(const char *text, uint8_t *wire, size_t n)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = 0, lab = 0;	/* lab: offset of the label's length */
	unsigned int c;

	if (n == 0)
		return -EMSGSIZE;
	if (s[0] == '.' && s[1] == '\0')
		s++;
	wire[0] = 0;
	len = 1;
	while (*s != '\0') {
		c = *s++;
		if (c == '.') {
			if (wire[lab] == 0)
				return -EINVAL;	/* empty label */
			if (*s == '\0')
				break;		/* the final dot */
			if (len >= n || len >= DNSMSG_WIRE_MAX)
				return -EMSGSIZE;
			lab = len;
			wire[len++] = 0;
			continue;
		}
		if (c == '\\') {
			if (*s == '\0')
				return -EINVAL;
			if (is_digit(s[0])) {
				if (!is_digit(s[1]) || !is_digit(s[2]))
					return -EINVAL;
				c = (unsigned)((s[0] - '0') * 100 +
					       (s[1] - '0') * 10 + (s[2] - '0'));
				if (c > 255)
					return -EINVAL;
				s += 3;
			} else {
				c = *s++;
			}
		}
		if (wire[lab] == LABEL_MAX)
			return -EINVAL;
		if (len >= n || len >= DNSMSG_WIRE_MAX)
			return -EMSGSIZE;
		wire[len++] = (uint8_t)c;
		wire[lab]++;
	}
	if (wire[lab] != 0) {	/* the root label after the last one */
		if (len >= n || len >= DNSMSG_WIRE_MAX)
			return -EMSGSIZE;
		wire[len++] = 0;
	}
	return (int)len;
}

int
dnsmsg_name_ntop(const uint8_t *wire, size_t wlen, char *text, size_t n)
{
	size_t i = 0, o = 0, l, k;
	uint8_t c;
	char e[5];
	size_t elen;

	if (n == 0)
		return -ENOSPC;
	while (i < wlen && wire[i] != 0) {
		l = wire[i++];
		if (l > LABEL_MAX || l > wlen - i)
			return -EINVAL;
		if (o > 0) {
			if (o + 1 >= n)
				return -ENOSPC;
			text[o++] = '.';
		}
		for (k = 0; k < l; k++) {
			c = wire[i + k];
			if (c == '.' || c == '\\') {
				e[0] = '\\';
				e[1] = (char)c;
				elen = 2;
			} else if (c > 0x20 && c < 0x7f) {
				e[0] = (char)c;
				elen = 1;
			} else {
				snprintf(e, sizeof(e), "\\%03u", c);
				elen = 4;
			}
			if (o + elen >= n)
				return -ENOSPC;
			memcpy(text + o, e, elen);
			o += elen;
		}
		i += l;
	}
	if (i >= wlen)
		return -EINVAL;	/* no root label */
	if (o == 0) {
		if (n < 2)
			return -ENOSPC;
		text[o++] = '.';
	}
	text[o] = '\0';
	return (int)o;
}

/*
 * A name at b's offset, into q->qname (uncompressed).  A pointer must
 * point before the name it is part of, so a loop cannot form; reading
 * goes on after the first pointer in the message.
 */
static bool
read_name(struct bufr *b, struct dnsmsg_query *q)
{
	size_t pos = b->off, end = 0, len = 0, ptrs = 0, floor = b->off;
	uint8_t l, l2;

	for (;;) {
		if (pos >= b->len)
			return false;
		l = b->p[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= b->len || ++ptrs > DNSMSG_PTRS_MAX)
				return false;
			if (end == 0)
				end = pos + 2;
			l2 = b->p[pos + 1];
			pos = (size_t)(l & 0x3f) << 8 | l2;
			if (pos >= floor)
				return false;
			floor = pos;
			continue;
		}
		if (l > LABEL_MAX)
			return false;	/* 0x40, 0x80: not in use */
		if (pos + 1 + l > b->len || len + 1 + l > DNSMSG_WIRE_MAX)
			return false;
		memcpy(q->qname + len, b->p + pos, 1 + (size_t)l);
		len += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	q->qname_len = len;
	b->off = end != 0 ? end : pos;
	return true;
}

int
dnsmsg_parse_query(const uint8_t *p, size_t len, size_t *used,
		   struct dnsmsg_query *q)
{
	struct bufr b;
	uint16_t qd, skip;
	int i;

	bufr_init(&b, p, len);
	if (!bufr_be16(&b, &q->id) || !bufr_be16(&b, &q->flags) ||
	    !bufr_be16(&b, &qd) || qd != 1)
		return PARSE_ERR;
	for (i = 0; i < 3; i++)
		if (!bufr_be16(&b, &skip))
			return PARSE_ERR;
	if (!read_name(&b, q) || !bufr_be16(&b, &q->qtype) ||
	    !bufr_be16(&b, &q->qclass))
		return PARSE_ERR;
	if (dnsmsg_name_ntop(q->qname, q->qname_len, q->name,
			     sizeof(q->name)) < 0)
		return PARSE_ERR;
	*used = b.off;
	return PARSE_OK;
}

int
dnsmsg_query_init(struct dnsmsg_query *q, const char *name, uint16_t qtype,
		  uint16_t qclass, uint16_t id)
{
	int n;

	memset(q, 0, sizeof(*q));
	n = dnsmsg_name_pton(name, q->qname, sizeof(q->qname));
	if (n < 0)
		return -EINVAL;
	q->qname_len = (size_t)n;
	if (dnsmsg_name_ntop(q->qname, q->qname_len, q->name,
			     sizeof(q->name)) < 0)
		return -EINVAL;
	q->id = id;
	q->flags = RD_BIT;
	q->qtype = qtype;
	q->qclass = qclass;
	return 0;
}

int
dnsmsg_build_reply(uint8_t *out, size_t n, const struct dnsmsg_query *q,
		   int rcode, const struct dnsmsg_rr *rr, size_t nrr)
{
	struct bufw w;
	size_t i;
	uint16_t flags;

	if (nrr > RR_MAX)
		return -EINVAL;
	for (i = 0; i < nrr; i++)
		if (rr[i].rdlen > 0xffff)
			return -EINVAL;
	flags = (uint16_t)(QR_BIT | (q->flags & (OPCODE_MASK | RD_BIT)) |
			   RA_BIT | (rcode & 0xf));
	bufw_init(&w, out, n);
	bufw_be16(&w, q->id);
	bufw_be16(&w, flags);
	bufw_be16(&w, 1);
	bufw_be16(&w, (uint16_t)nrr);
	bufw_be16(&w, 0);
	bufw_be16(&w, 0);
	bufw_bytes(&w, q->qname, q->qname_len);
	bufw_be16(&w, q->qtype);
	bufw_be16(&w, q->qclass);
	for (i = 0; i < nrr; i++) {
		bufw_be16(&w, 0xc000 | DNSMSG_HDR);	/* the question's name */
		bufw_be16(&w, rr[i].type);
		bufw_be16(&w, q->qclass);
		bufw_be16(&w, (uint16_t)(rr[i].ttl >> 16));
		bufw_be16(&w, (uint16_t)(rr[i].ttl & 0xffff));
		bufw_be16(&w, (uint16_t)rr[i].rdlen);
		bufw_bytes(&w, rr[i].rdata, rr[i].rdlen);
	}
	return bufw_result(&w);
}

static bool
hn_char(uint8_t c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '-' || c == '_';
}

bool
dnsmsg_hnok(const char *name)
{
	const unsigned char *s;
	uint8_t wire[DNSMSG_WIRE_MAX];
	size_t i, l;
	int n;

	for (s = (const unsigned char *)name; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	n = dnsmsg_name_pton(name, wire, sizeof(wire));
	if (n < 0 || (wire[0] > 0 && wire[1] == '-'))
		return false;
	for (i = 0; i < (size_t)n && wire[i] != 0; i += l) {
		l = wire[i++];
		while (l-- > 0)
			if (!hn_char(wire[i++]))
				return false;
		l = 0;
	}
	return true;
}

/* A decimal label 0..255 of 1..3 digits; -1 otherwise. */
static int
octet(const uint8_t *p, size_t l)
{
	size_t i;
	int v = 0;

	if (l == 0 || l > 3)
		return -1;
	for (i = 0; i < l; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 255 ? v : -1;
}

/* Does the wire name from i on spell the labels of `suffix`? */
static bool
suffix_is(const uint8_t *w, size_t i, size_t n, const char *suffix)
{
	uint8_t s[16];
	int sl = dnsmsg_name_pton(suffix, s, sizeof(s));

	return sl > 0 && n - i == (size_t)sl && strncasecmp((const char *)w + i,
		(const char *)s, (size_t)sl - 1) == 0;
}

int
dnsmsg_ptr_addr(const char *name, int *family, uint8_t *addr)
{
	uint8_t w[DNSMSG_WIRE_MAX];
	int n = dnsmsg_name_pton(name, w, sizeof(w)), v, k;
	size_t i = 0;

	if (n < 0)
		return -EINVAL;
	for (k = 3; k >= 0 && i < (size_t)n && w[i] != 0; k--) {
		v = octet(w + i + 1, w[i]);
		if (v < 0)
			break;
		addr[k] = (uint8_t)v;
		i += 1 + (size_t)w[i];
	}
	if (k < 0 && suffix_is(w, i, (size_t)n, "in-addr.arpa")) {
		*family = AF_INET;
		return 0;
	}
	memset(addr, 0, 16);
	i = 0;
	for (k = 31; k >= 0 && i + 1 < (size_t)n && w[i] == 1; k--) {
		v = buf_hexval(w[i + 1]);
		if (v < 0)
			return -EINVAL;
		addr[k / 2] |= (uint8_t)(k % 2 == 0 ? v << 4 : v);
		i += 2;
	}
	if (k < 0 && suffix_is(w, i, (size_t)n, "ip6.arpa")) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *
dnsmsg_type_str(uint16_t type, char *buf, size_t n)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 35, "NAPTR" }, { 43, "DS" }, { 48, "DNSKEY" },
		{ 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" }, { 257, "CAA" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, n, "TYPE%u", type);
	return buf;
}
