/* transfer: HTTP requests driven by one libcurl multi handle on a libevent
 * loop (curl_multi_socket_action on socket and timer events).
 *
 * An engine_t belongs to one event_base and runs any number of transfers.
 * A transfer_t is one request (after redirects): it reports the final
 * response's headers once, then body data, then its end. The engine owns
 * each transfer: it frees it right after on_done returns, or when
 * transfer_abort() stops it (no callback runs after transfer_abort).
 *
 * Never call transfer_abort() or engine_free() from inside a transfer's
 * own callbacks (libcurl forbids removing a handle from its callbacks):
 * return -1 from on_response/on_data instead, which ends the transfer
 * through on_done with aborted = 1. */
#ifndef HAUL_ENGINE_TRANSFER_H
#define HAUL_ENGINE_TRANSFER_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct event_base;
typedef struct engine engine_t;
typedef struct transfer transfer_t;

/* What is known when the final response's headers are complete. Strings
 * are borrowed and valid only during the callback; NULL when absent. */
typedef struct transfer_response {
    long status;
    int64_t content_length;        /* -1 when unknown */
    const char *etag;
    const char *last_modified;
    const char *content_range;
    const char *content_disposition;
    const char *content_type;
    const char *effective_url;
} transfer_response_t;

typedef struct transfer_opts {
    const char *url;
    int64_t range_from;            /* > 0: ask for bytes range_from- */
    int64_t range_length;          /* > 0: ask for exactly the bytes
                                      [range_from, range_from+range_length) */
    const char *if_range;          /* validator for If-Range, or NULL */
    const char *const *headers;    /* extra "Name: value" lines */
    size_t nheaders;
    const char *user_agent;        /* NULL: "haul/<version>" */
    const char *proxy;             /* NULL: libcurl's environment default */
    const char *ca_file;           /* trusted CA certificates (PEM), NULL: the system's */
    int64_t max_speed;             /* bytes/s, 0 = unlimited */
    long connect_timeout_s;        /* 0: 20 s */
    long stall_timeout_s;          /* no byte (header or body) for this long
                                      ends it as a timeout, 0: 30 s */
} transfer_opts_t;

typedef struct transfer_cbs {
    /* The final response's headers. Return 0 to go on, -1 to abort. */
    int (*on_response)(void *ud, const transfer_response_t *resp);
    /* Body bytes, in order. Return 0 to go on, -1 to abort. */
    int (*on_data)(void *ud, const char *data, size_t len);
    /* The end: cc is libcurl's result (CURLE_OK on success), status the
     * final HTTP status (0 when none), aborted 1 when a callback above
     * returned -1, detail libcurl's error text. The transfer is freed
     * after this returns; it may start new transfers. */
    void (*on_done)(void *ud, CURLcode cc, long status, int aborted,
                    const char *detail, long retry_after_s);
} transfer_cbs_t;

/* A new engine on base (borrowed; must outlive the engine). Returns NULL
 * when libcurl cannot be set up. */
engine_t *engine_new(struct event_base *base);

/* Aborts every transfer (no callbacks) and frees the engine. */
void engine_free(engine_t *eng);

/* Number of transfers in flight. */
size_t engine_active(const engine_t *eng);

/* Starts a request. opts and its strings are copied; cbs is copied; ud is
 * passed back to every callback. Returns the transfer (owned by the
 * engine), or NULL with err set. */
transfer_t *transfer_start(engine_t *eng, const transfer_opts_t *opts,
                           const transfer_cbs_t *cbs, void *ud,
                           haul_error_t *err);

/* Stops the request now: the handle leaves the multi, its connection is
 * closed, and no callback runs afterwards. t is freed. */
void transfer_abort(transfer_t *t);

#endif
