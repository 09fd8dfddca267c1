#!/usr/bin/env bash
# HLS jobs in the daemon: a stream job reports its source, title and
# progress; pause in the middle and resume: no fragment that was finished
# is fetched again; kill -9 in the middle and restart: it completes
# intact, again without fetching finished fragments; broken streams fail
# with their error code and message and never become done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
hls_media
start_origin
start_daemon
want=$(cat "$MEDIA/plain/expected.sha256")

# finished_frags ID: the fragment indexes the job has finished (joined or
# kept as files), from its work folder: what must never be fetched again
finished_frags() {
    local wd=$D_DIR/.haul-tmp/$1 joined=0 f
    if [ -f "$wd/video.state" ]; then
        # the record's two copies, one a line: the newer one counts
        joined=$(python3 -c 'import json,sys; print(max(json.loads(l)["joined"] for l in open(sys.argv[1]) if l.strip()))' "$wd/video.state")
    fi
    for ((f = 0; f < joined; f++)); do echo "$f"; done
    for f in "$wd"/video.[0-9]*; do
        [ -f "$f" ] && case "$f" in *.part) ;; *) echo "${f##*.}" ;; esac
    done
    return 0
}

# fetched_once FRAGS...: each plain segment seg_0000N.ts (N in FRAGS) was
# answered 200 exactly once in the origin's log
fetched_once() {
    local f n
    for f in "$@"; do
        n=$(log_lines "/files/plain/seg_0000$f.ts" | awk '$3 == 200' | wc -l)
        [ "$n" = 1 ] || fail "segment $f (finished before) was fetched $n times: $(log_lines /files/plain/seg_)"
    done
}

# --- pause and resume ---------------------------------------------------------
id=$(create_job "{\"url\": \"$ORIGIN/files/plain/index.m3u8\", \"max_speed\": 60000, \"connections\": 2}")
wait_running_bytes "$id" 120000 60
assert_eq "source" "$(jget .source <<<"$JOB")" hls
assert_eq "title" "$(jget .title <<<"$JOB")" plain
total=$(jget .bytes_total <<<"$JOB")
[ "$total" -gt 120000 ] || fail "bytes_total while running: $total"
ok "a running HLS job: source hls, title from the URL, an estimated total ($total)"

api POST "/api/jobs/$id/pause"
expect_status 200 "pause"
assert_eq "paused" "$(jget .state <<<"$BODY")" paused
done_at_pause=$(jget .bytes_done <<<"$BODY")
mapfile -t before < <(finished_frags "$id")
[ "${#before[@]}" -ge 1 ] || fail "no fragment finished before the pause: $(ls -la "$D_DIR/.haul-tmp/$id")"
lines=$(wc -l <"$ORIGIN_LOG")
sleep 1
assert_eq "nothing fetched while paused" "$(wc -l <"$ORIGIN_LOG")" "$lines"
assert_eq "bytes while paused" "$(job_field "$id" .bytes_done)" "$done_at_pause"
ok "pause stops the stream: ${#before[@]} fragments kept, nothing fetched while paused"

api POST "/api/jobs/$id/resume"
expect_status 200 "resume"
wait_state "$id" done 120
assert_eq "the file" "$(file_sha "$D_DIR/plain.ts")" "$want"
assert_eq "filename" "$(jget .filename <<<"$JOB")" plain.ts
assert_eq "bytes_done = bytes_total" "$(jget .bytes_done <<<"$JOB")" "$(jget .bytes_total <<<"$JOB")"
fetched_once "${before[@]}"
no_temp_left "$D_DIR"
ok "resume: done, the exact bytes, no finished fragment fetched again"

api_curl GET "/api/jobs/$id/file"
expect_status 200 "the file"
assert_eq "served file" "$(file_sha "$T/api.body")" "$want"
ok "the finished stream is served by /api/jobs/{id}/file"

# --- kill -9 in the middle -------------------------------------------------------------
: >"$ORIGIN_LOG"
id=$(create_job "{\"url\": \"$ORIGIN/files/plain/index.m3u8\", \"max_speed\": 60000, \"connections\": 2, \"filename\": \"crash.ts\"}")
wait_running_bytes "$id" 120000 60
kill9_daemon
mapfile -t before < <(finished_frags "$id")
[ "${#before[@]}" -ge 1 ] || fail "no fragment finished before kill -9"
[ ! -e "$D_DIR/crash.ts" ] || fail "an unfinished stream is in the folder"
start_daemon
wait_state "$id" done 120
assert_eq "after kill -9" "$(file_sha "$D_DIR/crash.ts")" "$want"
fetched_once "${before[@]}"
assert_eq "source kept" "$(jget .source <<<"$JOB")" hls
ok "kill -9 in the middle: the restarted daemon completes it intact without fetching ${#before[@]} finished fragments again"

# --- broken streams ---------------------------------------------------------------------
broken() {
    local path=$1 code=$2 text=$3 bid
    bid=$(create_job "{\"url\": \"$ORIGIN/files/$path\"}")
    wait_state "$bid" failed 60
    assert_eq "$path: error code" "$(jget .error.code <<<"$JOB")" "$code"
    case "$(jget .error.message <<<"$JOB")" in *"$text"*) ;; *) fail "$path: message: $(jget .error.message <<<"$JOB")" ;; esac
    api GET "/api/jobs/$bid/file"
    expect_error 409 not_done "$path: the file of a failed job"
}
broken bad/garbage.m3u8 hls_bad_playlist "#EXTM3U"
broken bad/empty.m3u8 hls_bad_playlist "empty"
broken live/index.m3u8 hls_live "live stream"
broken bad/sample_aes.m3u8 hls_drm "SAMPLE-AES"
broken bad/badkey.m3u8 hls_key_failed "decryption key"
broken bad/missing.m3u8 http_404 "fragment 3 of 5"
ok "broken streams fail with their codes (bad playlist, empty, live, DRM, key 404, segment 404), never done"

api POST /api/jobs "{\"url\": \"$ORIGIN/files/plain/index.m3u8\", \"format\": \"8k-ish\"}"
expect_error 422 invalid_field "a bad format"
case "$ERRMSG" in *720p*) ;; *) fail "the format message does not say what is accepted: $ERRMSG" ;; esac
api POST /api/jobs "{\"url\": \"$ORIGIN/files/plain/index.m3u8\", \"mode\": \"torrent\"}"
expect_error 422 invalid_field "a bad mode"
ok "a bad format or mode is refused with what is accepted"
