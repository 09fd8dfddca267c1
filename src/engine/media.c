/* media.c: a stream downloaded as fragments. See media.h.
 *
 * DESIGN
 * Phases, one after the other: PLAYLIST (fetch the URL; a master playlist
 * leads to a variant's playlist and maybe an audio rendition's), then
 * FRAGMENTS (one frag_list_t per stream, running side by side), then
 * MERGE (ffmpeg as a child process, only when there are two streams or
 * the format asks for another container), then FINALIZING (finalize.c's
 * helper thread renames <work>/result into the download folder). The
 * playlists are fetched once: their text is kept in the work folder with
 * plan.json, so pause, restart and crash recovery rebuild the same
 * fragment lists from disk. */
#include "engine/media.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/progress.h"
#include "engine/classify.h"
#include "engine/finalize.h"
#include "engine/fragments.h"
#include "engine/hls.h"
#include "engine/proc.h"
#include "engine/resolve.h"
#include "util/fname.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json_file.h"
#include "util/hex.h"

#define MAX_STREAMS 2
#define PLAN_MAX (64 * 1024)
#define DEFAULT_ATTEMPTS 5

enum phase { P_NONE, P_RESOLVE, P_PLAYLIST, P_FRAGMENTS, P_MERGE, P_FINALIZING };

/* What a playlist fetch is for. */
enum fetch_for { FOR_TOP, FOR_VIDEO, FOR_AUDIO };

typedef struct stream {
    media_t *m;            /* the owner (fragment lists call back with this) */
    char *name;            /* "video", "audio" */
    char *url;             /* its media playlist */
    int fmp4;              /* has an init section: fragmented MP4 */
    char *ext;             /* resolved whole files: their extension */
    /* streams kept in plan.json as fragments (resolved, live) */
    frag_t *kept;          /* urls owned */
    size_t nkept, kept_cap;
    char **keys;           /* their AES-128 key URLs */
    size_t nkeys;
    /* a live playlist being recorded */
    int live;
    int closed;            /* no more refreshes: the list may end */
    uint64_t last_msn;     /* the newest segment taken */
    char *last_map;        /* the init section last taken */
    double target;         /* seconds between refreshes */
    transfer_t *refresh;
    unsigned refresh_failures; /* in a row */
    buf_t rtext;           /* the refreshed playlist */
    frag_list_t *list;
    int ended;
} stream_t;

struct media {
    engine_t *eng;
    struct event_base *base;
    direct_cbs_t cbs;
    void *ud;

    /* options, owned copies */
    char *url, *dir, *work_dir, *filename, *sha256;
    char *selector, *container; /* the format's two parts */
    unsigned connections, max_attempts;
    int keep_until_released, overwrite, sync;
    transfer_opts_t net;
    char **headers;
    char *user_agent, *proxy, *ca_file;

    direct_state_t state;
    enum phase phase;
    char *title;
    stream_t streams[MAX_STREAMS];
    size_t nstreams;

    /* PLAYLIST: the fetch in flight */
    transfer_t *xfer;
    enum fetch_for fetch_for;
    char *fetch_url;
    buf_t text;            /* the playlist being fetched */
    unsigned attempt;
    struct event *retry_timer;
    char *pending_audio;   /* the audio playlist still to fetch */

    /* a page resolved by yt-dlp */
    int resolve;
    int record;            /* a live playlist is recorded, not refused */
    struct event *refresh_timer;
    proc_t *resolver;
    size_t job_headers;    /* headers[0..job_headers) are the job's own */
    char *resolved_ext;    /* of the whole, after a merge */

    proc_t *merge;
    finalize_t *fin;
    int cancel_when_finished;
    char result_tmp[PATH_MAX]; /* <work>/result: what finalize renames */
    char plan_path[PATH_MAX];
    char *result_path;
    meter_t meter;
    haul_error_t err;
};

/* ---- small things ---------------------------------------------------------- */

static void set_str(char **slot, const char *s)
{
    char *d = xstrdup(s);
    free(*slot);
    *slot = d;
}

static void notify(media_t *m, direct_state_t st, const haul_error_t *err)
{
    m->state = st;
    if (m->cbs.on_state)
        m->cbs.on_state(m->ud, st, err);
}

static void notice(media_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(media_t *m, const char *fmt, ...)
{
    if (!m->cbs.on_notice)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->cbs.on_notice(m->ud, msg);
}

static const char *const CONTAINERS[] = {"mp4", "ts", "mkv"};

static int is_container(const char *s)
{
    for (size_t i = 0; i < sizeof CONTAINERS / sizeof CONTAINERS[0]; i++)
        if (strcasecmp(s, CONTAINERS[i]) == 0)
            return 1;
    return 0;
}

/* Splits "720p:mp4" into "720p" and "mp4" (either may be ""). */
static int split_format(const char *format, char *sel, size_t seln, char *cont, size_t contn,
                        haul_error_t *err)
{
    const char *f = format && format[0] ? format : "best";
    const char *colon = strchr(f, ':');
    if (colon) {
        snprintf(sel, seln, "%.*s", (int)(colon - f), f);
        snprintf(cont, contn, "%s", colon + 1);
    } else if (is_container(f)) {
        snprintf(sel, seln, "best");
        snprintf(cont, contn, "%s", f);
    } else {
        snprintf(sel, seln, "%s", f);
        cont[0] = '\0';
    }
    if (cont[0] && !is_container(cont))
        return herr_set(err, "bad_format", false,
                        "the format's container \"%s\" is not one haul writes: use mp4, ts "
                        "or mkv (\"best:mp4\"), or leave it out to keep the stream's own",
                        cont);
    hls_format_t parsed;
    if (hls_parse_format(sel, &parsed, err) != 0)
        return -1;
    for (char *p = cont; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return 0;
}

int media_check_format(const char *format, haul_error_t *err)
{
    char sel[128], cont[16];
    return split_format(format, sel, sizeof sel, cont, sizeof cont, err);
}

/* A title from the URL: the playlist's name without ".m3u8", or its
 * folder's name when the file has a generic name ("index", "master"). */
static void title_from_url(media_t *m, const char *url)
{
    static const char *const generic[] = {"index", "master", "playlist", "prog_index", "main",
                                          "manifest", "chunklist", "stream", "media", "video",
                                          "mono", "stereo"};
    char name[FNAME_MAX + 1];
    if (fname_from_url(url, name, sizeof name) != 0) {
        set_str(&m->title, "stream");
        return;
    }
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    int is_generic = 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(name, generic[i]) == 0)
            is_generic = 1;
    if (is_generic) {
        /* the folder above: cut the URL after its last '/' but one */
        char *copy = xstrdup(url);
        char *q = strpbrk(copy, "?#");
        if (q)
            *q = '\0';
        char *slash = strrchr(copy, '/');
        char parent[FNAME_MAX + 1];
        if (slash) {
            *slash = '\0';
            if (strstr(copy, "://") && strchr(strstr(copy, "://") + 3, '/') &&
                fname_from_url(copy, parent, sizeof parent) == 0)
                snprintf(name, sizeof name, "%s", parent);
        }
        free(copy);
    }
    set_str(&m->title, name);
}

/* ---- the end ---------------------------------------------------------------- */

static void stop_activity(media_t *m)
{
    if (m->xfer) {
        transfer_abort(m->xfer);
        m->xfer = NULL;
    }
    evtimer_del(m->retry_timer);
    if (m->refresh_timer)
        evtimer_del(m->refresh_timer);
    for (size_t i = 0; i < m->nstreams; i++) {
        if (m->streams[i].refresh) {
            transfer_abort(m->streams[i].refresh);
            m->streams[i].refresh = NULL;
        }
        if (m->streams[i].list)
            frag_list_pause(m->streams[i].list);
    }
    if (m->merge) {
        proc_kill(m->merge);
        m->merge = NULL;
    }
    if (m->resolver) {
        proc_kill(m->resolver);
        m->resolver = NULL;
    }
}

static void free_streams(media_t *m)
{
    for (size_t i = 0; i < m->nstreams; i++) {
        frag_list_free(m->streams[i].list);
        free(m->streams[i].name);
        free(m->streams[i].url);
        free(m->streams[i].ext);
        stream_t *st = &m->streams[i];
        if (st->refresh)
            transfer_abort(st->refresh);
        for (size_t k = 0; k < st->nkept; k++)
            free((char *)st->kept[k].url);
        free(st->kept);
        for (size_t k = 0; k < st->nkeys; k++)
            free(st->keys[k]);
        free(st->keys);
        free(st->last_map);
        buf_free(&st->rtext);
    }
    memset(m->streams, 0, sizeof m->streams);
    m->nstreams = 0;
}

static void fail(media_t *m, const haul_error_t *err)
{
    stop_activity(m);
    if (frag_kept_bytes(m->work_dir) == 0)
        finalize_remove_work_dir(m->work_dir); /* nothing worth keeping */
    m->err = *err;
    m->phase = P_NONE;
    notify(m, DIRECT_FAILED, &m->err);
}

/* ---- finishing ----------------------------------------------------------------- */

static void on_finalized(void *arg)
{
    media_t *m = arg;
    haul_error_t err;
    char *result = NULL;
    finalize_reap(m->fin, &err, &result);
    m->fin = NULL;
    m->phase = P_NONE;
    if (m->cancel_when_finished) {
        m->cancel_when_finished = 0;
        if (result)
            fs_discard(result);
        free(result);
        fs_discard(m->work_dir);
        return;
    }
    if (herr_isset(&err)) {
        fail(m, &err);
        return;
    }
    free(m->result_path);
    m->result_path = result;
    notify(m, DIRECT_DONE, NULL);
}

/* What a stream's joined data is: "ts", "mp4", or a whole file's own
 * extension. */
static const char *native_ext(const stream_t *s)
{
    if (s->ext)
        return s->ext;
    return s->fmp4 ? "mp4" : "ts";
}

static const char *ext_of_result(const media_t *m)
{
    if (m->container && m->container[0])
        return m->container;
    if (m->nstreams > 1)
        return m->resolved_ext && m->resolved_ext[0] ? m->resolved_ext : "mp4";
    return native_ext(&m->streams[0]);
}

/* The stream called name, or NULL. */
static stream_t *stream_named(media_t *m, const char *name)
{
    for (size_t i = 0; i < m->nstreams; i++)
        if (strcmp(m->streams[i].name, name) == 0)
            return &m->streams[i];
    return NULL;
}

/* The name in the download folder: the forced one, else title.ext. */
static void result_name(const media_t *m, char *out, size_t n)
{
    char raw[FNAME_MAX * 2];
    if (m->filename)
        snprintf(raw, sizeof raw, "%s", m->filename);
    else
        snprintf(raw, sizeof raw, "%.*s.%s", FNAME_MAX - 8, m->title ? m->title : "stream",
                 ext_of_result(m));
    if (fname_sanitize(raw, out, n) != 0)
        snprintf(out, n, "stream.%s", ext_of_result(m));
}

static void start_finalize(media_t *m)
{
    char name[FNAME_MAX + 1];
    result_name(m, name, sizeof name);
    int fd = open(m->result_tmp, O_RDONLY | O_CLOEXEC);
    haul_error_t err;
    if (fd < 0) {
        herr_set(&err, "io_error", false, "cannot open %s: %s", m->result_tmp, strerror(errno));
        fail(m, &err);
        return;
    }
    finalize_opts_t o = {
        .fd = fd,
        .part_path = m->result_tmp,
        .work_dir = m->work_dir,
        .dir = m->dir,
        .name = name,
        .overwrite = m->overwrite && m->filename,
        .sync = m->sync,
        .keep_work_dir = m->keep_until_released,
        .expect_size = -1,
        .sha256 = m->sha256,
    };
    m->fin = finalize_start(m->base, &o, on_finalized, m, &err);
    if (!m->fin) {
        close(fd);
        fail(m, &err);
        return;
    }
    /* fragments and joined outputs are not needed any more */
    for (size_t i = 0; i < m->nstreams; i++) {
        frag_list_clean(m->streams[i].list);
        unlink(frag_list_output(m->streams[i].list));
    }
    m->phase = P_FINALIZING;
    notify(m, DIRECT_FINALIZING, NULL);
}

/* ---- merging ------------------------------------------------------------------- */

static void on_merged(void *ud, int status, const char *out, size_t out_len,
                      const char *err_tail)
{
    (void)out;
    (void)out_len;
    media_t *m = ud;
    m->merge = NULL;
    if (status != 0) {
        haul_error_t err;
        herr_set(&err, "merge_failed", false, "ffmpeg could not %s the stream (exit %d): %s",
                 m->nstreams > 1 ? "merge the video and audio of" : "remux", status,
                 err_tail[0] ? err_tail : "no message");
        unlink(m->result_tmp);
        fail(m, &err);
        return;
    }
    start_finalize(m);
}

static const char *ffmpeg_format(const char *ext)
{
    static const char *const map[][2] = {{"ts", "mpegts"},  {"mkv", "matroska"},
                                         {"webm", "webm"},  {"m4a", "mp4"},
                                         {"mp3", "mp3"},    {"ogg", "ogg"},
                                         {"opus", "opus"},  {"flv", "flv"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(ext, map[i][0]) == 0)
            return map[i][1];
    return "mp4";
}

/* Every stream is joined: merge or remux when needed, then finish. */
static void streams_done(media_t *m)
{
    const char *ext = ext_of_result(m);
    const char *native = native_ext(&m->streams[0]);
    if (m->nstreams == 1 && strcasecmp(ext, native) == 0) {
        if (rename(frag_list_output(m->streams[0].list), m->result_tmp) != 0) {
            haul_error_t err;
            herr_set(&err, "io_error", false, "cannot rename in %s: %s", m->work_dir,
                     strerror(errno));
            fail(m, &err);
            return;
        }
        start_finalize(m);
        return;
    }
    if (!proc_available("ffmpeg")) {
        haul_error_t err;
        if (m->nstreams > 1)
            herr_set(&err, "ffmpeg_missing", false,
                     "this stream has separate video and audio, which haul merges with "
                     "ffmpeg, and ffmpeg is not installed: install it (apt-get install "
                     "ffmpeg) and retry");
        else
            herr_set(&err, "ffmpeg_missing", false,
                     "the format asks for %s, which needs ffmpeg to remux the stream, and "
                     "ffmpeg is not installed: install it (apt-get install ffmpeg) and "
                     "retry, or leave the container out of the format",
                     ext);
        fail(m, &err);
        return;
    }
    const char *argv[24];
    size_t n = 0;
    argv[n++] = "ffmpeg";
    argv[n++] = "-nostdin";
    argv[n++] = "-hide_banner";
    argv[n++] = "-loglevel";
    argv[n++] = "error";
    argv[n++] = "-y";
    if (m->nstreams > 1) {
        stream_t *v = stream_named(m, "video"), *a = stream_named(m, "audio");
        if (!v || !a) {
            haul_error_t err;
            herr_set(&err, "merge_failed", false, "two streams but not one video and one audio");
            fail(m, &err);
            return;
        }
        argv[n++] = "-i";
        argv[n++] = frag_list_output(v->list);
        argv[n++] = "-i";
        argv[n++] = frag_list_output(a->list);
        argv[n++] = "-map";
        argv[n++] = "0:v?";
        argv[n++] = "-map";
        argv[n++] = "1:a";
    } else {
        argv[n++] = "-i";
        argv[n++] = frag_list_output(m->streams[0].list);
        argv[n++] = "-map";
        argv[n++] = "0";
    }
    argv[n++] = "-c";
    argv[n++] = "copy";
    argv[n++] = "-f";
    argv[n++] = ffmpeg_format(ext);
    argv[n++] = m->result_tmp;
    argv[n] = NULL;
    haul_error_t err;
    m->merge = proc_start(m->base, argv, 0, on_merged, m, &err);
    if (!m->merge) {
        fail(m, &err);
        return;
    }
    m->phase = P_MERGE;
    notice(m, m->nstreams > 1 ? "merging video and audio with ffmpeg" : "remuxing to %s",
           ext);
}

static void on_list_end(void *ud, int ok, const haul_error_t *err);

/* ---- fragment lists ------------------------------------------------------------------ */

static int make_list(media_t *m, stream_t *s, const frag_t *frags, size_t n,
                     const char **key_urls, size_t nkeys, haul_error_t *err)
{
    frag_list_opts_t o = {
        .work_dir = m->work_dir,
        .name = s->name,
        .frags = frags,
        .nfrags = n,
        .key_urls = key_urls,
        .nkeys = nkeys,
        .connections = m->connections,
        .max_attempts = m->max_attempts,
        .net = &m->net,
        .open_ended = s->live && !s->closed,
    };
    s->list = frag_list_new(m->eng, m->base, &o, on_list_end, s, err);
    return s->list ? 0 : -1;
}

/* A new stream (its list comes later). */
static stream_t *new_stream(media_t *m, const char *name, const char *url, const char *ext)
{
    stream_t *s = &m->streams[m->nstreams++];
    s->m = m;
    s->name = xstrdup(name);
    s->url = xstrdup(url);
    s->ext = xstrdup(ext);
    return s;
}

/* Keeps a copy of a fragment (the url too), for plan.json. */
static void kept_add(stream_t *s, const frag_t *f)
{
    if (s->nkept == s->kept_cap) {
        s->kept_cap = s->kept_cap ? 2 * s->kept_cap : 16;
        frag_t *nk = realloc(s->kept, s->kept_cap * sizeof *nk);
        if (!nk)
            abort();
        s->kept = nk;
    }
    s->kept[s->nkept] = *f;
    s->kept[s->nkept].url = xstrdup(f->url);
    s->nkept++;
}

/* The index of a key URL in the stream's key list (added when new). */
static int kept_key(stream_t *s, const char *url)
{
    for (size_t k = 0; k < s->nkeys; k++)
        if (strcmp(s->keys[k], url) == 0)
            return (int)k;
    char **nk = realloc(s->keys, (s->nkeys + 1) * sizeof *nk);
    if (!nk)
        abort();
    s->keys = nk;
    s->keys[s->nkeys] = xstrdup(url);
    return (int)s->nkeys++;
}

/* Keeps the segments of a live playlist newer than s->last_msn (all of
 * them when first is set), with the init sections and keys they need.
 * Returns how many fragments were added to s->kept. */
static size_t take_segments(stream_t *s, const hls_playlist_t *pl, int first)
{
    size_t before = s->nkept;
    for (size_t i = 0; i < pl->nsegments; i++) {
        const hls_segment_t *seg = &pl->segments[i];
        if (!first && seg->msn <= s->last_msn)
            continue;
        int key = -1;
        if (seg->key >= 0 && pl->keys[seg->key].method == HLS_KEY_AES128 &&
            pl->keys[seg->key].uri)
            key = kept_key(s, pl->keys[seg->key].uri);
        if (seg->map >= 0 &&
            (!s->last_map || strcmp(s->last_map, pl->maps[seg->map].uri) != 0)) {
            const hls_map_t *map = &pl->maps[seg->map];
            frag_t f = {.url = map->uri,
                        .offset = map->length > 0 ? map->offset : 0,
                        .length = map->length > 0 ? map->length : -1,
                        .key = key >= 0 && pl->keys[seg->key].has_iv ? key : -1};
            if (f.key >= 0)
                memcpy(f.iv, pl->keys[seg->key].iv, 16);
            kept_add(s, &f);
            set_str(&s->last_map, map->uri);
            s->fmp4 = 1;
        }
        frag_t f = {.url = seg->uri,
                    .offset = seg->length > 0 ? seg->offset : 0,
                    .length = seg->length > 0 ? seg->length : -1,
                    .key = key};
        if (key >= 0)
            hls_segment_iv(pl, i, f.iv);
        kept_add(s, &f);
        s->last_msn = seg->msn;
        first = 0;
    }
    return s->nkept - before;
}

/* Adds request headers (yt-dlp's) after the job's own. */
static void add_headers(media_t *m, char *const *h, size_t n)
{
    if (n == 0)
        return;
    char **nh = realloc(m->headers, (m->net.nheaders + n) * sizeof *nh);
    if (!nh)
        abort();
    m->headers = nh;
    for (size_t i = 0; i < n; i++)
        m->headers[m->net.nheaders++] = xstrdup(h[i]);
    m->net.headers = (const char *const *)m->headers;
}

/* Builds stream s's fragment list from its parsed media playlist. */
static int build_list(media_t *m, stream_t *s, const hls_playlist_t *pl, haul_error_t *err)
{
    frag_t *frags = calloc(pl->nsegments + pl->nmaps + 1, sizeof *frags);
    const char **key_urls = calloc(pl->nkeys + 1, sizeof *key_urls);
    int *key_index = calloc(pl->nkeys + 1, sizeof *key_index);
    if (!frags || !key_urls || !key_index)
        abort();
    size_t nkeys = 0, n = 0;
    for (size_t k = 0; k < pl->nkeys; k++) {
        key_index[k] = -1;
        if (pl->keys[k].method == HLS_KEY_AES128 && pl->keys[k].uri) {
            key_index[k] = (int)nkeys;
            key_urls[nkeys++] = pl->keys[k].uri;
        }
    }
    int last_map = -1;
    s->fmp4 = 0;
    for (size_t i = 0; i < pl->nsegments; i++) {
        const hls_segment_t *seg = &pl->segments[i];
        int key = seg->key >= 0 ? key_index[seg->key] : -1;
        if (seg->map >= 0 && seg->map != last_map) {
            const hls_map_t *map = &pl->maps[seg->map];
            frag_t *f = &frags[n++];
            f->url = map->uri;
            f->offset = map->length > 0 ? map->offset : 0;
            f->length = map->length > 0 ? map->length : -1;
            /* an init section is encrypted only when its key gives an IV */
            f->key = key >= 0 && pl->keys[seg->key].has_iv ? key : -1;
            if (f->key >= 0)
                memcpy(f->iv, pl->keys[seg->key].iv, 16);
            last_map = seg->map;
            s->fmp4 = 1;
        }
        frag_t *f = &frags[n++];
        f->url = seg->uri;
        f->offset = seg->length > 0 ? seg->offset : 0;
        f->length = seg->length > 0 ? seg->length : -1;
        f->key = key;
        if (key >= 0)
            hls_segment_iv(pl, i, f->iv);
    }
    int rc = make_list(m, s, frags, n, key_urls, nkeys, err);
    free(frags);
    free(key_urls);
    free(key_index);
    return rc;
}

/* Builds stream s's list from its kept fragments (resolved by yt-dlp, or
 * a live recording's). */
static int build_list_kept(media_t *m, stream_t *s, haul_error_t *err)
{
    return make_list(m, s, s->kept, s->nkept, (const char **)s->keys, s->nkeys, err);
}

/* Keeps fragments yt-dlp listed (a whole file is one fragment). */
static void keep_resolved(stream_t *s, const resolved_frag_t *rf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        frag_t f = {.url = rf[i].url,
                    .offset = rf[i].length > 0 ? rf[i].offset : 0,
                    .length = rf[i].length > 0 ? rf[i].length : -1,
                    .key = -1};
        kept_add(s, &f);
    }
}

static void on_list_end(void *ud, int ok, const haul_error_t *err)
{
    stream_t *s = ud;
    media_t *m = s->m;
    if (!ok) {
        haul_error_t e = *err;
        if (m->nstreams > 1)
            herr_prefix(&e, "%s: ", s->name);
        fail(m, &e);
        return;
    }
    s->ended = 1;
    for (size_t i = 0; i < m->nstreams; i++)
        if (!m->streams[i].ended)
            return;
    streams_done(m);
}

static void schedule_refresh(media_t *m);

/* Starts every stream's list. */
static void start_lists(media_t *m)
{
    m->phase = P_FRAGMENTS;
    size_t already = 0, total = 0;
    for (size_t i = 0; i < m->nstreams; i++) {
        frag_progress_t p;
        m->streams[i].ended = 0;
        frag_list_progress(m->streams[i].list, &p);
        total += p.nfrags;
    }
    for (size_t i = 0; i < m->nstreams && m->phase == P_FRAGMENTS; i++) {
        haul_error_t err;
        if (frag_list_start(m->streams[i].list, &err) != 0) {
            if (m->state != DIRECT_FAILED)
                fail(m, &err);
            return;
        }
        if (m->phase == P_FRAGMENTS) {
            frag_progress_t p;
            frag_list_progress(m->streams[i].list, &p);
            already += p.frags_done;
        }
    }
    if (already > 0 && m->phase == P_FRAGMENTS)
        notice(m, "resuming: %zu of %zu fragments are already here", already, total);
    if (m->phase == P_FRAGMENTS)
        schedule_refresh(m); /* a recording goes on */
}

/* ---- the plan: what was chosen, kept in the work folder ------------------------------ */

static int playlist_path(const media_t *m, const char *name, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s.m3u8", m->work_dir, name) < (int)n ? 0 : -1;
}

/* plan.json: the URL, title, extension, extra headers and the streams: an
 * HLS stream by its playlist's URL (its text is kept in <name>.m3u8), a
 * resolved one by its fragments. */
static int save_plan(media_t *m)
{
    json_t *streams = json_array(), *headers = json_array();
    for (size_t i = m->job_headers; i < m->net.nheaders; i++)
        json_array_append_new(headers, json_string(m->headers[i]));
    for (size_t i = 0; i < m->nstreams; i++) {
        const stream_t *st = &m->streams[i];
        json_t *js = json_pack("{s:s, s:s?, s:s?}", "name", st->name, "url", st->url, "ext",
                               st->ext);
        if (st->kept) {
            json_t *fa = json_array(), *ka = json_array();
            for (size_t k = 0; k < st->nkept; k++) {
                const frag_t *f = &st->kept[k];
                char iv[33] = "";
                for (int b = 0; f->key >= 0 && b < 16; b++)
                    snprintf(iv + 2 * b, 3, "%02x", f->iv[b]);
                json_array_append_new(fa, json_pack("[s, I, I, i, s]", f->url,
                                                    (json_int_t)f->offset,
                                                    (json_int_t)f->length, f->key, iv));
            }
            for (size_t k = 0; k < st->nkeys; k++)
                json_array_append_new(ka, json_string(st->keys[k]));
            json_object_set_new(js, "frags", fa);
            json_object_set_new(js, "keys", ka);
            json_object_set_new(js, "fmp4", json_boolean(st->fmp4));
        }
        if (st->live) {
            json_object_set_new(js, "live", json_boolean(!st->closed));
            json_object_set_new(js, "last_msn", json_integer((json_int_t)st->last_msn));
            json_object_set_new(js, "target", json_real(st->target));
            if (st->last_map)
                json_object_set_new(js, "last_map", json_string(st->last_map));
        }
        json_array_append_new(streams, js);
    }
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:o, s:o}", "url", m->url, "title", m->title, "ext",
                          m->resolved_ext, "headers", headers, "streams", streams);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = text ? fs_write_atomic(m->plan_path, text, strlen(text)) : -1;
    free(text);
    return rc;
}

/* A live playlist: no EXT-X-ENDLIST and not VOD (it keeps growing). */
static int is_live(const hls_playlist_t *pl)
{
    return !pl->endlist && !(pl->playlist_type && strcasecmp(pl->playlist_type, "VOD") == 0);
}

/* Parses a kept or fetched media playlist and checks it can be downloaded. */
static int parse_media(media_t *m, const char *text, size_t len, const char *url,
                       hls_playlist_t *pl, haul_error_t *err)
{
    if (hls_parse(text, len, url, pl, err) != 0)
        return -1;
    if (pl->is_master)
        return herr_set(err, "hls_bad_playlist",
                        false, "%s is a master playlist where a media playlist was expected",
                        url);
    return hls_check_media(pl, m->record, err);
}

/* Rebuilds the streams from plan.json and the kept playlists. Returns 1
 * when it did, 0 when there is no usable plan (start from the URL). */
static int load_plan(media_t *m, haul_error_t *err)
{
    json_t *o = json_read_file(m->plan_path, PLAN_MAX);
    if (!o)
        return 0;
    const char *url = json_string_value(json_object_get(o, "url"));
    json_t *streams = json_object_get(o, "streams");
    if (!url || strcmp(url, m->url) != 0 || !json_is_array(streams) ||
        json_array_size(streams) == 0 || json_array_size(streams) > MAX_STREAMS) {
        json_decref(o);
        return 0;
    }
    const char *title = json_string_value(json_object_get(o, "title"));
    if (title) {
        set_str(&m->title, title);
        if (m->cbs.on_title)
            m->cbs.on_title(m->ud, m->title);
    }
    set_str(&m->resolved_ext, json_string_value(json_object_get(o, "ext")));
    json_t *headers = json_object_get(o, "headers");
    m->net.nheaders = m->job_headers; /* drop extras of an earlier start */
    for (size_t i = 0; i < json_array_size(headers); i++) {
        char *h = (char *)json_string_value(json_array_get(headers, i));
        if (h)
            add_headers(m, &h, 1);
    }
    int rc = 1;
    for (size_t i = 0; i < json_array_size(streams) && rc == 1; i++) {
        json_t *js = json_array_get(streams, i);
        const char *name = json_string_value(json_object_get(js, "name"));
        const char *surl = json_string_value(json_object_get(js, "url"));
        json_t *fa = json_object_get(js, "frags");
        if (!name || strchr(name, '/') || (!surl && !json_is_array(fa))) {
            rc = 0;
            break;
        }
        stream_t *st = new_stream(m, name, surl, json_string_value(json_object_get(js, "ext")));
        if (json_is_array(fa)) { /* kept fragments: resolved, or a recording's */
            json_t *ka = json_object_get(js, "keys");
            for (size_t k = 0; k < json_array_size(ka); k++) {
                const char *ku = json_string_value(json_array_get(ka, k));
                if (!ku)
                    rc = 0;
                else
                    kept_key(st, ku);
            }
            for (size_t k = 0; k < json_array_size(fa) && rc == 1; k++) {
                json_t *jf = json_array_get(fa, k);
                frag_t f = {.url = json_string_value(json_array_get(jf, 0)),
                            .offset = json_integer_value(json_array_get(jf, 1)),
                            .length = json_integer_value(json_array_get(jf, 2)),
                            .key = json_array_size(jf) > 3
                                       ? (int)json_integer_value(json_array_get(jf, 3))
                                       : -1};
                const char *iv = json_string_value(json_array_get(jf, 4));
                if (!f.url || f.key >= (int)st->nkeys || f.key < -1 ||
                    (f.key >= 0 && (!iv || strlen(iv) != 32))) {
                    rc = 0;
                    break;
                }
                for (int b = 0; f.key >= 0 && b < 16; b++)
                    f.iv[b] = (unsigned char)(hexval((unsigned char)iv[2 * b]) * 16 +
                                              hexval((unsigned char)iv[2 * b + 1]));
                kept_add(st, &f);
            }
            st->fmp4 = json_is_true(json_object_get(js, "fmp4"));
            if (json_is_boolean(json_object_get(js, "live"))) {
                st->live = 1;
                st->closed = !json_is_true(json_object_get(js, "live"));
                st->last_msn = (uint64_t)json_integer_value(json_object_get(js, "last_msn"));
                set_str(&st->last_map, json_string_value(json_object_get(js, "last_map")));
                st->target = json_number_value(json_object_get(js, "target"));
            }
            if (rc == 1 && st->nkept == 0 && !st->live)
                rc = 0;
            if (rc == 1 && build_list_kept(m, st, err) != 0)
                rc = -1;
            continue;
        }
        char path[PATH_MAX];
        char *pltext = NULL;
        if (playlist_path(m, name, path, sizeof path) != 0 ||
            !(pltext = fs_read_small(path, HLS_MAX_TEXT))) {
            rc = 0;
            break;
        }
        hls_playlist_t pl;
        if (parse_media(m, pltext, strlen(pltext), surl, &pl, err) != 0 ||
            build_list(m, st, &pl, err) != 0)
            rc = -1;
        hls_free(&pl);
        free(pltext);
    }
    json_decref(o);
    if (rc != 1)
        free_streams(m);
    return rc;
}

/* Every stream is known: the plan is written, then the lists start. */
static void plan_and_start(media_t *m)
{
    if (save_plan(m) != 0) {
        haul_error_t err;
        herr_set(&err, "io_error", false, "cannot write %s: %s", m->plan_path, strerror(errno));
        free_streams(m);
        fail(m, &err);
        return;
    }
    start_lists(m);
}

/* ---- fetching playlists ---------------------------------------------------------------- */

static void fetch(media_t *m, enum fetch_for what, const char *url);

static int on_text(void *ud, const char *data, size_t len)
{
    media_t *m = ud;
    return buf_add(&m->text, data, len, HLS_MAX_TEXT);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    media_t *m = arg;
    char *url = xstrdup(m->fetch_url);
    fetch(m, m->fetch_for, url);
    free(url);
}

static int add_stream(media_t *m, const char *name, const char *url, const char *text,
                      size_t len, haul_error_t *err)
{
    char path[PATH_MAX];
    if (playlist_path(m, name, path, sizeof path) != 0 ||
        fs_write_atomic(path, text, len) != 0)
        return herr_set(err, errno == ENOSPC ? "disk_full" : "io_error", false,
                        "cannot keep the playlist in %s: %s", m->work_dir, strerror(errno));
    hls_playlist_t pl;
    stream_t *s = new_stream(m, name, url, NULL);
    int rc = parse_media(m, text, len, url, &pl, err);
    if (rc == 0 && is_live(&pl)) { /* a recording: its fragments grow */
        s->live = 1;
        s->target = pl.target_duration;
        take_segments(s, &pl, 1);
        rc = build_list_kept(m, s, err);
        notice(m, "recording a live stream: %zu fragments so far; pause ends the recording",
               s->nkept);
    } else if (rc == 0) {
        rc = build_list(m, s, &pl, err);
    }
    hls_free(&pl);
    return rc;
}

/* A playlist arrived: what it means depends on what it was fetched for. */
static void got_playlist(media_t *m)
{
    haul_error_t err;
    herr_clear(&err);
    const char *url = m->fetch_url;
    if (m->fetch_for == FOR_TOP) {
        hls_playlist_t pl;
        if (hls_parse(m->text.data ? m->text.data : "", m->text.len, url, &pl, &err) != 0) {
            hls_free(&pl);
            fail(m, &err);
            return;
        }
        if (!m->title)
            title_from_url(m, m->url);
        if (m->cbs.on_title)
            m->cbs.on_title(m->ud, m->title);
        if (!pl.is_master) {
            int rc = hls_check_media(&pl, m->record, &err);
            hls_free(&pl);
            if (rc != 0 || add_stream(m, "video", url, m->text.data, m->text.len, &err) != 0) {
                free_streams(m);
                fail(m, &err);
                return;
            }
        } else {
            int v = hls_pick_variant(&pl, m->selector, &err);
            if (v < 0) {
                hls_free(&pl);
                fail(m, &err);
                return;
            }
            const hls_variant_t *var = &pl.variants[v];
            const hls_rendition_t *audio = hls_audio_for(&pl, var);
            char res[32] = "";
            if (var->height)
                snprintf(res, sizeof res, "%dx%d, ", var->width, var->height);
            notice(m, "variant %d of %zu: %s%.2f Mb/s%s%s", v + 1, pl.nvariants, res,
                   (double)var->bandwidth / 1e6, audio ? ", separate audio: " : "",
                   audio ? (audio->name ? audio->name : audio->group_id) : "");
            set_str(&m->pending_audio, audio ? audio->uri : NULL);
            char *vurl = xstrdup(var->uri);
            hls_free(&pl);
            fetch(m, FOR_VIDEO, vurl);
            free(vurl);
            return;
        }
    } else {
        const char *name = m->fetch_for == FOR_VIDEO ? "video" : "audio";
        if (add_stream(m, name, url, m->text.data, m->text.len, &err) != 0) {
            herr_prefix(&err, "the %s playlist: ", name);
            free_streams(m);
            fail(m, &err);
            return;
        }
        if (m->fetch_for == FOR_VIDEO && m->pending_audio) {
            char *aurl = m->pending_audio;
            m->pending_audio = NULL;
            fetch(m, FOR_AUDIO, aurl);
            free(aurl);
            return;
        }
    }
    plan_and_start(m);
}

static void on_fetched(void *ud, CURLcode cc, long status, int aborted, const char *detail,
                       long retry_after_s)
{
    media_t *m = ud;
    m->xfer = NULL;
    haul_error_t err;
    herr_clear(&err);
    if (aborted)
        herr_set(&err, "hls_too_large", false, "the playlist at %s is larger than %u MiB",
                 m->fetch_url, HLS_MAX_TEXT >> 20);
    else
        classify_result(cc, status, m->fetch_url, detail, &err);
    if (!herr_isset(&err)) {
        got_playlist(m);
        return;
    }
    err.retry_after_s = retry_after_s;
    if (err.transient && ++m->attempt < m->max_attempts) {
        long delay = backoff_delay_s(m->attempt, retry_after_s);
        struct timeval tv = {delay, 0};
        evtimer_add(m->retry_timer, &tv);
        notify(m, DIRECT_WAITING, &err);
        return;
    }
    fail(m, &err);
}

static void fetch(media_t *m, enum fetch_for what, const char *url)
{
    if (what != m->fetch_for)
        m->attempt = 0;
    m->fetch_for = what;
    set_str(&m->fetch_url, url);
    buf_clear(&m->text);
    transfer_opts_t o = m->net;
    o.url = url;
    transfer_cbs_t cbs = {NULL, on_text, on_fetched};
    haul_error_t err;
    m->phase = P_PLAYLIST;
    m->xfer = transfer_start(m->eng, &o, &cbs, m, &err);
    if (!m->xfer) {
        fail(m, &err);
        return;
    }
    if (m->state != DIRECT_RUNNING)
        notify(m, DIRECT_RUNNING, NULL);
}

/* ---- recording a live stream --------------------------------------------------------------- */

#define REFRESH_MIN_S 1.0
#define REFRESH_MAX_S 10.0
#define REFRESH_FAILURES 10 /* in a row: the stream is gone */

static int recording(const media_t *m)
{
    for (size_t i = 0; i < m->nstreams; i++)
        if (m->streams[i].live && !m->streams[i].closed)
            return 1;
    return 0;
}

/* Arms the refresh timer: the shortest target duration of the streams
 * still recording (RFC 8216 6.3.4), within [1, 10] s. */
static void schedule_refresh(media_t *m)
{
    double t = REFRESH_MAX_S;
    int any = 0;
    for (size_t i = 0; i < m->nstreams; i++) {
        const stream_t *st = &m->streams[i];
        if (!st->live || st->closed)
            continue;
        any = 1;
        if (st->target > 0 && st->target < t)
            t = st->target;
    }
    if (!any)
        return;
    if (t < REFRESH_MIN_S)
        t = REFRESH_MIN_S;
    struct timeval tv = {(long)t, (long)((t - (long)t) * 1e6)};
    evtimer_add(m->refresh_timer, &tv);
}

/* No more segments for this stream: its list ends once every fragment is
 * joined (and the media finishes when every list has). */
static void close_stream(stream_t *st)
{
    st->closed = 1;
    if (st->refresh) {
        transfer_abort(st->refresh);
        st->refresh = NULL;
    }
    save_plan(st->m);
    frag_list_close(st->list); /* may end the list, and the media, at once */
}

static int on_rtext(void *ud, const char *data, size_t len)
{
    stream_t *st = ud;
    return buf_add(&st->rtext, data, len, HLS_MAX_TEXT);
}

static void on_refreshed(void *ud, CURLcode cc, long status, int aborted, const char *detail,
                         long retry_after_s)
{
    (void)retry_after_s;
    stream_t *st = ud;
    media_t *m = st->m;
    st->refresh = NULL;
    haul_error_t err;
    herr_clear(&err);
    if (aborted)
        herr_set(&err, "hls_too_large", false, "the live playlist grew over %u MiB",
                 HLS_MAX_TEXT >> 20);
    else
        classify_result(cc, status, st->url, detail, &err);
    hls_playlist_t pl;
    memset(&pl, 0, sizeof pl);
    if (!herr_isset(&err) && hls_parse(st->rtext.data ? st->rtext.data : "", st->rtext.len, st->url, &pl, &err) == 0 &&
        pl.is_master)
        herr_set(&err, "hls_bad_playlist", false, "the live playlist became a master playlist");
    if (herr_isset(&err)) {
        hls_free(&pl);
        if (!err.transient || ++st->refresh_failures >= REFRESH_FAILURES) {
            notice(m, "the live %s playlist stopped answering (%s): the recording ends",
                   st->name, err.message);
            close_stream(st);
            return;
        }
        schedule_refresh(m);
        return;
    }
    st->refresh_failures = 0;
    if (pl.nsegments && pl.segments[0].msn > st->last_msn + 1)
        notice(m, "%llu %s segments went by before they could be fetched",
               (unsigned long long)(pl.segments[0].msn - st->last_msn - 1), st->name);
    size_t before = st->nkept;
    size_t n = take_segments(st, &pl, 0);
    int ended = !is_live(&pl);
    if (pl.target_duration > 0)
        st->target = pl.target_duration;
    hls_free(&pl);
    if (n && frag_list_append(st->list, st->kept + before, n, (const char *const *)st->keys,
                              st->nkeys, &err) != 0) {
        fail(m, &err);
        return;
    }
    if (n && save_plan(m) != 0) {
        herr_set(&err, "io_error", false, "cannot write %s: %s", m->plan_path, strerror(errno));
        fail(m, &err);
        return;
    }
    if (ended) {
        notice(m, "the live stream ended: finishing the recording");
        close_stream(st);
        return;
    }
    schedule_refresh(m);
}

static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    media_t *m = arg;
    for (size_t i = 0; i < m->nstreams; i++) {
        stream_t *st = &m->streams[i];
        if (!st->live || st->closed || st->refresh)
            continue;
        transfer_opts_t o = m->net;
        o.url = st->url;
        transfer_cbs_t cbs = {NULL, on_rtext, on_refreshed};
        haul_error_t err;
        buf_clear(&st->rtext);
        st->refresh = transfer_start(m->eng, &o, &cbs, st, &err);
        if (!st->refresh) {
            schedule_refresh(m); /* try again later */
            return;
        }
    }
}

int media_stop_recording(media_t *m)
{
    if (!recording(m))
        return 0;
    notice(m, "the recording stops: finishing what was recorded");
    evtimer_del(m->refresh_timer);
    for (size_t i = 0; i < m->nstreams && m->state == DIRECT_RUNNING; i++)
        if (m->streams[i].live && !m->streams[i].closed)
            close_stream(&m->streams[i]);
    return 1;
}

/* ---- resolving a page with yt-dlp ------------------------------------------------------ */

static void on_resolved(void *ud, int status, const char *out, size_t out_len,
                        const char *err_tail)
{
    media_t *m = ud;
    m->resolver = NULL;
    haul_error_t err;
    herr_clear(&err);
    if (resolve_check_run(status, out_len, err_tail, m->url, &err) != 0) {
        fail(m, &err);
        return;
    }
    resolved_t r;
    if (resolve_parse(out ? out : "", out_len, &r, &err) != 0) {
        resolved_free(&r);
        fail(m, &err);
        return;
    }
    set_str(&m->title, r.title ? r.title : NULL);
    if (!m->title)
        title_from_url(m, m->url);
    if (m->cbs.on_title)
        m->cbs.on_title(m->ud, m->title);
    set_str(&m->resolved_ext, r.ext);
    add_headers(m, r.headers, r.nheaders);
    const char *hls_video = NULL, *hls_audio = NULL;
    for (size_t i = 0; i < r.nstreams; i++) {
        resolved_stream_t *rs = &r.streams[i];
        if (rs->kind == RESOLVED_HLS) {
            if (strcmp(rs->name, "video") == 0)
                hls_video = rs->url;
            else
                hls_audio = rs->url;
            continue;
        }
        stream_t *st = new_stream(m, rs->name, NULL, rs->ext);
        keep_resolved(st, rs->frags, rs->nfrags);
        if (build_list_kept(m, st, &err) != 0) {
            resolved_free(&r);
            free_streams(m);
            fail(m, &err);
            return;
        }
    }
    notice(m, "yt-dlp: \"%s\", %zu stream%s", m->title, r.nstreams, r.nstreams > 1 ? "s" : "");
    if (hls_video && !hls_audio && r.nstreams == 1) {
        char *u = xstrdup(hls_video);
        resolved_free(&r);
        fetch(m, FOR_TOP, u); /* a master playlist is fine too */
        free(u);
        return;
    }
    set_str(&m->pending_audio, hls_video ? hls_audio : NULL);
    char *first = xstrdup(hls_video ? hls_video : hls_audio);
    resolved_free(&r);
    if (first) {
        fetch(m, hls_video ? FOR_VIDEO : FOR_AUDIO, first);
        free(first);
        return;
    }
    plan_and_start(m);
}

/* Runs yt-dlp -J on the page, with the job's headers and format. */
static void start_resolve(media_t *m)
{
    size_t cap = 16 + 2 * m->job_headers;
    const char **argv = calloc(cap, sizeof *argv);
    if (!argv)
        abort();
    size_t n = 0;
    argv[n++] = "yt-dlp";
    argv[n++] = "-J";
    argv[n++] = "--no-playlist";
    argv[n++] = "--no-warnings";
    char spec[128];
    hls_format_t fmt;
    if (hls_parse_format(m->selector, &fmt, NULL) != 0) /* checked in media_new */
        fmt.pick = HLS_PICK_BEST;
    n += resolve_format_args(&fmt, argv + n, spec, sizeof spec);
    for (size_t i = 0; i < m->job_headers; i++) {
        argv[n++] = "--add-header";
        argv[n++] = m->headers[i];
    }
    argv[n++] = "--";
    argv[n++] = m->url;
    argv[n] = NULL;
    haul_error_t err;
    m->resolver = proc_start(m->base, argv, RESOLVE_MAX_JSON, on_resolved, m, &err);
    free(argv);
    if (!m->resolver) {
        if (strcmp(err.code, "tool_missing") == 0)
            herr_set(&err, "ytdlp_missing", false,
                     "%s is a web page; haul finds the video in a page with yt-dlp, which is "
                     "not installed: install it (apt-get install yt-dlp), or give the video's "
                     "own URL, or use mode direct to save the page itself",
                     m->url);
        fail(m, &err);
        return;
    }
    m->phase = P_RESOLVE;
    notice(m, "asking yt-dlp what the page holds");
}

/* ---- public ---------------------------------------------------------------------- */

media_t *media_new(engine_t *eng, struct event_base *base, const media_opts_t *mo,
                   const direct_cbs_t *cbs, void *ud, haul_error_t *err)
{
    const direct_opts_t *o = mo->base;
    if (!o->url || !o->dir || !o->work_dir) {
        herr_set(err, "bad_option", false, "a download needs a URL, a folder and a work folder");
        return NULL;
    }
    char sel[128], cont[16];
    if (split_format(mo->format, sel, sizeof sel, cont, sizeof cont, err) != 0)
        return NULL;
    media_t *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    m->eng = eng;
    m->base = base;
    if (cbs)
        m->cbs = *cbs;
    m->ud = ud;
    m->url = xstrdup(o->url);
    m->dir = xstrdup(o->dir);
    m->work_dir = xstrdup(o->work_dir);
    m->filename = xstrdup(o->filename);
    m->sha256 = xstrdup(o->sha256);
    m->selector = xstrdup(sel);
    m->container = xstrdup(cont);
    m->connections = mo->connections;
    m->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_ATTEMPTS;
    m->keep_until_released = o->keep_until_released;
    m->overwrite = o->overwrite;
    m->sync = o->sync;
    m->user_agent = xstrdup(o->user_agent);
    m->proxy = xstrdup(o->proxy);
    m->ca_file = xstrdup(o->ca_file);
    m->net.user_agent = m->user_agent;
    m->net.proxy = m->proxy;
    m->net.ca_file = m->ca_file;
    m->net.max_speed = o->max_speed;
    m->net.connect_timeout_s = o->connect_timeout_s;
    m->net.stall_timeout_s = o->stall_timeout_s;
    if (o->nheaders) {
        if (!(m->headers = calloc(o->nheaders, sizeof *m->headers)))
            abort();
        for (size_t i = 0; i < o->nheaders; i++)
            m->headers[i] = xstrdup(o->headers[i]);
        m->net.headers = (const char *const *)m->headers;
        m->net.nheaders = o->nheaders;
    }
    m->job_headers = o->nheaders;
    m->resolve = mo->resolve;
    m->record = mo->record;
    if (!(m->retry_timer = evtimer_new(base, on_retry, m)) ||
        !(m->refresh_timer = evtimer_new(base, on_refresh_timer, m)))
        abort();
    if (snprintf(m->result_tmp, sizeof m->result_tmp, "%s/result", o->work_dir) >=
            (int)sizeof m->result_tmp ||
        snprintf(m->plan_path, sizeof m->plan_path, "%s/plan.json", o->work_dir) >=
            (int)sizeof m->plan_path) {
        media_free(m);
        herr_set(err, "bad_option", false, "the work folder's path is too long: %s",
                 o->work_dir);
        return NULL;
    }
    meter_init(&m->meter, 5.0);
    herr_clear(&m->err);
    m->state = DIRECT_IDLE;
    return m;
}

int media_start(media_t *m, haul_error_t *err)
{
    if (m->fin)
        return herr_set(err, "bad_state", false,
                        "the download is still finishing; try again in a moment");
    switch (m->state) {
    case DIRECT_IDLE: case DIRECT_PAUSED: case DIRECT_FAILED: case DIRECT_WAITING:
    case DIRECT_CANCELED:
        break;
    default:
        return herr_set(err, "bad_state", false, "the download is %s; it cannot start",
                        direct_state_name(m->state));
    }
    stop_activity(m);
    char *found = NULL;
    int64_t size = 0;
    if (finalize_found(m->work_dir, m->result_tmp, &found, &size)) {
        free(m->result_path);
        m->result_path = found;
        notice(m, "the file was already moved into place before a restart");
        notify(m, DIRECT_DONE, NULL);
        return 0;
    }
    if (fs_mkdirs(m->work_dir) != 0)
        return herr_set(err, errno == ENOSPC ? "disk_full" : "io_error", false,
                        "cannot create the folder %s: %s", m->work_dir, strerror(errno));
    if (fs_mkdirs(m->dir) != 0)
        return herr_set(err, "io_error", false, "cannot create the folder %s: %s", m->dir,
                        strerror(errno));
    unlink(m->result_tmp); /* a merge cut short */
    herr_clear(&m->err);
    meter_reset(&m->meter);
    m->attempt = 0;
    notify(m, DIRECT_RUNNING, NULL);
    if (m->nstreams == 0) {
        haul_error_t perr;
        herr_clear(&perr);
        int rc = load_plan(m, &perr);
        if (rc < 0) { /* the kept playlists no longer parse: start over */
            notice(m, "the kept plan is unusable (%s): starting over", perr.message);
            fs_remove_flat_dir(m->work_dir);
            if (fs_mkdirs(m->work_dir) != 0)
                return herr_set(err, "io_error", false, "cannot create the folder %s: %s",
                                m->work_dir, strerror(errno));
        }
        if (rc != 1) {
            if (m->resolve)
                start_resolve(m);
            else
                fetch(m, FOR_TOP, m->url);
            goto out;
        }
    }
    start_lists(m);
out:
    if (m->state == DIRECT_FAILED) {
        *err = m->err;
        return -1;
    }
    return 0;
}

void media_pause(media_t *m)
{
    if (m->state != DIRECT_RUNNING && m->state != DIRECT_WAITING)
        return;
    stop_activity(m);
    meter_reset(&m->meter);
    m->phase = P_NONE;
    m->state = DIRECT_PAUSED;
}

void media_cancel(media_t *m)
{
    if (m->state == DIRECT_DONE)
        return;
    if (m->fin) {
        m->cancel_when_finished = 1;
        m->state = DIRECT_CANCELED;
        return;
    }
    stop_activity(m);
    free_streams(m);
    fs_discard(m->work_dir);
    m->phase = P_NONE;
    m->state = DIRECT_CANCELED;
}

void media_status(media_t *m, direct_status_t *st)
{
    int64_t done = 0, total = 0;
    size_t fd = 0, fn = 0;
    for (size_t i = 0; i < m->nstreams; i++) {
        frag_progress_t p;
        frag_list_progress(m->streams[i].list, &p);
        done += p.bytes_done;
        if (total >= 0)
            total = p.bytes_total >= 0 ? total + p.bytes_total : -1;
        fd += p.frags_done;
        fn += p.nfrags;
    }
    if (m->nstreams == 0)
        total = -1;
    if (m->state == DIRECT_DONE && m->result_path) {
        int64_t n = fs_size(m->result_path);
        if (n > 0)
            done = total = n;
    }
    if (m->state == DIRECT_RUNNING)
        meter_sample(&m->meter, mono_now(), done);
    memset(st, 0, sizeof *st);
    st->state = m->state;
    st->bytes_done = done;
    st->bytes_total = total;
    st->speed_bps = m->state == DIRECT_RUNNING ? meter_speed(&m->meter) : 0;
    st->eta_s = total >= 0 ? meter_eta(st->speed_bps, total - done) : -1;
    st->attempt = m->attempt;
    st->frags_done = fd;
    st->frags_total = fn;
}

const char *media_result_path(const media_t *m)
{
    return m->state == DIRECT_DONE ? m->result_path : NULL;
}

const haul_error_t *media_error(const media_t *m)
{
    return &m->err;
}

const char *media_title(const media_t *m)
{
    return m->title;
}

void media_release(media_t *m)
{
    if (m->state == DIRECT_DONE)
        finalize_remove_work_dir(m->work_dir);
}

int media_busy(const media_t *m)
{
    return m->fin != NULL;
}

void media_free(media_t *m)
{
    if (!m)
        return;
    if (m->fin) {
        haul_error_t e;
        char *result = NULL;
        finalize_reap(m->fin, &e, &result);
        m->fin = NULL;
        if (m->cancel_when_finished && result)
            unlink(result);
        free(result);
    }
    stop_activity(m);
    free_streams(m);
    if (m->retry_timer)
        event_free(m->retry_timer);
    if (m->refresh_timer)
        event_free(m->refresh_timer);
    for (size_t i = 0; i < m->net.nheaders; i++)
        free(m->headers[i]);
    free(m->headers);
    free(m->url);
    free(m->dir);
    free(m->work_dir);
    free(m->filename);
    free(m->sha256);
    free(m->selector);
    free(m->container);
    free(m->user_agent);
    free(m->proxy);
    free(m->ca_file);
    free(m->title);
    free(m->fetch_url);
    buf_free(&m->text);
    free(m->pending_audio);
    free(m->resolved_ext);
    free(m->result_path);
    free(m);
}
