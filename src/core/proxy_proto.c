/*
 * proxy_proto.c - PROXY protocol v1 and v2 headers (HAProxy's
 * proxy-protocol.txt), built and parsed over byte buffers.
 *
 * A receiver that expects the header reads it before anything else and
 * then treats the addresses in it as the client's.  A receiver that does
 * not expect it sees the header as the start of the application protocol
 * and fails the way that protocol fails on garbage (an HTTP server answers
 * 400), which is why the header is sent only where a rule asks for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "proxy_proto.h"

#define PP_V1_PREFIX "PROXY "
#define PP_V2_VER 0x20			/* version 2 in the high nibble */
#define PP_V2_FAM_UNSPEC 0x00		/* AF_UNSPEC, UNSPEC transport */
#define PP_V2_FAM_TCP4 0x11		/* AF_INET, STREAM */
#define PP_V2_FAM_UDP4 0x12		/* AF_INET, DGRAM */
#define PP_V2_FAM_TCP6 0x21		/* AF_INET6, STREAM */
#define PP_V2_FAM_UDP6 0x22		/* AF_INET6, DGRAM */
#define PP_V2_FAM_USTREAM 0x31		/* AF_UNIX, STREAM */
#define PP_V2_FAM_UDGRAM 0x32		/* AF_UNIX, DGRAM */
#define PP_V2_LEN_INET 12		/* 2 x 4 address bytes, 2 x port */
#define PP_V2_LEN_INET6 36		/* 2 x 16 address bytes, 2 x port */
#define PP_V2_LEN_UNIX 216		/* 2 x 108 path bytes */

const uint8_t pp_v2_sig[PP_V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

const char *
pp_version_str(enum pp_version v)
{
	switch (v) {
	case PP_V1:
		return "v1";
	case PP_V2:
		return "v2";
	case PP_NONE:
		break;
	}
	return "none";
}

/*
 * Both ends in one family, as both versions require: IPv4 when both are
 * IPv4, else IPv6 with an IPv4 end mapped (::ffff:a.b.c.d).  Returns the
 * family, or -EINVAL.
 */
static int
pp_unify(const struct pp_addrs *a, uint8_t src[16], uint8_t dst[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const int fam[2] = { a->src_family, a->dst_family };
	const uint8_t *in[2] = { a->src, a->dst };
	uint8_t *out[2] = { src, dst };
	int i;

	for (i = 0; i < 2; i++)
		if (fam[i] != AF_INET && fam[i] != AF_INET6)
			return -EINVAL;
	if (fam[0] == AF_INET && fam[1] == AF_INET) {
		memcpy(src, a->src, 4);
		memcpy(dst, a->dst, 4);
		return AF_INET;
	}
	for (i = 0; i < 2; i++) {
		if (fam[i] == AF_INET6) {
			memcpy(out[i], in[i], 16);
		} else {
			memcpy(out[i], mapped, sizeof(mapped));
			memcpy(out[i] + 12, in[i], 4);
		}
	}
	return AF_INET6;
}

/*
 * v1, spec 2.1:
 *   "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF
 * inet_ntop writes the canonical forms the spec asks for (no leading zeros,
 * the longest zero run of IPv6 as "::").
 */
int
pp_build_v1(const struct pp_addrs *a, uint8_t *out, size_t n)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char line[PP_V1_MAX + 1];
	uint8_t s[16], d[16];
	int fam, len;

	fam = pp_unify(a, s, d);
	if (fam < 0)
		return fam;
	if (inet_ntop(fam, s, src, sizeof(src)) == NULL ||
	    inet_ntop(fam, d, dst, sizeof(dst)) == NULL)
		return -EINVAL;
	len = snprintf(line, sizeof(line), PP_V1_PREFIX "%s %s %s %u %u\r\n",
		       fam == AF_INET ? "TCP4" : "TCP6", src, dst,
		       (unsigned)a->src_port, (unsigned)a->dst_port);
	if (len < 0 || (size_t)len > PP_V1_MAX)
		return -EINVAL;
	if ((size_t)len > n)
		return -ENOSPC;
	memcpy(out, line, (size_t)len);
	return len;
}

/*
 * v2, spec 2.2:
 *   +--------------+---------+-----+--------+-----------------+------+
 *   | sig (12)     | ver_cmd | fam | len    | addresses       | TLVs |
 *   | \r\n\r\n\0.. | 0x21    |     | be16   | src dst sp dp   |      |
 *   +--------------+---------+-----+--------+-----------------+------+
 * A TLV is type (1), length (be16), value; AUTHORITY (0x02) carries the
 * host name as the client knew it (spec 2.2.2).
 */
int
pp_build_v2(const struct pp_addrs *a, const char *authority, uint8_t *out,
	    size_t n)
{
	struct bufw w;
	uint8_t s[16], d[16];
	size_t alen = authority != NULL ? strlen(authority) : 0;
	size_t addrlen, tlvlen;
	int fam;

	fam = pp_unify(a, s, d);
	if (fam < 0)
		return fam;
	if (alen > PP_AUTHORITY_MAX)
		return -EINVAL;
	addrlen = fam == AF_INET ? PP_V2_LEN_INET : PP_V2_LEN_INET6;
	tlvlen = alen > 0 ? 3 + alen : 0;
	bufw_init(&w, out, n);
	bufw_bytes(&w, pp_v2_sig, sizeof(pp_v2_sig));
	bufw_u8(&w, PP_V2_VER | PP2_CMD_PROXY);
	bufw_u8(&w, fam == AF_INET ? PP_V2_FAM_TCP4 : PP_V2_FAM_TCP6);
	bufw_be16(&w, (uint16_t)(addrlen + tlvlen));
	bufw_bytes(&w, s, fam == AF_INET ? 4 : 16);
	bufw_bytes(&w, d, fam == AF_INET ? 4 : 16);
	bufw_be16(&w, a->src_port);
	bufw_be16(&w, a->dst_port);
	if (alen > 0) {
		bufw_u8(&w, PP2_TYPE_AUTHORITY);
		bufw_be16(&w, (uint16_t)alen);
		bufw_bytes(&w, authority, alen);
	}
	return bufw_result(&w);
}

/* A decimal port as the spec writes it: 1-5 digits, no leading zero. */
static bool
pp_v1_port(const char *s, uint16_t *port)
{
	size_t i, len = strlen(s);
	unsigned long v = 0;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* The words of a v1 line after "PROXY ", split at single blanks. */
static int
pp_v1_fields(const char *line, struct pp_header *h)
{
	char copy[PP_V1_MAX + 1], *f[5], *s;
	size_t nf = 0;
	int fam;

	if (strcmp(line, "UNKNOWN") == 0 ||
	    strncmp(line, "UNKNOWN ", sizeof("UNKNOWN ") - 1) == 0) {
		/* spec 2.1: the rest of an UNKNOWN line is ignored */
		h->unknown = true;
		return PARSE_OK;
	}
	snprintf(copy, sizeof(copy), "%s", line);
	s = copy;
	for (;;) {
		if (nf == 5)
			return PARSE_ERR;
		f[nf++] = s;
		s = strchr(s, ' ');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	if (nf != 5)
		return PARSE_ERR;
	if (strcmp(f[0], "TCP4") == 0)
		fam = AF_INET;
	else if (strcmp(f[0], "TCP6") == 0)
		fam = AF_INET6;
	else
		return PARSE_ERR;
	h->a.src_family = fam;
	h->a.dst_family = fam;
	/* glibc's inet_pton refuses leading zeros in IPv4 (octal
	 * confusion, which the spec forbids too). */
	if (inet_pton(fam, f[1], h->a.src) != 1 ||
	    inet_pton(fam, f[2], h->a.dst) != 1 ||
	    !pp_v1_port(f[3], &h->a.src_port) ||
	    !pp_v1_port(f[4], &h->a.dst_port))
		return PARSE_ERR;
	return PARSE_OK;
}

static int
pp_parse_v1(const uint8_t *p, size_t len, size_t *used, size_t *need,
	    struct pp_header *h)
{
	const size_t plen = sizeof(PP_V1_PREFIX) - 1;
	/* the CR may be at most at PP_V1_MAX - 2, its LF right after */
	size_t i, lim = len < PP_V1_MAX - 1 ? len : PP_V1_MAX - 1;
	char line[PP_V1_MAX + 1];
	int rc;

	if (memcmp(p, PP_V1_PREFIX, len < plen ? len : plen) != 0)
		return PARSE_ERR;
	for (i = 0; i < lim; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			break;
	}
	if (i == lim) {
		/* spec 2.1: no CRLF within 107 bytes is an invalid line */
		if (len >= PP_V1_MAX - 1)
			return PARSE_ERR;
		*need = 1;
		return PARSE_MORE;
	}
	if (p[i] != '\r' || i < plen)
		return PARSE_ERR;
	if (i + 1 == len) {
		*need = 1;
		return PARSE_MORE;
	}
	if (p[i + 1] != '\n')
		return PARSE_ERR;
	memcpy(line, p + plen, i - plen);
	line[i - plen] = '\0';
	h->version = PP_V1;
	rc = pp_v1_fields(line, h);
	if (rc == PARSE_OK)
		*used = i + 2;
	return rc;
}

/* The TLVs after the address block: they must fill it exactly. */
static int
pp_v2_tlvs(struct bufr *b, struct pp_header *h)
{
	uint8_t type;
	uint16_t vlen;

	while (bufr_left(b) > 0) {
		if (!bufr_u8(b, &type) || !bufr_be16(b, &vlen) ||
		    bufr_left(b) < vlen)
			return PARSE_ERR;
		h->ntlv++;
		if (type != PP2_TYPE_AUTHORITY) {
			bufr_skip(b, vlen);
			continue;
		}
		if (h->has_authority || vlen > PP_AUTHORITY_MAX)
			return PARSE_ERR;
		bufr_bytes(b, h->authority, vlen);
		h->authority[vlen] = '\0';
		if (strlen(h->authority) != vlen)
			return PARSE_ERR;
		h->authority_len = vlen;
		h->has_authority = true;
	}
	return PARSE_OK;
}

/* The address block of a TCP4/TCP6 header; others leave h->unknown. */
static int
pp_v2_addrs(struct bufr *b, uint8_t fam, struct pp_header *h)
{
	size_t alen, need;
	int af;

	switch (fam) {
	case PP_V2_FAM_TCP4:
	case PP_V2_FAM_TCP6:
		af = fam == PP_V2_FAM_TCP4 ? AF_INET : AF_INET6;
		alen = af == AF_INET ? 4 : 16;
		if (bufr_left(b) < 2 * alen + 4)
			return PARSE_ERR;
		h->a.src_family = af;
		h->a.dst_family = af;
		bufr_bytes(b, h->a.src, alen);
		bufr_bytes(b, h->a.dst, alen);
		bufr_be16(b, &h->a.src_port);
		bufr_be16(b, &h->a.dst_port);
		return PARSE_OK;
	case PP_V2_FAM_UNSPEC:
		need = 0;
		break;
	case PP_V2_FAM_UDP4:
		need = PP_V2_LEN_INET;
		break;
	case PP_V2_FAM_UDP6:
		need = PP_V2_LEN_INET6;
		break;
	case PP_V2_FAM_USTREAM:
	case PP_V2_FAM_UDGRAM:
		need = PP_V2_LEN_UNIX;
		break;
	default:
		/* spec 2.2: other values must be rejected */
		return PARSE_ERR;
	}
	h->unknown = true;
	return bufr_skip(b, need) ? PARSE_OK : PARSE_ERR;
}

static int
pp_parse_v2(const uint8_t *p, size_t len, size_t *used, size_t *need,
	    struct pp_header *h)
{
	struct bufr b;
	uint8_t ver_cmd, fam;
	uint16_t blen;
	size_t total;
	int rc;

	if (memcmp(p, pp_v2_sig, len < PP_V2_SIG_LEN ? len : PP_V2_SIG_LEN))
		return PARSE_ERR;
	if (len < PP_V2_HDR) {
		*need = PP_V2_HDR - len;
		return PARSE_MORE;
	}
	bufr_init(&b, p, len);
	bufr_skip(&b, PP_V2_SIG_LEN);
	bufr_u8(&b, &ver_cmd);
	bufr_u8(&b, &fam);
	bufr_be16(&b, &blen);
	if ((ver_cmd & 0xf0) != PP_V2_VER ||
	    (ver_cmd & 0x0f) > PP2_CMD_PROXY)
		return PARSE_ERR;
	total = PP_V2_HDR + (size_t)blen;
	if (len < total) {
		*need = total - len;
		return PARSE_MORE;
	}
	h->version = PP_V2;
	/* Only the block is ours: the bytes after it are the application's. */
	bufr_init(&b, p + PP_V2_HDR, blen);
	if ((ver_cmd & 0x0f) == PP2_CMD_LOCAL) {
		/* spec 2.2: a receiver ignores a LOCAL header's block */
		h->local = true;
		*used = total;
		return PARSE_OK;
	}
	rc = pp_v2_addrs(&b, fam, h);
	if (rc == PARSE_OK)
		rc = pp_v2_tlvs(&b, h);
	if (rc == PARSE_OK)
		*used = total;
	return rc;
}

int
pp_parse(const uint8_t *p, size_t len, size_t *used, size_t *need,
	 struct pp_header *h)
{
	memset(h, 0, sizeof(*h));
	if (len == 0) {
		*need = 1;
		return PARSE_MORE;
	}
	/* spec 2: "P" starts v1, "\r" starts v2; nothing else is a header */
	if (p[0] == 'P')
		return pp_parse_v1(p, len, used, need, h);
	if (p[0] == pp_v2_sig[0])
		return pp_parse_v2(p, len, used, need, h);
	return PARSE_ERR;
}
