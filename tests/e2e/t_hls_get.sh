#!/usr/bin/env bash
# HLS with `haul get`: every kind of stream the test media has (made by
# ffmpeg at test time, served by the test origin) comes out equal to its
# segments decrypted and joined (the expected sums were computed with
# openssl and cat, independently of haul), and ffprobe reads it; broken
# playlists fail with a message that says what is wrong, and leave no file.
. "$(dirname "$0")/lib.sh"

hls_media
start_origin
OUT=$T/out

# get_stream NAME URL-PATH [ARGS...]: haul get into $OUT/NAME; FILE = the result
get_stream() {
    local name=$1 path=$2
    shift 2
    mkdir -p "$OUT/$name"
    try "$HAUL" get "$ORIGIN/files/$path" -d "$OUT/$name" "$@" >"$T/$name.out" 2>"$T/$name.err"
    [ "$RC" = 0 ] || fail "$name: haul get exited $RC: $(cat "$T/$name.err")"
    FILE=$(cat "$T/$name.out")
    [ -f "$FILE" ] || fail "$name: no file at '$FILE'"
    no_temp_left "$OUT/$name"
}

for s in plain aes fmp4 byterange; do
    get_stream "$s" "$s/index.m3u8"
    assert_eq "$s: the joined, decrypted segments" "$(file_sha "$FILE")" "$(cat "$MEDIA/$s/expected.sha256")"
    near "$s: duration (1/10 s)" "$(media_duration "$FILE")" "$(awk '{ printf "%d", $1 * 10 + 0.5 }' "$MEDIA/$s/expected.duration")" 3
    ok "$s stream: $(basename "$FILE"), $(file_size "$FILE") bytes, equal to its segments joined"
done
case "$(basename "$(cat "$T/fmp4.out")")" in *.mp4) ;; *) fail "an fMP4 stream was saved as $(cat "$T/fmp4.out")" ;; esac
case "$(basename "$(cat "$T/plain.out")")" in plain.ts) ;; *) fail "a TS stream named index.m3u8 in plain/ was saved as $(cat "$T/plain.out")" ;; esac
ok "names: the folder's name for a generic index.m3u8, .ts for TS, .mp4 for fMP4"

get_stream noiv aes/index_noiv.m3u8
assert_eq "AES-128, IV from the media sequence number" "$(file_sha "$FILE")" "$(cat "$MEDIA/aes/expected.sha256")"
ok "AES-128 without an IV attribute decrypts with the sequence number as IV"

get_stream nooffset byterange/index_nooffset.m3u8
assert_eq "byte ranges without offsets" "$(file_sha "$FILE")" "$(cat "$MEDIA/byterange/expected.sha256")"
ok "EXT-X-BYTERANGE without @offset continues after the previous range"

# the byte ranges were asked for as ranges: no request fetched the whole file
[ -z "$(log_lines /files/byterange/main.ts | awk '$3 == 200')" ] ||
    fail "a byte-range segment was fetched whole: $(log_lines /files/byterange/main.ts)"
ok "byte-range segments are fetched with Range requests (206)"

# a master playlist with separate audio: the best variant, merged with its audio
get_stream multi multi/master.m3u8
case "$FILE" in *.mp4) ;; *) fail "video + audio were saved as $FILE, not .mp4" ;; esac
streams=$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$FILE" | sort | tr '\n' ' ')
assert_eq "merged streams" "$streams" "audio video "
assert_eq "the best variant's width" "$(ffprobe -v error -select_streams v -show_entries stream=width -of csv=p=0 "$FILE")" 640
near "merged duration (1/10 s)" "$(media_duration "$FILE")" "$(awk '{ printf "%d", $1 * 10 + 0.5 }' "$MEDIA/multi/expected.duration")" 3
assert_contains "the notice names the variant" "$T/multi.err" "640x360"
[ -n "$(log_lines /files/multi/aud/)" ] || fail "the audio rendition was not fetched"
[ -z "$(log_lines /files/multi/v0/ | grep -v index.m3u8 || true)" ] || fail "segments of the variant not chosen were fetched"
ok "master playlist: the best variant (640x360) and the separate audio, merged by ffmpeg"

get_stream worst multi/master.m3u8 --format worst
assert_eq "format worst: width" "$(ffprobe -v error -select_streams v -show_entries stream=width -of csv=p=0 "$FILE")" 320
get_stream p200 multi/master.m3u8 --format 200p
assert_eq "format 200p: width" "$(ffprobe -v error -select_streams v -show_entries stream=width -of csv=p=0 "$FILE")" 320
ok "format worst and 200p pick the 320x180 variant"

get_stream remux plain/index.m3u8 --format best:mp4
case "$FILE" in *.mp4) ;; *) fail "format best:mp4 gave $FILE" ;; esac
assert_eq "remuxed container" "$(ffprobe -v error -show_entries format=format_name -of csv=p=0 "$FILE" | tr -d '"' | cut -d, -f1)" mov
near "remuxed duration (1/10 s)" "$(media_duration "$FILE")" 100 3
ok "format best:mp4 remuxes the TS stream into MP4 with ffmpeg"

# the speed limit holds for the stream as a whole, across its connections
# and its many short transfers: 384 KB at 100 KB/s cannot take under 2.5 s
start=$(date +%s.%N)
get_stream limited plain/index.m3u8 -N 4 --max-speed 100000
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
awk -v t="$took" 'BEGIN { exit !(t >= 2.5) }' || fail "384 KB at --max-speed 100000 took only $took s"
assert_eq "limited" "$(file_sha "$FILE")" "$(cat "$MEDIA/plain/expected.sha256")"
ok "--max-speed limits a stream as a whole (4 connections, 384 KB at 100 KB/s: $took s)"

# the fragment record keeps two copies: one cut short by a crash fails its
# check and the older copy is used (one fragment is fetched again)
mkdir -p "$OUT/torn"
"$HAUL" get "$ORIGIN/files/plain/index.m3u8" -d "$OUT/torn" -N 1 --max-speed 60000 -q 2>"$T/torn.err" &
pid=$!
state_joined() { # the newest copy's joined count, 0 while there is none
    local f
    f=$(find "$OUT/torn/.haul-tmp" -name video.state 2>/dev/null | head -1)
    [ -n "$f" ] && python3 -c 'import json,sys; print(max(json.loads(l)["joined"] for l in open(sys.argv[1]) if l.strip()))' "$f" 2>/dev/null || echo 0
}
for _ in $(seq 600); do [ "$(state_joined)" -ge 2 ] && break; sleep 0.05; done
[ "$(state_joined)" -ge 2 ] || fail "no record of two joined fragments: $(cat "$T/torn.err")"
kill -INT $pid
try wait $pid
assert_eq "Ctrl-C" "$RC" 130
state=$(find "$OUT/torn/.haul-tmp" -name video.state | head -1)
python3 - "$state" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
newest = max((i for i, l in enumerate(lines) if l.strip()), key=lambda i: json.loads(lines[i])["joined"])
lines[newest] = lines[newest][:20] + "#" + lines[newest][21:]  # a torn write
open(sys.argv[1], "w").write("\n".join(lines))
PY
seg0=$(log_lines /files/plain/seg_00000.ts | wc -l)
try "$HAUL" get "$ORIGIN/files/plain/index.m3u8" -d "$OUT/torn" -q
assert_eq "after a torn record" "$RC" 0
assert_eq "fragment 1, joined in the older copy, not fetched again" \
    "$(log_lines /files/plain/seg_00000.ts | wc -l)" "$seg0"
assert_eq "the bytes after a torn record" "$(file_sha "$OUT/torn/plain.ts")" "$(cat "$MEDIA/plain/expected.sha256")"
ok "a record copy cut short is not trusted: the older copy is used and the stream comes out whole"

get_stream connections1 plain/index.m3u8 -N 1
assert_eq "one connection" "$(file_sha "$FILE")" "$(cat "$MEDIA/plain/expected.sha256")"
ok "-N 1: one fragment at a time, same bytes"

# mode auto sniffs the Content-Type of a URL that does not end in .m3u8
mkdir -p "$OUT/sniff"
try "$HAUL" get "$ORIGIN/data/stream?size=1000&ctype=application/vnd.apple.mpegurl" -d "$OUT/sniff" 2>"$T/sniff.err"
[ "$RC" != 0 ] || fail "random bytes sold as a playlist were accepted"
assert_contains "sniffed" "$T/sniff.err" "the URL is an HLS playlist"
assert_contains "then refused as no playlist" "$T/sniff.err" "should start with #EXTM3U"
try "$HAUL" get "$ORIGIN/data/stream?size=1000&ctype=application/vnd.apple.mpegurl" -d "$OUT/sniff" --mode direct -q
assert_eq "mode direct takes it as a file" "$RC" 0
assert_eq "mode direct: the bytes" "$(file_sha "$OUT/sniff/stream")" "$(expected_sha 1000)"
ok "mode auto hands a playlist Content-Type to HLS; mode direct saves the bytes"

# broken streams: an error that says what is wrong, no file, nothing kept
# when nothing was fetched
bad() {
    local name=$1 path=$2 want=$3
    mkdir -p "$OUT/bad-$name"
    try "$HAUL" get "$ORIGIN/files/$path" -d "$OUT/bad-$name" 2>"$T/bad-$name.err"
    [ "$RC" != 0 ] || fail "$name: a broken stream was accepted"
    assert_contains "$name: the message" "$T/bad-$name.err" "$want"
    [ -z "$(find "$OUT/bad-$name" -maxdepth 1 -type f)" ] || fail "$name: a file was saved: $(ls "$OUT/bad-$name")"
}
bad garbage bad/garbage.m3u8 "should start with #EXTM3U"
bad empty bad/empty.m3u8 "is empty"
bad html bad/html.m3u8 "an HTML page"
bad sample_aes bad/sample_aes.m3u8 "SAMPLE-AES"
bad live live/index.m3u8 "live stream"
bad badkey bad/badkey.m3u8 "decryption key"
bad missing bad/missing.m3u8 "fragment 3 of 5"
assert_contains "missing: the status" "$T/bad-missing.err" "404"
no_temp_left "$OUT/bad-garbage"
no_temp_left "$OUT/bad-live"
ok "broken playlists fail with clear errors: garbage, empty, HTML, SAMPLE-AES, live, a 404 key, a 404 segment"

# the same command again: what finished before is not fetched again
try "$HAUL" get "$ORIGIN/files/bad/missing.m3u8" -d "$OUT/bad-missing" 2>"$T/again.err"
[ "$RC" != 0 ] || fail "the segment is still missing, yet it finished"
assert_contains "resumed" "$T/again.err" "fragments are already here"
twice=$(log_lines /files/bad/m_ | awk '$3 ~ /^20/ && $NF == 1 { n[$2]++ } END { for (p in n) if (n[p] > 1) print p }')
[ -z "$twice" ] || fail "finished fragments fetched again: $twice"
ok "a failed stream keeps its finished fragments: trying again does not fetch them again"
