/* media: a stream downloaded as fragments: an HLS playlist (master or
 * media) becomes one or two fragment lists (video, and a separate audio
 * rendition), joined in order, merged or remuxed by ffmpeg when needed,
 * and finished like every download (finalize.c). A web page is first
 * resolved by yt-dlp (resolve.h) into the same kind of streams: HLS
 * playlists, DASH fragments, or whole files (one fragment each).
 *
 * The work folder holds plan.json (what was chosen: the media playlists'
 * URLs, the title, the container) and the media playlists' text, so a
 * resumed job downloads exactly the fragments it started with, never
 * fetching a finished one again (fragments.h).
 *
 * It speaks direct.h's vocabulary (states, status, callbacks), so the
 * scheduler and `haul get` drive both the same way through download.h.
 * A media_t is owned by its creator; its callbacks run on the loop and
 * may call media_pause/media_cancel but not media_free. */
#ifndef HAUL_ENGINE_MEDIA_H
#define HAUL_ENGINE_MEDIA_H

#include "engine/direct.h"

typedef struct media media_t;

typedef struct media_opts {
    const direct_opts_t *base;  /* URL, folders, name, network, sha256... */
    const char *format;         /* "[best|worst|720p|<N>k][:mp4|:ts|:mkv]",
                                   or just "mp4"/"ts"/"mkv"; NULL: "best" */
    unsigned connections;       /* fragments in flight, 0: 4 */
    int resolve;                /* the URL is a web page: ask yt-dlp what
                                   it holds (resolve.h), then download that */
    int record;                 /* a live playlist is recorded (until
                                   media_stop_recording or its end), not
                                   refused */
} media_opts_t;

/* A new stream download; opts (and base) are copied. Returns NULL with
 * err set on bad options (an unknown format). */
media_t *media_new(engine_t *eng, struct event_base *base, const media_opts_t *opts,
                   const direct_cbs_t *cbs, void *ud, haul_error_t *err);

/* Starts or resumes, like direct_start. */
int media_start(media_t *m, haul_error_t *err);

/* Stops now, keeps what is finished (fragments, joined data); a merge in
 * progress is stopped and redone on resume. */
void media_pause(media_t *m);

/* Stops now and deletes the work folder. */
void media_cancel(media_t *m);

void media_status(media_t *m, direct_status_t *st);
const char *media_result_path(const media_t *m);
const haul_error_t *media_error(const media_t *m);

/* The stream's title once known (borrowed; NULL before). */
const char *media_title(const media_t *m);

/* A recording (media_opts_t.record on a live playlist) stops taking new
 * segments and finishes: the fragments taken are fetched and joined, and
 * the file is finished (DONE). Returns 1, or 0 when m is not recording. */
int media_stop_recording(media_t *m);

void media_release(media_t *m);
int media_busy(const media_t *m);
void media_free(media_t *m);

/* Checks a format string (see media_opts_t). Returns 0, or -1 with err
 * ("bad_format") naming what is accepted. */
int media_check_format(const char *format, haul_error_t *err);

#endif
