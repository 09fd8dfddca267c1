#!/usr/bin/env bash
# haul serve: pause stops the transfer before it answers and keeps the part
# data; resume continues from that byte (a Range request, no byte fetched
# twice); cancel stops the transfer and deletes the temp data before it
# answers, and the job never runs again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
start_daemon

# ---------------------------------------------------------------- pause
size=4194304
url="$ORIGIN/data/pause.bin?size=$size&rate=262144"
id=$(create_job "{\"url\": \"$url\"}")
wait_running_bytes "$id" 100000
part=$(part_of "$id")
[ -f "$part" ] || fail "no part file at $part while running: $(find "$D_DIR" 2>&1)"

api POST "/api/jobs/$id/pause"
size_at_answer=$(file_size "$part" 2>/dev/null || echo missing)
expect_status 200 "pause"
assert_eq "pause answer state" "$(jget .state <<<"$BODY")" paused
answered_done=$(jget .bytes_done <<<"$BODY")

# the origin sees the connection closed (a response ends, incomplete, and is
# logged) and then nothing more for 2 s
wait_for 5 log_count_ge /data/pause.bin 1 \
    || fail "the origin still sends the paused download 5 s after the pause answer"
assert_eq "the aborted response is incomplete" "$(log_lines /data/pause.bin | tail -1 | awk '{print $6}')" 0
lines=$(log_count /data/pause.bin)
sleep 2
assert_eq "requests in the 2 s after the pause" "$(log_count /data/pause.bin)" "$lines"
[ -f "$part" ] || fail "pause removed the part data"
kept=$(file_size "$part")
assert_eq "part size at the answer vs 2 s later" "$size_at_answer" "$kept"
job=$(job_json "$id")
assert_eq "still paused" "$(jget .state <<<"$job")" paused
done_now=$(jget .bytes_done <<<"$job")
[ "$done_now" -gt 0 ] || fail "bytes_done of the paused job is $done_now"
[ "$kept" -lt $size ] || fail "the part file is complete ($kept) after the pause"
assert_eq "bytes_done = part size" "$done_now" "$kept"
assert_eq "bytes_done in the pause answer = part size" "$answered_done" "$kept"
ok "pause: the transfer stopped at the answer; $kept bytes kept, bytes_done = part size"

# ---------------------------------------------------------------- resume
api POST "/api/jobs/$id/resume"
expect_status 200 "resume"
case "$(jget .state <<<"$BODY")" in queued | running) ;; *) fail "resume answered $BODY" ;; esac
wait_state "$id" done
assert_eq "content after resume" "$(file_sha "$D_DIR/pause.bin")" "$(expected_sha $size)"
# the request after the pause starts at the kept byte
after=$(log_lines /data/pause.bin | tail -n +$((lines + 1)))
[ -n "$after" ] || fail "no request after resume"
first=$(echo "$after" | awk '$1 == "GET"' | head -1)
assert_eq "resumed request (status, first byte)" "$(echo "$first" | awk '{print $3" "$4}')" "206 $kept"
echo "$after" | awk -v k="$kept" '$4 != "-" && $4 < k { bad = 1 } END { exit bad }' \
    || fail "a request after the pause started before byte $kept: $after"
assert_eq "bytes sent after resume" "$(echo "$after" | awk '{ if ($5 != "-") s += $5 } END { print s + 0 }')" $((size - kept))
[ ! -e "$D_DIR/.haul-tmp/$id" ] || fail "temp data left after done"
ok "resume: one Range request from byte $kept, $((size - kept)) bytes, the file is whole"

# ---------------------------------------------------------------- cancel
url="$ORIGIN/data/cancel.bin?size=$size&rate=262144"
cid=$(create_job "{\"url\": \"$url\"}")
wait_running_bytes "$cid" 100000
[ -d "$D_DIR/.haul-tmp/$cid" ] || fail "no temp folder while running"
api POST "/api/jobs/$cid/cancel"
tmp_after=$([ -e "$D_DIR/.haul-tmp/$cid" ] && echo present || echo gone)
expect_status 200 "cancel"
assert_eq "cancel answer state" "$(jget .state <<<"$BODY")" canceled
assert_eq "temp folder when the cancel answer arrived" "$tmp_after" gone
api GET "/api/jobs/$cid/file"
expect_error 409 not_done "file of a canceled job"
wait_for 5 log_count_ge /data/cancel.bin 1 \
    || fail "the origin still sends the canceled download 5 s after the cancel answer"
lines=$(log_count /data/cancel.bin)
sleep 2
assert_eq "requests in the 2 s after the cancel" "$(log_count /data/cancel.bin)" "$lines"
assert_eq "still canceled" "$(job_field "$cid" .state)" canceled
[ ! -e "$D_DIR/.haul-tmp/$cid" ] || fail "the temp folder came back: $(ls -la "$D_DIR/.haul-tmp/$cid")"
[ ! -e "$D_DIR/cancel.bin" ] || fail "a canceled job left a file"
ok "cancel: temp data gone at the answer, file 409, no request and still canceled 2 s later"

# cancel of a paused job deletes its kept part data too
url="$ORIGIN/data/pc.bin?size=1048576&rate=262144"
pid_=$(create_job "{\"url\": \"$url\"}")
wait_running_bytes "$pid_" 50000
api POST "/api/jobs/$pid_/pause"
expect_status 200 "pause before cancel"
[ -f "$(part_of "$pid_")" ] || fail "no part data for the paused job"
api POST "/api/jobs/$pid_/cancel"
tmp_after=$([ -e "$D_DIR/.haul-tmp/$pid_" ] && echo present || echo gone)
expect_status 200 "cancel paused"
assert_eq "cancel (paused) state" "$(jget .state <<<"$BODY")" canceled
assert_eq "temp folder after canceling a paused job" "$tmp_after" gone
ok "cancel of a paused job deletes its part data"

# retry of that canceled job starts from zero
before=$(log_count /data/pc.bin)
api POST "/api/jobs/$pid_/retry"
expect_status 200 "retry canceled"
wait_state "$pid_" done
assert_eq "content after retry" "$(file_sha "$D_DIR/pc.bin")" "$(expected_sha 1048576)"
first=$(log_lines /data/pc.bin | tail -n +$((before + 1)) | awk '$1 == "GET"' | head -1)
assert_eq "the retried request (status, first byte)" "$(echo "$first" | awk '{print $3" "$4}')" "200 0"
ok "retry of a canceled job downloads from byte 0"

# delete of a running job cancels it first: transfer stopped and temp data
# gone when the answer arrives
url="$ORIGIN/data/del.bin?size=$size&rate=262144"
did=$(create_job "{\"url\": \"$url\"}")
wait_running_bytes "$did" 50000
api DELETE "/api/jobs/$did"
tmp_after=$([ -e "$D_DIR/.haul-tmp/$did" ] && echo present || echo gone)
expect_status 200 "delete running"
assert_eq "delete answer" "$(jeval '[j["id"], j["deleted"]]' <<<"$BODY")" "[\"$did\",true]"
assert_eq "temp folder when the delete answer arrived" "$tmp_after" gone
wait_for 5 log_count_ge /data/del.bin 1 || fail "the origin still sends the deleted download"
lines=$(log_count /data/del.bin)
sleep 1
assert_eq "requests after the delete" "$(log_count /data/del.bin)" "$lines"
api GET "/api/jobs/$did"
expect_error 404 not_found "GET a deleted job"
ok "delete of a running job: transfer stopped, temp data gone, 404 after"

# pause of a queued job: it never starts until resumed
D_MAX_ACTIVE=1
stop_daemon
start_daemon
url="$ORIGIN/data/hold.bin?size=$size&rate=262144"
hold=$(create_job "{\"url\": \"$url\"}")
wait_running_bytes "$hold" 1
qid=$(create_job "{\"url\": \"$ORIGIN/data/queued.bin?size=1000\"}")
assert_eq "second job with max-active 1" "$(job_field "$qid" .state)" queued
api POST "/api/jobs/$qid/pause"
expect_status 200 "pause queued"
assert_eq "paused from queued" "$(jget .state <<<"$BODY")" paused
api POST "/api/jobs/$hold/cancel"
expect_status 200 "cancel the holder"
sleep 2
assert_eq "paused queued job after the slot freed" "$(job_field "$qid" .state)" paused
assert_eq "requests for the paused queued job" "$(log_count /data/queued.bin)" 0
api POST "/api/jobs/$qid/resume"
expect_status 200 "resume queued"
wait_state "$qid" done
assert_eq "content (queued, paused, resumed)" "$(file_sha "$D_DIR/queued.bin")" "$(expected_sha 1000)"
ok "a paused queued job does not start when a slot frees; resumed, it runs"

stop_daemon
