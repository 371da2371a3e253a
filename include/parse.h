/*
 * parse.h - the contract every pure parser in proxywrap follows.
 *
 * A parser reads p[0..len) and nothing else; network bytes are never assumed
 * to be NUL-terminated.  It returns:
 *   PARSE_OK   the message is complete; *used is exactly its length and the
 *              bytes after it belong to somebody else (the application);
 *   PARSE_MORE the message is incomplete; *need is the fewest extra bytes
 *              that could help (at least 1);
 *   PARSE_ERR  the bytes cannot be a valid message.
 */
#ifndef PROXYWRAP_PARSE_H
#define PROXYWRAP_PARSE_H

enum parse_rc {
	PARSE_OK = 0,	/* complete message, *used set */
	PARSE_MORE = 1,	/* need more bytes, *need set */
	PARSE_ERR = -1,	/* malformed */
};

#endif
