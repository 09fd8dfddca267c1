#!/usr/bin/env bash
# haul serve: kill -9 while five downloads run; the restarted daemon puts
# them back in the queue and resumes each from the bytes on disk (a Range
# request, not a new download); all five finish whole, and no job is ever
# `done` without its complete file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_MAX_ACTIVE=5
start_daemon

size=4194304
ids=()
for i in 0 1 2 3 4; do
    ids+=("$(create_job "{\"url\": \"$ORIGIN/data/c$i.bin?size=$size&seed=$i&rate=262144\"}")")
done
wait_jobs 60 "j['state'] == 'running' and j['bytes_done'] >= 400000" "${ids[@]}"
ok "five downloads running"

kill9_daemon
kept=()
for i in 0 1 2 3 4; do
    p=$(part_of "${ids[$i]}")
    [ -f "$p" ] || fail "no part file for job $i after kill -9: $(find "$D_DIR")"
    k=$(file_size "$p")
    [ "$k" -gt 0 ] && [ "$k" -lt $size ] || fail "part file of job $i has $k bytes"
    kept+=("$k")
    [ ! -e "$D_DIR/c$i.bin" ] || fail "an unfinished file c$i.bin is in the folder"
done
# the aborted responses end up in the origin's log
for i in 0 1 2 3 4; do
    wait_for 5 log_count_ge "/data/c$i.bin" 1 || fail "the origin still sends c$i.bin after kill -9"
done
for i in 0 1 2 3 4; do before[$i]=$(log_count "/data/c$i.bin"); done
ok "kill -9: part files kept (${kept[*]} bytes)"

start_daemon
# while they finish: a done job always has its whole file
for i in 0 1 2 3 4; do left[$i]=1; done
end=$((SECONDS + 90))
while :; do
    pending=0
    for i in 0 1 2 3 4; do
        [ "${left[$i]}" = 1 ] || continue
        job=$(job_json "${ids[$i]}")
        st=$(jget .state <<<"$job")
        case $st in
            done)
                [ -f "$D_DIR/c$i.bin" ] || fail "job $i is done without its file: $job"
                assert_eq "job $i: size of the done file" "$(file_size "$D_DIR/c$i.bin")" $size
                left[$i]=0
                ;;
            queued | running) pending=1 ;;
            *) fail "job $i is $st after the restart: $job" ;;
        esac
    done
    [ $pending = 0 ] && break
    [ $SECONDS -lt $end ] || fail "not all done 90 s after the restart"
    sleep 0.1
done
for i in 0 1 2 3 4; do
    id=${ids[$i]}
    assert_eq "job $i content" "$(file_sha "$D_DIR/c$i.bin")" "$(expected_sha $size $i)"
    assert_eq "job $i bytes_done" "$(job_field "$id" .bytes_done)" $size
    [ ! -e "$D_DIR/.haul-tmp/$id" ] || fail "temp data of job $i left"
    # the restart's first request for it resumes within what was on disk
    first=$(log_lines "/data/c$i.bin" | tail -n +$((before[i] + 1)) | awk '$1 == "GET"' | head -1)
    [ -n "$first" ] || fail "no request for job $i after the restart"
    read -r st fb < <(echo "$first" | awk '{print $3, $4}')
    assert_eq "job $i: status of the resumed request" "$st" 206
    [ "$fb" -gt 0 ] && [ "$fb" -le "${kept[$i]}" ] \
        || fail "job $i resumed at byte $fb; the part file held ${kept[$i]}"
    sent=$(sent_total "/data/c$i.bin")
    [ "$sent" -lt $((size * 3 / 2)) ] || fail "job $i: the origin sent $sent bytes for $size"
    # its history shows the recovery: running -> queued after the crash
    api GET "/api/jobs/$id/events"
    expect_status 200 "events of job $i"
    assert_eq "job $i: requeued after the crash" \
        "$(jpy '"running>queued" in [str(e["from"]) + ">" + str(e["to"]) for e in j["events"]]' <<<"$BODY")" true
    ok "job $i: resumed at byte $fb of ${kept[$i]} kept, $sent bytes sent in all, whole"
done
no_temp_left "$D_DIR"
stop_daemon
