/* resolve.c: yt-dlp's JSON into streams. See resolve.h. */
#include "engine/resolve.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

void resolved_free(resolved_t *r)
{
    if (!r)
        return;
    free(r->title);
    free(r->ext);
    for (size_t i = 0; i < r->nstreams; i++) {
        resolved_stream_t *s = &r->streams[i];
        free(s->name);
        free(s->url);
        free(s->ext);
        for (size_t k = 0; k < s->nfrags; k++)
            free(s->frags[k].url);
        free(s->frags);
    }
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i]);
    memset(r, 0, sizeof *r);
}

/* base + path with libcurl's URL API (a fragment's path is relative to
 * fragment_base_url). Returns a new string or NULL. */
static char *join_url(const char *base, const char *path)
{
    CURLU *u = curl_url();
    char *out = NULL, *res = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, path, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        res = xstrdup(out);
    curl_free(out);
    curl_url_cleanup(u);
    return res;
}

static int is_http(const char *url)
{
    return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* One yt-dlp format into a stream. */
static int parse_format(json_t *f, const char *name, resolved_stream_t *s, haul_error_t *err)
{
    const char *proto = json_string_value(json_object_get(f, "protocol"));
    const char *url = json_string_value(json_object_get(f, "url"));
    const char *id = json_string_value(json_object_get(f, "format_id"));
    s->name = xstrdup(name);
    s->ext = xstrdup(json_string_value(json_object_get(f, "ext")));
    if (!proto)
        proto = url && strncasecmp(url, "https", 5) == 0 ? "https" : "http";
    if (strcmp(proto, "http") == 0 || strcmp(proto, "https") == 0) {
        if (!is_http(url))
            return herr_set(err, "ytdlp_bad_output", false,
                            "yt-dlp gave format %s no http(s) URL", id ? id : "?");
        s->kind = RESOLVED_FRAGS;
        if (!(s->frags = calloc(1, sizeof *s->frags)))
            abort();
        s->frags[0].url = xstrdup(url);
        s->frags[0].length = -1;
        s->nfrags = 1;
        return 0;
    }
    if (strcmp(proto, "m3u8_native") == 0 || strcmp(proto, "m3u8") == 0) {
        if (!is_http(url))
            return herr_set(err, "ytdlp_bad_output", false,
                            "yt-dlp gave the HLS format %s no http(s) URL", id ? id : "?");
        s->kind = RESOLVED_HLS;
        s->url = xstrdup(url);
        return 0;
    }
    if (strcmp(proto, "http_dash_segments") == 0) {
        json_t *frags = json_object_get(f, "fragments");
        const char *base = json_string_value(json_object_get(f, "fragment_base_url"));
        size_t n = json_array_size(frags);
        if (n == 0)
            return herr_set(err, "ytdlp_bad_output", false,
                            "yt-dlp gave the DASH format %s no fragments", id ? id : "?");
        s->kind = RESOLVED_FRAGS;
        if (!(s->frags = calloc(n, sizeof *s->frags)))
            abort();
        for (size_t i = 0; i < n; i++) {
            json_t *fr = json_array_get(frags, i);
            const char *furl = json_string_value(json_object_get(fr, "url"));
            const char *path = json_string_value(json_object_get(fr, "path"));
            char *abs = is_http(furl) ? xstrdup(furl)
                        : path && base ? join_url(base, path)
                                       : NULL;
            if (!abs || !is_http(abs)) {
                free(abs);
                return herr_set(err, "ytdlp_bad_output", false,
                                "fragment %zu of the DASH format %s has no usable URL", i + 1,
                                id ? id : "?");
            }
            s->frags[i].url = abs;
            s->frags[i].length = -1;
            s->nfrags = i + 1;
        }
        return 0;
    }
    return herr_set(err, "ytdlp_unsupported", false,
                    "yt-dlp chose format %s, delivered over %s, which haul does not download "
                    "(it takes http, https, m3u8 and http_dash_segments); pick another format",
                    id ? id : "?", proto);
}

int resolve_check_run(int status, size_t out_len, const char *err_tail, const char *url,
                      haul_error_t *err)
{
    if (status != 0) {
        const char *nl = strrchr(err_tail, '\n');
        const char *why = nl ? nl + 1 : err_tail;
        if (strncmp(why, "ERROR: ", 7) == 0)
            why += 7;
        const char *noise = strstr(why, "; please report this issue"); /* not for this user */
        int len = noise ? (int)(noise - why) : (int)strlen(why);
        return herr_set(err, "ytdlp_failed", false, "yt-dlp could not read %s (exit %d): %.*s",
                        url, status, len ? len : 10, len ? why : "no message");
    }
    if (out_len > RESOLVE_MAX_JSON)
        return herr_set(err, "ytdlp_bad_output", false, "yt-dlp printed more than %u MiB for %s",
                        RESOLVE_MAX_JSON >> 20, url);
    return 0;
}

/* yt-dlp's output as a JSON object, or NULL with err set. */
static json_t *load_object(const char *text, size_t len, haul_error_t *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    if (json_is_object(o))
        return o;
    json_decref(o);
    herr_set(err, "ytdlp_bad_output", false, "yt-dlp printed no JSON object (%s at line %d)",
             o ? "another JSON value" : jerr.text, jerr.line);
    return NULL;
}

int resolve_parse(const char *text, size_t len, resolved_t *out, haul_error_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = load_object(text, len, err);
    if (!o)
        return -1;
    int rc = 0;
    const char *type = json_string_value(json_object_get(o, "_type"));
    if (type && strcmp(type, "playlist") == 0) {
        out->is_playlist = 1;
        json_decref(o);
        return herr_set(err, "ytdlp_playlist", false,
                        "the URL is a playlist of videos, not one video: add it with "
                        "\"playlist\": true (haul add --playlist) for a job per video, or "
                        "give the URL of one video");
    }
    out->title = xstrdup(json_string_value(json_object_get(o, "title")));
    out->ext = xstrdup(json_string_value(json_object_get(o, "ext")));
    json_t *req = json_object_get(o, "requested_formats");
    if (json_array_size(req) >= 2) {
        /* separate streams: video first, then audio */
        for (size_t i = 0; i < 2 && rc == 0; i++) {
            json_t *f = json_array_get(req, i);
            const char *vcodec = json_string_value(json_object_get(f, "vcodec"));
            int audio_only = vcodec && strcmp(vcodec, "none") == 0;
            rc = parse_format(f, audio_only ? "audio" : i == 0 ? "video" : "audio",
                              &out->streams[out->nstreams++], err);
        }
        if (rc == 0 && strcmp(out->streams[0].name, out->streams[1].name) == 0)
            rc = herr_set(err, "ytdlp_bad_output", false,
                          "yt-dlp asked for two %s streams; haul merges one video and one "
                          "audio stream",
                          out->streams[0].name);
    } else {
        json_t *f = json_array_size(req) == 1 ? json_array_get(req, 0) : o;
        if (!json_object_get(f, "url"))
            rc = herr_set(err, "ytdlp_bad_output", false,
                          "yt-dlp found no downloadable format on the page");
        else
            rc = parse_format(f, "video", &out->streams[out->nstreams++], err);
    }
    /* the headers yt-dlp would send (its User-Agent, Referer, cookies) */
    json_t *hdrs = json_object_get(json_array_size(req) ? json_array_get(req, 0) : o,
                                   "http_headers");
    const char *k;
    json_t *v;
    json_object_foreach(hdrs, k, v) {
        const char *val = json_string_value(v);
        if (!val || out->nheaders == RESOLVE_MAX_HEADERS || strpbrk(k, "\r\n:") ||
            strpbrk(val, "\r\n"))
            continue;
        size_t n = strlen(k) + strlen(val) + 3;
        char *line = malloc(n);
        if (!line)
            abort();
        snprintf(line, n, "%s: %s", k, val);
        out->headers[out->nheaders++] = line;
    }
    json_decref(o);
    return rc;
}

size_t resolve_format_args(const hls_format_t *f, const char **argv, char *spec, size_t n)
{
    switch (f->pick) {
    case HLS_PICK_BEST:
        return 0; /* yt-dlp's own default */
    case HLS_PICK_WORST:
        snprintf(spec, n, "worst");
        break;
    case HLS_PICK_HEIGHT:
        snprintf(spec, n, "bv*[height<=%.0f]+ba/b[height<=%.0f]/wv*+ba/w", f->limit, f->limit);
        break;
    case HLS_PICK_CAP: /* bits/s; yt-dlp's tbr is kbit/s */
        snprintf(spec, n, "b[tbr<=%.0f]/w", f->limit / 1000);
        break;
    }
    argv[0] = "-f";
    argv[1] = spec;
    return 2;
}

int resolve_entries(const char *text, size_t len, resolved_entry_t **entries, size_t *n,
                    char **title, int *single, haul_error_t *err)
{
    *entries = NULL;
    *n = 0;
    *title = NULL;
    *single = 0;
    json_t *o = load_object(text, len, err);
    if (!o)
        return -1;
    const char *type = json_string_value(json_object_get(o, "_type"));
    *title = xstrdup(json_string_value(json_object_get(o, "title")));
    if (!type || strcmp(type, "playlist") != 0) {
        *single = 1;
        json_decref(o);
        return 0;
    }
    json_t *list = json_object_get(o, "entries");
    size_t cap = json_array_size(list);
    if (cap > RESOLVE_MAX_ENTRIES)
        cap = RESOLVE_MAX_ENTRIES;
    if (cap && !(*entries = calloc(cap, sizeof **entries)))
        abort();
    for (size_t i = 0; i < json_array_size(list) && *n < cap; i++) {
        json_t *e = json_array_get(list, i);
        const char *url = json_string_value(json_object_get(e, "url"));
        if (!url)
            url = json_string_value(json_object_get(e, "webpage_url"));
        if (!is_http(url))
            continue;
        (*entries)[*n].url = xstrdup(url);
        (*entries)[*n].title = xstrdup(json_string_value(json_object_get(e, "title")));
        (*n)++;
    }
    json_decref(o);
    if (*n == 0) {
        free(*entries);
        *entries = NULL;
        return herr_set(err, "ytdlp_bad_output", false,
                        "the playlist has no entry with an http(s) URL");
    }
    return 0;
}

void resolved_entries_free(resolved_entry_t *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(entries[i].url);
        free(entries[i].title);
    }
    free(entries);
}
