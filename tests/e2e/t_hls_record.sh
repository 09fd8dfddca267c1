#!/usr/bin/env bash
# Recording a live HLS stream (record: true). The test writes the live
# playlist itself, segment by segment (from the plain test stream), into a
# folder the test origin serves: haul refreshes it every target duration,
# takes every new segment once, and finishes cleanly when the playlist
# ends (#EXT-X-ENDLIST) or the job is paused; a daemon killed in the
# middle goes on recording after its restart. Each result must equal the
# plain stream's segments joined.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
hls_media
ROOT=$T/root
mkdir -p "$ROOT"
ORIGIN_ROOT=$ROOT
start_origin
start_daemon
want=$(cat "$MEDIA/plain/expected.sha256")

# live_playlist NAME N [end]: NAME/index.m3u8 lists segments 0..N-1 of the
# plain stream (copied in), ending with #EXT-X-ENDLIST when "end" is given;
# replaced atomically, like a packager does
live_playlist() {
    local d=$ROOT/$1 n=$2 i
    mkdir -p "$d"
    {
        echo "#EXTM3U"
        echo "#EXT-X-VERSION:3"
        echo "#EXT-X-TARGETDURATION:1"
        echo "#EXT-X-MEDIA-SEQUENCE:0"
        for ((i = 0; i < n; i++)); do
            [ -f "$d/seg_0000$i.ts" ] || cp "$MEDIA/plain/seg_0000$i.ts" "$d/"
            echo "#EXTINF:2.000000,"
            echo "seg_0000$i.ts"
        done
        [ "${3:-}" = end ] && echo "#EXT-X-ENDLIST"
    } >"$d/index.m3u8.tmp"
    mv "$d/index.m3u8.tmp" "$d/index.m3u8"
}

# fetched NAME SEG: the origin answered segment SEG of NAME with 200
fetched() {
    [ "$(log_lines "/files/$1/seg_0000$2.ts" | awk '$3 == 200' | wc -l)" -ge 1 ]
}

# --- refused without record: true -----------------------------------------------------
live_playlist a 2
id=$(create_job "{\"url\": \"$ORIGIN/files/a/index.m3u8\"}")
wait_state "$id" failed 60
assert_eq "without record" "$(jget .error.code <<<"$JOB")" hls_live
ok "a live playlist without record: true fails with hls_live"

# --- recorded until the stream ends ---------------------------------------------------------
id=$(create_job "{\"url\": \"$ORIGIN/files/a/index.m3u8\", \"record\": true}")
wait_for 60 fetched a 1 || fail "the first segments were not fetched"
assert_eq "recording" "$(job_field "$id" .state)" running
assert_eq "no total while recording" "$(job_field "$id" .bytes_total)" -1
live_playlist a 4
wait_for 60 fetched a 3 || fail "new segments were not picked up"
live_playlist a 5 end
wait_state "$id" done 60
assert_eq "the recording" "$(file_sha "$D_DIR/$(jget .filename <<<"$JOB")")" "$want"
twice=$(log_lines /files/a/seg_ | awk '$3 == 200 { n[$2]++ } END { for (p in n) if (n[p] > 1) print p }')
[ -z "$twice" ] || fail "segments fetched twice: $twice"
assert_eq "options keep record" "$(jget .options.record <<<"$JOB")" true
ok "record: true follows the live playlist, takes each new segment once, and finishes at #EXT-X-ENDLIST"

# --- recorded until paused ----------------------------------------------------------------------
live_playlist b 3
id=$(create_job "{\"url\": \"$ORIGIN/files/b/index.m3u8\", \"record\": true, \"filename\": \"b.ts\"}")
wait_for 60 fetched b 2 || fail "the live segments were not fetched"
api POST "/api/jobs/$id/pause"
expect_status 200 "pause a recording"
wait_state "$id" done 60
live_playlist b 5
sleep 2
[ "$(log_lines /files/b/seg_00003.ts | wc -l)" = 0 ] || fail "segments were fetched after the recording stopped"
head -c "$(stat -c %s "$D_DIR/b.ts")" "$MEDIA/plain/expected.ts" | sha256sum | cut -d' ' -f1 >"$T/b.want"
assert_eq "what was recorded: the first three segments" "$(file_sha "$D_DIR/b.ts")" "$(cat "$T/b.want")"
assert_eq "three segments' bytes" "$(file_size "$D_DIR/b.ts")" \
    "$(cat "$MEDIA"/plain/seg_0000{0,1,2}.ts | wc -c)"
ok "pause ends a recording cleanly: what was recorded becomes the done file, nothing more is fetched"

# --- kill -9 in the middle: the restarted daemon goes on recording ---------------------------
live_playlist c 2
id=$(create_job "{\"url\": \"$ORIGIN/files/c/index.m3u8\", \"record\": true, \"filename\": \"c.ts\"}")
wait_for 60 fetched c 1 || fail "the live segments were not fetched"
wait_jobs 60 "j['bytes_done'] > 0" "$id"
kill9_daemon
live_playlist c 3
start_daemon
wait_for 60 fetched c 2 || fail "the restarted daemon did not go on recording"
live_playlist c 5 end
wait_state "$id" done 60
assert_eq "recording across a crash" "$(file_sha "$D_DIR/c.ts")" "$want"
ok "kill -9 while recording: after the restart it goes on and finishes intact"
