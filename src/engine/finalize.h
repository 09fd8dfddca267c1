/* finalize: the end of every download, whatever fetched it (direct, HLS,
 * yt-dlp): on a helper thread, because fsync and hashing a large file can
 * take seconds and the loop must not wait:
 *   fsync the data, check its size and optional SHA-256, note the target
 *   in <work_dir>/finished.json, rename it into the download folder
 *   without replacing anything ("name (1).ext" on a clash), fsync the
 *   folder, and remove the work folder (unless the owner keeps it until
 *   it has recorded the result).
 * The thread reports back through a pipe watched by the loop: done(ud)
 * runs on the loop, and the owner calls finalize_reap() there. */
#ifndef HAUL_ENGINE_FINALIZE_H
#define HAUL_ENGINE_FINALIZE_H

#include <stdint.h>

#include "core/error.h"

struct event_base;
typedef struct finalize finalize_t;

typedef struct finalize_opts {
    int fd;                 /* the finished data, open for reading: taken
                               (the thread closes it) when start succeeds */
    const char *part_path;  /* its path, renamed into place */
    const char *work_dir;   /* holds finished.json; removed after */
    const char *dir;        /* the download folder */
    const char *name;       /* the file's name in dir */
    int overwrite;          /* replace dir/name instead of numbering */
    int sync;               /* fsync file and folder */
    int keep_work_dir;      /* done keeps work_dir (and its finished.json)
                               until finalize_remove_work_dir() */
    int64_t expect_size;    /* -1: unknown */
    const char *sha256;     /* expected lowercase hex, or NULL */
} finalize_opts_t;

/* Starts the thread; opts is copied. done(ud) runs on base's loop when the
 * thread has finished. Returns NULL with err set (and o->fd still the
 * caller's) when it cannot start. */
finalize_t *finalize_start(struct event_base *base, const finalize_opts_t *o,
                           void (*done)(void *ud), void *ud, haul_error_t *err);

/* Waits for the thread (at once after done() ran), frees f, and gives its
 * verdict: err ("" when the file is in place) and *result, the final path
 * (caller frees; NULL on failure). */
void finalize_reap(finalize_t *f, haul_error_t *err, char **result);

/* After a crash between the rename and the owner's record of it: when
 * <work_dir>/finished.json names a file that is still the renamed one
 * (same inode and size) and part_path is gone, returns 1 with *path
 * (caller frees) and *size. Else 0, and a stale record is removed. */
int finalize_found(const char *work_dir, const char *part_path, char **path,
                   int64_t *size);

/* Removes a work folder, and the shared temp folder above it when that is
 * left empty. */
void finalize_remove_work_dir(const char *work_dir);

#endif
