/* fname.c: safe file names from untrusted text. See fname.h. */
#include "util/fname.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Largest length <= max that does not split a UTF-8 sequence of s. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int fname_sanitize(const char *in, char *out, size_t outsz)
{
    if (outsz < FNAME_MAX + 1)
        return -1;
    /* 1. replace what may not appear, keeping valid UTF-8 as it is */
    char tmp[4 * 1024];
    size_t t = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p && t < sizeof tmp - 5) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            tmp[t++] = '_';
            p++;
        } else if (n == 1 && (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')) {
            tmp[t++] = '_';
            p++;
        } else {
            memcpy(tmp + t, p, n);
            t += n;
            p += n;
        }
    }
    tmp[t] = '\0';
    /* 2. no leading dots or spaces, no trailing dots or spaces */
    char *s = tmp;
    while (*s == '.' || *s == ' ')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ' '))
        s[--len] = '\0';
    if (len == 0) {
        snprintf(out, outsz, "download");
        return 0;
    }
    /* 3. at most FNAME_MAX bytes, keeping a short extension */
    if (len > FNAME_MAX) {
        const char *dot = strrchr(s, '.');
        size_t ext = dot ? len - (size_t)(dot - s) : 0;
        if (ext > 16 || ext >= FNAME_MAX / 2)
            ext = 0;
        size_t stem = utf8_cut(s, len - ext, FNAME_MAX - ext);
        memmove(s + stem, s + len - ext, ext);
        len = stem + ext;
        s[len] = '\0';
    }
    memcpy(out, s, len + 1);
    return 0;
}

/* Value of a hex digit, or -1. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int fname_from_url(const char *url, char *out, size_t outsz)
{
    if (outsz > 0)
        out[0] = '\0';
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p = p + strcspn(p, "/?#"); /* skip the authority */
    if (*p != '/')
        return -1;
    size_t plen = strcspn(p, "?#");
    /* the last non-empty segment */
    const char *end = p + plen;
    while (end > p && end[-1] == '/')
        end--;
    const char *seg = end;
    while (seg > p && seg[-1] != '/')
        seg--;
    if (seg == end)
        return -1;
    char raw[1024];
    size_t r = 0;
    for (const char *q = seg; q < end && r < sizeof raw - 1; q++) {
        int hi, lo;
        if (*q == '%' && q + 2 < end &&
            (hi = hexval((unsigned char)q[1])) >= 0 && (lo = hexval((unsigned char)q[2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            raw[r++] = c ? c : '_';
            q += 2;
        } else {
            raw[r++] = *q;
        }
    }
    raw[r] = '\0';
    if (fname_sanitize(raw, out, outsz) != 0)
        return -1;
    return 0;
}

/* Where the extension of name starts (its dot), or NULL. */
static const char *extension(const char *name)
{
    static const char *doubles[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        size_t n = strlen(doubles[i]);
        if (len > n && strcasecmp(name + len - n, doubles[i]) == 0)
            return name + len - n;
    }
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || strlen(dot) > 17)
        return NULL;
    return dot;
}

int fname_numbered(const char *name, unsigned n, char *out, size_t outsz)
{
    if (outsz < FNAME_MAX + 1)
        return -1;
    const char *ext = extension(name);
    size_t stem = ext ? (size_t)(ext - name) : strlen(name);
    const char *e = ext ? ext : "";
    char suffix[24];
    int sl = snprintf(suffix, sizeof suffix, " (%u)", n);
    size_t room = FNAME_MAX - (size_t)sl - strlen(e);
    stem = utf8_cut(name, stem, room);
    int w = snprintf(out, outsz, "%.*s%s%s", (int)stem, name, suffix, e);
    return w > 0 && (size_t)w < outsz ? 0 : -1;
}
