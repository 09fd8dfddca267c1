/* disposition.c: the suggested file name in a Content-Disposition value
 * (RFC 6266), with RFC 8187 ext-values. See disposition.h. */
#include "util/disposition.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Value of a hex digit, or -1. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Decodes an RFC 8187 ext-value (charset'lang'pct-encoded, the part up to
 * len) into out as UTF-8. Returns 0, or -1 (unknown charset, malformed). */
static int decode_ext_value(const char *v, size_t len, char *out, size_t outsz)
{
    const char *end = v + len;
    const char *q1 = memchr(v, '\'', len);
    if (!q1)
        return -1;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1));
    if (!q2)
        return -1;
    size_t cslen = (size_t)(q1 - v);
    int latin1;
    if (cslen == 5 && strncasecmp(v, "utf-8", 5) == 0)
        latin1 = 0;
    else if (cslen == 10 && strncasecmp(v, "iso-8859-1", 10) == 0)
        latin1 = 1;
    else
        return -1;
    size_t o = 0;
    for (const char *p = q2 + 1; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi, lo;
            if (end - p < 3)
                return -1;
            if ((hi = hexval((unsigned char)p[1])) < 0 || (lo = hexval((unsigned char)p[2])) < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (latin1 && c >= 0x80) {
            if (o + 2 >= outsz)
                return -1;
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            if (o + 1 >= outsz)
                return -1;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o > 0 ? 0 : -1;
}

int disposition_filename(const char *value, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return -1;
    out[0] = '\0';
    if (!value)
        return -1;
    int have_plain = 0, have_ext = 0;
    char plain[1024];
    /* skip the disposition type */
    const char *p = value + strcspn(value, ";");
    while (*p) {
        p = skip_ws(p);
        if (*p == ';') {
            p++;
            continue;
        }
        /* parameter name */
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        p = skip_ws(p);
        if (*p != '=') {
            p += strcspn(p, ";");
            continue;
        }
        p = skip_ws(p + 1);
        /* parameter value: quoted-string or token (tolerating spaces) */
        char val[1024];
        size_t v = 0;
        int ok = 1;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (v < sizeof val - 1)
                    val[v++] = *p;
                else
                    ok = 0;
                p++;
            }
            if (*p == '"')
                p++;
            else
                ok = 0; /* unterminated */
        } else {
            const char *start = p;
            p += strcspn(p, ";");
            const char *e = p;
            while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - start) < sizeof val) {
                v = (size_t)(e - start);
                memcpy(val, start, v);
            } else {
                ok = 0;
            }
        }
        val[v] = '\0';
        if (!ok || v == 0)
            continue;
        if (nlen == 9 && strncasecmp(name, "filename*", 9) == 0) {
            if (!have_ext && decode_ext_value(val, v, out, outsz) == 0)
                have_ext = 1;
            else if (!have_ext)
                out[0] = '\0';
        } else if (nlen == 8 && strncasecmp(name, "filename", 8) == 0 && !have_plain) {
            memcpy(plain, val, v + 1);
            have_plain = 1;
        }
    }
    if (have_ext)
        return 0;
    if (have_plain && strlen(plain) < outsz) {
        memcpy(out, plain, strlen(plain) + 1);
        return 0;
    }
    out[0] = '\0';
    return -1;
}
