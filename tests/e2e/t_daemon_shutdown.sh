#!/usr/bin/env bash
# haul serve: SIGTERM while jobs run exits 0 promptly and leaves them
# queued; the next start resumes them from their bytes and they finish
# whole; paused and queued jobs stay as they were. Listening beyond
# loopback needs a token; with --token, /api and /metrics need it and
# /healthz does not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_MAX_ACTIVE=3
start_daemon

size=4194304
ids=()
for i in 0 1 2; do
    ids+=("$(create_job "{\"url\": \"$ORIGIN/data/s$i.bin?size=$size&seed=$i&rate=262144\"}")")
done
wait_jobs 60 "j['state'] == 'running' and j['bytes_done'] >= 300000" "${ids[@]}"
# a fourth job waits in the queue, a fifth is paused
q=$(create_job "{\"url\": \"$ORIGIN/data/q.bin?size=1000\"}")
p=$(create_job "{\"url\": \"$ORIGIN/data/p.bin?size=1000\"}")
api POST "/api/jobs/$p/pause"
expect_status 200 "pause the fifth"
assert_eq "the fourth job" "$(job_field "$q" .state)" queued

stop_daemon TERM
ok "SIGTERM with 3 running: exit 0 in ${STOP_SECONDS}s"
kept=()
for i in 0 1 2; do
    f=$(part_of "${ids[$i]}")
    [ -f "$f" ] || fail "no part data for job $i after SIGTERM"
    k=$(file_size "$f")
    [ "$k" -gt 0 ] && [ "$k" -lt $size ] || fail "job $i kept $k bytes"
    kept+=("$k")
    # the origin saw its response end when the daemon stopped
    wait_for 5 log_count_ge "/data/s$i.bin" 1 || fail "the origin still sends s$i.bin after the daemon exited"
    before[$i]=$(log_count "/data/s$i.bin")
done
assert_eq "requests for the queued job" "$(log_count /data/q.bin)" 0

# the store has them queued: right after the restart they are queued or
# already running again, from the bytes that were kept
start_daemon
for i in 0 1 2; do
    job=$(job_json "${ids[$i]}")
    case "$(jget .state <<<"$job")" in queued | running) ;; *) fail "job $i after the restart: $job" ;; esac
    [ "$(jget .bytes_done <<<"$job")" -ge "${kept[$i]}" ] || fail "job $i lost bytes: ${kept[$i]} kept: $job"
done
assert_eq "paused job after the restart" "$(job_field "$p" .state)" paused
for i in 0 1 2; do wait_state "${ids[$i]}" done 90; done
wait_state "$q" done
for i in 0 1 2; do
    id=${ids[$i]}
    assert_eq "job $i content" "$(file_sha "$D_DIR/s$i.bin")" "$(expected_sha $size $i)"
    first=$(log_lines "/data/s$i.bin" | tail -n +$((before[i] + 1)) | awk '$1 == "GET"' | head -1)
    assert_eq "job $i: resumed request (status, first byte)" "$(echo "$first" | awk '{print $3" "$4}')" "206 ${kept[$i]}"
    api GET "/api/jobs/$id/events"
    expect_status 200 "events of job $i"
    assert_eq "job $i: requeued at the shutdown" \
        "$(jpy '"running>queued" in [str(e["from"]) + ">" + str(e["to"]) for e in j["events"]]' <<<"$BODY")" true
done
assert_eq "paused job after all" "$(job_field "$p" .state)" paused
assert_eq "requests for the paused job" "$(log_count /data/p.bin)" 0
ok "after the restart all three resumed from their kept bytes (${kept[*]}) and are whole; the paused job stayed paused"

stop_daemon INT
ok "SIGINT: exit 0 in ${STOP_SECONDS}s"

# ---------------------------------------------------------------- exposure
refuses_public() { # refuses_public WHAT COMMAND...: must exit non-zero, naming the token
    local what=$1
    shift
    rm -f "$T/pub.port"
    try timeout 20 "$@" 2>"$T/pub.err" >/dev/null
    [ "$RC" != 124 ] || fail "$what: the daemon kept running on 0.0.0.0 without a token"
    [ "$RC" != 0 ] || fail "$what: exit 0"
    [ "$RC" -lt 125 ] || fail "$what: exit $RC: $(cat "$T/pub.err")"
    grep -qi token "$T/pub.err" || fail "$what: the message does not mention the token: $(cat "$T/pub.err")"
    [ ! -s "$T/pub.port" ] || fail "$what: a port file was written"
    ok "$what: refused (exit $RC): $(head -1 "$T/pub.err")"
}
refuses_public "--listen 0.0.0.0:0 without a token" \
    "$HAUL" serve --listen 0.0.0.0:0 --port-file "$T/pub.port" --dir "$T/pub" --state-dir "$T/pubstate" --max-active 1
refuses_public "HAUL_LISTEN=0.0.0.0:0 without a token" \
    env HAUL_LISTEN=0.0.0.0:0 "$HAUL" serve --port-file "$T/pub.port" --dir "$T/pub" --state-dir "$T/pubstate" --max-active 1

# ---------------------------------------------------------------- token
D_DIR="$T/dl2"
D_STATE="$T/state2"
start_daemon --token s3cret
code() { curl -s --noproxy '*' -o "$T/tok.body" -w '%{http_code}' "$@"; }
assert_eq "healthz without a token" "$(code "$API/healthz")" 200
case "$(code "$API/")" in 401 | 403 | 000) fail "/ needs a token or does not answer" ;; esac
for path in /api/stats /api/jobs /metrics; do
    assert_eq "$path without a token" "$(code "$API$path")" 401
    assert_eq "$path without a token: code" "$(jget .error.code <"$T/tok.body")" unauthorized
    assert_eq "$path with a wrong token" "$(code -H 'Authorization: Bearer nope' "$API$path")" 403
    assert_eq "$path with a wrong token: code" "$(jget .error.code <"$T/tok.body")" forbidden
    assert_eq "$path with the token" "$(code -H 'Authorization: Bearer s3cret' "$API$path")" 200
done
assert_eq "POST /api/jobs without a token" \
    "$(code -X POST -H 'Content-Type: application/json' -d "{\"url\": \"$ORIGIN/data/t.bin?size=10\"}" "$API/api/jobs")" 401
assert_eq "POST /api/jobs with a wrong token" \
    "$(code -X POST -H 'Authorization: Bearer s3cre' -H 'Content-Type: application/json' -d "{\"url\": \"$ORIGIN/data/t.bin?size=10\"}" "$API/api/jobs")" 403
assert_eq "events without a token" "$(code -m 3 "$API/api/events")" 401
D_TOKEN=s3cret
api GET /api/stats
expect_status 200 "stats with the token"
assert_eq "no job was created without the token" "$(jget .jobs.total <<<"$BODY")" 0
assert_eq "requests for t.bin" "$(log_count /data/t.bin)" 0
id=$(create_job "{\"url\": \"$ORIGIN/data/t.bin?size=10\"}")
wait_state "$id" done
ok "--token: no header 401, wrong 403, right 200; /healthz open; refused writes change nothing"
stop_daemon
