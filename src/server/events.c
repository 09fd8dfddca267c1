/* events: /api/events, server-sent events.
 *
 * Each client is a chunked reply that never ends on its own. Every job
 * change the scheduler announces (state changes at once and in order,
 * progress at most every 250 ms per job) is formatted once and written to
 * every client; a stats event goes out every 2 s and a heartbeat comment
 * every 15 s. A client that stops reading is cut off when its output
 * buffer passes a cap, rather than growing without bound; its EventSource
 * reconnects and reloads. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/job_json.h"

#define HEARTBEAT_S 15
#define STATS_EVERY_S 2
#define CLIENT_BUFFER_CAP (4 * 1024 * 1024)

typedef struct client {
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct client *prev, *next;
    events_t *ev;
} client_t;

struct events {
    server_t *srv;
    client_t *clients;
    size_t nclients;
    struct event *stats_ev;
    unsigned ticks;
    uint64_t next_id;
};

static void unlink_client(events_t *ev, client_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        ev->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ev->nclients--;
    free(c);
}

/* The connection closed under us. evhttp has detached our unfinished
 * request from it (libevent 2.1: a reply in progress is the user's to end),
 * and ending it now frees it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    client_t *c = arg;
    if (!evhttp_request_get_connection(c->req))
        evhttp_send_reply_end(c->req);
    unlink_client(c->ev, c);
}

/* Ends the stream from our side (slow client, shutdown). */
static void end_client(events_t *ev, client_t *c)
{
    evhttp_connection_set_closecb(c->conn, NULL, NULL);
    evhttp_send_reply_end(c->req);
    unlink_client(ev, c);
}

static size_t pending(const client_t *c)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->conn);
    return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Writes text to every client. */
static void broadcast(events_t *ev, const char *text, size_t len)
{
    for (client_t *c = ev->clients, *next; c; c = next) {
        next = c->next;
        if (pending(c) > CLIENT_BUFFER_CAP) {
            end_client(ev, c);
            continue;
        }
        struct evbuffer *buf = evbuffer_new();
        if (!buf)
            continue;
        evbuffer_add(buf, text, len);
        evhttp_send_reply_chunk(c->req, buf);
        evbuffer_free(buf);
    }
}

static void send_event(events_t *ev, const char *name, json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!json)
        return;
    size_t n = strlen(json) + strlen(name) + 64;
    char *text = malloc(n);
    if (text) {
        int len = snprintf(text, n, "id: %llu\nevent: %s\ndata: %s\n\n",
                           (unsigned long long)++ev->next_id, name, json);
        broadcast(ev, text, (size_t)len);
    }
    free(text);
    free(json);
}

void events_on_job(void *ud, const job_t *j, sched_change_t what)
{
    events_t *ev = ud;
    if (!ev || !ev->clients)
        return;
    if (what == SCHED_REMOVED)
        send_event(ev, "removed", json_pack("{s:s}", "id", j->id));
    else
        send_event(ev, "job", job_to_json(j));
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    events_t *ev = arg;
    ev->ticks++;
    if (!ev->clients)
        return;
    send_event(ev, "stats", stats_json(ev->srv));
    if (ev->ticks % (HEARTBEAT_S / STATS_EVERY_S) == 0) {
        static const char HB[] = ": heartbeat\n\n";
        broadcast(ev, HB, sizeof HB - 1);
    }
}

void events_serve(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    events_t *ev = srv->events;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    client_t *c = calloc(1, sizeof *c);
    if (!c || !conn) {
        free(c);
        reply_error(req, 500, "out_of_memory", NULL, "cannot take another event client");
        return;
    }
    c->req = req;
    c->conn = conn;
    c->ev = ev;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    evhttp_connection_set_closecb(conn, on_close, c);
    c->next = ev->clients;
    if (ev->clients)
        ev->clients->prev = c;
    ev->clients = c;
    ev->nclients++;
    /* a first event at once: the client knows it is connected */
    struct evbuffer *buf = evbuffer_new();
    json_t *stats = stats_json(srv);
    char *json = json_dumps(stats, JSON_COMPACT);
    json_decref(stats);
    if (buf && json) {
        evbuffer_add_printf(buf, "retry: 2000\nevent: stats\ndata: %s\n\n", json);
        evhttp_send_reply_chunk(req, buf);
    }
    free(json);
    if (buf)
        evbuffer_free(buf);
}

events_t *events_new(server_t *srv)
{
    events_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->srv = srv;
    ev->stats_ev = event_new(srv->base, -1, EV_PERSIST, on_tick, ev);
    struct timeval tv = {STATS_EVERY_S, 0};
    if (!ev->stats_ev || event_add(ev->stats_ev, &tv) != 0) {
        events_free(ev);
        return NULL;
    }
    return ev;
}

void events_close_all(events_t *ev)
{
    while (ev->clients)
        end_client(ev, ev->clients);
}

void events_free(events_t *ev)
{
    if (!ev)
        return;
    events_close_all(ev);
    if (ev->stats_ev)
        event_free(ev->stats_ev);
    free(ev);
}

size_t events_clients(const events_t *ev)
{
    return ev->nclients;
}
