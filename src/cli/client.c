/* client.c: the shared REST client of the client commands (see client.h). */
#include "cli/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/units.h"

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        fputs("haul: out of memory\n", stderr);
        abort();
    }
    return d;
}

void client_free(client_t *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    free(c->server);
    free(c->token);
    c->server = c->token = NULL;
}

/* "host:port" gets http://; trailing slashes go. */
static void set_server(client_t *c, const char *arg)
{
    free(c->server);
    size_t n = strlen(arg);
    while (n > 0 && arg[n - 1] == '/')
        n--;
    bool scheme = strstr(arg, "://") != NULL;
    size_t sz = n + 8 + 1;
    c->server = malloc(sz);
    if (!c->server) {
        fputs("haul: out of memory\n", stderr);
        abort();
    }
    snprintf(c->server, sz, "%s%.*s", scheme ? "" : "http://", (int)n, arg);
}

/* The defaults, from HAUL_SERVER and HAUL_TOKEN. */
static void client_init(client_t *c, const char *cmd)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    const char *server = getenv("HAUL_SERVER");
    set_server(c, server && *server ? server : CLIENT_DEFAULT_SERVER);
    const char *token = getenv("HAUL_TOKEN");
    c->token = token && *token ? xstrdup(token) : NULL;
}

int client_usage_error(const client_t *c, const char *fmt, ...)
{
    fprintf(stderr, "haul %s: ", c->cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nhaul %s: see 'haul %s --help'\n", c->cmd, c->cmd);
    return EXIT_USAGE;
}

static void print_help(const client_cmd_t *cmd)
{
    printf("usage: haul %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis, cmd->about);
    cli_print_options(cmd->opts, cmd->nopts);
    printf("\nexit status: 0 ok, 2 usage, 3 refused by the daemon (the message says why),\n"
           "6 no daemon answers at --server\n");
}

int client_start(client_t *c, const client_cmd_t *cmd, int argc, char **argv,
                 client_opt_fn on_opt, void *ud)
{
    client_init(c, cmd->name);
    struct option *longopts = calloc(cmd->nopts + 1, sizeof *longopts);
    char *shortopts = calloc(3 * cmd->nopts + 1, 1);
    if (!longopts || !shortopts) {
        fputs("haul: out of memory\n", stderr);
        abort();
    }
    cli_getopt_tables(cmd->opts, cmd->nopts, longopts, shortopts);
    int rc = -1, key;
    optind = 1;
    while (rc < 0 && (key = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (key) {
        case CLIENT_OPT_SERVER:
            if (!*optarg)
                rc = client_usage_error(c, "--server needs a URL like %s",
                                        CLIENT_DEFAULT_SERVER);
            else
                set_server(c, optarg);
            break;
        case CLIENT_OPT_TOKEN:
            free(c->token);
            c->token = *optarg ? xstrdup(optarg) : NULL;
            if (c->token && strpbrk(c->token, "\r\n"))
                rc = client_usage_error(c, "--token must be one line");
            break;
        case CLIENT_OPT_JSON: c->json = true; break;
        case 'h':
            print_help(cmd);
            rc = EXIT_OK;
            break;
        case '?':
        case ':':
            fprintf(stderr, "haul %s: see 'haul %s --help'\n", c->cmd, c->cmd);
            rc = EXIT_USAGE;
            break;
        default:
            if (on_opt) {
                int r = on_opt(ud, key, optarg);
                if (r != 0)
                    rc = r;
            }
            break;
        }
    }
    free(longopts);
    free(shortopts);
    if (rc < 0 && strncasecmp(c->server, "http://", 7) && strncasecmp(c->server, "https://", 8))
        rc = client_usage_error(c, "--server (or HAUL_SERVER) takes an http:// URL like %s, "
                                   "not \"%s\"", CLIENT_DEFAULT_SERVER, c->server);
    return rc;
}

int client_no_operands(const client_t *c, int argc, char **argv, const char *hint)
{
    if (optind >= argc)
        return -1;
    return client_usage_error(c, "%s takes no operands (got \"%s\")%s", c->cmd, argv[optind],
                              hint);
}

/* --- requests ----------------------------------------------------------- */

typedef struct sink {
    client_resp_t *r;
    size_t cap;
    bool too_large;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb;
    client_resp_t *r = s->r;
    if (r->len + n > (size_t)CLIENT_MAX_ANSWER) {
        s->too_large = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (r->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return 0;
        r->body = b;
        s->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

/* Keeps the reason phrase of the (last) status line. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    client_resp_t *r = ud;
    size_t n = size * nmemb;
    if (n > 9 && !strncmp(data, "HTTP/", 5)) {
        const char *sp = memchr(data, ' ', n);
        const char *end = data + n;
        if (sp && end - sp > 5) {
            const char *reason = sp + 5; /* after " 413 " */
            size_t len = (size_t)(end - reason);
            while (len > 0 && (reason[len - 1] == '\r' || reason[len - 1] == '\n'))
                len--;
            if (len >= sizeof r->reason)
                len = sizeof r->reason - 1;
            memcpy(r->reason, reason, len);
            r->reason[len] = '\0';
        } else {
            r->reason[0] = '\0';
        }
    }
    return n;
}

CURL *client_handle(client_t *c, const char *method, const char *path,
                    const char *body, struct curl_slist **headers)
{
    if (!c->curl) {
        static bool global_done;
        if (!global_done) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            global_done = true;
        }
        c->curl = curl_easy_init();
        if (!c->curl) {
            fputs("haul: cannot start libcurl\n", stderr);
            return NULL;
        }
    } else {
        curl_easy_reset(c->curl);
    }
    CURL *h = c->curl;
    size_t ulen = strlen(c->server) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (!url)
        return NULL;
    snprintf(url, ulen, "%s%s", c->server, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    free(url); /* libcurl keeps its own copy */
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* the daemon: never via a proxy */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "haul/" HAUL_VERSION);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    c->errbuf[0] = '\0';

    struct curl_slist *hl = NULL;
    hl = curl_slist_append(hl, "Accept: application/json");
    hl = curl_slist_append(hl, "Expect:");
    if (c->token && *c->token) {
        size_t alen = strlen(c->token) + 32;
        char *auth = malloc(alen);
        if (auth) {
            snprintf(auth, alen, "Authorization: Bearer %s", c->token);
            hl = curl_slist_append(hl, auth);
            free(auth);
        }
    }
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(method, "POST")) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            hl = curl_slist_append(hl, "Content-Type: application/json");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
            curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
        }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    *headers = hl;
    return h;
}

int client_transport_error(client_t *c, CURLcode code)
{
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);
    long oserr = 0;
    if (c->curl)
        curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
    char why[CURL_ERROR_SIZE + 64];
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        snprintf(why, sizeof why, "%s",
                 oserr == ECONNREFUSED ? "connection refused"
                 : oserr ? strerror((int)oserr) : detail);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(why, sizeof why, "its host name does not resolve");
        break;
    case CURLE_OPERATION_TIMEDOUT: {
        double connect = 0;
        curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME, &connect);
        if (connect > 0) {
            fprintf(stderr, "haul: the daemon at %s did not answer in time (%s)\n",
                    c->server, detail);
            return EXIT_FAILED;
        }
        snprintf(why, sizeof why, "no connection within %ld s",
                 CLIENT_CONNECT_TIMEOUT_MS / 1000);
        break;
    }
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        fprintf(stderr, "haul %s: --server \"%s\" is not an http:// URL like %s (%s)\n",
                c->cmd, c->server, CLIENT_DEFAULT_SERVER, detail);
        return EXIT_USAGE;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        fprintf(stderr,
                "haul: the daemon at %s closed the connection without a full answer (%s); "
                "is it stopping, or is --server something other than 'haul serve'?\n",
                c->server, detail);
        return EXIT_FAILED;
    default:
        fprintf(stderr, "haul: talking to the daemon at %s failed: %s\n", c->server, detail);
        return EXIT_FAILED;
    }
    fprintf(stderr,
            "haul: no daemon answers at %s (%s); start one with 'haul serve' or point "
            "--server at it\n",
            c->server, why);
    return EXIT_UNREACHABLE;
}

int client_request(client_t *c, const char *method, const char *path,
                   const json_t *body, client_resp_t *r)
{
    memset(r, 0, sizeof *r);
    char *text = NULL;
    if (body && !(text = json_dumps(body, JSON_COMPACT))) {
        fputs("haul: cannot encode the request\n", stderr);
        return EXIT_FAILED;
    }
    struct curl_slist *hl = NULL;
    CURL *h = client_handle(c, method, path, text, &hl);
    free(text);
    if (!h) {
        curl_slist_free_all(hl);
        return EXIT_FAILED;
    }
    sink_t sink = {.r = r};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, CLIENT_REQUEST_TIMEOUT_S);
    CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(hl);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (code != CURLE_OK) {
        int rc;
        if (sink.too_large) {
            fprintf(stderr, "haul: the answer to %s %s is larger than %ld MiB; "
                            "is --server %s the haul daemon?\n",
                    method, path, CLIENT_MAX_ANSWER >> 20, c->server);
            rc = EXIT_FAILED;
        } else {
            rc = client_transport_error(c, code);
        }
        client_resp_free(r);
        return rc;
    }
    if (r->body && r->len > 0)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    return 0;
}

void client_resp_free(client_resp_t *r)
{
    free(r->body);
    if (r->json)
        json_decref(r->json);
    memset(r, 0, sizeof *r);
}

int client_http_error(const client_t *c, const char *method, const char *path,
                      const client_resp_t *r, const char *context)
{
    const char *pre = context ? context : "";
    const char *sep = context ? ": " : "";
    const json_t *err = r->json ? json_object_get(r->json, "error") : NULL;
    const char *msg = err ? jstr(err, "message") : "";
    if (r->status == 401) {
        fprintf(stderr, "haul: %s%sthe daemon at %s needs a token; pass --token TOKEN or "
                        "set HAUL_TOKEN (the one 'haul serve --token' was given)\n",
                pre, sep, c->server);
    } else if (r->status == 403) {
        fprintf(stderr, "haul: %s%sthe daemon at %s refused the token: it is wrong; check "
                        "--token or HAUL_TOKEN\n",
                pre, sep, c->server);
    } else if (*msg) {
        char safe[2048];
        client_printable(msg, safe, sizeof safe);
        fprintf(stderr, "haul: %s%s%s\n", pre, sep, safe);
    } else {
        char reason[80];
        client_printable(r->reason, reason, sizeof reason);
        fprintf(stderr, "haul: %s%sthe daemon at %s answered %s %s with HTTP %ld%s%s%s\n",
                pre, sep, c->server, method, path, r->status, reason[0] ? " (" : "",
                reason, reason[0] ? ")" : "");
    }
    return EXIT_HTTP;
}

int client_call(client_t *c, const char *method, const char *path, const json_t *body,
                const char *context, json_t **out)
{
    *out = NULL;
    client_resp_t r;
    int rc = client_request(c, method, path, body, &r);
    if (rc != 0)
        return rc;
    if (r.status < 200 || r.status > 299) {
        rc = client_http_error(c, method, path, &r, context);
    } else if (!r.json) {
        fprintf(stderr, "haul: the daemon at %s answered %s %s with something that is not "
                        "JSON; is --server the haul daemon?\n",
                c->server, method, path);
        rc = EXIT_FAILED;
    } else {
        *out = json_incref(r.json);
        rc = EXIT_OK;
    }
    client_resp_free(&r);
    return rc;
}

void client_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
    fflush(stdout);
}

void client_escape(const char *s, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < outsz; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            ch == '-' || ch == '_' || ch == '.') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

/* --- JSON and formatting helpers ---------------------------------------- */

const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int64_t jint(const json_t *o, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return dflt;
}

double jnum(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *client_job_name(const json_t *job)
{
    const char *s = jstr(job, "filename");
    if (!*s)
        s = jstr(job, "title");
    if (!*s)
        s = jstr(job, "url");
    return s;
}

void client_printable(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; s && *s && o + 1 < outsz; s++) {
        unsigned char ch = (unsigned char)*s;
        out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[o] = '\0';
}

void client_fmt_time(const char *iso, char *out, size_t outsz)
{
    if (!iso || !*iso) {
        snprintf(out, outsz, "-");
        return;
    }
    struct tm tm = {0};
    const char *end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        client_printable(iso, out, outsz);
        return;
    }
    time_t t = timegm(&tm);
    struct tm local;
    if (!localtime_r(&t, &local) || !strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &local))
        client_printable(iso, out, outsz);
}

enum { COL_ID, COL_STATE, COL_PROGRESS, COL_SIZE, COL_SPEED, COL_ETA, NCOLS };

typedef struct row {
    char cell[NCOLS][32];
    char name[1024];
} row_t;

static void job_row(const json_t *job, row_t *r)
{
    const char *state = jstr(job, "state");
    int64_t done = jint(job, "bytes_done", 0), total = jint(job, "bytes_total", -1);
    double speed = jnum(job, "speed_bps", 0);
    int64_t eta = jint(job, "eta_s", -1);
    client_printable(jstr(job, "id"), r->cell[COL_ID], sizeof r->cell[COL_ID]);
    client_printable(state, r->cell[COL_STATE], sizeof r->cell[COL_STATE]);
    if (total > 0)
        snprintf(r->cell[COL_PROGRESS], sizeof r->cell[COL_PROGRESS], "%d%%",
                 (int)(done * 100 / total));
    else if (total == 0 && !strcmp(state, "done"))
        snprintf(r->cell[COL_PROGRESS], sizeof r->cell[COL_PROGRESS], "100%%");
    else
        fmt_bytes(done, r->cell[COL_PROGRESS], sizeof r->cell[COL_PROGRESS]);
    if (total >= 0)
        fmt_bytes(total, r->cell[COL_SIZE], sizeof r->cell[COL_SIZE]);
    else
        snprintf(r->cell[COL_SIZE], sizeof r->cell[COL_SIZE], "?");
    bool running = !strcmp(state, "running");
    if (running && speed > 0) {
        char b[24];
        snprintf(r->cell[COL_SPEED], sizeof r->cell[COL_SPEED], "%s/s",
                 fmt_bytes((int64_t)speed, b, sizeof b));
    } else {
        snprintf(r->cell[COL_SPEED], sizeof r->cell[COL_SPEED], "-");
    }
    if (running && eta >= 0)
        fmt_duration(eta, r->cell[COL_ETA], sizeof r->cell[COL_ETA]);
    else
        snprintf(r->cell[COL_ETA], sizeof r->cell[COL_ETA], "-");
    client_printable(client_job_name(job), r->name, sizeof r->name);
}

/* Prints line, cut to width columns (UTF-8 code points) when width > 0. */
static void put_line(FILE *to, const char *line, int width)
{
    if (width <= 0) {
        fprintf(to, "%s\n", line);
        return;
    }
    int cols = 0;
    const char *p = line;
    while (*p) {
        if (((unsigned char)*p & 0xC0) != 0x80) {
            if (cols == width)
                break;
            cols++;
        }
        p++;
    }
    if (*p) { /* cut: end with an ellipsis in the last column */
        const char *q = p;
        do
            q--;
        while (q > line && ((unsigned char)*q & 0xC0) == 0x80);
        fprintf(to, "%.*s\xe2\x80\xa6\n", (int)(q - line), line);
    } else {
        fprintf(to, "%s\n", line);
    }
}

void client_print_table(FILE *to, const json_t *jobs, int width)
{
    static const char *const head[NCOLS] = {"ID", "STATE", "PROGRESS", "SIZE", "SPEED", "ETA"};
    static const bool right[NCOLS] = {false, false, true, true, true, true};
    size_t n = json_array_size(jobs);
    row_t *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return;
    int w[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        w[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        job_row(json_array_get(jobs, i), &rows[i]);
        for (int k = 0; k < NCOLS; k++) {
            int l = (int)strlen(rows[i].cell[k]);
            if (l > w[k])
                w[k] = l;
        }
    }
    char line[1400];
    for (size_t i = 0; i <= n; i++) {
        int o = 0;
        for (int k = 0; k < NCOLS; k++) {
            const char *cell = i == 0 ? head[k] : rows[i - 1].cell[k];
            o += snprintf(line + o, sizeof line - (size_t)o, right[k] ? "%*s  " : "%-*s  ",
                          w[k], cell);
        }
        snprintf(line + o, sizeof line - (size_t)o, "%s", i == 0 ? "NAME" : rows[i - 1].name);
        put_line(to, line, width);
    }
    free(rows);
}
