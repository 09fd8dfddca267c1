/* Unit tests: the SQLite store (each test on its own file in a private
 * temp folder; sqlite3 directly where a test needs to look behind it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/fs.h"

#include "tmpdir.h"

/* ---- helpers ------------------------------------------------------------- */

#define PATH_SIZE 300

/* <root>/<name>.db into path (PATH_SIZE chars). */
static void db_path(const char *name, char *path)
{
    snprintf(path, PATH_SIZE, "%s/%s.db", root, name);
}

static store_t *open_ok(const char *path)
{
    haul_error_t err;
    herr_clear(&err);
    store_t *s = store_open(path, &err);
    if (!s)
        print_error("store_open %s: %s: %s\n", path, err.code, err.message);
    assert_non_null(s);
    return s;
}

/* Opens a new store <root>/<name>.db; its path goes to path. */
static store_t *open_new(const char *name, char *path)
{
    db_path(name, path);
    return open_ok(path);
}

/* Asserts that a call returned -1 with err's code and a message that
 * names want (NULL: anything). */
static void assert_failed(int rc, const haul_error_t *err, const char *code,
                          const char *want)
{
    assert_int_equal(rc, -1);
    assert_string_equal(err->code, code);
    if (want && !strstr(err->message, want))
        fail_msg("\"%s\" is not in \"%s\"", want, err->message);
}

static job_t *make_job(const char *id, int64_t seq)
{
    job_t *j = job_new();
    size_t n = strlen(id);
    assert_true(n <= ID_LEN);
    memcpy(j->id, id, n + 1);
    j->seq = seq;
    char url[64];
    snprintf(url, sizeof url, "https://example.org/%s", id);
    job_set_str(&j->url, url);
    return j;
}

/* "c000000042" for ('c', 42). */
static void nth_id(char id[ID_LEN + 1], char prefix, int n)
{
    snprintf(id, ID_LEN + 1, "%c%09d", prefix, n);
}

static void set_headers(job_t *j, const char *const *h, size_t n)
{
    j->opt.headers = calloc(n, sizeof *j->opt.headers);
    assert_non_null(j->opt.headers);
    for (size_t i = 0; i < n; i++)
        job_set_str(&j->opt.headers[i], h[i]);
    j->opt.nheaders = n;
}

static void put_ok(store_t *s, const job_t *j, const job_event_t *ev)
{
    haul_error_t err;
    herr_clear(&err);
    int rc = store_put_job(s, j, ev, &err);
    if (rc != 0)
        print_error("store_put_job %s: %s: %s\n", j->id, err.code, err.message);
    assert_int_equal(rc, 0);
}

/* Saves jobs <prefix>000000001 .. <prefix><n> (seq 1 .. n), each with ev
 * when not NULL, in state(i), or queued when state is NULL. */
static void put_jobs(store_t *s, char prefix, int n, job_state_t (*state)(int),
                     const job_event_t *ev)
{
    for (int i = 1; i <= n; i++) {
        char id[ID_LEN + 1];
        nth_id(id, prefix, i);
        job_t *j = make_job(id, i);
        j->state = state ? state(i) : JOB_QUEUED;
        put_ok(s, j, ev);
        job_free(j);
    }
}

/* Collects loaded jobs (owned here until jobs_free). */
typedef struct jobs {
    job_t *j[64];
    int n;
    int stop_after;   /* return 42 after this many, 0 = never */
} jobs_t;

static int collect_job(void *ud, job_t *j)
{
    jobs_t *l = ud;
    if (l->n == 64) {
        job_free(j);
        return -7;
    }
    l->j[l->n++] = j;
    return l->stop_after && l->n == l->stop_after ? 42 : 0;
}

static void jobs_free(jobs_t *l)
{
    for (int i = 0; i < l->n; i++)
        job_free(l->j[i]);
    l->n = 0;
}

/* Loads every job into l (jobs_free after). Returns how many. */
static int load_all(store_t *s, jobs_t *l)
{
    haul_error_t err;
    herr_clear(&err);
    int rc = store_load_jobs(s, collect_job, l, &err);
    if (rc != 0)
        print_error("store_load_jobs: %s: %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    return l->n;
}

static int count_job(void *ud, job_t *j)
{
    (*(int *)ud)++;
    job_free(j);
    return 0;
}

static int count_jobs(store_t *s)
{
    int n = 0;
    haul_error_t err;
    assert_int_equal(store_load_jobs(s, count_job, &n, &err), 0);
    return n;
}

typedef struct events {
    job_event_t ev[16];
    char msg[16][64];
    int n;
} events_t;

static int collect_event(void *ud, const job_event_t *ev)
{
    events_t *l = ud;
    if (l->n == 16)
        return -7;
    l->ev[l->n] = *ev;
    snprintf(l->msg[l->n], sizeof l->msg[0], "%s", ev->message);
    l->ev[l->n].message = l->msg[l->n]; /* the store's copy is borrowed */
    l->n++;
    return 0;
}

static int load_events(store_t *s, const char *id, int limit, events_t *out)
{
    memset(out, 0, sizeof *out);
    haul_error_t err;
    herr_clear(&err);
    int rc = store_load_events(s, id, limit, collect_event, out, &err);
    if (rc != 0)
        print_error("store_load_events %s: %s: %s\n", id, err.code, err.message);
    assert_int_equal(rc, 0);
    return out->n;
}

static job_event_t event(int64_t at, const char *type, int from, int to,
                         const char *msg)
{
    job_event_t ev = {.at = at, .from = from, .to = to, .message = (char *)msg};
    snprintf(ev.type, sizeof ev.type, "%s", type);
    return ev;
}

/* The first column of the first row of sql, run by sqlite3 directly. */
static void sql_text(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", t ? (const char *)t : "");
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static long long sql_int(const char *path, const char *sql)
{
    char text[64];
    sql_text(path, sql, text, sizeof text);
    return strtoll(text, NULL, 10);
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL),
                     SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void assert_job_equal(const job_t *a, const job_t *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->seq, b->seq);
    assert_string_equal(a->url, b->url);
    assert_int_equal(a->state, b->state);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->title, b->title);
    assert_string_equal(a->filename, b->filename);
    assert_int_equal(a->bytes_done, b->bytes_done);
    assert_int_equal(a->bytes_total, b->bytes_total);
    assert_int_equal(a->attempts, b->attempts);
    assert_string_equal(a->error_code, b->error_code);
    assert_string_equal(a->error_message, b->error_message);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->started_at, b->started_at);
    assert_int_equal(a->finished_at, b->finished_at);
    assert_int_equal(a->updated_at, b->updated_at);
    assert_int_equal(a->retry_at, b->retry_at);
    assert_string_equal(a->opt.dir, b->opt.dir);
    assert_string_equal(a->opt.filename, b->opt.filename);
    assert_string_equal(a->opt.mode, b->opt.mode);
    assert_string_equal(a->opt.format, b->opt.format);
    assert_int_equal(a->opt.max_speed, b->opt.max_speed);
    assert_int_equal(a->opt.connections, b->opt.connections);
    assert_int_equal(a->opt.priority, b->opt.priority);
    assert_string_equal(a->opt.sha256, b->opt.sha256);
    assert_int_equal(a->opt.nheaders, b->opt.nheaders);
    for (size_t i = 0; i < a->opt.nheaders; i++)
        assert_string_equal(a->opt.headers[i], b->opt.headers[i]);
}

/* ---- tests --------------------------------------------------------------- */

static void fresh_store_is_wal_at_current_schema(void **state)
{
    (void)state;
    char path[PATH_SIZE], lock[PATH_SIZE + 8];
    store_t *s = open_new("fresh", path);
    assert_int_equal(store_max_seq(s), 0);
    assert_int_equal(count_jobs(s), 0);
    store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char mode[16];
    sql_text(path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name "
                                   "IN ('jobs', 'job_events', 'jobs_state', "
                                   "'job_events_job')"),
                     4);
    snprintf(lock, sizeof lock, "%s.lock", path);
    struct stat st;
    assert_int_equal(stat(lock, &st), 0);
    /* reopening an up-to-date store works; while it is open, another
     * process can still read it (inspection, backups) */
    s = open_ok(path);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM jobs"), 0);
    store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void round_trip_every_field(void **state)
{
    (void)state;
    job_t *a = make_job("a000000001", 5);
    job_set_str(&a->url, "https://example.org/v.mp4?x=1&y=\xc3\xa9");
    a->state = JOB_QUEUED;
    snprintf(a->source, sizeof a->source, "direct");
    job_set_str(&a->title, "Vid\xc3\xa9o \"quoted\" 'and' \\ back");
    job_set_str(&a->filename, "sub/v.mp4");
    a->bytes_done = 1234567890123LL;
    a->bytes_total = -1;
    a->attempts = 7;
    snprintf(a->error_code, sizeof a->error_code, "http_503");
    job_set_str(&a->error_message, "the server is busy; haul tries again");
    a->created_at = 1700000000001LL;
    a->started_at = 1700000000002LL;
    a->finished_at = 1700000000003LL;
    a->updated_at = 1700000000004LL;
    a->retry_at = 1700000009999LL;
    job_set_str(&a->opt.dir, "music/live");
    job_set_str(&a->opt.filename, "x.mp4");
    job_set_str(&a->opt.mode, "direct");
    job_set_str(&a->opt.format, "bv*+ba/b");
    a->opt.max_speed = 5000000000LL;
    a->opt.connections = 4;
    a->opt.priority = -7;
    job_set_str(&a->opt.sha256,
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    static const char *const H[] = {"X-Zeta: 1", "Accept: */*", "Cookie: a=1",
                                    "Cookie: b=2", "X-Odd:no-space  "};
    set_headers(a, H, 5);
    job_t *b = make_job("b000000002", 2); /* job_new's defaults */
    b->state = JOB_PAUSED;

    char path[PATH_SIZE];
    store_t *s = open_new("roundtrip", path);
    put_ok(s, a, NULL);
    put_ok(s, b, NULL);
    store_close(s);

    s = open_ok(path);
    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 2);
    assert_job_equal(l.j[0], b); /* seq order, not insertion order */
    assert_job_equal(l.j[1], a);
    assert_int_equal(l.j[1]->bytes_total, -1);
    assert_string_equal(l.j[1]->opt.headers[3], "Cookie: b=2");
    assert_int_equal(l.j[0]->opt.nheaders, 0);
    assert_null(l.j[0]->opt.headers);
    assert_int_equal(store_max_seq(s), 5);
    jobs_free(&l);
    store_close(s);
    job_free(a);
    job_free(b);
}

static void bad_jobs_are_refused(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("badjobs", path);
    haul_error_t err;
    job_t *j = make_job("", 1); /* no id yet */
    herr_clear(&err);
    assert_failed(store_put_job(s, j, NULL, &err), &err, "store_error",
                  "without an id");
    memcpy(j->id, "z000000001", ID_LEN + 1);
    j->state = (job_state_t)JOB_STATE_COUNT;
    herr_clear(&err);
    assert_failed(store_put_job(s, j, NULL, &err), &err, "store_error",
                  "z000000001");
    j->state = JOB_QUEUED;
    job_set_str(&j->opt.dir, "bad \xff byte");
    herr_clear(&err);
    assert_failed(store_put_job(s, j, NULL, &err), &err, "store_error",
                  "\"dir\" is not UTF-8");
    assert_int_equal(count_jobs(s), 0);
    store_close(s);
    job_free(j);
}

static void events_in_order_with_limit(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("events", path);
    job_event_t created = event(100, "created", -1, JOB_QUEUED, "");
    put_jobs(s, 'e', 2, NULL, &created);
    const char *j = "e000000001", *k = "e000000002";
    haul_error_t err;
    job_event_t evs[] = {
        event(200, "state", JOB_QUEUED, JOB_RUNNING, ""),
        event(300, "notice", -1, -1, "the server does not resume"),
        event(400, "state", JOB_RUNNING, JOB_FAILED, "http_503: busy"),
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(store_add_event(s, j, &evs[i], &err), 0);
    store_close(s);

    s = open_ok(path);
    events_t l;
    assert_int_equal(load_events(s, j, 0, &l), 4);
    assert_int_equal(l.ev[0].at, 100);
    assert_string_equal(l.ev[0].type, "created");
    assert_int_equal(l.ev[0].from, -1);
    assert_int_equal(l.ev[0].to, JOB_QUEUED);
    assert_string_equal(l.ev[0].message, "");
    for (int i = 1; i < 4; i++) {
        assert_int_equal(l.ev[i].at, evs[i - 1].at);
        assert_string_equal(l.ev[i].type, evs[i - 1].type);
        assert_int_equal(l.ev[i].from, evs[i - 1].from);
        assert_int_equal(l.ev[i].to, evs[i - 1].to);
        assert_string_equal(l.ev[i].message, evs[i - 1].message);
    }
    assert_int_equal(load_events(s, j, 2, &l), 2);
    assert_int_equal(l.ev[0].at, 100);
    assert_int_equal(l.ev[1].at, 200);
    assert_int_equal(load_events(s, k, 0, &l), 1); /* k's own history only */
    assert_int_equal(load_events(s, "nosuchjob0", 0, &l), 0);

    /* an event for an unknown job, or with states that are not states */
    herr_clear(&err);
    assert_failed(store_add_event(s, "nosuchjob0", &evs[0], &err), &err,
                  "store_error", "nosuchjob0");
    job_event_t bad = event(500, "state", 99, JOB_QUEUED, "");
    herr_clear(&err);
    assert_failed(store_add_event(s, j, &bad, &err), &err, "store_error",
                  "not job states");
    assert_int_equal(load_events(s, j, 0, &l), 4);
    store_close(s);
}

static void put_replaces_and_keeps_history(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("replace", path);
    job_t *j = make_job("r000000001", 1);
    static const char *const H1[] = {"A: 1", "B: 2"};
    set_headers(j, H1, 2);
    job_event_t created = event(100, "created", -1, JOB_QUEUED, "");
    put_ok(s, j, &created);

    j->state = JOB_DONE;
    job_set_str(&j->title, "new title");
    j->bytes_done = j->bytes_total = 42;
    job_options_clear(&j->opt);
    job_set_str(&j->opt.dir, "d");
    job_set_str(&j->opt.filename, "");
    job_set_str(&j->opt.mode, "auto");
    job_set_str(&j->opt.format, "best");
    job_set_str(&j->opt.sha256, "");
    j->opt.connections = 2;
    static const char *const H2[] = {"C: 3"};
    set_headers(j, H2, 1);
    put_ok(s, j, NULL);

    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 1);
    assert_job_equal(l.j[0], j);
    jobs_free(&l);
    events_t ev;
    assert_int_equal(load_events(s, j->id, 0, &ev), 1); /* history survives */
    store_close(s);
    job_free(j);
}

static void put_is_atomic(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("atomic", path);
    job_t *a = make_job("t000000001", 1);
    put_ok(s, a, NULL);
    /* the row is fine, the event is not: neither stays */
    job_t *b = make_job("t000000002", 2);
    job_event_t bad = event(1, "state", JOB_QUEUED, 17, "");
    haul_error_t err;
    herr_clear(&err);
    assert_failed(store_put_job(s, b, &bad, &err), &err, "store_error",
                  "t000000002");
    /* the same seq as another job: refused, the other job untouched */
    job_t *c = make_job("t000000003", 1);
    job_event_t ok = event(1, "created", -1, JOB_QUEUED, "");
    herr_clear(&err);
    assert_failed(store_put_job(s, c, &ok, &err), &err, "store_error",
                  "t000000003");
    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 1);
    assert_job_equal(l.j[0], a);
    jobs_free(&l);
    events_t ev;
    assert_int_equal(load_events(s, c->id, 0, &ev), 0);
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events"), 0);
    job_free(a);
    job_free(b);
    job_free(c);
}

static void delete_removes_job_and_history(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("delete", path);
    job_event_t ev = event(1, "created", -1, JOB_QUEUED, "");
    put_jobs(s, 'd', 2, NULL, &ev);
    const char *a = "d000000001", *b = "d000000002";
    haul_error_t err;
    assert_int_equal(store_add_event(s, a, &ev, &err), 0);
    assert_int_equal(store_delete_job(s, a, &err), 0);
    assert_int_equal(store_delete_job(s, "nosuchjob0", &err), 0); /* fine */
    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 1);
    assert_string_equal(l.j[0]->id, b);
    jobs_free(&l);
    events_t evs;
    assert_int_equal(load_events(s, a, 0, &evs), 0);
    assert_int_equal(load_events(s, b, 0, &evs), 1);
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events WHERE "
                                   "job_id = 'd000000001'"),
                     0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events"), 1);
}

static void rollback_leaves_nothing(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("rollback", path);
    haul_error_t err;
    herr_clear(&err);
    assert_failed(store_commit(s, &err), &err, "store_error", "without");
    assert_int_equal(store_begin(s, &err), 0);
    herr_clear(&err);
    assert_failed(store_begin(s, &err), &err, "store_error", "do not nest");
    job_event_t ev = event(1, "created", -1, JOB_QUEUED, "");
    put_jobs(s, 'b', 3, NULL, &ev);
    job_t *j = make_job("b000000002", 2);
    j->bytes_done = 10;
    assert_int_equal(store_put_progress(s, j, &err), 0);
    job_free(j);
    assert_int_equal(count_jobs(s), 3); /* visible inside the transaction */
    store_rollback(s);
    store_rollback(s); /* twice is harmless */
    assert_int_equal(count_jobs(s), 0);
    assert_int_equal(store_max_seq(s), 0);
    /* the store works normally afterwards */
    j = make_job("b000000009", 9);
    put_ok(s, j, &ev);
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM jobs"), 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events"), 1);
    job_free(j);
}

static void commit_keeps_and_failed_put_is_undone_alone(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("commit", path);
    haul_error_t err;
    assert_int_equal(store_begin(s, &err), 0);
    job_event_t ev = event(1, "created", -1, JOB_QUEUED, "");
    put_jobs(s, 'c', 50, NULL, &ev);
    /* a failing put inside the batch undoes only itself: a seq taken, with
     * or without an event... */
    job_t *dup = make_job("cdup000000", 7);
    herr_clear(&err);
    assert_failed(store_put_job(s, dup, &ev, &err), &err, "store_error", "cdup");
    herr_clear(&err);
    assert_failed(store_put_job(s, dup, NULL, &err), &err, "store_error", "cdup");
    /* ...or a good row with a bad event */
    job_t *half = make_job("chalf00000", 51);
    job_event_t bad = event(1, "state", -5, JOB_QUEUED, "");
    herr_clear(&err);
    assert_failed(store_put_job(s, half, &bad, &err), &err, "store_error",
                  "chalf");
    assert_int_equal(store_commit(s, &err), 0);
    store_close(s);

    s = open_ok(path);
    assert_int_equal(count_jobs(s), 50);
    assert_int_equal(store_max_seq(s), 50);
    events_t evs;
    assert_int_equal(load_events(s, "c000000025", 0, &evs), 1);
    assert_int_equal(load_events(s, dup->id, 0, &evs), 0);
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events"), 50);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM jobs WHERE id IN "
                                   "('cdup000000', 'chalf00000')"),
                     0);
    job_free(dup);
    job_free(half);
}

static void second_open_is_locked(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *a = open_new("locked", path);
    haul_error_t err;
    herr_clear(&err);
    assert_null(store_open(path, &err));
    assert_failed(-1, &err, "store_locked", "another haul daemon");
    assert_non_null(strstr(err.message, path));
    store_close(a);
    store_close(open_ok(path));
}

static void newer_schema_is_refused(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    db_path("newer", path);
    sql_exec(path, "CREATE TABLE future(x); PRAGMA user_version = 99;");
    haul_error_t err;
    herr_clear(&err);
    assert_null(store_open(path, &err));
    assert_failed(-1, &err, "store_too_new", "newer haul (schema 99)");
    char want[64];
    snprintf(want, sizeof want, "up to %d", STORE_SCHEMA_VERSION);
    assert_non_null(strstr(err.message, want));
    /* the file is left as it was */
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 99);
    char mode[16];
    sql_text(path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "delete");
    /* and the lock was let go */
    sql_exec(path, "PRAGMA user_version = 0; DROP TABLE future;");
    store_close(open_ok(path));
}

static void not_a_database_is_refused(void **state)
{
    (void)state;
    char path[PATH_SIZE], garbage[4096];
    db_path("garbage", path);
    memset(garbage, 'x', sizeof garbage);
    assert_int_equal(fs_write_atomic(path, garbage, sizeof garbage), 0);
    haul_error_t err;
    herr_clear(&err);
    assert_null(store_open(path, &err));
    assert_failed(-1, &err, "store_error", path);
}

static void unknown_state_names_the_job(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("badstate", path);
    put_jobs(s, 'u', 2, NULL, NULL);
    store_close(s);
    sql_exec(path, "UPDATE jobs SET state = 'exploded' WHERE id = 'u000000002'");

    s = open_ok(path);
    jobs_t l = {0};
    haul_error_t err;
    herr_clear(&err);
    assert_failed(store_load_jobs(s, collect_job, &l, &err), &err,
                  "store_error", "u000000002");
    assert_non_null(strstr(err.message, "exploded"));
    assert_int_equal(l.n, 1); /* the good one before it was delivered */
    jobs_free(&l);
    store_close(s);
}

static void malformed_options_name_the_job(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("badopts", path);
    put_jobs(s, 'o', 1, NULL, NULL);
    store_close(s);
    static const char *const BAD[] = {
        "{not json", "[1,2]", "{\"priority\": \"high\"}", "{\"headers\": [1]}",
        "{\"headers\": {\"A\": \"1\"}}", "{\"connections\": 99999999999}",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "UPDATE jobs SET options = '%s'", BAD[i]);
        sql_exec(path, sql);
        s = open_ok(path);
        jobs_t l = {0};
        haul_error_t err;
        herr_clear(&err);
        assert_failed(store_load_jobs(s, collect_job, &l, &err), &err,
                      "store_error", "o000000001");
        assert_int_equal(l.n, 0);
        store_close(s);
    }
    /* missing keys take job_new's defaults */
    sql_exec(path, "UPDATE jobs SET options = '{\"priority\": 3}'");
    s = open_ok(path);
    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 1);
    assert_int_equal(l.j[0]->opt.priority, 3);
    assert_string_equal(l.j[0]->opt.mode, "auto");
    assert_int_equal(l.j[0]->opt.connections, 4);
    jobs_free(&l);
    store_close(s);
}

static void max_seq_follows_jobs(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("maxseq", path);
    assert_int_equal(store_max_seq(s), 0);
    job_t *a = make_job("m000000001", 7);
    job_t *b = make_job("m000000002", 3);
    put_ok(s, a, NULL);
    put_ok(s, b, NULL);
    assert_int_equal(store_max_seq(s), 7);
    haul_error_t err;
    assert_int_equal(store_delete_job(s, a->id, &err), 0);
    assert_int_equal(store_max_seq(s), 3);
    b->seq = 1LL << 40;
    put_ok(s, b, NULL);
    assert_int_equal(store_max_seq(s), 1LL << 40);
    store_close(s);
    job_free(a);
    job_free(b);
}

static void progress_saves_only_progress(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("progress", path);
    job_t *j = make_job("p000000001", 1);
    job_set_str(&j->title, "before");
    put_ok(s, j, NULL);
    j->bytes_done = 4096;
    j->bytes_total = 1 << 20;
    j->updated_at = 1234;
    job_set_str(&j->title, "after"); /* not a progress field */
    haul_error_t err;
    assert_int_equal(store_put_progress(s, j, &err), 0);
    jobs_t l = {0};
    assert_int_equal(load_all(s, &l), 1);
    assert_int_equal(l.j[0]->bytes_done, 4096);
    assert_int_equal(l.j[0]->bytes_total, 1 << 20);
    assert_int_equal(l.j[0]->updated_at, 1234);
    assert_string_equal(l.j[0]->title, "before");
    jobs_free(&l);
    memcpy(j->id, "p000000009", ID_LEN + 1); /* not in the store */
    herr_clear(&err);
    assert_failed(store_put_progress(s, j, &err), &err, "store_error",
                  "p000000009");
    store_close(s);
    job_free(j);
}

/* Recovery's pattern: requeue running jobs while walking them. */
typedef struct requeue {
    store_t *s;
    int seen;
} requeue_t;

static int requeue_running(void *ud, job_t *j)
{
    requeue_t *r = ud;
    r->seen++;
    int rc = 0;
    if (j->state == JOB_RUNNING) {
        job_event_t ev = event(99, "state", JOB_RUNNING, JOB_QUEUED, "restart");
        j->state = JOB_QUEUED;
        haul_error_t err;
        rc = store_put_job(r->s, j, &ev, &err);
    }
    job_free(j);
    return rc;
}

static job_state_t running_if_odd(int i)
{
    return i % 2 ? JOB_RUNNING : JOB_DONE;
}

static void load_stops_and_allows_writes(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("walk", path);
    put_jobs(s, 'w', 5, running_if_odd, NULL);
    requeue_t r = {s, 0};
    haul_error_t err;
    herr_clear(&err);
    assert_int_equal(store_load_jobs(s, requeue_running, &r, &err), 0);
    assert_int_equal(r.seen, 5);

    jobs_t l = {.stop_after = 2};
    assert_int_equal(store_load_jobs(s, collect_job, &l, &err), 42);
    assert_int_equal(l.n, 2);
    jobs_free(&l);

    l.stop_after = 0;
    assert_int_equal(load_all(s, &l), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(l.j[i]->state, i % 2 ? JOB_DONE : JOB_QUEUED);
    events_t evs;
    assert_int_equal(load_events(s, l.j[0]->id, 0, &evs), 1);
    assert_string_equal(evs.ev[0].message, "restart");
    jobs_free(&l);
    store_close(s);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void ten_thousand_puts(void **state)
{
    (void)state;
    char path[PATH_SIZE];
    store_t *s = open_new("perf", path);
    job_t *j = make_job("x000000000", 0);
    static const char *const H[] = {"Referer: https://example.org/", "Cookie: a=1"};
    set_headers(j, H, 2);
    job_set_str(&j->title, "a reasonably long title of a video somebody wants");
    job_event_t ev = event(1, "created", -1, JOB_QUEUED, "");
    enum { N = 10000 };
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 1; i <= N; i++) {
        nth_id(j->id, 'x', i);
        j->seq = i;
        put_ok(s, j, i % 10 == 0 ? &ev : NULL);
    }
    double single = seconds_since(&t0);

    haul_error_t err;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_begin(s, &err), 0);
    for (int i = 1; i <= N; i++) {
        nth_id(j->id, 'x', i);
        j->seq = i;
        j->bytes_done = i;
        put_ok(s, j, NULL);
    }
    assert_int_equal(store_commit(s, &err), 0);
    double batch = seconds_since(&t0);
    /* timings are printed, not asserted: tests check behaviour (the
     * machines are shared and noisy); bench/api.sh measures speed */
    print_message("%d puts, each its own transaction: %.3f s; in one: %.3f s\n", N,
                  single, batch);
    assert_int_equal(count_jobs(s), N);
    assert_int_equal(store_max_seq(s), N);
    store_close(s);
    /* both rounds landed: every job replaced, a tenth with history */
    assert_int_equal(sql_int(path, "SELECT sum(bytes_done) FROM jobs"),
                     (long long)N * (N + 1) / 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM job_events"), N / 10);
    job_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_store_is_wal_at_current_schema),
        cmocka_unit_test(round_trip_every_field),
        cmocka_unit_test(bad_jobs_are_refused),
        cmocka_unit_test(events_in_order_with_limit),
        cmocka_unit_test(put_replaces_and_keeps_history),
        cmocka_unit_test(put_is_atomic),
        cmocka_unit_test(delete_removes_job_and_history),
        cmocka_unit_test(rollback_leaves_nothing),
        cmocka_unit_test(commit_keeps_and_failed_put_is_undone_alone),
        cmocka_unit_test(second_open_is_locked),
        cmocka_unit_test(newer_schema_is_refused),
        cmocka_unit_test(not_a_database_is_refused),
        cmocka_unit_test(unknown_state_names_the_job),
        cmocka_unit_test(malformed_options_name_the_job),
        cmocka_unit_test(max_seq_follows_jobs),
        cmocka_unit_test(progress_saves_only_progress),
        cmocka_unit_test(load_stops_and_allows_writes),
        cmocka_unit_test(ten_thousand_puts),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
