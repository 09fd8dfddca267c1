/* serve: `haul serve`, the daemon. One libevent loop drives the HTTP
 * server, the transfers, the scheduler's timers and the signals.
 *
 * Start: options (flags, else HAUL_* variables, else defaults), folders,
 * the store (locked: one daemon per store), the scheduler (which recovers
 * the jobs a crash left running), the server. SIGTERM/SIGINT: stop
 * accepting, end the event streams, stop the transfers and queue their
 * jobs again with their bytes, let files being finished finish, exit 0. */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "engine/scheduler.h"
#include "server/server.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/units.h"

#define FINISH_WAIT_S 1.5 /* at shutdown, for files being verified and moved */

enum { OPT_LISTEN = 256, OPT_DIR, OPT_STATE_DIR, OPT_MAX_ACTIVE, OPT_TOKEN, OPT_LOG_LEVEL,
       OPT_PORT_FILE, OPT_KEEP_FINISHED, OPT_MIN_FREE };

static const cli_option_t OPTIONS[] = {
    {OPT_LISTEN, "listen", "HOST:PORT", "address to serve on (127.0.0.1:4285; HAUL_LISTEN)"},
    {OPT_DIR, "dir", "DIR", "download folder (./data/downloads; HAUL_DIR)"},
    {OPT_STATE_DIR, "state-dir", "DIR", "where the store lives (DIR/.haul; HAUL_STATE_DIR)"},
    {OPT_MAX_ACTIVE, "max-active", "N", "jobs that run at once (3; HAUL_MAX_ACTIVE)"},
    {OPT_TOKEN, "token", "T", "require 'Authorization: Bearer T' (HAUL_TOKEN)"},
    {OPT_MIN_FREE, "min-free", "SIZE",
     "keep this much disk free: below it, jobs wait (256M; 0: off; HAUL_MIN_FREE)"},
    {OPT_KEEP_FINISHED, "keep-finished", "DURATION",
     "forget finished jobs after this (7d, 12h; files stay; HAUL_KEEP_FINISHED)"},
    {OPT_LOG_LEVEL, "log-level", "L", "debug, info, warn or error (info; HAUL_LOG_LEVEL)"},
    {OPT_PORT_FILE, "port-file", "FILE", "write the port to FILE once listening (HAUL_PORT_FILE)"},
    {'h', "help", NULL, "this help"},
};
#define NOPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

typedef struct serve_ctx {
    struct event_base *base;
    server_t *srv;
    sched_t *sched;
    struct event *finish_ev;
    double deadline;
    int stopping;
} serve_ctx_t;

static void usage(void)
{
    printf("usage: haul serve [options]\n\n"
           "Runs the daemon: the REST API and live events on --listen, the web UI at /,\n"
           "downloads into --dir. Stops cleanly on SIGTERM or Ctrl-C.\n\noptions:\n");
    cli_print_options(OPTIONS, NOPTIONS);
}

/* flag > environment > default */
static const char *pick(const char *flag, const char *env, const char *def)
{
    if (flag)
        return flag;
    const char *v = getenv(env);
    return v && v[0] ? v : def;
}

static int split_listen(const char *listen, char *host, size_t hn, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -1;
    size_t n = (size_t)(colon - listen);
    if (listen[0] == '[' && colon[-1] == ']') { /* [::1]:4285 */
        listen++;
        n -= 2;
    }
    if (n >= hn)
        return -1;
    memcpy(host, listen, n);
    host[n] = '\0';
    long p;
    if (parse_long(colon + 1, &p) != 0 || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

static int loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

static void on_finish_wait(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    serve_ctx_t *c = arg;
    if (sched_finishing(c->sched) == 0 || mono_now() > c->deadline)
        event_base_loopbreak(c->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    serve_ctx_t *c = arg;
    if (c->stopping) {
        log_warn("second signal: stopping now");
        event_base_loopbreak(c->base);
        return;
    }
    c->stopping = 1;
    log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stop(c->srv);
    int busy = sched_shutdown(c->sched);
    if (busy == 0) {
        event_base_loopbreak(c->base);
        return;
    }
    log_info("waiting for %d file(s) being finished", busy);
    c->deadline = mono_now() + FINISH_WAIT_S;
    struct timeval tv = {0, 50000};
    c->finish_ev = event_new(c->base, -1, EV_PERSIST, on_finish_wait, c);
    if (!c->finish_ev || event_add(c->finish_ev, &tv) != 0)
        event_base_loopbreak(c->base);
}

static int write_port_file(const char *path, int port)
{
    char text[16];
    int n = snprintf(text, sizeof text, "%d\n", port);
    return fs_write_atomic(path, text, (size_t)n);
}

int cmd_serve(int argc, char **argv)
{
    struct option longopts[NOPTIONS + 1];
    char shortopts[3 * NOPTIONS + 1];
    cli_getopt_tables(OPTIONS, NOPTIONS, longopts, shortopts);
    const char *f_listen = NULL, *f_dir = NULL, *f_state = NULL, *f_max = NULL,
               *f_token = NULL, *f_level = NULL, *f_port_file = NULL, *f_keep = NULL,
               *f_min_free = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: f_listen = optarg; break;
        case OPT_DIR: f_dir = optarg; break;
        case OPT_STATE_DIR: f_state = optarg; break;
        case OPT_MAX_ACTIVE: f_max = optarg; break;
        case OPT_TOKEN: f_token = optarg; break;
        case OPT_LOG_LEVEL: f_level = optarg; break;
        case OPT_PORT_FILE: f_port_file = optarg; break;
        case OPT_KEEP_FINISHED: f_keep = optarg; break;
        case OPT_MIN_FREE: f_min_free = optarg; break;
        case 'h': usage(); return EXIT_OK;
        default:
            fprintf(stderr, "haul serve: 'haul serve --help' lists the options\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "haul serve: unexpected argument \"%s\"\n", argv[optind]);
        return EXIT_USAGE;
    }
    const char *listen = pick(f_listen, "HAUL_LISTEN", "127.0.0.1:4285");
    const char *dir_arg = pick(f_dir, "HAUL_DIR", "./data/downloads");
    const char *state_arg = pick(f_state, "HAUL_STATE_DIR", NULL);
    const char *max_arg = pick(f_max, "HAUL_MAX_ACTIVE", "3");
    const char *token = pick(f_token, "HAUL_TOKEN", NULL);
    const char *level_arg = pick(f_level, "HAUL_LOG_LEVEL", "info");
    const char *port_file = pick(f_port_file, "HAUL_PORT_FILE", NULL);
    const char *keep_arg = pick(f_keep, "HAUL_KEEP_FINISHED", NULL);
    const char *min_free_arg = pick(f_min_free, "HAUL_MIN_FREE", "256M");

    char host[256];
    int port;
    long max_active;
    int level = log_level_parse(level_arg);
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        fprintf(stderr, "haul serve: --listen wants HOST:PORT like 127.0.0.1:4285, not \"%s\"\n",
                listen);
        return EXIT_USAGE;
    }
    if (parse_long(max_arg, &max_active) != 0 || max_active < 0 || max_active > 1000) {
        fprintf(stderr, "haul serve: --max-active wants a number from 0 to 1000, not \"%s\"\n",
                max_arg);
        return EXIT_USAGE;
    }
    int64_t keep_s = 0;
    if (keep_arg && (parse_duration(keep_arg, &keep_s) != 0 || keep_s <= 0)) {
        fprintf(stderr, "haul serve: --keep-finished wants a duration like 7d, 12h or 90m, "
                        "not \"%s\"\n", keep_arg);
        return EXIT_USAGE;
    }
    int64_t min_free;
    if (parse_size(min_free_arg, &min_free) != 0) {
        fprintf(stderr, "haul serve: --min-free wants a size like 256M, 2G or 0, not \"%s\"\n",
                min_free_arg);
        return EXIT_USAGE;
    }
    if (level < 0) {
        fprintf(stderr, "haul serve: --log-level is debug, info, warn or error, not \"%s\"\n",
                level_arg);
        return EXIT_USAGE;
    }
    if (!loopback(host) && !(token && token[0])) {
        fprintf(stderr,
                "haul serve: refusing to listen on %s without a token: anyone who can reach "
                "it could download to this machine. Set one with --token (or HAUL_TOKEN), or "
                "listen on 127.0.0.1\n", host);
        return EXIT_USAGE;
    }
    log_set_level((log_level_t)level);
    log_route_libevent();

    int rc = EXIT_LOCAL;
    char *dir = NULL, *state_dir = NULL;
    store_t *store = NULL;
    engine_t *eng = NULL;
    struct event *sigint = NULL, *sigterm = NULL;
    serve_ctx_t ctx = {0};
    haul_error_t err;
    herr_clear(&err);

    if (fs_mkdirs(dir_arg) != 0 || !(dir = fs_absolute(dir_arg))) {
        fprintf(stderr, "haul serve: cannot use the download folder %s: %s\n", dir_arg,
                strerror(errno));
        goto out;
    }
    if (state_arg) {
        if (fs_mkdirs(state_arg) != 0 || !(state_dir = fs_absolute(state_arg))) {
            fprintf(stderr, "haul serve: cannot use the state folder %s: %s\n", state_arg,
                    strerror(errno));
            goto out;
        }
    } else {
        size_t n = strlen(dir) + sizeof "/.haul";
        if (!(state_dir = malloc(n)))
            goto out;
        snprintf(state_dir, n, "%s/.haul", dir);
        if (fs_mkdirs(state_dir) != 0) {
            fprintf(stderr, "haul serve: cannot create %s: %s\n", state_dir, strerror(errno));
            goto out;
        }
    }
    char db[PATH_MAX + 16];
    snprintf(db, sizeof db, "%s/haul.db", state_dir);
    if (!(store = store_open(db, &err))) {
        fprintf(stderr, "haul serve: %s\n", err.message);
        goto out;
    }
    ctx.base = event_base_new();
    if (!ctx.base || !(eng = engine_new(ctx.base))) {
        fprintf(stderr, "haul serve: cannot start the event loop or libcurl\n");
        goto out;
    }
    sched_opts_t so = {.dir = dir, .max_active = (int)max_active, .keep_finished_s = keep_s,
                       .min_free = min_free};
    if (!(ctx.sched = sched_new(ctx.base, eng, store, &so, &err))) {
        fprintf(stderr, "haul serve: %s\n", err.message);
        goto out;
    }
    server_opts_t vo = {.host = host, .port = port, .token = token};
    if (!(ctx.srv = server_new(ctx.base, ctx.sched, store, &vo, &err))) {
        fprintf(stderr, "haul serve: %s\n", err.message);
        rc = EXIT_FAILED;
        goto out;
    }
    sigint = evsignal_new(ctx.base, SIGINT, on_signal, &ctx);
    sigterm = evsignal_new(ctx.base, SIGTERM, on_signal, &ctx);
    if (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL)) {
        fprintf(stderr, "haul serve: cannot set up signal handling\n");
        goto out;
    }
    if (port_file && write_port_file(port_file, server_port(ctx.srv)) != 0) {
        fprintf(stderr, "haul serve: cannot write %s: %s\n", port_file, strerror(errno));
        goto out;
    }
    sched_stats_t st;
    sched_stats(ctx.sched, &st);
    log_info("haul %s serving http://%s:%d/ — downloads in %s, store %s, %zu jobs, "
             "%ld at once%s", HAUL_VERSION, host, server_port(ctx.srv), dir, db, st.total,
             max_active, token ? ", token required" : "");
    if (event_base_dispatch(ctx.base) < 0) {
        fprintf(stderr, "haul serve: the event loop failed\n");
        rc = EXIT_FAILED;
        goto out;
    }
    log_info("stopped");
    rc = EXIT_OK;
out:
    if (ctx.finish_ev)
        event_free(ctx.finish_ev);
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    server_free(ctx.srv);
    sched_free(ctx.sched);
    engine_free(eng);
    store_close(store);
    if (ctx.base)
        event_base_free(ctx.base);
    free(dir);
    free(state_dir);
    return rc;
}
