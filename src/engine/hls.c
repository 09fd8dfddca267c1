/* hls.c: HLS playlists (RFC 8216) into plain structs. See hls.h.
 *
 * DESIGN
 * Two passes over the text. The first only looks at line lengths, NUL
 * bytes and the number of URI lines, so a playlist past the caps is turned
 * away before anything is allocated or resolved. The second copies one
 * line at a time into a buffer it may cut up (attribute lists are split in
 * place: names and values become C strings inside the line), and keeps
 * "pending" state for the URI line that closes a segment (EXTINF,
 * EXT-X-BYTERANGE, EXT-X-DISCONTINUITY) or a variant (EXT-X-STREAM-INF).
 * Keys and maps are appended to their arrays as they come and segments
 * point at the current ones by index. Media sequence numbers are assigned
 * at the end (EXT-X-MEDIA-SEQUENCE + position).
 *
 * Several EXT-X-KEY tags in a row (no segment between) are alternatives
 * for the same segments (RFC 8216 4.3.2.4, one per KEYFORMAT): an identity
 * one (METHOD=NONE or AES-128 without KEYFORMAT) is preferred, so a stream
 * that offers both clear AES-128 and a DRM key stays downloadable; else the
 * last one applies.
 *
 * Numbers are parsed by hand (no strtod: locale-independent, and no "inf",
 * "nan" or hex floats from untrusted text). Allocation failure aborts. */
#include "engine/hls.h"

#include <curl/curl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"

/* ---- small helpers ---------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* arr (n elements used, *cap allocated) with room for one more: doubles
 * the allocation when full. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *a = realloc(arr, ncap * elem);
    if (!a)
        abort();
    *cap = ncap;
    return a;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses a whole string of decimal digits (at least one) that fits in
 * uint64_t. Returns 0 or -1. */
static int parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* Parses a non-negative decimal "digits[.digits]" (".5" and "5." too) at
 * s; *end is set past it. Returns 0, or -1 when there is no digit or the
 * value is not finite. */
static int parse_decimal(const char *s, const char **end, double *v)
{
    double x = 0, scale = 1;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        x = x * 10 + (*s - '0');
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            scale /= 10;
            x += (*s - '0') * scale;
        }
    }
    if (!digits || !isfinite(x))
        return -1;
    *end = s;
    *v = x;
    return 0;
}

/* parse_decimal over the whole string. */
static int parse_decimal_all(const char *s, double *v)
{
    const char *end;
    return parse_decimal(s, &end, v) == 0 && !*end ? 0 : -1;
}

/* Case-insensitive search for needle in the first n bytes of s. */
static int has_word(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

/* ---- the parser ------------------------------------------------------- */

typedef struct attr {
    const char *name;
    const char *value;
} attr_t;

typedef struct parser {
    const char *base_url;
    CURLU *base;
    hls_playlist_t *pl;
    haul_error_t *err;
    size_t line;                 /* number of the line being parsed */
    const char *tag;             /* the tag being parsed, for messages */
    size_t cap_variants, cap_renditions, cap_segments, cap_keys, cap_maps;
    attr_t *attrs;               /* the current tag's attribute list */
    size_t nattrs, cap_attrs;

    /* What the next URI line closes. */
    int have_inf;                /* EXTINF */
    size_t inf_line;
    double inf_duration;
    char *inf_title;
    int have_range;              /* EXT-X-BYTERANGE */
    size_t range_line;
    int64_t range_length, range_offset; /* offset -1: continues */
    int discontinuity;
    int have_stream;             /* EXT-X-STREAM-INF */
    size_t stream_line;
    hls_variant_t stream;        /* its strings are owned here until used */

    int key;                     /* current key, -1 = clear */
    int key_group_open;          /* an EXT-X-KEY since the last segment */
    int key_group_identity;      /* ... and the group has an identity key */
    int map;                     /* current map, -1 = none */
    size_t master_line;          /* first master-only tag, 0 = none */
    size_t media_line;           /* first EXTINF, 0 = none */
} parser_t;

/* A malformed playlist, at line `line`. Returns -1. */
__attribute__((format(printf, 3, 4)))
static int bad_at(parser_t *p, size_t line, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return herr_set(p->err, "hls_bad_playlist", false,
                    "the HLS playlist %.200s is broken at line %zu: %s",
                    p->base_url, line, what);
}

#define bad(p, ...) bad_at((p), (p)->line, __VA_ARGS__)

/* Resolves ref against the playlist's URL into a new string in *out.
 * Returns CURLUE_OK, CURLUE_UNSUPPORTED_SCHEME for anything but http(s)
 * (file://, ftp://, ...), or libcurl's reason; sets no error. */
static CURLUcode resolve(parser_t *p, const char *ref, char **out)
{
    *out = NULL;
    CURLU *u = curl_url_dup(p->base);
    if (!u)
        abort();
    char *s = NULL, *scheme = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, ref, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK && strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        uc = CURLUE_UNSUPPORTED_SCHEME;
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_URL, &s, 0);
    if (uc == CURLUE_OK)
        *out = xstrdup(s);
    curl_free(scheme);
    curl_free(s);
    curl_url_cleanup(u);
    return uc;
}

/* resolve(), with an error naming the URI when it fails. Returns 0 or -1. */
static int resolve_or_fail(parser_t *p, const char *ref, char **out)
{
    CURLUcode uc = resolve(p, ref, out);
    if (uc == CURLUE_UNSUPPORTED_SCHEME)
        return bad(p, "the URI \"%.120s\" is not an http:// or https:// URL; haul fetches "
                      "only those", ref);
    if (uc != CURLUE_OK)
        return bad(p, "the URI \"%.120s\" cannot be resolved against the playlist's URL (%s)",
                   ref, curl_url_strerror(uc));
    return 0;
}

/* Splits the attribute list s (modified in place) into p->attrs:
 * NAME=value or NAME="quoted, with commas", separated by commas. */
static int parse_attrs(parser_t *p, char *s)
{
    p->nattrs = 0;
    if (!s)
        return bad(p, "%s has no attributes", p->tag);
    for (;;) {
        while (blank(*s))
            s++;
        if (!*s)
            break;
        char *name = s;
        while (*s && *s != '=' && *s != ',' && *s != '"')
            s++;
        if (*s != '=')
            return bad(p, "%s has an attribute without a value (\"%.40s\")", p->tag, name);
        char *name_end = s++;
        while (name_end > name && blank(name_end[-1]))
            name_end--;
        if (name_end == name)
            return bad(p, "%s has an attribute without a name", p->tag);
        *name_end = '\0';
        while (blank(*s))
            s++;
        char *value;
        if (*s == '"') {
            value = ++s;
            char *q = strchr(s, '"');
            if (!q)
                return bad(p, "%s has a quoted value of %s without its closing quote",
                           p->tag, name);
            *q = '\0';
            s = q + 1;
            while (blank(*s))
                s++;
            if (*s && *s != ',')
                return bad(p, "%s has text after the quoted value of %s", p->tag, name);
            if (*s)
                s++;
        } else {
            value = s;
            while (*s && *s != ',')
                s++;
            char *value_end = s;
            if (*s)
                s++;
            while (value_end > value && blank(value_end[-1]))
                value_end--;
            if (value_end == value)
                return bad(p, "%s has an empty value for %s", p->tag, name);
            *value_end = '\0';
        }
        p->attrs = grow(p->attrs, &p->cap_attrs, p->nattrs, sizeof *p->attrs);
        p->attrs[p->nattrs++] = (attr_t){name, value};
    }
    return 0;
}

/* The value of attribute name in the current list (the first one), or
 * NULL. */
static const char *attr(const parser_t *p, const char *name)
{
    for (size_t i = 0; i < p->nattrs; i++)
        if (strcmp(p->attrs[i].name, name) == 0)
            return p->attrs[i].value;
    return NULL;
}

/* A copy of attribute name's value, or NULL when absent. */
static char *attr_dup(const parser_t *p, const char *name)
{
    const char *v = attr(p, name);
    return v ? xstrdup(v) : NULL;
}

/* Attribute name as a non-negative long (0 when absent). */
static int attr_long(parser_t *p, const char *name, long *out)
{
    const char *v = attr(p, name);
    uint64_t x = 0;
    if (v && (parse_u64(v, &x) != 0 || x > LONG_MAX))
        return bad(p, "%s has %s=%.40s, which is not a whole number", p->tag, name, v);
    *out = (long)x;
    return 0;
}

/* Attribute name as a non-negative decimal (0 when absent). */
static int attr_decimal(parser_t *p, const char *name, double *out)
{
    const char *v = attr(p, name);
    double x = 0;
    if (v && parse_decimal_all(v, &x) != 0)
        return bad(p, "%s has %s=%.40s, which is not a number", p->tag, name, v);
    *out = x;
    return 0;
}

/* Parses "n[@o]" (a byte range). *offset is -1 when "@o" is absent.
 * Returns 0 or -1 (no error set). */
static int parse_range(const char *s, int64_t *length, int64_t *offset)
{
    char buf[48];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    char *at = strchr(buf, '@');
    uint64_t len, off = 0;
    if (at)
        *at = '\0';
    if (parse_u64(buf, &len) != 0 || len == 0 || len > INT64_MAX)
        return -1;
    if (at && (parse_u64(at + 1, &off) != 0 || off > (uint64_t)INT64_MAX - len))
        return -1;
    *length = (int64_t)len;
    *offset = at ? (int64_t)off : -1;
    return 0;
}

/* Parses "0x" + 32 hex digits into iv. Returns 0 or -1. */
static int parse_iv(const char *s, unsigned char iv[16])
{
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s + 2) != 32)
        return -1;
    s += 2;
    for (int i = 0; i < 16; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        iv[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static void variant_free(hls_variant_t *v)
{
    free(v->uri);
    free(v->codecs);
    free(v->audio);
    memset(v, 0, sizeof *v);
}

/* ---- tags ------------------------------------------------------------- */

static int tag_extinf(parser_t *p, const char *value)
{
    if (!value)
        return bad(p, "#EXTINF has no duration");
    if (p->have_inf)
        return bad(p, "#EXTINF follows the #EXTINF on line %zu without a URI line between them",
                   p->inf_line);
    const char *end;
    double d;
    while (blank(*value))
        value++;
    if (parse_decimal(value, &end, &d) != 0)
        return bad(p, "#EXTINF has the duration \"%.40s\", which is not a number of seconds",
                   value);
    while (blank(*end))
        end++;
    if (*end && *end != ',')
        return bad(p, "#EXTINF has the duration \"%.40s\", which is not a number of seconds",
                   value);
    const char *title = *end == ',' ? end + 1 : end;
    p->have_inf = 1;
    p->inf_line = p->line;
    p->inf_duration = d;
    p->inf_title = *title ? xstrdup(title) : NULL;
    if (!p->media_line)
        p->media_line = p->line;
    return 0;
}

static int tag_byterange(parser_t *p, const char *value)
{
    if (p->have_range)
        return bad(p, "#EXT-X-BYTERANGE follows the one on line %zu without a URI line "
                      "between them", p->range_line);
    if (!value || parse_range(value, &p->range_length, &p->range_offset) != 0)
        return bad(p, "#EXT-X-BYTERANGE has \"%.40s\" where a byte range (length[@offset]) "
                      "belongs", value ? value : "");
    p->have_range = 1;
    p->range_line = p->line;
    return 0;
}

static int tag_key(parser_t *p, char *value)
{
    if (parse_attrs(p, value) != 0)
        return -1;
    const char *method = attr(p, "METHOD");
    if (!method)
        return bad(p, "#EXT-X-KEY has no METHOD");
    const char *keyformat = attr(p, "KEYFORMAT");
    if (keyformat && strcmp(keyformat, "identity") == 0)
        keyformat = NULL;
    hls_key_t k = {.method = HLS_KEY_OTHER};
    if (strcmp(method, "NONE") == 0)
        k.method = HLS_KEY_NONE;
    else if (strcmp(method, "AES-128") == 0)
        k.method = HLS_KEY_AES128;
    else if (strncmp(method, "SAMPLE-AES", 10) == 0)
        k.method = HLS_KEY_SAMPLE_AES;
    int identity = !keyformat && (k.method == HLS_KEY_NONE || k.method == HLS_KEY_AES128);

    const char *iv = attr(p, "IV");
    if (iv && parse_iv(iv, k.iv) != 0)
        return bad(p, "#EXT-X-KEY has IV=%.40s; an IV is 0x and 32 hex digits", iv);
    k.has_iv = iv != NULL;

    /* Of several keys in a row, an identity one wins (see DESIGN). */
    int use = !p->key_group_open || identity || !p->key_group_identity;
    p->key_group_identity = (p->key_group_open && p->key_group_identity) || identity;
    p->key_group_open = 1;
    if (k.method == HLS_KEY_NONE) {
        if (use)
            p->key = -1;
        return 0;
    }

    const char *uri = attr(p, "URI");
    if (uri && !*uri)
        uri = NULL;
    if (!uri && k.method == HLS_KEY_AES128)
        return bad(p, "#EXT-X-KEY with METHOD=AES-128 has no URI");
    if (uri && resolve(p, uri, &k.uri) != CURLUE_OK) {
        if (identity)
            return resolve_or_fail(p, uri, &k.uri);
        k.uri = xstrdup(uri); /* a DRM key (skd://, data:): never fetched */
    }
    k.method_name = xstrdup(method);
    k.keyformat = keyformat ? xstrdup(keyformat) : NULL;
    hls_playlist_t *pl = p->pl;
    if (pl->nkeys >= INT_MAX) /* cannot happen under HLS_MAX_TEXT */
        abort();
    pl->keys = grow(pl->keys, &p->cap_keys, pl->nkeys, sizeof *pl->keys);
    pl->keys[pl->nkeys] = k;
    if (use)
        p->key = (int)pl->nkeys;
    pl->nkeys++;
    return 0;
}

static int tag_map(parser_t *p, char *value)
{
    if (parse_attrs(p, value) != 0)
        return -1;
    const char *uri = attr(p, "URI"), *range = attr(p, "BYTERANGE");
    if (!uri || !*uri)
        return bad(p, "#EXT-X-MAP has no URI");
    hls_map_t m = {.offset = 0, .length = -1};
    if (range) {
        if (parse_range(range, &m.length, &m.offset) != 0)
            return bad(p, "#EXT-X-MAP has BYTERANGE=\"%.40s\"; a byte range is "
                          "length[@offset]", range);
        if (m.offset < 0)
            m.offset = 0;
    }
    if (resolve_or_fail(p, uri, &m.uri) != 0)
        return -1;
    hls_playlist_t *pl = p->pl;
    if (p->map >= 0) { /* the same map again (often after a discontinuity) */
        const hls_map_t *cur = &pl->maps[p->map];
        if (cur->offset == m.offset && cur->length == m.length && strcmp(cur->uri, m.uri) == 0) {
            free(m.uri);
            return 0;
        }
    }
    if (pl->nmaps >= INT_MAX)
        abort();
    pl->maps = grow(pl->maps, &p->cap_maps, pl->nmaps, sizeof *pl->maps);
    pl->maps[pl->nmaps] = m;
    p->map = (int)pl->nmaps++;
    return 0;
}

static int tag_stream_inf(parser_t *p, char *value)
{
    if (p->have_stream)
        return bad_at(p, p->stream_line, "#EXT-X-STREAM-INF has no URI line after it");
    if (!p->master_line)
        p->master_line = p->line;
    if (parse_attrs(p, value) != 0)
        return -1;
    hls_variant_t *v = &p->stream;
    if (attr_long(p, "BANDWIDTH", &v->bandwidth) != 0 ||
        attr_long(p, "AVERAGE-BANDWIDTH", &v->average_bandwidth) != 0 ||
        attr_decimal(p, "FRAME-RATE", &v->frame_rate) != 0)
        return -1;
    const char *res = attr(p, "RESOLUTION");
    if (res) {
        char buf[48];
        uint64_t w, h;
        char *x;
        if (strlen(res) >= sizeof buf)
            goto bad_res;
        strcpy(buf, res);
        if (!(x = strchr(buf, 'x')) && !(x = strchr(buf, 'X')))
            goto bad_res;
        *x = '\0';
        if (parse_u64(buf, &w) != 0 || parse_u64(x + 1, &h) != 0 || w > INT_MAX || h > INT_MAX)
            goto bad_res;
        v->width = (int)w;
        v->height = (int)h;
    }
    v->codecs = attr_dup(p, "CODECS");
    v->audio = attr_dup(p, "AUDIO");
    p->have_stream = 1;
    p->stream_line = p->line;
    return 0;
bad_res:
    return bad(p, "#EXT-X-STREAM-INF has RESOLUTION=%.40s; a resolution is WIDTHxHEIGHT", res);
}

static int tag_media(parser_t *p, char *value)
{
    if (!p->master_line)
        p->master_line = p->line;
    if (parse_attrs(p, value) != 0)
        return -1;
    const char *type = attr(p, "TYPE"), *group = attr(p, "GROUP-ID"), *uri = attr(p, "URI");
    if (!type)
        return bad(p, "#EXT-X-MEDIA has no TYPE");
    if (!group)
        return bad(p, "#EXT-X-MEDIA has no GROUP-ID");
    hls_playlist_t *pl = p->pl;
    if (pl->nrenditions >= HLS_MAX_VARIANTS)
        return herr_set(p->err, "hls_too_large", false,
                        "the HLS playlist %.200s lists more than %u renditions "
                        "(#EXT-X-MEDIA); haul reads at most that many",
                        p->base_url, HLS_MAX_VARIANTS);
    hls_rendition_t r = {0};
    if (uri && *uri && resolve_or_fail(p, uri, &r.uri) != 0)
        return -1;
    const char *def = attr(p, "DEFAULT"), *autosel = attr(p, "AUTOSELECT");
    r.type = xstrdup(type);
    r.group_id = xstrdup(group);
    r.name = attr_dup(p, "NAME");
    r.language = attr_dup(p, "LANGUAGE");
    r.is_default = def && strcmp(def, "YES") == 0;
    r.autoselect = autosel && strcmp(autosel, "YES") == 0;
    pl->renditions = grow(pl->renditions, &p->cap_renditions, pl->nrenditions,
                          sizeof *pl->renditions);
    pl->renditions[pl->nrenditions++] = r;
    return 0;
}

/* One #EXT... line: name is the tag ("#EXTINF"), value what follows its
 * ':' (NULL when there is none), both inside the line buffer. */
static int tag(parser_t *p, const char *name, char *value)
{
    hls_playlist_t *pl = p->pl;
    p->tag = name;
    uint64_t u;
    double d;
    if (strcmp(name, "#EXTINF") == 0)
        return tag_extinf(p, value);
    if (strcmp(name, "#EXT-X-BYTERANGE") == 0)
        return tag_byterange(p, value);
    if (strcmp(name, "#EXT-X-KEY") == 0)
        return tag_key(p, value);
    if (strcmp(name, "#EXT-X-MAP") == 0)
        return tag_map(p, value);
    if (strcmp(name, "#EXT-X-STREAM-INF") == 0)
        return tag_stream_inf(p, value);
    if (strcmp(name, "#EXT-X-MEDIA") == 0)
        return tag_media(p, value);
    if (strcmp(name, "#EXT-X-I-FRAME-STREAM-INF") == 0) { /* trick play: not a variant */
        if (!p->master_line)
            p->master_line = p->line;
        return 0;
    }
    if (strcmp(name, "#EXT-X-DISCONTINUITY") == 0) {
        p->discontinuity = 1;
        return 0;
    }
    if (strcmp(name, "#EXT-X-ENDLIST") == 0) {
        pl->endlist = 1;
        return 0;
    }
    if (strcmp(name, "#EXT-X-MEDIA-SEQUENCE") == 0) {
        if (!value || parse_u64(value, &u) != 0)
            return bad(p, "#EXT-X-MEDIA-SEQUENCE has \"%.40s\" where a whole number belongs",
                       value ? value : "");
        pl->media_sequence = u;
        return 0;
    }
    if (strcmp(name, "#EXT-X-TARGETDURATION") == 0) {
        if (!value || parse_decimal_all(value, &d) != 0)
            return bad(p, "#EXT-X-TARGETDURATION has \"%.40s\" where a number of seconds "
                          "belongs", value ? value : "");
        pl->target_duration = d;
        return 0;
    }
    if (strcmp(name, "#EXT-X-VERSION") == 0) {
        if (!value || parse_u64(value, &u) != 0 || u > INT_MAX)
            return bad(p, "#EXT-X-VERSION has \"%.40s\" where a whole number belongs",
                       value ? value : "");
        pl->version = (int)u;
        return 0;
    }
    if (strcmp(name, "#EXT-X-PLAYLIST-TYPE") == 0) {
        if (!value || !*value)
            return bad(p, "#EXT-X-PLAYLIST-TYPE has no value");
        free(pl->playlist_type);
        pl->playlist_type = xstrdup(value);
        return 0;
    }
    return 0; /* #EXTM3U again, or a tag haul does not need */
}

/* A URI line: closes the pending segment or variant. */
static int uri_line(parser_t *p, const char *ref)
{
    hls_playlist_t *pl = p->pl;
    if (p->have_stream && p->have_inf)
        return bad(p, "the URI line follows both #EXT-X-STREAM-INF (line %zu) and #EXTINF "
                      "(line %zu)", p->stream_line, p->inf_line);
    if (p->have_stream) {
        if (pl->nvariants >= HLS_MAX_VARIANTS)
            return herr_set(p->err, "hls_too_large", false,
                            "the HLS playlist %.200s lists more than %u variants; haul reads "
                            "at most that many", p->base_url, HLS_MAX_VARIANTS);
        if (resolve_or_fail(p, ref, &p->stream.uri) != 0)
            return -1;
        pl->variants = grow(pl->variants, &p->cap_variants, pl->nvariants, sizeof *pl->variants);
        pl->variants[pl->nvariants++] = p->stream;
        memset(&p->stream, 0, sizeof p->stream);
        p->have_stream = 0;
        return 0;
    }
    if (!p->have_inf)
        return bad(p, "the URI line \"%.60s\" has no #EXTINF (or #EXT-X-STREAM-INF) before it",
                   ref);
    if (pl->nsegments >= HLS_MAX_SEGMENTS) /* the first pass counted; belt and braces */
        return herr_set(p->err, "hls_too_large", false,
                        "the HLS playlist %.200s has more than %u segments; haul reads at "
                        "most that many", p->base_url, HLS_MAX_SEGMENTS);
    char *uri;
    if (resolve_or_fail(p, ref, &uri) != 0)
        return -1;
    int64_t offset = 0, length = -1;
    if (p->have_range) {
        length = p->range_length;
        offset = p->range_offset;
        if (offset < 0) { /* continues the previous segment's range */
            const hls_segment_t *prev = pl->nsegments ? &pl->segments[pl->nsegments - 1] : NULL;
            if (!prev || prev->length < 0 || strcmp(prev->uri, uri) != 0) {
                free(uri);
                return bad_at(p, p->range_line,
                              "#EXT-X-BYTERANGE has no @offset, and the segment before it is "
                              "not a byte range of the same file");
            }
            offset = prev->offset + prev->length; /* no overflow: checked for prev */
            if (offset > INT64_MAX - length) {
                free(uri);
                return bad_at(p, p->range_line, "#EXT-X-BYTERANGE goes past 2^63 bytes");
            }
        }
    }
    pl->segments = grow(pl->segments, &p->cap_segments, pl->nsegments, sizeof *pl->segments);
    pl->segments[pl->nsegments++] = (hls_segment_t){
        .uri = uri,
        .duration = p->inf_duration,
        .title = p->inf_title,
        .offset = offset,
        .length = length,
        .key = p->key,
        .map = p->map,
        .discontinuity = p->discontinuity,
    };
    p->inf_title = NULL;
    p->have_inf = p->have_range = p->discontinuity = 0;
    p->key_group_open = 0;
    return 0;
}

/* ---- lines ------------------------------------------------------------ */

typedef struct lines {
    const char *p, *end;
    size_t no;
} lines_t;

/* The next line (without its '\n') in *s, *n. Returns 0 at the end. */
static int next_line(lines_t *it, const char **s, size_t *n)
{
    if (it->p >= it->end)
        return 0;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *s = it->p;
    *n = (size_t)(e - it->p);
    it->p = nl ? nl + 1 : it->end;
    it->no++;
    return 1;
}

/* Cuts blanks (and the '\r' of CRLF) off both ends. */
static void trim(const char **s, size_t *n)
{
    while (*n && blank((*s)[*n - 1]))
        (*n)--;
    while (*n && blank(**s)) {
        (*s)++;
        (*n)--;
    }
}

/* The start of text that is not a playlist, for the error: up to 40
 * printable ASCII characters (others as '?', blanks squeezed). */
static void excerpt(const char *s, size_t n, char out[48])
{
    size_t o = 0, i = 0;
    int space = 0;
    for (; i < n && o < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        if (blank((char)c) || c == '\n') {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
            if (o == 40)
                break;
        }
        out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    if (i < n)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

static int not_a_playlist(parser_t *p, const char *s, size_t n)
{
    char ex[48];
    excerpt(s, n, ex);
    size_t head = n < 1024 ? n : 1024, odd = 0, look = n < 64 ? n : 64;
    for (size_t i = 0; i < look; i++)
        if (((unsigned char)s[i] < 0x20 && !blank(s[i]) && s[i] != '\n') || s[i] == 0x7f)
            odd++;
    const char *kind = "";
    if (has_word(s, head, "<html") || has_word(s, head, "<!doctype html"))
        kind = " (an HTML page: the URL is probably the page around the video)";
    else if (odd * 8 > look)
        kind = " (binary data)";
    return herr_set(p->err, "hls_bad_playlist", false,
                    "the file at %.200s is not an HLS playlist: it should start with "
                    "#EXTM3U but starts with \"%s\"%s; give the URL of the .m3u8 playlist",
                    p->base_url, ex, kind);
}

/* The first pass: caps, NUL bytes. *maxline gets the longest line. */
static int first_pass(parser_t *p, const char *text, size_t len, size_t *maxline)
{
    lines_t it = {text, text + len, 0};
    const char *s;
    size_t n, uris = 0;
    *maxline = 0;
    while (next_line(&it, &s, &n)) {
        if (n > HLS_MAX_LINE)
            return herr_set(p->err, "hls_too_large", false,
                            "line %zu of the HLS playlist %.200s is longer than %u KiB; haul "
                            "does not read such playlists", it.no, p->base_url,
                            HLS_MAX_LINE / 1024);
        if (memchr(s, '\0', n))
            return herr_set(p->err, "hls_bad_playlist", false,
                            "line %zu of %.200s holds a NUL byte: it is not a text playlist",
                            it.no, p->base_url);
        if (n > *maxline)
            *maxline = n;
        trim(&s, &n);
        if (n && *s != '#' && ++uris > HLS_MAX_SEGMENTS)
            return herr_set(p->err, "hls_too_large", false,
                            "the HLS playlist %.200s has more than %u segments; haul reads at "
                            "most that many", p->base_url, HLS_MAX_SEGMENTS);
    }
    return 0;
}

/* The second pass: everything. */
static int parse_lines(parser_t *p, const char *text, size_t len, size_t maxline)
{
    char *buf = malloc(maxline + 1);
    if (!buf)
        abort();
    lines_t it = {text, text + len, 0};
    const char *s;
    size_t n;
    int rc = 0;
    while (rc == 0 && next_line(&it, &s, &n)) {
        p->line = it.no;
        trim(&s, &n);
        if (!n)
            continue;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (buf[0] != '#') {
            rc = uri_line(p, buf);
        } else if (strncmp(buf, "#EXT", 4) == 0) { /* else a comment */
            char *colon = strchr(buf, ':');
            if (colon)
                *colon++ = '\0';
            rc = tag(p, buf, colon);
        }
    }
    free(buf);
    return rc;
}

/* What must hold once every line is read. */
static int final_checks(parser_t *p)
{
    hls_playlist_t *pl = p->pl;
    if (p->have_stream)
        return bad_at(p, p->stream_line, "#EXT-X-STREAM-INF has no URI line after it "
                                         "(the playlist is truncated)");
    if (p->have_inf)
        return bad_at(p, p->inf_line, "#EXTINF has no URI line after it (the playlist is "
                                      "truncated)");
    if (p->have_range)
        return bad_at(p, p->range_line, "#EXT-X-BYTERANGE has no URI line after it (the "
                                        "playlist is truncated)");
    if (p->master_line && p->media_line)
        return herr_set(p->err, "hls_bad_playlist", false,
                        "the HLS playlist %.200s is broken: it is both a master playlist "
                        "(line %zu) and a media playlist (#EXTINF on line %zu)",
                        p->base_url, p->master_line, p->media_line);
    if (p->master_line && !pl->nvariants)
        return herr_set(p->err, "hls_bad_playlist", false,
                        "the HLS master playlist %.200s lists no variants "
                        "(#EXT-X-STREAM-INF): there is nothing to download",
                        p->base_url);
    if (!p->master_line && !pl->nsegments)
        return herr_set(p->err, "hls_bad_playlist", false,
                        "the HLS playlist %.200s has no segments (#EXTINF) and no variants "
                        "(#EXT-X-STREAM-INF): there is nothing to download",
                        p->base_url);
    pl->is_master = p->master_line != 0;
    for (size_t i = 0; i < pl->nsegments; i++)
        pl->segments[i].msn = pl->media_sequence + i;
    return 0;
}

int hls_parse(const char *text, size_t len, const char *base_url,
              hls_playlist_t *out, haul_error_t *err)
{
    memset(out, 0, sizeof *out);
    parser_t p = {.base_url = base_url ? base_url : "", .pl = out, .err = err,
                  .key = -1, .map = -1};
    int rc = -1;
    p.base = curl_url();
    if (!p.base)
        abort();
    if (!base_url || curl_url_set(p.base, CURLUPART_URL, base_url, 0) != CURLUE_OK) {
        herr_set(err, "bad_url", false,
                 "the playlist's URL \"%.200s\" is not an absolute URL, so the URIs in "
                 "it cannot be resolved", p.base_url);
        goto done;
    }
    if (len > HLS_MAX_TEXT) {
        herr_set(err, "hls_too_large", false,
                 "the HLS playlist %.200s is larger than %u MiB (%zu bytes); haul does not "
                 "read such playlists", p.base_url, HLS_MAX_TEXT / (1024 * 1024), len);
        goto done;
    }
    size_t sent = len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
        text += 3;
        len -= 3;
    }
    const char *s = text;
    size_t n = len;
    trim(&s, &n);
    while (n && *s == '\n') { /* blank lines before #EXTM3U */
        s++;
        n--;
        trim(&s, &n);
    }
    if (!n) {
        herr_set(err, "hls_bad_playlist", false,
                 "the HLS playlist %.200s is empty (%s): the server sent no playlist; "
                 "check the URL", p.base_url, sent ? "only blank lines" : "0 bytes");
        goto done;
    }
    if (n < 7 || memcmp(s, "#EXTM3U", 7) != 0 || (n > 7 && !blank(s[7]) && s[7] != '\n')) {
        not_a_playlist(&p, s, n);
        goto done;
    }
    size_t maxline;
    if (first_pass(&p, text, len, &maxline) == 0 && parse_lines(&p, text, len, maxline) == 0 &&
        final_checks(&p) == 0)
        rc = 0;
done:
    curl_url_cleanup(p.base);
    free(p.attrs);
    free(p.inf_title);
    variant_free(&p.stream);
    if (rc != 0)
        hls_free(out);
    return rc;
}

void hls_free(hls_playlist_t *pl)
{
    if (!pl)
        return;
    for (size_t i = 0; i < pl->nvariants; i++)
        variant_free(&pl->variants[i]);
    for (size_t i = 0; i < pl->nrenditions; i++) {
        hls_rendition_t *r = &pl->renditions[i];
        free(r->type);
        free(r->group_id);
        free(r->name);
        free(r->language);
        free(r->uri);
    }
    for (size_t i = 0; i < pl->nsegments; i++) {
        free(pl->segments[i].uri);
        free(pl->segments[i].title);
    }
    for (size_t i = 0; i < pl->nkeys; i++) {
        free(pl->keys[i].method_name);
        free(pl->keys[i].uri);
        free(pl->keys[i].keyformat);
    }
    for (size_t i = 0; i < pl->nmaps; i++)
        free(pl->maps[i].uri);
    free(pl->variants);
    free(pl->renditions);
    free(pl->segments);
    free(pl->keys);
    free(pl->maps);
    free(pl->playlist_type);
    memset(pl, 0, sizeof *pl);
}

/* ---- after parsing ---------------------------------------------------- */

int hls_check_media(const hls_playlist_t *pl, int allow_live, haul_error_t *err)
{
    if (pl->is_master)
        return herr_set(err, "hls_bad_playlist", false,
                        "this is an HLS master playlist, not a media playlist: pick a "
                        "variant first");
    int last = -1;
    for (size_t i = 0; i < pl->nsegments; i++) {
        int ki = pl->segments[i].key;
        if (ki < 0 || ki == last || (size_t)ki >= pl->nkeys)
            continue;
        last = ki;
        const hls_key_t *k = &pl->keys[ki];
        if (k->method != HLS_KEY_AES128 || k->keyformat)
            return herr_set(err, "hls_drm", false,
                            "this HLS stream is protected by %.40s/DRM (KEYFORMAT %.80s); "
                            "haul downloads only clear or AES-128 streams",
                            k->method_name ? k->method_name : "?",
                            k->keyformat ? k->keyformat : "identity");
    }
    int vod = pl->playlist_type && strcmp(pl->playlist_type, "VOD") == 0;
    if (!pl->endlist && !vod && !allow_live)
        return herr_set(err, "hls_live", false,
                        "this HLS stream is a live stream (its playlist has no "
                        "#EXT-X-ENDLIST and will keep growing); ask for a recording with "
                        "record: true to save it as it plays");
    return 0;
}

/* True for a variant known to carry no video: no RESOLUTION and CODECS
 * listing only audio codecs. */
static int audio_only(const hls_variant_t *v)
{
    static const char *const audio[] = {"mp4a", "ac-3", "ec-3", "ac-4", "opus",
                                        "flac", "alac", "mp3", "dtsc", "dtse"};
    if (v->height > 0 || !v->codecs || !v->codecs[0])
        return 0;
    const char *c = v->codecs;
    while (*c) {
        while (*c == ' ' || *c == ',')
            c++;
        if (!*c)
            break;
        int ok = 0;
        for (size_t i = 0; i < sizeof audio / sizeof audio[0] && !ok; i++)
            ok = strncasecmp(c, audio[i], strlen(audio[i])) == 0;
        if (!ok)
            return 0;
        while (*c && *c != ',')
            c++;
    }
    return 1;
}

static long long area(const hls_variant_t *v)
{
    return (long long)v->width * v->height;
}

#define PICK_BEST HLS_PICK_BEST
#define PICK_WORST HLS_PICK_WORST
#define PICK_HEIGHT HLS_PICK_HEIGHT
#define PICK_CAP HLS_PICK_CAP

/* True when a is a better choice than b for mode (limit: N of <N>p or the
 * bandwidth cap). */
static int better(hls_pick_t mode, double limit, const hls_variant_t *a, const hls_variant_t *b)
{
    switch (mode) {
    case PICK_WORST:
        return a->bandwidth < b->bandwidth ||
               (a->bandwidth == b->bandwidth && area(a) < area(b));
    case PICK_HEIGHT: {
        int fa = a->height <= limit, fb = b->height <= limit;
        if (fa != fb)
            return fa;
        if (a->height != b->height) /* under: the tallest; over: the smallest */
            return fa ? a->height > b->height : a->height < b->height;
        return fa ? a->bandwidth > b->bandwidth : a->bandwidth < b->bandwidth;
    }
    case PICK_CAP: {
        int fa = a->bandwidth <= limit, fb = b->bandwidth <= limit;
        if (fa != fb)
            return fa;
        if (!fa)
            return better(PICK_WORST, 0, a, b);
        return better(PICK_BEST, 0, a, b);
    }
    case PICK_BEST:
        return a->bandwidth > b->bandwidth ||
               (a->bandwidth == b->bandwidth && area(a) > area(b));
    }
    return 0;
}

int hls_parse_format(const char *format, hls_format_t *out, haul_error_t *err)
{
    out->pick = PICK_BEST;
    out->limit = 0;
    if (!format || !*format || strcasecmp(format, "best") == 0)
        return 0;
    if (strcasecmp(format, "worst") == 0) {
        out->pick = PICK_WORST;
        return 0;
    }
    const char *end;
    char unit = 0;
    if (parse_decimal(format, &end, &out->limit) != 0 ||
        (*end && (end[1] || !strchr("pPkKmM", (unit = *end)))) ||
        ((unit == 'p' || unit == 'P') && strchr(format, '.')))
        return herr_set(err, "bad_format", false,
                        "unknown format \"%.60s\" for an HLS stream: use best, worst, a "
                        "height such as 720p, or a bandwidth cap such as 3000k, 2.5m or "
                        "2500000 (bits/s)", format);
    out->pick = unit == 'p' || unit == 'P' ? PICK_HEIGHT : PICK_CAP;
    if (unit == 'k' || unit == 'K')
        out->limit *= 1e3;
    else if (unit == 'm' || unit == 'M')
        out->limit *= 1e6;
    return 0;
}

int hls_pick_variant(const hls_playlist_t *pl, const char *format, haul_error_t *err)
{
    if (!pl->nvariants)
        return herr_set(err, "hls_bad_playlist", false,
                        "the HLS playlist has no variants to choose from");
    hls_format_t f;
    if (hls_parse_format(format, &f, err) != 0)
        return -1;
    hls_pick_t mode = f.pick;
    double limit = f.limit;
    /* Audio-only variants count only when there is nothing else. */
    int any_video = 0, any_height = 0;
    for (size_t i = 0; i < pl->nvariants; i++) {
        any_video |= !audio_only(&pl->variants[i]);
        any_height |= pl->variants[i].height > 0;
    }
    if (mode == PICK_HEIGHT && !any_height)
        mode = PICK_BEST; /* no RESOLUTION anywhere: heights say nothing */
    int best = -1;
    for (size_t i = 0; i < pl->nvariants; i++) {
        const hls_variant_t *v = &pl->variants[i];
        if ((any_video && audio_only(v)) || (mode == PICK_HEIGHT && v->height <= 0))
            continue;
        if (best < 0 || better(mode, limit, v, &pl->variants[best]))
            best = (int)i;
    }
    return best;
}

const hls_rendition_t *hls_audio_for(const hls_playlist_t *pl, const hls_variant_t *v)
{
    if (!v || !v->audio)
        return NULL;
    const hls_rendition_t *first = NULL;
    for (size_t i = 0; i < pl->nrenditions; i++) {
        const hls_rendition_t *r = &pl->renditions[i];
        if (!r->uri || strcmp(r->type, "AUDIO") != 0 || strcmp(r->group_id, v->audio) != 0)
            continue;
        if (r->is_default)
            return r;
        if (!first)
            first = r;
    }
    return first;
}

void hls_segment_iv(const hls_playlist_t *pl, size_t i, unsigned char iv[16])
{
    memset(iv, 0, 16);
    if (i >= pl->nsegments)
        return;
    const hls_segment_t *s = &pl->segments[i];
    if (s->key >= 0 && (size_t)s->key < pl->nkeys && pl->keys[s->key].has_iv) {
        memcpy(iv, pl->keys[s->key].iv, 16);
        return;
    }
    for (int b = 0; b < 8; b++)
        iv[15 - b] = (unsigned char)(s->msn >> (8 * b));
}
