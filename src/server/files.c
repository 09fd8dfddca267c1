/* files: GET /api/jobs/{id}/file — a done job's file, and nothing else.
 *
 * Conditional requests (ETag, If-None-Match, If-Range) and one byte range
 * (206, 416); the body goes out with sendfile through evbuffer_add_file. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/internal.h"

static const struct { const char *ext, *type; } TYPES[] = {
    {"mp4", "video/mp4"},        {"m4v", "video/mp4"},      {"mkv", "video/x-matroska"},
    {"webm", "video/webm"},      {"mov", "video/quicktime"}, {"avi", "video/x-msvideo"},
    {"ts", "video/mp2t"},        {"mp3", "audio/mpeg"},     {"m4a", "audio/mp4"},
    {"aac", "audio/aac"},        {"ogg", "audio/ogg"},      {"opus", "audio/opus"},
    {"flac", "audio/flac"},      {"wav", "audio/wav"},      {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},      {"png", "image/png"},      {"gif", "image/gif"},
    {"webp", "image/webp"},      {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"gz", "application/gzip"},  {"tar", "application/x-tar"}, {"iso", "application/x-iso9660-image"},
    {"txt", "text/plain; charset=utf-8"}, {"json", "application/json"},
    {"srt", "application/x-subrip"}, {"vtt", "text/vtt"},
};

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (strcasecmp(dot + 1, TYPES[i].ext) == 0)
                return TYPES[i].type;
    return "application/octet-stream";
}

/* attachment; filename="ascii"; filename*=UTF-8''percent-encoded */
static void disposition(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char ascii[256], enc[1024];
    size_t a = 0, e = 0;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
        if (a + 1 < sizeof ascii)
            ascii[a++] = (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') ? '_' : (char)*p;
        if (e + 4 < sizeof enc) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p))
                enc[e++] = (char)*p;
            else
                e += (size_t)snprintf(enc + e, 4, "%%%02X", *p);
        }
    }
    ascii[a] = enc[e] = '\0';
    snprintf(out, n, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, enc);
}

/* One range "bytes=a-b", "bytes=a-", "bytes=-n". Returns 1 with
 * [*from, *to] set, 0 to serve everything (absent, several ranges or not
 * understood), -1 when unsatisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        long long n = strtoll(p + 1, &end, 10);
        if (end == p + 1 || *end || n < 0)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    long long a = strtoll(p, &end, 10);
    if (end == p || *end != '-' || a < 0)
        return 0;
    p = end + 1;
    long long b = size - 1;
    if (*p) {
        b = strtoll(p, &end, 10);
        if (end == p || *end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

void files_serve(server_t *srv, struct evhttp_request *req, const char *id)
{
    job_t *j = id_valid(id) ? sched_find(srv->sched, id) : NULL;
    if (!j) {
        reply_error(req, 404, "not_found", NULL, "no job %s ('haul ls' lists them)", id);
        return;
    }
    if (j->state != JOB_DONE || !j->filename[0]) {
        reply_error(req, 409, "not_done", NULL,
                    "job %s is %s; its file is served once the job is done", j->id,
                    job_state_name(j->state));
        return;
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", sched_dir(srv->sched), j->filename);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        reply_error(req, 404, "file_missing", NULL,
                    "job %s is done but its file %s is no longer on the disk", j->id, path);
        return;
    }
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    char etag[64], lm[64], cd[1400], len[32];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
             (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    disposition(j->filename, cd, sizeof cd);
    evhttp_add_header(out, "Content-Type", content_type(j->filename));
    evhttp_add_header(out, "Content-Disposition", cd);
    evhttp_add_header(out, "ETag", etag);
    evhttp_add_header(out, "Last-Modified", lm);
    evhttp_add_header(out, "Accept-Ranges", "bytes");
    const char *inm = evhttp_find_header(in, "If-None-Match");
    if (inm && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)) {
        close(fd);
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    int64_t size = st.st_size, from = 0, to = size - 1;
    const char *ifr = evhttp_find_header(in, "If-Range");
    int r = (!ifr || strcmp(ifr, etag) == 0 || strcmp(ifr, lm) == 0)
                ? parse_range(evhttp_find_header(in, "Range"), size, &from, &to) : 0;
    if (r < 0) {
        close(fd);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%" PRId64, size);
        evhttp_add_header(out, "Content-Range", cr);
        reply_error(req, 416, "bad_range", NULL, "the file has %" PRId64 " bytes", size);
        return;
    }
    int status = 200;
    if (r > 0) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, from, to, size);
        evhttp_add_header(out, "Content-Range", cr);
        status = 206;
    }
    int64_t n = size ? to - from + 1 : 0;
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        close(fd);
        evhttp_send_error(req, 500, "Out of memory");
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD || n == 0) {
        snprintf(len, sizeof len, "%" PRId64, n);
        evhttp_add_header(out, "Content-Length", len);
        close(fd);
    } else if (evbuffer_add_file(buf, fd, from, n) != 0) { /* takes fd */
        evbuffer_free(buf);
        reply_error(req, 500, "io_error", NULL, "cannot read %s", path);
        return;
    }
    evhttp_send_reply(req, status, status == 206 ? "Partial Content" : "OK", buf);
    evbuffer_free(buf);
}
