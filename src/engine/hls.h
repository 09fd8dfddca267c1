/* hls: HLS playlists (RFC 8216) parsed into plain structs; choosing a
 * variant. No I/O.
 *
 * A master playlist lists variants (the same content at several bitrates)
 * and renditions (alternative audio, subtitles); a media playlist lists
 * the segments of one stream, with the keys and init sections (EXT-X-MAP)
 * they need. Every URI in the structs is an absolute http:// or https://
 * URL (a DRM key's excepted): relative ones are resolved against the URL
 * the playlist was fetched from, other schemes are refused. The text is
 * untrusted: sizes are capped and every malformed tag is an error naming
 * the tag and its line. */
#ifndef HAUL_ENGINE_HLS_H
#define HAUL_ENGINE_HLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Caps on untrusted input; past them hls_parse fails with "hls_too_large". */
#define HLS_MAX_TEXT (64u * 1024 * 1024) /* bytes of playlist text */
#define HLS_MAX_LINE (64u * 1024)        /* bytes in one line */
#define HLS_MAX_SEGMENTS 1000000u
#define HLS_MAX_VARIANTS 10000u          /* also the cap on renditions */

typedef enum {
    HLS_KEY_NONE,
    HLS_KEY_AES128,
    HLS_KEY_SAMPLE_AES, /* SAMPLE-AES and its SAMPLE-AES-CTR/-CENC forms */
    HLS_KEY_OTHER,
} hls_key_method_t;

typedef struct hls_key {
    hls_key_method_t method;
    char *method_name;   /* METHOD as written */
    char *uri;           /* absolute; NULL when absent (METHOD=NONE has no
                            entry). A DRM key's URI that is not http(s)
                            (skd://, data:) is kept as written */
    unsigned char iv[16];
    int has_iv;
    char *keyformat;     /* NULL = identity */
} hls_key_t;

typedef struct hls_map {
    char *uri;               /* absolute */
    int64_t offset, length;  /* length -1 = whole resource, else > 0 */
} hls_map_t;

typedef struct hls_segment {
    char *uri;               /* absolute */
    double duration;         /* seconds, >= 0 */
    char *title;             /* EXTINF title, NULL when empty */
    int64_t offset, length;  /* EXT-X-BYTERANGE; length -1 = whole resource
                                (offset 0 then), else > 0 */
    int key;                 /* index into keys, -1 = clear */
    int map;                 /* index into maps, -1 = none */
    int discontinuity;       /* EXT-X-DISCONTINUITY before this segment */
    uint64_t msn;            /* media sequence number */
} hls_segment_t;

typedef struct hls_variant {
    char *uri;               /* absolute */
    long bandwidth;          /* BANDWIDTH (peak, bits/s), 0 when absent */
    long average_bandwidth;  /* AVERAGE-BANDWIDTH, 0 when absent */
    int width, height;       /* RESOLUTION, 0 when absent */
    double frame_rate;       /* 0 when absent */
    char *codecs;            /* NULL when absent */
    char *audio;             /* AUDIO group id or NULL */
} hls_variant_t;

typedef struct hls_rendition {
    char *type;              /* AUDIO, VIDEO, SUBTITLES, CLOSED-CAPTIONS */
    char *group_id;
    char *name;              /* NULL when absent */
    char *language;          /* NULL when absent */
    char *uri;               /* absolute or NULL (muxed in the variant) */
    int is_default, autoselect;
} hls_rendition_t;

typedef struct hls_playlist {
    int is_master;
    hls_variant_t *variants;
    size_t nvariants;
    hls_rendition_t *renditions;
    size_t nrenditions;
    hls_segment_t *segments;
    size_t nsegments;
    hls_key_t *keys;
    size_t nkeys;
    hls_map_t *maps;
    size_t nmaps;
    double target_duration;
    uint64_t media_sequence;
    int endlist;
    char *playlist_type;     /* VOD/EVENT (as written) or NULL */
    int version;             /* EXT-X-VERSION, 0 when absent */
} hls_playlist_t;

/* Parses text (len bytes, need not be NUL-terminated) fetched from base_url
 * (absolute). Relative URIs are resolved against base_url with libcurl's
 * URL API. *out is overwritten (not freed) on entry; on success it owns
 * everything in it, on failure it is left empty. Either way the caller may
 * call hls_free(out).
 * Returns 0, or -1 with err set:
 *   "hls_bad_playlist": empty text, text that does not start with #EXTM3U
 *     (the message shows how it starts instead), a NUL byte, a master
 *     playlist without variants or with segments too, a media playlist
 *     without segments, a malformed tag (the message names the tag and its
 *     line), a URI line without EXTINF/EXT-X-STREAM-INF before it, an
 *     EXTINF, EXT-X-BYTERANGE or EXT-X-STREAM-INF without its URI line
 *     (truncated), a URI that cannot be resolved or is not http(s);
 *   "hls_too_large": past the HLS_MAX_* caps;
 *   "bad_url": base_url is not an absolute URL. */
int hls_parse(const char *text, size_t len, const char *base_url,
              hls_playlist_t *out, haul_error_t *err);

/* Frees everything pl owns and empties it (a second call does nothing).
 * pl may be NULL. */
void hls_free(hls_playlist_t *pl);

/* Checks that a parsed media playlist can be downloaded: a key used by a
 * segment that is SAMPLE-AES, has a KEYFORMAT other than identity or a
 * METHOD other than NONE and AES-128 -> -1 with "hls_drm"; a live playlist
 * (no EXT-X-ENDLIST and PLAYLIST-TYPE not VOD) -> -1 with "hls_live"
 * unless allow_live; a master playlist -> -1 with "hls_bad_playlist".
 * Keys listed but used by no segment do not count. Returns 0 when fine. */
int hls_check_media(const hls_playlist_t *pl, int allow_live, haul_error_t *err);

/* A parsed format (see hls_pick_variant): what to pick, and the height in
 * lines (HLS_PICK_HEIGHT) or the bandwidth cap in bits/s (HLS_PICK_CAP). */
typedef enum { HLS_PICK_BEST, HLS_PICK_WORST, HLS_PICK_HEIGHT, HLS_PICK_CAP } hls_pick_t;
typedef struct hls_format {
    hls_pick_t pick;
    double limit;
} hls_format_t;

/* Parses a format as hls_pick_variant reads it (the one parser of the
 * syntax: yt-dlp's -f is made from its result too). Returns 0, or -1 with
 * "bad_format" naming what is accepted. */
int hls_parse_format(const char *format, hls_format_t *out, haul_error_t *err);

/* Picks a variant of a master playlist by format (case-insensitive):
 *   "best" (also NULL or ""): the highest BANDWIDTH, ties by resolution;
 *   "worst": the lowest BANDWIDTH, ties by the smaller resolution;
 *   "<N>p" (e.g. "720p"): the tallest variant whose height <= N (ties by
 *     bandwidth), else the smallest one;
 *   "<N>k", "<N>m" or a plain number (decimals allowed: "1.5m"): a cap on
 *     BANDWIDTH in bits/s (k = 1000): the best variant under it, else the
 *     one with the lowest bandwidth.
 * Audio-only variants (no RESOLUTION, CODECS all audio) are considered only
 * when every variant is one; "<N>p" skips variants without RESOLUTION and
 * acts as "best" when none has one. Further ties go to the one listed
 * first. Returns the index into
 * pl->variants, or -1 with "bad_format" (naming what is accepted) for an
 * unknown format, or "hls_bad_playlist" when pl has no variants. */
int hls_pick_variant(const hls_playlist_t *pl, const char *format, haul_error_t *err);

/* The audio rendition to download beside variant v (of pl): in v's AUDIO
 * group, the DEFAULT=YES one with a URI, else the first with a URI. NULL
 * when v names no AUDIO group or no rendition of it has a URI (the audio
 * is muxed in the variant). Borrowed from pl. */
const hls_rendition_t *hls_audio_for(const hls_playlist_t *pl, const hls_variant_t *v);

/* The AES-128 IV of segment i (< pl->nsegments): its key's IV when the
 * EXT-X-KEY gave one, else its media sequence number as a 128-bit
 * big-endian integer. All zero when i is out of range. */
void hls_segment_iv(const hls_playlist_t *pl, size_t i, unsigned char iv[16]);

#endif
