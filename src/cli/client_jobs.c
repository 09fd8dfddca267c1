/* client_jobs.c: the client commands that are one or a few REST calls:
 * add, ls, show, pause, resume, cancel, retry, rm, clean, stats, logs. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/id.h"
#include "core/job.h"
#include "util/units.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define STATE_BIT(s) (1u << (s))
#define ALL_STATES ((1u << JOB_STATE_COUNT) - 1)
#define FINAL_STATES (STATE_BIT(JOB_DONE) | STATE_BIT(JOB_FAILED) | STATE_BIT(JOB_CANCELED))

/* The operand checks return -1 to go on, like client_start, else the exit
 * status after a usage message. */

/* One or more job ids from optind; usage: what follows "haul CMD ID...". */
static int ids_operands(const client_t *c, int argc, char **argv, const char *usage)
{
    if (optind >= argc)
        return client_usage_error(c, "which jobs? usage: haul %s ID...%s", c->cmd, usage);
    for (int i = optind; i < argc; i++)
        if (!id_valid(argv[i])) {
            char safe[64];
            client_printable(argv[i], safe, sizeof safe);
            return client_usage_error(c, "\"%s\" is not a job id (10 letters and digits, "
                                         "as 'haul ls' shows them)", safe);
        }
    return -1;
}

/* Exactly one job id, at argv[optind]. */
static int one_id_operand(const client_t *c, int argc, char **argv)
{
    if (optind >= argc)
        return client_usage_error(c, "which job? usage: haul %s ID", c->cmd);
    if (optind + 1 < argc)
        return client_usage_error(c, "one job at a time");
    return ids_operands(c, argc, argv, "");
}

/* Prints an answer for people; context is the request's (the operand). */
typedef void (*print_fn)(const json_t *answer, const char *context, const void *ud);

/* client_call, then the answer printed: as JSON with --json, else by print.
 * Returns the exit status. */
static int call_and_print(client_t *c, const char *method, const char *path,
                          const json_t *body, const char *context, print_fn print,
                          const void *ud)
{
    json_t *answer;
    int rc = client_call(c, method, path, body, context, &answer);
    if (rc != EXIT_OK)
        return rc;
    if (c->json)
        client_print_json(answer);
    else
        print(answer, context, ud);
    fflush(stdout);
    json_decref(answer);
    return EXIT_OK;
}

/* One of several requests gave r: keeps the first failure in *rc. Returns
 * true when the rest would fail the same way (no daemon, bad --server). */
static bool stop_after(int *rc, int r)
{
    if (r != EXIT_OK && *rc == EXIT_OK)
        *rc = r;
    return r == EXIT_UNREACHABLE || r == EXIT_USAGE;
}

/* METHOD /api/jobs/ID<suffix> for each id from optind, each answer printed;
 * a refused one does not stop the others. Returns the first failure's exit
 * status, or EXIT_OK. */
static int each_job(client_t *c, int argc, char **argv, const char *method,
                    const char *suffix, print_fn print, const void *ud)
{
    int rc = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/jobs/%s%s", argv[i], suffix);
        if (stop_after(&rc, call_and_print(c, method, path, NULL, argv[i], print, ud)))
            break;
    }
    return rc;
}

/* A comma-separated list of state names as a mask of STATE_BITs, each one
 * in allowed. Returns 0 with the first bad name in bad. */
static unsigned parse_states(const char *list, unsigned allowed, char *bad, size_t badsz)
{
    unsigned mask = 0;
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        char name[16];
        int st = -1;
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            st = job_state_parse(name);
        }
        if (st < 0 || !(allowed & STATE_BIT(st))) {
            snprintf(bad, badsz, "%.*s", (int)len, p);
            return 0;
        }
        mask |= STATE_BIT(st);
        p += len;
        if (!*p)
            return mask;
    }
}

/* The names of the states in mask, in state order, as a JSON array. */
static json_t *states_json(unsigned mask)
{
    json_t *a = json_array();
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        if (mask & STATE_BIT(s))
            json_array_append_new(a, json_string(job_state_name((job_state_t)s)));
    return a;
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* --- add ---------------------------------------------------------------- */

enum { OPT_MAX_SPEED = 256, OPT_PRIORITY, OPT_SHA256, OPT_MODE, OPT_FORMAT,
       OPT_STATE, OPT_LIMIT, OPT_ALL, OPT_DELETE_FILE, OPT_STATES, OPT_OLDER_THAN,
       OPT_DELETE_FILES, OPT_RECORD, OPT_PLAYLIST };

static const cli_option_t ADD_OPTIONS[] = {
    {'d', "dir", "DIR", "save into DIR, a subfolder of the daemon's download folder"},
    {'o', "filename", "NAME", "save under NAME instead of the server's name"},
    {OPT_MAX_SPEED, "max-speed", "RATE", "limit the speed, bytes/s: 500K, 2M"},
    {OPT_PRIORITY, "priority", "N", "-100..100, higher starts first (0)"},
    {OPT_SHA256, "sha256", "HEX", "the expected SHA-256; the job fails if the file differs"},
    {'H', "header", "'K: V'", "send an extra request header (repeatable)"},
    {OPT_MODE, "mode", "MODE", "auto (default), direct, hls or ytdlp"},
    {OPT_FORMAT, "format", "FMT", "streams: best, worst, 720p, 800k; :mp4 remuxes (best)"},
    {'N', "connections", "N", "streams: fragments in flight, 1..16 (4)"},
    {OPT_RECORD, "record", NULL, "record a live HLS stream until paused"},
    {OPT_PLAYLIST, "playlist", NULL, "the URL is a playlist (yt-dlp): one job per video"},
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t ADD_CMD = {
    "add", "URL... [options]",
    "Add one download job per URL to the daemon. Prints each new job's id and URL;\n"
    "with --json the jobs. A URL the daemon refuses is reported and the others are\n"
    "still added.",
    ADD_OPTIONS, NELEM(ADD_OPTIONS)};

typedef struct add_ctx {
    client_t *c;
    json_t *opts;
    json_t *headers;
} add_ctx_t;

static int add_opt(void *ud, int key, const char *arg)
{
    add_ctx_t *a = ud;
    client_t *c = a->c;
    switch (key) {
    case 'd': json_object_set_new(a->opts, "dir", json_string(arg)); break;
    case 'o': json_object_set_new(a->opts, "filename", json_string(arg)); break;
    case OPT_MODE: json_object_set_new(a->opts, "mode", json_string(arg)); break;
    case OPT_FORMAT: json_object_set_new(a->opts, "format", json_string(arg)); break;
    case OPT_MAX_SPEED: {
        int64_t v;
        if (parse_size(arg, &v) != 0)
            return client_usage_error(c, "--max-speed takes bytes/s like 500K or 2M, not "
                                         "\"%s\"", arg);
        json_object_set_new(a->opts, "max_speed", json_integer(v));
        break;
    }
    case OPT_RECORD: json_object_set_new(a->opts, "record", json_true()); break;
    case OPT_PLAYLIST: json_object_set_new(a->opts, "playlist", json_true()); break;
    case 'N': {
        long v;
        if (parse_long(arg, &v) != 0 || v < 1 || v > 16)
            return client_usage_error(c, "--connections takes a number from 1 to 16, not \"%s\"",
                                      arg);
        json_object_set_new(a->opts, "connections", json_integer(v));
        break;
    }
    case OPT_PRIORITY: {
        bool minus = arg[0] == '-';
        long v;
        if (parse_long(arg + minus, &v) != 0 || v > 100)
            return client_usage_error(c, "--priority takes a whole number from -100 to 100, "
                                         "not \"%s\"", arg);
        json_object_set_new(a->opts, "priority", json_integer(minus ? -v : v));
        break;
    }
    case OPT_SHA256: {
        char hex[65];
        size_t n = strlen(arg);
        bool ok = n == 64;
        for (size_t i = 0; ok && i < n; i++) {
            ok = isxdigit((unsigned char)arg[i]) != 0;
            hex[i] = (char)tolower((unsigned char)arg[i]);
        }
        if (!ok)
            return client_usage_error(c, "--sha256 takes 64 hex digits, not \"%s\"", arg);
        hex[64] = '\0';
        json_object_set_new(a->opts, "sha256", json_string(hex));
        break;
    }
    case 'H': {
        const char *colon = strchr(arg, ':');
        if (strpbrk(arg, "\r\n") || !colon || colon == arg)
            return client_usage_error(c, "-H takes one line 'Name: value', without CR or "
                                         "LF");
        char name[256];
        size_t nlen = (size_t)(colon - arg);
        while (nlen > 0 && isspace((unsigned char)arg[nlen - 1]))
            nlen--;
        if (nlen == 0 || nlen >= sizeof name)
            return client_usage_error(c, "-H takes one line 'Name: value'");
        memcpy(name, arg, nlen);
        name[nlen] = '\0';
        for (size_t i = 0; i < nlen; i++)
            if (isspace((unsigned char)name[i]))
                return client_usage_error(c, "-H: a header name has no spaces: \"%s\"", name);
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        json_object_set_new(a->headers, name, json_string(value));
        break;
    }
    default: break;
    }
    return 0;
}

/* "ID  URL" of a new job; url: the printable URL. A playlist's answer
 * ({"jobs": [...]}) prints a line per job, with the entry's URL. */
static void print_added(const json_t *answer, const char *url, const void *ud)
{
    (void)ud;
    char id[32], eurl[600];
    json_t *jobs = json_object_get(answer, "jobs");
    if (!json_is_array(jobs)) {
        client_printable(jstr(answer, "id"), id, sizeof id);
        printf("%s  %s\n", id, url);
        return;
    }
    size_t i;
    json_t *job;
    json_array_foreach(jobs, i, job) {
        client_printable(jstr(job, "id"), id, sizeof id);
        client_printable(jstr(job, "url"), eurl, sizeof eurl);
        printf("%s  %s\n", id, eurl);
    }
}

int cmd_add(int argc, char **argv)
{
    client_t c;
    add_ctx_t a = {&c, json_object(), json_object()};
    int rc = client_start(&c, &ADD_CMD, argc, argv, add_opt, &a);
    if (rc >= 0)
        goto out;
    if (optind >= argc) {
        rc = client_usage_error(&c, "which URL? usage: haul add URL... [options]");
        goto out;
    }
    if (json_object_size(a.headers) > 0)
        json_object_set(a.opts, "headers", a.headers);
    rc = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        json_object_set_new(a.opts, "url", json_string(argv[i]));
        char url[600];
        client_printable(argv[i], url, sizeof url);
        if (stop_after(&rc, call_and_print(&c, "POST", "/api/jobs", a.opts, url, print_added,
                                           NULL)))
            break;
    }
out:
    json_decref(a.opts);
    json_decref(a.headers);
    client_free(&c);
    return rc;
}

/* --- ls ----------------------------------------------------------------- */

static const cli_option_t LS_OPTIONS[] = {
    {OPT_STATE, "state", "S[,S]", "only jobs in these states (queued, running, paused, "
                                  "done, failed, canceled)"},
    {OPT_LIMIT, "limit", "N", "at most N jobs, 1..1000 (50)"},
    {OPT_ALL, "all", NULL, "every job, page after page"},
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t LS_CMD = {
    "ls", "[--state S[,S]] [--limit N] [--all]",
    "List jobs, newest first: id, state, progress, size, speed, time left and name\n"
    "(the file name, else the title, else the URL). Without --all, one page of the\n"
    "newest 50.",
    LS_OPTIONS, NELEM(LS_OPTIONS)};

typedef struct ls_ctx {
    client_t *c;
    unsigned states; /* STATE_BITs, 0: every state */
    long limit;
    bool all;
} ls_ctx_t;

static int ls_opt(void *ud, int key, const char *arg)
{
    ls_ctx_t *l = ud;
    char bad[64];
    switch (key) {
    case OPT_STATE:
        if (!(l->states = parse_states(arg, ALL_STATES, bad, sizeof bad)))
            return client_usage_error(l->c, "--state takes queued, running, paused, done, "
                                            "failed or canceled, separated by commas; not "
                                            "\"%s\"", bad);
        break;
    case OPT_LIMIT:
        if (parse_long(arg, &l->limit) != 0 || l->limit < 1 || l->limit > 1000)
            return client_usage_error(l->c, "--limit takes a whole number from 1 to 1000, "
                                            "not \"%s\"", arg);
        break;
    case OPT_ALL: l->all = true; break;
    default: break;
    }
    return 0;
}

/* GET /api/jobs, page after page with --all, and prints the jobs. */
static int list_jobs(client_t *c, const ls_ctx_t *l)
{
    char query[128];
    int n = snprintf(query, sizeof query, "/api/jobs?limit=%ld",
                     l->limit ? l->limit : l->all ? 1000 : 50);
    for (int s = 0, first = 1; s < JOB_STATE_COUNT; s++)
        if (l->states & STATE_BIT(s)) {
            n += snprintf(query + n, sizeof query - (size_t)n, "%s%s", first ? "&state=" : ",",
                          job_state_name((job_state_t)s));
            first = 0;
        }
    json_t *jobs = json_array(), *answer = NULL;
    char cursor[128] = "";
    int rc;
    for (;;) {
        char path[sizeof query + sizeof cursor + 8];
        snprintf(path, sizeof path, "%s%s%s", query, cursor[0] ? "&cursor=" : "", cursor);
        rc = client_call(c, "GET", path, NULL, NULL, &answer);
        if (rc != EXIT_OK)
            break;
        json_t *page = json_object_get(answer, "jobs");
        json_array_extend(jobs, page);
        const char *next = jstr(answer, "next_cursor");
        if (!l->all || !*next || json_array_size(page) == 0)
            break;
        client_escape(next, cursor, sizeof cursor);
        json_decref(answer);
    }
    if (rc == EXIT_OK) {
        int64_t total = jint(answer, "total", -1);
        if (c->json && l->all) {
            json_t *all = json_pack("{s:O,s:n,s:I}", "jobs", jobs, "next_cursor", "total",
                                    (json_int_t)(total >= 0 ? total
                                                            : (int64_t)json_array_size(jobs)));
            client_print_json(all);
            json_decref(all);
        } else if (c->json) {
            client_print_json(answer);
        } else if (json_array_size(jobs) == 0) {
            printf("no jobs\n");
        } else {
            client_print_table(stdout, jobs, cli_term_size(STDOUT_FILENO, NULL));
            if (*jstr(answer, "next_cursor") && !l->all)
                fprintf(stderr, "haul: showing %zu of %" PRId64 " jobs; --all lists them "
                                "all\n", json_array_size(jobs), total);
        }
        json_decref(answer);
    }
    json_decref(jobs);
    return rc;
}

int cmd_ls(int argc, char **argv)
{
    client_t c;
    ls_ctx_t l = {.c = &c};
    int rc = client_start(&c, &LS_CMD, argc, argv, ls_opt, &l);
    if (rc < 0)
        rc = client_no_operands(&c, argc, argv, "; filter with --state");
    if (rc < 0)
        rc = list_jobs(&c, &l);
    client_free(&c);
    return rc;
}

/* --- show --------------------------------------------------------------- */

static const cli_option_t COMMON_OPTIONS_ONLY[] = {
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t SHOW_CMD = {
    "show", "ID",
    "Show one job: URL, state, file, progress, speed, attempts, error, times and\n"
    "the options that differ from the defaults.",
    COMMON_OPTIONS_ONLY, NELEM(COMMON_OPTIONS_ONLY)};

static void kv(const char *key, const char *value)
{
    char safe[4096];
    client_printable(value, safe, sizeof safe);
    printf("%-10s %s\n", key, safe);
}

static void print_job(const json_t *job, const char *context, const void *ud)
{
    (void)context;
    (void)ud;
    char buf[512], a[32], b[32];
    kv("id:", jstr(job, "id"));
    kv("url:", jstr(job, "url"));
    const char *state = jstr(job, "state");
    kv("state:", state);
    if (*jstr(job, "source"))
        kv("source:", jstr(job, "source"));
    if (*jstr(job, "title"))
        kv("title:", jstr(job, "title"));
    kv("file:", *jstr(job, "filename") ? jstr(job, "filename") : "(not known yet)");
    int64_t done = jint(job, "bytes_done", 0), total = jint(job, "bytes_total", -1);
    fmt_bytes(done, a, sizeof a);
    if (total > 0)
        snprintf(buf, sizeof buf, "%s of %s (%d%%)", a, fmt_bytes(total, b, sizeof b),
                 (int)(done * 100 / total));
    else if (total == 0)
        snprintf(buf, sizeof buf, "%s of 0 B (100%%)", a);
    else
        snprintf(buf, sizeof buf, "%s of ? (size unknown)", a);
    kv("bytes:", buf);
    if (!strcmp(state, "running")) {
        snprintf(buf, sizeof buf, "%s/s", fmt_bytes((int64_t)jnum(job, "speed_bps", 0), a,
                                                     sizeof a));
        kv("speed:", buf);
        int64_t eta = jint(job, "eta_s", -1);
        kv("eta:", eta >= 0 ? fmt_duration(eta, a, sizeof a) : "unknown");
    }
    snprintf(buf, sizeof buf, "%" PRId64, jint(job, "attempts", 0));
    kv("attempts:", buf);
    const json_t *err = json_object_get(job, "error");
    if (json_is_object(err)) {
        snprintf(buf, sizeof buf, "%s (%s)", jstr(err, "message"), jstr(err, "code"));
        kv("error:", buf);
    }
    static const char *const times[][2] = {{"created_at", "created:"},
                                           {"started_at", "started:"},
                                           {"finished_at", "finished:"},
                                           {"retry_at", "retry at:"}};
    for (size_t i = 0; i < NELEM(times); i++) {
        const char *t = jstr(job, times[i][0]);
        if (!*t && i > 0)
            continue;
        client_fmt_time(t, buf, sizeof buf);
        kv(times[i][1], buf);
    }
    /* options that are not the defaults */
    const json_t *o = json_object_get(job, "options");
    if (!json_is_object(o))
        return;
    if (*jstr(o, "dir"))
        kv("dir:", jstr(o, "dir"));
    if (*jstr(o, "filename"))
        kv("filename:", jstr(o, "filename"));
    if (*jstr(o, "mode") && strcmp(jstr(o, "mode"), "auto"))
        kv("mode:", jstr(o, "mode"));
    if (*jstr(o, "format") && strcmp(jstr(o, "format"), "best"))
        kv("format:", jstr(o, "format"));
    if (jint(o, "max_speed", 0) > 0) {
        snprintf(buf, sizeof buf, "%s/s", fmt_bytes(jint(o, "max_speed", 0), a, sizeof a));
        kv("max speed:", buf);
    }
    if (jint(o, "connections", 1) != 1) {
        snprintf(buf, sizeof buf, "%" PRId64, jint(o, "connections", 1));
        kv("connections:", buf);
    }
    if (jint(o, "priority", 0) != 0) {
        snprintf(buf, sizeof buf, "%" PRId64, jint(o, "priority", 0));
        kv("priority:", buf);
    }
    if (*jstr(o, "sha256"))
        kv("sha256:", jstr(o, "sha256"));
    const json_t *h = json_object_get(o, "headers");
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)h, name, value) {
        snprintf(buf, sizeof buf, "%s: %s", name, json_string_value(value) ?
                                                      json_string_value(value) : "");
        kv("header:", buf);
    }
}

/* show and logs: GET /api/jobs/ID<suffix> for the one job id given. */
static int get_one_job(int argc, char **argv, const client_cmd_t *cmd, const char *suffix,
                       print_fn print)
{
    client_t c;
    int rc = client_start(&c, cmd, argc, argv, NULL, NULL);
    if (rc < 0)
        rc = one_id_operand(&c, argc, argv);
    if (rc < 0) {
        char path[128];
        snprintf(path, sizeof path, "/api/jobs/%s%s", argv[optind], suffix);
        rc = call_and_print(&c, "GET", path, NULL, NULL, print, NULL);
    }
    client_free(&c);
    return rc;
}

int cmd_show(int argc, char **argv)
{
    return get_one_job(argc, argv, &SHOW_CMD, "", print_job);
}

/* --- pause, resume, cancel, retry --------------------------------------- */

typedef struct action {
    const char *name;      /* "pause" */
    const char *done;      /* "paused" */
    unsigned states;       /* STATE_BITs, for --all */
    const char *about;
} action_t;

static const action_t ACTIONS[] = {
    {"pause", "paused", STATE_BIT(JOB_QUEUED) | STATE_BIT(JOB_RUNNING),
     "Pause jobs: the transfer stops and the part data is kept. --all pauses every\n"
     "queued and running job."},
    {"resume", "resumed", STATE_BIT(JOB_PAUSED),
     "Resume paused jobs: they queue again and continue from the byte they reached.\n"
     "--all resumes every paused job."},
    {"cancel", "canceled", STATE_BIT(JOB_QUEUED) | STATE_BIT(JOB_RUNNING) | STATE_BIT(JOB_PAUSED),
     "Cancel jobs: the transfer stops and the part data is deleted. --all cancels\n"
     "every queued, running and paused job."},
    {"retry", "retried", STATE_BIT(JOB_FAILED),
     "Retry failed jobs (from their part data) or canceled ones (from zero).\n"
     "--all retries every failed job."},
};

static const cli_option_t ACTION_OPTIONS[] = {
    {OPT_ALL, "all", NULL, "every job the action applies to"},
    CLIENT_COMMON_OPTIONS,
};

static int flag_opt(void *ud, int key, const char *arg)
{
    (void)arg;
    (void)key;
    *(bool *)ud = true;
    return 0;
}

/* "N jobs paused (M skipped)" */
static void print_bulk(const json_t *answer, const char *context, const void *ud)
{
    (void)context;
    const action_t *act = ud;
    int64_t n = jint(answer, "affected", 0), skipped = jint(answer, "skipped", 0);
    printf("%" PRId64 " %s %s", n, plural(n, "job", "jobs"), act->done);
    if (skipped)
        printf(" (%" PRId64 " skipped)", skipped);
    printf("\n");
}

/* "ID: paused" */
static void print_acted(const json_t *job, const char *id, const void *ud)
{
    (void)job;
    printf("%s: %s\n", id, ((const action_t *)ud)->done);
}

static int run_action(int argc, char **argv, const action_t *act)
{
    client_cmd_t cmd = {act->name, "ID... | --all", act->about, ACTION_OPTIONS,
                        NELEM(ACTION_OPTIONS)};
    client_t c;
    bool all = false;
    int rc = client_start(&c, &cmd, argc, argv, flag_opt, &all);
    if (rc < 0 && !all)
        rc = ids_operands(&c, argc, argv, " (or --all)");
    if (rc < 0 && !all) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "/%s", act->name);
        rc = each_job(&c, argc, argv, "POST", suffix, print_acted, act);
    } else if (rc < 0 && optind < argc) {
        rc = client_usage_error(&c, "either job ids or --all, not both");
    } else if (rc < 0) {
        json_t *body = json_pack("{s:s,s:o}", "action", act->name, "states",
                                 states_json(act->states));
        rc = call_and_print(&c, "POST", "/api/jobs/bulk", body, NULL, print_bulk, act);
        json_decref(body);
    }
    client_free(&c);
    return rc;
}

int cmd_pause(int argc, char **argv) { return run_action(argc, argv, &ACTIONS[0]); }
int cmd_resume(int argc, char **argv) { return run_action(argc, argv, &ACTIONS[1]); }
int cmd_cancel(int argc, char **argv) { return run_action(argc, argv, &ACTIONS[2]); }
int cmd_retry(int argc, char **argv) { return run_action(argc, argv, &ACTIONS[3]); }

/* --- rm ----------------------------------------------------------------- */

static const cli_option_t RM_OPTIONS[] = {
    {OPT_DELETE_FILE, "delete-file", NULL, "also delete the finished file"},
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t RM_CMD = {
    "rm", "ID... [--delete-file]",
    "Remove jobs (an active one is canceled first) and their part data; the\n"
    "finished file stays unless --delete-file.",
    RM_OPTIONS, NELEM(RM_OPTIONS)};

/* "ID: removed[ with its file]" */
static void print_removed(const json_t *answer, const char *id, const void *ud)
{
    (void)ud;
    printf("%s: removed%s\n", id,
           json_is_true(json_object_get(answer, "file_deleted")) ? " with its file" : "");
}

int cmd_rm(int argc, char **argv)
{
    client_t c;
    bool delete_file = false;
    int rc = client_start(&c, &RM_CMD, argc, argv, flag_opt, &delete_file);
    if (rc < 0)
        rc = ids_operands(&c, argc, argv, "");
    if (rc < 0)
        rc = each_job(&c, argc, argv, "DELETE", delete_file ? "?delete_file=1" : "",
                      print_removed, NULL);
    client_free(&c);
    return rc;
}

/* --- clean -------------------------------------------------------------- */

static const cli_option_t CLEAN_OPTIONS[] = {
    {OPT_STATES, "states", "S[,S]", "which finished jobs: done, failed, canceled (all three)"},
    {OPT_OLDER_THAN, "older-than", "DURATION", "only jobs finished longer ago: 30s, 15m, "
                                               "2h, 7d"},
    {OPT_DELETE_FILES, "delete-files", NULL, "also delete the finished files"},
    CLIENT_COMMON_OPTIONS,
};

static const client_cmd_t CLEAN_CMD = {
    "clean", "[--states S[,S]] [--older-than DURATION] [--delete-files]",
    "Remove finished jobs (done, failed and canceled) from the list; their files\n"
    "stay unless --delete-files.",
    CLEAN_OPTIONS, NELEM(CLEAN_OPTIONS)};


typedef struct clean_ctx {
    client_t *c;
    json_t *body;
} clean_ctx_t;

static int clean_opt(void *ud, int key, const char *arg)
{
    clean_ctx_t *k = ud;
    char bad[64];
    switch (key) {
    case OPT_STATES: {
        unsigned states = parse_states(arg, FINAL_STATES, bad, sizeof bad);
        if (!states)
            return client_usage_error(k->c, "--states takes done, failed or canceled, "
                                            "separated by commas; not \"%s\"", bad);
        json_object_set_new(k->body, "states", states_json(states));
        break;
    }
    case OPT_OLDER_THAN: {
        int64_t s;
        if (parse_duration(arg, &s) != 0)
            return client_usage_error(k->c, "--older-than takes a duration like 30s, 15m, "
                                            "2h or 7d, not \"%s\"", arg);
        json_object_set_new(k->body, "older_than_s", json_integer(s));
        break;
    }
    case OPT_DELETE_FILES: json_object_set_new(k->body, "delete_files", json_true()); break;
    default: break;
    }
    return 0;
}

/* "removed N jobs" */
static void print_cleaned(const json_t *answer, const char *context, const void *ud)
{
    (void)context;
    (void)ud;
    int64_t n = jint(answer, "removed", 0);
    printf("removed %" PRId64 " %s\n", n, plural(n, "job", "jobs"));
}

int cmd_clean(int argc, char **argv)
{
    client_t c;
    clean_ctx_t k = {&c, json_object()};
    int rc = client_start(&c, &CLEAN_CMD, argc, argv, clean_opt, &k);
    if (rc < 0)
        rc = client_no_operands(&c, argc, argv, "; 'haul rm ID' removes one job");
    if (rc < 0)
        rc = call_and_print(&c, "POST", "/api/jobs/clean", k.body, NULL, print_cleaned, NULL);
    json_decref(k.body);
    client_free(&c);
    return rc;
}

/* --- stats -------------------------------------------------------------- */

static const client_cmd_t STATS_CMD = {
    "stats", "",
    "The daemon's counters: jobs per state, active downloads, total speed, free\n"
    "disk space, version and uptime.",
    COMMON_OPTIONS_ONLY, NELEM(COMMON_OPTIONS_ONLY)};

/* server: the daemon's URL */
static void print_stats(const json_t *s, const char *context, const void *server)
{
    (void)context;
    const json_t *jobs = json_object_get(s, "jobs");
    char line[512], a[32];
    int n = 0;
    for (int i = 0; i < JOB_STATE_COUNT; i++) {
        const char *name = job_state_name((job_state_t)i);
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%" PRId64 " %s", i ? ", " : "",
                      jint(jobs, name, 0), name);
    }
    snprintf(line + n, sizeof line - (size_t)n, " (%" PRId64 " in all)", jint(jobs, "total", 0));
    kv("jobs:", line);
    snprintf(line, sizeof line, "%" PRId64 " of at most %" PRId64 " downloading",
             jint(s, "active", 0), jint(s, "max_active", 0));
    kv("active:", line);
    snprintf(line, sizeof line, "%s/s", fmt_bytes((int64_t)jnum(s, "speed_bps", 0), a, sizeof a));
    kv("speed:", line);
    int64_t free_b = jint(s, "disk_free_bytes", -1);
    snprintf(line, sizeof line, "%s in %s", free_b >= 0 ? fmt_bytes(free_b, a, sizeof a) : "?",
             *jstr(s, "download_dir") ? jstr(s, "download_dir") : "?");
    kv("disk free:", line);
    const json_t *guard = json_object_get(s, "disk_guard");
    int64_t min_free = jint(guard, "min_free_bytes", 0);
    if (min_free > 0) {
        snprintf(line, sizeof line, "%s (keeps %s free)",
                 json_is_true(json_object_get(guard, "holding"))
                     ? "HOLDING the queue: free some disk space" : "ok",
                 fmt_bytes(min_free, a, sizeof a));
        kv("disk guard:", line);
    }
    kv("version:", jstr(s, "version"));
    int64_t up = jint(s, "uptime_s", -1);
    kv("uptime:", up >= 0 ? fmt_duration(up, a, sizeof a) : "?");
    kv("server:", server);
}

int cmd_stats(int argc, char **argv)
{
    client_t c;
    int rc = client_start(&c, &STATS_CMD, argc, argv, NULL, NULL);
    if (rc < 0)
        rc = client_no_operands(&c, argc, argv, "");
    if (rc < 0)
        rc = call_and_print(&c, "GET", "/api/stats", NULL, NULL, print_stats, c.server);
    client_free(&c);
    return rc;
}

/* --- logs --------------------------------------------------------------- */

static const client_cmd_t LOGS_CMD = {
    "logs", "ID",
    "A job's history, oldest first: when it was created, each state change and\n"
    "why (errors, retries, notices).",
    COMMON_OPTIONS_ONLY, NELEM(COMMON_OPTIONS_ONLY)};

/* One line per event: time, "from → to" (or the type), message. */
static void print_events(const json_t *answer, const char *context, const void *ud)
{
    (void)context;
    (void)ud;
    const json_t *events = json_object_get(answer, "events");
    if (json_array_size(events) == 0) {
        printf("no events\n");
        return;
    }
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev) {
        char at[64], what[128], msg[2048];
        client_fmt_time(jstr(ev, "at"), at, sizeof at);
        const char *from = jstr(ev, "from"), *to = jstr(ev, "to");
        const char *type = jstr(ev, "type");
        if (*to)
            snprintf(what, sizeof what, "%s \xe2\x86\x92 %s", *from ? from : *type ? type : "?",
                     to);
        else
            snprintf(what, sizeof what, "%s", *type ? type : "event");
        char safe_what[128];
        client_printable(what, safe_what, sizeof safe_what);
        client_printable(jstr(ev, "message"), msg, sizeof msg);
        printf("%s  %s%s%s\n", at, safe_what, msg[0] ? "  " : "", msg);
    }
}

int cmd_logs(int argc, char **argv)
{
    return get_one_job(argc, argv, &LOGS_CMD, "/events", print_events);
}
