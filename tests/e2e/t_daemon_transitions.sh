#!/usr/bin/env bash
# haul serve: every action the state machine does not allow answers 409
# bad_state with a message naming both states, and changes nothing; unknown
# jobs and paths answer 404, a known path with another method 405.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_MAX_ACTIVE=1
start_daemon

# one job in each state (one slot: the slow job holds it, the rest queue)
done_id=$(create_job "{\"url\": \"$ORIGIN/data/d.bin?size=1000\"}")
wait_state "$done_id" done
failed_id=$(create_job "{\"url\": \"$ORIGIN/data/f.bin?status=404\"}")
wait_state "$failed_id" failed 60
running_id=$(create_job "{\"url\": \"$ORIGIN/data/r.bin?size=200000000&rate=262144\"}")
wait_running_bytes "$running_id" 1
queued_id=$(create_job "{\"url\": \"$ORIGIN/data/q.bin?size=1000\"}")
paused_id=$(create_job "{\"url\": \"$ORIGIN/data/p.bin?size=1000\"}")
api POST "/api/jobs/$paused_id/pause"
expect_status 200 "pause a queued job"
canceled_id=$(create_job "{\"url\": \"$ORIGIN/data/c.bin?size=1000\"}")
api POST "/api/jobs/$canceled_id/cancel"
expect_status 200 "cancel a queued job"
for s in done failed running queued paused canceled; do
    v=${s}_id
    assert_eq "the $s job" "$(job_field "${!v}" .state)" "$s"
done
ok "one job in each state"

# what must not change when an action is refused (the running job's
# progress moves on by itself)
stable() {
    job_json "$1" | jeval '{k: v for k, v in j.items() if k not in ("bytes_done", "speed_bps", "eta_s", "bytes_total")}'
}
history_len() {
    api GET "/api/jobs/$1/events"
    expect_status 200 "events of $1"
    jget '.events|length' <<<"$BODY"
}

declare -A TARGET=([pause]=paused [resume]=queued [cancel]=canceled [retry]=queued)
refused() { # refused ACTION STATE
    local action=$1 from=$2 v=${2}_id
    local id=${!v}
    local before hist
    before=$(stable "$id")
    hist=$(history_len "$id")
    api POST "/api/jobs/$id/$action"
    expect_error 409 bad_state "$action of a $from job"
    [[ $ERRMSG == *"$from"* ]] || fail "$action of a $from job: the message does not name '$from': $ERRMSG"
    [[ $ERRMSG == *"${TARGET[$action]}"* ]] || fail "$action of a $from job: the message does not name '${TARGET[$action]}': $ERRMSG"
    assert_eq "$from job after a refused $action" "$(stable "$id")" "$before"
    assert_eq "history of the $from job after a refused $action" "$(history_len "$id")" "$hist"
}

refused resume queued
refused resume running
refused resume done
refused resume failed
refused resume canceled
refused pause paused
refused pause done
refused pause failed
refused pause canceled
refused cancel done
refused cancel failed
refused cancel canceled
refused retry queued
refused retry running
refused retry paused
refused retry done
ok "16 refused actions: 409 bad_state naming both states, job and history unchanged"

# bulk: the jobs an action does not apply to are skipped, not refused
snap=$(for s in done failed queued paused canceled; do v=${s}_id; stable "${!v}"; done)
api POST /api/jobs/bulk "{\"action\": \"resume\", \"ids\": [\"$done_id\", \"$failed_id\", \"$queued_id\", \"$canceled_id\"]}"
expect_status 200 "bulk resume of jobs it does not apply to"
assert_eq "bulk resume counts" "$(jeval '[j["affected"], j["skipped"]]' <<<"$BODY")" "[0,4]"
api POST /api/jobs/bulk '{"action": "retry", "states": ["done", "queued", "paused"]}'
expect_status 200 "bulk retry by states it does not apply to"
assert_eq "bulk retry counts" "$(jeval 'j["affected"]' <<<"$BODY")" 0
assert_eq "jobs after bulk actions that did not apply" \
    "$(for s in done failed queued paused canceled; do v=${s}_id; stable "${!v}"; done)" "$snap"
ok "bulk: actions that do not apply are skipped (affected 0), nothing changes"

# unknown ids and paths
for p in /api/jobs/nosuchjob0 /api/jobs/nosuchjob0/events /api/jobs/nosuchjob0/file; do
    api GET "$p"
    expect_error 404 not_found "GET $p"
done
for a in pause resume cancel retry; do
    api POST "/api/jobs/nosuchjob0/$a"
    expect_error 404 not_found "POST $a of an unknown job"
done
api DELETE /api/jobs/nosuchjob0
expect_error 404 not_found "DELETE an unknown job"
for p in /api/nothing /api/jobs/$running_id/frobnicate /no/such/path /api; do
    api GET "$p"
    expect_error 404 not_found "GET $p"
done
api POST "/api/jobs/$running_id/frobnicate" '{}'
expect_error 404 not_found "POST an unknown action"
ok "unknown jobs and paths: 404 not_found"


# nothing of the above touched the running job's transfer or the others
assert_eq "running job still running" "$(job_field "$running_id" .state)" running
assert_eq "requests for the queued job" "$(log_count /data/q.bin)" 0
assert_eq "requests for the paused job" "$(log_count /data/p.bin)" 0
assert_eq "requests for the canceled job" "$(log_count /data/c.bin)" 0

# the allowed actions still work on the same jobs (the slot stays taken
# until the running job is paused)
api POST "/api/jobs/$queued_id/cancel"
expect_status 200 "cancel queued"
assert_eq "cancel queued ->" "$(jget .state <<<"$BODY")" canceled
api POST "/api/jobs/$failed_id/retry"
expect_status 200 "retry failed"
assert_eq "retry failed ->" "$(jget .state <<<"$BODY")" queued
api POST "/api/jobs/$canceled_id/retry"
expect_status 200 "retry canceled"
assert_eq "retry canceled ->" "$(jget .state <<<"$BODY")" queued
api POST "/api/jobs/$paused_id/resume"
expect_status 200 "resume paused"
assert_eq "resume paused ->" "$(jget .state <<<"$BODY")" queued
api POST "/api/jobs/$running_id/pause"
expect_status 200 "pause running"
assert_eq "pause running ->" "$(jget .state <<<"$BODY")" paused
api POST "/api/jobs/$running_id/cancel"
expect_status 200 "cancel paused"
assert_eq "cancel paused ->" "$(jget .state <<<"$BODY")" canceled
wait_state "$paused_id" done
wait_state "$canceled_id" done
assert_eq "the canceled-then-retried job's file" "$(file_sha "$D_DIR/c.bin")" "$(expected_sha 1000)"
ok "the allowed actions answer 200 with the new state"

# known paths, another method: 405 method_not_allowed (evhttp's own
# answer to methods it was not told about is a 501 HTML page: not the contract)
api DELETE /api/stats
expect_error 405 method_not_allowed "DELETE /api/stats"
api DELETE /api/jobs
expect_error 405 method_not_allowed "DELETE /api/jobs"
api POST "/api/jobs/$running_id"
expect_error 405 method_not_allowed "POST /api/jobs/ID"
api GET "/api/jobs/$running_id/pause"
expect_error 405 method_not_allowed "GET /api/jobs/ID/pause"
api POST /healthz
expect_error 405 method_not_allowed "POST /healthz"
api PUT /api/jobs '{}'
expect_error 405 method_not_allowed "PUT /api/jobs"
api PATCH "/api/jobs/$running_id" '{}'
expect_error 405 method_not_allowed "PATCH /api/jobs/ID"
ok "known paths with another method: 405"

stop_daemon
