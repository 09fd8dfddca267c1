/* download: one job's download, whatever it turns out to be. The one
 * interface the scheduler and `haul get` use.
 *
 * By mode: "direct" is one resource (direct.h), "hls" an HLS playlist and
 * "ytdlp" a web page resolved by yt-dlp (both media.h). "auto" decides: a
 * URL whose path ends in .m3u8 is HLS; any other starts as direct, and a
 * response whose Content-Type says playlist (HLS) or web page (yt-dlp)
 * hands over before a byte is written. What it became is
 * download_source(): "direct", "hls" or "ytdlp" (on_source tells when it
 * is known or changes). A job that knows its source (a restart) passes it
 * as the mode, so nothing is sniffed or resolved twice.
 *
 * Same contract as direct.h: owned by its creator; callbacks run on the
 * loop and may call download_pause/download_cancel, not download_free. */
#ifndef HAUL_ENGINE_DOWNLOAD_H
#define HAUL_ENGINE_DOWNLOAD_H

#include "engine/direct.h"

typedef struct download download_t;

typedef struct download_opts {
    direct_opts_t d;            /* URL, folders, name, network options */
    const char *mode;           /* "auto" (also NULL or ""), "direct", "hls",
                                   "ytdlp" */
    const char *format;         /* streams: see media.h */
    unsigned connections;       /* streams: fragments in flight, 0: 4 */
    int record;                 /* a live HLS playlist is recorded */
} download_opts_t;

typedef struct download_cbs {
    void (*on_state)(void *ud, direct_state_t state, const haul_error_t *err);
    void (*on_notice)(void *ud, const char *message);
    /* What the download is ("direct", "hls", "ytdlp") and its title when known
     * (NULL: none), once known or when it changes. */
    void (*on_source)(void *ud, const char *source, const char *title);
} download_cbs_t;

/* Checks the mode and format. Returns 0, or -1 with err ("bad_mode",
 * "bad_format") naming what is accepted. */
int download_check(const char *mode, const char *format, haul_error_t *err);

/* The bytes kept in a work folder, whatever kind of download left them:
 * what a resumed job starts from. */
int64_t download_kept_bytes(const char *work_dir);

download_t *download_new(engine_t *eng, struct event_base *base, const download_opts_t *opts,
                         const download_cbs_t *cbs, void *ud, haul_error_t *err);
int download_start(download_t *dl, haul_error_t *err);
void download_pause(download_t *dl);
void download_cancel(download_t *dl);
void download_status(download_t *dl, direct_status_t *st);
const char *download_result_path(const download_t *dl);
const haul_error_t *download_error(const download_t *dl);
const char *download_source(const download_t *dl);
/* A recording stops taking new segments and finishes (DONE when the file
 * is in place). Returns 1, or 0 when dl is not recording (nothing done). */
int download_stop_recording(download_t *dl);

void download_release(download_t *dl);
int download_busy(const download_t *dl);
void download_free(download_t *dl);

#endif
