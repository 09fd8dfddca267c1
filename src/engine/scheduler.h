/* scheduler: the daemon's jobs, in memory, with the queue and the slots.
 *
 * The scheduler owns every job_t of the daemon and the one transfer
 * (direct_t) of each running job. It is the only code that changes a job's
 * state: every change goes through job_next_state() (core/job.h), is
 * committed to the store, and only then announced to the listener (SSE) and
 * returned to the caller (the API). At most max_active jobs run, the highest
 * priority first, then the oldest. A transient failure puts the job back in
 * the queue with a backoff (retry_at); a job that keeps failing without
 * progress fails after max_attempts.
 *
 * Everything runs on the loop; nothing here is thread-safe. */
#ifndef HAUL_ENGINE_SCHEDULER_H
#define HAUL_ENGINE_SCHEDULER_H

#include <stddef.h>

#include "core/error.h"
#include "core/job.h"
#include "engine/transfer.h"
#include "store/store.h"

typedef struct sched sched_t;

typedef enum sched_change {
    SCHED_STATE,    /* created, or the state changed (committed) */
    SCHED_PROGRESS, /* bytes or speed moved (at most every 250 ms) */
    SCHED_REMOVED,  /* deleted: the job is freed after the call */
} sched_change_t;

typedef void (*sched_listener_fn)(void *ud, const job_t *j, sched_change_t what);

typedef struct sched_opts {
    const char *dir;        /* the download folder (absolute) */
    int max_active;         /* running jobs at most; 0: none start */
    unsigned max_attempts;  /* failures in a row without progress; 0: 5 */
    int64_t min_free;       /* the disk guard: below this many free bytes in
                               dir, running jobs go back to the queue and
                               none starts until a quarter more is free
                               again; 0: off */
    int64_t keep_finished_s; /* done/failed/canceled jobs are forgotten this
                                long after they finished (files stay);
                                0: kept until removed */
} sched_opts_t;

/* Loads every job from the store (borrowed; must outlive the scheduler).
 * Jobs found running (a crash) go back to queued, and every unfinished job's
 * bytes_done becomes what its part file holds. Returns NULL with err set. */
sched_t *sched_new(struct event_base *base, engine_t *eng, store_t *store,
                   const sched_opts_t *o, haul_error_t *err);

/* Frees everything; running transfers stop (call sched_shutdown first to
 * record them as queued). */
void sched_free(sched_t *s);

void sched_set_listener(sched_t *s, sched_listener_fn fn, void *ud);

/* A new job: takes j (url and options filled in, validated); gives it an
 * id, seq and created_at, stores it and queues it. Returns 0, or -1 with
 * err set (j is freed). */
int sched_add(sched_t *s, job_t *j, haul_error_t *err);

/* The job with this id (borrowed), or NULL. */
job_t *sched_find(sched_t *s, const char *id);

/* A person's action (JOB_PAUSE, JOB_RESUME, JOB_CANCEL, JOB_RETRY).
 * Pause and cancel have stopped the transfer when they return; cancel has
 * removed the temp data. Returns 0, or -1 with err set ("bad_state" for a
 * transition the state machine refuses, "store_error"). */
int sched_act(sched_t *s, job_t *j, job_action_t a, haul_error_t *err);

/* Removes the job: stops it, deletes its temp data and, with delete_file,
 * its finished file (*file_deleted says whether one was removed). j is
 * freed on success. */
int sched_remove(sched_t *s, job_t *j, int delete_file, int *file_deleted,
                 haul_error_t *err);

/* The jobs in creation order (0 = oldest); borrowed. */
size_t sched_count(const sched_t *s);
job_t *sched_job_at(const sched_t *s, size_t i);
/* The index of the first job with seq >= seq (sched_count when none). */
size_t sched_index_of_seq(const sched_t *s, int64_t seq);

/* Updates a running job's live fields (bytes, speed, eta). */
void sched_refresh(sched_t *s, job_t *j);

typedef struct sched_stats {
    size_t count[JOB_STATE_COUNT];
    size_t total;
    double speed_bps;       /* sum over running jobs */
    int max_active;
    int64_t bytes_downloaded; /* since the daemon started */
    int64_t disk_free;        /* bytes free in dir at the last look (at most
                                 a second ago, or at the last start), -1 unknown */
    int64_t min_free;         /* the guard's threshold, 0: off */
    int disk_low;             /* the guard holds the queue */
} sched_stats_t;
void sched_stats(sched_t *s, sched_stats_t *st);

/* The download folder (absolute). */
const char *sched_dir(const sched_t *s);

/* The daemon stops: no job starts from now on; running transfers stop and
 * their jobs go back to queued with their bytes (committed). Returns the
 * number of jobs still finishing a file (verify + rename on a helper
 * thread); run the loop until sched_finishing() is 0 before sched_free. */
int sched_shutdown(sched_t *s);
int sched_finishing(sched_t *s);

#endif
