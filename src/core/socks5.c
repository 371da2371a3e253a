/*
 * socks5.c - SOCKS5 (RFC 1928) and username/password authentication
 * (RFC 1929) as pure builders and parsers.  Nothing here touches a socket:
 * tunnel.c writes what the builders produce and reads exactly as many bytes
 * as the parsers ask for, so the bytes after a reply stay in the kernel for
 * the application.
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "socks5.h"

/* Bytes of a reply that fix its length: VER REP RSV ATYP + one more. */
#define SOCKS5_REPLY_HEAD 5

/*
 * Length of the address field for atyp, given the byte after ATYP (only
 * used for names, where it is the length octet).  0 for an unknown ATYP.
 */
static size_t
addr_len(uint8_t atyp, uint8_t first)
{
	switch (atyp) {
	case SOCKS5_ATYP_V4:
		return 4;
	case SOCKS5_ATYP_V6:
		return 16;
	case SOCKS5_ATYP_NAME:
		return 1 + (size_t)first;
	default:
		return 0;
	}
}

/* Write ATYP ADDR PORT for a; -EINVAL when a cannot be put on the wire. */
static int
write_addr(struct bufw *w, const struct socks5_addr *a)
{
	size_t n;

	switch (a->atyp) {
	case SOCKS5_ATYP_V4:
		bufw_u8(w, SOCKS5_ATYP_V4);
		bufw_bytes(w, a->addr, 4);
		break;
	case SOCKS5_ATYP_V6:
		bufw_u8(w, SOCKS5_ATYP_V6);
		bufw_bytes(w, a->addr, 16);
		break;
	case SOCKS5_ATYP_NAME:
		/*
		 * RFC 1928 §5: one length octet, no terminating NUL.  An
		 * unterminated name array counts as too long.
		 */
		n = strnlen(a->name, sizeof(a->name));
		if (n == 0 || n > SOCKS5_NAME_MAX)
			return -EINVAL;
		bufw_u8(w, SOCKS5_ATYP_NAME);
		bufw_u8(w, (uint8_t)n);
		bufw_bytes(w, a->name, n);
		break;
	default:
		return -EINVAL;
	}
	bufw_be16(w, a->port);
	return 0;
}

/*
 * Read ATYP ADDR PORT into a.  The caller has checked that the bytes are
 * there, so a short read here is a malformed message.  A name holding a
 * NUL cannot be represented as a C string and is rejected.
 */
static int
read_addr(struct bufr *b, struct socks5_addr *a)
{
	uint8_t atyp, nlen;

	memset(a, 0, sizeof(*a));
	if (!bufr_u8(b, &atyp))
		return PARSE_ERR;
	switch (atyp) {
	case SOCKS5_ATYP_V4:
		if (!bufr_bytes(b, a->addr, 4))
			return PARSE_ERR;
		break;
	case SOCKS5_ATYP_V6:
		if (!bufr_bytes(b, a->addr, 16))
			return PARSE_ERR;
		break;
	case SOCKS5_ATYP_NAME:
		if (!bufr_u8(b, &nlen) || !bufr_bytes(b, a->name, nlen))
			return PARSE_ERR;
		a->name[nlen] = '\0';
		if (strlen(a->name) != nlen)
			return PARSE_ERR;
		break;
	default:
		return PARSE_ERR;
	}
	a->atyp = (enum socks5_atyp)atyp;
	if (!bufr_be16(b, &a->port))
		return PARSE_ERR;
	return PARSE_OK;
}

int
socks5_build_greeting(uint8_t *buf, size_t n, bool auth)
{
	struct bufw w;

	/* RFC 1928 §3: VER NMETHODS METHODS. */
	bufw_init(&w, buf, n);
	bufw_u8(&w, SOCKS5_VER);
	bufw_u8(&w, auth ? 2 : 1);
	bufw_u8(&w, SOCKS5_M_NONE);
	if (auth)
		bufw_u8(&w, SOCKS5_M_USERPASS);
	return bufw_result(&w);
}

int
socks5_build_greeting_one(uint8_t *buf, size_t n, enum socks5_method m)
{
	struct bufw w;

	/* One method only: the server's choice is then known in advance,
	 * which is what lets a client send the next messages at once. */
	bufw_init(&w, buf, n);
	bufw_u8(&w, SOCKS5_VER);
	bufw_u8(&w, 1);
	bufw_u8(&w, (uint8_t)m);
	return bufw_result(&w);
}

int
socks5_build_auth(uint8_t *buf, size_t n, const char *user, const char *pass)
{
	struct bufw w;
	size_t ulen, plen;

	if (user == NULL || pass == NULL)
		return -EINVAL;
	/*
	 * RFC 1929 §2 says 1..255 for both, but empty passwords are common
	 * in practice (curl sends them), so only the upper bound is enforced.
	 */
	ulen = strnlen(user, SOCKS5_CRED_MAX + 1);
	plen = strnlen(pass, SOCKS5_CRED_MAX + 1);
	if (ulen > SOCKS5_CRED_MAX || plen > SOCKS5_CRED_MAX)
		return -EINVAL;
	/* VER ULEN UNAME PLEN PASSWD */
	bufw_init(&w, buf, n);
	bufw_u8(&w, SOCKS5_AUTH_VER);
	bufw_u8(&w, (uint8_t)ulen);
	bufw_bytes(&w, user, ulen);
	bufw_u8(&w, (uint8_t)plen);
	bufw_bytes(&w, pass, plen);
	return bufw_result(&w);
}

int
socks5_build_request(uint8_t *buf, size_t n, enum socks5_cmd cmd,
		     const struct socks5_addr *dst)
{
	struct bufw w;
	int rc;

	if (cmd != SOCKS5_CMD_CONNECT && cmd != SOCKS5_CMD_BIND &&
	    cmd != SOCKS5_CMD_UDP)
		return -EINVAL;
	/* RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT */
	bufw_init(&w, buf, n);
	bufw_u8(&w, SOCKS5_VER);
	bufw_u8(&w, (uint8_t)cmd);
	bufw_u8(&w, 0x00);
	rc = write_addr(&w, dst);
	if (rc < 0)
		return rc;
	return bufw_result(&w);
}

/*
 * Method selection reply (RFC 1928 §3):
 *
 *   +-----+--------+
 *   | VER | METHOD |
 *   +-----+--------+
 *   |  1  |   1    |
 *   +-----+--------+
 *
 * VER must be 5.  METHOD is passed back as read; 0xff (no acceptable
 * method) is the caller's to turn into an error.
 */
int
socks5_parse_method(const uint8_t *p, size_t len, size_t *used,
		    size_t *need, uint8_t *method)
{
	struct bufr b;
	uint8_t ver;

	bufr_init(&b, p, len);
	if (!bufr_u8(&b, &ver)) {
		*need = 2;
		return PARSE_MORE;
	}
	if (ver != SOCKS5_VER)
		return PARSE_ERR;
	if (!bufr_u8(&b, method)) {
		*need = 1;
		return PARSE_MORE;
	}
	*used = b.off;
	return PARSE_OK;
}

/*
 * Username/password status (RFC 1929 §2):
 *
 *   +-----+--------+
 *   | VER | STATUS |
 *   +-----+--------+
 *   |  1  |   1    |
 *   +-----+--------+
 *
 * VER is the subnegotiation version 0x01.  Some broken servers answer with
 * the SOCKS version 0x05 instead; the status byte is still meaningful, so
 * that is accepted too.  STATUS 0 is success, anything else failure.
 */
int
socks5_parse_auth(const uint8_t *p, size_t len, size_t *used, size_t *need,
		  bool *ok)
{
	struct bufr b;
	uint8_t ver, status;

	bufr_init(&b, p, len);
	if (!bufr_u8(&b, &ver)) {
		*need = 2;
		return PARSE_MORE;
	}
	if (ver != SOCKS5_AUTH_VER && ver != SOCKS5_VER)
		return PARSE_ERR;
	if (!bufr_u8(&b, &status)) {
		*need = 1;
		return PARSE_MORE;
	}
	*ok = status == 0x00;
	*used = b.off;
	return PARSE_OK;
}

/*
 * Request reply (RFC 1928 §6):
 *
 *   +-----+-----+-------+------+----------+----------+
 *   | VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 *   +-----+-----+-------+------+----------+----------+
 *   |  1  |  1  | X'00' |  1   | Variable |    2     |
 *   +-----+-----+-------+------+----------+----------+
 *
 * BND.ADDR is 4 bytes (ATYP 1), 16 bytes (ATYP 4), or a length octet and
 * that many bytes (ATYP 3).  The shortest reply is 7 bytes (an empty name),
 * an IPv4 one is 10; the first 5 bytes fix the length, so they are asked
 * for first and then exactly the rest.  Asking for more up front could swallow
 * the first bytes the server sends through the tunnel (microsocks #105).
 * RSV is ignored: some servers do not zero it and it carries nothing.
 * VER and ATYP are judged as soon as they arrive; a name holding a NUL
 * cannot be a C string and is PARSE_ERR.
 * A failure REP still comes with an address, which is read like any other.
 */
int
socks5_parse_reply(const uint8_t *p, size_t len, size_t *used, size_t *need,
		   struct socks5_reply *r)
{
	struct bufr b;
	uint8_t ver, rsv;
	size_t alen, total;

	/* Reject what can already be judged, before waiting for more. */
	if (len >= 1 && p[0] != SOCKS5_VER)
		return PARSE_ERR;
	if (len >= 4 && addr_len(p[3], 0) == 0)
		return PARSE_ERR;
	if (len < SOCKS5_REPLY_HEAD) {
		*need = SOCKS5_REPLY_HEAD - len;
		return PARSE_MORE;
	}
	alen = addr_len(p[3], p[4]);
	total = 4 + alen + 2;
	if (len < total) {
		*need = total - len;
		return PARSE_MORE;
	}

	bufr_init(&b, p, total);
	if (!bufr_u8(&b, &ver) || !bufr_u8(&b, &r->rep) ||
	    !bufr_u8(&b, &rsv))
		return PARSE_ERR;
	if (read_addr(&b, &r->bnd) != PARSE_OK)
		return PARSE_ERR;
	*used = b.off;
	return PARSE_OK;
}

/*
 * UDP request header (RFC 1928 §7), in front of every datagram:
 *
 *   +-----+------+------+----------+----------+----------+
 *   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   +-----+------+------+----------+----------+----------+
 *   |  2  |  1   |  1   | Variable |    2     | Variable |
 *   +-----+------+------+----------+----------+----------+
 */
int
socks5_build_udp_header(uint8_t *buf, size_t n, const struct socks5_addr *dst)
{
	struct bufw w;
	int rc;

	bufw_init(&w, buf, n);
	bufw_be16(&w, 0x0000);
	bufw_u8(&w, 0x00);
	rc = write_addr(&w, dst);
	if (rc < 0)
		return rc;
	return bufw_result(&w);
}

int
socks5_parse_udp_header(const uint8_t *p, size_t len, size_t *hdrlen,
			uint8_t *frag, struct socks5_addr *src)
{
	struct bufr b;
	uint16_t rsv;

	/* One datagram is one message: short means malformed, not MORE. */
	bufr_init(&b, p, len);
	if (!bufr_be16(&b, &rsv) || !bufr_u8(&b, frag))
		return PARSE_ERR;
	if (read_addr(&b, src) != PARSE_OK)
		return PARSE_ERR;
	/* a datagram from nowhere cannot be handed to anyone */
	if (src->atyp == SOCKS5_ATYP_NAME && src->name[0] == '\0')
		return PARSE_ERR;
	*hdrlen = b.off;
	return PARSE_OK;
}

static const char *const rep_text[] = {
	[SOCKS5_REP_OK] = "succeeded",
	[SOCKS5_REP_FAIL] = "general SOCKS server failure",
	[SOCKS5_REP_RULESET] = "connection not allowed by ruleset",
	[SOCKS5_REP_NETUNREACH] = "network unreachable",
	[SOCKS5_REP_HOSTUNREACH] = "host unreachable",
	[SOCKS5_REP_REFUSED] = "connection refused",
	[SOCKS5_REP_TTL] = "TTL expired",
	[SOCKS5_REP_CMD] = "command not supported",
	[SOCKS5_REP_ATYP] = "address type not supported",
};

const char *
socks5_rep_str(uint8_t rep)
{
	if (rep >= sizeof(rep_text) / sizeof(rep_text[0]))
		return "unknown reply code";
	return rep_text[rep];
}
