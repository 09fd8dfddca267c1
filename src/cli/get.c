/* get.c: `haul get URL`, a one-shot download in the terminal, no daemon.
 *
 * The temp folder's id derives from the URL and the destination, so
 * running the same command again after Ctrl-C (or a crash) finds the part
 * data and resumes it. */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/id.h"
#include "core/progress.h"
#include "engine/download.h"
#include "util/fname.h"
#include "util/fs.h"
#include "util/units.h"
#include "util/url.h"

#define MAX_HEADERS 64

enum {
    OPT_MAX_SPEED = 256, OPT_SHA256, OPT_PROXY, OPT_CONNECT_TIMEOUT,
    OPT_STALL_TIMEOUT, OPT_RETRIES, OPT_SYNC, OPT_CACERT, OPT_MODE, OPT_FORMAT, OPT_RECORD,
};

static const cli_option_t GET_OPTIONS[] = {
    {'o', "output", "FILE", "save as FILE (replaces it when it exists)"},
    {'d', "dir", "DIR", "save into DIR under the server's name (default: .)"},
    {OPT_MODE, "mode", "MODE", "auto (default: sniffs HLS), direct or hls"},
    {OPT_FORMAT, "format", "FMT", "streams: best, worst, 720p, 800k; :mp4 remuxes (best:mp4)"},
    {'N', "connections", "N", "streams: fragments in flight (4)"},
    {OPT_RECORD, "record", NULL, "record a live stream until Ctrl-C (then finish the file)"},
    {OPT_MAX_SPEED, "max-speed", "RATE", "limit the speed, bytes/s: 500K, 2M"},
    {OPT_SHA256, "sha256", "HEX", "verify the file's SHA-256; keep it only if it matches"},
    {'H', "header", "'K: V'", "send an extra request header (repeatable)"},
    {'A', "user-agent", "UA", "the User-Agent to send"},
    {OPT_PROXY, "proxy", "URL", "use this proxy (default: libcurl's *_proxy variables)"},
    {OPT_CACERT, "cacert", "FILE", "trust the CA certificates in FILE (PEM) for https"},
    {OPT_CONNECT_TIMEOUT, "connect-timeout", "S", "give up connecting after S seconds (20)"},
    {OPT_STALL_TIMEOUT, "stall-timeout", "S", "retry when no byte came for S seconds (30)"},
    {OPT_RETRIES, "attempts", "N", "tries for transient failures (5)"},
    {OPT_SYNC, "sync", NULL, "fsync the file before reporting it done"},
    {'q', "quiet", NULL, "print nothing but errors"},
    {'h', "help", NULL, "show this help"},
};
#define NOPTS (sizeof GET_OPTIONS / sizeof GET_OPTIONS[0])

typedef struct get_ctx {
    struct event_base *base;
    download_t *dl;
    int quiet, tty;
    int exit_code;
    double last_line;       /* when the last progress line was printed */
    double started;
    int64_t start_bytes;    /* already on disk when this run began */
    int bar_shown;
    int stopping_recording;
    char work_dir[PATH_MAX];
} get_ctx_t;

static void usage(void)
{
    printf("usage: haul get URL [options]\n\n"
           "Download one URL into the current folder (or -d DIR, or -o FILE).\n"
           "Ctrl-C keeps the part data; the same command again resumes it.\n\n"
           "options:\n");
    cli_print_options(GET_OPTIONS, NOPTS);
    printf("\nexit status: 0 done, 1 failed, 2 usage, 3 refused by the server,\n"
           "4 size or checksum mismatch, 5 local error (disk), 130 interrupted\n");
}

/* Clears the progress bar line before other output. */
static void clear_bar(get_ctx_t *g)
{
    if (g->bar_shown) {
        fputs("\r\033[K", stderr);
        g->bar_shown = 0;
    }
}

static void print_progress(get_ctx_t *g)
{
    if (g->quiet || !g->dl)
        return;
    direct_status_t st;
    download_status(g->dl, &st);
    double now = mono_now();
    if (st.state != DIRECT_RUNNING || (!g->tty && now - g->last_line < 5.0))
        return;
    g->last_line = now;
    char done[32], total[32], speed[32], eta[32], pct[16];
    fmt_bytes(st.bytes_done, done, sizeof done);
    if (st.bytes_total >= 0) {
        fmt_bytes(st.bytes_total, total, sizeof total);
        snprintf(pct, sizeof pct, "%3d%%",
                 st.bytes_total ? (int)(st.bytes_done * 100 / st.bytes_total) : 100);
    } else {
        snprintf(total, sizeof total, "?");
        snprintf(pct, sizeof pct, "  ?%%");
    }
    fmt_bytes((int64_t)st.speed_bps, speed, sizeof speed);
    fmt_duration(st.eta_s, eta, sizeof eta);
    if (g->tty) {
        char text[160];
        char frags[48] = "";
        if (st.frags_total > 0)
            snprintf(frags, sizeof frags, "  %zu/%zu fragments", st.frags_done, st.frags_total);
        int tlen = snprintf(text, sizeof text, "%s / %s  %s/s  ETA %s%s", done, total,
                            speed, eta, frags);
        /* the bar takes what the terminal has left, so the line never wraps
         * (a wrapped line cannot be redrawn in place) */
        int cols = cli_term_size(STDERR_FILENO, NULL); /* a tty here */
        int width = cols - tlen - (int)strlen(pct) - 5;
        if (width > 40)
            width = 40;
        char bar[48] = "";
        if (width >= 8) {
            int fill = st.bytes_total > 0 ? (int)(st.bytes_done * width / st.bytes_total) : 0;
            bar[0] = '[';
            for (int i = 0; i < width; i++)
                bar[i + 1] = i < fill ? '#' : '-';
            bar[width + 1] = ']';
            bar[width + 2] = ' ';
            bar[width + 3] = '\0';
        }
        if (tlen + (int)strlen(pct) + 1 >= cols) /* very narrow: percent only */
            text[0] = '\0';
        fprintf(stderr, "\r\033[K%s %s%s", pct, bar, text);
        g->bar_shown = 1;
    } else {
        fprintf(stderr, "%s %s / %s  %s/s  ETA %s", pct, done, total, speed, eta);
        if (st.frags_total > 0)
            fprintf(stderr, "  %zu/%zu fragments", st.frags_done, st.frags_total);
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    print_progress(arg);
}

/* Exit status per error code; unlisted codes are EXIT_FAILED. */
static const struct { const char *code; int exit; } EXIT_FOR_CODE[] = {
    {"checksum_mismatch", EXIT_VERIFY}, {"size_mismatch", EXIT_VERIFY},
    {"disk_full", EXIT_LOCAL},          {"io_error", EXIT_LOCAL},
    {"file_too_large", EXIT_LOCAL},     {"busy", EXIT_LOCAL},
};

static int exit_code_for(const haul_error_t *err)
{
    if (strncmp(err->code, "http_", 5) == 0)
        return EXIT_HTTP;
    for (size_t i = 0; i < sizeof EXIT_FOR_CODE / sizeof EXIT_FOR_CODE[0]; i++)
        if (!strcmp(err->code, EXIT_FOR_CODE[i].code))
            return EXIT_FOR_CODE[i].exit;
    return EXIT_FAILED;
}

static void on_state(void *ud, direct_state_t st, const haul_error_t *err)
{
    get_ctx_t *g = ud;
    switch (st) {
    case DIRECT_WAITING: {
        clear_bar(g);
        direct_status_t s;
        download_status(g->dl, &s);
        fprintf(stderr, "haul: %s; trying again in %.0f s\n", err->message, s.retry_in_s);
        break;
    }
    case DIRECT_DONE:
        clear_bar(g);
        if (!g->quiet) {
            direct_status_t s;
            download_status(g->dl, &s);
            double secs = mono_now() - g->started;
            int64_t now_bytes = s.bytes_done - g->start_bytes; /* this run's */
            char size[32], rate[32], fetched[32];
            fmt_bytes(s.bytes_done, size, sizeof size);
            fmt_bytes(secs > 0 ? (int64_t)((double)now_bytes / secs) : 0, rate,
                      sizeof rate);
            if (g->start_bytes > 0)
                fprintf(stderr, "haul: saved %s (%s of it now) in %.1f s (%s/s)\n", size,
                        fmt_bytes(now_bytes, fetched, sizeof fetched), secs, rate);
            else
                fprintf(stderr, "haul: saved %s in %.1f s (%s/s)\n", size, secs, rate);
            printf("%s\n", download_result_path(g->dl));
        }
        g->exit_code = EXIT_OK;
        event_base_loopexit(g->base, NULL);
        break;
    case DIRECT_FAILED: {
        clear_bar(g);
        fprintf(stderr, "haul: %s\n", err->message);
        direct_status_t s;
        download_status(g->dl, &s);
        if (s.bytes_done > 0) {
            char kept[32];
            fprintf(stderr, "haul: %s kept in %s; run the same command again to resume\n",
                    fmt_bytes(s.bytes_done, kept, sizeof kept), g->work_dir);
        }
        g->exit_code = exit_code_for(err);
        event_base_loopexit(g->base, NULL);
        break;
    }
    default:
        break;
    }
}

static void on_notice(void *ud, const char *msg)
{
    get_ctx_t *g = ud;
    if (g->quiet)
        return;
    clear_bar(g);
    fprintf(stderr, "haul: %s\n", msg);
}

/* Ctrl-C or SIGTERM: stop now, keep the part data, say how to resume. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    get_ctx_t *g = arg;
    direct_status_t st;
    download_status(g->dl, &st);
    if (st.state == DIRECT_FINALIZING) /* nearly there: let it finish */
        return;
    if (!g->stopping_recording && download_stop_recording(g->dl)) {
        g->stopping_recording = 1; /* the first Ctrl-C ends a recording cleanly */
        clear_bar(g);
        fprintf(stderr, "\nhaul: finishing the recording (Ctrl-C again to stop at once and keep "
                        "the data)\n");
        return;
    }
    download_pause(g->dl);
    download_status(g->dl, &st);
    clear_bar(g);
    char done[32];
    fprintf(stderr,
            "\nhaul: interrupted; %s kept in %s\n"
            "haul: run the same command again to resume\n",
            fmt_bytes(st.bytes_done, done, sizeof done), g->work_dir);
    g->exit_code = EXIT_INTERRUPTED;
    event_base_loopexit(g->base, NULL);
}

/* The long name of option key, from the option table. */
static const char *option_name(int key)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (GET_OPTIONS[i].key == key)
            return GET_OPTIONS[i].name;
    return "?";
}

/* Splits -o FILE into its folder and name. */
static int split_output(const char *output, char **dir, char **name)
{
    char *abs = fs_absolute(output);
    if (!abs)
        return -1;
    char *slash = strrchr(abs, '/');
    *name = strdup(slash + 1);
    if (slash == abs)
        slash[1] = '\0';
    else
        *slash = '\0';
    *dir = abs;
    return *name && (*name)[0] ? 0 : -1;
}

int cmd_get(int argc, char **argv)
{
    struct option longopts[NOPTS + 1];
    char shortopts[3 * NOPTS + 1];
    cli_getopt_tables(GET_OPTIONS, NOPTS, longopts, shortopts);

    download_opts_t dopts = {0};
    direct_opts_t o = {0};
    const char *output = NULL, *dir_arg = ".";
    const char *headers[MAX_HEADERS];
    size_t nheaders = 0;
    int quiet = 0;
    long l;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'd': dir_arg = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(); return EXIT_OK;
        case 'A':
            if (strpbrk(optarg, "\r\n")) {
                fprintf(stderr, "haul get: -A must be one line, without CR or LF\n");
                return EXIT_USAGE;
            }
            o.user_agent = optarg;
            break;
        case OPT_PROXY: o.proxy = optarg; break;
        case OPT_CACERT:
            if (access(optarg, R_OK) != 0) {
                fprintf(stderr, "haul get: --cacert %s: %s\n", optarg, strerror(errno));
                return EXIT_USAGE;
            }
            o.ca_file = optarg;
            break;
        case OPT_SHA256: o.sha256 = optarg; break;
        case OPT_SYNC: o.sync = 1; break;
        case OPT_MODE: dopts.mode = optarg; break;
        case OPT_RECORD: dopts.record = 1; break;
        case OPT_FORMAT: dopts.format = optarg; break;
        case 'N':
            if (parse_long(optarg, &l) != 0 || l < 1 || l > 32) {
                fprintf(stderr, "haul get: --connections takes a number from 1 to 32, not \"%s\"\n",
                        optarg);
                return EXIT_USAGE;
            }
            dopts.connections = (unsigned)l;
            break;
        case 'H':
            if (nheaders == MAX_HEADERS || !strchr(optarg, ':') || optarg[0] == ':' ||
                strpbrk(optarg, "\r\n")) {
                fprintf(stderr, "haul get: -H takes one line 'Name: value' (at most %d): "
                                "\"%s\"\n", MAX_HEADERS, optarg);
                return EXIT_USAGE;
            }
            headers[nheaders++] = optarg;
            break;
        case OPT_MAX_SPEED:
            if (parse_size(optarg, &o.max_speed) != 0) {
                fprintf(stderr, "haul get: --max-speed takes bytes/s like 500K or 2M, not \"%s\"\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_CONNECT_TIMEOUT: case OPT_STALL_TIMEOUT: case OPT_RETRIES:
            if (parse_long(optarg, &l) != 0 || l < 1 || l > 100000) {
                fprintf(stderr, "haul get: --%s takes a whole number from 1, not \"%s\"\n",
                        option_name(c), optarg);
                return EXIT_USAGE;
            }
            if (c == OPT_CONNECT_TIMEOUT)
                o.connect_timeout_s = l;
            else if (c == OPT_STALL_TIMEOUT)
                o.stall_timeout_s = l;
            else
                o.max_attempts = (unsigned)l;
            break;
        default:
            fprintf(stderr, "haul get: see 'haul get --help'\n");
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "haul get: which URL? usage: haul get URL [options]\n"
                                       : "haul get: one URL at a time (got %d)\n",
                argc - optind);
        return EXIT_USAGE;
    }
    const char *url = argv[optind];
    haul_error_t err;
    herr_clear(&err);
    if (url_check(url, &err) != 0) {
        fprintf(stderr, "haul get: %s\n", err.message);
        return EXIT_USAGE;
    }
    if (download_check(dopts.mode, dopts.format, &err) != 0) {
        fprintf(stderr, "haul get: --%s: %s\n", strcmp(err.code, "bad_mode") == 0 ? "mode" : "format",
                err.message);
        return EXIT_USAGE;
    }

    char *dir = NULL, *name = NULL;
    struct stat st;
    size_t olen = output ? strlen(output) : 0;
    if (output && ((olen > 0 && output[olen - 1] == '/') ||
                   (stat(output, &st) == 0 && S_ISDIR(st.st_mode)))) {
        dir_arg = output; /* -o DIR/ or an existing folder: save into it */
        output = NULL;
    }
    if (output) {
        if (split_output(output, &dir, &name) != 0) {
            fprintf(stderr, "haul get: -o needs a file name, not \"%s\"\n", output);
            free(dir);
            free(name);
            return EXIT_USAGE;
        }
        o.filename = name;
        o.overwrite = 1;
    } else if (!(dir = fs_absolute(dir_arg))) {
        fprintf(stderr, "haul get: cannot use the folder %s: %s\n", dir_arg, strerror(errno));
        return EXIT_LOCAL;
    }

    /* the same URL to the same place always maps to the same temp folder */
    get_ctx_t g = {.quiet = quiet, .tty = isatty(STDERR_FILENO), .exit_code = EXIT_FAILED};
    char key[PATH_MAX + 8300], id[ID_LEN + 1];
    snprintf(key, sizeof key, "%s\n%s/%s", url, dir, name ? name : "");
    id_from_text(key, id);
    snprintf(g.work_dir, sizeof g.work_dir, "%s/" DIRECT_TMP "/%s", dir, id);

    o.url = url;
    o.dir = dir;
    o.work_dir = g.work_dir;
    o.headers = headers;
    o.nheaders = nheaders;

    int rc = EXIT_FAILED;
    struct event *sigint = NULL, *sigterm = NULL, *tick = NULL;
    engine_t *eng = NULL;
    g.base = event_base_new();
    if (!g.base || !(eng = engine_new(g.base))) {
        fprintf(stderr, "haul get: cannot start the event loop or libcurl\n");
        goto out;
    }
    download_cbs_t cbs = {on_state, on_notice, NULL};
    dopts.d = o;
    g.dl = download_new(eng, g.base, &dopts, &cbs, &g, &err);
    if (!g.dl) {
        fprintf(stderr, "haul get: %s\n", err.message);
        rc = EXIT_USAGE;
        goto out;
    }
    sigint = evsignal_new(g.base, SIGINT, on_signal, &g);
    sigterm = evsignal_new(g.base, SIGTERM, on_signal, &g);
    tick = event_new(g.base, -1, EV_PERSIST, on_tick, &g);
    struct timeval every = {0, 250000};
    if (!sigint || !sigterm || !tick || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL) ||
        event_add(tick, &every)) {
        fprintf(stderr, "haul get: cannot set up signals and timers\n");
        goto out;
    }
    g.started = mono_now();
    g.last_line = g.started;
    if (download_start(g.dl, &err) != 0) {
        fprintf(stderr, "haul get: %s\n", err.message);
        rc = exit_code_for(&err);
        goto out;
    }
    direct_status_t first;
    download_status(g.dl, &first);
    g.start_bytes = first.bytes_done;
    if (event_base_dispatch(g.base) < 0) {
        fprintf(stderr, "haul get: the event loop failed\n");
        goto out;
    }
    rc = g.exit_code;
out:
    if (tick)
        event_free(tick);
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    download_free(g.dl);
    engine_free(eng);
    if (g.base)
        event_base_free(g.base);
    free(dir);
    free(name);
    return rc;
}
