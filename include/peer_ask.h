/*
 * peer_ask.h - getpeername of a socket the library has no record of,
 * when it may be an https proxy's tunnel made by another process of the
 * session (src/shim/peer_ask.c).
 */
#ifndef PROXYWRAP_PEER_ASK_H
#define PROXYWRAP_PEER_ASK_H

#include <sys/socket.h>

/*
 * fd has no fd-table entry, in a session with a TLS relay: when its
 * kernel peer is the relay, its tunnel's destination (getpeername's
 * form) into *dest, and fd gets an entry that remembers it.  Its length,
 * or 0 (another socket, or nobody knows).  errno is kept.
 */
socklen_t peer_ask(int fd, struct sockaddr_storage *dest);

#endif
