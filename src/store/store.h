/* store: where jobs and their history survive restarts and crashes.
 *
 * The embedded backend is SQLite in WAL mode (sqlite.c): one file,
 * <state-dir>/haul.db, a schema versioned by PRAGMA user_version and
 * migrated forward on open. Every function commits before it returns
 * (unless inside store_begin/store_commit), so a caller that reports a
 * change after a successful call never reports something a crash can undo.
 * The loop owns the store; nothing here is thread-safe. */
#ifndef HAUL_STORE_STORE_H
#define HAUL_STORE_STORE_H

#include <stdint.h>

#include "core/error.h"
#include "core/job.h"

typedef struct store store_t;

/* The schema version this build writes (user_version). */
#define STORE_SCHEMA_VERSION 1

/* Opens or creates the store at path (the folder must exist), migrates it
 * to STORE_SCHEMA_VERSION and takes an exclusive lock on it, so a second
 * daemon on the same store is refused. Returns NULL with err set
 * ("store_locked", "store_too_new" when the file was written by a newer
 * haul, "store_error"). */
store_t *store_open(const char *path, haul_error_t *err);
void store_close(store_t *s);

/* Groups the following writes into one transaction (progress flushes,
 * bulk actions). Not nested. */
int store_begin(store_t *s, haul_error_t *err);
int store_commit(store_t *s, haul_error_t *err);
/* Undoes everything since store_begin. */
void store_rollback(store_t *s);

/* Inserts or replaces the job (every stored field of job_t), and when ev
 * is not NULL appends it to the job's history, atomically. */
int store_put_job(store_t *s, const job_t *j, const job_event_t *ev,
                  haul_error_t *err);

/* Saves only the progress fields (bytes_done, bytes_total, updated_at). */
int store_put_progress(store_t *s, const job_t *j, haul_error_t *err);

/* Appends an event to a job's history. */
int store_add_event(store_t *s, const char *id, const job_event_t *ev,
                    haul_error_t *err);

/* Removes the job and its history. Removing an unknown id is not an error. */
int store_delete_job(store_t *s, const char *id, haul_error_t *err);

/* Calls each() for every job in seq order (oldest first). each takes
 * ownership of j; a non-zero return stops the walk and is returned. */
int store_load_jobs(store_t *s, int (*each)(void *ud, job_t *j), void *ud,
                    haul_error_t *err);

/* Calls each() for the job's history, oldest first, at most limit (0: all)
 * events. ev is borrowed for the call. */
int store_load_events(store_t *s, const char *id, int limit,
                      int (*each)(void *ud, const job_event_t *ev), void *ud,
                      haul_error_t *err);

/* The largest seq in the store (0 when empty). */
int64_t store_max_seq(store_t *s);

#endif
