/* Unit tests: yt-dlp's -J output into streams (resolve.c). The JSON here is
 * shaped like yt-dlp's (the fields haul reads), written by hand: a test
 * double for sites that cannot be reached from here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/resolve.h"

static int parse(const char *json, resolved_t *r, haul_error_t *err)
{
    herr_clear(err);
    return resolve_parse(json, strlen(json), r, err);
}

static void whole_file(void **st)
{
    (void)st;
    resolved_t r;
    haul_error_t err;
    assert_int_equal(parse("{\"title\": \"A clip\", \"ext\": \"mp4\", \"protocol\": \"https\","
                           " \"url\": \"https://cdn.example/v.mp4\", \"format_id\": \"0\","
                           " \"http_headers\": {\"User-Agent\": \"UA/1\", \"Referer\": \"https://e/p\"}}",
                           &r, &err),
                     0);
    assert_string_equal(r.title, "A clip");
    assert_string_equal(r.ext, "mp4");
    assert_int_equal(r.nstreams, 1);
    assert_int_equal(r.streams[0].kind, RESOLVED_FRAGS);
    assert_string_equal(r.streams[0].name, "video");
    assert_int_equal(r.streams[0].nfrags, 1);
    assert_string_equal(r.streams[0].frags[0].url, "https://cdn.example/v.mp4");
    assert_true(r.streams[0].frags[0].length < 0);
    assert_int_equal(r.nheaders, 2);
    assert_true(strcmp(r.headers[0], "User-Agent: UA/1") == 0 ||
                strcmp(r.headers[1], "User-Agent: UA/1") == 0);
    resolved_free(&r);
}

static void hls_format(void **st)
{
    (void)st;
    resolved_t r;
    haul_error_t err;
    assert_int_equal(parse("{\"title\": \"t\", \"ext\": \"mp4\", \"protocol\": \"m3u8_native\","
                           " \"url\": \"http://h/a/index.m3u8\"}",
                           &r, &err),
                     0);
    assert_int_equal(r.streams[0].kind, RESOLVED_HLS);
    assert_string_equal(r.streams[0].url, "http://h/a/index.m3u8");
    resolved_free(&r);
}

static void dash_fragments_with_base(void **st)
{
    (void)st;
    resolved_t r;
    haul_error_t err;
    assert_int_equal(
        parse("{\"title\": \"d\", \"ext\": \"mp4\", \"requested_formats\": ["
              "{\"format_id\": \"v\", \"vcodec\": \"avc1\", \"acodec\": \"none\", \"ext\": \"mp4\","
              " \"protocol\": \"http_dash_segments\", \"url\": \"http://h/dash/manifest.mpd\","
              " \"fragment_base_url\": \"http://h/dash/v/\","
              " \"fragments\": [{\"path\": \"init.mp4\"}, {\"path\": \"seg-1.m4s\"},"
              " {\"url\": \"http://other/seg-2.m4s\"}]},"
              "{\"format_id\": \"a\", \"vcodec\": \"none\", \"acodec\": \"mp4a\", \"ext\": \"m4a\","
              " \"protocol\": \"https\", \"url\": \"https://h/a.m4a\"}]}",
              &r, &err),
        0);
    assert_int_equal(r.nstreams, 2);
    assert_string_equal(r.streams[0].name, "video");
    assert_int_equal(r.streams[0].nfrags, 3);
    assert_string_equal(r.streams[0].frags[0].url, "http://h/dash/v/init.mp4");
    assert_string_equal(r.streams[0].frags[1].url, "http://h/dash/v/seg-1.m4s");
    assert_string_equal(r.streams[0].frags[2].url, "http://other/seg-2.m4s");
    assert_string_equal(r.streams[1].name, "audio");
    assert_string_equal(r.streams[1].ext, "m4a");
    resolved_free(&r);
}

static void refused(void **st)
{
    (void)st;
    static const struct { const char *json, *code, *text; } CASES[] = {
        {"not json", "ytdlp_bad_output", "no JSON"},
        {"[1, 2]", "ytdlp_bad_output", "no JSON object"},
        {"{\"title\": \"x\"}", "ytdlp_bad_output", "no downloadable format"},
        {"{\"url\": \"rtmp://h/live\", \"protocol\": \"rtmp\", \"format_id\": \"r\"}",
         "ytdlp_unsupported", "rtmp"},
        {"{\"url\": \"file:///etc/passwd\", \"protocol\": \"http\", \"format_id\": \"f\"}",
         "ytdlp_bad_output", "no http(s) URL"},
        {"{\"_type\": \"playlist\", \"entries\": []}", "ytdlp_playlist", "playlist"},
        {"{\"url\": \"http://h/m\", \"protocol\": \"http_dash_segments\", \"fragments\": []}",
         "ytdlp_bad_output", "no fragments"},
        {"{\"requested_formats\": [{\"url\": \"http://h/1\", \"vcodec\": \"none\"},"
         " {\"url\": \"http://h/2\", \"vcodec\": \"none\"}]}",
         "ytdlp_bad_output", "two audio"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        resolved_t r;
        haul_error_t err;
        if (parse(CASES[i].json, &r, &err) == 0)
            fail_msg("accepted %s", CASES[i].json);
        assert_string_equal(err.code, CASES[i].code);
        if (!strstr(err.message, CASES[i].text))
            fail_msg("%s: message \"%s\" lacks \"%s\"", CASES[i].json, err.message,
                     CASES[i].text);
        resolved_free(&r);
    }
}

static void header_injection_dropped(void **st)
{
    (void)st;
    resolved_t r;
    haul_error_t err;
    assert_int_equal(parse("{\"url\": \"http://h/v\", \"protocol\": \"http\", \"http_headers\":"
                           " {\"X-Ok\": \"1\", \"X-Bad\": \"a\\r\\nEvil: 1\", \"Bad:Name\": \"v\"}}",
                           &r, &err),
                     0);
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(r.headers[0], "X-Ok: 1");
    resolved_free(&r);
}

/* The format as hls_parse_format reads it becomes yt-dlp's -f. */
static size_t args_for(const char *format, const char **argv, char *spec, size_t n)
{
    hls_format_t f;
    haul_error_t err;
    assert_int_equal(hls_parse_format(format, &f, &err), 0);
    return resolve_format_args(&f, argv, spec, n);
}

static void format_args(void **st)
{
    (void)st;
    const char *argv[4] = {0};
    char spec[128];
    assert_int_equal(args_for("best", argv, spec, sizeof spec), 0);
    assert_int_equal(args_for("", argv, spec, sizeof spec), 0);
    assert_int_equal(args_for("worst", argv, spec, sizeof spec), 2);
    assert_string_equal(argv[0], "-f");
    assert_string_equal(argv[1], "worst");
    assert_int_equal(args_for("720P", argv, spec, sizeof spec), 2);
    assert_non_null(strstr(argv[1], "height<=720]"));
    assert_int_equal(args_for("800k", argv, spec, sizeof spec), 2);
    assert_non_null(strstr(argv[1], "tbr<=800]"));
    assert_int_equal(args_for("2.5m", argv, spec, sizeof spec), 2);
    assert_non_null(strstr(argv[1], "tbr<=2500]"));
    assert_int_equal(args_for("1500000", argv, spec, sizeof spec), 2);
    assert_non_null(strstr(argv[1], "tbr<=1500]"));
    hls_format_t f;
    haul_error_t err;
    assert_int_equal(hls_parse_format("72.5p", &f, &err), -1);
    assert_string_equal(err.code, "bad_format");
}

/* How a run of yt-dlp ended: its complaint, trimmed, or its output cap. */
static void run_checked(void **st)
{
    (void)st;
    haul_error_t err;
    herr_clear(&err);
    assert_int_equal(resolve_check_run(0, 100, "", "http://h/p", &err), 0);
    assert_int_equal(resolve_check_run(1, 0,
                                       "WARNING: x\nERROR: [generic] Unable to download webpage: "
                                       "HTTP Error 404; please report this issue on https://…",
                                       "http://h/p", &err),
                     -1);
    assert_string_equal(err.code, "ytdlp_failed");
    assert_non_null(strstr(err.message, "http://h/p (exit 1): [generic] Unable to download "
                                        "webpage: HTTP Error 404"));
    assert_null(strstr(err.message, "report"));
    assert_null(strstr(err.message, "ERROR:"));
    assert_int_equal(resolve_check_run(137, 0, "", "http://h/p", &err), -1);
    assert_non_null(strstr(err.message, "no message"));
    assert_int_equal(resolve_check_run(0, RESOLVE_MAX_JSON + 1, "", "http://h/p", &err), -1);
    assert_string_equal(err.code, "ytdlp_bad_output");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_file),
        cmocka_unit_test(hls_format),
        cmocka_unit_test(dash_fragments_with_base),
        cmocka_unit_test(refused),
        cmocka_unit_test(header_injection_dropped),
        cmocka_unit_test(format_args),
        cmocka_unit_test(run_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
