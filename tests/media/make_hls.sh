#!/bin/sh
# make_hls.sh [--bench] OUTDIR: generates the HLS test media (see
# tests/media/README.md) under OUTDIR, deterministically, with ffmpeg and
# openssl. Serve OUTDIR with `haul-origin --root OUTDIR`: a stream is then at
# http://127.0.0.1:PORT/files/plain/index.m3u8 and so on.
#
#   make_hls.sh OUTDIR           the small set (plain, aes, multi, fmp4,
#                                byterange, live, bad, page): a few seconds
#   make_hls.sh --bench OUTDIR   bench_plain/ and bench_aes/: 300 fragments of
#                                ~1.6 MB each (~470 MB, ~10-20 s)
#
# Idempotent: a set that is complete (OUTDIR/.done, OUTDIR/.done-bench) and
# was made by this very script (same sha256) is not made again. Concurrent
# runs on one OUTDIR serialize on OUTDIR/.lock. Exit status 77 when a tool is
# missing (a test can report that as skipped).
set -eu
set -f # no pathname expansion: words are split, never globbed

BENCH=0
if [ "${1:-}" = "--bench" ]; then
    BENCH=1
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: make_hls.sh [--bench] OUTDIR" >&2
    exit 2
fi

die() {
    echo "make_hls.sh: $*" >&2
    exit 1
}

for tool in ffmpeg ffprobe openssl sha256sum od awk; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make_hls.sh: $tool is missing" >&2
        exit 77
    }
done

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
HASH=$(sha256sum "$SELF" | cut -d' ' -f1)
if [ "$BENCH" = 1 ]; then
    DONE=$OUT/.done-bench
    OWNED="bench_plain bench_aes .bench_src"
else
    DONE=$OUT/.done
    OWNED="plain aes multi fmp4 byterange live bad page"
fi

# one run at a time per OUTDIR (ctest -j runs tests in parallel)
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock"
    flock 9
fi
if [ -f "$DONE" ] && [ "$(cat "$DONE")" = "$HASH" ]; then
    exit 0
fi
rm -f "$DONE"
for d in $OWNED; do
    rm -rf "${OUT:?}/$d"
done

# The AES-128 key: the 16 ASCII bytes "haul-test-key!!!".
KEY_HEX=6861756c2d746573742d6b6579212121
# The explicit IV that aes/index.m3u8 (and bad/badkey.m3u8) carry.
IV_HEX=0f0e0d0c0b0a09080706050403020100

FF="ffmpeg -hide_banner -loglevel error -nostdin -y"
# no encoder strings, dates or metadata that could vary between runs
EXACT="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"
# H.264 main@3.0 (CODECS avc1.4d401e), a keyframe exactly every GOP_SECONDS;
# one thread, as x264's frame threads with VBV give other bytes each run
h264() { # h264 SIZE BITRATE GOP_SECONDS
    echo "-c:v libx264 -threads 1 -preset veryfast -profile:v main -level:v 3.0 -pix_fmt yuv420p" \
        "-b:v $2 -maxrate $2 -bufsize $2 -g $((25 * $3)) -keyint_min $((25 * $3))" \
        "-sc_threshold 0 -force_key_frames expr:gte(t,n_forced*$3) -s $1"
}
VIDEO="-f lavfi -i testsrc2=size=640x360:rate=25:duration=10"
AUDIO="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=10"
# VOD HLS of 2 s segments, names relative to the playlist (run in its folder)
HLS="-f hls -hls_time 2 -hls_playlist_type vod"

write_key() { # write_key FILE
    printf 'haul-test-key!!!' >"$1"
    [ "$(od -An -tx1 "$1" | tr -d ' \n')" = "$KEY_HEX" ] || die "bad key file $1"
}

# The URIs of a media playlist, in order.
segs() {
    awk '!/^#/ && NF { sub(/\r$/, ""); print }' "$1"
}

# Joins the segments of a plain media playlist into OUTFILE (prefix: the
# init section, if any).
join_plain() { # join_plain DIR PLAYLIST OUTFILE [PREFIX]
    (
        cd "$1"
        : >"$3"
        [ -z "${4:-}" ] || cat "$4" >>"$3"
        for s in $(segs "$2"); do
            cat "$s" >>"$3"
        done
    )
}

enc() { # enc IV_HEX IN OUT
    openssl enc -aes-128-cbc -K "$KEY_HEX" -iv "$1" -in "$2" -out "$3"
}

dec() { # dec IV_HEX IN OUT
    openssl enc -d -aes-128-cbc -K "$KEY_HEX" -iv "$1" -in "$2" -out "$3"
}

msn_iv() { # the IV of media sequence number N: N as a 128-bit big-endian number
    printf '%032x' "$1"
}

duration() {
    ffprobe -v error -show_entries format=duration -of default=noprint_wrappers=1:nokey=1 "$1"
}

# Writes NAME.sha256, NAME.size and NAME.duration (ffprobe's, or the given
# one) for the joined stream JOINED into DIR, checking it lasts ~10 s. Bytes
# already probed (aes, live, byterange are plain's) are not probed again.
PROBED=""
expect() { # expect DIR JOINED [NAME [DURATION]]
    name=${3:-expected}
    sha=$(sha256sum "$2" | cut -d' ' -f1)
    echo "$sha" >"$1/$name.sha256"
    wc -c <"$2" | tr -d ' ' >"$1/$name.size"
    dur=${4:-}
    for e in $PROBED; do
        [ -n "$dur" ] || [ "${e%:*}" != "$sha" ] || dur=${e#*:}
    done
    if [ -z "$dur" ]; then
        dur=$(duration "$2")
        awk -v d="$dur" 'BEGIN { exit !(d > 9.5 && d < 10.5) }' ||
            die "$2 lasts $dur s, not ~10 s"
        PROBED="$PROBED $sha:$dur"
    fi
    echo "$dur" >"$1/$name.duration"
}

# The peak bitrate (bits/s) of a media playlist's segments, for BANDWIDTH
# (segments shorter than 1 s, like the audio's last one, do not count).
peak_bw() { # peak_bw DIR PLAYLIST
    (
        cd "$1"
        awk '/^#EXTINF:/ { split(substr($0, 9), a, ","); d = a[1]; next }
             !/^#/ && NF { cmd = "wc -c < " $0; cmd | getline n; close(cmd)
                           b = n * 8 / d; if (d >= 1 && b > m) m = b }
             END { printf "%d\n", m }' "$2"
    )
}

make_small() {
    # the renditions of multi/ are encoded in the background meanwhile
    mkdir -p "$OUT/multi/v0" "$OUT/multi/v1" "$OUT/multi/aud"
    # shellcheck disable=SC2046,SC2086
    (cd "$OUT/multi/v0" && $FF $VIDEO $(h264 320x180 300k 2) -an $EXACT $HLS \
        -hls_segment_filename 'seg_%05d.ts' index.m3u8) &
    v0=$!
    # shellcheck disable=SC2046,SC2086
    (cd "$OUT/multi/v1" && $FF $VIDEO $(h264 640x360 800k 2) -an $EXACT $HLS \
        -hls_segment_filename 'seg_%05d.ts' index.m3u8) &
    v1=$!
    # shellcheck disable=SC2086
    (cd "$OUT/multi/aud" && $FF $AUDIO -c:a aac -b:a 64k $EXACT $HLS \
        -hls_segment_filename 'seg_%05d.ts' index.m3u8) &
    aud=$!

    # ---- plain/: video + audio in MPEG-TS, 5 x 2 s; whole.mp4 progressive
    mkdir -p "$OUT/plain"
    cd "$OUT/plain"
    # shellcheck disable=SC2046,SC2086
    $FF $VIDEO $AUDIO $(h264 320x180 200k 2) -c:a aac -b:a 64k $EXACT \
        -movflags +faststart whole.mp4
    # shellcheck disable=SC2086
    $FF -i whole.mp4 -c copy $EXACT $HLS -hls_segment_filename 'seg_%05d.ts' index.m3u8
    join_plain . index.m3u8 expected.ts
    expect . expected.ts

    # ---- aes/: AES-128, ffmpeg's explicit IV; index_noiv.m3u8: IV = MSN
    mkdir -p "$OUT/aes"
    cd "$OUT/aes"
    write_key key.key
    printf 'key.key\nkey.key\n%s\n' "$IV_HEX" >keyinfo
    # shellcheck disable=SC2086
    $FF -i ../plain/whole.mp4 -c copy $EXACT $HLS -hls_key_info_file keyinfo \
        -hls_segment_filename 'seg_%05d.ts' index.m3u8
    rm keyinfo
    grep -q "^#EXT-X-KEY:METHOD=AES-128,URI=\"key.key\",IV=0x$IV_HEX\$" index.m3u8 ||
        die "aes/index.m3u8 has no explicit IV"
    # decrypt independently, and re-encrypt with the media sequence numbers
    # (which start at 7, so a client that uses the segment index fails)
    msn=7
    : >expected.ts
    {
        echo '#EXTM3U'
        echo '#EXT-X-VERSION:3'
        echo '#EXT-X-TARGETDURATION:2'
        echo "#EXT-X-MEDIA-SEQUENCE:$msn"
        echo '#EXT-X-PLAYLIST-TYPE:VOD'
        echo '#EXT-X-KEY:METHOD=AES-128,URI="key.key"'
    } >index_noiv.m3u8
    for s in $(segs index.m3u8); do
        dec "$IV_HEX" "$s" clear.tmp
        cat clear.tmp >>expected.ts
        n=$(printf 'noiv_%05d.ts' "$msn")
        enc "$(msn_iv "$msn")" clear.tmp "$n"
        printf '#EXTINF:2.000000,\n%s\n' "$n" >>index_noiv.m3u8
        msn=$((msn + 1))
    done
    echo '#EXT-X-ENDLIST' >>index_noiv.m3u8
    rm clear.tmp
    msn=7
    : >noiv.tmp
    for s in $(segs index_noiv.m3u8); do
        dec "$(msn_iv "$msn")" "$s" clear.tmp
        cat clear.tmp >>noiv.tmp
        msn=$((msn + 1))
    done
    cmp -s expected.ts noiv.tmp || die "aes: index_noiv.m3u8 decrypts to other bytes"
    rm clear.tmp noiv.tmp
    cmp -s expected.ts ../plain/expected.ts || die "aes: decrypted bytes differ from plain/"
    expect . expected.ts

    # ---- multi/: master, video-only variants v0 (320x180) and v1 (640x360),
    # an audio rendition aud/ (audio-only MPEG-TS); encoded meanwhile
    wait "$v0" || die "multi/v0: ffmpeg failed"
    wait "$v1" || die "multi/v1: ffmpeg failed"
    wait "$aud" || die "multi/aud: ffmpeg failed"
    cd "$OUT/multi"
    for v in v0 v1 aud; do
        join_plain "$v" index.m3u8 expected.ts
        expect "$v" "$v/expected.ts"
    done
    expect . v1/expected.ts                 # the best variant
    expect . aud/expected.ts expected_audio # the audio rendition
    a=$(peak_bw aud index.m3u8)
    {
        echo '#EXTM3U'
        echo '#EXT-X-VERSION:3'
        echo '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="aud/index.m3u8"'
        echo "#EXT-X-STREAM-INF:BANDWIDTH=$(($(peak_bw v0 index.m3u8) + a)),RESOLUTION=320x180,FRAME-RATE=25.000,CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"aud\""
        echo 'v0/index.m3u8'
        echo "#EXT-X-STREAM-INF:BANDWIDTH=$(($(peak_bw v1 index.m3u8) + a)),RESOLUTION=640x360,FRAME-RATE=25.000,CODECS=\"avc1.4d401e,mp4a.40.2\",AUDIO=\"aud\""
        echo 'v1/index.m3u8'
    } >master.m3u8

    # ---- fmp4/: fragmented MP4 with an EXT-X-MAP init section
    mkdir -p "$OUT/fmp4"
    cd "$OUT/fmp4"
    # shellcheck disable=SC2086
    $FF -i ../plain/whole.mp4 -c copy $EXACT $HLS -hls_segment_type fmp4 \
        -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'seg_%05d.m4s' index.m3u8
    grep -q '^#EXT-X-MAP:URI="init.mp4"' index.m3u8 || die "fmp4: no EXT-X-MAP"
    join_plain . index.m3u8 expected.mp4 init.mp4
    expect . expected.mp4

    # ---- byterange/: one file, EXT-X-BYTERANGE; index_nooffset.m3u8 omits
    # @offset where a range follows the previous one
    mkdir -p "$OUT/byterange"
    cd "$OUT/byterange"
    # shellcheck disable=SC2086
    $FF -i ../plain/whole.mp4 -c copy $EXACT $HLS -hls_flags single_file \
        -hls_segment_filename main.ts index.m3u8
    awk '/^#EXT-X-BYTERANGE:/ { split(substr($0, 18), r, "@")
                                if (seen && r[2] == next_) { print "#EXT-X-BYTERANGE:" r[1] }
                                else print
                                seen = 1; next_ = r[1] + r[2]; next }
         { print }' index.m3u8 >index_nooffset.m3u8
    [ "$(grep -c '@' index_nooffset.m3u8)" = 1 ] || die "byterange: ranges are not contiguous"
    : >expected.ts
    sed -n 's/^#EXT-X-BYTERANGE://p' index.m3u8 | while IFS=@ read -r len off; do
        tail -c +$((off + 1)) main.ts | head -c "$len" >>expected.ts
    done
    expect . expected.ts

    # ---- live/: plain's segments, no ENDLIST, no PLAYLIST-TYPE
    mkdir -p "$OUT/live"
    cd "$OUT/live"
    grep -v -e '^#EXT-X-PLAYLIST-TYPE' -e '^#EXT-X-ENDLIST' ../plain/index.m3u8 >index.m3u8
    for s in $(segs index.m3u8); do
        cp ../plain/"$s" "$s"
    done
    join_plain . index.m3u8 expected.ts
    expect . expected.ts

    # ---- bad/: playlists a client must refuse
    mkdir -p "$OUT/bad"
    cd "$OUT/bad"
    printf 'Lorem ipsum dolor sit amet\nqwfp 8d7f6a5 ;;; <<>> %%%%\n#EXTINF but no header\n\tzz\n' >garbage.m3u8
    : >empty.m3u8
    {
        echo '#EXTM3U'
        echo '#EXT-X-VERSION:3'
        echo '#EXT-X-TARGETDURATION:2'
        echo '#EXT-X-MEDIA-SEQUENCE:0'
        echo '#EXT-X-PLAYLIST-TYPE:VOD'
        for i in 0 1 2 3 4; do
            printf '#EXTINF:2.000000,\nm_%05d.ts\n' "$i"
            [ "$i" = 2 ] || cp "$(printf '../plain/seg_%05d.ts' "$i")" "$(printf 'm_%05d.ts' "$i")"
        done
        echo '#EXT-X-ENDLIST'
    } >missing.m3u8
    sed "s|^#EXT-X-KEY:.*|#EXT-X-KEY:METHOD=AES-128,URI=\"nokey.key\",IV=0x$IV_HEX|; s|^seg_|../aes/seg_|" \
        ../aes/index.m3u8 >badkey.m3u8
    awk '/^#EXT-X-VERSION:/ { print "#EXT-X-VERSION:5"; next }
         /^#EXT-X-PLAYLIST-TYPE:/ { print
             print "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../aes/key.key\",KEYFORMAT=\"identity\""; next }
         /^seg_/ { print "../plain/" $0; next }
         { print }' ../plain/index.m3u8 >sample_aes.m3u8
    cat >html.m3u8 <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Not Found</title></head>
<body><h1>404</h1><p>This is a web page, not a playlist.</p></body></html>
EOF

    # ---- page/: web pages for yt-dlp's generic extractor
    mkdir -p "$OUT/page"
    cd "$OUT/page"
    cat >video.html <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>haul test video</title></head>
<body><h1>haul test video</h1>
<video src="../plain/whole.mp4" controls width="320" height="180"></video>
</body></html>
EOF
    cat >hls.html <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>haul test hls</title></head>
<body><h1>haul test hls</h1>
<video controls width="320" height="180">
<source src="../plain/index.m3u8" type="application/x-mpegURL">
</video>
</body></html>
EOF
    # two videos on one page: yt-dlp reads it as a playlist of two entries
    cat >two.html <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>haul test two</title></head>
<body><h1>haul test two</h1>
<video src="../plain/whole.mp4" controls width="320" height="180"></video>
<video controls width="320" height="180">
<source src="../plain/index.m3u8" type="application/x-mpegURL">
</video>
</body></html>
EOF
}

make_bench() {
    # 10 distinct 1 s segments at 720p ~12 Mbit/s (CBR with filler), then
    # 300 fragments that repeat them (a discontinuity at each repeat)
    mkdir -p "$OUT/.bench_src" "$OUT/bench_plain" "$OUT/bench_aes"
    cd "$OUT/.bench_src"
    # shellcheck disable=SC2086
    $FF -f lavfi -i testsrc2=size=1280x720:rate=25:duration=10 $AUDIO \
        -c:v libx264 -threads 1 -preset ultrafast -pix_fmt yuv420p -b:v 12M -minrate 12M -maxrate 12M \
        -bufsize 12M -x264-params nal-hrd=cbr -g 25 -keyint_min 25 -sc_threshold 0 \
        -force_key_frames 'expr:gte(t,n_forced*1)' -c:a aac -b:a 128k $EXACT \
        -f hls -hls_time 1 -hls_playlist_type vod -hls_segment_filename 'src_%05d.ts' src.m3u8
    [ "$(segs src.m3u8 | wc -l)" = 10 ] || die "bench: not 10 source segments"
    cd "$OUT"
    write_key bench_aes/key.key
    for p in bench_plain bench_aes; do
        {
            echo '#EXTM3U'
            echo '#EXT-X-VERSION:3'
            echo '#EXT-X-TARGETDURATION:1'
            echo '#EXT-X-MEDIA-SEQUENCE:0'
            echo '#EXT-X-PLAYLIST-TYPE:VOD'
            [ "$p" = bench_plain ] || echo '#EXT-X-KEY:METHOD=AES-128,URI="key.key"'
        } >"$p/index.m3u8"
    done
    i=0
    while [ "$i" -lt 300 ]; do
        src=$(printf '.bench_src/src_%05d.ts' $((i % 10)))
        n=$(printf 'seg_%05d.ts' "$i")
        # plain fragments share the source's blocks (served the same)
        ln "$src" "bench_plain/$n" 2>/dev/null || cp "$src" "bench_plain/$n"
        enc "$(msn_iv "$i")" "$src" "bench_aes/$n"
        for p in bench_plain bench_aes; do
            [ "$i" = 0 ] || [ $((i % 10)) != 0 ] || echo '#EXT-X-DISCONTINUITY' >>"$p/index.m3u8"
            printf '#EXTINF:1.000000,\n%s\n' "$n" >>"$p/index.m3u8"
        done
        i=$((i + 1))
    done
    for p in bench_plain bench_aes; do
        echo '#EXT-X-ENDLIST' >>"$p/index.m3u8"
    done
    # the expected bytes: the plain fragments joined; the AES ones decrypted
    # independently must give the same
    join_plain bench_plain index.m3u8 "$OUT/.bench_src/joined.ts"
    expect bench_plain .bench_src/joined.ts expected 300.000000
    i=0
    for s in $(segs bench_aes/index.m3u8); do
        dec "$(msn_iv "$i")" "bench_aes/$s" /dev/stdout
        i=$((i + 1))
    done | sha256sum | cut -d' ' -f1 >bench_aes/expected.sha256
    cmp -s bench_aes/expected.sha256 bench_plain/expected.sha256 ||
        die "bench: the AES fragments decrypt to other bytes"
    cp bench_plain/expected.size bench_plain/expected.duration bench_aes/
    rm .bench_src/joined.ts
}

if [ "$BENCH" = 1 ]; then
    make_bench
else
    make_small
fi
echo "$HASH" >"$DONE"
