/* download.c: see download.h. A thin switch over direct_t and media_t; the
 * one thing it does itself is the hand-over from a sniffed direct start
 * to HLS, which happens on a zero-delay event because a direct_t cannot
 * be freed inside its own callback. */
#include "engine/download.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/fragments.h"
#include "engine/media.h"
#include "util/buf.h"

struct download {
    engine_t *eng;
    struct event_base *base;
    download_cbs_t cbs;
    void *ud;
    download_opts_t o;           /* strings borrowed from copies below */
    char *url, *dir, *work_dir, *filename, *sha256, *user_agent, *proxy, *ca_file, *format;
    char **headers;
    direct_t *direct;            /* one of these two */
    media_t *media;
    int sniffing;                /* mode auto, started as direct */
    int page;                    /* the handover is to yt-dlp: a web page */
    int handing_over;            /* the handover event is due */
    struct event *handover;
};

static const char *const MODES[] = {"auto", "direct", "hls", "ytdlp"};

int download_check(const char *mode, const char *format, haul_error_t *err)
{
    int known = !mode || !mode[0];
    for (size_t i = 0; !known && i < sizeof MODES / sizeof MODES[0]; i++)
        known = strcmp(mode, MODES[i]) == 0;
    if (!known)
        return herr_set(err, "bad_mode", false,
                        "must be \"auto\", \"direct\", \"hls\" or \"ytdlp\" (got \"%s\")",
                        mode);
    return media_check_format(format, err);
}

/* True when the URL's path ends in .m3u8 (before any query). */
static int looks_like_playlist(const char *url)
{
    size_t n = strcspn(url, "?#");
    return n >= 5 && strncasecmp(url + n - 5, ".m3u8", 5) == 0;
}

const char *download_source(const download_t *dl);

static void on_state(void *ud, direct_state_t st, const haul_error_t *err)
{
    download_t *dl = ud;
    if (dl->direct && dl->sniffing && st == DIRECT_FAILED && err &&
        (strcmp(err->code, DIRECT_IS_PLAYLIST) == 0 || strcmp(err->code, DIRECT_IS_PAGE) == 0)) {
        dl->handing_over = 1;
        dl->page = strcmp(err->code, DIRECT_IS_PAGE) == 0;
        event_active(dl->handover, 0, 0); /* to HLS, outside this callback */
        return;
    }
    if (dl->cbs.on_state)
        dl->cbs.on_state(dl->ud, st, err);
}

static void on_notice(void *ud, const char *msg)
{
    download_t *dl = ud;
    if (dl->cbs.on_notice)
        dl->cbs.on_notice(dl->ud, msg);
}

static void on_title(void *ud, const char *title)
{
    download_t *dl = ud;
    if (dl->cbs.on_source)
        dl->cbs.on_source(dl->ud, download_source(dl), title);
}

static int make_media(download_t *dl, int page, haul_error_t *err)
{
    media_opts_t mo = {.base = &dl->o.d, .format = dl->o.format,
                       .connections = dl->o.connections, .resolve = page,
                       .record = dl->o.record};
    direct_cbs_t cbs = {on_state, on_notice, on_title};
    dl->media = media_new(dl->eng, dl->base, &mo, &cbs, dl, err);
    if (!dl->media)
        return -1;
    dl->page = page;
    if (dl->cbs.on_source)
        dl->cbs.on_source(dl->ud, download_source(dl), NULL);
    return 0;
}

static void on_handover(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    download_t *dl = arg;
    direct_free(dl->direct);
    dl->direct = NULL;
    dl->sniffing = 0;
    dl->handing_over = 0;
    on_notice(dl, dl->page ? "the URL is a web page" : "the URL is an HLS playlist");
    haul_error_t err;
    herr_clear(&err);
    if (make_media(dl, dl->page, &err) != 0) {
        if (dl->cbs.on_state)
            dl->cbs.on_state(dl->ud, DIRECT_FAILED, &err);
        return;
    }
    if (media_start(dl->media, &err) != 0 && !herr_isset(media_error(dl->media)) &&
        dl->cbs.on_state) /* refused before it began: not reported yet */
        dl->cbs.on_state(dl->ud, DIRECT_FAILED, &err);
}

int64_t download_kept_bytes(const char *work_dir)
{
    return direct_kept_bytes(work_dir) + frag_kept_bytes(work_dir);
}

download_t *download_new(engine_t *eng, struct event_base *base, const download_opts_t *o,
                         const download_cbs_t *cbs, void *ud, haul_error_t *err)
{
    if (download_check(o->mode, o->format, err) != 0)
        return NULL;
    download_t *dl = calloc(1, sizeof *dl);
    if (!dl)
        abort();
    dl->eng = eng;
    dl->base = base;
    if (cbs)
        dl->cbs = *cbs;
    dl->ud = ud;
    dl->o = *o;
    dl->o.d.url = dl->url = xstrdup(o->d.url);
    dl->o.d.dir = dl->dir = xstrdup(o->d.dir);
    dl->o.d.work_dir = dl->work_dir = xstrdup(o->d.work_dir);
    dl->o.d.filename = dl->filename = xstrdup(o->d.filename);
    dl->o.d.sha256 = dl->sha256 = xstrdup(o->d.sha256);
    dl->o.d.user_agent = dl->user_agent = xstrdup(o->d.user_agent);
    dl->o.d.proxy = dl->proxy = xstrdup(o->d.proxy);
    dl->o.d.ca_file = dl->ca_file = xstrdup(o->d.ca_file);
    dl->o.format = dl->format = xstrdup(o->format);
    dl->o.mode = NULL;
    if (o->d.nheaders) {
        if (!(dl->headers = calloc(o->d.nheaders, sizeof *dl->headers)))
            abort();
        for (size_t i = 0; i < o->d.nheaders; i++)
            dl->headers[i] = xstrdup(o->d.headers[i]);
        dl->o.d.headers = (const char *const *)dl->headers;
    }
    if (!(dl->handover = event_new(base, -1, 0, on_handover, dl)))
        abort();
    const char *mode = o->mode && o->mode[0] ? o->mode : "auto";
    int page = strcmp(mode, "ytdlp") == 0;
    int hls = strcmp(mode, "hls") == 0 ||
              (strcmp(mode, "auto") == 0 && looks_like_playlist(o->d.url));
    int rc;
    if (hls || page) {
        rc = make_media(dl, page, err);
    } else {
        dl->sniffing = strcmp(mode, "auto") == 0;
        dl->o.d.sniff = dl->sniffing;
        direct_cbs_t dcbs = {on_state, on_notice, NULL};
        dl->direct = direct_new(eng, base, &dl->o.d, &dcbs, dl, err);
        rc = dl->direct ? 0 : -1;
        if (rc == 0 && dl->cbs.on_source)
            dl->cbs.on_source(dl->ud, "direct", NULL);
    }
    if (rc != 0) {
        download_free(dl);
        return NULL;
    }
    return dl;
}

int download_start(download_t *dl, haul_error_t *err)
{
    return dl->media ? media_start(dl->media, err) : direct_start(dl->direct, err);
}

/* A due handover is dropped: the next start begins again from the mode
 * (and finds the playlist at once). */
static void drop_handover(download_t *dl)
{
    if (!dl->handing_over)
        return;
    event_del(dl->handover);
    dl->handing_over = 0;
}

void download_pause(download_t *dl)
{
    drop_handover(dl);
    if (dl->media)
        media_pause(dl->media);
    else
        direct_pause(dl->direct);
}

void download_cancel(download_t *dl)
{
    drop_handover(dl);
    if (dl->media)
        media_cancel(dl->media);
    else
        direct_cancel(dl->direct);
}

void download_status(download_t *dl, direct_status_t *st)
{
    if (dl->media)
        media_status(dl->media, st);
    else
        direct_status(dl->direct, st);
    if (dl->handing_over)
        st->state = DIRECT_RUNNING; /* between the two */
}

const char *download_result_path(const download_t *dl)
{
    return dl->media ? media_result_path(dl->media) : direct_result_path(dl->direct);
}

const haul_error_t *download_error(const download_t *dl)
{
    return dl->media ? media_error(dl->media) : direct_error(dl->direct);
}

const char *download_source(const download_t *dl)
{
    return dl->media ? (dl->page ? "ytdlp" : "hls") : "direct";
}

int download_stop_recording(download_t *dl)
{
    return dl->media ? media_stop_recording(dl->media) : 0;
}

void download_release(download_t *dl)
{
    if (dl->media)
        media_release(dl->media);
    else
        direct_release(dl->direct);
}

int download_busy(const download_t *dl)
{
    return dl->media ? media_busy(dl->media) : direct_busy(dl->direct);
}

void download_free(download_t *dl)
{
    if (!dl)
        return;
    if (dl->handover)
        event_free(dl->handover);
    direct_free(dl->direct);
    media_free(dl->media);
    for (size_t i = 0; i < dl->o.d.nheaders && dl->headers; i++)
        free(dl->headers[i]);
    free(dl->headers);
    free(dl->url);
    free(dl->dir);
    free(dl->work_dir);
    free(dl->filename);
    free(dl->sha256);
    free(dl->user_agent);
    free(dl->proxy);
    free(dl->ca_file);
    free(dl->format);
    free(dl);
}
