/* Engine tests: direct_t driven in-process on a real event loop against
 * the test origin ($ORIGIN, started by tests/e2e/t_engine.sh, which also
 * passes its request log as $ORIGIN_LOG). They prove the engine contract:
 * pause, resume and cancel work at any moment, and when pause or cancel
 * returns, no request is in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/direct.h"
#include "util/fs.h"

static const char *origin, *origin_log;
static char root[256];

typedef struct run {
    struct event_base *base;
    engine_t *eng;
    direct_t *dl;
    direct_state_t last;
    int64_t act_at;          /* bytes at which to act, -1 never */
    void (*act)(struct run *);
    int acted;
    int cancel_when_finishing;
    struct event *tick;
    char url[512], dir[300], work[340];
} run_t;

static void on_state(void *ud, direct_state_t st, const haul_error_t *err)
{
    run_t *r = ud;
    (void)err;
    r->last = st;
    if (st == DIRECT_FINALIZING && r->cancel_when_finishing) {
        direct_cancel(r->dl); /* must not wait for the helper thread */
        r->acted = 1;
        event_base_loopexit(r->base, NULL);
    }
    if (st == DIRECT_DONE || st == DIRECT_FAILED)
        event_base_loopexit(r->base, NULL);
}

/* Polls progress every 2 ms and acts once the threshold is crossed. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_t *r = arg;
    direct_status_t st;
    direct_status(r->dl, &st);
    if (!r->acted && r->act && r->act_at >= 0 && st.bytes_done >= r->act_at) {
        r->acted = 1;
        r->act(r);
    }
}

static void run_init(run_t *r, const char *name, const char *query)
{
    memset(r, 0, sizeof *r);
    snprintf(r->url, sizeof r->url, "%s/data/%s?%s", origin, name, query);
    snprintf(r->dir, sizeof r->dir, "%s/%s", root, name);
    snprintf(r->work, sizeof r->work, "%s/.haul-tmp/w", r->dir);
    r->base = event_base_new();
    assert_non_null(r->base);
    r->eng = engine_new(r->base);
    assert_non_null(r->eng);
    direct_opts_t o = {.url = r->url, .dir = r->dir, .work_dir = r->work};
    direct_cbs_t cbs = {on_state, NULL, NULL};
    haul_error_t err;
    r->dl = direct_new(r->eng, r->base, &o, &cbs, r, &err);
    assert_non_null(r->dl);
    r->act_at = -1;
    r->tick = event_new(r->base, -1, EV_PERSIST, on_tick, r);
    struct timeval tv = {0, 2000};
    event_add(r->tick, &tv);
}

/* Starts the download and runs the loop until act has run at `at` bytes. */
static void run_until_act(run_t *r, int64_t at, void (*act)(run_t *))
{
    r->act_at = at;
    r->act = act;
    haul_error_t err;
    assert_int_equal(direct_start(r->dl, &err), 0);
    event_base_dispatch(r->base);
    assert_true(r->acted);
}

static void run_free(run_t *r)
{
    event_free(r->tick);
    direct_free(r->dl);
    engine_free(r->eng);
    event_base_free(r->base);
}

static void run_loop_for(run_t *r, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(r->base, &tv);
    event_base_dispatch(r->base);
}

/* Lines of the origin's log that mention name. */
static int log_count(const char *name, int *incomplete)
{
    FILE *f = fopen(origin_log, "r");
    assert_non_null(f);
    char line[2048];
    int n = 0;
    if (incomplete)
        *incomplete = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, name))
            continue;
        n++;
        size_t len = strlen(line);
        if (incomplete && len >= 2 && line[len - 2] == '0')
            (*incomplete)++;
    }
    fclose(f);
    return n;
}

static void do_pause(run_t *r)
{
    direct_pause(r->dl);
    direct_status_t st;
    direct_status(r->dl, &st);
    assert_int_equal(st.state, DIRECT_PAUSED);
    assert_int_equal(engine_active(r->eng), 0); /* stopped when it returns */
    char part[400];
    snprintf(part, sizeof part, "%s/data.part", r->work);
    assert_int_equal(fs_size(part), st.bytes_done); /* the file is the truth */
    event_base_loopexit(r->base, NULL);
}

static void pause_then_resume(void **s)
{
    (void)s;
    run_t r;
    run_init(&r, "pr.bin", "size=8000000&rate=4000000");
    run_until_act(&r, 1000000, do_pause);
    direct_status_t st;
    direct_status(r.dl, &st);
    int64_t kept = st.bytes_done;
    assert_true(kept >= 1000000 && kept < 8000000);

    /* nothing more is requested while paused; the origin saw the cut */
    run_loop_for(&r, 300);
    int incomplete;
    assert_int_equal(log_count("/data/pr.bin", &incomplete), 1);
    assert_int_equal(incomplete, 1);

    haul_error_t err;
    assert_int_equal(direct_start(r.dl, &err), 0);
    event_base_dispatch(r.base);
    assert_int_equal(r.last, DIRECT_DONE);
    char path[400];
    snprintf(path, sizeof path, "%s/pr.bin", r.dir);
    assert_string_equal(direct_result_path(r.dl), path);
    assert_int_equal(fs_size(path), 8000000);
    assert_int_equal(log_count("/data/pr.bin", NULL), 2);
    run_free(&r);
}

static void do_cancel(run_t *r)
{
    direct_cancel(r->dl);
    assert_int_equal(engine_active(r->eng), 0);
    struct stat st;
    assert_int_not_equal(stat(r->work, &st), 0); /* temp data gone */
    event_base_loopexit(r->base, NULL);
}

static void cancel_deletes_and_stops(void **s)
{
    (void)s;
    run_t r;
    run_init(&r, "cx.bin", "size=8000000&rate=4000000");
    run_until_act(&r, 500000, do_cancel);
    run_loop_for(&r, 300);
    assert_int_equal(log_count("/data/cx.bin", NULL), 1);
    direct_status_t st;
    direct_status(r.dl, &st);
    assert_int_equal(st.state, DIRECT_CANCELED);
    char path[400];
    snprintf(path, sizeof path, "%s/cx.bin", r.dir);
    assert_int_equal(fs_size(path), 0);
    run_free(&r);
}

static void cancel_while_finishing(void **s)
{
    (void)s;
    run_t r;
    run_init(&r, "fin.bin", "size=4000000");
    r.cancel_when_finishing = 1;
    haul_error_t err;
    assert_int_equal(direct_start(r.dl, &err), 0);
    event_base_dispatch(r.base);
    assert_true(r.acted);
    direct_status_t st;
    direct_status(r.dl, &st);
    assert_int_equal(st.state, DIRECT_CANCELED);
    assert_int_equal(direct_start(r.dl, &err), -1); /* thread still owns it */
    assert_string_equal(err.code, "bad_state");
    run_loop_for(&r, 500); /* the thread reports back; its result is undone */
    char path[400];
    snprintf(path, sizeof path, "%s/fin.bin", r.dir);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_not_equal(stat(r.work, &sb), 0);
    direct_status(r.dl, &st);
    assert_int_equal(st.state, DIRECT_CANCELED);
    assert_int_equal(st.bytes_done, 0);
    run_free(&r);
}

static void pause_before_any_byte(void **s)
{
    (void)s;
    run_t r;
    run_init(&r, "early.bin", "size=100000&delay_ms=200");
    haul_error_t err;
    assert_int_equal(direct_start(r.dl, &err), 0);
    direct_pause(r.dl); /* the request is in flight, no answer yet */
    assert_int_equal(engine_active(r.eng), 0);
    run_loop_for(&r, 400);
    assert_int_equal(direct_start(r.dl, &err), 0);
    event_base_dispatch(r.base);
    assert_int_equal(r.last, DIRECT_DONE);
    char path[400];
    snprintf(path, sizeof path, "%s/early.bin", r.dir);
    assert_int_equal(fs_size(path), 100000);
    run_free(&r);
}

static void pause_while_waiting_to_retry(void **s)
{
    (void)s;
    run_t r;
    run_init(&r, "wait.bin", "size=1000&fail=10&retry_after=1");
    haul_error_t err;
    assert_int_equal(direct_start(r.dl, &err), 0);
    run_loop_for(&r, 300); /* the 503 arrived: now waiting 1 s */
    direct_status_t st;
    direct_status(r.dl, &st);
    assert_int_equal(st.state, DIRECT_WAITING);
    assert_true(st.retry_in_s > 0);
    direct_pause(r.dl);
    run_loop_for(&r, 1500); /* the retry timer must not fire */
    assert_int_equal(log_count("/data/wait.bin", NULL), 1);
    direct_status(r.dl, &st);
    assert_int_equal(st.state, DIRECT_PAUSED);
    run_free(&r);
}

static void many_at_once(void **s)
{
    (void)s;
    enum { N = 12 };
    run_t r[N];
    struct event_base *base = event_base_new();
    engine_t *eng = engine_new(base);
    /* share one loop and engine: re-point each run at them */
    for (int i = 0; i < N; i++) {
        char name[32], q[64];
        snprintf(name, sizeof name, "many%d.bin", i);
        snprintf(q, sizeof q, "size=%d&seed=%d", 300000 + i * 1000, i);
        memset(&r[i], 0, sizeof r[i]);
        snprintf(r[i].url, sizeof r[i].url, "%s/data/%s?%s", origin, name, q);
        snprintf(r[i].dir, sizeof r[i].dir, "%s/many", root);
        snprintf(r[i].work, sizeof r[i].work, "%s/many/.haul-tmp/%d", root, i);
        r[i].base = base;
        direct_opts_t o = {.url = r[i].url, .dir = r[i].dir, .work_dir = r[i].work};
        direct_cbs_t cbs = {NULL, NULL, NULL};
        haul_error_t err;
        r[i].dl = direct_new(eng, base, &o, &cbs, &r[i], &err);
        assert_non_null(r[i].dl);
        assert_int_equal(direct_start(r[i].dl, &err), 0);
    }
    assert_true(engine_active(eng) > 1);
    for (int spins = 0; spins < 2000; spins++) {
        int done = 0;
        for (int i = 0; i < N; i++) {
            direct_status_t st;
            direct_status(r[i].dl, &st);
            done += st.state == DIRECT_DONE;
            assert_int_not_equal(st.state, DIRECT_FAILED);
        }
        if (done == N)
            break;
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    for (int i = 0; i < N; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/many%d.bin", r[i].dir, i);
        assert_int_equal(fs_size(path), 300000 + i * 1000);
        direct_free(r[i].dl);
    }
    engine_free(eng);
    event_base_free(base);
}

int main(void)
{
    origin = getenv("ORIGIN");
    origin_log = getenv("ORIGIN_LOG");
    const char *tmp = getenv("TEST_DIR");
    if (!origin || !origin_log || !tmp) {
        fprintf(stderr, "test_engine: run me from tests/e2e/t_engine.sh "
                        "(needs ORIGIN, ORIGIN_LOG and TEST_DIR)\n");
        return 1;
    }
    snprintf(root, sizeof root, "%s", tmp);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pause_then_resume),
        cmocka_unit_test(cancel_deletes_and_stops),
        cmocka_unit_test(cancel_while_finishing),
        cmocka_unit_test(pause_before_any_byte),
        cmocka_unit_test(pause_while_waiting_to_retry),
        cmocka_unit_test(many_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
