#!/usr/bin/env bash
# haul serve: the scheduler never runs more than --max-active jobs, fills
# its slots, works through a queue of 200, and starts higher priorities
# first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_MAX_ACTIVE=3
start_daemon

n=200
size=16000
create_many $n "$ORIGIN/data/s{i}.bin?size=$size&rate=40000" >"$T/ids"
assert_eq "created" "$(sort -u "$T/ids" | wc -l | tr -d ' ')" $n
ok "$n jobs created"

# sample /api/stats (and now and then the list of running jobs) until all
# are done
python3 - "$API" $n 3 >"$T/sampler" 2>&1 <<'EOF' || fail "$(cat "$T/sampler")"
import http.client, json, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
n, max_active = int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def get(path):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("GET %s: %d %s" % (path, r.status, body[:300]))
    return json.loads(body)
samples = full = 0
peak = peak_active = peak_list = 0
at_max = 0
deadline = time.time() + 150
while True:
    s = get("/api/stats")
    samples += 1
    running, active = s["jobs"]["running"], s["active"]
    peak, peak_active = max(peak, running), max(peak_active, active)
    if running == max_active:
        at_max += 1
    if running > max_active or active > max_active:
        sys.exit("sample %d: %d running, %d active with max-active %d: %s" % (samples, running, active, max_active, s))
    if samples % 10 == 0:
        l = get("/api/jobs?state=running&limit=1000")
        full += 1
        peak_list = max(peak_list, len(l["jobs"]))
        if len(l["jobs"]) > max_active or l["total"] > max_active:
            sys.exit("the list shows %d running (total %d) with max-active %d" % (len(l["jobs"]), l["total"], max_active))
    if s["jobs"]["done"] == n:
        break
    bad = s["jobs"]["failed"] + s["jobs"]["canceled"] + s["jobs"]["paused"]
    if bad:
        l = get("/api/jobs?state=failed,canceled,paused&limit=10")
        sys.exit("jobs failed, canceled or paused: %s\n%s" % (s, "\n".join(json.dumps(x) for x in l["jobs"])))
    if time.time() > deadline:
        sys.exit("not all done in time: %s" % s)
    time.sleep(0.05)
if at_max == 0:
    sys.exit("never saw %d jobs running at once (peak %d) in %d samples" % (max_active, peak, samples))
print("%d samples of /api/stats, %d of the running list: peak %d running (%d active, %d listed), %d samples at %d"
      % (samples, full, peak, peak_active, peak_list, at_max, max_active))
EOF
ok "$(cat "$T/sampler")"

assert_eq "files" "$(find "$D_DIR" -maxdepth 1 -name 's*.bin' | wc -l | tr -d ' ')" $n
want=$(expected_sha $size)
bad=$(cd "$D_DIR" && sha256sum s*.bin | awk -v w="$want" '$1 != w { print $2 }')
[ -z "$bad" ] || fail "wrong content: $bad"
api GET /api/stats
assert_eq "stats at the end" "$(jeval '[j["jobs"]["done"], j["jobs"]["total"], j["active"]]' <<<"$BODY")" "[$n,$n,0]"
no_temp_left "$D_DIR"
ok "all $n done with the right bytes, never more than 3 running"
stop_daemon

# ---------------------------------------------------------------- priority
# one slot, held by a slow job while the others queue up: the higher
# priority starts first, the lower last, whatever the order of creation
D_DIR="$T/dl2"
D_STATE="$T/state2"
D_MAX_ACTIVE=1
start_daemon
hold=$(create_job "{\"url\": \"$ORIGIN/data/hold.bin?size=2000000&rate=250000\"}")
wait_running_bytes "$hold" 1
low=$(create_job "{\"url\": \"$ORIGIN/data/low.bin?size=1000\", \"priority\": -10}")
a=$(create_job "{\"url\": \"$ORIGIN/data/a.bin?size=1000\"}")
b=$(create_job "{\"url\": \"$ORIGIN/data/b.bin?size=1000\"}")
high=$(create_job "{\"url\": \"$ORIGIN/data/high.bin?size=1000\", \"priority\": 50}")
for j in $low $a $b $high; do assert_eq "waiting job $j" "$(job_field "$j" .state)" queued; done
[ "$(job_field "$hold" .state)" = running ] || fail "the slow job finished before the others were queued"
for j in $hold $low $a $b $high; do wait_state "$j" done; done
# one slot: jobs ran one after the other, and the origin logs each response
# when it ends
order=$(grep -oE '/data/(hold|low|a|b|high)\.bin' "$ORIGIN_LOG" | sed 's|/data/||; s|\.bin||' | awk '!seen[$0]++' | tr '\n' ' ')
assert_eq "run order (first hold, then high, low last)" \
    "$(echo "$order" | awk '{print $1, $2, $NF}')" "hold high low"
ok "priority: 50 ran before the older 0s, -10 after them (order: $order)"
stop_daemon
