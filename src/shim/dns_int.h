/*
 * dns_int.h - what dns.c (the lookups) takes from dns_sock.c (the
 * sockets c-ares opens).
 */
#ifndef PROXYWRAP_DNS_INT_H
#define PROXYWRAP_DNS_INT_H

#include <ares.h>

#include "dns.h"

/* Referenced, not copied, by c-ares (and by ares_dup): one static table. */
extern const struct ares_socket_functions dns_sock_funcs;

/* In a forked child: close every socket c-ares had open. */
void dns_sock_close_all(void);

#endif
