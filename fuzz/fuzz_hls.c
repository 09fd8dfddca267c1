/* libFuzzer harness for the HLS playlist parser (engine/hls.c): any text
 * from a server must parse or fail cleanly, with no crash, out-of-bounds
 * read (ASan), leak, or result that breaks the contract (abort below).
 * `make fuzz` builds and runs it after fuzz_parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hls.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_playlist(const hls_playlist_t *pl)
{
    haul_error_t e;
    check(pl->nsegments > 0 || pl->nvariants > 0);
    check(pl->is_master ? pl->nsegments == 0 : pl->nvariants == 0);
    for (size_t i = 0; i < pl->nsegments; i++) {
        const hls_segment_t *s = &pl->segments[i];
        check(s->uri != NULL && s->duration >= 0);
        check(s->key >= -1 && s->key < (int)pl->nkeys);
        check(s->map >= -1 && s->map < (int)pl->nmaps);
        check(s->length == -1 ? s->offset == 0
                              : s->length > 0 && s->offset >= 0 &&
                                    s->offset <= INT64_MAX - s->length);
    }
    for (size_t i = 0; i < pl->nmaps; i++)
        check(pl->maps[i].uri && (pl->maps[i].length == -1 || pl->maps[i].length > 0));
    for (size_t i = 0; i < pl->nvariants; i++)
        check(pl->variants[i].uri != NULL);
    for (size_t i = 0; i < pl->nrenditions; i++)
        check(pl->renditions[i].type && pl->renditions[i].group_id);
    if (pl->is_master) {
        static const char *const formats[] = {"best", "worst", "720p", "3000k", "0"};
        for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
            int i = hls_pick_variant(pl, formats[f], &e);
            check(i >= 0 && (size_t)i < pl->nvariants);
            const hls_rendition_t *r = hls_audio_for(pl, &pl->variants[i]);
            check(!r || r->uri);
        }
    } else {
        unsigned char iv[16];
        for (size_t i = 0; i < pl->nsegments; i++)
            hls_segment_iv(pl, i, iv);
        hls_check_media(pl, 0, &e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exact size, no NUL: ASan sees any overread */
    if (!in)
        return 0;
    memcpy(in, data, size);
    hls_playlist_t pl;
    haul_error_t e;
    if (hls_parse(in, size, "https://h.example/a/b/index.m3u8?tok=1", &pl, &e) == 0)
        check_playlist(&pl);
    else
        check(e.code[0] != '\0' && e.message[0] != '\0' && pl.nsegments == 0 && !pl.variants);
    hls_free(&pl);
    free(in);
    return 0;
}
