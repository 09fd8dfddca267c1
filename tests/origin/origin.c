/* haul-origin: a test HTTP origin with fault injection, on libevent's evhttp.
 *
 * It serves deterministic content of any size with Range, ETag and
 * Last-Modified, breaks in the ways real servers break when a query
 * parameter asks it to, and logs every request with the bytes it sent, so
 * tests can prove what was (and was not) fetched. With --root it also serves
 * the files of a directory (HLS test media) through the same machinery.
 * tests/origin/README.md documents the interface. Loopback only. */
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1024 * 1024) /* body bytes generated and queued at a time */
#define MAX_PARAMS 32
#define MAX_CUTS 8

static struct event_base *base;
static FILE *logf_;
static const char *root; /* --root: the directory /files/ serves, or NULL */

/* ---- content ------------------------------------------------------------ */

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O2")))
#endif
static inline uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* Fills out with the resource's bytes [off, off+len): byte i is byte i%8
 * (little-endian) of splitmix64(i/8 ^ key). Whole words are stored at
 * once; it is kept optimized even in -O0 sanitizer builds, because tests
 * stream gigabytes through it. */
#if defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((optimize("O2"), no_sanitize_address, no_sanitize_undefined))
#else
#define HOT
#endif
HOT static void content(uint64_t seed, unsigned version, uint64_t off, unsigned char *out,
                        size_t len)
{
    uint64_t key = seed * 0x2545F4914F6CDD1DULL ^ (uint64_t)version * 0x9E3779B97F4A7C15ULL;
    size_t i = 0;
    while (i < len && (off + i) % 8) { /* up to the first word boundary */
        uint64_t pos = off + i;
        out[i++] = (unsigned char)(splitmix64((pos / 8) ^ key) >> (8 * (pos % 8)));
    }
    uint64_t word = (off + i) / 8;
    for (; i + 8 <= len; i += 8, word++) {
        uint64_t w = splitmix64(word ^ key);
        unsigned char b[8] = {(unsigned char)w,         (unsigned char)(w >> 8),
                              (unsigned char)(w >> 16), (unsigned char)(w >> 24),
                              (unsigned char)(w >> 32), (unsigned char)(w >> 40),
                              (unsigned char)(w >> 48), (unsigned char)(w >> 56)};
        memcpy(out + i, b, 8);
    }
    if (i < len) {
        uint64_t w = splitmix64(word ^ key);
        for (unsigned k = 0; i < len; k++, i++)
            out[i] = (unsigned char)(w >> (8 * k));
    }
}

/* ---- per-URL request counters (fail=, change_after=) --------------------- */

typedef struct counter {
    char *key;
    unsigned count;
    struct counter *next;
} counter_t;
static counter_t *counters;

static unsigned count_request(const char *key)
{
    for (counter_t *c = counters; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return ++c->count;
    counter_t *c = calloc(1, sizeof *c);
    if (!c || !(c->key = strdup(key))) {
        free(c);
        return 1;
    }
    c->count = 1;
    c->next = counters;
    counters = c;
    return 1;
}

/* ---- one streamed response ---------------------------------------------- */

typedef struct stream {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    char *method, *uri;
    int status;
    int fd;                      /* body source: a file's bytes, or -1: content() */
    uint64_t seed;
    unsigned version;
    uint64_t pos, end;           /* next byte to send, one past the last */
    uint64_t first;              /* first byte of the body */
    uint64_t sent;               /* bytes flushed to the socket */
    uint64_t queued;             /* bytes handed to evhttp */
    uint64_t cuts[MAX_CUTS];
    int ncuts;
    int64_t stall;               /* stop after this many body bytes, -1 none */
    uint64_t rate;               /* bytes/s, 0 = unlimited */
    struct timespec started;
    struct event *timer;
    int logged;
    int stalled;                 /* watching for the client to leave */
    int cutting;                 /* the timer closes the connection */
    struct stream *prev, *next;  /* live streams, freed at exit */
} stream_t;

static stream_t *streams;

static void log_line(const char *method, const char *uri, int status, const char *first,
                     uint64_t sent, int complete)
{
    if (!logf_)
        return;
    fprintf(logf_, "%s %s %d %s %" PRIu64 " %d\n", method, uri, status, first, sent, complete);
    fflush(logf_);
}

static void stream_log(stream_t *s, int complete)
{
    if (s->logged)
        return;
    s->logged = 1;
    char first[32];
    snprintf(first, sizeof first, "%" PRIu64, s->first);
    log_line(s->method, s->uri, s->status, first, s->sent, complete);
}

static void stream_free(stream_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (streams == s)
        streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->timer)
        event_free(s->timer);
    if (s->fd >= 0)
        close(s->fd);
    free(s->method);
    free(s->uri);
    free(s);
}

/* The client went away (or we closed): log what was sent, forget it. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    stream_t *s = arg;
    /* what is still in the output buffer never reached the kernel */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    size_t left = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
    s->sent = s->queued > left ? s->queued - left : 0;
    stream_log(s, 0);
    /* a network failure detaches a request whose reply is unfinished from
     * its connection (libevent's evhttp_connection_incoming_fail): then it
     * is ours to free; otherwise the connection frees it */
    if (evhttp_request_get_connection(s->req) == NULL)
        evhttp_request_free(s->req);
    stream_free(s);
}

/* Closes the connection (everything queued is in the kernel by now, and a
 * close sends it before the FIN): the client sees the body end early. Done
 * from the timer, outside evhttp's own callbacks. */
static void cut_connection(stream_t *s)
{
    s->cutting = 1;
    event_active(s->timer, EV_TIMEOUT, 0);
}

/* True when the client has closed its side (evhttp only notices when it
 * next reads or writes). */
static int client_gone(struct evhttp_connection *evcon)
{
    char byte;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static double elapsed(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void send_more(stream_t *s);

static void on_chunk_flushed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    stream_t *s = arg;
    s->sent = s->queued;
    send_more(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_t *s = arg;
    if (s->cutting) {
        evhttp_connection_free(s->evcon); /* runs on_conn_close, frees s */
        return;
    }
    if (!s->stalled) {
        send_more(s);
        return;
    }
    /* stalled: nothing is written, so evhttp cannot see the client leave;
     * look ourselves, and drop the connection when it is gone */
    if (client_gone(s->evcon)) {
        evhttp_connection_free(s->evcon); /* runs on_conn_close */
        return;
    }
    struct timeval tv = {0, 100000};
    evtimer_add(s->timer, &tv);
}

/* Where the body must stop before pos reaches end: a cut, or the stall. */
static uint64_t next_stop(const stream_t *s, int *kind)
{
    uint64_t stop = s->end;
    *kind = 0;
    for (int i = 0; i < s->ncuts; i++)
        if (s->cuts[i] > s->first && s->cuts[i] >= s->pos && s->cuts[i] < stop) {
            stop = s->cuts[i];
            *kind = 1;
        }
    if (s->stall >= 0 && s->first + (uint64_t)s->stall < stop &&
        s->first + (uint64_t)s->stall >= s->pos) {
        stop = s->first + (uint64_t)s->stall;
        *kind = 2;
    }
    return stop;
}

/* Body blocks are recycled, not freed: fresh memory for every block costs
 * page faults (and, under ASan, quarantine) that halve the throughput. A
 * block is lent to the output evbuffer by reference and comes back when
 * it has been written. */
static void *pool;

static void *block_get(void)
{
    void *b = pool;
    if (!b)
        return malloc(BLOCK);
    memcpy(&pool, b, sizeof pool);
    return b;
}

static void block_put(const void *data, size_t len, void *block)
{
    (void)data;
    (void)len;
    memcpy(block, &pool, sizeof pool);
    pool = block;
}

static void pool_free(void)
{
    while (pool) {
        void *b = pool;
        memcpy(&pool, b, sizeof pool);
        free(b);
    }
}

/* The body source: the bytes [off, off+len) of the file, or of the
 * generated content. -1 when the file cannot be read (or has shrunk). */
static int body_read(const stream_t *s, uint64_t off, unsigned char *out, size_t len)
{
    if (s->fd < 0) {
        content(s->seed, s->version, off, out, len);
        return 0;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(s->fd, out + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static void send_more(stream_t *s)
{
    int kind;
    uint64_t stop = next_stop(s, &kind);
    if (s->pos >= stop) {
        if (kind == 1) { /* cut: close now that everything before it is out */
            cut_connection(s);
            return;
        }
        if (kind == 2 && !s->stalled) { /* stall: send nothing more, keep the connection */
            s->stalled = 1;
            struct timeval tv = {0, 100000};
            evtimer_add(s->timer, &tv);
        }
        if (kind == 2)
            return;
        /* the whole body is out */
        stream_log(s, 1);
        evhttp_connection_set_closecb(s->evcon, NULL, NULL);
        /* with "Connection: close" (cl=) evhttp closes after the flush */
        evhttp_send_reply_end(s->req);
        stream_free(s);
        return;
    }
    uint64_t n = stop - s->pos;
    if (n > BLOCK)
        n = BLOCK;
    if (s->rate) {
        uint64_t slice = s->rate / 20 + 1;
        if (n > slice)
            n = slice;
        double due = (double)s->queued / (double)s->rate - elapsed(&s->started);
        if (due > 0.0005) {
            struct timeval tv = {(time_t)due, (suseconds_t)((due - (double)(time_t)due) * 1e6)};
            evtimer_add(s->timer, &tv);
            return;
        }
    }
    struct evbuffer *buf = evbuffer_new();
    void *block = block_get();
    if (!buf || !block) {
        evbuffer_free(buf);
        free(block);
        cut_connection(s);
        return;
    }
    if (body_read(s, s->pos, block, n) != 0) {
        evbuffer_free(buf);
        block_put(NULL, 0, block);
        cut_connection(s);
        return;
    }
    if (evbuffer_add_reference(buf, block, n, block_put, block) != 0) {
        evbuffer_free(buf);
        free(block);
        cut_connection(s);
        return;
    }
    s->pos += n;
    s->queued += n;
    evhttp_send_reply_chunk_with_cb(s->req, buf, on_chunk_flushed, s);
    evbuffer_free(buf);
}

/* ---- request handling --------------------------------------------------- */

typedef struct params {
    uint64_t size, seed, rate, cl;
    int has_cl;
    uint64_t cuts[MAX_CUTS];
    int ncuts;
    long change_after, fail, fail_status, retry_after, status, stall, delay_ms;
    long cut_times;
    int norange;
    const char *ctype, *cd, *require, *to;
} params_t;

/* The query, percent-decoded ("+" is a space). Tolerant, unlike
 * evhttp_parse_query_str, which drops every parameter when one lacks "=":
 * a bare "name" means name=1; empty parts are skipped. */
typedef struct query {
    int n;
    char *key[MAX_PARAMS], *val[MAX_PARAMS];
} query_t;

static void query_parse(query_t *q, const char *str)
{
    q->n = 0;
    while (str && *str && q->n < MAX_PARAMS) {
        size_t len = strcspn(str, "&");
        size_t klen = strcspn(str, "=&");
        if (len > 0) {
            char *k = strndup(str, klen);
            char *v = klen < len ? strndup(str + klen + 1, len - klen - 1) : strdup("1");
            char *dk = k ? evhttp_uridecode(k, 1, NULL) : NULL;
            char *dv = v ? evhttp_uridecode(v, 1, NULL) : NULL;
            free(k);
            free(v);
            if (dk && dv) {
                q->key[q->n] = dk;
                q->val[q->n++] = dv;
            } else {
                free(dk);
                free(dv);
            }
        }
        str += len;
        if (*str == '&')
            str++;
    }
}

static void query_free(query_t *q)
{
    for (int i = 0; i < q->n; i++) {
        free(q->key[i]);
        free(q->val[i]);
    }
    q->n = 0;
}

/* The first value of name, or NULL. */
static const char *qget(const query_t *q, const char *name)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], name) == 0)
            return q->val[i];
    return NULL;
}

static long qlong(const query_t *q, const char *name, long dflt)
{
    const char *v = qget(q, name);
    return v ? strtol(v, NULL, 10) : dflt;
}

static void parse_params(const query_t *q, params_t *p)
{
    const char *v;
    memset(p, 0, sizeof *p);
    p->size = (v = qget(q, "size")) ? strtoull(v, NULL, 10) : 1048576;
    p->seed = (v = qget(q, "seed")) ? strtoull(v, NULL, 10) : 0;
    p->rate = (v = qget(q, "rate")) ? strtoull(v, NULL, 10) : 0;
    if ((v = qget(q, "cl"))) {
        p->cl = strtoull(v, NULL, 10);
        p->has_cl = 1;
    }
    if ((v = qget(q, "cut"))) {
        const char *c = v;
        while (*c && p->ncuts < MAX_CUTS) {
            char *end;
            p->cuts[p->ncuts++] = strtoull(c, &end, 10);
            c = *end == ',' ? end + 1 : end + strlen(end);
        }
    }
    p->cut_times = qlong(q, "cut_times", -1);
    p->change_after = qlong(q, "change_after", -1);
    p->fail = qlong(q, "fail", 0);
    p->fail_status = qlong(q, "fail_status", 503);
    p->retry_after = qlong(q, "retry_after", 1);
    p->status = qlong(q, "status", 0);
    p->stall = qlong(q, "stall", -1);
    p->delay_ms = qlong(q, "delay_ms", 0);
    p->norange = qlong(q, "norange", 0) != 0;
    p->ctype = qget(q, "ctype");
    p->cd = qget(q, "cd");
    p->require = qget(q, "require");
    p->to = qget(q, "to");
}

/* True when the request carries the "Name: value" header p->require asks for. */
static int has_required_header(struct evhttp_request *req, const params_t *p)
{
    if (!p->require)
        return 1;
    const char *colon = strchr(p->require, ':');
    if (!colon)
        return 0;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - p->require), p->require);
    const char *want = colon + 1;
    while (*want == ' ')
        want++;
    const char *got = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    return got && strcmp(got, want) == 0;
}

static const char *method_name(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_HEAD: return "HEAD";
    default: return "OTHER";
    }
}

/* A short complete answer (errors, redirects). */
static void send_simple(struct evhttp_request *req, int status, const char *reason,
                        const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add_printf(b, "%s\n", body);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    log_line(method_name(req), evhttp_request_get_uri(req), status, "-", 0, 1);
    evhttp_send_reply(req, status, reason, b);
    if (b)
        evbuffer_free(b);
}

/* Parses a single "bytes=" range against size. Returns 1 satisfiable (sets
 * a, b inclusive), 0 unsatisfiable, -1 malformed/absent. */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return -1;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        uint64_t n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end)
            return -1;
        if (n == 0 || size == 0)
            return 0;
        *a = n >= size ? 0 : size - n;
        *b = size - 1;
        return 1;
    }
    uint64_t x = strtoull(p, &end, 10);
    if (end == p || *end != '-')
        return -1;
    p = end + 1;
    uint64_t y = size ? size - 1 : 0;
    if (*p) {
        y = strtoull(p, &end, 10);
        if (*end || y < x)
            return -1;
        if (y >= size)
            y = size - 1;
    }
    if (x >= size)
        return 0;
    *a = x;
    *b = y;
    return 1;
}

/* What a 200/206 answer serves: its size, validators and body source. */
typedef struct resource {
    uint64_t size;
    int fd;             /* the file whose bytes are the body, or -1: content() */
    uint64_t seed;      /* content() parameters when fd < 0 */
    unsigned version;
    char etag[96], lm[64];
    const char *ctype;  /* the Content-Type unless ctype= overrides it */
} resource_t;

static void http_date(time_t t, char *out, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Answers with the resource (headers, Range, If-Range, HEAD) and streams
 * its body with the faults of p. A stream takes r->fd (and sets it to -1);
 * otherwise it is still the caller's. */
static void answer_body(struct evhttp_request *req, const params_t *p, resource_t *r,
                        unsigned nth)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    char tmp[128];
    evhttp_add_header(out, "ETag", r->etag);
    evhttp_add_header(out, "Last-Modified", r->lm);
    evhttp_add_header(out, "Content-Type", p->ctype ? p->ctype : r->ctype);
    if (p->cd)
        evhttp_add_header(out, "Content-Disposition", p->cd);
    if (!p->norange)
        evhttp_add_header(out, "Accept-Ranges", "bytes");

    uint64_t a = 0, b = r->size ? r->size - 1 : 0;
    int status = 200;
    const char *range = p->norange ? NULL : evhttp_find_header(in, "Range");
    const char *if_range = evhttp_find_header(in, "If-Range");
    if (range && if_range && strcmp(if_range, r->etag) != 0 && strcmp(if_range, r->lm) != 0)
        range = NULL; /* the client's copy is stale: send everything */
    int rr = parse_range(range, r->size, &a, &b);
    if (rr == 0) {
        snprintf(tmp, sizeof tmp, "bytes */%" PRIu64, r->size);
        evhttp_add_header(out, "Content-Range", tmp);
        evhttp_add_header(out, "Content-Length", "0");
        log_line(method_name(req), evhttp_request_get_uri(req), 416, "-", 0, 1);
        evhttp_send_reply(req, 416, "Range Not Satisfiable", NULL);
        return;
    }
    if (rr == 1) {
        status = 206;
        snprintf(tmp, sizeof tmp, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, r->size);
        evhttp_add_header(out, "Content-Range", tmp);
    }
    uint64_t len = r->size ? b - a + 1 : 0;
    snprintf(tmp, sizeof tmp, "%" PRIu64, p->has_cl ? p->cl : len);
    evhttp_add_header(out, "Content-Length", tmp);
    if (p->has_cl && p->cl != len) /* the length lies: the body ends by a close */
        evhttp_add_header(out, "Connection", "close");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        log_line("HEAD", evhttp_request_get_uri(req), status, "-", 0, 1);
        evhttp_send_reply(req, status, status == 206 ? "Partial Content" : "OK", NULL);
        return;
    }
    stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    s->fd = r->fd;
    r->fd = -1;
    s->req = req;
    s->evcon = evhttp_request_get_connection(req);
    s->method = strdup("GET");
    s->uri = strdup(evhttp_request_get_uri(req));
    s->status = status;
    s->seed = r->seed;
    s->version = r->version;
    s->first = s->pos = a;
    s->end = a + len;
    s->ncuts = p->cut_times >= 0 && (long)nth > p->cut_times ? 0 : p->ncuts;
    memcpy(s->cuts, p->cuts, sizeof s->cuts);
    s->stall = p->stall;
    s->rate = p->rate;
    s->timer = evtimer_new(base, on_timer, s);
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    if (!s->method || !s->uri || !s->timer) {
        stream_free(s);
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    s->next = streams;
    if (streams)
        streams->prev = s;
    streams = s;
    evhttp_connection_set_closecb(s->evcon, on_conn_close, s);
    evhttp_send_reply_start(req, status, status == 206 ? "Partial Content" : "OK");
    send_more(s);
}

/* /data/: the generated content of p->size bytes. */
static void answer_data(struct evhttp_request *req, const params_t *p, unsigned version,
                        unsigned nth)
{
    resource_t r = {.size = p->size, .fd = -1, .seed = p->seed, .version = version,
                    .ctype = "application/octet-stream"};
    snprintf(r.etag, sizeof r.etag, "\"%" PRIu64 "-%" PRIu64 "-v%u\"", p->size, p->seed,
             version);
    /* 2026-01-01 plus version days */
    http_date(1767225600 + (time_t)version * 86400, r.lm, sizeof r.lm);
    answer_body(req, p, &r, nth);
}

/* The Content-Type of a file, by its extension. */
static const char *file_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".m3u8", "application/vnd.apple.mpegurl"},
        {".ts", "video/mp2t"},
        {".m4s", "video/mp4"},
        {".mp4", "video/mp4"},
        {".aac", "audio/aac"},
        {".key", "application/octet-stream"},
        {".html", "text/html; charset=utf-8"},
        {".json", "application/json"},
        {".vtt", "text/vtt"},
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* The file path for the percent-encoded rest of a /files/ path: NULL (and
 * *bad set) for an absolute path, a ".." segment, an empty name or a NUL;
 * NULL with *bad 0 when out of memory. The caller frees it. */
static char *file_path(const char *rest, int *bad)
{
    size_t n = 0;
    *bad = 0;
    char *rel = evhttp_uridecode(rest, 0, &n);
    if (!rel)
        return NULL;
    int ok = n > 0 && strlen(rel) == n && rel[0] != '/';
    for (const char *seg = rel; ok && *seg;) {
        size_t len = strcspn(seg, "/");
        if (len == 2 && seg[0] == '.' && seg[1] == '.')
            ok = 0;
        seg += len;
        if (*seg == '/')
            seg++;
    }
    char *path = NULL;
    if (!ok)
        *bad = 1;
    else if (asprintf(&path, "%s/%s", root, rel) < 0)
        path = NULL;
    free(rel);
    return path;
}

/* /files/<rest>: the file root/<rest>. */
static void answer_file(struct evhttp_request *req, const params_t *p, const char *rest,
                        unsigned nth)
{
    int bad;
    char *path = root ? file_path(rest, &bad) : NULL;
    if (!path) {
        if (root && bad)
            send_simple(req, 400, "Bad Request", "bad file path");
        else if (root)
            send_simple(req, 500, "Internal Server Error", "out of memory");
        else
            send_simple(req, 404, "Not Found", "no --root");
        return;
    }
    /* O_NONBLOCK: a FIFO must not block the loop (it is 404 below) */
    resource_t r = {.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), .ctype = file_type(path)};
    free(path);
    struct stat st;
    if (r.fd < 0 || fstat(r.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (r.fd >= 0)
            close(r.fd);
        send_simple(req, 404, "Not Found", "not found");
        return;
    }
    r.size = (uint64_t)st.st_size;
    snprintf(r.etag, sizeof r.etag, "\"%" PRIx64 "-%" PRIx64 "-%lx\"", r.size,
             (uint64_t)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    http_date(st.st_mtim.tv_sec, r.lm, sizeof r.lm);
    answer_body(req, p, &r, nth);
    if (r.fd >= 0) /* not streamed */
        close(r.fd);
}

/* A request waiting out delay_ms=. */
typedef struct delayed {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct event *ev;
    struct delayed *prev, *next; /* freed at exit */
} delayed_t;

static delayed_t *delays;

static void handle(struct evhttp_request *req, int delayed);

static void delayed_free(delayed_t *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else if (delays == d)
        delays = d->next;
    if (d->next)
        d->next->prev = d->prev;
    event_free(d->ev);
    free(d);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    delayed_t *d = arg;
    struct evhttp_request *req = d->req;
    if (client_gone(d->evcon)) {
        evhttp_connection_free(d->evcon); /* runs on_delay_close */
        return;
    }
    evhttp_connection_set_closecb(d->evcon, NULL, NULL);
    delayed_free(d);
    handle(req, 1);
}

/* The client left (or the server is stopping) during the delay. */
static void on_delay_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    delayed_t *d = arg;
    log_line(method_name(d->req), evhttp_request_get_uri(d->req), 0, "-", 0, 0);
    if (evhttp_request_get_connection(d->req) == NULL)
        evhttp_request_free(d->req);
    delayed_free(d);
}

static void handle(struct evhttp_request *req, int delayed)
{
    const char *uri = evhttp_request_get_uri(req);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    query_t q;
    query_parse(&q, query);
    params_t p;
    parse_params(&q, &p);

    if (!delayed && p.delay_ms > 0) {
        delayed_t *d = calloc(1, sizeof *d);
        if (d && (d->ev = evtimer_new(base, on_delay, d))) {
            d->req = req;
            d->evcon = evhttp_request_get_connection(req);
            d->next = delays;
            if (delays)
                delays->prev = d;
            delays = d;
            evhttp_connection_set_closecb(d->evcon, on_delay_close, d);
            struct timeval tv = {p.delay_ms / 1000, (p.delay_ms % 1000) * 1000};
            evtimer_add(d->ev, &tv);
            query_free(&q);
            return;
        }
        free(d);
    }
    if (!path)
        path = "/";
    if (strncmp(path, "/redirect/", 10) == 0) {
        char *end;
        long n = strtol(path + 10, &end, 10);
        const char *rest = *end == '/' ? end : "/";
        char loc[4096];
        if (n > 1)
            snprintf(loc, sizeof loc, "/redirect/%ld%s%s%s", n - 1, rest, query ? "?" : "",
                     query ? query : "");
        else
            snprintf(loc, sizeof loc, "%s%s%s", rest, query ? "?" : "", query ? query : "");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
        send_simple(req, 302, "Found", "redirect");
    } else if (strcmp(path, "/to") == 0 && p.to) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", p.to);
        send_simple(req, 302, "Found", "redirect");
    } else if (strcmp(path, "/loop") == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", uri);
        send_simple(req, 302, "Found", "loop");
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/data") == 0 ||
               strncmp(path, "/data/", 6) == 0 || strncmp(path, "/files/", 7) == 0) {
        /* the same faults for generated content and for files */
        unsigned n = count_request(uri);
        if (p.status) {
            send_simple(req, (int)p.status, "Injected", "injected status");
        } else if (!has_required_header(req, &p)) {
            send_simple(req, 403, "Forbidden", "a required header is missing");
        } else if ((long)n <= p.fail) {
            if (p.retry_after >= 0) {
                char ra[32];
                snprintf(ra, sizeof ra, "%ld", p.retry_after);
                evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
            }
            send_simple(req, (int)p.fail_status, "Injected Failure", "try again later");
        } else if (path[1] == 'f') {
            answer_file(req, &p, path + 7, n);
        } else {
            unsigned version = p.change_after >= 0 && (long)n > p.change_after ? 1 : 0;
            answer_data(req, &p, version, n);
        }
    } else {
        send_simple(req, 404, "Not Found", "not found");
    }
    query_free(&q);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    handle(req, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

static int generate(uint64_t size, uint64_t seed, unsigned version)
{
    static unsigned char buf[BLOCK];
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < BLOCK ? (size_t)(size - off) : BLOCK;
        content(seed, version, off, buf, n);
        if (fwrite(buf, 1, n, stdout) != n)
            return 1;
        off += n;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *port_file = NULL, *log_path = NULL;
    int gen = 0;
    uint64_t gen_size = 0, gen_seed = 0;
    unsigned gen_version = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v) port = atoi(argv[++i]);
        else if (!strcmp(a, "--port-file") && v) port_file = argv[++i];
        else if (!strcmp(a, "--log") && v) log_path = argv[++i];
        else if (!strcmp(a, "--root") && v) root = argv[++i];
        else if (!strcmp(a, "--generate") && v) { gen = 1; gen_size = strtoull(argv[++i], NULL, 10); }
        else if (!strcmp(a, "--seed") && v) gen_seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--version") && v) gen_version = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: haul-origin [--port P] [--port-file F] [--log F] [--root DIR]\n"
                            "       haul-origin --generate SIZE [--seed S] [--version V]\n");
            return 2;
        }
    }
    if (gen)
        return generate(gen_size, gen_seed, gen_version);

    struct stat rst;
    if (root && (stat(root, &rst) != 0 || !S_ISDIR(rst.st_mode))) {
        fprintf(stderr, "haul-origin: --root %s: not a directory\n", root);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (log_path && !(logf_ = fopen(log_path, "a"))) {
        perror(log_path);
        return 1;
    }
    base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http) {
        fprintf(stderr, "haul-origin: cannot set up libevent\n");
        return 1;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(http, 3600); /* a stall= holds its connection open */
    evhttp_set_gencb(http, on_request, NULL);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port);
    if (!sock) {
        fprintf(stderr, "haul-origin: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sin, &slen);
    port = ntohs(sin.sin_port);
    if (port_file && write_port_file(port_file, port) != 0) {
        perror(port_file);
        return 1;
    }
    fprintf(stderr, "haul-origin listening on 127.0.0.1:%d\n", port);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, NULL);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    event_base_dispatch(base);
    event_free(sigint);
    event_free(sigterm);
    /* connections in the middle of a body or of a delay: their close
     * callbacks log and free our state */
    while (streams) {
        stream_t *s = streams;
        evhttp_connection_free(s->evcon);
        if (streams == s) /* the callback did not run */
            stream_free(s);
    }
    while (delays) {
        delayed_t *d = delays;
        evhttp_connection_free(d->evcon);
        if (delays == d)
            delayed_free(d);
    }
    evhttp_free(http);
    event_base_free(base);
    pool_free();
    while (counters) {
        counter_t *c = counters;
        counters = c->next;
        free(c->key);
        free(c);
    }
    if (logf_)
        fclose(logf_);
    return 0;
}
