#include "core/id.h"

#include <openssl/evp.h>
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

void id_from_text(const char *text, char out[ID_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL))
        memset(md, 0, sizeof md); /* cannot happen with the default provider */
    encode(md, out);
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
