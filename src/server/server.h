/* server: the daemon's HTTP side on evhttp: the REST API, server-sent
 * events, finished files, stats, metrics and the web UI (docs/api.md).
 *
 * It owns the evhttp server and the event-stream clients; it borrows the
 * scheduler and the store, which must outlive it. */
#ifndef HAUL_SERVER_SERVER_H
#define HAUL_SERVER_SERVER_H

#include <event2/event.h>

#include "core/error.h"
#include "engine/scheduler.h"
#include "store/store.h"

typedef struct server server_t;

typedef struct server_opts {
    const char *host;     /* address to listen on */
    int port;             /* 0: a free port (server_port tells which) */
    const char *token;    /* Bearer token for /api and /metrics, or NULL */
} server_opts_t;

/* Listens and serves. Returns NULL with err set ("listen_failed"). */
server_t *server_new(struct event_base *base, sched_t *sched, store_t *store,
                     const server_opts_t *o, haul_error_t *err);

/* The port it listens on. */
int server_port(const server_t *srv);

/* Stops listening and ends every event stream; requests still in flight
 * are answered 503. */
void server_stop(server_t *srv);

void server_free(server_t *srv);

#endif
