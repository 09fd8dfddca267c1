/* Unit tests: byte-exact resume decisions and Content-Range parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/resume.h"

static resume_action_t decide(int64_t part, int64_t known, long status,
                              int64_t first, int64_t total, const char **why)
{
    resume_answer_t a = {.status = status, .range_first = first, .range_total = total};
    return resume_decide(part, known, &a, why);
}

static void fresh_200_appends(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(0, -1, 200, -1, -1, &why), RESUME_APPEND);
    assert_null(why);
}

static void partial_206_from_offset_appends(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(1000, 5000, 206, 1000, 5000, &why), RESUME_APPEND);
    assert_null(why);
    /* total unknown before: still fine */
    assert_int_equal(decide(1000, -1, 206, 1000, 5000, &why), RESUME_APPEND);
}

static void partial_206_wrong_offset_refetches(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(1000, 5000, 206, 0, 5000, &why), RESUME_REFETCH);
    assert_non_null(why);
    assert_int_equal(decide(1000, 5000, 206, 999, 5000, &why), RESUME_REFETCH);
}

static void partial_206_other_total_refetches(void **s)
{
    (void)s;
    const char *why;
    /* same offset, but the resource is now another size: it changed */
    assert_int_equal(decide(1000, 5000, 206, 1000, 6000, &why), RESUME_REFETCH);
    assert_non_null(why);
}

static void full_200_on_resume_restarts(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(1000, 5000, 200, -1, -1, &why), RESUME_RESTART);
    assert_non_null(why);
}

static void r416_with_complete_part_completes(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(5000, 5000, 416, -1, 5000, &why), RESUME_COMPLETE);
    assert_int_equal(decide(5000, 5000, 416, -1, -1, &why), RESUME_COMPLETE);
    assert_null(why);
}

static void r416_with_incomplete_part_refetches(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(4000, 5000, 416, -1, 3000, &why), RESUME_REFETCH);
    assert_non_null(why);
    assert_int_equal(decide(4000, -1, 416, -1, -1, &why), RESUME_REFETCH);
}

static void errors_are_errors(void **s)
{
    (void)s;
    const char *why;
    assert_int_equal(decide(0, -1, 404, -1, -1, &why), RESUME_ERROR);
    assert_int_equal(decide(1000, 5000, 503, -1, -1, &why), RESUME_ERROR);
    assert_int_equal(decide(0, -1, 416, -1, -1, &why), RESUME_ERROR);
}

static void validator_prefers_strong_etag(void **s)
{
    (void)s;
    const char *lm = "Wed, 21 Oct 2015 07:28:00 GMT";
    assert_string_equal(resume_validator("\"abc\"", lm), "\"abc\"");
    assert_string_equal(resume_validator("W/\"abc\"", lm), lm); /* weak: not for If-Range */
    assert_string_equal(resume_validator(NULL, lm), lm);
    assert_null(resume_validator("W/\"abc\"", NULL));
    assert_null(resume_validator("", ""));
    assert_null(resume_validator("\"", NULL));
}

static void content_range_parses(void **s)
{
    (void)s;
    int64_t first = 7, total = 7;
    assert_int_equal(parse_content_range("bytes 100-199/1000", &first, &total), 0);
    assert_int_equal(first, 100);
    assert_int_equal(total, 1000);
    assert_int_equal(parse_content_range("bytes */1000", &first, &total), 0);
    assert_int_equal(first, -1);
    assert_int_equal(total, 1000);
    assert_int_equal(parse_content_range("bytes 0-9/*", &first, &total), 0);
    assert_int_equal(first, 0);
    assert_int_equal(total, -1);
    assert_int_equal(parse_content_range("bytes 5000000000-5000000009/6000000000",
                                         &first, &total), 0);
    assert_true(first == 5000000000LL && total == 6000000000LL);
}

static void content_range_rejects_garbage(void **s)
{
    (void)s;
    int64_t first, total;
    assert_int_equal(parse_content_range("", &first, &total), -1);
    assert_int_equal(parse_content_range("items 1-2/3", &first, &total), -1);
    assert_int_equal(parse_content_range("bytes 10-5/100", &first, &total), -1);
    assert_int_equal(parse_content_range("bytes 1-2", &first, &total), -1);
    assert_int_equal(parse_content_range("bytes -1-2/3", &first, &total), -1);
    assert_int_equal(parse_content_range("bytes 1-2/x", &first, &total), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_200_appends),
        cmocka_unit_test(partial_206_from_offset_appends),
        cmocka_unit_test(partial_206_wrong_offset_refetches),
        cmocka_unit_test(partial_206_other_total_refetches),
        cmocka_unit_test(full_200_on_resume_restarts),
        cmocka_unit_test(r416_with_complete_part_completes),
        cmocka_unit_test(r416_with_incomplete_part_refetches),
        cmocka_unit_test(errors_are_errors),
        cmocka_unit_test(validator_prefers_strong_etag),
        cmocka_unit_test(content_range_parses),
        cmocka_unit_test(content_range_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
