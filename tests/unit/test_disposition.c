/* Unit tests: Content-Disposition file names (RFC 6266, RFC 8187). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/disposition.h"

static char out[512];

/* The name found in v, or NULL when none (then out must be ""). The value
 * is copied into an exact-size heap block so AddressSanitizer sees any
 * read past its end. */
static const char *name(const char *v)
{
    size_t n = strlen(v) + 1;
    char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, v, n);
    int rc = disposition_filename(copy, out, sizeof out);
    free(copy);
    if (rc != 0) {
        assert_int_equal(rc, -1);
        assert_string_equal(out, "");
        return NULL;
    }
    assert_true(out[0] != '\0');
    return out;
}

static void rfc6266_examples(void **s)
{
    (void)s;
    assert_string_equal(name("Attachment; filename=example.html"), "example.html");
    assert_string_equal(name("INLINE; FILENAME= \"an example.html\""), "an example.html");
    assert_string_equal(name("attachment; filename*= UTF-8''%e2%82%ac%20rates"),
                        "\xe2\x82\xac rates");
    assert_string_equal(
        name("attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates"),
        "\xe2\x82\xac rates");
}

static void quoted_and_token(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename=\"a b.mp4\""), "a b.mp4");
    assert_string_equal(name("attachment; filename=plain.txt"), "plain.txt");
    assert_string_equal(name("inline;filename=\"x.pdf\""), "x.pdf");
    assert_string_equal(name("ATTACHMENT; FileName = \"Y.PDF\" "), "Y.PDF");
    assert_string_equal(name("attachment; filename=\"q\\\"uote\\\\.txt\""), "q\"uote\\.txt");
    assert_string_equal(name("attachment; filename=\"\\a\\b.txt\""), "ab.txt");
    assert_string_equal(name("attachment; filename=\"a;b=c.txt\""), "a;b=c.txt");
    assert_string_equal(name("attachment; filename=\"caf\xc3\xa9.txt\""), "caf\xc3\xa9.txt");
    assert_string_equal(name("attachment; size=3; filename=\"z\"; creation-date=x"), "z");
    assert_string_equal(name("form-data; name=\"f\"; filename=\"up.bin\""), "up.bin");
    assert_string_equal(name("whatever-type ; filename=w.bin"), "w.bin");
}

static void whitespace_is_tolerated(void **s)
{
    (void)s;
    assert_string_equal(name("attachment;\tfilename\t=\tx.txt\t"), "x.txt");
    assert_string_equal(name("attachment; filename=x.txt\r\n"), "x.txt");
    assert_string_equal(name("  attachment  ;  filename  =  \"y.txt\"  ;  "), "y.txt");
    assert_string_equal(name("attachment;;; filename=z.txt;;"), "z.txt");
    /* spaces inside a quoted name are part of it */
    assert_string_equal(name("attachment; filename=\"  padded  \""), "  padded  ");
}

static void unquoted_with_spaces(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename=my file.mp4"), "my file.mp4");
    assert_string_equal(name("attachment; filename=my file.mp4; size=10"), "my file.mp4");
    assert_string_equal(name("attachment; filename=a  b  .txt   "), "a  b  .txt");
}

static void parameter_names_are_exact(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; xfilename=bad; filename=ok"), "ok");
    assert_string_equal(name("attachment; filenames=bad; filename=ok"), "ok");
    assert_string_equal(name("attachment; filename_=bad; filename=ok"), "ok");
    assert_null(name("attachment; name=\"field\""));
    /* a ';' or "filename=" inside another parameter's quotes is data */
    assert_string_equal(name("attachment; foo=\"a;filename=evil\"; filename=good.txt"),
                        "good.txt");
    /* the first of duplicate parameters wins */
    assert_string_equal(name("attachment; filename=one; filename=two"), "one");
    assert_string_equal(
        name("attachment; filename*=UTF-8''one; filename*=UTF-8''two"), "one");
    /* an empty one does not count */
    assert_string_equal(name("attachment; filename=\"\"; filename=b.txt"), "b.txt");
}

static void missing_type_is_tolerated(void **s)
{
    (void)s;
    assert_string_equal(name("filename=\"x.txt\""), "x.txt");
    assert_string_equal(name("filename=\"a;b.txt\""), "a;b.txt");
    assert_string_equal(name("filename*=UTF-8''y%20z.txt"), "y z.txt");
}

static void extended_wins_in_any_order(void **s)
{
    (void)s;
    assert_string_equal(
        name("attachment; filename*=UTF-8''caf%C3%A9.txt; filename=\"cafe.txt\""),
        "caf\xc3\xa9.txt");
    assert_string_equal(
        name("attachment; filename=\"cafe.txt\"; filename*=UTF-8''caf%C3%A9.txt"),
        "caf\xc3\xa9.txt");
    assert_string_equal(name("attachment; FILENAME*=utf-8''a.txt; filename=b.txt"), "a.txt");
}

static void extended_value_forms(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename*=UTF-8'en'n%20a.txt"), "n a.txt");
    assert_string_equal(name("attachment; filename*=UTF-8'en-US'plain.txt"), "plain.txt");
    assert_string_equal(name("attachment; filename*=UTF-8''%F0%9F%98%80.png"),
                        "\xf0\x9f\x98\x80.png");
    /* raw UTF-8 bytes, though not attr-chars, are taken as they are */
    assert_string_equal(name("attachment; filename*=UTF-8''caf\xc3\xa9"), "caf\xc3\xa9");
    /* quoted, which RFC 8187 does not allow but servers send */
    assert_string_equal(name("attachment; filename*=\"UTF-8''a%20b\""), "a b");
    /* percent-encoded separators are data, left for fname to clean */
    assert_string_equal(name("attachment; filename*=UTF-8''..%2F..%2Fx"), "../../x");
    assert_string_equal(name("attachment; filename*=UTF-8''a%3Bb%22c"), "a;b\"c");
}

static void latin1_becomes_utf8(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename*=iso-8859-1''caf%E9.txt"),
                        "caf\xc3\xa9.txt");
    assert_string_equal(name("attachment; filename*=ISO-8859-1'en'%A3%20rates"),
                        "\xc2\xa3 rates");
    assert_string_equal(name("attachment; filename*=iso-8859-1''%FF%80"),
                        "\xc3\xbf\xc2\x80");
    assert_string_equal(name("attachment; filename*=iso-8859-1''raw\xe9"), "raw\xc3\xa9");
    assert_string_equal(name("attachment; filename*=iso-8859-1''ascii.txt"), "ascii.txt");
}

static void unknown_charset_is_ignored(void **s)
{
    (void)s;
    assert_string_equal(name("attachment; filename*=koi8-r''%c1%c2; filename=\"ok.txt\""),
                        "ok.txt");
    assert_string_equal(name("attachment; filename=\"ok.txt\"; filename*=koi8-r''%c1%c2"),
                        "ok.txt");
    assert_null(name("attachment; filename*=koi8-r''%c1%c2"));
    assert_null(name("attachment; filename*=utf8''a.txt"));
    assert_null(name("attachment; filename*=UTF-16''a.txt"));
    assert_null(name("attachment; filename*=''a.txt"));
    /* a later, valid filename* still counts */
    assert_string_equal(
        name("attachment; filename*=koi8-r''%c1; filename*=UTF-8''good.txt"), "good.txt");
}

static void bad_extended_values_fall_back(void **s)
{
    (void)s;
    /* not UTF-8 although labelled so: the plain name is better */
    assert_string_equal(name("attachment; filename*=UTF-8''caf%E9.txt; filename=cafe.txt"),
                        "cafe.txt");
    assert_null(name("attachment; filename*=UTF-8''caf%E9.txt"));
    assert_null(name("attachment; filename*=UTF-8''%e2%82"));        /* cut sequence */
    assert_null(name("attachment; filename*=UTF-8''%c0%af"));        /* overlong '/' */
    assert_null(name("attachment; filename*=UTF-8''%ed%a0%80"));     /* surrogate */
    /* NUL would silently cut the name: refused */
    assert_string_equal(name("attachment; filename*=UTF-8''evil.txt%00.exe; filename=f.bin"),
                        "f.bin");
    assert_null(name("attachment; filename*=UTF-8''evil.txt%00.exe"));
    assert_null(name("attachment; filename*=iso-8859-1''a%00"));
    /* escapes inside a quoted ext-value */
    assert_null(name("attachment; filename*=\"UTF-8''a\\\"b\""));
}

static void traversal_is_returned_raw(void **s)
{
    (void)s;
    /* decoding only: sanitizing is fname's job */
    assert_string_equal(name("attachment; filename=\"../../evil.sh\""), "../../evil.sh");
    assert_string_equal(name("attachment; filename=/etc/passwd"), "/etc/passwd");
}

static void nothing_usable(void **s)
{
    (void)s;
    const char *none[] = {
        "", "attachment", "inline", "attachment;", "attachment; filename",
        "attachment; filename=", "attachment; filename=\"\"", "attachment; filename= ;",
        "attachment; size=12", "attachment; filename*=", "filename", "=", ";",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_null(name(none[i]));
    assert_int_equal(disposition_filename(NULL, out, sizeof out), -1);
    assert_string_equal(out, "");
}

static void malformed_is_safe(void **s)
{
    (void)s;
    const char *bad[] = {
        "attachment; filename=\"", "attachment; filename=\"unterminated",
        "attachment; filename=\"ends in backslash\\", "attachment; filename=\"\\",
        "attachment; filename=\"\\\"", "attachment; filename*=UTF-8''%",
        "attachment; filename*=UTF-8''%4", "attachment; filename*=UTF-8''ab%e",
        "attachment; filename*=UTF-8''%zz", "attachment; filename*=UTF-8''%4g",
        "attachment; filename*=UTF-8", "attachment; filename*=UTF-8'",
        "attachment; filename*=UTF-8'en", "attachment; filename*=''",
        "attachment; filename*=UTF-8''", "attachment; filename*=\"UTF-8''a",
        ";;;;=;=\"", "\"", "\\", "attachment; \"filename\"=\"x",
        /* an unterminated quote swallows what follows it */
        "attachment; title=\"oops; filename=x.txt",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(name(bad[i]));
    /* what came before the broken part still counts */
    assert_string_equal(name("attachment; filename*=UTF-8''ok.txt; filename=\"broken"),
                        "ok.txt");
    assert_string_equal(name("attachment; filename=ok.txt; filename*=UTF-8''%e"), "ok.txt");
    /* junk after a quoted value is skipped */
    assert_string_equal(name("attachment; filename=\"a.txt\"junk; size=1"), "a.txt");
}

static void buffer_sizes(void **s)
{
    (void)s;
    char buf[8];
    /* "a.txt" needs 6 bytes */
    assert_int_equal(disposition_filename("attachment; filename=\"a.txt\"", buf, 6), 0);
    assert_string_equal(buf, "a.txt");
    memcpy(buf, "junk", 5);
    assert_int_equal(disposition_filename("attachment; filename=\"a.txt\"", buf, 5), -1);
    assert_string_equal(buf, "");
    /* "€" decodes to 3 bytes */
    assert_int_equal(disposition_filename("attachment; filename*=UTF-8''%e2%82%ac", buf, 4), 0);
    assert_string_equal(buf, "\xe2\x82\xac");
    assert_int_equal(disposition_filename("attachment; filename*=UTF-8''%e2%82%ac", buf, 3), -1);
    assert_string_equal(buf, "");
    /* a filename* that does not fit is not replaced by the plain name */
    assert_int_equal(
        disposition_filename("attachment; filename*=UTF-8''longer.txt; filename=a", buf, 8), -1);
    assert_string_equal(buf, "");
    /* latin1 grows when converted: "caf\xc3\xa9" is 5 bytes */
    assert_int_equal(disposition_filename("attachment; filename*=iso-8859-1''caf%E9", buf, 6), 0);
    assert_string_equal(buf, "caf\xc3\xa9");
    assert_int_equal(disposition_filename("attachment; filename*=iso-8859-1''caf%E9", buf, 5), -1);
    assert_int_equal(disposition_filename("attachment; filename=a", buf, 0), -1);
    assert_int_equal(disposition_filename("attachment; filename=a", NULL, 8), -1);
}

static void long_values_have_no_limit(void **s)
{
    (void)s;
    enum { N = 5000 };
    char *v = malloc(N + 64), *big = malloc(N + 1);
    assert_non_null(v);
    assert_non_null(big);
    strcpy(v, "attachment; filename=\"");
    size_t at = strlen(v);
    memset(v + at, 'n', N);
    strcpy(v + at + N, "\"");
    assert_int_equal(disposition_filename(v, big, N + 1), 0);
    assert_int_equal(strlen(big), N);
    assert_int_equal(disposition_filename(v, big, N), -1);
    free(v);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc6266_examples),
        cmocka_unit_test(quoted_and_token),
        cmocka_unit_test(whitespace_is_tolerated),
        cmocka_unit_test(unquoted_with_spaces),
        cmocka_unit_test(parameter_names_are_exact),
        cmocka_unit_test(missing_type_is_tolerated),
        cmocka_unit_test(extended_wins_in_any_order),
        cmocka_unit_test(extended_value_forms),
        cmocka_unit_test(latin1_becomes_utf8),
        cmocka_unit_test(unknown_charset_is_ignored),
        cmocka_unit_test(bad_extended_values_fall_back),
        cmocka_unit_test(traversal_is_returned_raw),
        cmocka_unit_test(nothing_usable),
        cmocka_unit_test(malformed_is_safe),
        cmocka_unit_test(buffer_sizes),
        cmocka_unit_test(long_values_have_no_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
