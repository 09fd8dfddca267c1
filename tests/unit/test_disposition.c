/* Unit tests: Content-Disposition file names (RFC 6266, RFC 8187). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/disposition.h"

static char out[512];

static const char *name(const char *v)
{
    return disposition_filename(v, out, sizeof out) == 0 ? out : NULL;
}

static void quoted_and_token(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename=\"a b.mp4\""), "a b.mp4");
    assert_string_equal(name("attachment; filename=plain.txt"), "plain.txt");
    assert_string_equal(name("inline;filename=\"x.pdf\""), "x.pdf");
    assert_string_equal(name("ATTACHMENT; FileName = \"Y.PDF\" "), "Y.PDF");
    assert_string_equal(name("attachment; filename=\"q\\\"uote\\\\.txt\""), "q\"uote\\.txt");
    /* common, non-standard: spaces without quotes */
    assert_string_equal(name("attachment; filename=my file.mp4"), "my file.mp4");
    assert_string_equal(name("attachment; size=3; filename=\"z\"; creation-date=x"), "z");
}

static void extended_wins(void **s)
{
    (void)s;
    assert_string_equal(
        name("attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates"),
        "\xe2\x82\xac rates");
    assert_string_equal(
        name("attachment; filename*=UTF-8''caf%C3%A9.txt; filename=\"cafe.txt\""),
        "caf\xc3\xa9.txt");
    assert_string_equal(name("attachment; filename*=UTF-8'en'n%20a.txt"), "n a.txt");
}

static void latin1_becomes_utf8(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename*=iso-8859-1''caf%E9.txt"),
                        "caf\xc3\xa9.txt");
}

static void unknown_charset_falls_back(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename*=koi8-r''%c1%c2; filename=\"ok.txt\""),
                        "ok.txt");
    assert_null(name("attachment; filename*=koi8-r''%c1%c2"));
}

static void traversal_is_returned_raw(void **s)
{
    (void)s;
    /* decoding only: sanitizing is fname's job */
    assert_string_equal(name("attachment; filename=\"../../evil.sh\""), "../../evil.sh");
}

static void malformed_is_safe(void **s)
{
    (void)s;
    const char *bad[] = {
        "", "attachment", "attachment;", "attachment; filename", "attachment; filename=",
        "attachment; filename=\"", "attachment; filename=\"unterminated",
        "attachment; filename*=UTF-8''%", "attachment; filename*=UTF-8''%4",
        "attachment; filename*=UTF-8''%zz", "attachment; filename*=UTF-8",
        "attachment; filename*=''", "attachment; filename=\"\\", ";;;;=;=\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(disposition_filename(bad[i], out, sizeof out), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(disposition_filename(NULL, out, sizeof out), -1);
}

static void small_buffer(void **s)
{
    (void)s;
    char tiny[4];
    assert_int_equal(disposition_filename("attachment; filename=\"long.txt\"", tiny,
                                          sizeof tiny), -1);
    assert_string_equal(tiny, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoted_and_token),
        cmocka_unit_test(extended_wins),
        cmocka_unit_test(latin1_becomes_utf8),
        cmocka_unit_test(unknown_charset_falls_back),
        cmocka_unit_test(traversal_is_returned_raw),
        cmocka_unit_test(malformed_is_safe),
        cmocka_unit_test(small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
