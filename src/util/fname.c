/* fname.c: safe file names from untrusted text. See fname.h.
 *
 * Sanitizing maps every input unit (a valid UTF-8 sequence, or one invalid
 * byte) to itself or to a single '_', so the cleaned text has exactly the
 * length of the input and the same '.' and ' ' bytes at the same places
 * ('.' and ' ' are never part of a multi-byte sequence). That lets us find
 * the kept range and the extension on the raw input and clean while
 * copying, with no temporary buffer and no limit on the input's length. */
#include "util/fname.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"

/* Longest extension kept, its dot included (".mp4" is 4). */
#define EXT_MAX 16

/* Longest decoded URL path segment fname_from_url looks at (URL_MAX). */
#define SEGMENT_MAX 8192

/* Length of the valid UTF-8 sequence at s (at most n bytes readable),
 * 1-4, or 0 when s does not start one (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation byte). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        len = 2, cp = c & 0x1Fu, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0Fu, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        len = 4, cp = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* True for the bytes that may not appear in a name on their own. */
static int forbidden_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '/' || c == '\\';
}

/* Appends the cleaned form of in[0..n) to out at *o, whole units only,
 * while *o stays <= limit. Returns the number of input bytes consumed. */
static size_t clean_copy(const char *in, size_t n, char *out, size_t *o, size_t limit)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < n) {
        size_t u = utf8_seq(s + i, n - i);
        if (u == 0 || (u == 1 && forbidden_byte(s[i]))) {
            if (*o + 1 > limit)
                break;
            out[(*o)++] = '_';
            i++;
        } else {
            if (*o + u > limit)
                break;
            memcpy(out + *o, s + i, u);
            *o += u;
            i += u;
        }
    }
    return i;
}

/* True when c is a byte stripped from both ends of a name. */
static int edge_byte(char c)
{
    return c == '.' || c == ' ';
}

/* Start of the extension of s[0..n) (its dot), or n when it has none:
 * .tar.gz/.tar.bz2/.tar.xz/.tar.zst, else the last dot when it is not the
 * first byte, is followed by 1 to EXT_MAX-1 bytes and by no space. */
static size_t ext_start(const char *s, size_t n)
{
    static const char *const doubles[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"};
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        size_t d = strlen(doubles[i]);
        if (n > d && strncasecmp(s + n - d, doubles[i], d) == 0)
            return n - d;
    }
    size_t dot = n;
    while (dot > 0 && s[dot - 1] != '.' && s[dot - 1] != ' ' && n - dot < EXT_MAX - 1)
        dot--;
    if (dot <= 1 || s[dot - 1] != '.' || dot == n)
        return n;
    return dot - 1;
}

/* Sanitizes in[0..len) into out (outsz >= FNAME_MAX + 1). Returns 0, or 1
 * when nothing was left and out is the fallback "download". */
static int sanitize_span(const char *in, size_t len, char *out)
{
    size_t a = 0, b = len;
    while (a < b && edge_byte(in[a]))
        a++;
    while (b > a && edge_byte(in[b - 1]))
        b--;
    if (a == b) {
        strcpy(out, "download");
        return 1;
    }
    const char *s = in + a;
    size_t n = b - a, o = 0;
    if (n <= FNAME_MAX) {
        clean_copy(s, n, out, &o, FNAME_MAX);
    } else {
        size_t e = ext_start(s, n);
        /* the stem, cut on a unit boundary, then the whole extension */
        clean_copy(s, e, out, &o, FNAME_MAX - (n - e));
        if (e < n)
            clean_copy(s + e, n - e, out, &o, FNAME_MAX);
        else
            while (o > 1 && edge_byte(out[o - 1])) /* the cut exposed an end */
                o--;
    }
    out[o] = '\0';
    return 0;
}

/* See fname.h. A NULL in counts as "" (so gives "download"). */
int fname_sanitize(const char *in, char *out, size_t outsz)
{
    if (!out || outsz < FNAME_MAX + 1) {
        if (out && outsz > 0)
            out[0] = '\0';
        return -1;
    }
    if (!in)
        in = "";
    sanitize_span(in, strlen(in), out);
    return 0;
}

/* Length of the "scheme://" that starts url (RFC 3986 scheme), or 0. */
static size_t scheme_len(const char *url)
{
    size_t i = 0;
    if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
        return 0;
    while ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
           (url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    return strncmp(url + i, "://", 3) == 0 ? i + 3 : 0;
}

/* Percent-decodes s[0..n) into out (room for cap bytes, no NUL written):
 * %XX becomes its byte (even %00), anything else is copied. Returns
 * the decoded length, or (size_t)-1 when it does not fit. */
static size_t pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char c = s[i];
        if (c == '%' && n - i >= 3 && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo); /* NUL too: sanitizing makes it '_' */
            i += 2;
        }
        if (o == cap)
            return (size_t)-1;
        out[o++] = c;
    }
    return o;
}

/* See fname.h. The URL must start with "scheme://"; a segment that
 * sanitizes to nothing (".", "..", "%20") is not usable either. */
int fname_from_url(const char *url, char *out, size_t outsz)
{
    if (!out || outsz < FNAME_MAX + 1) {
        if (out && outsz > 0)
            out[0] = '\0';
        return -1;
    }
    out[0] = '\0';
    if (!url)
        return -1;
    size_t sl = scheme_len(url);
    if (sl == 0)
        return -1;
    const char *path = url + sl + strcspn(url + sl, "/?#"); /* past the authority */
    const char *end = path + strcspn(path, "?#");
    while (end > path && end[-1] == '/')
        end--;
    const char *seg = end;
    while (seg > path && seg[-1] != '/')
        seg--;
    if (seg == end)
        return -1;
    char raw[SEGMENT_MAX];
    size_t r = pct_decode(seg, (size_t)(end - seg), raw, sizeof raw);
    if (r == (size_t)-1 || sanitize_span(raw, r, out) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* See fname.h. name should already be sanitized; an empty name has no
 * alternative. On -1, out is "". */
int fname_numbered(const char *name, unsigned n, char *out, size_t outsz)
{
    if (!out || outsz < FNAME_MAX + 1) {
        if (out && outsz > 0)
            out[0] = '\0';
        return -1;
    }
    out[0] = '\0';
    if (!name || !name[0])
        return -1;
    size_t len = strlen(name);
    size_t e = ext_start(name, len);
    char suffix[16];
    int sl = snprintf(suffix, sizeof suffix, " (%u)", n);
    if (sl < 0 || len - e + (size_t)sl >= FNAME_MAX)
        return -1;
    /* cut the stem on a UTF-8 boundary so that everything fits */
    size_t stem = e, room = FNAME_MAX - (size_t)sl - (len - e);
    if (stem > room) {
        stem = room;
        while (stem > 0 && ((unsigned char)name[stem] & 0xC0) == 0x80)
            stem--;
    }
    int w = snprintf(out, outsz, "%.*s%s%s", (int)stem, name, suffix, name + e);
    if (w < 0 || (size_t)w >= outsz) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
