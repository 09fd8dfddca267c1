/* http: the evhttp server: listening, auth, the route table, replies and
 * request bodies. The handlers live in api_jobs.c, events.c, files.c,
 * stats.c and web.c. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/classify.h"
#include "server/internal.h"
#include "util/log.h"

/* ---- replies ------------------------------------------------------------ */

static void send_status(struct evhttp_request *req, int status, struct evbuffer *buf)
{
    const char *reason = http_reason(status);
    evhttp_send_reply(req, status, reason[0] ? reason : "Status", buf);
}

void reply_json_buffer(struct evhttp_request *req, int status, struct evbuffer *buf)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    send_status(req, status, buf);
}

void reply_json(struct evhttp_request *req, int status, json_t *body)
{
    struct evbuffer *buf = evbuffer_new();
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!buf || !text) {
        free(text);
        if (buf)
            evbuffer_free(buf);
        evhttp_send_error(req, 500, "Out of memory");
        return;
    }
    evbuffer_add(buf, text, strlen(text));
    evbuffer_add(buf, "\n", 1);
    free(text);
    reply_json_buffer(req, status, buf);
    evbuffer_free(buf);
}

void reply_error(struct evhttp_request *req, int status, const char *code,
                 const char *field, const char *fmt, ...)
{
    char msg[HAUL_ERR_MSG_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (field)
        json_object_set_new(e, "field", json_string(field));
    reply_json(req, status, json_pack("{s:o}", "error", e));
}

static int status_for(const char *code)
{
    static const struct { const char *code; int status; } MAP[] = {
        {"bad_state", 409},     {"not_done", 409},     {"invalid_field", 422},
        {"not_found", 404},     {"shutting_down", 503}, {"store_error", 500},
        {"disk_full", 507},     {"bad_json", 400},     {"bad_request", 400},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (strcmp(code, MAP[i].code) == 0)
            return MAP[i].status;
    return 500;
}

void reply_herr(struct evhttp_request *req, const haul_error_t *err)
{
    reply_error(req, status_for(err->code), err->code, NULL, "%s", err->message);
}

json_t *read_json(struct evhttp_request *req, int empty_ok)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0 && empty_ok)
        return json_object();
    if (len > MAX_BODY) {
        reply_error(req, 413, "too_large", NULL,
                    "the request body is %zu bytes; the limit is 1 MiB", len);
        return NULL;
    }
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        reply_error(req, 415, "not_json", NULL,
                    "send the body as JSON with 'Content-Type: application/json' (got %s)",
                    ct ? ct : "no Content-Type");
        return NULL;
    }
    if (len == 0) {
        reply_error(req, 400, "bad_json", NULL, "the request body is empty; send a JSON object");
        return NULL;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_error_t jerr;
    json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        reply_error(req, 400, "bad_json", NULL,
                    "the body is not valid JSON: %s at line %d, column %d", jerr.text,
                    jerr.line, jerr.column);
        return NULL;
    }
    return body;
}

int query_param(struct evhttp_request *req, const char *name, char *out, size_t n)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!q)
        return 0;
    struct evkeyvalq kv;
    TAILQ_INIT(&kv);
    if (evhttp_parse_query_str(q, &kv) != 0)
        return 0;
    const char *v = evhttp_find_header(&kv, name);
    int found = v != NULL;
    if (found)
        snprintf(out, n, "%s", v);
    evhttp_clear_headers(&kv);
    return found;
}

/* ---- routes ------------------------------------------------------------- */

typedef struct route {
    const char *pattern;   /* segments; "*" is a job id */
    int methods;
    handler_fn fn;
    int open;              /* no token needed */
} route_t;

#define GET (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
static const route_t ROUTES[] = {
    {"/healthz", GET, stats_healthz, 1},
    {"/api/jobs", EVHTTP_REQ_POST, api_jobs_create, 0},
    {"/api/jobs", GET, api_jobs_list, 0},
    {"/api/jobs/bulk", EVHTTP_REQ_POST, api_jobs_bulk, 0},
    {"/api/jobs/clean", EVHTTP_REQ_POST, api_jobs_clean, 0},
    {"/api/jobs/*", GET, api_jobs_get, 0},
    {"/api/jobs/*", EVHTTP_REQ_DELETE, api_jobs_delete, 0},
    {"/api/jobs/*/pause", EVHTTP_REQ_POST, api_jobs_action, 0},
    {"/api/jobs/*/resume", EVHTTP_REQ_POST, api_jobs_action, 0},
    {"/api/jobs/*/cancel", EVHTTP_REQ_POST, api_jobs_action, 0},
    {"/api/jobs/*/retry", EVHTTP_REQ_POST, api_jobs_action, 0},
    {"/api/jobs/*/file", GET, files_serve, 0},
    {"/api/jobs/*/events", GET, api_jobs_history, 0},
    {"/api/events", GET, events_serve, 0},
    {"/api/stats", GET, stats_serve, 0},
    {"/metrics", GET, stats_metrics, 0},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Matches path against pattern; a "*" segment is copied into id. */
static int match(const char *pattern, const char *path, char *id, size_t idsz)
{
    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            if (n == 0 || n >= idsz)
                return 0;
            memcpy(id, path, n);
            id[n] = '\0';
            path += n;
            pattern++;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return *pattern == '\0' && (*path == '\0' || (path[0] == '/' && path[1] == '\0'));
}

static const char *method_names(int methods, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s%s", methods & EVHTTP_REQ_GET ? "GET, HEAD, " : "",
             methods & EVHTTP_REQ_POST ? "POST, " : "",
             methods & EVHTTP_REQ_DELETE ? "DELETE, " : "", "");
    size_t len = strlen(out);
    if (len >= 2)
        out[len - 2] = '\0';
    return out;
}

/* Bearer auth: 0 when the request may go on; else it has been answered. */
static int check_token(server_t *srv, struct evhttp_request *req)
{
    if (!srv->token)
        return 0;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    char qtoken[256];
    const char *given = NULL;
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        given = h + 7;
    else if (query_param(req, "access_token", qtoken, sizeof qtoken))
        given = qtoken; /* EventSource cannot send headers */
    if (!given) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"haul\"");
        reply_error(req, 401, "unauthorized", NULL,
                    "this daemon needs a token: send 'Authorization: Bearer TOKEN' "
                    "(haul --token or HAUL_TOKEN)");
        return -1;
    }
    size_t n = strlen(srv->token);
    if (strlen(given) != n || CRYPTO_memcmp(given, srv->token, n) != 0) {
        reply_error(req, 403, "forbidden", NULL, "the token is wrong");
        return -1;
    }
    return 0;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    server_t *srv = arg;
    srv->requests++;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path || !path[0])
        path = "/";
    int method = (int)evhttp_request_get_command(req);
    char id[64];
    int allowed = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        const route_t *r = &ROUTES[i];
        if (!match(r->pattern, path, id, sizeof id))
            continue;
        allowed |= r->methods;
        if (!(r->methods & method))
            continue;
        if (!r->open && check_token(srv, req) != 0)
            return;
        if (srv->stopping && r->fn != stats_healthz) {
            reply_error(req, 503, "shutting_down", NULL, "the daemon is stopping");
            return;
        }
        r->fn(srv, req, strchr(r->pattern, '*') ? id : NULL);
        return;
    }
    if (allowed) {
        char names[64];
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          method_names(allowed, names, sizeof names));
        reply_error(req, 405, "method_not_allowed", NULL, "%s does not take this method; use %s",
                    path, names);
        return;
    }
    /* any other path may be one of the web UI's files (open: the page
     * asks for the token itself) */
    web_serve(srv, req, path);
}

/* ---- the server ----------------------------------------------------------- */

server_t *server_new(struct event_base *base, sched_t *sched, store_t *store,
                     const server_opts_t *o, haul_error_t *err)
{
    server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        herr_set(err, "out_of_memory", false, "out of memory");
        return NULL;
    }
    srv->base = base;
    srv->sched = sched;
    srv->store = store;
    srv->started_ms = job_now_ms();
    if (o->token && o->token[0] && !(srv->token = strdup(o->token)))
        abort();
    srv->http = evhttp_new(base);
    srv->events = srv->http ? events_new(srv) : NULL;
    if (!srv->http || !srv->events) {
        herr_set(err, "out_of_memory", false, "cannot create the HTTP server");
        server_free(srv);
        return NULL;
    }
    evhttp_set_max_body_size(srv->http, HARD_MAX_BODY);
    evhttp_set_max_headers_size(srv->http, 64 * 1024);
    evhttp_set_timeout(srv->http, 60);
    /* every method reaches the router, which answers 405 naming the
     * allowed ones (evhttp itself would answer 501 with an HTML page) */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_default_content_type(srv->http, "application/json");
    evhttp_set_gencb(srv->http, dispatch, srv);
    srv->sock = evhttp_bind_socket_with_handle(srv->http, o->host, (ev_uint16_t)o->port);
    if (!srv->sock) {
        herr_set(err, "listen_failed", false,
                 "cannot listen on %s:%d (in use, or not an address of this machine); "
                 "pick another with --listen HOST:PORT", o->host, o->port);
        server_free(srv);
        return NULL;
    }
    evutil_socket_t fd = evhttp_bound_socket_get_fd(srv->sock);
    /* Accepted sockets inherit TCP_NODELAY (Linux). Without it, a reply
     * written in two pieces (headers, then a body over one segment) waits
     * for the client's delayed ACK: 40 ms per list page on a keep-alive
     * connection. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("cannot set TCP_NODELAY on the listening socket: %s", strerror(errno));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                  : ((struct sockaddr_in *)&ss)->sin_port);
    sched_set_listener(sched, events_on_job, srv->events);
    return srv;
}

int server_port(const server_t *srv)
{
    return srv->port;
}

void server_stop(server_t *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = 1;
    if (srv->sock) {
        evhttp_del_accept_socket(srv->http, srv->sock);
        srv->sock = NULL;
    }
    events_close_all(srv->events);
}

void server_free(server_t *srv)
{
    if (!srv)
        return;
    if (srv->sched)
        sched_set_listener(srv->sched, NULL, NULL);
    api_playlist_cancel_all(srv);
    if (srv->events)
        events_free(srv->events);
    if (srv->http)
        evhttp_free(srv->http);
    free(srv->token);
    free(srv);
}
