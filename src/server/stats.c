/* stats: /api/stats (JSON), /metrics (Prometheus text) and /healthz. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>

#include "server/internal.h"

json_t *stats_json(server_t *srv)
{
    sched_stats_t st;
    sched_stats(srv->sched, &st);
    json_t *jobs = json_object();
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        json_object_set_new(jobs, job_state_name((job_state_t)s),
                            json_integer((json_int_t)st.count[s]));
    json_object_set_new(jobs, "total", json_integer((json_int_t)st.total));
    json_t *guard = json_pack("{s:I, s:b}", "min_free_bytes", (json_int_t)st.min_free, "holding",
                              st.disk_low);
    json_t *o = json_pack("{s:s, s:o, s:I, s:i, s:I, s:I, s:I, s:s, s:I, s:I}",
                     "version", HAUL_VERSION, "jobs", jobs,
                     "active", (json_int_t)st.count[JOB_RUNNING], "max_active", st.max_active,
                     "speed_bps", (json_int_t)(st.speed_bps + 0.5),
                     "bytes_downloaded", (json_int_t)st.bytes_downloaded,
                     "disk_free_bytes", (json_int_t)st.disk_free,
                     "download_dir", sched_dir(srv->sched),
                     "uptime_s", (json_int_t)((job_now_ms() - srv->started_ms) / 1000),
                     "event_clients", (json_int_t)events_clients(srv->events));
    json_object_set_new(o, "disk_guard", guard);
    return o;
}

void stats_serve(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    reply_json(req, 200, stats_json(srv));
}

void stats_metrics(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    sched_stats_t st;
    sched_stats(srv->sched, &st);
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "Out of memory");
        return;
    }
    evbuffer_add_printf(b, "# HELP haul_jobs Jobs by state.\n# TYPE haul_jobs gauge\n");
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        evbuffer_add_printf(b, "haul_jobs{state=\"%s\"} %zu\n", job_state_name((job_state_t)s),
                            st.count[s]);
    evbuffer_add_printf(b,
        "# HELP haul_active_max Jobs that may run at once.\n# TYPE haul_active_max gauge\n"
        "haul_active_max %d\n"
        "# HELP haul_speed_bytes_per_second Total download speed.\n"
        "# TYPE haul_speed_bytes_per_second gauge\nhaul_speed_bytes_per_second %.0f\n"
        "# HELP haul_downloaded_bytes_total Bytes downloaded since start.\n"
        "# TYPE haul_downloaded_bytes_total counter\nhaul_downloaded_bytes_total %lld\n"
        "# HELP haul_disk_free_bytes Free space in the download folder.\n"
        "# TYPE haul_disk_free_bytes gauge\nhaul_disk_free_bytes %lld\n"
        "# HELP haul_disk_guard_holding 1 while the disk guard holds the queue.\n"
        "# TYPE haul_disk_guard_holding gauge\nhaul_disk_guard_holding %d\n"
        "# HELP haul_http_requests_total API requests answered.\n"
        "# TYPE haul_http_requests_total counter\nhaul_http_requests_total %llu\n"
        "# HELP haul_event_clients Connected event-stream clients.\n"
        "# TYPE haul_event_clients gauge\nhaul_event_clients %zu\n"
        "# HELP haul_uptime_seconds Seconds since the daemon started.\n"
        "# TYPE haul_uptime_seconds gauge\nhaul_uptime_seconds %lld\n",
        st.max_active, st.speed_bps, (long long)st.bytes_downloaded,
        (long long)st.disk_free, st.disk_low,
        (unsigned long long)srv->requests,
        events_clients(srv->events), (long long)((job_now_ms() - srv->started_ms) / 1000));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

void stats_healthz(server_t *srv, struct evhttp_request *req, const char *id)
{
    (void)id;
    reply_json(req, srv->stopping ? 503 : 200,
               json_pack("{s:b, s:s}", "ok", !srv->stopping, "version", HAUL_VERSION));
}
