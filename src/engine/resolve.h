/* resolve: what yt-dlp says a web page holds, turned into what haul's own
 * engine downloads. `yt-dlp -J --no-playlist URL` prints the page's
 * title, extension and chosen format(s) as JSON; haul downloads them
 * itself: an http(s) format as one whole fragment, an m3u8 format
 * through the HLS path, a DASH format as its fragment list. Separate
 * video and audio (requested_formats) become two streams merged by ffmpeg.
 * No I/O here: media.c runs yt-dlp (proc.h) and hands its output over. */
#ifndef HAUL_ENGINE_RESOLVE_H
#define HAUL_ENGINE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "engine/hls.h"

#define RESOLVE_MAX_JSON (64u * 1024 * 1024) /* yt-dlp's output cap */
#define RESOLVE_MAX_HEADERS 32

typedef enum { RESOLVED_HLS, RESOLVED_FRAGS } resolved_kind_t;

typedef struct resolved_frag {
    char *url;                   /* absolute */
    int64_t offset, length;      /* length -1: the whole resource */
} resolved_frag_t;

typedef struct resolved_stream {
    resolved_kind_t kind;
    char *name;                  /* "video", "audio" */
    char *url;                   /* HLS: the playlist */
    resolved_frag_t *frags;      /* FRAGS */
    size_t nfrags;
    char *ext;                   /* the format's extension, may be NULL */
} resolved_stream_t;

typedef struct resolved {
    char *title;                 /* may be NULL */
    char *ext;                   /* of the whole (after a merge) */
    resolved_stream_t streams[2];
    size_t nstreams;
    char *headers[RESOLVE_MAX_HEADERS]; /* "Name: value" for every request */
    size_t nheaders;
    int is_playlist;             /* the URL is a playlist of videos */
} resolved_t;

/* How a run of yt-dlp on url ended (proc.h's report): 0 when it printed
 * something to parse, else -1 with err: "ytdlp_failed" with its own
 * complaint (the last line of its stderr, without "ERROR: " and its advice
 * to report bugs upstream), or "ytdlp_bad_output" when it printed more
 * than RESOLVE_MAX_JSON. */
int resolve_check_run(int status, size_t out_len, const char *err_tail, const char *url,
                      haul_error_t *err);

/* Parses yt-dlp's -J output (len bytes) into *out (caller frees with
 * resolved_free, also after a failure). Returns 0, or -1 with err:
 * "ytdlp_bad_output" (not JSON / no format), "ytdlp_unsupported" (a
 * protocol haul does not download: named in the message). */
int resolve_parse(const char *json, size_t len, resolved_t *out, haul_error_t *err);

void resolved_free(resolved_t *r);

#define RESOLVE_MAX_ENTRIES 1000 /* jobs one playlist may create */

typedef struct resolved_entry {
    char *url;                   /* http(s) */
    char *title;                 /* may be NULL */
} resolved_entry_t;

/* Parses `yt-dlp -J --flat-playlist` output: *entries (caller frees with
 * resolved_entries_free) gets each entry with an http(s) URL, in order,
 * at most RESOLVE_MAX_ENTRIES; *title the playlist's (caller frees, may be
 * NULL). A single video (not a playlist) gives 0 entries and *single = 1.
 * Returns 0, or -1 with err ("ytdlp_bad_output"). */
int resolve_entries(const char *json, size_t len, resolved_entry_t **entries, size_t *n,
                    char **title, int *single, haul_error_t *err);

void resolved_entries_free(resolved_entry_t *entries, size_t n);

/* The arguments yt-dlp gets for a job's format (parsed by hls.h's
 * hls_parse_format): sets argv[0..1] to "-f SPEC" when the format selects
 * something other than yt-dlp's default; spec (n bytes) holds SPEC.
 * Returns the number of arguments set (0 or 2). */
size_t resolve_format_args(const hls_format_t *f, const char **argv, char *spec, size_t n);

#endif
