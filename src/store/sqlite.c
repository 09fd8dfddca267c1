/* store/sqlite: store.h on SQLite 3.
 *
 * Owns the database connection, its prepared statements (made once at
 * open), the schema and its migrations, and <path>.lock, a file held with
 * flock() for the store's life so a second daemon on the same store is
 * refused. Jobs live in `jobs` (one row each, the options as one JSON text
 * column), their history in `job_events` (deleted with the job). A write
 * of one statement is atomic by itself; store_put_job with an event is one
 * transaction of its own, or a savepoint inside store_begin's, so a failing
 * call never leaves half of itself behind. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

/* MIGRATIONS[i] takes a store from schema i to i + 1. Append, never edit. */
static const char *const MIGRATIONS[] = {
    /* 0 -> 1: jobs and their history */
    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " seq INTEGER UNIQUE NOT NULL,"
    " url TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " source TEXT NOT NULL DEFAULT '',"
    " title TEXT NOT NULL DEFAULT '',"
    " filename TEXT NOT NULL DEFAULT '',"
    " bytes_done INTEGER NOT NULL DEFAULT 0,"
    " bytes_total INTEGER NOT NULL DEFAULT -1,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " error_code TEXT NOT NULL DEFAULT '',"
    " error_message TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER NOT NULL DEFAULT 0,"
    " retry_at INTEGER NOT NULL DEFAULT 0,"
    " options TEXT NOT NULL DEFAULT '{}'"
    ");"
    "CREATE INDEX jobs_state ON jobs(state);"
    "CREATE TABLE job_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " at INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " from_state TEXT,"
    " to_state TEXT,"
    " message TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX job_events_job ON job_events(job_id);",
};
_Static_assert(sizeof MIGRATIONS / sizeof MIGRATIONS[0] == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* The columns of jobs in the order ST_PUT_JOB binds (index + 1) and
 * ST_LOAD_JOBS selects them (index). */
enum {
    C_ID, C_SEQ, C_URL, C_STATE, C_SOURCE, C_TITLE, C_FILENAME, C_BYTES_DONE,
    C_BYTES_TOTAL, C_ATTEMPTS, C_ERROR_CODE, C_ERROR_MESSAGE, C_CREATED_AT,
    C_STARTED_AT, C_FINISHED_AT, C_UPDATED_AT, C_RETRY_AT, C_OPTIONS,
};
#define JOB_COLUMNS                                                          \
    "id, seq, url, state, source, title, filename, bytes_done, bytes_total, " \
    "attempts, error_code, error_message, created_at, started_at, "          \
    "finished_at, updated_at, retry_at, options"

enum {
    ST_BEGIN, ST_COMMIT, ST_SAVEPOINT, ST_RELEASE, ST_PUT_JOB, ST_PUT_PROGRESS,
    ST_ADD_EVENT, ST_DELETE_JOB, ST_LOAD_JOBS, ST_LOAD_EVENTS, ST_MAX_SEQ,
    ST_COUNT
};

static const char *const SQL[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_SAVEPOINT] = "SAVEPOINT unit",
    [ST_RELEASE] = "RELEASE unit",
    /* An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first,
     * and the cascade would take the job's history with it. */
    [ST_PUT_JOB] =
        "INSERT INTO jobs (" JOB_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
        " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, url = excluded.url,"
        " state = excluded.state, source = excluded.source,"
        " title = excluded.title, filename = excluded.filename,"
        " bytes_done = excluded.bytes_done, bytes_total = excluded.bytes_total,"
        " attempts = excluded.attempts, error_code = excluded.error_code,"
        " error_message = excluded.error_message,"
        " created_at = excluded.created_at, started_at = excluded.started_at,"
        " finished_at = excluded.finished_at, updated_at = excluded.updated_at,"
        " retry_at = excluded.retry_at, options = excluded.options",
    [ST_PUT_PROGRESS] = "UPDATE jobs SET bytes_done = ?2, bytes_total = ?3,"
                        " updated_at = ?4 WHERE id = ?1",
    [ST_ADD_EVENT] = "INSERT INTO job_events (job_id, at, type, from_state,"
                     " to_state, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DELETE_JOB] = "DELETE FROM jobs WHERE id = ?1",
    [ST_LOAD_JOBS] = "SELECT " JOB_COLUMNS " FROM jobs ORDER BY seq",
    [ST_LOAD_EVENTS] = "SELECT at, type, from_state, to_state, message"
                       " FROM job_events WHERE job_id = ?1 ORDER BY id LIMIT ?2",
    [ST_MAX_SEQ] = "SELECT coalesce(max(seq), 0) FROM jobs",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *path;
    int lock_fd;   /* flock()ed <path>.lock, -1 when not held */
    bool in_tx;    /* between store_begin and store_commit/store_rollback */
};

/* ---- errors -------------------------------------------------------------- */

/* Fills err from a failed SQLite call (rc): "disk_full" for a full disk,
 * "store_error" otherwise, with a sentence naming the operation (printf
 * format, e.g. "save job %s"). Returns -1. err may be NULL. */
__attribute__((format(printf, 4, 0)))
static int db_vfail(store_t *s, haul_error_t *err, int rc, const char *fmt,
                    va_list ap)
{
    char what[200];
    vsnprintf(what, sizeof what, fmt, ap);
    int primary = rc & 0xff;
    if (primary == SQLITE_FULL)
        return herr_set(err, "disk_full", false,
                        "no space left on the disk to %s in the store %s: "
                        "free some space, then try again", what, s->path);
    const char *why = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    return herr_set(err, "store_error",
                    primary == SQLITE_BUSY || primary == SQLITE_LOCKED,
                    "could not %s in the store %s: %s", what, s->path, why);
}

__attribute__((format(printf, 4, 5)))
static int db_fail(store_t *s, haul_error_t *err, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = db_vfail(s, err, rc, fmt, ap);
    va_end(ap);
    return ret;
}

/* ---- statements ---------------------------------------------------------- */

/* Makes a used statement ready for its next use. */
static void finish(sqlite3_stmt *st)
{
    /* reset only repeats the last step's error, which the caller has
     * already reported; clear_bindings always succeeds. */
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
}

/* Collects binds; the first failure sticks in rc. Text is SQLITE_STATIC:
 * callers keep it alive until the statement is finished. */
typedef struct binder {
    sqlite3_stmt *st;
    int rc;
} binder_t;

static void bind_text(binder_t *b, int i, const char *v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_text(b->st, i, v ? v : "", -1, SQLITE_STATIC);
}

static void bind_int(binder_t *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_int64(b->st, i, v);
}

/* A state as its name, -1 as NULL. */
static void bind_state(binder_t *b, int i, int state)
{
    if (state >= 0)
        bind_text(b, i, job_state_name((job_state_t)state));
    else if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_null(b->st, i);
}

/* Steps a statement that returns no rows (after binds that ended in
 * bind_rc), then finishes it. Returns 0, or -1 with err naming the
 * operation. */
__attribute__((format(printf, 5, 6)))
static int run(store_t *s, sqlite3_stmt *st, int bind_rc, haul_error_t *err,
               const char *fmt, ...)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
    int ret = 0;
    if (rc != SQLITE_DONE) {
        va_list ap;
        va_start(ap, fmt);
        ret = db_vfail(s, err, rc == SQLITE_ROW ? SQLITE_ERROR : rc, fmt, ap);
        va_end(ap);
    }
    finish(st);
    return ret;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* Runs a one-off query (open time only) and copies the first column of its
 * first row into out ("" when there is no row). */
static int query_text(store_t *s, const char *sql, char *out, size_t size,
                      haul_error_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    snprintf(out, size, "%s", rc == SQLITE_ROW ? col_text(st, 0) : "");
    int ret = rc == SQLITE_ROW || rc == SQLITE_DONE
                  ? 0
                  : db_fail(s, err, rc, "run \"%s\"", sql);
    (void)sqlite3_finalize(st); /* repeats the step's error, if any */
    return ret;
}

static int query_int(store_t *s, const char *sql, long long *out,
                     haul_error_t *err)
{
    char text[32];
    if (query_text(s, sql, text, sizeof text, err) != 0)
        return -1;
    char *end;
    errno = 0;
    *out = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return herr_set(err, "store_error", false,
                        "the store %s answered \"%s\" to \"%s\"; expected a number",
                        s->path, text, sql);
    return 0;
}

static int exec_sql(store_t *s, const char *sql, haul_error_t *err,
                    const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(s, err, rc, "%s", what);
}

/* ---- transactions -------------------------------------------------------- */

/* Ends the transaction that is open, if any, keeping nothing of it. A
 * ROLLBACK that fails leaves the connection inside the transaction, and the
 * next BEGIN reports it ("cannot start a transaction within a
 * transaction"): there is no one to tell here. */
static void undo(store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Opens the atomic unit of a write of several statements: a transaction
 * of its own, or a savepoint inside store_begin's, so that a failing call
 * undoes only itself. */
static int unit_begin(store_t *s, haul_error_t *err)
{
    return run(s, s->st[s->in_tx ? ST_SAVEPOINT : ST_BEGIN], SQLITE_OK, err,
               "start a transaction");
}

/* Closes the unit unit_begin opened: keeps it when rc is 0, undoes it
 * otherwise. Returns 0 when kept, else -1 (err holds the first failure). */
static int unit_end(store_t *s, int rc, haul_error_t *err)
{
    if (rc == 0 && run(s, s->st[s->in_tx ? ST_RELEASE : ST_COMMIT], SQLITE_OK,
                       err, "save a write") == 0)
        return 0;
    if (s->in_tx) /* this call only; err already says why */
        (void)sqlite3_exec(s->db, "ROLLBACK TO unit; RELEASE unit", NULL, NULL,
                           NULL);
    else
        undo(s);
    return -1;
}

int store_begin(store_t *s, haul_error_t *err)
{
    if (s->in_tx)
        return herr_set(err, "store_error", false,
                        "store_begin: a transaction is already open on %s "
                        "(they do not nest)", s->path);
    if (run(s, s->st[ST_BEGIN], SQLITE_OK, err, "start a transaction") != 0)
        return -1;
    s->in_tx = true;
    return 0;
}

/* On failure nothing since store_begin is kept and the store is ready for
 * the next store_begin. */
int store_commit(store_t *s, haul_error_t *err)
{
    if (!s->in_tx)
        return herr_set(err, "store_error", false,
                        "store_commit without store_begin on %s", s->path);
    s->in_tx = false;
    /* SQLite rolls back by itself after some errors (a full disk, an I/O
     * error); the writes after that one were saved each on its own. */
    if (sqlite3_get_autocommit(s->db))
        return herr_set(err, "store_error", false,
                        "the transaction on the store %s was undone by an "
                        "earlier error; the writes before it were not saved",
                        s->path);
    if (run(s, s->st[ST_COMMIT], SQLITE_OK, err, "commit a transaction") == 0)
        return 0;
    undo(s);
    return -1;
}

void store_rollback(store_t *s)
{
    if (!s->in_tx)
        return;
    s->in_tx = false;
    undo(s);
}

/* ---- options as JSON ------------------------------------------------------ */

static json_t *need(json_t *v)
{
    if (!v)
        abort(); /* out of memory */
    return v;
}

/* Sets o[key] to the string v. Returns -1 when v is not UTF-8 text. */
static int json_put_str(json_t *o, const char *key, const char *v)
{
    json_t *x = json_string(v ? v : "");
    if (!x)
        return -1;
    if (json_object_set_new(o, key, x) != 0)
        abort();
    return 0;
}

static void json_put_int(json_t *o, const char *key, int64_t v)
{
    if (json_object_set_new(o, key, need(json_integer((json_int_t)v))) != 0)
        abort();
}

/* The options as compact JSON (the caller frees it), or NULL with err set
 * when a text option is not UTF-8. Headers are an array of the
 * "Name: value" lines as given: ordered, duplicates kept, byte-exact. */
static char *options_to_json(store_t *s, const job_t *j, haul_error_t *err)
{
    const job_options_t *o = &j->opt;
    json_t *root = need(json_object());
    const char *bad = NULL;
    if (json_put_str(root, "dir", o->dir) != 0)
        bad = "dir";
    else if (json_put_str(root, "filename", o->filename) != 0)
        bad = "filename";
    else if (json_put_str(root, "mode", o->mode) != 0)
        bad = "mode";
    else if (json_put_str(root, "format", o->format) != 0)
        bad = "format";
    else if (json_put_str(root, "sha256", o->sha256) != 0)
        bad = "sha256";
    json_put_int(root, "max_speed", o->max_speed);
    json_put_int(root, "connections", o->connections);
    json_put_int(root, "priority", o->priority);
    if (json_object_set_new(root, "record", json_boolean(o->record)) != 0)
        abort();
    json_t *headers = need(json_array());
    if (json_object_set_new(root, "headers", headers) != 0)
        abort();
    for (size_t i = 0; !bad && i < o->nheaders; i++) {
        json_t *h = json_string(o->headers[i] ? o->headers[i] : "");
        if (!h)
            bad = "headers";
        else if (json_array_append_new(headers, h) != 0)
            abort();
    }
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (bad) {
        herr_set(err, "store_error", false,
                 "could not save job %s in the store %s: its option \"%s\" "
                 "is not UTF-8 text", j->id, s->path, bad);
        return NULL;
    }
    if (!text)
        abort();
    return text;
}

/* Replaces *dst with root[key] when present. Returns -1 when it is there
 * but not a string. */
static int json_get_str(json_t *root, const char *key, char **dst)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return -1;
    job_set_str(dst, json_string_value(v));
    return 0;
}

/* Sets *dst to root[key] when present. Returns -1 when it is there but not
 * an integer in [min, max]. */
static int json_get_int(json_t *root, const char *key, int64_t min,
                        int64_t max, int64_t *dst)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max)
        return -1;
    *dst = (int64_t)json_integer_value(v);
    return 0;
}

/* Reads the options column into j->opt; keys that are missing keep
 * job_new()'s defaults. */
static int options_from_json(store_t *s, const char *text, job_t *j,
                             haul_error_t *err)
{
    job_options_t *o = &j->opt;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return herr_set(err, "store_error", false,
                        "job %s in the store %s has options that are not a "
                        "JSON object (%s)", j->id, s->path,
                        root ? "another JSON value" : jerr.text);
    }
    const char *bad = NULL;
    int64_t max_speed = o->max_speed, connections = o->connections,
            priority = o->priority;
    if (json_get_str(root, "dir", &o->dir) != 0)
        bad = "dir";
    else if (json_get_str(root, "filename", &o->filename) != 0)
        bad = "filename";
    else if (json_get_str(root, "mode", &o->mode) != 0)
        bad = "mode";
    else if (json_get_str(root, "format", &o->format) != 0)
        bad = "format";
    else if (json_get_str(root, "sha256", &o->sha256) != 0)
        bad = "sha256";
    else if (json_get_int(root, "max_speed", INT64_MIN, INT64_MAX, &max_speed) != 0)
        bad = "max_speed";
    else if (json_get_int(root, "connections", INT_MIN, INT_MAX, &connections) != 0)
        bad = "connections";
    else if (json_get_int(root, "priority", INT_MIN, INT_MAX, &priority) != 0)
        bad = "priority";
    o->max_speed = max_speed;
    o->connections = (int)connections;
    o->priority = (int)priority;
    json_t *rec = json_object_get(root, "record");
    if (!bad && rec && !json_is_boolean(rec))
        bad = "record";
    o->record = json_is_true(rec);

    json_t *headers = json_object_get(root, "headers");
    if (!bad && headers && !json_is_array(headers))
        bad = "headers";
    size_t n = bad ? 0 : json_array_size(headers); /* 0 when absent */
    if (n > 0) {
        o->headers = calloc(n, sizeof *o->headers);
        if (!o->headers)
            abort();
    }
    for (size_t i = 0; i < n; i++) {
        json_t *h = json_array_get(headers, i);
        if (!json_is_string(h)) {
            bad = "headers";
            break;
        }
        job_set_str(&o->headers[i], json_string_value(h));
        o->nheaders = i + 1; /* job_free frees what is filled */
    }
    json_decref(root);
    if (bad)
        return herr_set(err, "store_error", false,
                        "job %s in the store %s has a malformed option \"%s\"",
                        j->id, s->path, bad);
    return 0;
}

/* ---- open and close ------------------------------------------------------- */

/* Takes <path>.lock with flock(), kept until store_close. */
static int take_lock(store_t *s, haul_error_t *err)
{
    char *lock_path;
    if (asprintf(&lock_path, "%s.lock", s->path) < 0)
        abort();
    s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int ret = 0;
    if (s->lock_fd < 0)
        ret = herr_set(err, "store_error", false,
                       "could not open the lock file %s: %s", lock_path,
                       strerror(errno));
    else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        ret = errno == EWOULDBLOCK
                  ? herr_set(err, "store_locked", false,
                             "another haul daemon is using %s; stop it first "
                             "or use another --state-dir", s->path)
                  : herr_set(err, "store_error", false,
                             "could not lock %s: %s", lock_path, strerror(errno));
    free(lock_path);
    return ret;
}

/* Applies the migrations from schema v on, in one transaction together
 * with the user_version bump. The lock keeps any other haul out, so v
 * (read at open) cannot change meanwhile. */
static int migrate(store_t *s, long long v, haul_error_t *err)
{
    if (v == STORE_SCHEMA_VERSION)
        return 0;
    int ret = exec_sql(s, "BEGIN IMMEDIATE", err, "start a migration");
    for (; ret == 0 && v < STORE_SCHEMA_VERSION; v++)
        ret = exec_sql(s, MIGRATIONS[v], err, "migrate the schema");
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    if (ret == 0)
        ret = exec_sql(s, bump, err, "record the schema version");
    if (ret == 0)
        ret = exec_sql(s, "COMMIT", err, "commit a migration");
    if (ret != 0)
        undo(s);
    return ret;
}

/* Sets the connection up and brings the schema to STORE_SCHEMA_VERSION. */
static int configure(store_t *s, haul_error_t *err)
{
    int rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return db_fail(s, err, rc, "set the busy timeout");
    /* Normal locking: WAL lets other processes read the store while the
     * daemon runs (sqlite3 haul.db '.backup …', inspection); the flock on
     * <path>.lock is what keeps a second daemon out. */
    /* Refuse a schema this build cannot read before anything writes to the
     * file. */
    long long v;
    if (query_int(s, "PRAGMA user_version", &v, err) != 0)
        return -1;
    if (v > STORE_SCHEMA_VERSION)
        return herr_set(err, "store_too_new", false,
                        "the store %s was written by a newer haul (schema %lld); "
                        "this haul understands up to %d: upgrade haul or use "
                        "another --state-dir", s->path, v, STORE_SCHEMA_VERSION);
    if (v < 0)
        return herr_set(err, "store_error", false,
                        "the store %s has an invalid schema version %lld",
                        s->path, v);
    char mode[32];
    if (query_text(s, "PRAGMA journal_mode = WAL", mode, sizeof mode, err) != 0)
        return -1;
    if (strcasecmp(mode, "wal") != 0)
        return herr_set(err, "store_error", false,
                        "the store %s cannot use write-ahead logging (journal "
                        "mode \"%s\"); put the state folder on a local file system",
                        s->path, mode);
    if (exec_sql(s, "PRAGMA synchronous = NORMAL", err, "set synchronous") != 0 ||
        exec_sql(s, "PRAGMA foreign_keys = ON", err, "enable foreign keys") != 0)
        return -1;
    long long fk;
    if (query_int(s, "PRAGMA foreign_keys", &fk, err) != 0)
        return -1;
    if (fk != 1)
        return herr_set(err, "store_error", false,
                        "this SQLite cannot enforce foreign keys; the store %s "
                        "needs them", s->path);
    return migrate(s, v, err);
}

store_t *store_open(const char *path, haul_error_t *err)
{
    store_t *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->lock_fd = -1;
    job_set_str(&s->path, path);
    if (take_lock(s, err) != 0)
        goto fail;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        db_fail(s, err, rc, "open the database");
        goto fail;
    }
    if (configure(s, err) != 0)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &s->st[i], NULL);
        if (rc != SQLITE_OK) {
            db_fail(s, err, rc, "prepare \"%s\"", SQL[i]);
            goto fail;
        }
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    store_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        (void)sqlite3_finalize(s->st[i]); /* repeats errors already reported */
    (void)sqlite3_close_v2(s->db); /* everything is finalized: never busy */
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the lock; the file stays for the next */
    free(s->path);
    free(s);
}

/* ---- writes --------------------------------------------------------------- */

/* One statement, atomic on its own (as are progress and delete). */
int store_add_event(store_t *s, const char *id, const job_event_t *ev,
                    haul_error_t *err)
{
    if (ev->from < -1 || ev->from >= JOB_STATE_COUNT || ev->to < -1 ||
        ev->to >= JOB_STATE_COUNT)
        return herr_set(err, "store_error", false,
                        "could not add an event to job %s: its states (%d, %d) "
                        "are not job states", id, ev->from, ev->to);
    sqlite3_stmt *st = s->st[ST_ADD_EVENT];
    binder_t b = {st, SQLITE_OK};
    bind_text(&b, 1, id);
    bind_int(&b, 2, ev->at);
    bind_text(&b, 3, ev->type);
    bind_state(&b, 4, ev->from);
    bind_state(&b, 5, ev->to);
    bind_text(&b, 6, ev->message);
    return run(s, st, b.rc, err, "add an event to job %s", id);
}

static int put_row(store_t *s, const job_t *j, const char *options,
                   haul_error_t *err)
{
    sqlite3_stmt *st = s->st[ST_PUT_JOB];
    binder_t b = {st, SQLITE_OK};
    bind_text(&b, C_ID + 1, j->id);
    bind_int(&b, C_SEQ + 1, j->seq);
    bind_text(&b, C_URL + 1, j->url);
    bind_text(&b, C_STATE + 1, job_state_name(j->state));
    bind_text(&b, C_SOURCE + 1, j->source);
    bind_text(&b, C_TITLE + 1, j->title);
    bind_text(&b, C_FILENAME + 1, j->filename);
    bind_int(&b, C_BYTES_DONE + 1, j->bytes_done);
    bind_int(&b, C_BYTES_TOTAL + 1, j->bytes_total);
    bind_int(&b, C_ATTEMPTS + 1, j->attempts);
    bind_text(&b, C_ERROR_CODE + 1, j->error_code);
    bind_text(&b, C_ERROR_MESSAGE + 1, j->error_message);
    bind_int(&b, C_CREATED_AT + 1, j->created_at);
    bind_int(&b, C_STARTED_AT + 1, j->started_at);
    bind_int(&b, C_FINISHED_AT + 1, j->finished_at);
    bind_int(&b, C_UPDATED_AT + 1, j->updated_at);
    bind_int(&b, C_RETRY_AT + 1, j->retry_at);
    bind_text(&b, C_OPTIONS + 1, options);
    return run(s, st, b.rc, err, "save job %s", j->id);
}

int store_put_job(store_t *s, const job_t *j, const job_event_t *ev,
                  haul_error_t *err)
{
    if (!j->id[0])
        return herr_set(err, "store_error", false,
                        "could not save a job without an id (url %.80s)",
                        j->url ? j->url : "");
    if ((unsigned)j->state >= JOB_STATE_COUNT)
        return herr_set(err, "store_error", false,
                        "could not save job %s: %d is not a job state", j->id,
                        (int)j->state);
    char *options = options_to_json(s, j, err);
    if (!options)
        return -1;
    int rc;
    if (!ev) { /* one statement: atomic on its own */
        rc = put_row(s, j, options, err);
    } else if ((rc = unit_begin(s, err)) == 0) {
        rc = put_row(s, j, options, err);
        if (rc == 0)
            rc = store_add_event(s, j->id, ev, err);
        rc = unit_end(s, rc, err);
    }
    free(options); /* after run() cleared the binding that borrowed it */
    return rc;
}

/* A job that is not in the store is an error: its progress has nowhere to
 * go, and the caller's view of the store is wrong. */
int store_put_progress(store_t *s, const job_t *j, haul_error_t *err)
{
    sqlite3_stmt *st = s->st[ST_PUT_PROGRESS];
    binder_t b = {st, SQLITE_OK};
    bind_text(&b, 1, j->id);
    bind_int(&b, 2, j->bytes_done);
    bind_int(&b, 3, j->bytes_total);
    bind_int(&b, 4, j->updated_at);
    if (run(s, st, b.rc, err, "save the progress of job %s", j->id) != 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return herr_set(err, "store_error", false,
                        "could not save the progress of job %s: it is not in "
                        "the store %s", j->id, s->path);
    return 0;
}

int store_delete_job(store_t *s, const char *id, haul_error_t *err)
{
    sqlite3_stmt *st = s->st[ST_DELETE_JOB];
    binder_t b = {st, SQLITE_OK};
    bind_text(&b, 1, id);
    return run(s, st, b.rc, err, "delete job %s", id);
}

/* ---- reads ---------------------------------------------------------------- */

/* Builds the job of the current row of ST_LOAD_JOBS (the caller owns it),
 * or returns NULL with err set when the row is not a valid job. */
static job_t *row_to_job(store_t *s, sqlite3_stmt *st, haul_error_t *err)
{
    const char *id = col_text(st, C_ID);
    size_t id_len = strlen(id);
    if (id_len > ID_LEN) {
        herr_set(err, "store_error", false,
                 "the store %s holds a job with a malformed id \"%.40s\"",
                 s->path, id);
        return NULL;
    }
    job_t *j = job_new();
    memcpy(j->id, id, id_len + 1);
    const char *state = col_text(st, C_STATE);
    int parsed = job_state_parse(state);
    if (parsed < 0) {
        herr_set(err, "store_error", false,
                 "job %s in the store %s has an unknown state \"%.40s\"; was "
                 "it written by a newer haul?", j->id, s->path, state);
        job_free(j);
        return NULL;
    }
    j->state = (job_state_t)parsed;
    j->seq = sqlite3_column_int64(st, C_SEQ);
    job_set_str(&j->url, col_text(st, C_URL));
    snprintf(j->source, sizeof j->source, "%s", col_text(st, C_SOURCE));
    job_set_str(&j->title, col_text(st, C_TITLE));
    job_set_str(&j->filename, col_text(st, C_FILENAME));
    j->bytes_done = sqlite3_column_int64(st, C_BYTES_DONE);
    j->bytes_total = sqlite3_column_int64(st, C_BYTES_TOTAL);
    j->attempts = (unsigned)sqlite3_column_int64(st, C_ATTEMPTS);
    snprintf(j->error_code, sizeof j->error_code, "%s",
             col_text(st, C_ERROR_CODE));
    job_set_str(&j->error_message, col_text(st, C_ERROR_MESSAGE));
    j->created_at = sqlite3_column_int64(st, C_CREATED_AT);
    j->started_at = sqlite3_column_int64(st, C_STARTED_AT);
    j->finished_at = sqlite3_column_int64(st, C_FINISHED_AT);
    j->updated_at = sqlite3_column_int64(st, C_UPDATED_AT);
    j->retry_at = sqlite3_column_int64(st, C_RETRY_AT);
    if (options_from_json(s, col_text(st, C_OPTIONS), j, err) != 0) {
        job_free(j);
        return NULL;
    }
    return j;
}

int store_load_jobs(store_t *s, int (*each)(void *ud, job_t *j), void *ud,
                    haul_error_t *err)
{
    sqlite3_stmt *st = s->st[ST_LOAD_JOBS];
    if (sqlite3_stmt_busy(st))
        return herr_set(err, "store_error", false,
                        "store_load_jobs called again while it walks %s", s->path);
    int ret = 0;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            ret = db_fail(s, err, rc, "read the jobs");
            break;
        }
        job_t *j = row_to_job(s, st, err);
        if (!j) {
            ret = -1;
            break;
        }
        ret = each(ud, j);
        if (ret != 0)
            break;
    }
    finish(st);
    return ret;
}

/* A nullable state column: -1 for NULL, -2 for a name this build does not
 * know. */
static int col_state(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return -1;
    int v = job_state_parse(col_text(st, i));
    return v < 0 ? -2 : v;
}

int store_load_events(store_t *s, const char *id, int limit,
                      int (*each)(void *ud, const job_event_t *ev), void *ud,
                      haul_error_t *err)
{
    sqlite3_stmt *st = s->st[ST_LOAD_EVENTS];
    if (sqlite3_stmt_busy(st))
        return herr_set(err, "store_error", false,
                        "store_load_events called again while it walks %s",
                        s->path);
    binder_t b = {st, SQLITE_OK};
    bind_text(&b, 1, id);
    bind_int(&b, 2, limit > 0 ? limit : -1); /* LIMIT -1: no limit */
    if (b.rc != SQLITE_OK) {
        finish(st);
        return db_fail(s, err, b.rc, "read the history of job %s", id);
    }
    int ret = 0;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            ret = db_fail(s, err, rc, "read the history of job %s", id);
            break;
        }
        job_event_t ev = {
            .at = sqlite3_column_int64(st, 0),
            .from = col_state(st, 2),
            .to = col_state(st, 3),
            /* borrowed from the row, valid until the next step */
            .message = (char *)col_text(st, 4),
        };
        snprintf(ev.type, sizeof ev.type, "%s", col_text(st, 1));
        if (ev.from < -1 || ev.to < -1) {
            ret = herr_set(err, "store_error", false,
                           "an event of job %s in the store %s has an unknown "
                           "state; was it written by a newer haul?", id, s->path);
            break;
        }
        ret = each(ud, &ev);
        if (ret != 0)
            break;
    }
    finish(st);
    return ret;
}

/* -1 when the store cannot be read. */
int64_t store_max_seq(store_t *s)
{
    sqlite3_stmt *st = s->st[ST_MAX_SEQ];
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    finish(st);
    return v;
}
