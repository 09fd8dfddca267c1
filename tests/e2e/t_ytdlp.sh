#!/usr/bin/env bash
# Video pages through yt-dlp (Debian's, offline: its generic extractor reads
# the test pages served by the test origin): haul asks yt-dlp what a page
# holds and downloads it with its own engine: a <video src> file as a
# whole, an m3u8 through the HLS path, separate video and audio merged by
# ffmpeg; the title names the file. A missing yt-dlp or ffmpeg, or a page
# yt-dlp cannot resolve, fails with a message naming the tool and its words.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
command -v yt-dlp >/dev/null || fail "yt-dlp is needed (scripts/bootstrap installs it)"
hls_media
start_origin
OUT=$T/out
mkdir -p "$OUT" "$T/nobin"

# --- haul get ------------------------------------------------------------------------
try "$HAUL" get "$ORIGIN/files/page/video.html" -d "$OUT/video" >"$T/video.out" 2>"$T/video.err"
[ "$RC" = 0 ] || fail "a page with <video src>: exit $RC: $(cat "$T/video.err")"
FILE=$(cat "$T/video.out")
assert_eq "named by the page's title" "$(basename "$FILE")" "haul test video (1).mp4"
assert_eq "the video's bytes" "$(file_sha "$FILE")" "$(file_sha "$MEDIA/plain/whole.mp4")"
assert_contains "sniffed as a page" "$T/video.err" "the URL is a web page"
[ "$(log_lines /files/plain/whole.mp4 | awk '$3 ~ /^20/' | wc -l)" -ge 1 ] || fail "haul did not fetch the video itself"
ok "a page with <video src>: yt-dlp finds the file, haul downloads it, named by the title"

try "$HAUL" get "$ORIGIN/files/page/hls.html" -d "$OUT/hls" >"$T/hls.out" 2>"$T/hls.err"
[ "$RC" = 0 ] || fail "a page with an m3u8: exit $RC: $(cat "$T/hls.err")"
FILE=$(cat "$T/hls.out")
assert_eq "the stream's bytes" "$(file_sha "$FILE")" "$(cat "$MEDIA/plain/expected.sha256")"
case "$FILE" in *"haul test hls (1).ts") ;; *) fail "the HLS page's file: $FILE" ;; esac
ok "a page pointing at an m3u8: downloaded through haul's HLS path"

try "$HAUL" get "$ORIGIN/files/multi/master.m3u8" --mode ytdlp -d "$OUT/multi" >"$T/multi.out" 2>"$T/multi.err"
[ "$RC" = 0 ] || fail "mode ytdlp on a master playlist: exit $RC: $(cat "$T/multi.err")"
FILE=$(cat "$T/multi.out")
assert_eq "merged streams" "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$FILE" | sort | tr '\n' ' ')" "audio video "
assert_contains "two streams" "$T/multi.err" "2 streams"
ok "mode ytdlp: separate video and audio formats, fetched by haul and merged by ffmpeg"

try "$HAUL" get "$ORIGIN/files/page/nothere.html" --mode ytdlp -d "$OUT/none" 2>"$T/none.err"
[ "$RC" != 0 ] || fail "a missing page was accepted"
assert_contains "names yt-dlp" "$T/none.err" "yt-dlp could not read"
assert_contains "with its words" "$T/none.err" "404"
grep -q "please report" "$T/none.err" && fail "yt-dlp's bug-report advice reached the user: $(cat "$T/none.err")"
ok "a page yt-dlp cannot resolve: an error naming yt-dlp, with its message"

# no yt-dlp on PATH (haul itself is run by its full path)
try env PATH="$T/nobin" "$HAUL" get "$ORIGIN/files/page/video.html" -d "$OUT/nytdlp" 2>"$T/nytdlp.err"
[ "$RC" != 0 ] || fail "a page without yt-dlp was accepted"
assert_contains "missing yt-dlp" "$T/nytdlp.err" "yt-dlp, which is not installed"
[ -z "$(find "$OUT/nytdlp" -maxdepth 1 -type f 2>/dev/null)" ] || fail "a file was saved without yt-dlp"
# no ffmpeg: separate audio cannot be merged
try env PATH="$T/nobin" "$HAUL" get "$ORIGIN/files/multi/master.m3u8" -d "$OUT/nffmpeg" 2>"$T/nffmpeg.err"
[ "$RC" != 0 ] || fail "a merge without ffmpeg was accepted"
assert_contains "missing ffmpeg" "$T/nffmpeg.err" "ffmpeg is not installed"
ok "no yt-dlp, no ffmpeg: errors that name the missing tool and how to install it"

# --- the daemon --------------------------------------------------------------------------
start_daemon
id=$(create_job "{\"url\": \"$ORIGIN/files/page/video.html\", \"max_speed\": 50000}")
wait_running_bytes "$id" 60000 60
assert_eq "source" "$(jget .source <<<"$JOB")" ytdlp
assert_eq "title" "$(jget .title <<<"$JOB")" "haul test video (1)"
api POST "/api/jobs/$id/pause"
expect_status 200 "pause"
api POST "/api/jobs/$id/resume"
expect_status 200 "resume"
wait_state "$id" done 120
assert_eq "file" "$(jget .filename <<<"$JOB")" "haul test video (1).mp4"
assert_eq "bytes" "$(file_sha "$D_DIR/haul test video (1).mp4")" "$(file_sha "$MEDIA/plain/whole.mp4")"
api GET "/api/jobs/$id/events"
expect_status 200 "history"
asked=$(grep -o "asking yt-dlp" <<<"$BODY" | wc -l)
assert_eq "yt-dlp runs once (the resume reads the kept plan)" "$asked" 1
ok "daemon: a page job reports source ytdlp and the title, pauses and resumes without asking yt-dlp again"

id=$(create_job "{\"url\": \"$ORIGIN/files/page/nothere.html\", \"mode\": \"ytdlp\"}")
wait_state "$id" failed 60
assert_eq "error code" "$(jget .error.code <<<"$JOB")" ytdlp_failed
ok "daemon: a page yt-dlp cannot resolve fails with ytdlp_failed"

# --- a playlist: one job per entry ---------------------------------------------------------
api POST /api/jobs "{\"url\": \"$ORIGIN/files/page/two.html\", \"playlist\": true, \"dir\": \"two\"}"
expect_status 201 "a playlist"
assert_eq "entries" "$(jget .count <<<"$BODY")" 2
ids=$(python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin)["jobs"]))' <<<"$BODY")
urls=$(python3 -c 'import json,sys; print(" ".join(sorted(j["url"].rsplit("/", 1)[1] for j in json.load(sys.stdin)["jobs"])))' <<<"$BODY")
assert_eq "entry URLs" "$urls" "index.m3u8 whole.mp4"
dirs=$(python3 -c 'import json,sys; print(" ".join(j["options"]["dir"] for j in json.load(sys.stdin)["jobs"]))' <<<"$BODY")
assert_eq "the request's options on each" "$dirs" "two two"
# shellcheck disable=SC2086
wait_jobs 120 "j['state'] == 'done'" $ids
[ "$(find "$D_DIR/two" -maxdepth 1 -type f | wc -l)" = 2 ] || fail "two files expected in two/: $(ls "$D_DIR/two")"
ok "playlist: true creates one job per entry (with the request's options), and both finish"

api POST /api/jobs "{\"url\": \"$ORIGIN/files/page/video.html\", \"playlist\": true}"
expect_status 201 "one video with playlist: true"
assert_eq "one job" "$(jget .count <<<"$BODY")" 1
api POST /api/jobs "{\"url\": \"$ORIGIN/files/page/nothere.html\", \"playlist\": true}"
expect_error 422 ytdlp_failed "a missing playlist page"
api POST /api/jobs "{\"url\": \"$ORIGIN/files/page/two.html\", \"playlist\": \"yes\"}"
expect_error 422 invalid_field "playlist: \"yes\""
api POST /api/jobs "{\"url\": \"$ORIGIN/files/page/two.html\", \"playlist\": true, \"format\": \"hd\"}"
expect_error 422 invalid_field "a bad format with playlist: true"
ok "playlist: true on one video gives one job; yt-dlp's failure and bad options are 422 with the reason"

# the CLI: haul add --playlist prints a line per job; a playlist page given
# as one video says how to add it as a playlist
HAUL_SERVER=$API "$HAUL" add --playlist "$ORIGIN/files/page/two.html" --dir cli >"$T/add.out" 2>"$T/add.err" ||
    fail "haul add --playlist: $(cat "$T/add.err")"
assert_eq "a line per entry" "$(wc -l <"$T/add.out")" 2
grep -q 'whole.mp4$' "$T/add.out" || fail "the entry URLs are not printed: $(cat "$T/add.out")"
try "$HAUL" get "$ORIGIN/files/page/two.html" -d "$OUT/two" 2>"$T/two.err"
[ "$RC" != 0 ] || fail "a playlist page was taken as one video"
assert_contains "how to add a playlist" "$T/two.err" "haul add --playlist"
ok "haul add --playlist adds a job per video; a playlist page as one video says how to add it"
