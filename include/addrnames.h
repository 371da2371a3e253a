/*
 * addrnames.h - which name an address came from, for names this process
 * resolved locally.
 *
 * A rule on a name ("direct .lan.example") must still decide when the
 * application connects to the name's address: connect() asks here, and
 * then takes whichever of the name's rule and the address's rule comes
 * first in the file.  Per process (inherited by fork), bounded: the
 * oldest entries are overwritten.
 */
#ifndef PROXYWRAP_ADDRNAMES_H
#define PROXYWRAP_ADDRNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Remember that addr (4 or 16 bytes by family) is an answer for name. */
void anames_put(int family, const uint8_t *addr, const char *name);

/* The name addr was last an answer for; false when unknown. */
bool anames_get(int family, const uint8_t *addr, char *name, size_t n);

/*
 * False when addr surely has no name here; true when it may (then ask
 * anames_get).  No lock: a put racing it is taken as after it.
 */
bool anames_maybe(int family, const uint8_t *addr);

/* Bumped by every anames_put: a decision that read the map is stale
 * once this changed.  Read inline: the direct paths' memos ask on every
 * call. */
extern unsigned int anames_generation;

static inline unsigned int
anames_gen(void)
{
	return __atomic_load_n(&anames_generation, __ATOMIC_ACQUIRE);
}

#endif
