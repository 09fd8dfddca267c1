/* id: job identifiers, 10 characters of lowercase Crockford base32
 * ("k3v9q2m7xw"): short enough to type, safe in paths and URLs. */
#ifndef HAUL_CORE_ID_H
#define HAUL_CORE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_LEN 10

/* A 64-bit hash of text (FNV-1a, then splitmix64's finalizer so every bit
 * mixes): ids from text, and hash tables keyed by id. */
uint64_t id_hash(const char *text);

/* A stable id derived from text (a 64-bit hash of it): the same text always
 * gives the same id. out must hold ID_LEN + 1 bytes. */
void id_from_text(const char *text, char out[ID_LEN + 1]);

/* A random id from the system's CSPRNG. Returns 0, or -1 when no random
 * bytes could be read. */
int id_random(char out[ID_LEN + 1]);

/* True when s is a well-formed id (length and alphabet). */
bool id_valid(const char *s);

#endif
