/* transfer.c: libcurl's multi interface on libevent, the way curl's own
 * docs/examples/multi-event.c does it: one persistent event per socket
 * (remembered with curl_multi_assign), one timer, and after every
 * curl_multi_socket_action the finished transfers are collected. */
#include "engine/transfer.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"

#define RECV_BUFFER_SIZE (256 * 1024) /* big reads: fewer syscalls */

struct engine {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    transfer_t *head;   /* every live transfer, to abort them at the end */
    size_t active;
};

struct transfer {
    engine_t *eng;
    CURL *easy;
    struct curl_slist *headers;
    transfer_cbs_t cbs;
    void *ud;
    int responded;      /* on_response has been called */
    int aborted;        /* a callback asked to stop */
    struct event *watchdog;
    long stall_s;       /* no byte for this long ends the transfer */
    curl_off_t seen;    /* header + body bytes at the last look */
    double seen_at;     /* when they last changed (monotonic s) */
    char errbuf[CURL_ERROR_SIZE];
    transfer_t *prev, *next;
};

/* One watched socket. */
typedef struct sock {
    struct event *ev;
} sock_t;

static void drain_finished(engine_t *eng);

/* libevent saw activity on a socket libcurl watches. */
static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    engine_t *eng = arg;
    int flags = 0, running = 0;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(eng->multi, fd, flags, &running);
    drain_finished(eng);
}

/* libcurl's timeout expired. */
static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    engine_t *eng = arg;
    int running = 0;
    curl_multi_socket_action(eng->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_finished(eng);
}

/* CURLMOPT_TIMERFUNCTION: keep our one timer where libcurl wants it. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    engine_t *eng = userp;
    if (timeout_ms < 0)
        return evtimer_del(eng->timer);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return evtimer_add(eng->timer, &tv);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget a socket. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                          void *socketp)
{
    (void)easy;
    engine_t *eng = userp;
    sock_t *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            event_free(sk->ev);
            free(sk);
            curl_multi_assign(eng->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (!sk) {
        sk = calloc(1, sizeof *sk);
        if (!sk)
            return -1;
        sk->ev = event_new(eng->base, s, kind, on_socket_event, eng);
        if (!sk->ev) {
            free(sk);
            return -1;
        }
        curl_multi_assign(eng->multi, s, sk);
    } else {
        event_del(sk->ev);
        if (event_assign(sk->ev, eng->base, s, kind, on_socket_event, eng) != 0)
            return -1;
    }
    return event_add(sk->ev, NULL);
}

engine_t *engine_new(struct event_base *base)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = 1;
    }
    engine_t *eng = calloc(1, sizeof *eng);
    if (!eng)
        return NULL;
    eng->base = base;
    eng->multi = curl_multi_init();
    eng->timer = evtimer_new(base, on_timer_event, eng);
    if (!eng->multi || !eng->timer) {
        engine_free(eng);
        return NULL;
    }
    curl_multi_setopt(eng->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(eng->multi, CURLMOPT_SOCKETDATA, eng);
    curl_multi_setopt(eng->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(eng->multi, CURLMOPT_TIMERDATA, eng);
    return eng;
}

/* Unlinks t from the engine and frees it. The handle must be out of the
 * multi already. */
static void transfer_free(transfer_t *t)
{
    engine_t *eng = t->eng;
    if (t->prev)
        t->prev->next = t->next;
    else
        eng->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    eng->active--;
    if (t->watchdog)
        event_free(t->watchdog);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t);
}

void engine_free(engine_t *eng)
{
    if (!eng)
        return;
    while (eng->head)
        transfer_abort(eng->head);
    if (eng->multi)
        curl_multi_cleanup(eng->multi);
    if (eng->timer)
        event_free(eng->timer);
    free(eng);
}

size_t engine_active(const engine_t *eng)
{
    return eng->active;
}

/* The value of a response header of the last request, or NULL. */
static const char *header_value(CURL *easy, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    return h->value;
}

/* The server's Retry-After in seconds (either form), -1 when it sent none. */
static long retry_after(CURL *easy)
{
    curl_off_t ra = -1;
    if (!header_value(easy, "Retry-After") ||
        curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK)
        return -1;
    return (long)ra;
}

/* Calls on_response once, when the final response's headers are known. */
static int deliver_response(transfer_t *t)
{
    if (t->responded)
        return 0;
    t->responded = 1;
    transfer_response_t r = {.content_length = -1};
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_off_t cl = -1;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
        r.content_length = cl;
    r.etag = header_value(t->easy, "ETag");
    r.last_modified = header_value(t->easy, "Last-Modified");
    r.content_range = header_value(t->easy, "Content-Range");
    r.content_disposition = header_value(t->easy, "Content-Disposition");
    char *ct = NULL, *eff = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
    r.content_type = ct;
    r.effective_url = eff;
    if (t->cbs.on_response && t->cbs.on_response(t->ud, &r) != 0) {
        t->aborted = 1;
        return -1;
    }
    return 0;
}

/* CURLOPT_WRITEFUNCTION: body bytes of the final response. */
static size_t on_curl_write(char *data, size_t size, size_t nmemb, void *userp)
{
    transfer_t *t = userp;
    size_t len = size * nmemb;
    if (t->aborted || deliver_response(t) != 0)
        return 0;
    if (t->cbs.on_data && t->cbs.on_data(t->ud, data, len) != 0) {
        t->aborted = 1;
        return 0;
    }
    return len;
}

/* Ends a transfer whose handle is out of the multi: reports it and frees
 * it. Runs outside curl callbacks only. */
static void finish(transfer_t *t, CURLcode cc, const char *detail)
{
    CURL *easy = t->easy;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK && !t->aborted)
        deliver_response(t); /* an empty body never called on_write */
    if (t->cbs.on_done)
        t->cbs.on_done(t->ud, cc, status, t->aborted, detail, retry_after(easy));
    transfer_free(t);
}

/* Collects finished transfers and reports them, outside curl callbacks. */
static void drain_finished(engine_t *eng)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(eng->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode cc = msg->data.result; /* copy before removing the handle */
        transfer_t *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(eng->multi, easy);
        finish(t, cc, t->errbuf);
    }
}

/* The stall watchdog: a transfer that received no byte (header or body)
 * for stall_s seconds ends as a timeout. libcurl's own low-speed check
 * averages over a window and notices a stall only seconds later. */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    transfer_t *t = arg;
    curl_off_t body = 0, head = 0;
    long hsize = 0;
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &body);
    curl_easy_getinfo(t->easy, CURLINFO_HEADER_SIZE, &hsize);
    head = hsize;
    double now = mono_now();
    if (body + head != t->seen) {
        t->seen = body + head;
        t->seen_at = now;
        return;
    }
    if (now - t->seen_at < (double)t->stall_s)
        return;
    char detail[96];
    snprintf(detail, sizeof detail, "no data arrived for %ld s", t->stall_s);
    curl_multi_remove_handle(t->eng->multi, t->easy);
    finish(t, CURLE_OPERATION_TIMEDOUT, detail);
}

/* Sets an option, remembering the first failure. */
#define SETOPT(easy, opt, val, rc)                                     \
    do {                                                               \
        CURLcode c_ = curl_easy_setopt((easy), (opt), (val));          \
        if (c_ != CURLE_OK && (rc) == CURLE_OK)                        \
            (rc) = c_;                                                 \
    } while (0)

transfer_t *transfer_start(engine_t *eng, const transfer_opts_t *opts,
                           const transfer_cbs_t *cbs, void *ud,
                           haul_error_t *err)
{
    transfer_t *t = calloc(1, sizeof *t);
    if (!t) {
        herr_set(err, "out_of_memory", true, "out of memory starting %s", opts->url);
        return NULL;
    }
    t->eng = eng;
    t->cbs = *cbs;
    t->ud = ud;
    t->easy = curl_easy_init();
    if (!t->easy) {
        free(t);
        herr_set(err, "out_of_memory", true, "libcurl could not start %s", opts->url);
        return NULL;
    }
    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;
    SETOPT(e, CURLOPT_URL, opts->url, rc);
    SETOPT(e, CURLOPT_PRIVATE, t, rc);
    SETOPT(e, CURLOPT_ERRORBUFFER, t->errbuf, rc);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L, rc);
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https", rc);
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https", rc);
    SETOPT(e, CURLOPT_FOLLOWLOCATION, 1L, rc);
    SETOPT(e, CURLOPT_MAXREDIRS, 10L, rc);
    SETOPT(e, CURLOPT_AUTOREFERER, 1L, rc);
    /* Big reads for speed; small ones under a speed limit: libcurl checks
     * its limit only between bursts of up to ~100 reads, so a read must be
     * about 1/1000 of a second's worth for the limit to hold. */
    long bufsize = RECV_BUFFER_SIZE;
    if (opts->max_speed > 0 && opts->max_speed / 1000 < bufsize)
        bufsize = opts->max_speed / 1000 < 1024 ? 1024 : (long)(opts->max_speed / 1000);
    SETOPT(e, CURLOPT_BUFFERSIZE, bufsize, rc);
    SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L, rc);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_curl_write, rc);
    SETOPT(e, CURLOPT_WRITEDATA, t, rc);
    SETOPT(e, CURLOPT_USERAGENT,
           opts->user_agent ? opts->user_agent : "haul/" HAUL_VERSION, rc);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT,
           opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 20L, rc);
    if (opts->max_speed > 0)
        SETOPT(e, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)opts->max_speed, rc);
    if (opts->proxy)
        SETOPT(e, CURLOPT_PROXY, opts->proxy, rc);
    if (opts->ca_file)
        SETOPT(e, CURLOPT_CAINFO, opts->ca_file, rc);
    char range[48];
    if (opts->range_length > 0) {
        snprintf(range, sizeof range, "%lld-%lld", (long long)opts->range_from,
                 (long long)(opts->range_from + opts->range_length - 1));
        SETOPT(e, CURLOPT_RANGE, range, rc);
    } else if (opts->range_from > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)opts->range_from);
        SETOPT(e, CURLOPT_RANGE, range, rc);
    }
    struct curl_slist *hl = NULL;
    int list_ok = 1;
    for (size_t i = 0; i < opts->nheaders && list_ok; i++) {
        struct curl_slist *n = curl_slist_append(hl, opts->headers[i]);
        if (n)
            hl = n;
        else
            list_ok = 0;
    }
    if (list_ok && opts->range_from > 0 && opts->if_range) {
        char ir[512];
        snprintf(ir, sizeof ir, "If-Range: %s", opts->if_range);
        struct curl_slist *n = curl_slist_append(hl, ir);
        if (n)
            hl = n;
        else
            list_ok = 0;
    }
    t->headers = hl;
    if (hl)
        SETOPT(e, CURLOPT_HTTPHEADER, hl, rc);
    if (!list_ok)
        rc = CURLE_OUT_OF_MEMORY;
    if (rc != CURLE_OK) {
        herr_set(err, "bad_option", false, "could not set up the request for %s: %s",
                 opts->url, curl_easy_strerror(rc));
        curl_easy_cleanup(e);
        curl_slist_free_all(hl);
        free(t);
        return NULL;
    }
    t->stall_s = opts->stall_timeout_s > 0 ? opts->stall_timeout_s : 30;
    t->seen_at = mono_now();
    t->watchdog = event_new(eng->base, -1, EV_PERSIST, on_watchdog, t);
    struct timeval every = {0, t->stall_s < 4 ? 250000 : 0};
    if (t->stall_s >= 4)
        every.tv_sec = 1;
    if (!t->watchdog || event_add(t->watchdog, &every) != 0)
        rc = CURLE_OUT_OF_MEMORY;
    if (rc != CURLE_OK) {
        herr_set(err, "out_of_memory", true, "could not start %s", opts->url);
        if (t->watchdog)
            event_free(t->watchdog);
        curl_easy_cleanup(e);
        curl_slist_free_all(hl);
        free(t);
        return NULL;
    }
    t->next = eng->head;
    if (eng->head)
        eng->head->prev = t;
    eng->head = t;
    eng->active++;
    CURLMcode mc = curl_multi_add_handle(eng->multi, e);
    if (mc != CURLM_OK) {
        herr_set(err, "engine_failed", true, "could not start %s: %s", opts->url,
                 curl_multi_strerror(mc));
        transfer_free(t);
        return NULL;
    }
    return t;
}

void transfer_abort(transfer_t *t)
{
    if (!t)
        return;
    curl_multi_remove_handle(t->eng->multi, t->easy);
    transfer_free(t);
}
