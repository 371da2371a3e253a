/*
 * peer_ask.h - getpeername of a socket the library has no record of,
 * when it may be an https proxy's tunnel made by another process of the
 * session (src/shim/peer_ask.c).
 */
#ifndef PROXYWRAP_PEER_ASK_H
#define PROXYWRAP_PEER_ASK_H

#include <sys/socket.h>

/* getpeername(2) for an fd without an fd-table entry, in a session with
 * a TLS relay: the kernel's answer, or the tunnel's destination when the
 * kernel's peer is the relay (then remembered for fd).  sa and len are
 * not NULL, *len is readable. */
int peer_ask_getpeername(int fd, struct sockaddr *sa, socklen_t *len);

#endif
