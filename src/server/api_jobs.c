/* api_jobs: /api/jobs — create, list, get, actions, delete, bulk, clean,
 * history. Each handler validates everything before it changes anything. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/job_json.h"
#include "util/units.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000
#define BULK_MAX_IDS 100000

static job_t *find_or_404(server_t *srv, struct evhttp_request *req, const char *id)
{
    job_t *j = id_valid(id) ? sched_find(srv->sched, id) : NULL;
    if (!j)
        reply_error(req, 404, "not_found", NULL, "no job %s ('haul ls' lists them)", id);
    return j;
}

static json_t *job_json_live(server_t *srv, job_t *j)
{
    sched_refresh(srv->sched, j);
    return job_to_json(j);
}

void api_jobs_create(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    json_t *body = read_json(req, 0);
    if (!body)
        return;
    json_t *pl = json_object_get(body, "playlist");
    if (pl) {
        if (!json_is_boolean(pl)) {
            reply_error(req, 422, "invalid_field", "playlist",
                        "playlist: must be true or false");
            json_decref(body);
            return;
        }
        int want = json_is_true(pl);
        json_object_del(body, "playlist");
        if (want) {
            api_playlist_create(srv, req, body); /* takes body */
            return;
        }
    }
    const char *field;
    haul_error_t err;
    job_t *j = job_from_request(body, &field, &err);
    if (!j) {
        reply_error(req, 422, err.code, field, "%s", err.message);
        json_decref(body);
        return;
    }
    json_decref(body);
    if (sched_add(srv->sched, j, &err) != 0) {
        reply_herr(req, &err);
        return;
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/api/jobs/%s", j->id);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
    reply_json(req, 201, job_to_json(j));
}

/* "queued,running" -> a bit per state; -1 after answering 400. */
static int parse_states(struct evhttp_request *req, const char *list, unsigned *mask)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int st = job_state_parse(t);
        if (st < 0) {
            reply_error(req, 400, "bad_request", "state",
                        "state: unknown state \"%s\"; use queued, running, paused, done, "
                        "failed or canceled", t);
            return -1;
        }
        *mask |= 1u << st;
    }
    return 0;
}

void api_jobs_list(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    char v[256];
    unsigned mask = (1u << JOB_STATE_COUNT) - 1;
    if (query_param(req, "state", v, sizeof v) && v[0] && parse_states(req, v, &mask) != 0)
        return;
    long limit = LIST_DEFAULT;
    if (query_param(req, "limit", v, sizeof v) &&
        (parse_long(v, &limit) != 0 || limit < 1 || limit > LIST_MAX)) {
        reply_error(req, 400, "bad_request", "limit", "limit: must be an integer from 1 to %d",
                    LIST_MAX);
        return;
    }
    size_t n = sched_count(srv->sched), start = n;
    long cursor;
    if (query_param(req, "cursor", v, sizeof v) && v[0]) {
        if (parse_long(v, &cursor) != 0 || cursor < 0) {
            reply_error(req, 400, "bad_request", "cursor",
                        "cursor: use the next_cursor of the previous page");
            return;
        }
        start = sched_index_of_seq(srv->sched, cursor);
    }
    sched_stats_t st;
    sched_stats(srv->sched, &st);
    size_t total = 0;
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        if (mask & (1u << s))
            total += st.count[s];
    /* the page is assembled from each job's JSON text, made once per
     * change: a page of 100 jobs at rest costs no JSON encoding */
    struct evbuffer *page = evbuffer_new();
    if (!page) {
        reply_error(req, 500, "out_of_memory", NULL, "out of memory");
        return;
    }
    evbuffer_add_printf(page, "{\"jobs\":[");
    long got = 0;
    int64_t next = -1, last_seq = 0;
    for (size_t i = start; i-- > 0;) {
        job_t *j = sched_job_at(srv->sched, i);
        if (!(mask & (1u << j->state)))
            continue;
        if (got == limit) { /* one more exists: there is a next page */
            next = last_seq;
            break;
        }
        sched_refresh(srv->sched, j);
        const char *text = job_json_text(j);
        if (!text) {
            evbuffer_free(page);
            reply_error(req, 500, "out_of_memory", NULL, "out of memory");
            return;
        }
        if (got)
            evbuffer_add(page, ",", 1);
        evbuffer_add(page, text, strlen(text));
        last_seq = j->seq;
        got++;
    }
    if (next >= 0)
        evbuffer_add_printf(page, "],\"next_cursor\":\"%lld\",\"total\":%zu}\n",
                            (long long)next, total);
    else
        evbuffer_add_printf(page, "],\"next_cursor\":null,\"total\":%zu}\n", total);
    reply_json_buffer(req, 200, page);
    evbuffer_free(page);
}

void api_jobs_get(server_t *srv, struct evhttp_request *req, const char *id)
{
    job_t *j = find_or_404(srv, req, id);
    if (!j)
        return;
    if (!j->json || j->state == JOB_RUNNING) {
        /* one job is cheap to encode: only list pages fill the cache, so
         * random reads of 10,000 jobs do not hold 10,000 texts */
        reply_json(req, 200, job_json_live(srv, j));
        return;
    }
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        reply_error(req, 500, "out_of_memory", NULL, "out of memory");
        return;
    }
    evbuffer_add_printf(buf, "%s\n", j->json);
    reply_json_buffer(req, 200, buf);
    evbuffer_free(buf);
}

void api_jobs_action(server_t *srv, struct evhttp_request *req, const char *id)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *name = strrchr(path, '/');
    int a = name ? job_action_parse(name + 1) : -1;
    job_t *j = find_or_404(srv, req, id);
    if (!j)
        return;
    if (a < 0) {
        reply_error(req, 404, "not_found", NULL, "no such action");
        return;
    }
    haul_error_t err;
    if (sched_act(srv->sched, j, (job_action_t)a, &err) != 0) {
        reply_herr(req, &err);
        return;
    }
    reply_json(req, 200, job_json_live(srv, j));
}

static int truthy(const char *v)
{
    return strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0;
}

void api_jobs_delete(server_t *srv, struct evhttp_request *req, const char *id)
{
    job_t *j = find_or_404(srv, req, id);
    if (!j)
        return;
    char v[16], jid[ID_LEN + 1];
    int del = query_param(req, "delete_file", v, sizeof v) && truthy(v);
    int deleted = 0;
    haul_error_t err;
    memcpy(jid, j->id, sizeof jid);
    if (sched_remove(srv->sched, j, del, &deleted, &err) != 0) {
        reply_herr(req, &err);
        return;
    }
    reply_json(req, 200, json_pack("{s:s, s:b, s:b}", "id", jid, "deleted", 1,
                                   "file_deleted", deleted));
}

/* ---- bulk and clean ------------------------------------------------------- */

/* Checks that body has only the known keys; answers 422 otherwise. */
static int only_fields(struct evhttp_request *req, json_t *body, const char *const *known,
                       const char *list)
{
    if (!json_is_object(body)) {
        reply_error(req, 422, "invalid_field", "body", "body: must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(key, *k) == 0;
        if (!ok) {
            reply_error(req, 422, "invalid_field", key,
                        "%s: unknown field; the known fields are %s", key, list);
            return -1;
        }
    }
    return 0;
}

/* A JSON array of state names -> mask; answers 422 on anything else. */
static int states_field(struct evhttp_request *req, json_t *arr, unsigned allowed,
                        unsigned *mask)
{
    *mask = 0;
    size_t i;
    json_t *v;
    if (!json_is_array(arr))
        goto bad;
    json_array_foreach(arr, i, v) {
        int st = json_is_string(v) ? job_state_parse(json_string_value(v)) : -1;
        if (st < 0 || !(allowed & (1u << st)))
            goto bad;
        *mask |= 1u << st;
    }
    return 0;
bad:;
    char names[128] = "";
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        if (allowed & (1u << s)) {
            strcat(names, names[0] ? ", " : "");
            strcat(names, job_state_name((job_state_t)s));
        }
    reply_error(req, 422, "invalid_field", "states",
                "states: must be an array of state names from %s", names);
    return -1;
}

static int bool_field(struct evhttp_request *req, json_t *body, const char *name, int *out)
{
    json_t *v = json_object_get(body, name);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        reply_error(req, 422, "invalid_field", name, "%s: must be true or false", name);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* Applies one bulk action to a job; 0 when it applied. */
static int apply(server_t *srv, job_t *j, int action, int delete_files)
{
    haul_error_t err;
    if (action < 0) {
        int deleted;
        return sched_remove(srv->sched, j, delete_files, &deleted, &err);
    }
    return sched_act(srv->sched, j, (job_action_t)action, &err);
}

/* The jobs whose state is in mask (borrowed pointers, caller frees the
 * array): taken before acting, since actions reorder nothing but remove. */
static job_t **select_jobs(server_t *srv, unsigned mask, size_t *n)
{
    size_t count = sched_count(srv->sched);
    job_t **sel = malloc((count ? count : 1) * sizeof *sel);
    if (!sel)
        abort();
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        job_t *j = sched_job_at(srv->sched, i);
        if (mask & (1u << j->state))
            sel[(*n)++] = j;
    }
    return sel;
}

void api_jobs_bulk(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    static const char *const KNOWN[] = {"action", "ids", "states", "delete_files", NULL};
    json_t *body = read_json(req, 0);
    if (!body)
        return;
    if (only_fields(req, body, KNOWN, "action, ids, states, delete_files") != 0)
        goto out;
    json_t *act = json_object_get(body, "action");
    const char *an = json_is_string(act) ? json_string_value(act) : "";
    int action = strcmp(an, "delete") == 0 ? -1 : job_action_parse(an);
    if (action < 0 && strcmp(an, "delete") != 0) {
        reply_error(req, 422, "invalid_field", "action",
                    "action: must be pause, resume, cancel, retry or delete");
        goto out;
    }
    int delete_files;
    if (bool_field(req, body, "delete_files", &delete_files) != 0)
        goto out;
    json_t *ids = json_object_get(body, "ids"), *states = json_object_get(body, "states");
    if (!ids == !states) {
        reply_error(req, 422, "invalid_field", "ids",
                    "ids: give either ids (an array of job ids) or states (an array of states)");
        goto out;
    }
    size_t affected = 0, skipped = 0;
    if (ids) {
        size_t i;
        json_t *v;
        if (!json_is_array(ids) || json_array_size(ids) > BULK_MAX_IDS) {
            reply_error(req, 422, "invalid_field", "ids", "ids: must be an array of job ids");
            goto out;
        }
        json_array_foreach(ids, i, v) {
            if (!json_is_string(v)) {
                reply_error(req, 422, "invalid_field", "ids", "ids: must be an array of job ids");
                goto out;
            }
        }
        json_array_foreach(ids, i, v) {
            const char *jid = json_string_value(v);
            job_t *j = id_valid(jid) ? sched_find(srv->sched, jid) : NULL;
            if (j && apply(srv, j, action, delete_files) == 0)
                affected++;
            else
                skipped++;
        }
    } else {
        unsigned mask;
        if (states_field(req, states, (1u << JOB_STATE_COUNT) - 1, &mask) != 0)
            goto out;
        size_t n;
        job_t **sel = select_jobs(srv, mask, &n);
        for (size_t i = 0; i < n; i++) {
            if (apply(srv, sel[i], action, delete_files) == 0)
                affected++;
            else
                skipped++;
        }
        free(sel);
    }
    reply_json(req, 200, json_pack("{s:I, s:I}", "affected", (json_int_t)affected,
                                   "skipped", (json_int_t)skipped));
out:
    json_decref(body);
}

void api_jobs_clean(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    static const char *const KNOWN[] = {"states", "older_than_s", "delete_files", NULL};
    const unsigned finals = (1u << JOB_DONE) | (1u << JOB_FAILED) | (1u << JOB_CANCELED);
    json_t *body = read_json(req, 1);
    if (!body)
        return;
    if (only_fields(req, body, KNOWN, "states, older_than_s, delete_files") != 0)
        goto out;
    unsigned mask = finals;
    json_t *states = json_object_get(body, "states");
    if (states && states_field(req, states, finals, &mask) != 0)
        goto out;
    json_t *older = json_object_get(body, "older_than_s");
    json_int_t older_s = 0;
    if (older) {
        if (!json_is_integer(older) || json_integer_value(older) < 0) {
            reply_error(req, 422, "invalid_field", "older_than_s",
                        "older_than_s: must be an integer number of seconds >= 0");
            goto out;
        }
        older_s = json_integer_value(older);
    }
    int delete_files;
    if (bool_field(req, body, "delete_files", &delete_files) != 0)
        goto out;
    int64_t before = job_now_ms() - (int64_t)older_s * 1000;
    size_t n, removed = 0;
    job_t **sel = select_jobs(srv, mask, &n);
    for (size_t i = 0; i < n; i++) {
        int64_t at = sel[i]->finished_at ? sel[i]->finished_at : sel[i]->updated_at;
        if (at <= before && apply(srv, sel[i], -1, delete_files) == 0)
            removed++;
    }
    free(sel);
    reply_json(req, 200, json_pack("{s:I}", "removed", (json_int_t)removed));
out:
    json_decref(body);
}

/* ---- history ------------------------------------------------------------ */

static int add_event(void *ud, const job_event_t *ev)
{
    json_t *arr = ud;
    json_array_append_new(
        arr, json_pack("{s:o, s:s, s:o, s:o, s:s}", "at", json_time(ev->at), "type", ev->type,
                       "from", ev->from >= 0 ? json_string(job_state_name(ev->from)) : json_null(),
                       "to", ev->to >= 0 ? json_string(job_state_name(ev->to)) : json_null(),
                       "message", ev->message ? ev->message : ""));
    return 0;
}

void api_jobs_history(server_t *srv, struct evhttp_request *req, const char *id)
{
    job_t *j = find_or_404(srv, req, id);
    if (!j)
        return;
    json_t *arr = json_array();
    haul_error_t err;
    if (store_load_events(srv->store, j->id, 0, add_event, arr, &err) != 0) {
        json_decref(arr);
        reply_herr(req, &err);
        return;
    }
    reply_json(req, 200, json_pack("{s:o}", "events", arr));
}
