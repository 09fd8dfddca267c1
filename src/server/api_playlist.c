/* api_playlist: POST /api/jobs with "playlist": true. The URL is handed to
 * `yt-dlp -J --flat-playlist` (a child process, the loop goes on); when it
 * answers, one job is created per entry, with the request's other
 * options, and the reply lists them. A URL that is one video gets one job.
 * The request is held until then; a client that goes away kills yt-dlp,
 * and so does the daemon stopping. */
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/proc.h"
#include "engine/resolve.h"
#include "server/internal.h"
#include "server/job_json.h"

struct playlist_req {
    server_t *srv;
    struct evhttp_request *req;
    json_t *body;             /* the request, without "playlist" */
    char *url;
    proc_t *proc;
    struct playlist_req *next;
};

static void unlink_pending(server_t *srv, struct playlist_req *p)
{
    for (struct playlist_req **pp = &srv->playlists; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

static void free_req(struct playlist_req *p)
{
    json_decref(p->body);
    free(p->url);
    free(p);
}

static void on_client_gone(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    struct playlist_req *p = arg;
    proc_kill(p->proc);
    unlink_pending(p->srv, p);
    free_req(p);
}

/* Creates one job from the request's options with url (and title).
 * Returns its JSON, or NULL with err set. */
static json_t *add_one(server_t *srv, json_t *body, const char *url, const char *title,
                       haul_error_t *err)
{
    json_object_set_new(body, "url", json_string(url));
    const char *field;
    job_t *j = job_from_request(body, &field, err);
    if (!j)
        return NULL;
    if (title && title[0])
        job_set_str(&j->title, title);
    if (sched_add(srv->sched, j, err) != 0)
        return NULL;
    return job_to_json(j);
}

static void on_resolved(void *ud, int status, const char *out, size_t out_len,
                        const char *err_tail)
{
    struct playlist_req *p = ud;
    server_t *srv = p->srv;
    struct evhttp_request *req = p->req;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    unlink_pending(srv, p);
    haul_error_t err;
    herr_clear(&err);
    resolved_entry_t *entries = NULL;
    size_t n = 0;
    char *title = NULL;
    int single = 0;
    if (resolve_check_run(status, out_len, err_tail, p->url, &err) != 0 ||
        resolve_entries(out ? out : "", out_len, &entries, &n, &title, &single, &err) != 0) {
        reply_error(req, 422, err.code, "url", "%s", err.message);
        free(title);
        free_req(p);
        return;
    }
    json_t *jobs = json_array();
    json_t *one = NULL;
    if (single) {
        one = add_one(srv, p->body, p->url, NULL, &err);
        if (one)
            json_array_append_new(jobs, one);
    }
    for (size_t i = 0; i < n && !herr_isset(&err); i++) {
        one = add_one(srv, p->body, entries[i].url, entries[i].title, &err);
        if (one)
            json_array_append_new(jobs, one);
    }
    if (herr_isset(&err) && json_array_size(jobs) == 0) {
        reply_herr(req, &err);
        json_decref(jobs);
    } else {
        /* entries added before a failure stay: say how many */
        reply_json(req, 201,
                   json_pack("{s:o, s:s?, s:I, s:s?}", "jobs", jobs, "title", title, "count",
                             (json_int_t)json_array_size(jobs), "error",
                             herr_isset(&err) ? err.message : NULL));
    }
    resolved_entries_free(entries, n);
    free(title);
    free_req(p);
}

void api_playlist_create(server_t *srv, struct evhttp_request *req, json_t *body)
{
    /* the options are checked now, with the URL, before yt-dlp runs */
    const char *field;
    haul_error_t err;
    job_t *check = job_from_request(body, &field, &err);
    if (!check) {
        reply_error(req, 422, err.code, field, "%s", err.message);
        json_decref(body);
        return;
    }
    struct playlist_req *p = calloc(1, sizeof *p);
    if (!p || !(p->url = strdup(check->url)))
        abort();
    job_free(check);
    p->srv = srv;
    p->req = req;
    p->body = body;
    const char *argv[] = {"yt-dlp", "-J", "--flat-playlist", "--yes-playlist", "--no-warnings",
                          "--", p->url, NULL};
    p->proc = proc_start(srv->base, argv, RESOLVE_MAX_JSON, on_resolved, p, &err);
    if (!p->proc) {
        if (strcmp(err.code, "tool_missing") == 0)
            reply_error(req, 422, "ytdlp_missing", "playlist",
                        "playlist: haul reads playlists with yt-dlp, which is not installed: "
                        "install it (apt-get install yt-dlp)");
        else
            reply_herr(req, &err);
        free_req(p);
        return;
    }
    p->next = srv->playlists;
    srv->playlists = p;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_client_gone, p);
}

void api_playlist_cancel_all(server_t *srv)
{
    while (srv->playlists) {
        struct playlist_req *p = srv->playlists;
        srv->playlists = p->next;
        proc_kill(p->proc);
        evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
        reply_error(p->req, 503, "shutting_down", NULL, "the daemon is stopping");
        free_req(p);
    }
}
