/* job: the job model and its state machine (no I/O).
 *
 * A job is one thing a person asked haul to download. Its state changes only
 * through job_next_state(), the one place that knows which transitions
 * exist; everything else (API, scheduler, recovery) asks it. */
#ifndef HAUL_CORE_JOB_H
#define HAUL_CORE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/id.h"

typedef enum job_state {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_PAUSED,
    JOB_DONE,
    JOB_FAILED,
    JOB_CANCELED,
} job_state_t;
#define JOB_STATE_COUNT 6

/* What moves a job: the first four come from people, the rest from haul. */
typedef enum job_action {
    JOB_PAUSE,    /* queued|running -> paused */
    JOB_RESUME,   /* paused -> queued */
    JOB_CANCEL,   /* queued|running|paused -> canceled */
    JOB_RETRY,    /* failed|canceled -> queued */
    JOB_START,    /* queued -> running (the scheduler) */
    JOB_FINISH,   /* running -> done */
    JOB_FAIL,     /* running -> failed */
    JOB_REQUEUE,  /* running -> queued (transient error, shutdown, crash) */
} job_action_t;

typedef struct job_options {
    char *dir;          /* subfolder of the download folder, "" = the folder */
    char *filename;     /* forced file name, "" = the server's */
    char *mode;         /* "auto", "direct", "hls", "ytdlp" */
    char *format;       /* yt-dlp format, "best" */
    int64_t max_speed;  /* bytes/s, 0 = unlimited */
    int connections;    /* streams: fragments in flight (1-16) */
    int priority;       /* higher runs first */
    int record;         /* a live HLS stream is recorded (until paused) */
    char *sha256;       /* expected lowercase hex, "" = none */
    char **headers;     /* extra request headers "Name: value" */
    size_t nheaders;
} job_options_t;

typedef struct job {
    char id[ID_LEN + 1];
    int64_t seq;            /* creation order: newer is larger; the list cursor */
    char *url;
    job_state_t state;
    char source[16];        /* "direct", "hls", "ytdlp"; "" until known */
    char *title;            /* "" until known */
    char *filename;         /* finished file relative to the download folder, "" */
    int64_t bytes_done;
    int64_t bytes_total;    /* -1 when unknown */
    unsigned attempts;      /* requests made for this job so far */
    char error_code[HAUL_ERR_CODE_MAX]; /* "" when no error */
    char *error_message;    /* "" when no error */
    int64_t created_at;     /* unix milliseconds; 0 = not yet */
    int64_t started_at;
    int64_t finished_at;
    int64_t updated_at;
    int64_t retry_at;       /* queued after a transient error: not before this */
    job_options_t opt;

    /* in memory only: live progress, the scheduler's handle, and the API's
     * JSON text of the job, kept while it does not change (never for a
     * running job); owned, dropped by job_changed() */
    double speed_bps;
    int64_t eta_s;          /* -1 when unknown */
    void *run;
    char *json;
} job_t;

/* One entry of a job's history. */
typedef struct job_event {
    int64_t at;            /* unix milliseconds */
    char type[16];         /* "created", "state", "retry", "notice" */
    int from;              /* job_state_t, or -1 */
    int to;                /* job_state_t, or -1 */
    char *message;         /* "" when none */
} job_event_t;

/* A job with every string empty, bytes_total -1, connections 4, mode
 * "auto", format "best". The caller owns it (job_free). Aborts when out of
 * memory. */
job_t *job_new(void);
void job_free(job_t *j);

/* Says the job changed: drops what was derived from it (the JSON text). */
void job_changed(job_t *j);

/* Frees and empties options. */
void job_options_clear(job_options_t *o);

/* Replaces *dst with a copy of src (NULL = ""). Aborts when out of memory. */
void job_set_str(char **dst, const char *src);

/* Sets or clears (err NULL or empty) the job's error. */
void job_set_error(job_t *j, const haul_error_t *err);

/* "queued", "running", ...; job_state_parse returns -1 for an unknown name. */
const char *job_state_name(job_state_t s);
int job_state_parse(const char *name);

/* "pause", "resume", ...; job_action_parse accepts the four user actions
 * and returns -1 otherwise. */
const char *job_action_name(job_action_t a);
int job_action_parse(const char *name);

/* The state an action leads to from `from`. Returns 0 with *to set, or -1
 * with err set (code "bad_state", a sentence naming both states). */
int job_next_state(const char *id, job_state_t from, job_action_t a,
                   job_state_t *to, haul_error_t *err);

/* True for done, failed and canceled: nothing runs and nothing will on its
 * own. */
bool job_state_final(job_state_t s);

/* Unix time in milliseconds. */
int64_t job_now_ms(void);

void job_event_free(job_event_t *ev);

#endif
