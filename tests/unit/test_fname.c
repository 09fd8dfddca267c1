/* Unit tests: safe file names from untrusted text, URL names, clashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/fname.h"

static char out[FNAME_MAX + 1];

static const char *san(const char *in)
{
    assert_int_equal(fname_sanitize(in, out, sizeof out), 0);
    return out;
}

/* every sanitized name must satisfy these, whatever the input */
static void assert_safe(const char *name)
{
    assert_true(name[0] != '\0');
    assert_true(name[0] != '.');
    assert_null(strchr(name, '/'));
    assert_null(strchr(name, '\\'));
    assert_true(strlen(name) <= FNAME_MAX);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
}

static void plain_names_stay(void **s)
{
    (void)s;
    assert_string_equal(san("video.mp4"), "video.mp4");
    assert_string_equal(san("My Holiday (2024).mkv"), "My Holiday (2024).mkv");
    assert_string_equal(san("café €.txt"), "café €.txt");
}

static void traversal_is_defused(void **s)
{
    (void)s;
    const char *bad[] = {"../../etc/passwd", "..", ".", "/etc/passwd", "a/../../b",
                         "..\\..\\windows", ".hidden", "...", " . ", "./x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        san(bad[i]);
        assert_safe(out);
        assert_string_not_equal(out, "..");
    }
    assert_string_equal(san(".."), "download");
    assert_string_equal(san("."), "download");
    assert_string_equal(san(""), "download");
    assert_string_equal(san(".hidden"), "hidden");
    assert_string_equal(san("/etc/passwd"), "_etc_passwd");
}

static void control_chars_and_bad_utf8(void **s)
{
    (void)s;
    assert_string_equal(san("a\nb\tc\x7f.txt"), "a_b_c_.txt");
    assert_string_equal(san("bad\xff\xfe.bin"), "bad__.bin");
    assert_string_equal(san("over\xc0\xaflong"), "over__long"); /* overlong '/' */
    assert_string_equal(san("cut\xe2\x82"), "cut__");           /* truncated sequence */
    assert_string_equal(san("sur\xed\xa0\x80"), "sur___");      /* UTF-16 surrogate */
    assert_safe(san("\x01\x02\x03"));
}

static void trailing_dots_and_spaces_go(void **s)
{
    (void)s;
    assert_string_equal(san("  name.txt  "), "name.txt");
    assert_string_equal(san("name..."), "name");
}

static void long_names_are_cut_keeping_extension(void **s)
{
    (void)s;
    char in[400];
    memset(in, 'a', 300);
    strcpy(in + 300, ".mp4");
    san(in);
    assert_int_equal(strlen(out), FNAME_MAX);
    assert_string_equal(out + FNAME_MAX - 4, ".mp4");
    /* multibyte characters at the cut stay whole */
    char mb[700] = "";
    for (int i = 0; i < 150; i++)
        strcat(mb, "\xc3\xa9"); /* é, 2 bytes */
    strcat(mb, ".txt");
    san(mb);
    assert_true(strlen(out) <= FNAME_MAX);
    assert_string_equal(out + strlen(out) - 4, ".txt");
    size_t stem = strlen(out) - 4;
    assert_int_equal(stem % 2, 0); /* no half é */
    assert_safe(out);
}

static void too_small_buffer(void **s)
{
    (void)s;
    char small[10];
    assert_int_equal(fname_sanitize("x", small, sizeof small), -1);
}

static void names_from_urls(void **s)
{
    (void)s;
    assert_int_equal(fname_from_url("http://h/a/b/video.mp4?x=1#frag", out, sizeof out), 0);
    assert_string_equal(out, "video.mp4");
    assert_int_equal(fname_from_url("https://h:8080/dir/", out, sizeof out), 0);
    assert_string_equal(out, "dir");
    assert_int_equal(fname_from_url("http://h/my%20file.txt", out, sizeof out), 0);
    assert_string_equal(out, "my file.txt");
    assert_int_equal(fname_from_url("http://h/a%2F..%2F..%2Fevil", out, sizeof out), 0);
    assert_safe(out);
    assert_int_equal(fname_from_url("http://h/%2e%2e", out, sizeof out), 0);
    assert_string_equal(out, "download");
    assert_int_equal(fname_from_url("http://h/x%zz%4", out, sizeof out), 0);
    assert_string_equal(out, "x%zz%4");
    assert_int_equal(fname_from_url("http://h/", out, sizeof out), -1);
    assert_int_equal(fname_from_url("http://h", out, sizeof out), -1);
    assert_int_equal(fname_from_url("http://h?q=/a.b", out, sizeof out), -1);
}

static void numbered_names(void **s)
{
    (void)s;
    assert_int_equal(fname_numbered("a.mp4", 1, out, sizeof out), 0);
    assert_string_equal(out, "a (1).mp4");
    assert_int_equal(fname_numbered("archive.tar.gz", 2, out, sizeof out), 0);
    assert_string_equal(out, "archive (2).tar.gz");
    assert_int_equal(fname_numbered("README", 3, out, sizeof out), 0);
    assert_string_equal(out, "README (3)");
    char in[FNAME_MAX + 1];
    memset(in, 'b', FNAME_MAX - 4);
    strcpy(in + FNAME_MAX - 4, ".mkv");
    assert_int_equal(fname_numbered(in, 12, out, sizeof out), 0);
    assert_true(strlen(out) <= FNAME_MAX);
    assert_string_equal(out + strlen(out) - 9, " (12).mkv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_names_stay),
        cmocka_unit_test(traversal_is_defused),
        cmocka_unit_test(control_chars_and_bad_utf8),
        cmocka_unit_test(trailing_dots_and_spaces_go),
        cmocka_unit_test(long_names_are_cut_keeping_extension),
        cmocka_unit_test(too_small_buffer),
        cmocka_unit_test(names_from_urls),
        cmocka_unit_test(numbered_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
