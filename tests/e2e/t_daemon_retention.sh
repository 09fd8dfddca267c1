#!/usr/bin/env bash
# haul serve --keep-finished: finished jobs are forgotten that long after
# they finished; their files stay, and unfinished jobs are never touched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin

try "$HAUL" serve --listen 127.0.0.1:0 --dir "$D_DIR" --keep-finished 3x 2>"$T/bad.err"
assert_eq "bad --keep-finished exit" "$RC" 2
assert_contains "bad --keep-finished" "$T/bad.err" "--keep-finished wants a duration"
ok "a bad --keep-finished is refused"

start_daemon --keep-finished 2s
done_id=$(create_job "{\"url\": \"$ORIGIN/data/keep.bin?size=100000\"}")
slow_id=$(create_job "{\"url\": \"$ORIGIN/data/slow.bin?size=50000000&rate=100000\"}")
wait_state "$done_id" done
api POST "/api/jobs/$slow_id/pause"
expect_status 200 "pause"
gone() { [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$API/api/jobs/$done_id")" = 404 ]; }
wait_for 30 gone || fail "the done job was not forgotten after 2 s: $(job_json "$done_id")"
[ -f "$D_DIR/keep.bin" ] || fail "the finished file went with the job"
assert_eq "content" "$(file_sha "$D_DIR/keep.bin")" "$(expected_sha 100000)"
assert_eq "paused job" "$(job_field "$slow_id" .state)" "paused"
ok "a done job is forgotten after --keep-finished, its file stays, a paused job stays"
