#include "core/id.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static const char ALPHABET[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* Encodes the first 50 bits of bytes as ID_LEN base32 characters. */
static void encode(const unsigned char *bytes, char out[ID_LEN + 1])
{
    unsigned long long v = 0;
    for (int i = 0; i < 7; i++)
        v = (v << 8) | bytes[i];
    for (int i = 0; i < ID_LEN; i++)
        out[i] = ALPHABET[(v >> (51 - 5 * i)) & 31];
    out[ID_LEN] = '\0';
}

/* No crypto: ids name temp folders, and OpenSSL's digest machinery alone
 * would cost a download ~350 KiB of memory. */
uint64_t id_hash(const char *text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

void id_from_text(const char *text, char out[ID_LEN + 1])
{
    uint64_t h = id_hash(text);
    unsigned char bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(h >> (56 - 8 * i));
    encode(bytes, out);
}

int id_random(char out[ID_LEN + 1])
{
    unsigned char bytes[8];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return -1;
    encode(bytes, out);
    return 0;
}

bool id_valid(const char *s)
{
    if (!s || strlen(s) != ID_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr(ALPHABET, *p))
            return false;
    return true;
}
