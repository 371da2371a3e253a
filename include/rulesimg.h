/*
 * rulesimg.h - the compiled rule set as one block of bytes: no pointers,
 * only offsets, so proxywrap builds it once and every process of the
 * session maps the same pages read-only and matches on them.
 *
 *   +--------------------------------------------------------------+
 *   | struct rimg_hdr   magic "pwRULES\0", version, sections       |
 *   | names: entries (struct rimg_ent), a run per key in the order |
 *   |        of its rules; slots (struct rimg_slot), one per run,  |
 *   |        open addressing on rimg_hash                          |
 *   | cidrs: the same, keyed family, prefix, masked address        |
 *   | any:   "*" entries by rule index                             |
 *   | rules: struct rimg_rule per rule (optional: the records a     |
 *   |        process without the rule file needs for log lines)   |
 *   | strs:  keys and rule texts, each text NUL-terminated         |
 *   | fast4, fast6, fseg: what only goes direct (rulesfast.h)      |
 *   +--------------------------------------------------------------+
 *
 * Nothing in an image is believed: rimg_check checks the header and that
 * every section lies inside the bytes, and every offset read from an
 * entry, slot or record is checked again where it is used, so a damaged
 * image gives wrong answers at worst (the caller fails closed), never a
 * read outside it or a loop without end.  Pure: no I/O.
 */
#ifndef PROXYWRAP_RULESIMG_H
#define PROXYWRAP_RULESIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rulesfast.h"

#define RIMG_MAGIC "pwRULES"		/* 8 bytes with its NUL */
#define RIMG_VERSION 4u		/* 2: rules record their hops' groups;
				 * 3: the direct-only tables;
				 * 4: rimg_hash reads 8 bytes a step */
#define RIMG_NONE UINT32_MAX		/* no rule matched */
#define RIMG_BAD (UINT32_MAX - 1)	/* a damaged entry: fail closed */
#define RIMG_KEY_MAX 256		/* a name is at most 253 octets */
#define RIMG_CIDR_KEY 18		/* family, prefix, 16 address bytes */
#define RIMG_TEXT_MAX 65536u		/* one rule's text */

struct rimg_sec {
	uint64_t off;			/* from the start of the image */
	uint64_t n;			/* elements (bytes for strs) */
};

struct rimg_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;		/* sizeof(struct rimg_hdr) */
	uint64_t total;			/* bytes in the whole image */
	uint32_t nrules;		/* rules of the config it was built from */
	uint32_t nproxies;		/* proxies the chains index */
	uint64_t proxy_sum;		/* FNV-1a of the proxies' names in order */
	struct rimg_sec name_ents, name_slots, cidr_ents, cidr_slots, any;
	struct rimg_sec rules;		/* n is 0 or nrules */
	struct rimg_sec strs;
	struct rimg_sec fast4, fast6, fseg;	/* empty: no tables */
	uint8_t nv4len, nv6len;		/* prefix lengths present, */
	uint8_t v4len[33], v6len[129];	/* longest first */
	uint8_t lh_named;		/* a rule names "localhost" */
	uint8_t pad[3];
};

struct rimg_ent {
	uint32_t key;			/* offset into strs */
	uint32_t rule;			/* index of the rule */
	uint16_t klen;
	uint16_t port_lo, port_hi;
	uint8_t kind;			/* enum cfg_dest_kind */
	uint8_t pad;
};

struct rimg_slot {
	uint32_t hash;			/* low 32 bits of the key's hash */
	uint32_t start;			/* first entry of the key's run */
	uint32_t count;			/* 0: empty slot */
};

struct rimg_rule {
	uint32_t text;			/* offset into strs, NUL-terminated */
	uint32_t text_len;
	int32_t line;			/* 0: a -p rule */
	uint8_t action;			/* enum cfg_action */
	uint8_t nchain;
	uint8_t pp_version;
	uint8_t pad;
	int32_t pp_src_family;
	uint32_t chain[CFG_CHAIN_MAX];
	uint8_t pp_src[16];
	uint16_t pp_src_port;
	uint16_t pad2;
	uint8_t group[CFG_CHAIN_MAX];	/* cfg_rule.group: 0, or group + 1 */
};

/* A checked image: pointers into the bytes given to rimg_check. */
struct rimg {
	const uint8_t *base;
	size_t len;
	const struct rimg_hdr *h;
	const struct rimg_ent *name_ents, *cidr_ents, *any;
	const struct rimg_slot *name_slots, *cidr_slots;
	const struct rimg_rule *rules;
	const uint8_t *strs;
	const struct rfast_span4 *fast4;
	const struct rfast_span6 *fast6;
	const struct rfast_seg *fseg;
	uint32_t nfast4, nfast6, nfseg;
};

/*
 * Build the image of cfg's rules into a malloc'd buffer (*len bytes),
 * with rule records when `records`.  NULL when out of memory or too big
 * for 32-bit offsets.
 */
void *rimg_build(const struct config *cfg, bool records, size_t *len);

/* A key's hash: a slot's is its low 32 bits, and its low bits the first
 * slot to probe. */
uint64_t rimg_hash(const uint8_t *key, size_t len);

/* FNV-1a of the proxies' names, NULs included, in order, then of each
 * group's name and members (nothing for a file without groups). */
uint64_t rimg_proxy_sum(const struct config *cfg);

/* Check buf[0..len) (8-byte aligned) and fill m: 0, or -EINVAL. */
int rimg_check(const void *buf, size_t len, struct rimg *m);

/*
 * The earliest rule among the entries keyed `key` in the names (cidr
 * false) or cidrs table whose kind is in `kinds` (a mask of 1 << kind)
 * and whose ports hold `port`: its index, RIMG_NONE or RIMG_BAD.
 */
uint32_t rimg_find(const struct rimg *m, bool cidr, const uint8_t *key,
		   size_t klen, unsigned kinds, uint16_t port);

/* The earliest "*" rule for this port, RIMG_NONE or RIMG_BAD. */
uint32_t rimg_any(const struct rimg *m, uint16_t port);

/*
 * Rule i's record as a cfg_rule (text pointing into the image, no
 * destinations): 0, or -EINVAL when there is none or it does not check
 * out against the config's proxies and groups.
 */
int rimg_rule(const struct rimg *m, uint32_t i, const struct config *cfg,
	      struct cfg_rule *out);

/* The CIDR key: family (4 or 6), prefix and the masked address. */
void rimg_cidr_key(uint8_t *k, int family, int prefix, const uint8_t *addr);

#endif
