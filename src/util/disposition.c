/* disposition.c: the suggested file name in a Content-Disposition value
 * (RFC 6266), with RFC 8187 ext-values. See disposition.h.
 *
 * The parser only records where the values of the first usable filename*
 * and filename parameters are (spans into the input); the chosen one is
 * decoded into the caller's buffer at the end. Nothing is copied on the
 * way, so there is no length limit and no intermediate buffer. */
#include "util/disposition.h"

#include <string.h>
#include <strings.h>

#include "util/hex.h"

/* A parameter value inside the header: the bytes between the quotes for a
 * quoted-string (escapes still in), else the token. */
typedef struct {
    const char *p;
    size_t n;
    int quoted;
} span_t;

/* A bounded output: bytes past cap - 1 are counted but not written. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} sink_t;

/* Appends c to s (or only counts it when it does not fit). */
static void put(sink_t *s, char c)
{
    if (s->buf && s->len + 1 < s->cap)
        s->buf[s->len] = c;
    s->len++;
}

/* NUL-terminates what fits of s. Returns 0 when all of it fitted, else -1. */
static int finish(sink_t *s)
{
    if (!s->buf || s->cap == 0)
        return -1;
    s->buf[s->len < s->cap ? s->len : s->cap - 1] = '\0';
    return s->len < s->cap ? 0 : -1;
}

/* True for the blanks tolerated around names, '=', values and ';'. */
static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* p past any blanks. */
static const char *skip_blanks(const char *p)
{
    while (blank(*p))
        p++;
    return p;
}

/* Reads the value at *p (a quoted-string, or everything up to the next ';'
 * with trailing blanks cut, which tolerates unquoted names with spaces)
 * into v and moves *p past it. Returns 0, or -1 for an unterminated
 * quoted-string (then *p is at the end of the input). */
static int read_value(const char **p, span_t *v)
{
    const char *s = *p;
    if (*s == '"') {
        const char *q = s + 1;
        while (*q && *q != '"') {
            if (*q == '\\' && q[1])
                q++;
            q++;
        }
        if (*q != '"') {
            *p = q;
            return -1;
        }
        *v = (span_t){s + 1, (size_t)(q - s - 1), 1};
        *p = q + 1;
        return 0;
    }
    const char *e = s + strcspn(s, ";");
    *p = e;
    while (e > s && blank(e[-1]))
        e--;
    *v = (span_t){s, (size_t)(e - s), 0};
    return 0;
}

/* Writes v with its quoted-pair escapes undone into out. Returns 0. */
static int decode_plain(span_t v, sink_t *out)
{
    for (size_t i = 0; i < v.n; i++) {
        /* inside a terminated quoted-string a backslash is never last */
        if (v.quoted && v.p[i] == '\\' && i + 1 < v.n)
            i++;
        put(out, v.p[i]);
    }
    return 0;
}

/* Incremental UTF-8 check: need = continuation bytes still expected. */
typedef struct {
    unsigned need, cp, min;
} utf8_state_t;

/* Feeds byte c to st. Returns 0, or -1 when the text is not valid UTF-8. */
static int utf8_feed(utf8_state_t *st, unsigned char c)
{
    if (st->need == 0) {
        if (c < 0x80)
            return 0;
        if ((c & 0xE0) == 0xC0)
            *st = (utf8_state_t){1, c & 0x1Fu, 0x80};
        else if ((c & 0xF0) == 0xE0)
            *st = (utf8_state_t){2, c & 0x0Fu, 0x800};
        else if ((c & 0xF8) == 0xF0)
            *st = (utf8_state_t){3, c & 0x07u, 0x10000};
        else
            return -1;
        return 0;
    }
    if ((c & 0xC0) != 0x80)
        return -1;
    st->cp = (st->cp << 6) | (c & 0x3Fu);
    if (--st->need == 0 &&
        (st->cp < st->min || st->cp > 0x10FFFF || (st->cp >= 0xD800 && st->cp <= 0xDFFF)))
        return -1;
    return 0;
}

/* Decodes an RFC 8187 ext-value (charset'language'pct-encoded) into out as
 * UTF-8. Charsets: UTF-8 (must decode to valid UTF-8) and ISO-8859-1
 * (converted). Returns 0, or -1 when unsupported, malformed (bad or
 * truncated %XX, %00, missing quotes) or empty. */
static int decode_ext(span_t v, sink_t *out)
{
    if (v.quoted && memchr(v.p, '\\', v.n)) /* tolerated quotes, but no escapes */
        return -1;
    const char *end = v.p + v.n;
    const char *q1 = memchr(v.p, '\'', v.n);
    if (!q1)
        return -1;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1));
    if (!q2)
        return -1;
    size_t cslen = (size_t)(q1 - v.p);
    int latin1;
    if (cslen == 5 && strncasecmp(v.p, "UTF-8", 5) == 0)
        latin1 = 0;
    else if (cslen == 10 && strncasecmp(v.p, "ISO-8859-1", 10) == 0)
        latin1 = 1;
    else
        return -1;
    utf8_state_t st = {0, 0, 0};
    size_t start = out->len;
    for (const char *p = q2 + 1; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi, lo;
            if (end - p < 3 || (hi = hexval((unsigned char)p[1])) < 0 ||
                (lo = hexval((unsigned char)p[2])) < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
            if (c == 0)
                return -1;
        }
        if (latin1 && c >= 0x80) {
            put(out, (char)(0xC0 | (c >> 6)));
            put(out, (char)(0x80 | (c & 0x3F)));
        } else {
            if (!latin1 && utf8_feed(&st, c) != 0)
                return -1;
            put(out, (char)c);
        }
    }
    if (st.need != 0)
        return -1;
    return out->len > start ? 0 : -1;
}

/* True when the text before the first ';' is a parameter, not a type:
 * tolerates values that leave the disposition type out. */
static int starts_with_param(const char *value)
{
    size_t n = strcspn(value, ";");
    const char *eq = memchr(value, '=', n);
    return eq != NULL;
}

/* True when name[0..n) is want, ignoring case. */
static int name_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* See disposition.h. */
int disposition_filename(const char *value, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return -1;
    out[0] = '\0';
    if (!value)
        return -1;
    span_t ext = {NULL, 0, 0}, plain = {NULL, 0, 0};
    const char *p = value;
    if (!starts_with_param(value))
        p += strcspn(value, ";"); /* the disposition type, whatever it is */
    while (*p) {
        p = skip_blanks(p);
        if (*p == ';') {
            p++;
            continue;
        }
        if (!*p)
            break;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && !blank(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        p = skip_blanks(p);
        if (*p != '=') { /* not a parameter: skip it */
            p += strcspn(p, ";");
            continue;
        }
        p = skip_blanks(p + 1);
        span_t v;
        if (read_value(&p, &v) != 0)
            break; /* unterminated quote: the rest is its body */
        if (name_is(name, nlen, "filename*") && !ext.p) {
            sink_t probe = {NULL, 0, 0};
            if (decode_ext(v, &probe) == 0)
                ext = v;
        } else if (name_is(name, nlen, "filename") && !plain.p && v.n > 0) {
            plain = v;
        }
    }
    sink_t s = {out, outsz, 0};
    if (ext.p)
        decode_ext(ext, &s);
    else if (plain.p)
        decode_plain(plain, &s);
    else
        return -1;
    if (finish(&s) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
