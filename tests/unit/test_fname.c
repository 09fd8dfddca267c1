/* Unit tests: safe file names from untrusted text, URL names, clashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/fname.h"

static char out[FNAME_MAX + 1];

/* fname_sanitize(in), which must succeed. */
static const char *san(const char *in)
{
    assert_int_equal(fname_sanitize(in, out, sizeof out), 0);
    return out;
}

/* fname_from_url(url): the name, or NULL on -1 (then out must be ""). */
static const char *from_url(const char *url)
{
    if (fname_from_url(url, out, sizeof out) != 0) {
        assert_string_equal(out, "");
        return NULL;
    }
    return out;
}

/* fname_numbered(name, n), which must succeed. */
static const char *numbered(const char *name, unsigned n)
{
    assert_int_equal(fname_numbered(name, n, out, sizeof out), 0);
    return out;
}

/* True when s is entirely valid UTF-8 (no overlongs, no surrogates). */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp, n, min;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xE0) == 0xC0) {
            n = 1, cp = *p & 0x1Fu, min = 0x80;
        } else if ((*p & 0xF0) == 0xE0) {
            n = 2, cp = *p & 0x0Fu, min = 0x800;
        } else if ((*p & 0xF8) == 0xF0) {
            n = 3, cp = *p & 0x07u, min = 0x10000;
        } else {
            return 0;
        }
        p++;
        for (unsigned i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

/* Every sanitized name must satisfy these, whatever the input. */
static void assert_safe(const char *name)
{
    size_t len = strlen(name);
    assert_true(len > 0 && len <= FNAME_MAX);
    assert_true(name[0] != '.' && name[0] != ' ');
    assert_true(name[len - 1] != '.' && name[len - 1] != ' ');
    assert_null(strchr(name, '/'));
    assert_null(strchr(name, '\\'));
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
    assert_true(valid_utf8(name));
}

/* A string of n copies of unit followed by tail, in buf (cap bytes). */
static char *repeat(char *buf, size_t cap, const char *unit, size_t n, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    assert_true(u * n + t < cap);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * u, unit, u);
    memcpy(buf + u * n, tail, t + 1);
    return buf;
}

/* ---- fname_sanitize --------------------------------------------------- */

static void plain_names_stay(void **s)
{
    (void)s;
    assert_string_equal(san("video.mp4"), "video.mp4");
    assert_string_equal(san("My Holiday (2024).mkv"), "My Holiday (2024).mkv");
    assert_string_equal(san("caf\xc3\xa9 \xe2\x82\xac.txt"), "caf\xc3\xa9 \xe2\x82\xac.txt");
    assert_string_equal(san("\xf0\x9f\x98\x80 smile.png"), "\xf0\x9f\x98\x80 smile.png");
    assert_string_equal(san("a  b..c"), "a  b..c");       /* nothing collapsed */
    assert_string_equal(san("a:b*c?<d>|e\".txt"), "a:b*c?<d>|e\".txt"); /* Linux */
    assert_string_equal(san("CON"), "CON");
    assert_string_equal(san("x"), "x");
}

static void traversal_is_defused(void **s)
{
    (void)s;
    assert_string_equal(san("../../etc/passwd"), "_.._etc_passwd");
    assert_string_equal(san("..\\..\\windows\\system32"), "_.._windows_system32");
    assert_string_equal(san("/etc/passwd"), "_etc_passwd");
    assert_string_equal(san("a/../../b"), "a_.._.._b");
    assert_string_equal(san("./x"), "_x");
    assert_string_equal(san("dir/"), "dir_");
    const char *bad[] = {"../../etc/passwd", "..", ".", "/", "//", "a/../../b", "..\\..",
                         ".hidden", "...", " . ", "./x", "../", "/..", ". ./.. /"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        san(bad[i]);
        assert_safe(out);
    }
}

static void empty_and_dot_names(void **s)
{
    (void)s;
    assert_string_equal(san(".."), "download");
    assert_string_equal(san("."), "download");
    assert_string_equal(san("..."), "download");
    assert_string_equal(san(""), "download");
    assert_string_equal(san("   "), "download");
    assert_string_equal(san(" . . "), "download");
    assert_string_equal(san(NULL), "download");
}

static void leading_and_trailing_dots_and_spaces(void **s)
{
    (void)s;
    assert_string_equal(san(".hidden"), "hidden");
    assert_string_equal(san("...x"), "x");
    assert_string_equal(san(". .x"), "x");
    assert_string_equal(san("  name.txt  "), "name.txt");
    assert_string_equal(san("name..."), "name");
    assert_string_equal(san("name. . ."), "name");
    assert_string_equal(san(" \t x"), "_ x"); /* a tab is a control char, kept as '_' */
    char dots[700];
    assert_string_equal(san(repeat(dots, sizeof dots, ".", 600, "x.txt")), "x.txt");
}

static void control_chars(void **s)
{
    (void)s;
    assert_string_equal(san("a\nb\tc\x7f.txt"), "a_b_c_.txt");
    assert_string_equal(san("\x01\x02\x03"), "___");
    assert_string_equal(san("x\r\n"), "x__");
    assert_string_equal(san("\x1b[31mred"), "_[31mred");
}

static void invalid_utf8(void **s)
{
    (void)s;
    assert_string_equal(san("bad\xff\xfe.bin"), "bad__.bin");
    assert_string_equal(san("over\xc0\xaflong"), "over__long");   /* overlong '/' */
    assert_string_equal(san("\xe0\x80\xae\xe0\x80\xae"), "______"); /* overlong ".." */
    assert_string_equal(san("cut\xe2\x82"), "cut__");              /* truncated */
    assert_string_equal(san("\xe2\x82.txt"), "__.txt");
    assert_string_equal(san("sur\xed\xa0\x80"), "sur___");         /* surrogate */
    assert_string_equal(san("big\xf4\x90\x80\x80"), "big____");    /* > U+10FFFF */
    assert_string_equal(san("\x80x"), "_x");                       /* stray continuation */
    assert_string_equal(san("\xf8\x88\x80\x80\x80"), "_____");     /* 5-byte form */
    assert_safe(san("\xc3"));
    assert_string_equal(out, "_");
}

static void long_name_keeps_extension(void **s)
{
    (void)s;
    char in[400], want[FNAME_MAX + 1];
    san(repeat(in, sizeof in, "a", 300, ".mp4"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX - 4, ".mp4"));
    assert_int_equal(strlen(out), FNAME_MAX);

    /* no extension: a plain cut */
    san(repeat(in, sizeof in, "a", 300, ""));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX, ""));

    /* exactly FNAME_MAX bytes is left alone */
    repeat(in, sizeof in, "z", FNAME_MAX - 4, ".mkv");
    assert_string_equal(san(in), in);
}

static void long_name_extension_limits(void **s)
{
    (void)s;
    char in[400], want[FNAME_MAX + 1];
    /* a 16-byte extension (dot included) is kept */
    san(repeat(in, sizeof in, "a", 300, ".abcdefghijklmno"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX - 16, ".abcdefghijklmno"));
    /* a 17-byte one is not an extension */
    san(repeat(in, sizeof in, "a", 300, ".abcdefghijklmnop"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX, ""));
    /* nor is a dot followed by words */
    san(repeat(in, sizeof in, "a", 300, ".mp4 copy"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX, ""));
    /* a known double extension is kept whole */
    san(repeat(in, sizeof in, "a", 300, ".tar.gz"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX - 7, ".tar.gz"));
}

static void long_name_cut_on_utf8_boundary(void **s)
{
    (void)s;
    char in[700], want[FNAME_MAX + 1];
    /* 150 x 'é' (2 bytes) + ".txt": 98 of them fit before the extension */
    san(repeat(in, sizeof in, "\xc3\xa9", 150, ".txt"));
    assert_string_equal(out, repeat(want, sizeof want, "\xc3\xa9", 98, ".txt"));
    /* shifted by one byte: the 'é' that would straddle the cut goes */
    in[0] = 'x';
    memcpy(in + 1, repeat(want, sizeof want, "\xc3\xa9", 99, ""), 198);
    repeat(in + 199, sizeof in - 199, "\xc3\xa9", 50, ".txt");
    san(in);
    assert_int_equal(strlen(out), FNAME_MAX - 1);
    assert_int_equal((unsigned char)out[194], 0xa9);
    assert_string_equal(out + 195, ".txt");
    assert_safe(out);
    /* 3-byte '€' without extension: 66 fit (198 bytes), never half of one */
    san(repeat(in, sizeof in, "\xe2\x82\xac", 100, ""));
    assert_string_equal(out, repeat(want, sizeof want, "\xe2\x82\xac", 66, ""));
    /* 4-byte emoji */
    san(repeat(in, sizeof in, "\xf0\x9f\x98\x80", 60, ".jpg"));
    assert_string_equal(out, repeat(want, sizeof want, "\xf0\x9f\x98\x80", 49, ".jpg"));
}

static void long_name_cut_edges(void **s)
{
    (void)s;
    char in[400], want[FNAME_MAX + 1];
    /* the cut must not leave a trailing space */
    repeat(in, sizeof in, "a", FNAME_MAX - 1, " ");
    strcat(in, " bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    assert_string_equal(san(in), repeat(want, sizeof want, "a", FNAME_MAX - 1, ""));
    /* invalid bytes count one '_' each */
    san(repeat(in, sizeof in, "\xff", 250, ".bin"));
    assert_string_equal(out, repeat(want, sizeof want, "_", FNAME_MAX - 4, ".bin"));
    /* the extension is cleaned as well */
    san(repeat(in, sizeof in, "a", 300, ".b\x01n"));
    assert_string_equal(out, repeat(want, sizeof want, "a", FNAME_MAX - 4, ".b_n"));
}

static void very_long_input(void **s)
{
    (void)s;
    enum { BIG = 20000 };
    char *in = malloc(BIG + 8);
    char want[FNAME_MAX + 1];
    assert_non_null(in);
    memset(in, 'a', BIG);
    strcpy(in + BIG, ".mkv");
    assert_string_equal(san(in), repeat(want, sizeof want, "a", FNAME_MAX - 4, ".mkv"));
    free(in);
}

static void small_buffer_is_refused(void **s)
{
    (void)s;
    char small[FNAME_MAX] = "junk";
    assert_int_equal(fname_sanitize("x", small, sizeof small), -1);
    assert_string_equal(small, "");
    assert_int_equal(fname_sanitize("x", NULL, 500), -1);
}

/* ---- fname_from_url --------------------------------------------------- */

static void url_last_segment(void **s)
{
    (void)s;
    assert_string_equal(from_url("http://h/a/b/video.mp4?x=1"), "video.mp4");
    assert_string_equal(from_url("http://h/a/b/video.mp4?x=1#frag"), "video.mp4");
    assert_string_equal(from_url("http://h/a/b/video.mp4#frag/x.y"), "video.mp4");
    assert_string_equal(from_url("https://h:8080/dir/"), "dir");
    assert_string_equal(from_url("http://h/dir//"), "dir");
    assert_string_equal(from_url("http://h/f.zip"), "f.zip");
    assert_string_equal(from_url("HTTPS://H/F.ZIP"), "F.ZIP");
    assert_string_equal(from_url("http://user:pw@h/f.zip"), "f.zip");
    assert_string_equal(from_url("http://[::1]:8080/f.zip"), "f.zip");
    assert_string_equal(from_url("http://h/dl?file=/x/y.mp4"), "dl");
    assert_string_equal(from_url("http://h/a?u=http://evil/b.exe"), "a");
}

static void url_without_segment(void **s)
{
    (void)s;
    assert_null(from_url("http://h/"));
    assert_null(from_url("http://h"));
    assert_null(from_url("http://h///"));
    assert_null(from_url("http://h?q=/a.b"));
    assert_null(from_url("http://h#/a.b"));
    assert_null(from_url("http://h/?q=a.b"));
    assert_null(from_url("http://"));
    assert_null(from_url(""));
    assert_null(from_url("/x.mp4"));               /* not absolute */
    assert_null(from_url("no scheme/x.mp4"));
    assert_null(from_url("x?u=http://h/evil.exe")); /* "://" in the query */
    assert_null(from_url(NULL));
    /* segments that sanitize to nothing are not usable either */
    assert_null(from_url("http://h/%2e%2e"));
    assert_null(from_url("http://h/a/.."));
    assert_null(from_url("http://h/%20"));
}

static void url_percent_decoding(void **s)
{
    (void)s;
    assert_string_equal(from_url("http://h/my%20file.txt"), "my file.txt");
    assert_string_equal(from_url("http://h/caf%C3%A9.txt"), "caf\xc3\xa9.txt");
    assert_string_equal(from_url("http://h/caf%c3%a9.txt"), "caf\xc3\xa9.txt");
    assert_string_equal(from_url("http://h/100%25.txt"), "100%.txt");
    assert_string_equal(from_url("http://h/a+b.txt"), "a+b.txt"); /* '+' is no space */
    assert_string_equal(from_url("http://h/x%zz%4"), "x%zz%4");   /* bad escapes stay */
    assert_string_equal(from_url("http://h/a%"), "a%");
    assert_string_equal(from_url("http://h/a%0"), "a%0");
    assert_string_equal(from_url("http://h/a%00b"), "a_b");
    assert_string_equal(from_url("http://h/a%0Ab"), "a_b");
    assert_string_equal(from_url("http://h/%ff.bin"), "_.bin");
    assert_string_equal(from_url("http://h/%3Fq.txt"), "?q.txt"); /* escaped '?' is data */
}

static void url_traversal(void **s)
{
    (void)s;
    assert_string_equal(from_url("http://h/a%2F..%2F..%2Fevil"), "a_.._.._evil");
    assert_string_equal(from_url("http://h/..%2F..%2Fetc%2Fpasswd"), "_.._etc_passwd");
    assert_string_equal(from_url("http://h/..%5C..%5Cwin.ini"), "_.._win.ini");
    assert_string_equal(from_url("http://h/%2e%2e%2f%2e%2e%2fx"), "_.._x");
    assert_string_equal(from_url("http://h/.profile"), "profile");
}

static void url_long_segment(void **s)
{
    (void)s;
    char url[400], want[FNAME_MAX + 1];
    strcpy(url, "http://h/");
    repeat(url + 9, sizeof url - 9, "a", 300, ".mp4?x=1");
    assert_string_equal(from_url(url), repeat(want, sizeof want, "a", FNAME_MAX - 4, ".mp4"));
    char small[10] = "junk";
    assert_int_equal(fname_from_url("http://h/a.txt", small, sizeof small), -1);
    assert_string_equal(small, "");
}

/* ---- fname_numbered --------------------------------------------------- */

static void numbered_simple(void **s)
{
    (void)s;
    assert_string_equal(numbered("a.mp4", 1), "a (1).mp4");
    assert_string_equal(numbered("README", 3), "README (3)");
    assert_string_equal(numbered("My Film (2024).mkv", 2), "My Film (2024) (2).mkv");
    assert_string_equal(numbered("a.mp4", 4294967295u), "a (4294967295).mp4");
    assert_string_equal(numbered("caf\xc3\xa9.txt", 9), "caf\xc3\xa9 (9).txt");
}

static void numbered_extensions(void **s)
{
    (void)s;
    assert_string_equal(numbered("archive.tar.gz", 2), "archive (2).tar.gz");
    assert_string_equal(numbered("archive.tar.bz2", 1), "archive (1).tar.bz2");
    assert_string_equal(numbered("archive.tar.xz", 1), "archive (1).tar.xz");
    assert_string_equal(numbered("archive.tar.zst", 1), "archive (1).tar.zst");
    assert_string_equal(numbered("ARCHIVE.TAR.GZ", 1), "ARCHIVE (1).TAR.GZ");
    /* other double extensions are not special */
    assert_string_equal(numbered("backup.zip.gz", 1), "backup.zip (1).gz");
    assert_string_equal(numbered("v1.2.3", 1), "v1.2 (1).3");
    /* a leading dot only: no extension */
    assert_string_equal(numbered(".bashrc", 1), ".bashrc (1)");
    assert_string_equal(numbered(".tar.gz", 1), ".tar (1).gz");
    /* a dot followed by words, or too long a tail, is no extension */
    assert_string_equal(numbered("Mr. Smith goes", 1), "Mr. Smith goes (1)");
    assert_string_equal(numbered("a.averyveryverylongtail", 1), "a.averyveryverylongtail (1)");
    assert_string_equal(numbered("name.", 1), "name. (1)");
}

static void numbered_long_names_fit(void **s)
{
    (void)s;
    char in[FNAME_MAX + 1], want[FNAME_MAX + 1];
    repeat(in, sizeof in, "b", FNAME_MAX - 4, ".mkv");
    assert_string_equal(numbered(in, 12),
                        repeat(want, sizeof want, "b", FNAME_MAX - 9, " (12).mkv"));
    repeat(in, sizeof in, "b", FNAME_MAX - 7, ".tar.gz");
    assert_string_equal(numbered(in, 1),
                        repeat(want, sizeof want, "b", FNAME_MAX - 11, " (1).tar.gz"));
    /* the stem is cut on a UTF-8 boundary: 'x' + 97 x 'é' + ".mkv" */
    in[0] = 'x';
    repeat(in + 1, sizeof in - 1, "\xc3\xa9", 97, ".mkv");
    numbered(in, 1);
    assert_int_equal(strlen(out), 1 + 95 * 2 + 4 + 4);
    assert_int_equal((unsigned char)out[190], 0xa9);
    assert_string_equal(out + 191, " (1).mkv");
    assert_true(valid_utf8(out));
}

static void numbered_refusals(void **s)
{
    (void)s;
    char small[FNAME_MAX] = "junk";
    assert_int_equal(fname_numbered("a.mp4", 1, small, sizeof small), -1);
    assert_string_equal(small, "");
    assert_int_equal(fname_numbered("", 1, out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(fname_numbered(NULL, 1, out, sizeof out), -1);
}

static void numbered_of_sanitized_is_safe(void **s)
{
    (void)s;
    const char *inputs[] = {"../../etc/passwd", "a.mp4", "\xff\xfe", ".x.tar.gz", "é.é"};
    char name[FNAME_MAX + 1];
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        assert_int_equal(fname_sanitize(inputs[i], name, sizeof name), 0);
        for (unsigned n = 1; n < 1000; n *= 7) {
            numbered(name, n);
            assert_safe(out);
            assert_string_not_equal(out, name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_names_stay),
        cmocka_unit_test(traversal_is_defused),
        cmocka_unit_test(empty_and_dot_names),
        cmocka_unit_test(leading_and_trailing_dots_and_spaces),
        cmocka_unit_test(control_chars),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(long_name_keeps_extension),
        cmocka_unit_test(long_name_extension_limits),
        cmocka_unit_test(long_name_cut_on_utf8_boundary),
        cmocka_unit_test(long_name_cut_edges),
        cmocka_unit_test(very_long_input),
        cmocka_unit_test(small_buffer_is_refused),
        cmocka_unit_test(url_last_segment),
        cmocka_unit_test(url_without_segment),
        cmocka_unit_test(url_percent_decoding),
        cmocka_unit_test(url_traversal),
        cmocka_unit_test(url_long_segment),
        cmocka_unit_test(numbered_simple),
        cmocka_unit_test(numbered_extensions),
        cmocka_unit_test(numbered_long_names_fit),
        cmocka_unit_test(numbered_refusals),
        cmocka_unit_test(numbered_of_sanitized_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
