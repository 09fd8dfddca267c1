#!/usr/bin/env bash
# haul's client commands (add, ls, show, pause, resume, cancel, retry, rm,
# clean, watch, stats, logs) against a real `haul serve` and the test origin.
. "$(dirname "$0")/lib.sh"
start_origin

unset HAUL_SERVER HAUL_TOKEN
DAEMON_PID=""
WATCH_PID=""

on_exit() {
    local rc=$?
    if [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null; then
        wait "$WATCH_PID" 2>/dev/null || true
    fi
    if [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null; then
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ -f "$T/daemon.err" ]; then
        echo "--- daemon stderr ---" >&2
        tail -50 "$T/daemon.err" >&2 || true
    fi
    (exit $rc)
    cleanup
}
trap on_exit EXIT

# start_daemon [ARGS...]: runs haul serve on a free port, sets HAUL_SERVER
start_daemon() {
    rm -f "$T/daemon.port"
    "$HAUL" serve --listen 127.0.0.1:0 --port-file "$T/daemon.port" --dir "$T/dl" \
        --state-dir "$T/state" --max-active 2 "$@" 2>>"$T/daemon.err" &
    DAEMON_PID=$!
    wait_for 20 test -s "$T/daemon.port" || fail "haul serve did not start: $(cat "$T/daemon.err")"
    PORT=$(tr -d '[:space:]' <"$T/daemon.port")
    export HAUL_SERVER="http://127.0.0.1:$PORT"
}

# stop_daemon: SIGTERM, and the daemon must exit 0
stop_daemon() {
    kill -TERM "$DAEMON_PID"
    try wait "$DAEMON_PID"
    DAEMON_PID=""
    assert_eq "haul serve exit status after SIGTERM" $RC 0
}

# json EXPR: reads JSON on stdin, prints the Python expression over it (d)
json() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# valid_json FILE: the file holds exactly one JSON document
valid_json() {
    python3 -c 'import json,sys; json.load(sys.stdin)' <"$1" || fail "not JSON: $(cat "$1")"
}

state_of() {
    "$HAUL" show --json "$1" | json 'd["state"]'
}

# wait_state ID STATE [SECONDS]
wait_state() {
    local s end=$((SECONDS + ${3:-30}))
    while :; do
        s=$(state_of "$1")
        [ "$s" = "$2" ] && return 0
        [ $SECONDS -lt $end ] || fail "job $1 is $s, not $2, after ${3:-30} s"
        sleep 0.1
    done
}

# the daemon is part of the binary: it must at least answer --help
"$HAUL" serve --help >/dev/null || fail "haul serve --help exited $?"

mkdir -p "$T/dl" "$T/state"
start_daemon
"$HAUL" stats >"$T/out" 2>"$T/err" || fail "stats on a fresh daemon: $(cat "$T/err")"
assert_contains "fresh stats" "$T/out" "0 queued"
"$HAUL" ls >"$T/out" || fail "ls on a fresh daemon"
assert_eq "empty list" "$(cat "$T/out")" "no jobs"
ok "a fresh daemon answers stats and an empty ls"

# --- add -------------------------------------------------------------------
size=1048576
url1="$ORIGIN/data/one.bin?size=$size&seed=7&rate=80000"
"$HAUL" add "$url1" >"$T/out" 2>"$T/err" || fail "add exited $?: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "add printed: $(cat "$T/out")"
id1=$(cut -d' ' -f1 "$T/out")
[[ $id1 =~ ^[0-9a-z]{10}$ ]] || fail "add printed no id: $(cat "$T/out")"
assert_contains "add prints the URL" "$T/out" "$url1"
ok "add prints the new id with its URL ($id1)"

# --- pause (at once: the job takes ~13 s); it stays paused until resumed below
wait_state "$id1" running 20
"$HAUL" pause "$id1" >"$T/out" 2>"$T/err" || fail "pause: $(cat "$T/err")"
assert_eq "pause output" "$(cat "$T/out")" "$id1: paused"
assert_eq "state after pause" "$(state_of "$id1")" paused
"$HAUL" ls --state done,paused >"$T/ls" || fail "ls --state done,paused"
grep -q "^$id1 " "$T/ls" || fail "ls --state done,paused lacks $id1: $(cat "$T/ls")"
assert_eq "ls --state queued,running" "$("$HAUL" ls --state queued,running)" "no jobs"
try "$HAUL" pause "$id1" 2>"$T/err"
assert_eq "pause of a paused job exit" $RC 3
ok "pause a running job; pausing it again is refused (exit 3)"

# options travel to the daemon: the origin answers 403 unless the header came
url2="$ORIGIN/data/two.bin?size=1000&require=X-Test:yes"
"$HAUL" add "$url2" -o named.bin --priority 5 --max-speed 2M -H 'X-Test: yes' --json \
    >"$T/add.json" 2>"$T/err" || fail "add with options: $(cat "$T/err")"
valid_json "$T/add.json"
id2=$(json 'd["id"]' <"$T/add.json")
assert_eq "add --json priority" "$(json 'd["options"]["priority"]' <"$T/add.json")" 5
assert_eq "add --json max_speed" "$(json 'd["options"]["max_speed"]' <"$T/add.json")" 2097152
ok "add --json prints the job with its options"

# one bad URL among good ones: the good ones are added, the exit says it failed
try "$HAUL" add --priority -100 "ftp://127.0.0.1/x" "$ORIGIN/data/three.bin?size=100" \
    >"$T/out" 2>"$T/err"
assert_eq "add with one bad URL exit" $RC 3
assert_contains "bad URL message names it" "$T/err" "ftp://127.0.0.1/x"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "the good URL was not added: $(cat "$T/out") $(cat "$T/err")"
id3=$(cut -d' ' -f1 "$T/out")
assert_eq "add --priority -100" "$("$HAUL" show --json "$id3" | json 'd["options"]["priority"]')" -100
ok "add reports a refused URL and still adds the others"

try "$HAUL" add "$ORIGIN/data/x" -H $'X-Evil: a\r\nX-More: b' 2>"$T/err"
assert_eq "CR/LF header exit" $RC 2
assert_contains "CR/LF header message" "$T/err" "-H takes one line"
try "$HAUL" add 2>"$T/err"
assert_eq "add without URL exit" $RC 2
assert_contains "add without URL message" "$T/err" "which URL?"
for p in 500 -101 x; do
    try "$HAUL" add "$ORIGIN/data/x" --priority "$p" 2>"$T/err"
    assert_eq "add --priority $p exit" $RC 2
    assert_contains "priority message" "$T/err" "--priority takes a whole number from -100 to 100, not \"$p\""
done
ok "add refuses CR/LF in headers, a missing URL and a bad priority (exit 2)"

# usage errors say what is wrong, exit 2, and send nothing to the daemon
usage_error() { # usage_error MESSAGE ARGS...
    local want=$1
    shift
    try "$HAUL" "$@" >"$T/out" 2>"$T/err"
    assert_eq "haul $* exit" $RC 2
    assert_contains "haul $* message" "$T/err" "$want"
    [ ! -s "$T/out" ] || fail "haul $* printed: $(cat "$T/out")"
}
usage_error 'ls takes no operands (got "x")' ls x
usage_error 'stats takes no operands (got "x")' stats x
usage_error 'clean takes no operands (got "x")' clean x
usage_error 'watch takes no operands (got "x")' watch x
usage_error "which job? usage: haul logs ID" logs
usage_error "one job at a time" show "$id1" "$id2"
usage_error "which jobs? usage: haul rm ID..." rm
usage_error "either job ids or --all, not both" pause --all "$id1"
usage_error '--limit takes a whole number from 1 to 1000, not "0"' ls --limit 0
usage_error 'not "bogus"' ls --state done,bogus
usage_error "takes an http:// URL" ls --server ftp://127.0.0.1/
usage_error "see 'haul ls --help'" ls --no-such-option
assert_eq "nothing added by the usage errors" "$("$HAUL" ls --json | json 'd["total"]')" 3
"$HAUL" ls --help >"$T/out" || fail "ls --help exited $?"
assert_contains "ls --help usage" "$T/out" "usage: haul ls [--state S[,S]]"
assert_contains "ls --help options" "$T/out" "--limit N"
assert_contains "ls --help common options" "$T/out" "--server URL"
ok "usage errors are explained (exit 2); --help shows the options"

# a body over the daemon's 1 MiB limit: refused with a message that says so,
# whether the 413 comes as the API's JSON error or as libevent's HTML page
big=$(head -c 120000 /dev/zero | tr '\0' a)
hdrs=()
for i in $(seq 1 10); do hdrs+=(-H "X-Big-$i: $big"); done
try "$HAUL" add "$ORIGIN/data/big" "${hdrs[@]}" >"$T/out" 2>"$T/err"
assert_eq "add of a body over 1 MiB exit" $RC 3
grep -qi "413\|large\|MiB" "$T/err" || fail "the 413 message: $(head -c 300 "$T/err")"
[ ! -s "$T/out" ] || fail "a refused add printed: $(cat "$T/out")"
ok "a body over 1 MiB is refused with a readable message ($(head -c 120 "$T/err"))"

# --- ls and show -----------------------------------------------------------
"$HAUL" ls >"$T/ls" || fail "ls exited $?"
head -1 "$T/ls" | grep -q '^ID  *STATE  *PROGRESS  *SIZE  *SPEED  *ETA  *NAME$' \
    || fail "ls header: $(head -1 "$T/ls")"
grep -q "^$id1  *paused .*one.bin" "$T/ls" || fail "ls lacks $id1: $(cat "$T/ls")"
grep -q "^$id2 " "$T/ls" && grep -q "^$id3 " "$T/ls" || fail "ls lacks jobs: $(cat "$T/ls")"
"$HAUL" ls --json >"$T/ls.json" || fail "ls --json"
valid_json "$T/ls.json"
assert_eq "ls --json total" "$(json 'd["total"]' <"$T/ls.json")" 3
"$HAUL" ls --limit 1 >"$T/ls" 2>"$T/err" || fail "ls --limit 1"
assert_eq "ls --limit 1 lines" "$(wc -l <"$T/ls")" 2
assert_contains "ls --limit says there is more" "$T/err" "--all"
"$HAUL" ls --limit 1 --all --json >"$T/ls.json" || fail "ls --all"
assert_eq "ls --all follows the cursor" "$(json 'len(d["jobs"])' <"$T/ls.json")" 3
try "$HAUL" ls --state bogus 2>"$T/err"
assert_eq "ls --state bogus exit" $RC 2
assert_contains "ls --state message" "$T/err" "bogus"
ok "ls: table, --json, --limit, --all, --state checked"

"$HAUL" show "$id1" >"$T/show" || fail "show exited $?"
assert_contains "show url" "$T/show" "url:       $url1"
grep -q '^state: *paused$' "$T/show" || fail "show state: $(cat "$T/show")"
"$HAUL" show "$id2" >"$T/show" || fail "show $id2"
assert_contains "show priority" "$T/show" "priority:  5"
assert_contains "show header" "$T/show" "X-Test: yes"
assert_contains "show forced name" "$T/show" "named.bin"
"$HAUL" show --json "$id1" >"$T/show.json" || fail "show --json"
valid_json "$T/show.json"
try "$HAUL" show zzzzzzzzzz 2>"$T/err"
assert_eq "show of an unknown id exit" $RC 3
assert_contains "show of an unknown id message" "$T/err" "no job zzzzzzzzzz"
try "$HAUL" show 'no/such' 2>"$T/err"
assert_eq "show of a malformed id exit" $RC 2
assert_contains "show of a malformed id message" "$T/err" '"no/such" is not a job id'

ok "show prints the job, its non-default options; unknown id exits 3"

# --- resume; done: the files are right -------------------------------------
"$HAUL" resume "$id1" >"$T/out" 2>"$T/err" || fail "resume: $(cat "$T/err")"
assert_eq "resume output" "$(cat "$T/out")" "$id1: resumed"
ok "resume continues the paused job"

wait_state "$id1" done 60
wait_state "$id2" done 20
wait_state "$id3" done 20
"$HAUL" show "$id1" >"$T/show" || fail "show after done"
assert_contains "show file" "$T/show" "one.bin"
assert_contains "show bytes" "$T/show" "1.00 MiB of 1.00 MiB (100%)"
assert_eq "content of one.bin" "$(file_sha "$T/dl/one.bin")" "$(expected_sha $size 7)"
assert_eq "content of named.bin" "$(file_sha "$T/dl/named.bin")" "$(expected_sha 1000)"
ok "the jobs finish with the right bytes (the header reached the origin)"

"$HAUL" logs "$id1" >"$T/logs" || fail "logs exited $?"
for step in "queued → running" "running → paused" "paused → queued" "running → done"; do
    assert_contains "logs" "$T/logs" "$step"
done
grep -q '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9:]\{8\}  ' "$T/logs" || fail "logs times: $(cat "$T/logs")"
"$HAUL" logs --json "$id1" >"$T/logs.json" || fail "logs --json"
valid_json "$T/logs.json"
ok "logs shows the history: queued → running → paused → queued → running → done"

"$HAUL" stats >"$T/stats" || fail "stats"
assert_contains "stats done count" "$T/stats" "3 done"
assert_contains "stats total" "$T/stats" "(3 in all)"
assert_contains "stats max active" "$T/stats" "of at most 2"
"$HAUL" stats --json >"$T/stats.json" || fail "stats --json"
valid_json "$T/stats.json"
assert_eq "stats --json done" "$(json 'd["jobs"]["done"]' <"$T/stats.json")" 3
[ "$(grep -c "^$id1 \|^$id2 \|^$id3 " <("$HAUL" ls --state done,failed))" -eq 3 ] \
    || fail "ls --state done,failed: $("$HAUL" ls --state done,failed)"
assert_eq "ls --state failed,canceled" "$("$HAUL" ls --state failed,canceled)" "no jobs"
ok "stats counts the jobs per state"

try "$HAUL" cancel "$id1" >"$T/out" 2>"$T/err"
assert_eq "cancel of a done job exit" $RC 3
assert_contains "cancel message: the job" "$T/err" "$id1"
assert_contains "cancel message: from" "$T/err" "done"
assert_contains "cancel message: to" "$T/err" "canceled"
ok "cancel of a done job exits 3 naming both states"

# --- bulk actions, cancel and retry ----------------------------------------
slow="$ORIGIN/data/slow.bin?size=$size&rate=20000"
sid=$("$HAUL" add "$slow" | cut -d' ' -f1)
wait_state "$sid" running 20
"$HAUL" pause --all >"$T/out" 2>"$T/err" || fail "pause --all: $(cat "$T/err")"
assert_eq "pause --all" "$(cat "$T/out")" "1 job paused"
assert_eq "state after pause --all" "$(state_of "$sid")" paused
"$HAUL" resume --all >"$T/out" || fail "resume --all"
assert_eq "resume --all" "$(cat "$T/out")" "1 job resumed"
"$HAUL" cancel --all --json >"$T/out" || fail "cancel --all"
valid_json "$T/out"
assert_eq "cancel --all affected" "$(json 'd["affected"]' <"$T/out")" 1
assert_eq "state after cancel --all" "$(state_of "$sid")" canceled
"$HAUL" retry "$sid" >"$T/out" || fail "retry"
assert_eq "retry output" "$(cat "$T/out")" "$sid: retried"
try "$HAUL" cancel "$sid" "$id1" >"$T/out" 2>"$T/err"
assert_eq "cancel of a done job among others exit" $RC 3
assert_eq "cancel of several: the good one" "$(cat "$T/out")" "$sid: canceled"
assert_contains "cancel of several: the bad one" "$T/err" "$id1"
try "$HAUL" pause "$sid" --all 2>"$T/err"
assert_eq "ids and --all exit" $RC 2
try "$HAUL" pause 2>"$T/err"
assert_eq "pause without ids exit" $RC 2
assert_contains "pause without ids message" "$T/err" "which jobs? usage: haul pause ID... (or --all)"
ok "pause/resume/cancel --all, retry, and one failure among several ids"

# --- watch -----------------------------------------------------------------
# the job takes ~2 s, so it is active when watch takes its first list
wid=$("$HAUL" add "$ORIGIN/data/watched.bin?size=400000&rate=200000" | cut -d' ' -f1)
"$HAUL" watch >"$T/watch.out" 2>"$T/watch.err" &
WATCH_PID=$!
wait_for 10 grep -q "^$wid \(queued\|running\) " "$T/watch.out" \
    || fail "watch did not show the active job: $(cat "$T/watch.out" "$T/watch.err")"
wait_state "$wid" done 20
wait_for 10 grep -q "^$wid done watched.bin" "$T/watch.out" \
    || fail "watch did not print the end: $(cat "$T/watch.out" "$T/watch.err")"
kill -INT $WATCH_PID
try wait $WATCH_PID
WATCH_PID=""
assert_eq "watch exit after Ctrl-C" $RC 0
ok "watch prints one line per state change and ends with Ctrl-C (exit 0)"

# --- rm and clean ----------------------------------------------------------
"$HAUL" rm "$id1" >"$T/out" || fail "rm"
assert_eq "rm output" "$(cat "$T/out")" "$id1: removed"
try "$HAUL" show "$id1" 2>"$T/err"
assert_eq "show after rm exit" $RC 3
[ -f "$T/dl/one.bin" ] || fail "rm without --delete-file deleted the file"
"$HAUL" rm --delete-file "$id2" >"$T/out" || fail "rm --delete-file"
assert_eq "rm --delete-file output" "$(cat "$T/out")" "$id2: removed with its file"
[ ! -e "$T/dl/named.bin" ] || fail "rm --delete-file kept the file"
ok "rm removes the job; --delete-file also the file"

try "$HAUL" clean --older-than 5x 2>"$T/err"
assert_eq "clean --older-than 5x exit" $RC 2
assert_contains "clean bad duration message" "$T/err" "--older-than"
try "$HAUL" clean --states done,queued 2>"$T/err"
assert_eq "clean --states done,queued exit" $RC 2
assert_contains "clean --states message" "$T/err" 'not "queued"'
"$HAUL" clean --older-than 1d >"$T/out" || fail "clean --older-than 1d"
assert_eq "clean of nothing old enough" "$(cat "$T/out")" "removed 0 jobs"
"$HAUL" clean --states failed,done --json >"$T/out" || fail "clean --states failed,done"
valid_json "$T/out"
assert_eq "clean --states failed,done removed" "$(json 'd["removed"]' <"$T/out")" 2
"$HAUL" clean >"$T/out" || fail "clean"
assert_eq "clean the rest" "$(cat "$T/out")" "removed 1 job"
assert_eq "ls after clean" "$("$HAUL" ls)" "no jobs"
ok "clean: bad durations are usage errors; removes by state and age"

# --- token ----------------------------------------------------------------
# the daemon stops once watch has its stream open (the snapshot comes after)
"$HAUL" watch --json >"$T/watch2.out" 2>"$T/watch2.err" &
WATCH_PID=$!
wait_for 10 grep -q '"event":"snapshot"' "$T/watch2.out" \
    || fail "watch --json printed no snapshot: $(cat "$T/watch2.out" "$T/watch2.err")"
stop_daemon
try wait $WATCH_PID
WATCH_PID=""
assert_eq "watch exit when the daemon stops" $RC 6
assert_contains "watch message when the daemon stops" "$T/watch2.err" \
    "the daemon at $HAUL_SERVER went away"
ok "watch ends with a message when the daemon goes away (exit 6)"

try "$HAUL" ls 2>"$T/err"
assert_eq "no daemon exit" $RC 6
assert_contains "no daemon message" "$T/err" \
    "no daemon answers at $HAUL_SERVER (connection refused); start one with 'haul serve' or point --server at it"
try "$HAUL" add "$url1" 2>"$T/err"
assert_eq "add with no daemon exit" $RC 6
ok "no daemon on the port: a clear message and exit 6"

start_daemon --token sekrit
try "$HAUL" ls 2>"$T/err"
assert_eq "no token exit" $RC 3
assert_contains "no token message" "$T/err" "needs a token"
assert_contains "no token hint" "$T/err" "HAUL_TOKEN"
try "$HAUL" stats --token wrong 2>"$T/err"
assert_eq "wrong token exit" $RC 3
assert_contains "wrong token message" "$T/err" "wrong"
HAUL_TOKEN=sekrit "$HAUL" ls >"$T/out" 2>"$T/err" || fail "ls with HAUL_TOKEN: $(cat "$T/err")"
"$HAUL" ls --token sekrit >"$T/out" 2>"$T/err" || fail "ls --token: $(cat "$T/err")"
stop_daemon
ok "a missing or wrong token is explained; --token and HAUL_TOKEN work"
