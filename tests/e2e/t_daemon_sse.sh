#!/usr/bin/env bash
# haul serve: GET /api/events streams server-sent events: a job's state
# changes in order (queued, running, done), progress at most 4 times a
# second, `removed` when it is deleted, `stats` every 2 s; a stream still
# open does not keep the daemon from stopping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
start_daemon

curl -sN --noproxy '*' -D "$T/sse.headers" -o "$T/sse.out" "$API/api/events" 2>"$T/sse.err" &
SSE_PID=$!
sse_open() { grep -qi '^content-type:' "$T/sse.headers" 2>/dev/null; }
wait_for 10 sse_open || fail "no answer headers on /api/events: $(cat "$T/sse.err")"
head -1 "$T/sse.headers" | grep -q ' 200' || fail "/api/events: $(cat "$T/sse.headers")"
tr -d '\r' <"$T/sse.headers" | grep -qi '^content-type: *text/event-stream' \
    || fail "/api/events Content-Type: $(grep -i '^content-type' "$T/sse.headers")"
ok "/api/events: 200 text/event-stream"

size=3000000
id=$(create_job "{\"url\": \"$ORIGIN/data/sse.bin?size=$size&rate=1000000\"}")
wait_state "$id" done
assert_eq "content" "$(file_sha "$D_DIR/sse.bin")" "$(expected_sha $size)"
job=$(job_json "$id")
has_removed() { grep -q '^event: *removed' "$T/sse.out"; }
has_stats() { grep -q '^event: *stats' "$T/sse.out"; }
wait_for 5 has_stats || fail "no stats event: $(head -c 3000 "$T/sse.out")"
api DELETE "/api/jobs/$id"
expect_status 200 "delete"
wait_for 5 has_removed || fail "no removed event after a delete: $(tail -c 3000 "$T/sse.out")"

# parse the stream: blocks of lines separated by a blank line
python3 - "$T/sse.out" "$id" "$size" "$job" >"$T/sse.check" 2>&1 <<'EOF' || fail "$(cat "$T/sse.check")"
import json, sys, datetime
raw = open(sys.argv[1], encoding="utf-8").read().replace("\r\n", "\n")
jid, size, job = sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
events = []
for block in raw.split("\n\n"):
    ev, data = "message", []
    for line in block.split("\n"):
        if line.startswith(":") or not line:
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            ev = value
        elif name == "data":
            data.append(value)
    if data:
        events.append((ev, "\n".join(data)))
def die(msg):
    sys.exit(msg + "\n--- stream ---\n" + raw[:6000])
mine, removed, stats = [], [], []
for ev, data in events:
    try:
        d = json.loads(data)
    except ValueError:
        die("an event's data is not JSON: %r" % data)
    if ev == "job" and d.get("id") == jid:
        mine.append(d)
    elif ev == "removed":
        removed.append(d)
    elif ev == "stats":
        stats.append(d)
states = [d["state"] for d in mine]
distinct = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
if distinct != ["queued", "running", "done"]:
    die("states of the job in the stream: %s (all: %s)" % (distinct, states))
done = [d for d in mine if d["state"] == "done"]
if done[-1]["bytes_done"] != size:
    die("the done event has bytes_done %s" % done[-1]["bytes_done"])
seen = [d["bytes_done"] for d in mine]
if any(b < a for a, b in zip(seen, seen[1:])):
    die("bytes_done went backwards in the stream: %s" % seen)
progress = [d for d in mine if d["state"] == "running" and 0 < d["bytes_done"] < size]
if not progress:
    die("no progress event while running (bytes_done between 0 and %d): %s" % (size, seen))
# at most 4 progress events a second: the job ran from started_at to
# finished_at (whole seconds in the job's JSON)
t = lambda s: datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
secs = (t(job["finished_at"]) - t(job["started_at"])).total_seconds()
running = [d for d in mine if d["state"] == "running"]
if len(running) > 4 * (secs + 1) + 2:
    die("%d running events in %g s: more than 4 a second" % (len(running), secs))
if not removed or removed[-1].get("id") != jid:
    die("no removed event for %s: %s" % (jid, removed))
if not stats or "jobs" not in stats[-1] or "total" not in stats[-1]["jobs"]:
    die("no stats event with jobs counts: %s" % stats[-1:])
print("%d job events (%d progress), states %s; %d stats events" % (len(mine), len(progress), distinct, len(stats)))
EOF
ok "stream: $(cat "$T/sse.check")"

# stopping the daemon ends the open stream, and it still exits 0 quickly
stop_daemon
wait_exit "$SSE_PID" 5 || fail "the event stream stayed open after the daemon exited"
SSE_PID=""
ok "SIGTERM with an open event stream: exit 0 in ${STOP_SECONDS}s, the stream ended"
