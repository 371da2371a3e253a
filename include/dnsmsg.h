/*
 * dnsmsg.h - DNS messages (RFC 1035 §4) as pure functions over bytes: the
 * query a program hands to res_send() parsed, the answer the res_* hooks
 * give instead of a query that may not leave built, and the name checks
 * glibc makes before it asks a server.  No sockets in here.
 */
#ifndef PROXYWRAP_DNSMSG_H
#define PROXYWRAP_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define DNSMSG_HDR 12		/* header bytes (glibc's HFIXEDSZ) */
#define DNSMSG_WIRE_MAX 255	/* a name in wire form (RFC 1035 §3.1) */
#define DNSMSG_TEXT_MAX 1024	/* the same as text, every byte \DDD */
#define DNSMSG_PTRS_MAX 64	/* compression pointers followed per name */

#define DNSMSG_CLASS_IN 1
enum dnsmsg_type {
	DNSMSG_A = 1,		/* IPv4 address */
	DNSMSG_PTR = 12,	/* reverse name */
	DNSMSG_AAAA = 28,	/* IPv6 address */
};
enum dnsmsg_rcode {
	DNSMSG_NOERROR = 0,	/* answered (maybe with no records) */
	DNSMSG_SERVFAIL = 2,	/* server failure */
	DNSMSG_NXDOMAIN = 3,	/* no such name */
	DNSMSG_REFUSED = 5,	/* refused by policy */
};

/* The first (only) question of a message, and its header. */
struct dnsmsg_query {
	uint16_t id;
	uint16_t flags;			/* header bits as sent */
	uint16_t qtype, qclass;
	uint8_t qname[DNSMSG_WIRE_MAX];	/* wire form, uncompressed */
	size_t qname_len;
	char name[DNSMSG_TEXT_MAX + 1];	/* text, no trailing dot; root "." */
};

/*
 * Parse a message that asks one question (res_send's input): header,
 * then QDCOUNT 1 question whose name may use compression pointers (each
 * pointing before itself, at most DNSMSG_PTRS_MAX).  The sections after
 * the question (EDNS OPT records, say) are not read.  PARSE_OK, or
 * PARSE_ERR for anything shorter, another QDCOUNT, a bad label or name.
 * *used is the end of the question.
 */
int dnsmsg_parse_query(const uint8_t *p, size_t len, size_t *used,
		       struct dnsmsg_query *q);

/*
 * A question built from text (res_query's arguments): q->name and
 * q->qname from `name` as dnsmsg_name_pton reads it.  0 or -EINVAL.
 */
int dnsmsg_query_init(struct dnsmsg_query *q, const char *name,
		      uint16_t qtype, uint16_t qclass, uint16_t id);

/*
 * Text to wire as glibc's ns_name_pton reads it: labels separated by
 * '.', "\X" a literal X, "\DDD" a byte in decimal, an optional final '.'.
 * Returns the wire length (the root label included), -EINVAL for an empty
 * label, a label over 63 bytes or a bad escape, -EMSGSIZE over n or 255.
 */
int dnsmsg_name_pton(const char *text, uint8_t *wire, size_t n);

/*
 * Wire (uncompressed, ending in the root label) to text, no trailing dot
 * ("." for the root); '.', '\\' and bytes outside 0x21..0x7e as escapes.
 * Returns the text length or -EINVAL / -ENOSPC.
 */
int dnsmsg_name_ntop(const uint8_t *wire, size_t wlen, char *text, size_t n);

/*
 * glibc's res_hnok: would glibc ask a server for this host name?  Only
 * printable ASCII, labels of letters, digits, '-' and '_', the first not
 * starting with '-'.  False for a newline, space, tab, ';', ...
 */
bool dnsmsg_hnok(const char *name);

/*
 * The address of a reverse name: "4.3.2.1.in-addr.arpa" (*family AF_INET,
 * 4 bytes) or 32 nibbles then "ip6.arpa" (AF_INET6, 16 bytes), any case,
 * a trailing dot allowed.  0, or -EINVAL for anything else (a partial
 * reverse name is a zone, not an address).
 */
int dnsmsg_ptr_addr(const char *name, int *family, uint8_t *addr);

/* An answer record; its owner is the question's name. */
struct dnsmsg_rr {
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
};

/*
 * A response to q: q's id, QR, q's opcode and RD, RA, rcode, the question
 * (q->qname, qtype, qclass) and the records (owner: a pointer to the
 * question's name).  Returns the length, or -ENOSPC when it does not fit
 * whole into n, -EINVAL for more than 16 records or rdata over 65535.
 */
int dnsmsg_build_reply(uint8_t *out, size_t n, const struct dnsmsg_query *q,
		       int rcode, const struct dnsmsg_rr *rr, size_t nrr);

/* "A", "AAAA", "PTR", "SRV", ... or "TYPE%u" into buf (at least 12). */
const char *dnsmsg_type_str(uint16_t type, char *buf, size_t n);

#endif
