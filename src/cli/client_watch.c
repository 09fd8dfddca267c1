/* client_watch.c: `haul watch`, the active jobs live, from the daemon's
 * server-sent events (GET /api/events).
 *
 * Once the event stream is open (its headers came), one GET /api/jobs takes
 * the active jobs as a starting point; every `job` and `removed` event then
 * updates that map. Events sent between the stream opening and the list
 * arrive after the list, in order, so the map ends up right. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/job.h"
#include "util/units.h"

#define WATCH_MAX_EVENT (8L * 1024 * 1024) /* one event's text */
#define WATCH_STALL_S 45L                  /* heartbeats come every 15 s */
#define WATCH_REDRAW_S 0.25

static const cli_option_t WATCH_OPTIONS[] = {
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t WATCH_CMD = {
    "watch", "[options]",
    "Show the active (queued, running, paused) jobs live. On a terminal: a table\n"
    "redrawn up to 4 times a second under a line of totals. Otherwise: one line\n"
    "per state change, \"ID STATE NAME\". With --json: each event as a line\n"
    "{\"event\": TYPE, \"data\": ...}, the first one a \"snapshot\" of the active\n"
    "jobs. Ctrl-C ends it (exit 0); a daemon that goes away ends it with exit 6.",
    WATCH_OPTIONS, sizeof WATCH_OPTIONS / sizeof WATCH_OPTIONS[0]};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

typedef struct watch {
    client_t *c;
    CURL *h;
    bool tty;
    bool cursor_hidden;
    json_t *jobs;    /* id -> job, the active ones */
    json_t *seen;    /* id -> last state printed (not a tty) */
    long status;     /* of the event stream */
    bool listed;     /* the initial list is in */
    int rc;          /* set by a callback that stopped the transfer, else -1 */
    char *line;      /* the unfinished line */
    size_t llen, lcap;
    char event[64];  /* the event's type */
    char *data;      /* its data lines joined by \n */
    size_t dlen, dcap;
    char *errbody;   /* the body of a non-200 answer */
    size_t elen;
    bool dirty;
    double last_draw;
    bool cr;         /* the last chunk ended in \r */
} watch_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool active_state(const char *name)
{
    int s = job_state_parse(name);
    return s >= 0 && !job_state_final((job_state_t)s);
}

static int state_rank(const char *s)
{
    return !strcmp(s, "running") ? 0 : !strcmp(s, "queued") ? 1 : 2;
}

static int by_state_then_age(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int d = state_rank(jstr(x, "state")) - state_rank(jstr(y, "state"));
    if (d)
        return d;
    d = strcmp(jstr(x, "created_at"), jstr(y, "created_at"));
    return d ? d : strcmp(jstr(x, "id"), jstr(y, "id"));
}

/* Redraws the whole screen: totals, then the table of active jobs. */
static void draw(watch_t *w)
{
    size_t n = json_object_size(w->jobs);
    json_t **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return;
    const char *id;
    json_t *job;
    size_t i = 0;
    int count[3] = {0, 0, 0};
    double speed = 0;
    json_object_foreach(w->jobs, id, job) {
        list[i++] = job;
        int rank = state_rank(jstr(job, "state"));
        count[rank]++;
        if (rank == 0) /* running */
            speed += jnum(job, "speed_bps", 0);
    }
    qsort(list, n, sizeof *list, by_state_then_age);
    int rows, width = cli_term_size(STDOUT_FILENO, &rows);
    rows -= 3; /* header, blank line, table head */
    json_t *shown = json_array();
    for (i = 0; i < n && (int)i < rows; i++)
        json_array_append(shown, list[i]);

    char *frame = NULL;
    size_t flen = 0;
    FILE *f = open_memstream(&frame, &flen);
    if (!f) {
        json_decref(shown);
        free(list);
        return;
    }
    char sp[32], clock[16], head[256];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    snprintf(head, sizeof head, "haul watch  %zu active: %d running, %d queued, %d paused  "
                                "%s/s  %s",
             n, count[0], count[1], count[2], fmt_bytes((int64_t)speed, sp, sizeof sp), clock);
    fputs("\033[H\033[2J", f);
    fprintf(f, "%.*s\n\n", width > 0 ? width : (int)sizeof head, head);
    if (n == 0)
        fprintf(f, "no active jobs\n");
    else
        client_print_table(f, shown, width);
    if (n > json_array_size(shown))
        fprintf(f, "... and %zu more", n - json_array_size(shown));
    fclose(f);
    fwrite(frame, 1, flen, stdout);
    fflush(stdout);
    free(frame);
    json_decref(shown);
    free(list);
    w->dirty = false;
    w->last_draw = now_s();
}

static void maybe_draw(watch_t *w)
{
    if (w->tty && !w->c->json && w->dirty && now_s() - w->last_draw >= WATCH_REDRAW_S)
        draw(w);
}

/* Not a tty: one line when a job's state differs from the last printed. */
static void note_state(watch_t *w, const char *id, const char *state, const json_t *job)
{
    if (w->tty || w->c->json)
        return;
    const char *last = json_string_value(json_object_get(w->seen, id));
    if (last && !strcmp(last, state))
        return;
    char sid[32], sstate[32], name[1024];
    client_printable(id, sid, sizeof sid);
    client_printable(state, sstate, sizeof sstate);
    client_printable(job ? client_job_name(job) : "", name, sizeof name);
    printf("%s %s%s%s\n", sid, sstate, name[0] ? " " : "", name);
    fflush(stdout);
    if (!strcmp(state, "removed"))
        json_object_del(w->seen, id);
    else
        json_object_set_new(w->seen, id, json_string(state));
}

static void apply_job(watch_t *w, json_t *job)
{
    const char *id = jstr(job, "id"), *state = jstr(job, "state");
    if (!*id)
        return;
    note_state(w, id, state, job);
    if (active_state(state))
        json_object_set(w->jobs, id, job);
    else
        json_object_del(w->jobs, id);
    w->dirty = true;
}

/* The starting point: the active jobs now. Returns 0 or an exit status. */
static int initial_list(watch_t *w)
{
    client_t lc = *w->c; /* its own handle (w's is busy); server and token shared */
    lc.curl = NULL;
    json_t *answer;
    int rc = client_call(&lc, "GET", "/api/jobs?state=queued,running,paused&limit=1000",
                         NULL, NULL, &answer);
    if (lc.curl)
        curl_easy_cleanup(lc.curl);
    if (rc != EXIT_OK)
        return rc;
    if (w->c->json) {
        json_t *snap = json_pack("{s:s,s:O}", "event", "snapshot", "data", answer);
        client_print_json(snap);
        json_decref(snap);
    }
    size_t i;
    json_t *job;
    json_array_foreach(json_object_get(answer, "jobs"), i, job)
        apply_job(w, job);
    json_decref(answer);
    w->listed = true;
    if (w->tty && !w->c->json)
        draw(w);
    return 0;
}

static void dispatch(watch_t *w)
{
    if (w->dlen == 0) /* no data: no event (SSE) */
        goto reset;
    json_t *data = json_loadb(w->data, w->dlen, 0, NULL);
    const char *type = w->event[0] ? w->event : "message";
    if (!data)
        goto reset;
    if (w->c->json) {
        json_t *ev = json_pack("{s:s,s:O}", "event", type, "data", data);
        client_print_json(ev);
        json_decref(ev);
    }
    if (!strcmp(type, "job")) {
        apply_job(w, data);
    } else if (!strcmp(type, "removed")) {
        const char *id = jstr(data, "id");
        json_t *job = json_incref(json_object_get(w->jobs, id));
        note_state(w, id, "removed", job);
        json_decref(job);
        json_object_del(w->jobs, id);
        w->dirty = true;
    }
    json_decref(data);
reset:
    w->event[0] = '\0';
    w->dlen = 0;
}

/* One line of the stream, without its end. Returns 0 or -1. */
static int sse_line(watch_t *w, const char *line, size_t len)
{
    if (len == 0) {
        dispatch(w);
        return 0;
    }
    if (line[0] == ':') /* a comment: the heartbeat */
        return 0;
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    if (value < line + len && *value == ' ')
        value++;
    size_t vlen = (size_t)(line + len - value);
    if (nlen == 5 && !memcmp(line, "event", 5)) {
        snprintf(w->event, sizeof w->event, "%.*s", (int)vlen, value);
    } else if (nlen == 4 && !memcmp(line, "data", 4)) {
        size_t need = w->dlen + vlen + 2;
        if (need > (size_t)WATCH_MAX_EVENT)
            return -1;
        if (need > w->dcap) {
            size_t cap = w->dcap ? w->dcap : 4096;
            while (cap < need)
                cap *= 2;
            char *d = realloc(w->data, cap);
            if (!d)
                return -1;
            w->data = d;
            w->dcap = cap;
        }
        if (w->dlen > 0)
            w->data[w->dlen++] = '\n';
        memcpy(w->data + w->dlen, value, vlen);
        w->dlen += vlen;
    } /* id:, retry: and unknown fields are ignored */
    return 0;
}

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ud)
{
    watch_t *w = ud;
    size_t n = size * nmemb;
    if (w->status != 200) { /* keep the error answer for the message */
        size_t room = 65536 - w->elen;
        size_t take = n < room ? n : room;
        char *b = realloc(w->errbody, w->elen + take + 1);
        if (!b)
            return 0;
        w->errbody = b;
        memcpy(b + w->elen, data, take);
        w->elen += take;
        b[w->elen] = '\0';
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = data[i];
        if (ch == '\n' && w->cr) { /* the \n of \r\n: the line already ended */
            w->cr = false;
            continue;
        }
        w->cr = ch == '\r';
        if (ch == '\n' || ch == '\r') {
            if (sse_line(w, w->line, w->llen) != 0)
                goto too_large;
            w->llen = 0;
            continue;
        }
        if (w->llen + 1 >= w->lcap) {
            if (w->lcap >= (size_t)WATCH_MAX_EVENT)
                goto too_large;
            size_t cap = w->lcap ? w->lcap * 2 : 4096;
            char *l = realloc(w->line, cap);
            if (!l)
                return 0;
            w->line = l;
            w->lcap = cap;
        }
        w->line[w->llen++] = ch;
    }
    maybe_draw(w);
    return n;
too_large:
    fprintf(stderr, "haul: the daemon at %s sent an event larger than %ld MiB\n", w->c->server,
            WATCH_MAX_EVENT >> 20);
    w->rc = EXIT_FAILED;
    return 0;
}

/* The end of the stream's headers: when it is open, take the list. */
static size_t on_stream_header(char *data, size_t size, size_t nmemb, void *ud)
{
    watch_t *w = ud;
    size_t n = size * nmemb;
    if (!(n <= 2 && (data[0] == '\r' || data[0] == '\n')))
        return n;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
    if (w->status == 200 && !w->listed) {
        int rc = initial_list(w);
        if (rc != 0) {
            w->rc = rc;
            return 0; /* stops the transfer */
        }
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    watch_t *w = ud;
    if (stop_signal)
        return 1;
    maybe_draw(w);
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    client_t c;
    int rc = client_start(&c, &WATCH_CMD, argc, argv, NULL, NULL);
    if (rc < 0)
        rc = client_no_operands(&c, argc, argv, "");
    if (rc >= 0) {
        client_free(&c);
        return rc;
    }
    watch_t w = {.c = &c, .tty = isatty(STDOUT_FILENO) != 0, .jobs = json_object(),
                 .seen = json_object(), .rc = -1};

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: the wait for data ends at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    struct curl_slist *hl = NULL;
    w.h = client_handle(&c, "GET", "/api/events", NULL, &hl);
    if (!w.h) {
        rc = EXIT_FAILED;
        goto out;
    }
    hl = curl_slist_append(hl, "Accept: text/event-stream");
    curl_easy_setopt(w.h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(w.h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(w.h, CURLOPT_WRITEDATA, &w);
    curl_easy_setopt(w.h, CURLOPT_HEADERFUNCTION, on_stream_header);
    curl_easy_setopt(w.h, CURLOPT_HEADERDATA, &w);
    curl_easy_setopt(w.h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(w.h, CURLOPT_XFERINFODATA, &w);
    curl_easy_setopt(w.h, CURLOPT_NOPROGRESS, 0L);
    /* no total timeout; a daemon that stops sending (not even heartbeats) is gone */
    curl_easy_setopt(w.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(w.h, CURLOPT_LOW_SPEED_TIME, WATCH_STALL_S);
    if (w.tty && !c.json) {
        fputs("\033[?25l", stdout); /* hide the cursor while redrawing */
        w.cursor_hidden = true;
    }
    CURLcode code = curl_easy_perform(w.h);
    if (w.cursor_hidden) {
        fputs("\033[?25h\n", stdout);
        fflush(stdout);
    }
    if (stop_signal) {
        rc = EXIT_OK;
    } else if (w.rc >= 0) {
        rc = w.rc;
    } else if (w.status != 0 && w.status != 200) {
        client_resp_t r = {.status = w.status, .body = w.errbody, .len = w.elen};
        if (w.errbody)
            r.json = json_loadb(w.errbody, w.elen, 0, NULL);
        rc = client_http_error(&c, "GET", "/api/events", &r, NULL);
        if (r.json)
            json_decref(r.json);
    } else if (w.status == 200 && code == CURLE_OPERATION_TIMEDOUT) {
        fprintf(stderr, "haul: the daemon at %s sent nothing for %ld s, not even a "
                        "heartbeat; giving up\n", c.server, WATCH_STALL_S);
        rc = EXIT_UNREACHABLE;
    } else if (w.status == 200) {
        fprintf(stderr, "haul: the daemon at %s went away (the event stream ended); "
                        "is it still running?\n", c.server);
        rc = EXIT_UNREACHABLE;
    } else {
        rc = client_transport_error(&c, code);
    }
out:
    curl_slist_free_all(hl);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    json_decref(w.jobs);
    json_decref(w.seen);
    free(w.line);
    free(w.data);
    free(w.errbody);
    client_free(&c);
    return rc;
}
