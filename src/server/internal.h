/* internal: what the server's modules (http.c, api_jobs.c, events.c,
 * files.c, stats.c, web.c) share. Not for use outside src/server. */
#ifndef HAUL_SERVER_INTERNAL_H
#define HAUL_SERVER_INTERNAL_H

#include <event2/http.h>
#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "engine/scheduler.h"
#include "server/server.h"
#include "store/store.h"

#define MAX_BODY (1024 * 1024)
/* evhttp refuses bodies over this itself (413 with its own HTML page); up
 * to it, read_json answers over-MAX_BODY bodies with a JSON 413. */
#define HARD_MAX_BODY (8 * MAX_BODY)

typedef struct events events_t;

struct server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    sched_t *sched;
    store_t *store;
    char *token;
    int port;
    int stopping;
    int64_t started_ms;
    uint64_t requests;      /* answered, for /metrics */
    events_t *events;
    struct playlist_req *playlists; /* POSTs waiting for yt-dlp */
};

/* A route's handler; id is the path's {id} segment or NULL. */
typedef void (*handler_fn)(server_t *srv, struct evhttp_request *req, const char *id);

/* ---- replies (http.c) --------------------------------------------------- */

/* Sends body (stolen) as JSON with the status. */
void reply_json(struct evhttp_request *req, int status, json_t *body);

/* Sends {"error": {"code", "message"[, "field"]}}. */
void reply_error(struct evhttp_request *req, int status, const char *code,
                 const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Sends buf (JSON text, drained) with the status. */
void reply_json_buffer(struct evhttp_request *req, int status, struct evbuffer *buf);

/* Sends err with the status its code calls for (bad_state 409,
 * shutting_down 503, store_error/disk_full 500, ...). */
void reply_herr(struct evhttp_request *req, const haul_error_t *err);

/* The request's JSON body, or NULL after replying 400/413/415. An empty
 * body gives an empty object when empty_ok. Caller owns the result. */
json_t *read_json(struct evhttp_request *req, int empty_ok);

/* A query parameter (copied into out), 1 when present. */
int query_param(struct evhttp_request *req, const char *name, char *out, size_t n);

/* ---- handlers ----------------------------------------------------------- */

void api_jobs_create(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_list(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_get(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_action(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_delete(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_bulk(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_clean(server_t *srv, struct evhttp_request *req, const char *id);
void api_jobs_history(server_t *srv, struct evhttp_request *req, const char *id);
void files_serve(server_t *srv, struct evhttp_request *req, const char *id);
void stats_serve(server_t *srv, struct evhttp_request *req, const char *id);
void stats_metrics(server_t *srv, struct evhttp_request *req, const char *id);
void stats_healthz(server_t *srv, struct evhttp_request *req, const char *id);
/* A file of the web UI at path ("/" is index.html), or 404; open (no token). */
/* api_playlist.c: POST /api/jobs with "playlist": true (body taken, without
 * the "playlist" key): one job per entry, answered when yt-dlp has read it. */
void api_playlist_create(server_t *srv, struct evhttp_request *req, json_t *body);

/* Answers every request still waiting for yt-dlp with 503 and stops yt-dlp. */
void api_playlist_cancel_all(server_t *srv);

void web_serve(server_t *srv, struct evhttp_request *req, const char *path);

/* The body of /api/stats (a new reference). */
json_t *stats_json(server_t *srv);

/* ---- server-sent events (events.c) ---------------------------------------- */

events_t *events_new(server_t *srv);
void events_free(events_t *ev);
void events_serve(server_t *srv, struct evhttp_request *req, const char *id);
/* The scheduler's listener: a job changed. */
void events_on_job(void *ud, const job_t *j, sched_change_t what);
/* Ends every stream (shutdown). */
void events_close_all(events_t *ev);
size_t events_clients(const events_t *ev);

#endif
