/* Unit tests: speed over a sliding window, ETA, units, ids, URL checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/id.h"
#include "core/progress.h"
#include "util/units.h"
#include "util/url.h"

static void steady_speed(void **s)
{
    (void)s;
    meter_t m;
    meter_init(&m, 5.0);
    assert_true(meter_speed(&m) == 0);
    for (int i = 0; i <= 40; i++)
        meter_sample(&m, 100.0 + i * 0.25, (int64_t)i * 250000); /* 1 MB/s */
    double v = meter_speed(&m);
    assert_true(v > 0.99e6 && v < 1.01e6);
}

static void window_forgets_the_past(void **s)
{
    (void)s;
    meter_t m;
    meter_init(&m, 5.0);
    int64_t bytes = 0;
    double t = 0;
    for (int i = 0; i < 40; i++, t += 0.25) /* 10 s at 10 MB/s */
        meter_sample(&m, t, bytes += 2500000);
    for (int i = 0; i < 40; i++, t += 0.25) /* then 10 s at 1 MB/s */
        meter_sample(&m, t, bytes += 250000);
    double v = meter_speed(&m);
    assert_true(v > 0.9e6 && v < 1.2e6);
}

static void restart_resets(void **s)
{
    (void)s;
    meter_t m;
    meter_init(&m, 5.0);
    meter_sample(&m, 0, 1000000);
    meter_sample(&m, 1, 2000000);
    meter_sample(&m, 2, 10); /* started over */
    assert_true(meter_speed(&m) == 0);
}

static void eta(void **s)
{
    (void)s;
    assert_int_equal(meter_eta(1000, 10000), 10);
    assert_int_equal(meter_eta(1000, 10001), 11);
    assert_int_equal(meter_eta(0, 10000), -1);
    assert_int_equal(meter_eta(1000, -1), -1);
}

static void sizes(void **s)
{
    (void)s;
    int64_t v;
    assert_int_equal(parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(parse_size("500K", &v), 0);
    assert_int_equal(v, 512000);
    assert_int_equal(parse_size("2M", &v), 0);
    assert_int_equal(v, 2097152);
    assert_int_equal(parse_size("1.5GiB", &v), 0);
    assert_int_equal(v, 1610612736);
    assert_int_equal(parse_size("10mb", &v), 0);
    assert_int_equal(v, 10485760);
    assert_int_equal(parse_size("", &v), -1);
    assert_int_equal(parse_size("-1", &v), -1);
    assert_int_equal(parse_size("5X", &v), -1);
    assert_int_equal(parse_size("M", &v), -1);
    char b[32];
    assert_string_equal(fmt_bytes(532, b, sizeof b), "532 B");
    assert_string_equal(fmt_bytes(1536, b, sizeof b), "1.50 KiB");
    assert_string_equal(fmt_bytes(1073741824, b, sizeof b), "1.00 GiB");
    assert_string_equal(fmt_duration(65, b, sizeof b), "1:05");
    assert_string_equal(fmt_duration(3725, b, sizeof b), "1:02:05");
    assert_string_equal(fmt_duration(-1, b, sizeof b), "--:--");
}

static void durations(void **s)
{
    (void)s;
    static const struct { const char *in; int64_t out; } OK[] = {
        {"90", 90}, {"30s", 30}, {"15m", 900}, {"2h", 7200}, {"7d", 604800},
        {"1w", 604800}, {"1h30m", 5400}, {"0", 0},
    };
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        int64_t v = -1;
        assert_int_equal(parse_duration(OK[i].in, &v), 0);
        assert_int_equal(v, OK[i].out);
    }
    static const char *const BAD[] = {"", "h", "-5s", "1h30", "3x", "1.5h", "99999999999999999999w"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        int64_t v;
        assert_int_equal(parse_duration(BAD[i], &v), -1);
    }
}

static void ids(void **s)
{
    (void)s;
    char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1];
    id_from_text("http://x/a\n/tmp/", a);
    id_from_text("http://x/a\n/tmp/", b);
    id_from_text("http://x/a\n/tmp/other", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_true(id_valid(a));
    assert_int_equal(id_random(b), 0);
    assert_true(id_valid(b));
    assert_false(id_valid("short"));
    assert_false(id_valid("UPPERCASE1"));
    assert_false(id_valid("../../etc/"));
}

static void urls(void **s)
{
    (void)s;
    haul_error_t e;
    assert_int_equal(url_check("http://127.0.0.1:8080/a.bin?x=1", &e), 0);
    assert_int_equal(url_check("https://example.org/", &e), 0);
    assert_int_equal(url_check("ftp://example.org/a", &e), -1);
    assert_string_equal(e.code, "unsupported_scheme");
    assert_non_null(strstr(e.message, "ftp"));
    assert_int_equal(url_check("file:///etc/passwd", &e), -1);
    assert_string_equal(e.code, "unsupported_scheme");
    assert_int_equal(url_check("not a url", &e), -1);
    assert_string_equal(e.code, "bad_url");
    assert_int_equal(url_check("example.org/a", &e), -1);
    assert_string_equal(e.code, "bad_url");
    assert_int_equal(url_check("", &e), -1);
    assert_int_equal(url_check("http://", &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_speed),       cmocka_unit_test(window_forgets_the_past),
        cmocka_unit_test(restart_resets),     cmocka_unit_test(eta),
        cmocka_unit_test(sizes),              cmocka_unit_test(ids),
        cmocka_unit_test(durations),
        cmocka_unit_test(urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
