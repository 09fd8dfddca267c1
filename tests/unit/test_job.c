/* Unit tests: the job state machine and the API's job JSON (strict
 * request parsing, every refusal naming its field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/job.h"
#include "server/job_json.h"

/* The whole machine, written out by hand from DESIGN.md: for each state
 * and each action, the state it leads to or -1 (refused). */
static const int EXPECTED[JOB_STATE_COUNT][8] = {
    /*            pause        resume      cancel        retry       start        finish    fail        requeue */
    [JOB_QUEUED] = {JOB_PAUSED, -1, JOB_CANCELED, -1, JOB_RUNNING, -1, -1, -1},
    [JOB_RUNNING] = {JOB_PAUSED, -1, JOB_CANCELED, -1, -1, JOB_DONE, JOB_FAILED, JOB_QUEUED},
    [JOB_PAUSED] = {-1, JOB_QUEUED, JOB_CANCELED, -1, -1, -1, -1, -1},
    [JOB_DONE] = {-1, -1, -1, -1, -1, -1, -1, -1},
    [JOB_FAILED] = {-1, -1, -1, JOB_QUEUED, -1, -1, -1, -1},
    [JOB_CANCELED] = {-1, -1, -1, JOB_QUEUED, -1, -1, -1, -1},
};

static void every_transition(void **st)
{
    (void)st;
    for (int from = 0; from < JOB_STATE_COUNT; from++) {
        for (int a = JOB_PAUSE; a <= JOB_REQUEUE; a++) {
            job_state_t to = (job_state_t)-1;
            haul_error_t err;
            herr_clear(&err);
            int rc = job_next_state("abc", (job_state_t)from, (job_action_t)a, &to, &err);
            if (EXPECTED[from][a] < 0) {
                assert_int_equal(rc, -1);
                assert_string_equal(err.code, "bad_state");
                /* the refusal names the state it is in and the one refused */
                assert_non_null(strstr(err.message, job_state_name((job_state_t)from)));
                assert_non_null(strstr(err.message, "abc"));
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(to, EXPECTED[from][a]);
            }
        }
    }
}

static void refusal_names_both_states(void **st)
{
    (void)st;
    job_state_t to;
    haul_error_t err;
    assert_int_equal(job_next_state("k3v9q2m7xw", JOB_DONE, JOB_PAUSE, &to, &err), -1);
    assert_non_null(strstr(err.message, "done"));
    assert_non_null(strstr(err.message, "paused"));
    assert_non_null(strstr(err.message, "k3v9q2m7xw"));
}

static void names_round_trip(void **st)
{
    (void)st;
    for (int s = 0; s < JOB_STATE_COUNT; s++)
        assert_int_equal(job_state_parse(job_state_name((job_state_t)s)), s);
    assert_int_equal(job_state_parse("runnin"), -1);
    assert_int_equal(job_state_parse(NULL), -1);
    assert_int_equal(job_action_parse("pause"), JOB_PAUSE);
    assert_int_equal(job_action_parse("retry"), JOB_RETRY);
    assert_int_equal(job_action_parse("start"), -1); /* not a user action */
    assert_true(job_state_final(JOB_DONE));
    assert_true(job_state_final(JOB_CANCELED));
    assert_false(job_state_final(JOB_PAUSED));
}

/* Parses text as a create request: the job, or NULL with field and err.
 * The field name may be borrowed from the body: the last body is kept
 * until the next call. */
static job_t *request(const char *text, const char **field, haul_error_t *err)
{
    static json_t *body;
    json_error_t jerr;
    json_decref(body);
    body = json_loads(text, 0, &jerr);
    assert_non_null(body);
    return job_from_request(body, field, err);
}

static void create_request_accepted(void **st)
{
    (void)st;
    const char *field;
    haul_error_t err;
    job_t *j = request("{\"url\": \"https://example.org/a.mp4\", \"dir\": \"films/2026\","
                       " \"filename\": \"My film.mp4\", \"priority\": 5, \"max_speed\": 1000,"
                       " \"sha256\": \"" "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\","
                       " \"headers\": {\"Referer\": \"https://example.org/\", \"X-A\": \"1\"}}",
                       &field, &err);
    assert_non_null(j);
    assert_string_equal(j->url, "https://example.org/a.mp4");
    assert_string_equal(j->opt.dir, "films/2026");
    assert_string_equal(j->opt.filename, "My film.mp4");
    assert_int_equal(j->opt.priority, 5);
    assert_int_equal(j->opt.max_speed, 1000);
    assert_string_equal(j->opt.sha256,
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(j->opt.nheaders, 2);
    assert_string_equal(j->opt.headers[0], "Referer: https://example.org/");
    assert_string_equal(j->opt.headers[1], "X-A: 1");
    json_t *out = job_to_json(j);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "queued");
    json_t *h = json_object_get(json_object_get(out, "options"), "headers");
    assert_string_equal(json_string_value(json_object_get(h, "X-A")), "1");
    assert_true(json_is_null(json_object_get(out, "error")));
    assert_true(json_is_null(json_object_get(out, "finished_at")));
    json_decref(out);
    job_free(j);
}

static void create_request_refused(void **st)
{
    (void)st;
    static const struct { const char *body, *field; } CASES[] = {
        {"{}", "url"},
        {"[]", "body"},
        {"{\"url\": 5}", "url"},
        {"{\"url\": \"ftp://example.org/x\"}", "url"},
        {"{\"url\": \"not a url\"}", "url"},
        {"{\"url\": \"http://h/x\", \"priority\": \"x\"}", "priority"},
        {"{\"url\": \"http://h/x\", \"priority\": 101}", "priority"},
        {"{\"url\": \"http://h/x\", \"max_speed\": -1}", "max_speed"},
        {"{\"url\": \"http://h/x\", \"max_speed\": 1.5}", "max_speed"},
        {"{\"url\": \"http://h/x\", \"connections\": 17}", "connections"},
        {"{\"url\": \"http://h/x\", \"connections\": 0}", "connections"},
        {"{\"url\": \"http://h/x\", \"format\": \"bogus\"}", "format"},
        {"{\"url\": \"http://h/x\", \"format\": \"best:avi\"}", "format"},
        {"{\"url\": \"http://h/x\", \"colour\": \"red\"}", "colour"},
        {"{\"url\": \"http://h/x\", \"dir\": \"../x\"}", "dir"},
        {"{\"url\": \"http://h/x\", \"dir\": \"/etc\"}", "dir"},
        {"{\"url\": \"http://h/x\", \"dir\": \"a//b\"}", "dir"},
        {"{\"url\": \"http://h/x\", \"dir\": \".haul-tmp\"}", "dir"},
        {"{\"url\": \"http://h/x\", \"filename\": \"../../etc/passwd\"}", "filename"},
        {"{\"url\": \"http://h/x\", \"filename\": \"..\"}", "filename"},
        {"{\"url\": \"http://h/x\", \"sha256\": \"abc\"}", "sha256"},
        {"{\"url\": \"http://h/x\", \"mode\": \"torrent\"}", "mode"},
        {"{\"url\": \"http://h/x\", \"headers\": {\"X\": \"a\\r\\nEvil: 1\"}}", "headers"},
        {"{\"url\": \"http://h/x\", \"headers\": {\"Bad Name\": \"v\"}}", "headers"},
        {"{\"url\": \"http://h/x\", \"headers\": [\"X: 1\"]}", "headers"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const char *field = NULL;
        haul_error_t err;
        herr_clear(&err);
        job_t *j = request(CASES[i].body, &field, &err);
        if (j)
            fail_msg("accepted %s", CASES[i].body);
        assert_non_null(field);
        assert_string_equal(field, CASES[i].field);
        assert_string_equal(err.code, "invalid_field");
        assert_non_null(strstr(err.message, CASES[i].field));
    }
    request("{}", &(const char *){NULL}, &(haul_error_t){0}); /* frees the last body */
}

/* A string over its field's cap is refused with that field's own limit. */
static void too_long_says_its_limit(void **st)
{
    (void)st;
    char body[600], fmt[260];
    memset(fmt, 'b', 201);
    fmt[201] = '\0';
    snprintf(body, sizeof body, "{\"url\": \"http://h/x\", \"format\": \"%s\"}", fmt);
    const char *field = NULL;
    haul_error_t err;
    assert_null(request(body, &field, &err));
    assert_string_equal(field, "format");
    assert_non_null(strstr(err.message, "at most 200 bytes"));
    fmt[200] = '\0'; /* at the cap: judged by what it says, not its length */
    snprintf(body, sizeof body, "{\"url\": \"http://h/x\", \"format\": \"%s\"}", fmt);
    assert_null(request(body, &field, &err));
    assert_string_equal(field, "format");
    assert_null(strstr(err.message, "at most 200 bytes"));
    assert_non_null(strstr(err.message, "720p"));
}

/* Streams: modes, formats and connections a stream download takes. */
static void stream_options_accepted(void **st)
{
    (void)st;
    static const char *const OK[] = {
        "{\"url\": \"http://h/x\", \"mode\": \"hls\", \"connections\": 16}",
        "{\"url\": \"http://h/x\", \"format\": \"720p:mp4\"}",
        "{\"url\": \"http://h/x\", \"format\": \"worst\"}",
        "{\"url\": \"http://h/x\", \"format\": \"800k\"}",
        "{\"url\": \"http://h/x\", \"format\": \"mkv\"}",
        "{\"url\": \"http://h/x\", \"mode\": \"direct\", \"connections\": 1}",
    };
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        const char *field = NULL;
        haul_error_t err;
        herr_clear(&err);
        job_t *j = request(OK[i], &field, &err);
        if (!j)
            fail_msg("refused %s: %s", OK[i], err.message);
        job_free(j);
    }
}

static void times_are_iso_utc(void **st)
{
    (void)st;
    json_t *t = json_time(1795881600000); /* 2026-11-28T16:00:00Z */
    assert_string_equal(json_string_value(t), "2026-11-28T16:00:00Z");
    json_decref(t);
    assert_true(json_is_null(json_time(0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_transition),
        cmocka_unit_test(refusal_names_both_states),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(create_request_accepted),
        cmocka_unit_test(create_request_refused),
        cmocka_unit_test(too_long_says_its_limit),
        cmocka_unit_test(stream_options_accepted),
        cmocka_unit_test(times_are_iso_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
