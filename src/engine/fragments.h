/* fragments: an ordered list of fragments (HLS or DASH segments, an init
 * section) downloaded into one file, N at a time, written in order.
 *
 * Every fragment goes to its own file in the work folder while it
 * arrives (decrypted on the way when it is AES-128 encrypted), and is
 * renamed to "<name>.<index>" when complete: the set of finished
 * fragments is on disk, so a paused, restarted or crashed list never
 * fetches a finished fragment again. Finished fragments are appended to
 * "<name>.out" in order (copy_file_range: in the kernel) and removed;
 * "<name>.state" records how many are joined and the output's length, so
 * after a crash the output is cut back to what the record vouches for.
 * A fragment that fails for a transient reason is retried alone with
 * backoff; the list fails when one fragment fails for good or runs out of
 * attempts. Keys are fetched once per URI, when the first fragment that
 * needs them is due.
 *
 * A frag_list_t is owned by its creator; its callback runs on the loop
 * and may call frag_list_pause but not frag_list_free. */
#ifndef HAUL_ENGINE_FRAGMENTS_H
#define HAUL_ENGINE_FRAGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "engine/transfer.h"

typedef struct frag_list frag_list_t;

typedef struct frag {
    const char *url;           /* absolute */
    int64_t offset;            /* byte range start (with length > 0) */
    int64_t length;            /* > 0: only [offset, offset+length); else all */
    int key;                   /* index into the keys, -1 = clear */
    unsigned char iv[16];      /* AES-128-CBC IV when key >= 0 */
} frag_t;

typedef struct frag_list_opts {
    const char *work_dir;      /* exists; the list's files live here */
    const char *name;          /* prefix of its files: "video", "audio" */
    const frag_t *frags;       /* copied */
    size_t nfrags;
    const char *const *key_urls; /* AES-128 key URIs, copied */
    size_t nkeys;
    unsigned connections;      /* fragments in flight, 0: 4 */
    unsigned max_attempts;     /* per fragment, 0: 5 */
    const transfer_opts_t *net; /* headers, agent, proxy, CA, timeouts and
                                   max_speed (shared by the connections);
                                   its url and range are ignored; copied */
    int open_ended;            /* a live recording: fragments are appended
                                  as they appear (frag_list_append), and the
                                  list ends only after frag_list_close() */
} frag_list_opts_t;

typedef struct frag_progress {
    int64_t bytes_done;        /* joined + finished + arriving */
    int64_t bytes_total;       /* an estimate from the finished fragments'
                                  average size; exact when all are done;
                                  -1 before the first one */
    size_t frags_done;         /* finished (joined or not) */
    size_t nfrags;
} frag_progress_t;

/* The end of the list: ok with err NULL when every fragment is joined into
 * frag_list_output(), else err says which fragment failed and why
 * (err->transient when a later try may succeed). */
typedef void (*frag_list_end_fn)(void *ud, int ok, const haul_error_t *err);

/* A new list; everything in opts is copied. Returns NULL with err set. */
frag_list_t *frag_list_new(engine_t *eng, struct event_base *base,
                           const frag_list_opts_t *opts, frag_list_end_fn on_end,
                           void *ud, haul_error_t *err);

/* Starts or resumes from what the work folder holds (a record made for
 * another list of fragments is thrown away). The end may be reported at
 * once (on_end runs inside) when everything is already here. Returns 0,
 * or -1 with err set when the files cannot be opened. */
int frag_list_start(frag_list_t *fl, haul_error_t *err);

/* Stops every request now; finished fragments and the output are kept,
 * fragments in flight are dropped. No callback runs afterwards until the
 * next start. */
void frag_list_pause(frag_list_t *fl);

/* Adds fragments at the end (a live recording); they start at once when
 * the list runs. key_urls is the whole key list (the known ones first, in
 * the same order). Returns 0, or -1 with err on a bad key index. */
int frag_list_append(frag_list_t *fl, const frag_t *frags, size_t n,
                     const char *const *key_urls, size_t nkeys, haul_error_t *err);

/* No more fragments will come: the list ends (on_end, possibly at once)
 * when every one is joined. */
void frag_list_close(frag_list_t *fl);

/* A snapshot of the progress. */
void frag_list_progress(const frag_list_t *fl, frag_progress_t *p);

/* The joined output's path (borrowed): complete once on_end said ok. */
const char *frag_list_output(const frag_list_t *fl);

/* The bytes stream downloads keep in work_dir: joined outputs
 * ("<name>.out") and finished fragments ("<name>.<index>"); 0 when none. */
int64_t frag_kept_bytes(const char *work_dir);

/* Removes the list's files from the work folder (not the output). */
void frag_list_clean(frag_list_t *fl);

/* Pauses and frees. */
void frag_list_free(frag_list_t *fl);

#endif
