/* Unit tests: HLS playlists (RFC 8216) into structs, DRM and live checks,
 * choosing a variant and its audio, segment IVs. Every input is handed
 * over in an exact-size heap block without a NUL, so a read past the end
 * is an ASan finding; LeakSanitizer checks every error path frees all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/hls.h"

static const char *BASE = "https://media.example.com/videos/show/index.m3u8?token=abc";

/* Parses text (copied without its NUL) fetched from BASE. */
static int parse_n(const char *text, size_t len, hls_playlist_t *pl, haul_error_t *e)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    herr_clear(e);
    int rc = hls_parse(copy, len, BASE, pl, e);
    free(copy);
    if (rc != 0) { /* failure leaves nothing behind; hls_free is harmless */
        assert_null(pl->segments);
        assert_null(pl->variants);
        assert_int_equal(pl->nsegments, 0);
        hls_free(pl);
    } else {
        assert_string_equal(e->code, "");
    }
    return rc;
}

static int parse(const char *text, hls_playlist_t *pl, haul_error_t *e)
{
    return parse_n(text, strlen(text), pl, e);
}

/* Asserts text fails with code, and that the message holds each of the
 * NULL-terminated fragments. */
static void expect_error(const char *text, const char *code, ...)
{
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(text, &pl, &e), -1);
    assert_string_equal(e.code, code);
    va_list ap;
    va_start(ap, code);
    for (const char *frag; (frag = va_arg(ap, const char *));) {
        if (!strstr(e.message, frag))
            fail_msg("\"%s\" not in \"%s\"", frag, e.message);
    }
    va_end(ap);
}

static void vod_media_playlist(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-VERSION:3\n"
                           "#EXT-X-TARGETDURATION:10\n"
                           "#EXT-X-MEDIA-SEQUENCE:40\n"
                           "#EXT-X-PLAYLIST-TYPE:VOD\n"
                           "# a comment\n"
                           "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n"
                           "#EXTINF:9.009,first part\n"
                           "seg0.ts\n"
                           "#EXTINF:10,\n"
                           "seg1.ts?x=1\n"
                           "#EXT-X-SOMETHING-NEW:A=1\n"
                           "#EXTINF:3.5\n"
                           "sub/seg2.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_false(pl.is_master);
    assert_int_equal(pl.version, 3);
    assert_true(pl.target_duration == 10);
    assert_true(pl.endlist);
    assert_string_equal(pl.playlist_type, "VOD");
    assert_int_equal(pl.media_sequence, 40);
    assert_int_equal(pl.nsegments, 3);
    assert_string_equal(pl.segments[0].uri, "https://media.example.com/videos/show/seg0.ts");
    assert_string_equal(pl.segments[1].uri, "https://media.example.com/videos/show/seg1.ts?x=1");
    assert_string_equal(pl.segments[2].uri, "https://media.example.com/videos/show/sub/seg2.ts");
    assert_true(pl.segments[0].duration > 9.0089 && pl.segments[0].duration < 9.0091);
    assert_true(pl.segments[1].duration == 10.0);
    assert_true(pl.segments[2].duration == 3.5);
    assert_string_equal(pl.segments[0].title, "first part");
    assert_null(pl.segments[1].title);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pl.segments[i].msn, 40 + i);
        assert_int_equal(pl.segments[i].key, -1);
        assert_int_equal(pl.segments[i].map, -1);
        assert_int_equal(pl.segments[i].length, -1);
        assert_int_equal(pl.segments[i].offset, 0);
        assert_false(pl.segments[i].discontinuity);
    }
    assert_int_equal(hls_check_media(&pl, 0, &e), 0);
    hls_free(&pl);
    hls_free(&pl); /* twice is harmless */
    assert_null(pl.segments);
}

static void relative_uri_forms(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXTINF:1,\n../a/b.ts\n"
                           "#EXTINF:1,\n/x.ts\n"
                           "#EXTINF:1,\nhttp://cdn.other.net/z.ts?sig=1\n"
                           "#EXTINF:1,\n//cdn2.example.net/y.ts\n"
                           "#EXTINF:1,\n./c%20d.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nsegments, 5);
    assert_string_equal(pl.segments[0].uri, "https://media.example.com/videos/a/b.ts");
    assert_string_equal(pl.segments[1].uri, "https://media.example.com/x.ts");
    assert_string_equal(pl.segments[2].uri, "http://cdn.other.net/z.ts?sig=1");
    assert_string_equal(pl.segments[3].uri, "https://cdn2.example.net/y.ts");
    assert_string_equal(pl.segments[4].uri, "https://media.example.com/videos/show/c%20d.ts");
    assert_int_equal(pl.segments[0].msn, 0);
    hls_free(&pl);

    /* only http(s): a playlist must not point haul at local files */
    expect_error("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "hls_bad_playlist",
                 "file:///etc/passwd", "line 3", "http", NULL);
    expect_error("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"ftp://h/k\"\n#EXTINF:1,\na.ts\n",
                 "hls_bad_playlist", "ftp://h/k", "line 2", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nFILE:///v.m3u8\n",
                 "hls_bad_playlist", "line 3", NULL);
}

static void aes128_with_iv(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.bin\","
                           "IV=0x000102030405060708090A0B0C0Dfeff\n"
                           "#EXTINF:4,\na.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nkeys, 1);
    const hls_key_t *k = &pl.keys[0];
    assert_int_equal(k->method, HLS_KEY_AES128);
    assert_string_equal(k->method_name, "AES-128");
    assert_string_equal(k->uri, "https://media.example.com/videos/show/keys/k1.bin");
    assert_null(k->keyformat);
    assert_true(k->has_iv);
    static const unsigned char want[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c,
                                           0x0d, 0xfe, 0xff};
    assert_memory_equal(k->iv, want, 16);
    assert_int_equal(pl.segments[0].key, 0);
    unsigned char iv[16];
    hls_segment_iv(&pl, 0, iv);
    assert_memory_equal(iv, want, 16);
    assert_int_equal(hls_check_media(&pl, 0, &e), 0);
    hls_free(&pl);
}

static void aes128_iv_from_sequence_number(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-MEDIA-SEQUENCE:72623859790382856\n" /* 0x0102030405060708 */
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example.com/k?id=9\"\n"
                           "#EXTINF:4,\na.ts\n"
                           "#EXTINF:4,\nb.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_false(pl.keys[0].has_iv);
    assert_string_equal(pl.keys[0].uri, "https://keys.example.com/k?id=9");
    unsigned char iv[16];
    static const unsigned char want0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    static const unsigned char want1[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 9};
    hls_segment_iv(&pl, 0, iv);
    assert_memory_equal(iv, want0, 16);
    hls_segment_iv(&pl, 1, iv);
    assert_memory_equal(iv, want1, 16);
    static const unsigned char zero[16] = {0};
    hls_segment_iv(&pl, 2, iv); /* out of range */
    assert_memory_equal(iv, zero, 16);
    hls_free(&pl);
}

static void key_rotation_and_method_none(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXTINF:4,\nclear0.ts\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"k1\"\n"
                           "#EXTINF:4,\na.ts\n"
                           "#EXTINF:4,\nb.ts\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"k2\","
                           "IV=0xffffffffffffffffffffffffffffffff\n"
                           "#EXTINF:4,\nc.ts\n"
                           "#EXT-X-KEY:METHOD=NONE\n"
                           "#EXTINF:4,\nclear1.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nkeys, 2);
    assert_int_equal(pl.nsegments, 5);
    assert_int_equal(pl.segments[0].key, -1);
    assert_int_equal(pl.segments[1].key, 0);
    assert_int_equal(pl.segments[2].key, 0);
    assert_int_equal(pl.segments[3].key, 1);
    assert_int_equal(pl.segments[4].key, -1);
    assert_string_equal(pl.keys[0].uri, "https://media.example.com/videos/show/k1");
    assert_string_equal(pl.keys[1].uri, "https://media.example.com/videos/show/k2");
    unsigned char iv[16];
    hls_segment_iv(&pl, 2, iv); /* msn 2 */
    assert_int_equal(iv[15], 2);
    assert_int_equal(iv[0], 0);
    hls_segment_iv(&pl, 3, iv); /* the key's own IV */
    assert_int_equal(iv[0], 0xff);
    assert_int_equal(hls_check_media(&pl, 0, &e), 0);
    hls_free(&pl);
}

static void sample_aes_and_keyformat_are_drm(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    /* FairPlay: skd:// cannot be resolved; kept as written */
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://abc123\","
                           "KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n"
                           "#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.keys[0].method, HLS_KEY_SAMPLE_AES);
    assert_string_equal(pl.keys[0].keyformat, "com.apple.streamingkeydelivery");
    assert_non_null(pl.keys[0].uri);
    assert_int_equal(hls_check_media(&pl, 1, &e), -1);
    assert_string_equal(e.code, "hls_drm");
    assert_non_null(strstr(e.message, "SAMPLE-AES"));
    assert_non_null(strstr(e.message, "com.apple.streamingkeydelivery"));
    assert_non_null(strstr(e.message, "AES-128 streams"));
    hls_free(&pl);

    /* AES-128 with a DRM key format */
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",KEYFORMAT=\"com.widevine\"\n"
                           "#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(hls_check_media(&pl, 0, &e), -1);
    assert_string_equal(e.code, "hls_drm");
    assert_non_null(strstr(e.message, "com.widevine"));
    hls_free(&pl);

    /* KEYFORMAT="identity" is plain AES-128 */
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",KEYFORMAT=\"identity\"\n"
                           "#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_null(pl.keys[0].keyformat);
    assert_int_equal(hls_check_media(&pl, 0, &e), 0);
    hls_free(&pl);

    /* an unknown method and SAMPLE-AES-CTR */
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\"\n"
                           "#EXTINF:4,\na.ts\n"
                           "#EXT-X-KEY:METHOD=ROT13,URI=\"k\"\n"
                           "#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.keys[0].method, HLS_KEY_SAMPLE_AES);
    assert_string_equal(pl.keys[0].uri, "data:text/plain;base64,AAAA");
    assert_int_equal(pl.keys[1].method, HLS_KEY_OTHER);
    assert_string_equal(pl.keys[1].method_name, "ROT13");
    assert_int_equal(hls_check_media(&pl, 0, &e), -1);
    assert_string_equal(e.code, "hls_drm");
    hls_free(&pl);
}

static void identity_key_wins_among_alternatives(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    const char *orders[] = {
        "#EXTM3U\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\","
        "KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"clear.key\"\n"
        "#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"clear.key\"\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\","
        "KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
        "#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
    };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(parse(orders[i], &pl, &e), 0);
        assert_int_equal(pl.nkeys, 2);
        int k = pl.segments[0].key;
        assert_true(k >= 0);
        assert_int_equal(pl.keys[k].method, HLS_KEY_AES128);
        assert_string_equal(pl.keys[k].uri, "https://media.example.com/videos/show/clear.key");
        assert_int_equal(hls_check_media(&pl, 0, &e), 0); /* the unused DRM key does not count */
        hls_free(&pl);
    }
}

static void live_playlists(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:100\n"
                           "#EXTINF:6,\nlive100.ts\n#EXTINF:6,\nlive101.ts\n",
                           &pl, &e), 0);
    assert_false(pl.endlist);
    assert_int_equal(hls_check_media(&pl, 0, &e), -1);
    assert_string_equal(e.code, "hls_live");
    assert_non_null(strstr(e.message, "live stream"));
    assert_non_null(strstr(e.message, "record: true"));
    assert_int_equal(hls_check_media(&pl, 1, &e), 0);
    hls_free(&pl);

    assert_int_equal(parse("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:6,\na.ts\n", &pl, &e),
                     0);
    assert_int_equal(hls_check_media(&pl, 0, &e), -1);
    assert_string_equal(e.code, "hls_live");
    hls_free(&pl);

    /* VOD without ENDLIST is complete */
    assert_int_equal(parse("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6,\na.ts\n", &pl, &e), 0);
    assert_int_equal(hls_check_media(&pl, 0, &e), 0);
    hls_free(&pl);
}

static void maps_with_and_without_byterange(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-MAP:URI=\"init.mp4\"\n"
                           "#EXTINF:4,\na.m4s\n"
                           "#EXT-X-DISCONTINUITY\n"
                           "#EXT-X-MAP:URI=\"init.mp4\"\n" /* the same again */
                           "#EXTINF:4,\nb.m4s\n"
                           "#EXT-X-MAP:URI=\"main.mp4\",BYTERANGE=\"720@100\"\n"
                           "#EXTINF:4,\nc.m4s\n"
                           "#EXT-X-MAP:URI=\"other.mp4\",BYTERANGE=\"500\"\n"
                           "#EXTINF:4,\nd.m4s\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nmaps, 3);
    assert_string_equal(pl.maps[0].uri, "https://media.example.com/videos/show/init.mp4");
    assert_int_equal(pl.maps[0].offset, 0);
    assert_int_equal(pl.maps[0].length, -1);
    assert_int_equal(pl.maps[1].offset, 100);
    assert_int_equal(pl.maps[1].length, 720);
    assert_int_equal(pl.maps[2].offset, 0);
    assert_int_equal(pl.maps[2].length, 500);
    assert_int_equal(pl.segments[0].map, 0);
    assert_int_equal(pl.segments[1].map, 0);
    assert_int_equal(pl.segments[2].map, 1);
    assert_int_equal(pl.segments[3].map, 2);
    hls_free(&pl);

    expect_error("#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n#EXTINF:4,\na.m4s\n", "hls_bad_playlist",
                 "#EXT-X-MAP has no URI", "line 2", NULL);
    expect_error("#EXTM3U\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"x@0\"\n#EXTINF:4,\na.m4s\n",
                 "hls_bad_playlist", "#EXT-X-MAP", "line 2", NULL);
}

static void byteranges_and_continuation(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXTINF:4,\n#EXT-X-BYTERANGE:1000@0\nall.ts\n"
                           "#EXTINF:4,\n#EXT-X-BYTERANGE:2000\nall.ts\n"
                           "#EXTINF:4,\n#EXT-X-BYTERANGE:500@5000\nall.ts\n"
                           "#EXTINF:4,\n#EXT-X-BYTERANGE:300\nall.ts\n"
                           "#EXTINF:4,\nwhole.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nsegments, 5);
    assert_int_equal(pl.segments[0].offset, 0);
    assert_int_equal(pl.segments[0].length, 1000);
    assert_int_equal(pl.segments[1].offset, 1000);
    assert_int_equal(pl.segments[1].length, 2000);
    assert_int_equal(pl.segments[2].offset, 5000);
    assert_int_equal(pl.segments[2].length, 500);
    assert_int_equal(pl.segments[3].offset, 5500);
    assert_int_equal(pl.segments[3].length, 300);
    assert_int_equal(pl.segments[4].offset, 0);
    assert_int_equal(pl.segments[4].length, -1);
    hls_free(&pl);

    /* no offset on the first segment, or after another file, or after a whole one */
    expect_error("#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\na.ts\n", "hls_bad_playlist",
                 "#EXT-X-BYTERANGE", "line 3", "@offset", NULL);
    expect_error("#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@0\na.ts\n"
                 "#EXTINF:4,\n#EXT-X-BYTERANGE:100\nb.ts\n",
                 "hls_bad_playlist", "line 6", NULL);
    expect_error("#EXTM3U\n#EXTINF:4,\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\na.ts\n",
                 "hls_bad_playlist", "line 5", NULL);
    expect_error("#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:0@10\na.ts\n", "hls_bad_playlist",
                 "#EXT-X-BYTERANGE", NULL);
    expect_error("#EXTM3U\n#EXTINF:4,\n#EXT-X-BYTERANGE:9223372036854775807@1\na.ts\n",
                 "hls_bad_playlist", "#EXT-X-BYTERANGE", NULL);
}

static void discontinuities(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXTINF:4,\na.ts\n"
                           "#EXT-X-DISCONTINUITY\n"
                           "#EXTINF:4,\nad1.ts\n"
                           "#EXTINF:4,\nad2.ts\n"
                           "#EXTINF:4,\n#EXT-X-DISCONTINUITY\nb.ts\n"
                           "#EXT-X-ENDLIST\n",
                           &pl, &e), 0);
    assert_int_equal(pl.nsegments, 4);
    assert_false(pl.segments[0].discontinuity);
    assert_true(pl.segments[1].discontinuity);
    assert_false(pl.segments[2].discontinuity);
    assert_true(pl.segments[3].discontinuity);
    hls_free(&pl);
}

static const char *MASTER =
    "#EXTM3U\n"
    "#EXT-X-VERSION:6\n"
    "#EXT-X-INDEPENDENT-SEGMENTS\n"
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",LANGUAGE=\"en\",AUTOSELECT=YES,"
    "URI=\"audio/en.m3u8\"\n"
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"Deutsch\",LANGUAGE=\"de\",DEFAULT=YES,"
    "AUTOSELECT=YES,URI=\"audio/de.m3u8\"\n"
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"ac3\",NAME=\"Main\",DEFAULT=YES\n" /* muxed */
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"ac3\",NAME=\"Commentary\",URI=\"audio/comm.m3u8\"\n"
    "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English, forced\",URI=\"subs/en.m3u8\"\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=640x360,"
    "CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"aac\",FRAME-RATE=29.970\n"
    "360p.m3u8\n"
    "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"iframes.m3u8\"\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720,CODECS=\"avc1.4d401f,mp4a.40.2\","
    "AUDIO=\"ac3\"\n"
    "720p.m3u8\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=7680000,RESOLUTION=1920x1080\n"
    "https://cdn.example.net/1080p.m3u8\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=640000,RESOLUTION=416x234,AUDIO=\"none\"\n"
    "234p.m3u8\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=960x540\n"
    "540p.m3u8\n";

static void master_variants_and_audio(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(MASTER, &pl, &e), 0);
    assert_true(pl.is_master);
    assert_int_equal(pl.nsegments, 0);
    assert_int_equal(pl.nvariants, 5); /* the I-frame stream is not one */
    assert_int_equal(pl.nrenditions, 5);
    const hls_variant_t *v = &pl.variants[0];
    assert_string_equal(v->uri, "https://media.example.com/videos/show/360p.m3u8");
    assert_int_equal(v->bandwidth, 1280000);
    assert_int_equal(v->average_bandwidth, 1000000);
    assert_int_equal(v->width, 640);
    assert_int_equal(v->height, 360);
    assert_true(v->frame_rate > 29.96 && v->frame_rate < 29.98);
    assert_string_equal(v->codecs, "avc1.4d401e,mp4a.40.2");
    assert_string_equal(v->audio, "aac");
    assert_string_equal(pl.variants[2].uri, "https://cdn.example.net/1080p.m3u8");
    assert_null(pl.variants[2].audio);
    assert_null(pl.variants[2].codecs);
    assert_int_equal(pl.variants[2].average_bandwidth, 0);

    const hls_rendition_t *r = &pl.renditions[0];
    assert_string_equal(r->type, "AUDIO");
    assert_string_equal(r->group_id, "aac");
    assert_string_equal(r->name, "English");
    assert_string_equal(r->language, "en");
    assert_string_equal(r->uri, "https://media.example.com/videos/show/audio/en.m3u8");
    assert_false(r->is_default);
    assert_true(r->autoselect);
    assert_null(pl.renditions[2].uri);
    assert_string_equal(pl.renditions[4].name, "English, forced");

    /* DEFAULT=YES with a URI wins over the first one */
    r = hls_audio_for(&pl, &pl.variants[0]);
    assert_non_null(r);
    assert_string_equal(r->name, "Deutsch");
    /* the default is muxed: the first one with a URI */
    r = hls_audio_for(&pl, &pl.variants[1]);
    assert_non_null(r);
    assert_string_equal(r->name, "Commentary");
    /* no AUDIO group, or a group without renditions: muxed */
    assert_null(hls_audio_for(&pl, &pl.variants[2]));
    assert_null(hls_audio_for(&pl, &pl.variants[3]));
    /* a master playlist is not downloadable as media */
    assert_int_equal(hls_check_media(&pl, 1, &e), -1);
    assert_string_equal(e.code, "hls_bad_playlist");
    hls_free(&pl);
}

/* The URI of the variant picked by format from MASTER ("" on error). */
static void expect_pick(const hls_playlist_t *pl, const char *format, const char *uri_end)
{
    haul_error_t e;
    herr_clear(&e);
    int i = hls_pick_variant(pl, format, &e);
    if (i < 0)
        fail_msg("%s: %s", format ? format : "NULL", e.message);
    const char *uri = pl->variants[i].uri;
    size_t n = strlen(uri), k = strlen(uri_end);
    if (n < k || strcmp(uri + n - k, uri_end) != 0)
        fail_msg("%s picked %s, not %s", format ? format : "NULL", uri, uri_end);
}

static void pick_best_and_worst(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(MASTER, &pl, &e), 0);
    expect_pick(&pl, NULL, "/1080p.m3u8");
    expect_pick(&pl, "", "/1080p.m3u8");
    expect_pick(&pl, "best", "/1080p.m3u8");
    expect_pick(&pl, "BEST", "/1080p.m3u8");
    expect_pick(&pl, "worst", "/234p.m3u8");
    /* ties on bandwidth go to the larger picture for best, the smaller for
     * worst, wherever it is listed */
    pl.variants[2].bandwidth = 2560000; /* 1080p now ties with 720p and 540p */
    expect_pick(&pl, "best", "/1080p.m3u8");
    pl.variants[0].bandwidth = 640000;  /* 360p now ties with 234p, listed later */
    expect_pick(&pl, "worst", "/234p.m3u8");
    hls_free(&pl);
}

static void pick_by_height(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(MASTER, &pl, &e), 0);
    expect_pick(&pl, "720p", "/720p.m3u8");
    expect_pick(&pl, "719p", "/540p.m3u8");
    expect_pick(&pl, "1080P", "/1080p.m3u8");
    expect_pick(&pl, "4320p", "/1080p.m3u8");
    expect_pick(&pl, "400p", "/360p.m3u8");
    expect_pick(&pl, "100p", "/234p.m3u8"); /* none that small: the smallest */
    hls_free(&pl);
}

static void pick_by_bandwidth_cap(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(MASTER, &pl, &e), 0);
    expect_pick(&pl, "3000k", "/720p.m3u8"); /* 2560000 twice: the larger picture */
    expect_pick(&pl, "2559999", "/360p.m3u8");
    expect_pick(&pl, "8m", "/1080p.m3u8");
    expect_pick(&pl, "1.3M", "/360p.m3u8");
    expect_pick(&pl, "1280000", "/360p.m3u8"); /* the cap is inclusive */
    expect_pick(&pl, "10k", "/234p.m3u8");     /* under all: the smallest */
    hls_free(&pl);
}

static void pick_unknown_format(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse(MASTER, &pl, &e), 0);
    const char *bad[] = {"hd", "720x", "p", "-5", "1.5p", "720pp", "3000kb", " 720p", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        herr_clear(&e);
        assert_int_equal(hls_pick_variant(&pl, bad[i], &e), -1);
        assert_string_equal(e.code, "bad_format");
        assert_non_null(strstr(e.message, bad[i]));
        assert_non_null(strstr(e.message, "720p"));
        assert_non_null(strstr(e.message, "worst"));
    }
    hls_free(&pl);
}

static void pick_skips_audio_only(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.5\"\n"
                           "audio.m3u8\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.42e00a,mp4a.40.2\"\n"
                           "low.m3u8\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"avc1.4d401f,mp4a.40.2\"\n"
                           "high.m3u8\n",
                           &pl, &e), 0);
    expect_pick(&pl, "worst", "/low.m3u8");
    expect_pick(&pl, "10k", "/low.m3u8");
    expect_pick(&pl, "720p", "/high.m3u8"); /* no RESOLUTION anywhere: as best */
    hls_free(&pl);

    /* only audio: then it is the answer */
    assert_int_equal(parse("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.5\"\n"
                           "a.m3u8\n", &pl, &e), 0);
    expect_pick(&pl, "worst", "/a.m3u8");
    expect_pick(&pl, "480p", "/a.m3u8");
    hls_free(&pl);
}

static void empty_text(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse_n("", 0, &pl, &e), -1);
    assert_string_equal(e.code, "hls_bad_playlist");
    assert_non_null(strstr(e.message, "is empty (0 bytes)"));
    assert_non_null(strstr(e.message, BASE));
    expect_error(" \r\n\n\t\n", "hls_bad_playlist", "is empty", "blank", NULL);
    expect_error("\xEF\xBB\xBF", "hls_bad_playlist", "is empty", NULL);
}

static void html_page_is_not_a_playlist(void **s)
{
    (void)s;
    expect_error("<!DOCTYPE html>\n<html lang=\"en\">\n  <head><title>Watch the show</title>\n"
                 "</head><body>...</body></html>\n",
                 "hls_bad_playlist", "is not an HLS playlist", "#EXTM3U",
                 "\"<!DOCTYPE html> <html lang=\"en\"> <head><...\"", "HTML page", NULL);
}

static void garbage_is_not_a_playlist(void **s)
{
    (void)s;
    expect_error("hello, world", "hls_bad_playlist", "\"hello, world\"", NULL);
    expect_error("#EXTM3", "hls_bad_playlist", "\"#EXTM3\"", NULL);
    expect_error("#EXTM3U8\n#EXTINF:1,\na.ts\n", "hls_bad_playlist", "#EXTM3U8", NULL);
    expect_error("\x89PNG\r\n\x1a\n\x01\x02\x03\x04\x05\x06\x07\x08\xff\xfe", "hls_bad_playlist",
                 "\"?PNG ?", "binary data", NULL);
    /* a NUL byte inside an otherwise good playlist */
    hls_playlist_t pl;
    haul_error_t e;
    static const char nul[] = "#EXTM3U\n#EXTINF:1,\na\0b.ts\n";
    assert_int_equal(parse_n(nul, sizeof nul - 1, &pl, &e), -1);
    assert_string_equal(e.code, "hls_bad_playlist");
    assert_non_null(strstr(e.message, "line 3"));
    assert_non_null(strstr(e.message, "NUL"));
}

static void master_and_media_shape_errors(void **s)
{
    (void)s;
    /* STREAM-INF without its URI: at the end, or before another one */
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n",
                 "hls_bad_playlist", "#EXT-X-STREAM-INF", "line 4", "no URI", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n",
                 "hls_bad_playlist", "#EXT-X-STREAM-INF", "line 2", NULL);
    /* a master with segments too */
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXTINF:1,\nb.ts\n",
                 "hls_bad_playlist", "both a master", "line 4", NULL);
    /* a master without variants; a media playlist without segments */
    expect_error("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"a.m3u8\"\n",
                 "hls_bad_playlist", "no variants", NULL);
    expect_error("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-ENDLIST\n", "hls_bad_playlist",
                 "no segments", NULL);
    /* EXT-X-MEDIA needs TYPE and GROUP-ID */
    expect_error("#EXTM3U\n#EXT-X-MEDIA:GROUP-ID=\"a\"\n", "hls_bad_playlist", "TYPE", "line 2",
                 NULL);
}

static void truncated_and_orphan_lines(void **s)
{
    (void)s;
    expect_error("#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\n", "hls_bad_playlist", "#EXTINF",
                 "line 4", "truncated", NULL);
    expect_error("#EXTM3U\n#EXTINF:1,\na.ts\n#EXT-X-BYTERANGE:10@0\n", "hls_bad_playlist",
                 "#EXT-X-BYTERANGE", "line 4", "truncated", NULL);
    expect_error("#EXTM3U\n#EXTINF:1,\na.ts\nb.ts\n", "hls_bad_playlist", "line 4", "b.ts",
                 "#EXTINF", NULL);
    expect_error("#EXTM3U\n#EXTINF:1,\n#EXTINF:2,\na.ts\n", "hls_bad_playlist", "line 3",
                 NULL);
    expect_error("#EXTM3U\n#EXTINF:abc,\na.ts\n", "hls_bad_playlist", "#EXTINF", "line 2", NULL);
    expect_error("#EXTM3U\n#EXTINF:-1,\na.ts\n", "hls_bad_playlist", "#EXTINF", NULL);
    expect_error("#EXTM3U\n#EXTINF:1,\nhttp://\n", "hls_bad_playlist", "line 3",
                 "cannot be resolved", NULL);
    expect_error("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n#EXTINF:1,\na.ts\n",
                 "hls_bad_playlist", "#EXT-X-MEDIA-SEQUENCE", NULL);
}

static void bad_ivs(void **s)
{
    (void)s;
    const char *ivs[] = {
        "0x000102030405060708090a0b0c0d0e0",   /* 31 digits */
        "0x000102030405060708090a0b0c0d0e0f0", /* 33 */
        "0x000102030405060708090a0b0c0d0eXY",
        "000102030405060708090a0b0c0d0e0f",    /* no 0x */
        "0x",
    };
    char text[512];
    for (size_t i = 0; i < sizeof ivs / sizeof ivs[0]; i++) {
        snprintf(text, sizeof text,
                 "#EXTM3U\n#EXTINF:1,\na.ts\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=%s\n"
                 "#EXTINF:1,\nb.ts\n",
                 ivs[i]);
        expect_error(text, "hls_bad_playlist", "#EXT-X-KEY", "line 4", "IV", NULL);
    }
    expect_error("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128\n#EXTINF:1,\na.ts\n", "hls_bad_playlist",
                 "no URI", "line 2", NULL);
    expect_error("#EXTM3U\n#EXT-X-KEY:URI=\"k\"\n#EXTINF:1,\na.ts\n", "hls_bad_playlist",
                 "METHOD", NULL);
}

static void crlf_bom_and_blank_lines(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("\xEF\xBB\xBF#EXTM3U\r\n"
                           "\r\n"
                           "#EXT-X-TARGETDURATION:6\r\n"
                           "#EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\","
                           "IV=0x00000000000000000000000000000001\r\n"
                           "   \r\n"
                           "#EXTINF:6.0,Title\r\n"
                           "a.ts\r\n"
                           "#EXTINF:6.0,\r\n"
                           "\r\n"
                           "b.ts \r\n"
                           "#EXT-X-ENDLIST", /* no final newline */
                           &pl, &e), 0);
    assert_int_equal(pl.nsegments, 2);
    assert_string_equal(pl.segments[0].uri, "https://media.example.com/videos/show/a.ts");
    assert_string_equal(pl.segments[0].title, "Title");
    assert_string_equal(pl.segments[1].uri, "https://media.example.com/videos/show/b.ts");
    assert_string_equal(pl.keys[0].uri, "https://media.example.com/videos/show/k.bin");
    assert_int_equal(pl.keys[0].iv[15], 1);
    assert_true(pl.endlist);
    hls_free(&pl);

    /* a line number in an error counts the BOM line as 1 */
    expect_error("\xEF\xBB\xBF#EXTM3U\r\n#EXTINF:x\r\n", "hls_bad_playlist", "line 2", NULL);
}

static void quoted_values_with_commas(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(parse("#EXTM3U\n"
                           "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"g,1\",NAME=\"Director's cut, "
                           "with \\ slash\",URI=\"a,b.m3u8\",DEFAULT=YES\n"
                           "#EXT-X-STREAM-INF:CODECS=\"avc1.64001f,mp4a.40.2\",BANDWIDTH=5000,"
                           "AUDIO=\"g,1\",RESOLUTION=1x2\n"
                           "v.m3u8\n",
                           &pl, &e), 0);
    assert_string_equal(pl.renditions[0].group_id, "g,1");
    assert_string_equal(pl.renditions[0].name, "Director's cut, with \\ slash");
    assert_string_equal(pl.renditions[0].uri, "https://media.example.com/videos/show/a,b.m3u8");
    assert_true(pl.renditions[0].is_default);
    assert_string_equal(pl.variants[0].codecs, "avc1.64001f,mp4a.40.2");
    assert_int_equal(pl.variants[0].bandwidth, 5000);
    assert_int_equal(pl.variants[0].width, 1);
    assert_int_equal(pl.variants[0].height, 2);
    assert_ptr_equal(hls_audio_for(&pl, &pl.variants[0]), &pl.renditions[0]);
    hls_free(&pl);
}

static void malformed_attribute_lists(void **s)
{
    (void)s;
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\nv.m3u8\n",
                 "hls_bad_playlist", "#EXT-X-STREAM-INF", "line 2", "closing quote", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH\nv.m3u8\n", "hls_bad_playlist",
                 "#EXT-X-STREAM-INF", "line 2", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=lots\nv.m3u8\n", "hls_bad_playlist",
                 "BANDWIDTH", "line 2", NULL);
    expect_error("#EXTM3U\n\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1280*720\nv.m3u8\n",
                 "hls_bad_playlist", "RESOLUTION", "line 3", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a\"x\nv.m3u8\n",
                 "hls_bad_playlist", "CODECS", NULL);
    expect_error("#EXTM3U\n#EXT-X-STREAM-INF:=1\nv.m3u8\n", "hls_bad_playlist", "without a name",
                 NULL);
    expect_error("#EXTM3U\n#EXT-X-KEY\n#EXTINF:1,\na.ts\n", "hls_bad_playlist", "#EXT-X-KEY",
                 NULL);
}

static void bad_base_url(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    assert_int_equal(hls_parse("#EXTM3U\n#EXTINF:1,\na.ts\n", 24, "index.m3u8", &pl, &e), -1);
    assert_string_equal(e.code, "bad_url");
    assert_non_null(strstr(e.message, "index.m3u8"));
    hls_free(&pl);
}

static void caps_on_untrusted_input(void **s)
{
    (void)s;
    hls_playlist_t pl;
    haul_error_t e;
    /* one segment too many: turned away before any URI is resolved */
    static const char seg[] = "#EXTINF:1,\ns.ts\n";
    size_t nseg = HLS_MAX_SEGMENTS + 1, len = 8 + nseg * (sizeof seg - 1);
    char *big = malloc(len);
    assert_non_null(big);
    memcpy(big, "#EXTM3U\n", 8);
    for (size_t i = 0; i < nseg; i++)
        memcpy(big + 8 + i * (sizeof seg - 1), seg, sizeof seg - 1);
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), -1);
    assert_string_equal(e.code, "hls_too_large");
    assert_non_null(strstr(e.message, "1000000 segments"));
    hls_free(&pl);
    free(big);

    /* one line of 64 KiB + 1 */
    len = 8 + HLS_MAX_LINE + 1;
    big = malloc(len);
    assert_non_null(big);
    memcpy(big, "#EXTM3U\n", 8);
    memset(big + 8, 'a', HLS_MAX_LINE + 1);
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), -1);
    assert_string_equal(e.code, "hls_too_large");
    assert_non_null(strstr(e.message, "line 2"));
    /* exactly 64 KiB is fine (as a URI line after an EXTINF) */
    len = 19 + HLS_MAX_LINE;
    big = realloc(big, len);
    assert_non_null(big);
    memcpy(big, "#EXTM3U\n#EXTINF:1,\n", 19);
    memset(big + 19, 'a', HLS_MAX_LINE);
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), 0);
    assert_int_equal(pl.nsegments, 1);
    hls_free(&pl);
    free(big);

    /* more than 64 MiB of text */
    len = (size_t)HLS_MAX_TEXT + 1;
    big = calloc(1, len);
    assert_non_null(big);
    memcpy(big, "#EXTM3U\n", 8);
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), -1);
    assert_string_equal(e.code, "hls_too_large");
    assert_non_null(strstr(e.message, "64 MiB"));
    free(big);

    /* one variant too many */
    static const char var[] = "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n";
    size_t nvar = HLS_MAX_VARIANTS + 1;
    len = 8 + nvar * (sizeof var - 1);
    big = malloc(len);
    assert_non_null(big);
    memcpy(big, "#EXTM3U\n", 8);
    for (size_t i = 0; i < nvar; i++)
        memcpy(big + 8 + i * (sizeof var - 1), var, sizeof var - 1);
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), -1);
    assert_string_equal(e.code, "hls_too_large");
    assert_non_null(strstr(e.message, "variants"));
    assert_int_equal(pl.nvariants, 0);
    /* exactly the cap is fine */
    len -= sizeof var - 1;
    assert_int_equal(hls_parse(big, len, BASE, &pl, &e), 0);
    assert_int_equal(pl.nvariants, HLS_MAX_VARIANTS);
    hls_free(&pl);
    free(big);
}

/* ---- robustness: mutated playlists never crash, leak or break the
 * contract (indexes in range, URIs present). Fixed seed. */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_contract(const hls_playlist_t *pl)
{
    assert_true(pl->nsegments > 0 || pl->nvariants > 0);
    assert_true(pl->is_master ? pl->nsegments == 0 : pl->nvariants == 0);
    for (size_t i = 0; i < pl->nsegments; i++) {
        const hls_segment_t *sg = &pl->segments[i];
        assert_non_null(sg->uri);
        assert_true(sg->key >= -1 && sg->key < (int)pl->nkeys);
        assert_true(sg->map >= -1 && sg->map < (int)pl->nmaps);
        assert_true(sg->length == -1 || (sg->length > 0 && sg->offset >= 0));
        assert_true(sg->duration >= 0);
    }
    for (size_t i = 0; i < pl->nvariants; i++)
        assert_non_null(pl->variants[i].uri);
    for (size_t i = 0; i < pl->nrenditions; i++)
        assert_true(pl->renditions[i].type && pl->renditions[i].group_id);
    haul_error_t e;
    if (pl->is_master) {
        int i = hls_pick_variant(pl, "720p", &e);
        assert_true(i >= 0 && (size_t)i < pl->nvariants);
        hls_audio_for(pl, &pl->variants[i]);
        i = hls_pick_variant(pl, "worst", &e);
        assert_true(i >= 0 && (size_t)i < pl->nvariants);
    } else {
        unsigned char iv[16];
        hls_segment_iv(pl, pl->nsegments - 1, iv);
        hls_check_media(pl, 0, &e);
    }
}

static void mutated_playlists(void **s)
{
    (void)s;
    const char *seeds[] = {
        MASTER,
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"10@0\"\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x0102030405060708090a0b0c0d0e0f10\n"
        "#EXTINF:4,t\n#EXT-X-BYTERANGE:100@10\nall.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\n"
        "all.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:4.5,\n../b.ts\n"
        "#EXT-X-ENDLIST\n",
    };
    char buf[4096];
    int ok = 0;
    for (int round = 0; round < 20000; round++) {
        const char *seed = seeds[round % 2];
        size_t len = strlen(seed);
        if (len >= sizeof buf - 16)
            len = sizeof buf - 16;
        memcpy(buf, seed, len);
        int edits = 1 + (int)(next() % 4);
        for (int k = 0; k < edits && len > 0; k++) {
            size_t at = (size_t)(next() % len);
            static const char pick[] = "\",=@:\n#x0aAZ.-\r \xff";
            char c = (next() & 1) ? pick[next() % (sizeof pick - 1)] : (char)(next() % 256);
            switch (next() % 3) {
            case 0: buf[at] = c; break;
            case 1: len = at; break;
            default:
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = c;
                len++;
            }
        }
        hls_playlist_t pl;
        haul_error_t e;
        if (parse_n(buf, len, &pl, &e) == 0) {
            check_contract(&pl);
            ok++;
        } else {
            assert_true(e.code[0] && e.message[0]);
        }
        hls_free(&pl);
    }
    assert_true(ok > 1000); /* the mutations still reach deep into the parser */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vod_media_playlist),
        cmocka_unit_test(relative_uri_forms),
        cmocka_unit_test(aes128_with_iv),
        cmocka_unit_test(aes128_iv_from_sequence_number),
        cmocka_unit_test(key_rotation_and_method_none),
        cmocka_unit_test(sample_aes_and_keyformat_are_drm),
        cmocka_unit_test(identity_key_wins_among_alternatives),
        cmocka_unit_test(live_playlists),
        cmocka_unit_test(maps_with_and_without_byterange),
        cmocka_unit_test(byteranges_and_continuation),
        cmocka_unit_test(discontinuities),
        cmocka_unit_test(master_variants_and_audio),
        cmocka_unit_test(pick_best_and_worst),
        cmocka_unit_test(pick_by_height),
        cmocka_unit_test(pick_by_bandwidth_cap),
        cmocka_unit_test(pick_unknown_format),
        cmocka_unit_test(pick_skips_audio_only),
        cmocka_unit_test(empty_text),
        cmocka_unit_test(html_page_is_not_a_playlist),
        cmocka_unit_test(garbage_is_not_a_playlist),
        cmocka_unit_test(master_and_media_shape_errors),
        cmocka_unit_test(truncated_and_orphan_lines),
        cmocka_unit_test(bad_ivs),
        cmocka_unit_test(crlf_bom_and_blank_lines),
        cmocka_unit_test(quoted_values_with_commas),
        cmocka_unit_test(malformed_attribute_lists),
        cmocka_unit_test(bad_base_url),
        cmocka_unit_test(caps_on_untrusted_input),
        cmocka_unit_test(mutated_playlists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
