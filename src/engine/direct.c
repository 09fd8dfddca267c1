/* direct.c: one resource to one file. See direct.h for the contract.
 *
 * DESIGN
 * libcurl reads up to 256 KiB at a time (transfer.c); a piece of 64 KiB or
 * more goes straight to the part file with one pwrite(), smaller pieces
 * are gathered in a 256 KiB buffer (allocated only when one comes, and
 * written out when full or a second old).
 * curl and wget write in 4-16 KiB pieces, and on Linux the number of
 * write() calls (each one takes the inode lock and updates mtime), not the
 * copying, is what makes them slow to disk. bytes_done counts the buffer
 * too; pause, retry and finish flush it first, so the part file is the
 * truth whenever no request is in flight, and anything that never reached
 * it is simply fetched again.
 *
 * The end of a download (fsync, SHA-256 over the whole file, rename into
 * place) is finalize.c's, on a helper thread that owns the part file until
 * it reports back. */
#include "engine/direct.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/progress.h"
#include "engine/classify.h"
#include "engine/finalize.h"
#include "engine/resume.h"
#include "util/disposition.h"
#include "util/fname.h"
#include "util/fs.h"
#include "util/json_file.h"
#include "util/hex.h"

#define PART_NAME "data.part"
#define WRITE_BUFFER_SIZE (256u * 1024)
#define DIRECT_WRITE_MIN (64u * 1024)
#define FLUSH_INTERVAL_S 1.0
#define DEFAULT_ATTEMPTS 5
#define MAX_REFETCH 3
#define META_MAX (64 * 1024)

struct direct {
    engine_t *eng;
    struct event_base *base;
    direct_cbs_t cbs;
    void *ud;

    /* options, owned copies */
    char *url, *dir, *work_dir, *filename, *sha256, *user_agent, *proxy, *ca_file;
    char **headers;
    size_t nheaders;
    int64_t max_speed;
    long connect_timeout_s, stall_timeout_s;
    unsigned max_attempts;
    int owner_retries;
    int keep_until_released;
    int sniff;
    int overwrite, sync;

    char part_path[PATH_MAX];
    char meta_path[PATH_MAX];

    direct_state_t state;
    transfer_t *xfer;
    struct event *retry_timer;
    double retry_at;
    unsigned attempt;
    unsigned refetches;

    /* what the server told us (persisted in meta.json) */
    char *etag, *last_modified, *name;
    int64_t total;

    /* the part file and its write buffer */
    int fd;
    int64_t file_len;            /* bytes in the part file */
    char *buf;
    size_t buf_len;
    double flushed_at;           /* when the buffer was last written out */
    int64_t attempt_start_len;   /* file_len when this attempt began */

    /* the current attempt's verdict, set in callbacks, used in on_done */
    int want_refetch, want_complete;
    long error_status;
    haul_error_t local_err;

    meter_t meter;
    haul_error_t err;
    char *result_path;
    finalize_t *fin;
    int cancel_when_finished;    /* canceled while fin was running */
};

const char *direct_state_name(direct_state_t st)
{
    static const char *names[] = {"idle",    "running", "waiting", "finalizing",
                                  "done",    "failed",  "paused",  "canceled"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Replaces *slot by a copy of s (NULL clears). */
static void set_str(char **slot, const char *s)
{
    free(*slot);
    *slot = dup_or_null(s);
}

static void notify_state(direct_t *d, direct_state_t st, const haul_error_t *err)
{
    d->state = st;
    if (d->cbs.on_state)
        d->cbs.on_state(d->ud, st, err);
}

static void notice(direct_t *d, const char *msg)
{
    if (d->cbs.on_notice)
        d->cbs.on_notice(d->ud, msg);
}

/* ---- meta.json: what resuming needs ------------------------------------ */

static int meta_save(direct_t *d)
{
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:I, s:s?}", "url", d->url, "etag",
                          d->etag, "last_modified", d->last_modified, "total",
                          (json_int_t)d->total, "name", d->name);
    if (!o)
        return -1;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return -1;
    int rc = fs_write_atomic(d->meta_path, text, strlen(text));
    free(text);
    return rc;
}

/* Loads meta.json when it belongs to this URL; otherwise starts clean. */
static void meta_load(direct_t *d)
{
    json_t *o = json_read_file(d->meta_path, META_MAX);
    if (!o)
        return;
    const char *url = json_string_value(json_object_get(o, "url"));
    if (url && strcmp(url, d->url) == 0) {
        set_str(&d->etag, json_string_value(json_object_get(o, "etag")));
        set_str(&d->last_modified,
                json_string_value(json_object_get(o, "last_modified")));
        set_str(&d->name, json_string_value(json_object_get(o, "name")));
        json_t *t = json_object_get(o, "total");
        d->total = json_is_integer(t) ? (int64_t)json_integer_value(t) : -1;
    }
    json_decref(o);
}

/* ---- the part file ----------------------------------------------------- */

static int local_io_error(direct_t *d, const char *doing)
{
    int e = errno;
    if (e == ENOSPC || e == EDQUOT)
        return herr_set(&d->local_err, "disk_full", false,
                        "no space left on the disk while %s %s: free some space, "
                        "then resume (the %lld bytes already here are kept)",
                        doing, d->part_path, (long long)d->file_len);
    if (e == EFBIG)
        return herr_set(&d->local_err, "file_too_large", false,
                        "the file is larger than the file system (or a limit) allows "
                        "while %s %s, at %lld bytes (FAT32 stops at 4 GiB): download "
                        "to another folder", doing, d->part_path, (long long)d->file_len);
    return herr_set(&d->local_err, "io_error", false, "%s %s failed: %s", doing,
                    d->part_path, strerror(e));
}

/* Appends data to the part file. Returns 0 or -1 with local_err; what
 * did not reach the file is simply fetched again on resume. */
static int write_part(direct_t *d, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = pwrite(d->fd, data, len, d->file_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return local_io_error(d, "writing");
        d->file_len += n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the buffer to the part file and empties it. */
static int flush_buffer(direct_t *d)
{
    int rc = write_part(d, d->buf, d->buf_len);
    d->buf_len = 0;
    return rc;
}

/* Opens (creating) the part file and learns its length. */
static int open_part(direct_t *d, haul_error_t *err)
{
    if (d->fd >= 0)
        return 0;
    d->fd = open(d->part_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->fd < 0)
        return herr_set(err, errno == ENOSPC ? "disk_full" : "io_error", false,
                        "cannot create %s: %s", d->part_path, strerror(errno));
    /* one writer per part file: a second haul on the same download waits
     * its turn instead of interleaving bytes (released when fd closes) */
    if (flock(d->fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(d->fd);
        d->fd = -1;
        if (e == EWOULDBLOCK)
            return herr_set(err, "busy", false,
                            "another haul is already downloading %s into %s; wait for "
                            "it to finish or stop it first", d->url, d->dir);
        return herr_set(err, "io_error", false, "cannot lock %s: %s", d->part_path,
                        strerror(e));
    }
    struct stat st;
    if (fstat(d->fd, &st) != 0)
        return herr_set(err, "io_error", false, "cannot read %s: %s", d->part_path,
                        strerror(errno));
    d->file_len = st.st_size;
    return 0;
}

static void close_part(direct_t *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

/* Empties the part file (the resource changed or cannot be resumed). */
static int truncate_part(direct_t *d)
{
    d->buf_len = 0;
    if (ftruncate(d->fd, 0) != 0)
        return local_io_error(d, "truncating");
    d->file_len = 0;
    meter_reset(&d->meter);
    return 0;
}

/* ---- one attempt ------------------------------------------------------- */

static void start_attempt(direct_t *d);

/* Picks the file's name from what the server said (a forced name wins,
 * then Content-Disposition, then the URL), unless one is already known. */
int content_type_is_playlist(const char *ct)
{
    static const char *const types[] = {"application/vnd.apple.mpegurl",
                                        "application/x-mpegurl", "audio/mpegurl",
                                        "audio/x-mpegurl"};
    for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ct, types[i], n) == 0 && (!ct[n] || ct[n] == ';' || ct[n] == ' '))
            return 1;
    }
    return 0;
}

static void choose_name(direct_t *d, const transfer_response_t *r)
{
    char raw[4096], safe[FNAME_MAX + 1];
    if (d->filename) {
        set_str(&d->name, d->filename);
        return;
    }
    if (r->content_disposition &&
        disposition_filename(r->content_disposition, raw, sizeof raw) == 0 &&
        fname_sanitize(raw, safe, sizeof safe) == 0) {
        set_str(&d->name, safe);
        return;
    }
    if (d->name)
        return;
    /* the URL asked for when it names a file, else where it led */
    if (fname_from_url(d->url, safe, sizeof safe) == 0 && strchr(safe, '.')) {
        set_str(&d->name, safe);
        return;
    }
    if (r->effective_url && fname_from_url(r->effective_url, safe, sizeof safe) == 0) {
        set_str(&d->name, safe);
        return;
    }
    if (fname_from_url(d->url, safe, sizeof safe) == 0) {
        set_str(&d->name, safe);
        return;
    }
    set_str(&d->name, "download");
}

/* The final response's headers: decide append / restart / refetch. */
static int on_response(void *ud, const transfer_response_t *r)
{
    direct_t *d = ud;
    if (d->sniff && d->file_len == 0 && d->buf_len == 0 && r->status >= 200 &&
        r->status < 300 && r->content_type) {
        if (content_type_is_playlist(r->content_type)) {
            herr_set(&d->local_err, DIRECT_IS_PLAYLIST, false, "%s is an HLS playlist (%s)",
                     d->url, r->content_type);
            return -1;
        }
        if (strncasecmp(r->content_type, "text/html", 9) == 0 ||
            strncasecmp(r->content_type, "application/xhtml+xml", 21) == 0) {
            herr_set(&d->local_err, DIRECT_IS_PAGE, false, "%s is a web page (%s)", d->url,
                     r->content_type);
            return -1;
        }
    }
    resume_answer_t ans = {.status = r->status, .range_first = -1, .range_total = -1};
    if (r->content_range)
        parse_content_range(r->content_range, &ans.range_first, &ans.range_total);
    const char *why = NULL;
    int64_t have = d->file_len + (int64_t)d->buf_len;
    resume_action_t act = resume_decide(have, d->total, &ans, &why);
    switch (act) {
    case RESUME_ERROR:
        d->error_status = r->status;
        return -1;
    case RESUME_COMPLETE:
        d->want_complete = 1;
        return -1;
    case RESUME_REFETCH:
        notice(d, why);
        d->want_refetch = 1;
        return -1;
    case RESUME_RESTART:
        notice(d, why);
        if (truncate_part(d) != 0)
            return -1;
        /* fall through: the body is the whole resource */
    case RESUME_APPEND:
        break;
    }
    if (act == RESUME_RESTART || have == 0) {
        /* a fresh start: remember how to resume this version later */
        set_str(&d->etag, r->etag);
        set_str(&d->last_modified, r->last_modified);
        if (r->status == 206)
            d->total = ans.range_total;
        else
            d->total = r->content_length >= 0 ? r->content_length : -1;
    } else if (d->total < 0 && ans.range_total >= 0) {
        d->total = ans.range_total;
    }
    choose_name(d, r);
    if (meta_save(d) != 0) {
        local_io_error(d, "saving the resume data next to");
        return -1;
    }
    return 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
    direct_t *d = ud;
    if (d->total >= 0 && d->file_len + (int64_t)(d->buf_len + len) > d->total) {
        herr_set(&d->local_err, "size_mismatch", true,
                 "%s sent more bytes than the %lld it announced", d->url,
                 (long long)d->total);
        return -1;
    }
    if (d->buf_len == 0 && len >= DIRECT_WRITE_MIN)
        return write_part(d, data, len); /* big enough on its own: no copy */
    if (!d->buf && !(d->buf = malloc(WRITE_BUFFER_SIZE))) { /* first small piece */
        herr_set(&d->local_err, "out_of_memory", true, "out of memory for %s", d->url);
        return -1;
    }
    while (len > 0) {
        if (d->buf_len == WRITE_BUFFER_SIZE && flush_buffer(d) != 0)
            return -1;
        size_t n = WRITE_BUFFER_SIZE - d->buf_len;
        if (n > len)
            n = len;
        memcpy(d->buf + d->buf_len, data, n);
        d->buf_len += n;
        data += n;
        len -= n;
    }
    /* a slow source must not leave seconds of data only in memory */
    double now = mono_now();
    if (now - d->flushed_at >= FLUSH_INTERVAL_S) {
        d->flushed_at = now;
        return flush_buffer(d);
    }
    return 0;
}

static void start_finalize(direct_t *d);

static void fail(direct_t *d, const haul_error_t *err)
{
    d->err = *err;
    if (d->file_len == 0 && d->buf_len == 0)
        finalize_remove_work_dir(d->work_dir); /* nothing worth keeping */
    close_part(d);
    free(d->buf);
    d->buf = NULL;
    notify_state(d, DIRECT_FAILED, &d->err);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_attempt(arg);
}

/* A transient failure: wait, then resume from what is on disk. */
static void schedule_retry(direct_t *d, const haul_error_t *err)
{
    if (d->owner_retries) {
        fail(d, err);
        return;
    }
    if (d->file_len > d->attempt_start_len)
        d->attempt = 1; /* progress was made: a new streak */
    if (d->attempt >= d->max_attempts) {
        haul_error_t e = *err;
        size_t n = strlen(e.message);
        snprintf(e.message + n, sizeof e.message - n,
                 " (gave up after %u attempts; resume to try again)", d->attempt);
        fail(d, &e);
        return;
    }
    long delay = backoff_delay_s(d->attempt, err->retry_after_s);
    d->err = *err;
    d->retry_at = mono_now() + (double)delay;
    struct timeval tv = {delay, 0};
    evtimer_add(d->retry_timer, &tv);
    notify_state(d, DIRECT_WAITING, &d->err);
}

/* The attempt ended (outside curl's callbacks: safe to start another). */
static void on_done(void *ud, CURLcode cc, long status, int aborted,
                    const char *detail, long retry_after_s)
{
    direct_t *d = ud;
    d->xfer = NULL;
    haul_error_t err;
    herr_clear(&err);
    if (flush_buffer(d) != 0 && !herr_isset(&d->local_err))
        local_io_error(d, "writing");
    if (herr_isset(&d->local_err)) {
        err = d->local_err;
        if (strcmp(err.code, "size_mismatch") == 0) {
            /* the server lies about the size: what we have is suspect */
            truncate_part(d);
            fail(d, &err);
        } else if (err.transient) {
            schedule_retry(d, &err);
        } else {
            fail(d, &err);
        }
        return;
    }
    if (d->want_refetch) {
        if (++d->refetches > MAX_REFETCH) {
            herr_set(&err, "bad_ranges", false,
                     "%s keeps answering range requests inconsistently; giving up",
                     d->url);
            fail(d, &err);
            return;
        }
        if (truncate_part(d) != 0) {
            fail(d, &d->local_err);
            return;
        }
        set_str(&d->etag, NULL);
        set_str(&d->last_modified, NULL);
        d->total = -1;
        start_attempt(d);
        return;
    }
    if (d->want_complete) {
        start_finalize(d);
        return;
    }
    if (aborted && d->error_status)
        classify_http_status(d->error_status, d->url, &err);
    else
        classify_result(cc, status, d->url, detail, &err);
    if (!herr_isset(&err) && d->total >= 0 && d->file_len != d->total)
        herr_set(&err, "connection_cut", true,
                 "%s: the transfer ended after %lld of %lld bytes", d->url,
                 (long long)d->file_len, (long long)d->total);
    if (!herr_isset(&err)) {
        start_finalize(d);
        return;
    }
    err.retry_after_s = retry_after_s;
    if (err.transient)
        schedule_retry(d, &err);
    else
        fail(d, &err);
}

/* Sends one request from the current part length. */
static void start_attempt(direct_t *d)
{
    haul_error_t err;
    herr_clear(&err);
    herr_clear(&d->local_err);
    d->want_refetch = d->want_complete = 0;
    d->error_status = 0;
    if (open_part(d, &err) != 0) {
        fail(d, &err);
        return;
    }
    const char *validator = resume_validator(d->etag, d->last_modified);
    if (d->file_len > 0 && !validator && d->total < 0) {
        notice(d, "the server gave no way to check the file is unchanged "
                  "(no ETag, Last-Modified or size); starting over from zero");
        if (truncate_part(d) != 0) {
            fail(d, &d->local_err);
            return;
        }
    }
    d->attempt++;
    d->attempt_start_len = d->file_len;
    d->flushed_at = mono_now();
    transfer_opts_t o = {
        .url = d->url,
        .range_from = d->file_len,
        .if_range = validator,
        .headers = (const char *const *)d->headers,
        .nheaders = d->nheaders,
        .user_agent = d->user_agent,
        .proxy = d->proxy,
        .ca_file = d->ca_file,
        .max_speed = d->max_speed,
        .connect_timeout_s = d->connect_timeout_s,
        .stall_timeout_s = d->stall_timeout_s,
    };
    transfer_cbs_t cbs = {on_response, on_data, on_done};
    d->xfer = transfer_start(d->eng, &o, &cbs, d, &err);
    if (!d->xfer) {
        fail(d, &err);
        return;
    }
    if (d->state != DIRECT_RUNNING)
        notify_state(d, DIRECT_RUNNING, NULL);
}

/* ---- finishing: verify and rename, on a helper thread ------------------ */

static void on_finalized(void *arg)
{
    direct_t *d = arg;
    haul_error_t err;
    char *result = NULL;
    finalize_reap(d->fin, &err, &result);
    d->fin = NULL;
    if (d->cancel_when_finished) { /* canceled meanwhile: undo the finish */
        d->cancel_when_finished = 0;
        if (result)
            fs_discard(result);
        free(result);
        fs_discard(d->work_dir);
        d->file_len = 0;
        return;
    }
    if (herr_isset(&err)) {
        if (strcmp(err.code, "checksum_mismatch") == 0)
            d->file_len = 0;
        fail(d, &err);
        return;
    }
    free(d->result_path);
    d->result_path = result;
    free(d->buf);
    d->buf = NULL;
    notify_state(d, DIRECT_DONE, NULL);
}

/* All bytes are here: verify and rename on finalize's helper thread, which
 * owns the part file until it reports back. */
static void start_finalize(direct_t *d)
{
    finalize_opts_t o = {
        .fd = d->fd,
        .part_path = d->part_path,
        .work_dir = d->work_dir,
        .dir = d->dir,
        .name = d->name,
        .overwrite = d->overwrite && d->filename,
        .sync = d->sync,
        .keep_work_dir = d->keep_until_released,
        .expect_size = d->total,
        .sha256 = d->sha256,
    };
    haul_error_t err;
    d->fin = finalize_start(d->base, &o, on_finalized, d, &err);
    if (!d->fin) {
        fail(d, &err);
        return;
    }
    d->fd = -1; /* the thread owns it now */
    notify_state(d, DIRECT_FINALIZING, NULL);
}

/* ---- public ------------------------------------------------------------ */

direct_t *direct_new(engine_t *eng, struct event_base *base,
                     const direct_opts_t *o, const direct_cbs_t *cbs, void *ud,
                     haul_error_t *err)
{
    if (!o->url || !o->dir || !o->work_dir) {
        herr_set(err, "bad_option", false, "a download needs a URL, a folder and a work folder");
        return NULL;
    }
    if (o->sha256) {
        size_t n = strlen(o->sha256);
        int ok = n == 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = hexval((unsigned char)o->sha256[i]) >= 0;
        if (!ok) {
            herr_set(err, "bad_sha256", false,
                     "the expected SHA-256 must be 64 hexadecimal digits, not \"%s\"",
                     o->sha256);
            return NULL;
        }
    }
    direct_t *d = calloc(1, sizeof *d);
    if (!d) {
        herr_set(err, "out_of_memory", true, "out of memory");
        return NULL;
    }
    d->eng = eng;
    d->base = base;
    if (cbs)
        d->cbs = *cbs;
    d->ud = ud;
    d->fd = -1;
    d->total = -1;
    d->url = strdup(o->url);
    d->dir = strdup(o->dir);
    d->work_dir = strdup(o->work_dir);
    d->filename = dup_or_null(o->filename);
    d->sha256 = dup_or_null(o->sha256);
    d->user_agent = dup_or_null(o->user_agent);
    d->proxy = dup_or_null(o->proxy);
    d->ca_file = dup_or_null(o->ca_file);
    d->max_speed = o->max_speed;
    d->connect_timeout_s = o->connect_timeout_s;
    d->stall_timeout_s = o->stall_timeout_s;
    d->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_ATTEMPTS;
    d->owner_retries = o->owner_retries;
    d->sniff = o->sniff;
    d->keep_until_released = o->keep_until_released;
    d->overwrite = o->overwrite;
    d->sync = o->sync;
    int ok = d->url && d->dir && d->work_dir;
    if (o->nheaders) {
        d->headers = calloc(o->nheaders, sizeof *d->headers);
        ok = ok && d->headers;
        for (size_t i = 0; ok && i < o->nheaders; i++) {
            d->headers[i] = strdup(o->headers[i]);
            ok = d->headers[i] != NULL;
            d->nheaders = i + 1;
        }
    }
    d->retry_timer = evtimer_new(base, on_retry_timer, d);
    ok = ok && d->retry_timer;
    ok = ok && snprintf(d->part_path, sizeof d->part_path, "%s/" PART_NAME,
                        o->work_dir) < (int)sizeof d->part_path;
    ok = ok && snprintf(d->meta_path, sizeof d->meta_path, "%s/meta.json",
                        o->work_dir) < (int)sizeof d->meta_path;
    if (!ok) {
        direct_free(d);
        herr_set(err, "bad_option", false, "out of memory or a path too long for %s",
                 o->url);
        return NULL;
    }
    meter_init(&d->meter, 5.0);
    herr_clear(&d->err);
    d->state = DIRECT_IDLE;
    return d;
}

int direct_start(direct_t *d, haul_error_t *err)
{
    if (d->fin)
        return herr_set(err, "bad_state", false,
                        "the download is still finishing; try again in a moment");
    switch (d->state) {
    case DIRECT_IDLE: case DIRECT_PAUSED: case DIRECT_FAILED: case DIRECT_WAITING:
    case DIRECT_CANCELED:
        break;
    default:
        return herr_set(err, "bad_state", false, "the download is %s; it cannot start",
                        direct_state_name(d->state));
    }
    evtimer_del(d->retry_timer);
    char *found = NULL;
    int64_t found_size = 0;
    if (finalize_found(d->work_dir, d->part_path, &found, &found_size)) {
        free(d->result_path);
        d->result_path = found;
        d->file_len = d->total = found_size;
        notice(d, "the file was already moved into place before a restart");
        notify_state(d, DIRECT_DONE, NULL);
        return 0;
    }
    if (fs_mkdirs(d->work_dir) != 0)
        return herr_set(err, errno == ENOSPC ? "disk_full" : "io_error", false,
                        "cannot create the folder %s: %s", d->work_dir, strerror(errno));
    if (fs_mkdirs(d->dir) != 0)
        return herr_set(err, "io_error", false, "cannot create the folder %s: %s",
                        d->dir, strerror(errno));
    if (open_part(d, err) != 0) /* takes the lock before touching anything */
        return -1;
    meta_load(d);
    if (d->file_len > 0) { /* open_part measured it */
        char msg[128];
        snprintf(msg, sizeof msg, "resuming: %lld bytes are already here",
                 (long long)d->file_len);
        notice(d, msg);
    }
    d->attempt = 0;
    d->refetches = 0;
    herr_clear(&d->err);
    meter_reset(&d->meter);
    start_attempt(d);
    if (d->state == DIRECT_FAILED) {
        *err = d->err;
        return -1;
    }
    return 0;
}

/* Stops the request or the retry timer and writes what is buffered. */
static void stop_activity(direct_t *d)
{
    if (d->xfer) {
        transfer_abort(d->xfer);
        d->xfer = NULL;
    }
    evtimer_del(d->retry_timer);
    if (d->fd >= 0 && d->buf_len > 0 && flush_buffer(d) != 0)
        d->err = d->local_err;
    close_part(d);
    free(d->buf);
    d->buf = NULL;
    d->buf_len = 0;
}

void direct_pause(direct_t *d)
{
    if (d->state != DIRECT_RUNNING && d->state != DIRECT_WAITING)
        return;
    stop_activity(d);
    meter_reset(&d->meter);
    d->state = DIRECT_PAUSED;
}

void direct_cancel(direct_t *d)
{
    if (d->state == DIRECT_DONE)
        return;
    if (d->fin) {
        /* the thread owns the part file: do not wait for it on the loop;
         * on_finalized throws its result away */
        d->cancel_when_finished = 1;
        d->state = DIRECT_CANCELED;
        return;
    }
    stop_activity(d);
    fs_discard(d->work_dir); /* gone at once, deleted off the loop */
    d->file_len = 0;
    d->state = DIRECT_CANCELED;
}

void direct_status(direct_t *d, direct_status_t *st)
{
    int64_t done = d->file_len + (int64_t)d->buf_len;
    if (d->state == DIRECT_RUNNING)
        meter_sample(&d->meter, mono_now(), done);
    st->state = d->state;
    st->frags_done = st->frags_total = 0;
    st->bytes_done = done;
    st->bytes_total = d->total;
    st->speed_bps = d->state == DIRECT_RUNNING ? meter_speed(&d->meter) : 0;
    st->eta_s = d->total >= 0 ? meter_eta(st->speed_bps, d->total - done) : -1;
    st->attempt = d->attempt;
    st->retry_in_s = d->state == DIRECT_WAITING ? d->retry_at - mono_now() : 0;
    if (st->retry_in_s < 0)
        st->retry_in_s = 0;
}

const char *direct_result_path(const direct_t *d)
{
    return d->state == DIRECT_DONE ? d->result_path : NULL;
}

void direct_release(direct_t *d)
{
    if (d->state == DIRECT_DONE)
        finalize_remove_work_dir(d->work_dir);
}

int64_t direct_kept_bytes(const char *work_dir)
{
    char part[PATH_MAX];
    if (snprintf(part, sizeof part, "%s/" PART_NAME, work_dir) >= (int)sizeof part)
        return 0;
    int64_t n = fs_size(part);
    return n > 0 ? n : 0;
}

int direct_busy(const direct_t *d)
{
    return d->fin != NULL;
}

const haul_error_t *direct_error(const direct_t *d)
{
    return &d->err;
}

void direct_free(direct_t *d)
{
    if (!d)
        return;
    if (d->fin) { /* teardown may wait for the thread */
        haul_error_t e;
        char *result = NULL;
        finalize_reap(d->fin, &e, &result);
        d->fin = NULL;
        if (d->cancel_when_finished && result)
            unlink(result);
        free(result);
    }
    stop_activity(d);
    if (d->retry_timer)
        event_free(d->retry_timer);
    for (size_t i = 0; i < d->nheaders; i++)
        free(d->headers[i]);
    free(d->headers);
    free(d->url);
    free(d->dir);
    free(d->work_dir);
    free(d->filename);
    free(d->sha256);
    free(d->user_agent);
    free(d->proxy);
    free(d->ca_file);
    free(d->etag);
    free(d->last_modified);
    free(d->name);
    free(d->result_path);
    free(d->buf);
    free(d);
}
