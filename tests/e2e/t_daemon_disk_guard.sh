#!/usr/bin/env bash
# haul serve --min-free: when the download folder's disk runs low, running
# jobs go back to the queue with their bytes and an error saying why,
# nothing starts, and /api/stats says the guard holds; once there is room
# again they resume by themselves and finish intact. The "disk" is a 40 MiB
# tmpfs, which needs root (CI runs as root); the test fails, not skips,
# without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin

mnt="$T/small"
mount_small_disk "$mnt" 40m
D_DIR="$mnt/dl"

try "$HAUL" serve --listen 127.0.0.1:0 --dir "$T/x" --min-free lots 2>"$T/bad.err"
assert_eq "bad --min-free exit" "$RC" 2
assert_contains "bad --min-free" "$T/bad.err" "--min-free wants a size"

start_daemon --min-free 16M
size=30000000
id=$(create_job "{\"url\": \"$ORIGIN/data/big.bin?size=$size&rate=4000000\"}")
wait_jobs 60 'j["state"] == "queued" and (j["error"] or {}).get("code") == "disk_low"' "$id"
api GET /api/stats
assert_eq "guard holds" "$(jget .disk_guard.holding <<<"$BODY")" "true"
kept=$(file_size "$(part_of "$id")")
[ "$kept" -gt 10000000 ] || fail "only $kept bytes were kept"
assert_eq "bytes_done = part" "$(job_field "$id" .bytes_done)" "$kept"
grep -q "under the 16777216" <<<"$(job_field "$id" .error.message)" || fail "message: $(job_json "$id")"
sleep 2
assert_eq "still waiting" "$(job_field "$id" .state)" "queued"
assert_eq "part unchanged while held" "$(file_size "$(part_of "$id")")" "$kept"
ok "low disk: the job is queued again with its $kept bytes and says why; nothing runs"

mount -o remount,size=100m "$mnt" || fail "cannot grow the tmpfs"
wait_state "$id" done
assert_eq "content" "$(file_sha "$D_DIR/big.bin")" "$(expected_sha $size)"
api GET /api/stats
assert_eq "guard released" "$(jget .disk_guard.holding <<<"$BODY")" "false"
ok "with room again the job resumed by itself and finished intact"
