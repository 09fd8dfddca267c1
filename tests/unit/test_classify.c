/* Unit tests: error classification and retry timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/classify.h"

static const char *URL = "http://127.0.0.1/x.bin";

static void http_statuses(void **s)
{
    (void)s;
    haul_error_t e;
    classify_result(CURLE_OK, 404, URL, "", &e);
    assert_string_equal(e.code, "http_404");
    assert_false(e.transient);
    assert_non_null(strstr(e.message, "404 Not Found"));
    assert_non_null(strstr(e.message, URL));

    classify_result(CURLE_OK, 403, URL, "", &e);
    assert_string_equal(e.code, "http_403");
    assert_false(e.transient);

    long transient[] = {408, 429, 500, 502, 503, 504};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        classify_result(CURLE_OK, transient[i], URL, "", &e);
        assert_true(e.transient);
    }
    long permanent[] = {400, 401, 410, 416, 501, 505};
    for (size_t i = 0; i < sizeof permanent / sizeof permanent[0]; i++) {
        classify_result(CURLE_OK, permanent[i], URL, "", &e);
        assert_false(e.transient);
    }
}

static void success_is_no_error(void **s)
{
    (void)s;
    haul_error_t e;
    classify_result(CURLE_OK, 200, URL, "", &e);
    assert_false(herr_isset(&e));
    classify_result(CURLE_OK, 206, URL, "", &e);
    assert_false(herr_isset(&e));
}

static void curl_failures(void **s)
{
    (void)s;
    haul_error_t e;
    struct { CURLcode cc; const char *code; int transient; } cases[] = {
        {CURLE_COULDNT_CONNECT, "connect_failed", 1},
        {CURLE_OPERATION_TIMEDOUT, "timeout", 1},
        {CURLE_PARTIAL_FILE, "connection_cut", 1},
        {CURLE_RECV_ERROR, "recv_failed", 1},
        {CURLE_GOT_NOTHING, "empty_reply", 1},
        {CURLE_UNSUPPORTED_PROTOCOL, "unsupported_scheme", 0},
        {CURLE_PEER_FAILED_VERIFICATION, "tls_invalid", 0},
        {CURLE_TOO_MANY_REDIRECTS, "too_many_redirects", 0},
        {CURLE_COULDNT_RESOLVE_HOST, "host_not_found", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        classify_result(cases[i].cc, 0, URL, "detail text", &e);
        assert_string_equal(e.code, cases[i].code);
        assert_int_equal(e.transient, cases[i].transient);
        assert_non_null(strstr(e.message, "detail text"));
    }
    /* no detail: libcurl's own words */
    classify_result(CURLE_COULDNT_CONNECT, 0, URL, NULL, &e);
    assert_non_null(strstr(e.message, curl_easy_strerror(CURLE_COULDNT_CONNECT)));
    /* unknown codes still say something */
    classify_result(CURLE_FTP_WEIRD_PASV_REPLY, 0, URL, "", &e);
    assert_string_equal(e.code, "transfer_failed");
}

static void backoff_doubles_and_caps(void **s)
{
    (void)s;
    assert_int_equal(backoff_delay_s(1, -1), 1);
    assert_int_equal(backoff_delay_s(2, -1), 2);
    assert_int_equal(backoff_delay_s(3, -1), 4);
    assert_int_equal(backoff_delay_s(6, -1), 32);
    assert_int_equal(backoff_delay_s(7, -1), 60);
    assert_int_equal(backoff_delay_s(100, -1), 60);
}

static void retry_after_wins_and_is_capped(void **s)
{
    (void)s;
    assert_int_equal(backoff_delay_s(1, 7), 7);
    assert_int_equal(backoff_delay_s(5, 0), 0);
    assert_int_equal(backoff_delay_s(1, 999999), RETRY_AFTER_CAP_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_statuses),
        cmocka_unit_test(success_is_no_error),
        cmocka_unit_test(curl_failures),
        cmocka_unit_test(backoff_doubles_and_caps),
        cmocka_unit_test(retry_after_wins_and_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
