#include "server/job_json.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/download.h"
#include "util/fname.h"
#include "util/url.h"

#define MAX_URL 8192
#define MAX_HEADERS 64
#define MAX_TEXT 1024

json_t *json_time(int64_t unix_ms)
{
    if (unix_ms <= 0)
        return json_null();
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

static json_t *headers_to_json(const job_options_t *o)
{
    json_t *h = json_object();
    for (size_t i = 0; i < o->nheaders; i++) {
        const char *colon = strchr(o->headers[i], ':');
        if (!colon)
            continue;
        char name[256];
        size_t n = (size_t)(colon - o->headers[i]);
        if (n >= sizeof name)
            continue;
        memcpy(name, o->headers[i], n);
        name[n] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        json_object_set_new(h, name, json_string(v));
    }
    return h;
}

json_t *job_to_json(const job_t *j)
{
    json_t *err = j->error_code[0]
                      ? json_pack("{s:s, s:s}", "code", j->error_code, "message",
                                  j->error_message)
                      : json_null();
    json_t *opt = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:o, s:b}",
                            "dir", j->opt.dir, "filename", j->opt.filename,
                            "mode", j->opt.mode, "format", j->opt.format,
                            "max_speed", (json_int_t)j->opt.max_speed,
                            "connections", j->opt.connections,
                            "priority", j->opt.priority, "sha256", j->opt.sha256,
                            "headers", headers_to_json(&j->opt), "record", j->opt.record);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i,"
                     " s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", j->id, "url", j->url, "state", job_state_name(j->state),
                     "source", j->source, "title", j->title, "filename", j->filename,
                     "bytes_done", (json_int_t)j->bytes_done,
                     "bytes_total", (json_int_t)j->bytes_total,
                     "speed_bps", (json_int_t)(j->speed_bps + 0.5),
                     "eta_s", (json_int_t)j->eta_s, "attempts", (int)j->attempts,
                     "error", err, "created_at", json_time(j->created_at),
                     "started_at", json_time(j->started_at),
                     "finished_at", json_time(j->finished_at),
                     "retry_at", json_time(j->state == JOB_QUEUED ? j->retry_at : 0),
                     "options", opt);
}

const char *job_json_text(job_t *j)
{
    if (j->json && j->state != JOB_RUNNING)
        return j->json;
    job_changed(j);
    json_t *o = job_to_json(j);
    j->json = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return j->json;
}

/* ---- requests ---------------------------------------------------------- */

static int bad(haul_error_t *err, const char **field, const char *name,
               const char *fmt, const char *detail)
{
    *field = name;
    char msg[HAUL_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return herr_set(err, "invalid_field", false, "%s: %s", name, msg);
}

static int get_text(json_t *v, const char *name, size_t max, const char **out,
                    const char **field, haul_error_t *err)
{
    if (!json_is_string(v))
        return bad(err, field, name, "must be a string%s", "");
    if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        char limit[32];
        snprintf(limit, sizeof limit, "%zu", max);
        return bad(err, field, name, "must be a string without NUL bytes, at most %s bytes",
                   limit);
    }
    *out = json_string_value(v);
    return 0;
}

static int get_int(json_t *v, const char *name, json_int_t lo, json_int_t hi,
                   json_int_t *out, const char **field, haul_error_t *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char range[96];
        snprintf(range, sizeof range, "%lld to %lld", (long long)lo, (long long)hi);
        return bad(err, field, name, "must be an integer from %s", range);
    }
    *out = json_integer_value(v);
    return 0;
}

/* "a/b c" is fine; "", "/x", "x/../y", ".hidden" and names the sanitizer
 * would change are not: a folder request is taken literally or refused. */
static int check_dir(const char *dir, const char **field, haul_error_t *err)
{
    if (!dir[0])
        return 0;
    if (dir[0] == '/')
        return bad(err, field, "dir", "must be a folder relative to the download folder, not %s",
                   dir);
    char seg[FNAME_MAX + 1], clean[FNAME_MAX + 1];
    for (const char *p = dir; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n > FNAME_MAX)
            return bad(err, field, "dir", "has an empty or too long folder name in %s", dir);
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (fname_sanitize(seg, clean, sizeof clean) != 0 || strcmp(seg, clean) != 0)
            return bad(err, field, "dir",
                       "folder names may not be '..', start with a dot, or hold control "
                       "characters (got %s)", dir);
        p += n + (slash ? 1 : 0);
    }
    return 0;
}

static int is_tchar(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int get_headers(json_t *v, job_options_t *o, const char **field, haul_error_t *err)
{
    if (!json_is_object(v))
        return bad(err, field, "headers", "must be an object of strings, {\"Name\": \"value\"}%s", "");
    if (json_object_size(v) > MAX_HEADERS)
        return bad(err, field, "headers", "at most 64 headers%s", "");
    o->headers = calloc(json_object_size(v) ? json_object_size(v) : 1, sizeof *o->headers);
    if (!o->headers)
        abort();
    const char *name;
    json_t *val;
    json_object_foreach(v, name, val) {
        if (!name[0] || strlen(name) > 128)
            return bad(err, field, "headers", "a header name must be 1 to 128 characters%s", "");
        for (const char *c = name; *c; c++)
            if (!is_tchar((unsigned char)*c))
                return bad(err, field, "headers", "%s is not a valid header name", name);
        if (!json_is_string(val) || json_string_length(val) > 4096)
            return bad(err, field, "headers", "the value of %s must be a string of at most 4096 bytes",
                       name);
        const char *s = json_string_value(val);
        if (strlen(s) != json_string_length(val) || strpbrk(s, "\r\n"))
            return bad(err, field, "headers", "the value of %s must be one line", name);
        size_t n = strlen(name) + strlen(s) + 3;
        char *line = malloc(n);
        if (!line)
            abort();
        snprintf(line, n, "%s: %s", name, s);
        o->headers[o->nheaders++] = line;
    }
    return 0;
}

#define MAX_CONNECTIONS 16

static const char *const KNOWN =
    "url, dir, filename, mode, format, max_speed, connections, priority, sha256, headers, record, "
    "playlist";

job_t *job_from_request(json_t *body, const char **field, haul_error_t *err)
{
    *field = NULL;
    if (!json_is_object(body)) {
        bad(err, field, "body", "must be a JSON object like {\"url\": \"https://…\"}%s", "");
        return NULL;
    }
    job_t *j = job_new();
    const char *key, *s;
    json_t *v;
    json_int_t n;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "url") == 0) {
            if (get_text(v, "url", MAX_URL, &s, field, err) != 0)
                goto fail;
            if (url_check(s, err) != 0) {
                haul_error_t e = *err;
                bad(err, field, "url", "%s", e.message);
                goto fail;
            }
            job_set_str(&j->url, s);
        } else if (strcmp(key, "dir") == 0) {
            if (get_text(v, "dir", MAX_TEXT, &s, field, err) != 0 || check_dir(s, field, err) != 0)
                goto fail;
            job_set_str(&j->opt.dir, s);
        } else if (strcmp(key, "filename") == 0) {
            char clean[FNAME_MAX + 1];
            if (get_text(v, "filename", MAX_TEXT, &s, field, err) != 0)
                goto fail;
            if (strchr(s, '/') || strchr(s, '\\')) {
                bad(err, field, "filename", "must be a name, not a path (got %s); use dir for a subfolder", s);
                goto fail;
            }
            if (s[0] && (fname_sanitize(s, clean, sizeof clean) != 0 || !clean[0] ||
                         strspn(s, ". ") == strlen(s))) {
                bad(err, field, "filename", "%s is not usable as a file name", s);
                goto fail;
            }
            job_set_str(&j->opt.filename, s[0] ? clean : "");
        } else if (strcmp(key, "mode") == 0) {
            if (get_text(v, "mode", MAX_TEXT, &s, field, err) != 0)
                goto fail;
            haul_error_t e;
            if (download_check(s, NULL, &e) != 0) {
                bad(err, field, "mode", "%s", e.message);
                goto fail;
            }
            job_set_str(&j->opt.mode, s);
        } else if (strcmp(key, "format") == 0) {
            haul_error_t e;
            if (get_text(v, "format", 200, &s, field, err) != 0)
                goto fail;
            if (download_check(NULL, s, &e) != 0) {
                bad(err, field, "format", "%s", e.message);
                goto fail;
            }
            job_set_str(&j->opt.format, s[0] ? s : "best");
        } else if (strcmp(key, "max_speed") == 0) {
            if (get_int(v, "max_speed", 0, INT64_MAX / 2, &n, field, err) != 0)
                goto fail;
            j->opt.max_speed = n;
        } else if (strcmp(key, "connections") == 0) {
            if (get_int(v, "connections", 1, MAX_CONNECTIONS, &n, field, err) != 0)
                goto fail;
            j->opt.connections = (int)n;
        } else if (strcmp(key, "priority") == 0) {
            if (get_int(v, "priority", -100, 100, &n, field, err) != 0)
                goto fail;
            j->opt.priority = (int)n;
        } else if (strcmp(key, "sha256") == 0) {
            if (get_text(v, "sha256", MAX_TEXT, &s, field, err) != 0)
                goto fail;
            char hex[65];
            size_t len = strlen(s);
            if (len != 0 && len != 64) {
                bad(err, field, "sha256", "must be 64 hexadecimal digits%s", "");
                goto fail;
            }
            for (size_t i = 0; i < len; i++) {
                if (!isxdigit((unsigned char)s[i])) {
                    bad(err, field, "sha256", "must be 64 hexadecimal digits%s", "");
                    goto fail;
                }
                hex[i] = (char)tolower((unsigned char)s[i]);
            }
            hex[len] = '\0';
            job_set_str(&j->opt.sha256, hex);
        } else if (strcmp(key, "record") == 0) {
            if (!json_is_boolean(v)) {
                bad(err, field, "record", "must be true or false%s", "");
                goto fail;
            }
            j->opt.record = json_is_true(v);
        } else if (strcmp(key, "headers") == 0) {
            if (get_headers(v, &j->opt, field, err) != 0)
                goto fail;
        } else {
            *field = key;
            herr_set(err, "invalid_field", false, "%s: unknown field; the known fields are %s",
                     key, KNOWN);
            goto fail;
        }
    }
    if (!j->url[0]) {
        bad(err, field, "url", "is missing: send {\"url\": \"https://…\"}%s", "");
        goto fail;
    }
    return j;
fail:
    job_free(j);
    return NULL;
}
