/*
 * proxy_proto.h - the PROXY protocol (HAProxy's proxy-protocol.txt),
 * version 1 (one text line) and version 2 (binary, with TLVs), as pure
 * builders and a parser over byte buffers.  No sockets in here.
 *
 * The header tells a receiver who the client was: it is the first thing on
 * a TCP stream, before any application byte.  proxywrap sends it (rule
 * option proxy_protocol=v1|v2); the parser exists for the tests and the
 * fuzzer, and follows parse.h.
 */
#ifndef PROXYWRAP_PROXY_PROTO_H
#define PROXYWRAP_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define PP_V1_MAX 107		/* spec 2.1: the longest v1 line, CRLF included */
#define PP_V2_HDR 16		/* spec 2.2: signature, ver_cmd, fam, len */
#define PP_V2_SIG_LEN 12
#define PP_AUTHORITY_MAX 255	/* a DNS name (RFC 1035 §2.3.4) */
/* The longest v2 header we build: TCP6 addresses plus an AUTHORITY TLV. */
#define PP_V2_BUILD_MAX (PP_V2_HDR + 36 + 3 + PP_AUTHORITY_MAX)
#define PP_OUT_MAX PP_V2_BUILD_MAX	/* room for either version */

/* "\r\n\r\n\0\r\nQUIT\n", spec 2.2 */
extern const uint8_t pp_v2_sig[PP_V2_SIG_LEN];

enum pp_version {
	PP_NONE = 0,		/* no header */
	PP_V1 = 1,		/* the text line */
	PP_V2 = 2,		/* the binary header */
};

enum pp_v2_cmd {
	PP2_CMD_LOCAL = 0x0,	/* health check: addresses must be ignored */
	PP2_CMD_PROXY = 0x1,	/* relayed connection: addresses are real */
};

enum pp_v2_tlv {
	PP2_TYPE_ALPN = 0x01,		/* the negotiated application protocol */
	PP2_TYPE_AUTHORITY = 0x02,	/* the host name the client asked for */
	PP2_TYPE_CRC32C = 0x03,		/* checksum of the header */
	PP2_TYPE_NOOP = 0x04,		/* padding, ignored */
	PP2_TYPE_UNIQUE_ID = 0x05,	/* an opaque connection id */
	PP2_TYPE_SSL = 0x20,		/* TLS details, with sub-TLVs */
	PP2_TYPE_NETNS = 0x30,		/* the network namespace name */
};

/*
 * One connection's endpoints.  Families are AF_INET (4 bytes of addr used)
 * or AF_INET6 (16); addresses in network order, ports in host order.
 */
struct pp_addrs {
	int src_family;
	uint8_t src[16];
	uint16_t src_port;
	int dst_family;
	uint8_t dst[16];
	uint16_t dst_port;
};

/* What pp_parse found. */
struct pp_header {
	enum pp_version version;
	bool local;		/* v2 LOCAL: no addresses to use */
	bool unknown;		/* v1 UNKNOWN, or v2 family not TCP4/TCP6:
				 * the receiver keeps the real addresses */
	struct pp_addrs a;	/* valid unless local or unknown; both
				 * families equal */
	bool has_authority;
	char authority[PP_AUTHORITY_MAX + 1];	/* NUL-terminated */
	size_t authority_len;
	size_t ntlv;		/* TLVs seen, AUTHORITY included */
};

/*
 * Write the v1 line for a (TCP4 when both families are AF_INET, else TCP6
 * with an IPv4 side written as ::ffff:a.b.c.d) into out[0..n).  No NUL is
 * written.  Returns the length (at most PP_V1_MAX), -ENOSPC when n is too
 * small, -EINVAL for a family other than AF_INET/AF_INET6.
 */
int pp_build_v1(const struct pp_addrs *a, uint8_t *out, size_t n);

/*
 * Write the v2 PROXY header for a (TCP4 when both families are AF_INET,
 * else TCP6 with IPv4-mapped addresses) into out[0..n), followed by a
 * PP2_TYPE_AUTHORITY TLV carrying authority when it is not NULL or "".
 * Returns the length (at most PP_V2_BUILD_MAX), -ENOSPC, or -EINVAL (bad
 * family, authority longer than PP_AUTHORITY_MAX).
 */
int pp_build_v2(const struct pp_addrs *a, const char *authority,
		uint8_t *out, size_t n);

/*
 * Parse a v1 or v2 header at p[0..len), as a strict receiver would: v1
 * with canonical addresses (no leading zeros), ports 0..65535 without
 * leading zeros, single blanks, CRLF within PP_V1_MAX bytes; v2 with
 * version 2, command LOCAL or PROXY, an address block as long as the
 * family needs and TLVs that exactly fill the rest.  An AUTHORITY
 * longer than PP_AUTHORITY_MAX, containing a NUL or seen twice is an
 * error.  PARSE_OK sets *used to the header's length and fills *h.
 */
int pp_parse(const uint8_t *p, size_t len, size_t *used, size_t *need,
	     struct pp_header *h);

/* "v1", "v2", "none" */
const char *pp_version_str(enum pp_version v);

#endif
