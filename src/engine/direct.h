/* direct: one resource downloaded to one file, from start to an atomically
 * renamed, verified result.
 *
 * The data goes to <work_dir>/data.part, what is needed to resume it to
 * <work_dir>/meta.json (URL, validators, size, name). The part file's
 * length is the resume offset, never anything else. Transient failures are
 * retried with backoff from where they stopped; the finished file is
 * verified (size, optional SHA-256) and only then renamed into <dir> by a
 * helper thread (fsync and hashing must not block the loop).
 *
 * A direct_t is owned by its creator; its callbacks run on the loop and
 * may call direct_pause/direct_cancel but not direct_free. */
#ifndef HAUL_ENGINE_DIRECT_H
#define HAUL_ENGINE_DIRECT_H

#include <stdint.h>

#include "core/error.h"
#include "engine/transfer.h"

typedef struct direct direct_t;

/* The temp area's name inside a download folder: work folders are
 * <dir>/DIRECT_TMP/<id>/. */
#define DIRECT_TMP ".haul-tmp"

/* The bytes kept in a work folder (its part file's length; 0 when none):
 * what a download started there resumes from. */
int64_t direct_kept_bytes(const char *work_dir);

typedef enum direct_state {
    DIRECT_IDLE,       /* created, not started */
    DIRECT_RUNNING,    /* a request is in flight */
    DIRECT_WAITING,    /* a transient failure: waiting to retry */
    DIRECT_FINALIZING, /* all bytes here: verifying and renaming */
    DIRECT_DONE,       /* the file is in place */
    DIRECT_FAILED,     /* a permanent failure or attempts exhausted */
    DIRECT_PAUSED,     /* stopped by the user; the part data is kept */
    DIRECT_CANCELED,   /* stopped by the user; the part data is gone */
} direct_state_t;

typedef struct direct_opts {
    const char *url;
    const char *dir;            /* where the finished file goes */
    const char *work_dir;       /* temp folder of this download */
    const char *filename;       /* forced name inside dir, or NULL */
    int overwrite;              /* a forced name replaces an existing file */
    const char *sha256;         /* expected lowercase hex, or NULL */
    const char *const *headers; /* extra request headers "Name: value" */
    size_t nheaders;
    const char *user_agent;
    const char *proxy;
    const char *ca_file;        /* trusted CAs (PEM), NULL: the system's */
    int64_t max_speed;          /* bytes/s, 0 = unlimited */
    long connect_timeout_s;
    long stall_timeout_s;
    unsigned max_attempts;      /* 0: 5 */
    int keep_until_released;    /* DONE keeps the work folder (with its
                                   finished.json) until direct_release():
                                   the owner records "done" first */
    int owner_retries;          /* a transient failure ends in FAILED with
                                   err->transient set: the owner decides
                                   when to try again (the daemon's queue) */
    int sync;                   /* fsync file and folder before done */
    int sniff;                  /* mode auto: a response that says it is
                                   an HLS playlist or a web page
                                   (Content-Type) ends the download before
                                   a byte is written, as FAILED with code
                                   DIRECT_IS_PLAYLIST or DIRECT_IS_PAGE */
} direct_opts_t;

/* The error codes of a sniffed playlist or page (direct_opts_t.sniff). */
#define DIRECT_IS_PLAYLIST "is_playlist"
#define DIRECT_IS_PAGE "is_page"

/* True for the Content-Types of HLS playlists (application/vnd.apple.mpegurl,
 * application/x-mpegurl, audio/mpegurl, audio/x-mpegurl). */
int content_type_is_playlist(const char *content_type);

typedef struct direct_cbs {
    /* The state changed (RUNNING, WAITING, DONE, FAILED). err is set for
     * WAITING (what went wrong) and FAILED. */
    void (*on_state)(void *ud, direct_state_t state, const haul_error_t *err);
    /* Something the user should know that is not an error ("the server
     * cannot resume: starting over"). */
    void (*on_notice)(void *ud, const char *message);
    /* Streams (media.h): the title, once known. May be NULL. */
    void (*on_title)(void *ud, const char *title);
} direct_cbs_t;

typedef struct direct_status {
    direct_state_t state;
    int64_t bytes_done;         /* on disk or in the write buffer */
    int64_t bytes_total;        /* -1 when unknown */
    double speed_bps;
    int64_t eta_s;              /* -1 when unknown */
    unsigned attempt;           /* of the current streak of failures */
    double retry_in_s;          /* WAITING: seconds until the next try */
    size_t frags_done;          /* streams (media.h): fragments finished */
    size_t frags_total;         /* of this many; 0 for a single resource */
} direct_status_t;

/* A new download; opts is copied. Creates nothing on disk yet. Returns
 * NULL with err set on bad options or no memory. */
direct_t *direct_new(engine_t *eng, struct event_base *base,
                     const direct_opts_t *opts, const direct_cbs_t *cbs,
                     void *ud, haul_error_t *err);

/* Starts or resumes (from IDLE, PAUSED, FAILED or WAITING) from the bytes
 * in the work folder. When an earlier run had already moved the finished
 * file into place (finished.json, same inode) and was stopped before it
 * could report it, reports DONE at once instead. Returns 0, or -1 with err set (the work folder cannot
 * be created, ...). */
int direct_start(direct_t *d, haul_error_t *err);

/* Stops now, keeps the part data (buffered bytes are written first). When
 * it returns, no request is in flight. No-op unless RUNNING or WAITING. */
void direct_pause(direct_t *d);

/* Stops now and deletes the work folder. No-op when DONE. While the file
 * is being finished, returns at once (CANCELED) and the finished file, if
 * any, is removed when the helper thread reports back; direct_start is
 * refused until then. */
void direct_cancel(direct_t *d);

/* A snapshot of the progress; samples the speed meter. */
void direct_status(direct_t *d, direct_status_t *st);

/* The finished file's path once DONE (borrowed), else NULL. */
const char *direct_result_path(const direct_t *d);

/* The last error (borrowed; code "" when none). */
const haul_error_t *direct_error(const direct_t *d);

/* Stops whatever runs (a finalizing thread is waited for) and frees d.
 * Keeps the part data, like pause. */
void direct_free(direct_t *d);

/* After DONE with keep_until_released: the owner has recorded it; the
 * work folder goes. */
void direct_release(direct_t *d);

/* True while the helper thread finishes the file: direct_free would wait
 * for it. */
int direct_busy(const direct_t *d);

/* A name for a state: "running", "paused", ... */
const char *direct_state_name(direct_state_t st);

#endif
