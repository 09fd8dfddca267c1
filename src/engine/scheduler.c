/* scheduler: jobs in memory, the queue, the slots, the one place state
 * changes (see scheduler.h).
 *
 * Every job has a run record (run_t, job->run): its hash-table link, its
 * transfer while it runs, and the bookkeeping of retries and progress.
 * Transfers that ended are not freed inside their own callbacks: they go
 * to a graveyard that a deferred event empties. */
#include "engine/scheduler.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/classify.h"
#include "engine/download.h"
#include "util/fname.h"
#include "util/fs.h"
#include "util/log.h"

#define TICK_MS 250            /* progress sampling: at most 4 a second */
#define SAVE_EVERY_TICKS 8     /* progress to the store every ~2 s */
#define DEFAULT_ATTEMPTS 5
#define MAX_GRAVE 64

typedef struct run {
    job_t *job;
    struct run *hnext;         /* id hash chain */
    download_t *dl;            /* while running */
    sched_t *s;
    unsigned streak;           /* failed runs in a row without progress */
    int64_t run_start_bytes;   /* bytes_done when this run began */
    int64_t saved_bytes;       /* bytes_done last written to the store */
    int64_t sent_bytes;        /* bytes_done last announced */
    double sent_speed;
} run_t;

struct sched {
    struct event_base *base;
    engine_t *eng;
    store_t *store;
    char *dir;
    char *tmp_dir;             /* <dir>/DIRECT_TMP */
    int max_active;
    unsigned max_attempts;
    int64_t keep_finished_s;
    int64_t min_free;
    int64_t disk_free;         /* at the last look, -1 unknown */
    int disk_low;              /* the guard holds the queue */
    int stopping;

    job_t **jobs;              /* by seq, oldest first */
    size_t njobs, cap;
    run_t **buckets;           /* id -> run */
    size_t nbuckets;
    int64_t next_seq;
    size_t count[JOB_STATE_COUNT];
    int64_t bytes_downloaded;

    sched_listener_fn listener;
    void *listener_ud;

    struct event *kick_ev;     /* start what can start, outside callbacks */
    struct event *tick_ev;
    unsigned ticks;
    download_t *grave[MAX_GRAVE]; /* ended transfers waiting to be freed */
    size_t ngrave;
    struct event *reap_ev;
};

/* ---- the id table ------------------------------------------------------ */

static size_t bucket_of(const sched_t *s, const char *id)
{
    return (size_t)(id_hash(id) % s->nbuckets);
}

static void hash_insert(sched_t *s, run_t *r)
{
    size_t b = bucket_of(s, r->job->id);
    r->hnext = s->buckets[b];
    s->buckets[b] = r;
}

static void hash_grow(sched_t *s)
{
    size_t n = s->nbuckets ? s->nbuckets * 2 : 1024;
    run_t **nb = calloc(n, sizeof *nb);
    if (!nb)
        abort();
    run_t **old = s->buckets;
    size_t oldn = s->nbuckets;
    s->buckets = nb;
    s->nbuckets = n;
    for (size_t i = 0; i < oldn; i++)
        for (run_t *r = old[i], *next; r; r = next) {
            next = r->hnext;
            hash_insert(s, r);
        }
    free(old);
}

static run_t *hash_find(const sched_t *s, const char *id)
{
    for (run_t *r = s->buckets[bucket_of(s, id)]; r; r = r->hnext)
        if (strcmp(r->job->id, id) == 0)
            return r;
    return NULL;
}

static void hash_remove(sched_t *s, run_t *r)
{
    run_t **p = &s->buckets[bucket_of(s, r->job->id)];
    while (*p && *p != r)
        p = &(*p)->hnext;
    if (*p)
        *p = r->hnext;
}

/* Adds a job (with a fresh run record) at the end of the list. */
static run_t *track(sched_t *s, job_t *j)
{
    if (s->njobs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        job_t **nj = realloc(s->jobs, cap * sizeof *nj);
        if (!nj)
            abort();
        s->jobs = nj;
        s->cap = cap;
    }
    if (s->njobs + 1 > s->nbuckets)
        hash_grow(s);
    run_t *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->job = j;
    r->s = s;
    r->saved_bytes = r->sent_bytes = j->bytes_done;
    j->run = r;
    s->jobs[s->njobs++] = j;
    hash_insert(s, r);
    s->count[j->state]++;
    if (j->seq >= s->next_seq)
        s->next_seq = j->seq + 1;
    return r;
}

size_t sched_index_of_seq(const sched_t *s, int64_t seq)
{
    size_t lo = 0, hi = s->njobs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->jobs[mid]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void untrack(sched_t *s, job_t *j)
{
    size_t i = sched_index_of_seq(s, j->seq);
    if (i < s->njobs && s->jobs[i] == j) {
        memmove(&s->jobs[i], &s->jobs[i + 1], (s->njobs - i - 1) * sizeof *s->jobs);
        s->njobs--;
    }
    run_t *r = j->run;
    hash_remove(s, r);
    s->count[j->state]--;
    free(r);
    j->run = NULL;
}

/* ---- paths ------------------------------------------------------------- */

static int work_dir_of(const sched_t *s, const job_t *j, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/%s", s->tmp_dir, j->id);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int dest_dir_of(const sched_t *s, const job_t *j, char *out, size_t n)
{
    int w = j->opt.dir[0] ? snprintf(out, n, "%s/%s", s->dir, j->opt.dir)
                          : snprintf(out, n, "%s", s->dir);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* What the part file holds: the truth about an unfinished job's bytes. */
static int64_t part_bytes(const sched_t *s, const job_t *j)
{
    char wd[4096];
    return work_dir_of(s, j, wd, sizeof wd) == 0 ? download_kept_bytes(wd) : 0;
}

/* ---- state changes ----------------------------------------------------- */

static void announce(sched_t *s, const job_t *j, sched_change_t what)
{
    if (s->listener)
        s->listener(s->listener_ud, j, what);
}

/* The one place a job's state changes: asks the state machine, updates the
 * job, commits it with a history entry, then announces it. A store failure
 * is returned (the in-memory state has changed anyway: it describes what
 * the transfer really does). */
static int transition(sched_t *s, job_t *j, job_action_t a, const char *message,
                      haul_error_t *err)
{
    job_state_t to;
    if (job_next_state(j->id, j->state, a, &to, err) != 0)
        return -1;
    job_state_t from = j->state;
    int64_t now = job_now_ms();
    job_changed(j);
    s->count[from]--;
    s->count[to]++;
    j->state = to;
    j->updated_at = now;
    if (to == JOB_RUNNING && !j->started_at)
        j->started_at = now;
    if (to != JOB_RUNNING)
        j->speed_bps = 0, j->eta_s = -1;
    if (job_state_final(to))
        j->finished_at = now;
    if (to != JOB_QUEUED)
        j->retry_at = 0;
    job_event_t ev = {.at = now, .from = (int)from, .to = (int)to,
                      .message = (char *)(message ? message : "")};
    snprintf(ev.type, sizeof ev.type, "state");
    haul_error_t serr;
    herr_clear(&serr);
    int rc = store_put_job(s->store, j, &ev, &serr);
    if (rc == 0)
        ((run_t *)j->run)->saved_bytes = j->bytes_done;
    announce(s, j, SCHED_STATE);
    if (rc != 0) {
        log_error("%s", serr.message);
        if (err)
            *err = serr;
        return -1;
    }
    return 0;
}

static void note(sched_t *s, job_t *j, const char *type, const char *message)
{
    job_event_t ev = {.at = job_now_ms(), .from = -1, .to = -1,
                      .message = (char *)message};
    snprintf(ev.type, sizeof ev.type, "%s", type);
    haul_error_t err;
    if (store_add_event(s->store, j->id, &ev, &err) != 0)
        log_error("%s", err.message);
}

static void kick(sched_t *s)
{
    if (!s->stopping)
        event_active(s->kick_ev, 0, 0);
}

/* ---- running a job ----------------------------------------------------- */

static void bury(sched_t *s, download_t *d)
{
    if (s->ngrave == MAX_GRAVE) { /* never expected: free the oldest now */
        download_free(s->grave[0]);
        memmove(&s->grave[0], &s->grave[1], (MAX_GRAVE - 1) * sizeof *s->grave);
        s->ngrave--;
    }
    s->grave[s->ngrave++] = d;
    event_active(s->reap_ev, 0, 0);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sched_t *s = arg;
    size_t keep = 0;
    for (size_t i = 0; i < s->ngrave; i++) {
        if (download_busy(s->grave[i]))
            s->grave[keep++] = s->grave[i]; /* the tick tries again */
        else
            download_free(s->grave[i]);
    }
    s->ngrave = keep;
}

/* Detaches the transfer from the job (it has stopped or ended). */
static void detach(run_t *r)
{
    if (!r->dl)
        return;
    bury(r->s, r->dl);
    r->dl = NULL;
}

static void take_status(run_t *r)
{
    if (!r->dl)
        return;
    direct_status_t st;
    download_status(r->dl, &st);
    job_t *j = r->job;
    if (st.bytes_done > j->bytes_done)
        r->s->bytes_downloaded += st.bytes_done - j->bytes_done;
    j->bytes_done = st.bytes_done;
    if (st.bytes_total >= 0)
        j->bytes_total = st.bytes_total;
    j->speed_bps = st.speed_bps;
    j->eta_s = st.eta_s;
}

/* The run ended in a failure: queue it again after a backoff, or fail. */
static void run_failed(run_t *r, const haul_error_t *e)
{
    sched_t *s = r->s;
    job_t *j = r->job;
    take_status(r);
    detach(r);
    job_set_error(j, e);
    if (j->bytes_done > r->run_start_bytes)
        r->streak = 0; /* progress was made: a new streak */
    r->streak++;
    char msg[HAUL_ERR_MSG_MAX + 160];
    if (e->transient && r->streak < s->max_attempts) {
        long delay = backoff_delay_s(r->streak, e->retry_after_s);
        j->retry_at = job_now_ms() + (int64_t)delay * 1000;
        snprintf(msg, sizeof msg, "%s: %s (attempt %u of %u failed; next in %ld s)",
                 e->code, e->message, r->streak, s->max_attempts, delay);
        transition(s, j, JOB_REQUEUE, msg, NULL); /* keeps retry_at */
    } else {
        if (e->transient) {
            haul_error_t fe = *e;
            size_t n = strlen(fe.message);
            snprintf(fe.message + n, sizeof fe.message - n,
                     " (gave up after %u attempts; retry to try again)", r->streak);
            job_set_error(j, &fe);
        }
        snprintf(msg, sizeof msg, "%s: %s", j->error_code, j->error_message);
        r->streak = 0;
        transition(s, j, JOB_FAIL, msg, NULL);
    }
    kick(s);
}

static void run_done(run_t *r)
{
    sched_t *s = r->s;
    job_t *j = r->job;
    take_status(r);
    const char *path = download_result_path(r->dl);
    size_t dl = strlen(s->dir);
    if (path && strncmp(path, s->dir, dl) == 0 && path[dl] == '/')
        job_set_str(&j->filename, path + dl + 1);
    else if (path)
        job_set_str(&j->filename, path);
    if (j->bytes_total >= 0)
        j->bytes_done = j->bytes_total;
    job_set_error(j, NULL);
    r->streak = 0;
    if (transition(s, j, JOB_FINISH, NULL, NULL) == 0)
        download_release(r->dl); /* recorded: the work folder can go */
    detach(r);
    kick(s);
}

static void on_direct_state(void *ud, direct_state_t st, const haul_error_t *err)
{
    run_t *r = ud;
    if (!r->dl)
        return; /* already handled */
    if (st == DIRECT_DONE)
        run_done(r);
    else if (st == DIRECT_FAILED)
        run_failed(r, err);
}

static void on_direct_notice(void *ud, const char *message)
{
    run_t *r = ud;
    note(r->s, r->job, "notice", message);
}

/* What the download turned out to be: kept in the job (saved with the next
 * progress or state change). */
static void on_source(void *ud, const char *source, const char *title)
{
    run_t *r = ud;
    job_t *j = r->job;
    if (strcmp(j->source, source) != 0) {
        snprintf(j->source, sizeof j->source, "%s", source);
        job_changed(j);
    }
    if (title && strcmp(j->title, title) != 0) { /* better than the URL's name */
        job_set_str(&j->title, title);
        job_changed(j);
    }
}

/* Starts a queued job: running, committed, then the transfer. */
static void start_job(sched_t *s, job_t *j)
{
    run_t *r = j->run;
    char wd[4096], dest[4096], ua[64];
    haul_error_t err;
    herr_clear(&err);
    if (work_dir_of(s, j, wd, sizeof wd) != 0 || dest_dir_of(s, j, dest, sizeof dest) != 0) {
        herr_set(&err, "bad_path", false, "the download folder path is too long");
        transition(s, j, JOB_START, NULL, NULL);
        r->dl = NULL;
        run_failed(r, &err);
        return;
    }
    snprintf(ua, sizeof ua, "haul/%s", HAUL_VERSION);
    download_opts_t o = {.d = {
        .url = j->url,
        .dir = dest,
        .work_dir = wd,
        .filename = j->opt.filename[0] ? j->opt.filename : NULL,
        .sha256 = j->opt.sha256[0] ? j->opt.sha256 : NULL,
        .headers = (const char *const *)j->opt.headers,
        .nheaders = j->opt.nheaders,
        .user_agent = ua,
        .max_speed = j->opt.max_speed,
        .connect_timeout_s = 30,
        .stall_timeout_s = 60,
        .owner_retries = 1,
        .keep_until_released = 1,
        },
        /* a stream stays a stream: its fragments are in the work folder */
        .mode = strcmp(j->source, "hls") == 0 || strcmp(j->source, "ytdlp") == 0 ? j->source
                                                                                : j->opt.mode,
        .format = j->opt.format,
        .connections = (unsigned)j->opt.connections,
        .record = j->opt.record,
    };
    download_cbs_t cbs = {on_direct_state, on_direct_notice, on_source};
    j->attempts++;
    r->run_start_bytes = j->bytes_done;
    if (transition(s, j, JOB_START, NULL, &err) != 0 && j->state != JOB_RUNNING)
        return;
    r->dl = download_new(s->eng, s->base, &o, &cbs, r, &err);
    if (!r->dl) {
        run_failed(r, &err);
        return;
    }
    if (download_start(r->dl, &err) != 0 && r->dl) /* not yet handled by a callback */
        run_failed(r, &err);
}

static void stop_transfer(run_t *r);
static int finishing(const run_t *r);

/* The disk guard. Returns 1 while free space in the download folder is
 * under min_free (after going under, until it is a quarter above). Going
 * under stops every running job and queues it again, with its bytes and
 * an error saying why; they start again by themselves once there is room. */
static int disk_low(sched_t *s)
{
    struct statvfs vfs;
    if (statvfs(s->dir, &vfs) != 0)
        return s->disk_low;
    s->disk_free = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize; /* for stats too */
    if (s->min_free <= 0)
        return 0;
    if (s->disk_low) {
        if (s->disk_free >= s->min_free + s->min_free / 4) {
            s->disk_low = 0;
            log_info("disk guard: %lld bytes free in %s again; jobs start", (long long)s->disk_free,
                     s->dir);
            kick(s);
        }
        return s->disk_low;
    }
    if (s->disk_free >= s->min_free)
        return 0;
    s->disk_low = 1;
    haul_error_t e;
    herr_set(&e, "disk_low", true,
             "only %lld bytes are free in %s, under the %lld the daemon keeps free "
             "(--min-free): free some space; the job starts again by itself",
             (long long)s->disk_free, s->dir, (long long)s->min_free);
    log_warn("disk guard: %s", e.message);
    for (size_t i = 0; i < s->njobs && s->count[JOB_RUNNING]; i++) {
        job_t *j = s->jobs[i];
        run_t *r = j->run;
        if (j->state != JOB_RUNNING || finishing(r))
            continue;
        stop_transfer(r);
        job_set_error(j, &e);
        transition(s, j, JOB_REQUEUE, e.message, NULL);
    }
    return 1;
}

/* The next job to start: highest priority, then oldest; NULL when none is
 * ready (a job in its backoff waits: the tick kicks again every second). */
static job_t *pick(sched_t *s, int64_t now)
{
    job_t *best = NULL;
    for (size_t i = 0; i < s->njobs && s->count[JOB_QUEUED]; i++) {
        job_t *j = s->jobs[i];
        if (j->state != JOB_QUEUED || j->retry_at > now)
            continue;
        if (!best || j->opt.priority > best->opt.priority)
            best = j;
    }
    return best;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sched_t *s = arg;
    while (!s->stopping && (int)s->count[JOB_RUNNING] < s->max_active) {
        job_t *j = pick(s, job_now_ms());
        if (!j || disk_low(s)) /* the disk is looked at only to start a job */
            break;
        start_job(s, j);
    }
}

/* ---- the tick: progress, saves, backoffs ------------------------------- */

static void save_progress(sched_t *s)
{
    haul_error_t err;
    int began = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        job_t *j = s->jobs[i];
        run_t *r = j->run;
        if (j->state != JOB_RUNNING || j->bytes_done == r->saved_bytes)
            continue;
        if (!began) {
            if (store_begin(s->store, &err) != 0)
                goto fail;
            began = 1;
        }
        j->updated_at = job_now_ms();
        if (store_put_progress(s->store, j, &err) != 0)
            log_error("saving the progress of job %s: %s", j->id, err.message);
        else
            r->saved_bytes = j->bytes_done;
    }
    if (began && store_commit(s->store, &err) != 0)
        goto fail;
    return;
fail:
    log_error("saving progress: %s", err.message);
}

/* The retention policy: finished jobs older than keep_finished_s go (their
 * files stay). */
static void forget_old(sched_t *s)
{
    if (s->keep_finished_s <= 0 || s->stopping)
        return;
    int64_t before = job_now_ms() - s->keep_finished_s * 1000;
    size_t removed = 0;
    for (size_t i = s->njobs; i-- > 0;) { /* removal shifts only later ones */
        job_t *j = s->jobs[i];
        if (!job_state_final(j->state) || !j->finished_at || j->finished_at > before)
            continue;
        haul_error_t err;
        int deleted;
        if (sched_remove(s, j, 0, &deleted, &err) == 0)
            removed++;
        else
            log_error("forgetting job %s: %s", j->id, err.message);
    }
    if (removed)
        log_info("forgot %zu finished job(s) older than %lld s (--keep-finished)", removed,
                 (long long)s->keep_finished_s);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sched_t *s = arg;
    s->ticks++;
    for (size_t i = 0; i < s->njobs && s->count[JOB_RUNNING]; i++) {
        job_t *j = s->jobs[i];
        if (j->state != JOB_RUNNING)
            continue;
        run_t *r = j->run;
        take_status(r);
        if (j->bytes_done != r->sent_bytes || j->speed_bps != r->sent_speed) {
            r->sent_bytes = j->bytes_done;
            r->sent_speed = j->speed_bps;
            announce(s, j, SCHED_PROGRESS);
        }
    }
    if (s->ticks % SAVE_EVERY_TICKS == 0)
        save_progress(s);
    if (s->ngrave)
        event_active(s->reap_ev, 0, 0);
    if (s->ticks % 4 == 0 && s->count[JOB_QUEUED]) /* backoffs that ended */
        kick(s);
    if (s->ticks % 4 == 2)
        forget_old(s);
    if (s->ticks % 4 == 1)
        disk_low(s);
}

/* ---- the API's operations ---------------------------------------------- */

static int load_one(void *ud, job_t *j)
{
    sched_t *s = ud;
    if (s->njobs && j->seq <= s->jobs[s->njobs - 1]->seq) {
        log_warn("the store lists job %s out of order; skipped", j->id);
        job_free(j);
        return 0;
    }
    track(s, j);
    return 0;
}

/* After a crash or a stop: running jobs go back to the queue, and the part
 * file, never the store, says how many bytes an unfinished job has. */
static void recover(sched_t *s)
{
    for (size_t i = 0; i < s->njobs; i++) {
        job_t *j = s->jobs[i];
        if (j->state == JOB_DONE || j->state == JOB_CANCELED) {
            char wd[4096]; /* left by a crash after the commit */
            if (work_dir_of(s, j, wd, sizeof wd) == 0 && access(wd, F_OK) == 0)
                fs_discard(wd);
            continue;
        }
        int64_t have = part_bytes(s, j);
        job_changed(j);
        if (j->state == JOB_RUNNING) {
            j->bytes_done = have;
            char msg[160];
            snprintf(msg, sizeof msg,
                     "the daemon stopped while this job ran; it resumes from the %lld bytes on disk",
                     (long long)have);
            transition(s, j, JOB_REQUEUE, msg, NULL);
        } else if (have != j->bytes_done) {
            j->bytes_done = have;
            haul_error_t err;
            if (store_put_progress(s->store, j, &err) != 0)
                log_error("%s", err.message);
        }
        ((run_t *)j->run)->saved_bytes = ((run_t *)j->run)->sent_bytes = j->bytes_done;
    }
}

sched_t *sched_new(struct event_base *base, engine_t *eng, store_t *store,
                   const sched_opts_t *o, haul_error_t *err)
{
    sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        herr_set(err, "out_of_memory", false, "out of memory");
        return NULL;
    }
    s->base = base;
    s->eng = eng;
    s->store = store;
    s->max_active = o->max_active;
    s->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_ATTEMPTS;
    s->keep_finished_s = o->keep_finished_s;
    s->min_free = o->min_free;
    s->disk_free = -1;
    s->dir = strdup(o->dir);
    size_t n = strlen(o->dir) + sizeof "/" DIRECT_TMP;
    s->tmp_dir = malloc(n);
    s->next_seq = 1;
    if (!s->dir || !s->tmp_dir)
        abort();
    snprintf(s->tmp_dir, n, "%s/" DIRECT_TMP, o->dir);
    hash_grow(s);
    s->kick_ev = event_new(base, -1, 0, on_kick, s);
    s->reap_ev = event_new(base, -1, 0, on_reap, s);
    s->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, s);
    if (!s->kick_ev || !s->reap_ev || !s->tick_ev) {
        herr_set(err, "out_of_memory", false, "cannot create the scheduler's events");
        sched_free(s);
        return NULL;
    }
    if (store_load_jobs(store, load_one, s, err) != 0) {
        sched_free(s);
        return NULL;
    }
    recover(s);
    disk_low(s); /* a first look at the disk, for stats */
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(s->tick_ev, &tv);
    kick(s);
    return s;
}

void sched_free(sched_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->njobs; i++) {
        run_t *r = s->jobs[i]->run;
        if (r->dl)
            download_free(r->dl);
        free(r);
        job_free(s->jobs[i]);
    }
    for (size_t i = 0; i < s->ngrave; i++)
        download_free(s->grave[i]);
    if (s->kick_ev)
        event_free(s->kick_ev);
    if (s->reap_ev)
        event_free(s->reap_ev);
    if (s->tick_ev)
        event_free(s->tick_ev);
    free(s->jobs);
    free(s->buckets);
    free(s->dir);
    free(s->tmp_dir);
    free(s);
}

void sched_set_listener(sched_t *s, sched_listener_fn fn, void *ud)
{
    s->listener = fn;
    s->listener_ud = ud;
}

int sched_add(sched_t *s, job_t *j, haul_error_t *err)
{
    if (s->stopping) {
        job_free(j);
        return herr_set(err, "shutting_down", true, "the daemon is stopping; add the job again after it restarts");
    }
    do {
        if (id_random(j->id) != 0) {
            job_free(j);
            return herr_set(err, "out_of_resources", true, "no random bytes for a job id");
        }
    } while (hash_find(s, j->id));
    j->seq = s->next_seq;
    j->state = JOB_QUEUED;
    j->created_at = j->updated_at = job_now_ms();
    if (!j->title[0]) {
        char name[256];
        if (j->opt.filename[0])
            job_set_str(&j->title, j->opt.filename);
        else if (fname_from_url(j->url, name, sizeof name) == 0)
            job_set_str(&j->title, name);
    }
    job_event_t ev = {.at = j->created_at, .from = -1, .to = JOB_QUEUED,
                      .message = (char *)""};
    snprintf(ev.type, sizeof ev.type, "created");
    if (store_put_job(s->store, j, &ev, err) != 0) {
        job_free(j);
        return -1;
    }
    track(s, j); /* next_seq follows */
    announce(s, j, SCHED_STATE);
    kick(s);
    return 0;
}

job_t *sched_find(sched_t *s, const char *id)
{
    run_t *r = hash_find(s, id);
    return r ? r->job : NULL;
}

/* Stops the job's transfer and keeps its part data. */
static void stop_transfer(run_t *r)
{
    if (!r->dl)
        return;
    download_pause(r->dl); /* flushes: the status now counts what is on disk */
    take_status(r);
    detach(r);
}

/* Stops the transfer (if any) and deletes the temp data. */
static void discard_transfer(run_t *r)
{
    if (r->dl) {
        download_cancel(r->dl); /* also handles a file being finished */
        detach(r);
    } else {
        char wd[4096];
        if (work_dir_of(r->s, r->job, wd, sizeof wd) == 0)
            fs_discard(wd);
    }
    r->job->bytes_done = 0;
}

static int finishing(const run_t *r)
{
    if (!r->dl)
        return 0;
    direct_status_t st;
    download_status(r->dl, &st);
    return st.state == DIRECT_FINALIZING;
}

int sched_act(sched_t *s, job_t *j, job_action_t a, haul_error_t *err)
{
    run_t *r = j->run;
    job_state_t to;
    if (job_next_state(j->id, j->state, a, &to, err) != 0)
        return -1;
    if (s->stopping)
        return herr_set(err, "shutting_down", true, "the daemon is stopping; try again after it restarts");
    char msg[128] = "";
    switch (a) {
    case JOB_PAUSE:
        if (r->dl && download_stop_recording(r->dl)) {
            /* pausing a recording ends it: it finishes what it took and
             * becomes done (the job runs until then) */
            note(s, j, "notice", "the recording stops: finishing what was recorded");
            return 0;
        }
        if (finishing(r))
            return herr_set(err, "bad_state", false,
                            "job %s is running and already finishing its file (verifying and "
                            "moving it into place); it cannot go from running to paused now",
                            j->id);
        stop_transfer(r);
        snprintf(msg, sizeof msg, "paused at %lld bytes", (long long)j->bytes_done);
        break;
    case JOB_CANCEL:
        discard_transfer(r);
        break;
    case JOB_RESUME:
        j->retry_at = 0;
        r->streak = 0;
        break;
    case JOB_RETRY:
        if (j->state == JOB_CANCELED) {
            discard_transfer(r); /* from zero */
            j->bytes_total = -1;
        } else {
            j->bytes_done = part_bytes(s, j);
        }
        snprintf(msg, sizeof msg, "retry from %lld bytes", (long long)j->bytes_done);
        job_set_error(j, NULL);
        j->finished_at = 0;
        j->retry_at = 0;
        r->streak = 0;
        break;
    default:
        return herr_set(err, "bad_state", false, "not a user action");
    }
    int rc = transition(s, j, a, msg, err);
    if (j->state == JOB_QUEUED || a == JOB_PAUSE || a == JOB_CANCEL)
        kick(s); /* a slot may be free */
    return rc;
}

int sched_remove(sched_t *s, job_t *j, int delete_file, int *file_deleted,
                 haul_error_t *err)
{
    run_t *r = j->run;
    *file_deleted = 0;
    if (store_delete_job(s->store, j->id, err) != 0)
        return -1;
    if (j->state != JOB_DONE)
        discard_transfer(r);
    if (delete_file && j->state == JOB_DONE && j->filename[0]) {
        char path[8192];
        int w = snprintf(path, sizeof path, "%s/%s", s->dir, j->filename);
        if (w > 0 && (size_t)w < sizeof path && !strstr(j->filename, "..") &&
            unlink(path) == 0)
            *file_deleted = 1;
    }
    int was_running = j->state == JOB_RUNNING;
    announce(s, j, SCHED_REMOVED);
    untrack(s, j);
    job_free(j);
    if (was_running)
        kick(s);
    return 0;
}

size_t sched_count(const sched_t *s)
{
    return s->njobs;
}

job_t *sched_job_at(const sched_t *s, size_t i)
{
    return i < s->njobs ? s->jobs[i] : NULL;
}

void sched_refresh(sched_t *s, job_t *j)
{
    (void)s;
    if (j->state == JOB_RUNNING)
        take_status(j->run);
}

void sched_stats(sched_t *s, sched_stats_t *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < JOB_STATE_COUNT; i++) {
        st->count[i] = s->count[i];
        st->total += s->count[i];
    }
    for (size_t i = 0; i < s->njobs && s->count[JOB_RUNNING]; i++)
        if (s->jobs[i]->state == JOB_RUNNING)
            st->speed_bps += s->jobs[i]->speed_bps;
    st->max_active = s->max_active;
    st->bytes_downloaded = s->bytes_downloaded;
    st->disk_free = s->disk_free;
    st->min_free = s->min_free;
    st->disk_low = s->disk_low;
}

const char *sched_dir(const sched_t *s)
{
    return s->dir;
}

int sched_shutdown(sched_t *s)
{
    s->stopping = 1;
    event_del(s->kick_ev);
    int busy = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        job_t *j = s->jobs[i];
        run_t *r = j->run;
        if (j->state != JOB_RUNNING)
            continue;
        if (finishing(r)) {
            busy++;
            continue;
        }
        stop_transfer(r);
        char msg[160];
        snprintf(msg, sizeof msg, "the daemon is stopping; the job resumes from %lld bytes",
                 (long long)j->bytes_done);
        transition(s, j, JOB_REQUEUE, msg, NULL);
    }
    save_progress(s);
    return busy;
}

int sched_finishing(sched_t *s)
{
    int busy = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        job_t *j = s->jobs[i];
        if (j->state == JOB_RUNNING && finishing(j->run))
            busy++;
    }
    return busy;
}
