#!/usr/bin/env bash
# bench/api.sh — the daemon's API under load, against the targets of the
# issue that replaced the old Python stack:
#
#   submissions   >= 2,000 jobs/s        (POST /api/jobs, 10,000 jobs)
#   list p99      <  20 ms               (GET /api/jobs?limit=100, 10,000 jobs in the store)
#   pause p99     <  50 ms               (POST /api/jobs/ID/pause of a running
#                                          download; the old stack took up to 1 s)
#   daemon RSS    <  30 MB               (VmRSS with 10,000 jobs)
#
# Steps (everything on 127.0.0.1, nothing built here: run `make build` and
# `scripts/bootstrap bench` first):
#   1. haul-origin (the test origin) and `haul serve --max-active 0` on a fresh
#      folder: nothing downloads while the store fills.
#   2. BENCH_JOBS jobs created by BENCH_CLIENTS python3 processes, each on one
#      keep-alive connection: jobs/s and POST latency.
#   3. wrk --latency (BENCH_WRK_THREADS threads, BENCH_WRK_CONNS connections,
#      BENCH_WRK_SECONDS s) on GET /api/jobs?limit=100 and on GET /api/jobs/ID
#      (random ids, bench/api_get.lua): p50/p99 and req/s; the list also with
#      one connection (its service time without queueing).
#   4. VmRSS and VmHWM of the daemon from /proc/PID/status.
#   5. All those jobs paused (bulk), the daemon restarted with --max-active 4
#      (start-up time with the full store), then BENCH_PAUSES times: a job
#      downloading a slow URL, wait until it runs with bytes_done > 0, time
#      POST pause (curl's time_total). At the end the origin's request log
#      must show each of those transfers ended, once, and the part files must
#      not have grown since the answers.
#
# Environment:
#   HAUL, HAUL_ORIGIN     binaries        (default: <repo>/build/haul, <repo>/build/haul-origin)
#   BENCH_JOBS            jobs in the store      (10000)
#   BENCH_CLIENTS         submitting processes   (4)
#   BENCH_WRK_SECONDS     each wrk run, s        (10)
#   BENCH_WRK_THREADS     wrk threads            (2)
#   BENCH_WRK_CONNS       wrk connections        (16)
#   BENCH_PAUSES          pause measurements     (100)
#   BENCH_RESULTS         where the report goes  (<repo>/bench/results)
#   BENCH_KEEP            1 = keep the work dir
#
# Exit status: 0 when every step ran and verified (targets missed or not),
# 1 when a step produced a wrong result, 2 on setup errors.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HAUL=${HAUL:-$REPO/build/haul}
HAUL_ORIGIN=${HAUL_ORIGIN:-$REPO/build/haul-origin}
NJOBS=${BENCH_JOBS:-10000}
CLIENTS=${BENCH_CLIENTS:-4}
WRK_S=${BENCH_WRK_SECONDS:-10}
WRK_T=${BENCH_WRK_THREADS:-2}
WRK_C=${BENCH_WRK_CONNS:-16}
NPAUSE=${BENCH_PAUSES:-100}
RESULTS=${BENCH_RESULTS:-$REPO/bench/results}
KEEP=${BENCH_KEEP:-0}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }
wrong() { printf '\nbench: *** WRONG RESULT: %s ***\n' "$*" >&2; FAILS+=("$*"); }
FAILS=()

for v in NJOBS CLIENTS WRK_S WRK_T WRK_C NPAUSE; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ -x $HAUL ]] || die "$HAUL missing: run 'make build' first"
[[ -x $HAUL_ORIGIN ]] || die "$HAUL_ORIGIN missing: run 'make build' first"
"$HAUL" serve --help >/dev/null 2>&1 || die "$HAUL has no working 'serve'"

say "checking tools (scripts/bootstrap bench)"
"$REPO/scripts/bootstrap" bench || say "warning: scripts/bootstrap bench failed; continuing if the tools are present"
for t in wrk python3 curl awk sort; do
    command -v "$t" >/dev/null || die "$t not found (scripts/bootstrap bench)"
done
# Debian's python3 when there is one: a version manager's shim can take
# half a second to start
if [[ -x /usr/bin/python3 ]]; then python3() { /usr/bin/python3 "$@"; }; fi

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
unset HAUL_LISTEN HAUL_DIR HAUL_STATE_DIR HAUL_MAX_ACTIVE HAUL_TOKEN HAUL_LOG_LEVEL HAUL_PORT_FILE
export no_proxy='*' NO_PROXY='*'

WORK=$(mktemp -d /tmp/haul-bench-api-XXXX)
DL=$WORK/dl
STATE=$WORK/state
ORIGIN_LOG=$WORK/origin.log
mkdir -p "$DL" "$STATE"
ORIGIN_PID=""
DAEMON_PID=""
cleanup() {
    local rc=$?
    set +e
    [[ -n $DAEMON_PID ]] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    [[ -n $ORIGIN_PID ]] && kill -TERM "$ORIGIN_PID" 2>/dev/null && wait "$ORIGIN_PID" 2>/dev/null
    if [[ $KEEP == 1 ]]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- origin, daemon
"$HAUL_ORIGIN" --port 0 --port-file "$WORK/origin.port" --log "$ORIGIN_LOG" 2>"$WORK/origin.stderr" &
ORIGIN_PID=$!
for _ in $(seq 100); do [[ -s $WORK/origin.port ]] && break; sleep 0.05; done
[[ -s $WORK/origin.port ]] || die "the origin did not start: $(cat "$WORK/origin.stderr")"
ORIGIN="http://127.0.0.1:$(tr -dc 0-9 <"$WORK/origin.port")"

DAEMON_N=0
start_daemon() { # start_daemon MAX_ACTIVE: sets API, DAEMON_PID, START_S
    DAEMON_N=$((DAEMON_N + 1))
    rm -f "$WORK/daemon.port"
    local t0
    t0=$(now)
    "$HAUL" serve --listen 127.0.0.1:0 --port-file "$WORK/daemon.port" --dir "$DL" \
        --state-dir "$STATE" --max-active "$1" --log-level warn \
        </dev/null >/dev/null 2>"$WORK/daemon.$DAEMON_N.stderr" &
    DAEMON_PID=$!
    local i
    for i in $(seq 600); do
        kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon exited: $(tail -20 "$WORK/daemon.$DAEMON_N.stderr")"
        if [[ -s $WORK/daemon.port ]]; then
            API="http://127.0.0.1:$(tr -dc 0-9 <"$WORK/daemon.port")"
            if [[ $(curl -s -o /dev/null -w '%{http_code}' "$API/healthz") == 200 ]]; then
                START_S=$(elapsed "$t0" "$(now)")
                return 0
            fi
        fi
        sleep 0.05
    done
    die "the daemon did not answer /healthz within 30 s"
}
stop_daemon() { # sets STOP_S and STOP_RC
    local t0
    t0=$(now)
    kill -TERM "$DAEMON_PID"
    STOP_RC=0
    wait "$DAEMON_PID" || STOP_RC=$?
    STOP_S=$(elapsed "$t0" "$(now)")
    DAEMON_PID=""
    [[ $STOP_RC == 0 ]] || wrong "the daemon exited $STOP_RC on SIGTERM: $(tail -5 "$WORK/daemon.$DAEMON_N.stderr")"
}
mem() { # mem FIELD: kB from /proc/PID/status
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status"
}

start_daemon 0
say "origin $ORIGIN, daemon $API (pid $DAEMON_PID, --max-active 0), work dir $WORK"
RSS_EMPTY=$(mem VmRSS)

# ---------------------------------------------------------------- 2. submissions
say "creating $NJOBS jobs with $CLIENTS clients"
python3 - "$API" "$ORIGIN" "$NJOBS" "$CLIENTS" "$WORK/ids" >"$WORK/submit.json" <<'EOF' || { wrong "submission failed: $(cat "$WORK/submit.json")"; exit 1; }
import http.client, json, multiprocessing as mp, sys, time, urllib.parse
api, origin, n, k, ids_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = urllib.parse.urlsplit(api)
hdr = {"Content-Type": "application/json"}

def work(w, count, go, q):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.connect()
    bodies = [json.dumps({"url": "%s/data/b%d-%d.bin?size=1000000&seed=%d" % (origin, w, i, i)})
              for i in range(count)]
    ids, lat = [], []
    go.wait()
    for b in bodies:
        t = time.perf_counter()
        c.request("POST", "/api/jobs", b, hdr)
        r = c.getresponse()
        d = r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 201:
            q.put(("error", "status %d: %s" % (r.status, d[:300])))
            return
        ids.append(json.loads(d)["id"])
    q.put(("ok", ids, lat, time.perf_counter()))

if __name__ == "__main__":
    go, q = mp.Event(), mp.Queue()
    per = [n // k + (1 if i < n % k else 0) for i in range(k)]
    ps = [mp.Process(target=work, args=(i, per[i], go, q)) for i in range(k)]
    for p in ps:
        p.start()
    time.sleep(1.0)  # everyone connected and has its bodies ready
    t0 = time.perf_counter()
    go.set()
    res = [q.get() for _ in ps]
    for p in ps:
        p.join()
    errs = [r[1] for r in res if r[0] != "ok"]
    if errs:
        print(json.dumps({"error": errs}))
        sys.exit(1)
    t1 = max(r[3] for r in res)
    lat = sorted(x for r in res for x in r[2])
    ids = [i for r in res for i in r[1]]
    with open(ids_path, "w") as f:
        f.write("\n".join(ids) + "\n")
    pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * len(lat))) - 1)] * 1000
    print(json.dumps({"jobs": len(ids), "unique": len(set(ids)), "seconds": t1 - t0,
                      "rate": len(ids) / (t1 - t0), "p50_ms": pct(50), "p99_ms": pct(99),
                      "max_ms": lat[-1] * 1000}))
EOF
jf() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
SUB_RATE=$(jf "$WORK/submit.json" rate)
SUB_S=$(jf "$WORK/submit.json" seconds)
SUB_P50=$(jf "$WORK/submit.json" p50_ms)
SUB_P99=$(jf "$WORK/submit.json" p99_ms)
[[ $(jf "$WORK/submit.json" unique) == "$NJOBS" ]] || wrong "$(jf "$WORK/submit.json" unique) distinct ids for $NJOBS jobs"
stats=$(curl -s "$API/api/stats")
total=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["jobs"]["total"])' "$stats")
queued=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["jobs"]["queued"])' "$stats")
[[ $total == "$NJOBS" && $queued == "$NJOBS" ]] || wrong "after the submissions: total $total, queued $queued, want $NJOBS ($stats)"
say "$(printf '%d jobs in %.2f s: %.0f jobs/s, POST p50 %.2f ms, p99 %.2f ms' "$NJOBS" "$SUB_S" "$SUB_RATE" "$SUB_P50" "$SUB_P99")"
RSS_FULL=$(mem VmRSS)

# ---------------------------------------------------------------- 3. wrk
# run_wrk NAME URL [-- IDS]: sets <NAME>_P50 _P99 _RPS (ms, ms, req/s)
run_wrk() {
    local name=$1 url=$2
    shift 2
    say "wrk $name: -t$WRK_T -c$WRK_C -d${WRK_S}s $url"
    wrk --latency -t"$WRK_T" -c"$WRK_C" -d"${WRK_S}s" -s "$REPO/bench/api_get.lua" "$url" "$@" \
        >"$WORK/wrk.$name.txt" 2>&1 || { wrong "wrk $name failed: $(cat "$WORK/wrk.$name.txt")"; return; }
    local line
    line=$(grep '^WRK_RESULT' "$WORK/wrk.$name.txt") || { wrong "wrk $name: no result: $(cat "$WORK/wrk.$name.txt")"; return; }
    eval "$(echo "$line" | sed 's/^WRK_RESULT //' | tr ' ' '\n' | sed 's/^/W_/')"
    [[ $W_status_errors == 0 && $W_socket_errors == 0 ]] \
        || wrong "wrk $name: $W_status_errors error statuses, $W_socket_errors socket errors"
    [[ $W_requests -gt 0 ]] || wrong "wrk $name: no request completed"
    printf -v "${name}_P50" '%.2f' "$(awk -v v="$W_p50_us" 'BEGIN { print v / 1000 }')"
    printf -v "${name}_P99" '%.2f' "$(awk -v v="$W_p99_us" 'BEGIN { print v / 1000 }')"
    printf -v "${name}_MAX" '%.2f' "$(awk -v v="$W_max_us" 'BEGIN { print v / 1000 }')"
    printf -v "${name}_RPS" '%.0f' "$(awk -v r="$W_requests" -v d="$W_duration_us" 'BEGIN { print r / (d / 1e6) }')"
    local p50=${name}_P50 p99=${name}_P99 rps=${name}_RPS
    say "  $name: p50 ${!p50} ms, p99 ${!p99} ms, ${!rps} req/s"
}
# one check of the answers first: 100 jobs a page, a cursor, the total
page=$(curl -s "$API/api/jobs?limit=100")
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
n = int(sys.argv[2])
assert len(d["jobs"]) == 100 and d["total"] == n and d["next_cursor"], (len(d["jobs"]), d["total"], d["next_cursor"])
' "$page" "$NJOBS" || wrong "GET /api/jobs?limit=100 does not give 100 jobs of $NJOBS with a cursor"
one=$(head -1 "$WORK/ids")
[[ $(curl -s -o /dev/null -w '%{http_code}' "$API/api/jobs/$one") == 200 ]] || wrong "GET /api/jobs/$one is not 200"
LIST_BYTES=${#page}
run_wrk LIST "$API/api/jobs?limit=100"
# the same with one connection: the time one list takes, without queueing
# behind the 15 other connections on the daemon's one loop
WRK_C_SAVED=$WRK_C WRK_T_SAVED=$WRK_T
WRK_C=1 WRK_T=1
run_wrk LIST1 "$API/api/jobs?limit=100"
WRK_C=$WRK_C_SAVED WRK_T=$WRK_T_SAVED
run_wrk JOB "$API/api/jobs/" -- "$WORK/ids"
# the list on a new connection each time (curl, one after the other): a
# keep-alive connection may wait for delayed ACKs that a new one does not
for _ in $(seq 50); do
    curl -s -o /dev/null -w '%{time_total}\n' "$API/api/jobs?limit=100"
done | sort -n >"$WORK/list.fresh"
pctl() { # pctl P FILE: the P-th percentile of the sorted seconds in FILE, in ms
    awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.2f", v[i] * 1000 }' "$2"
}
LISTF_P50=$(pctl 50 "$WORK/list.fresh")
LISTF_P99=$(pctl 99 "$WORK/list.fresh")
LISTF_MAX=$(pctl 100 "$WORK/list.fresh")
say "  list on new connections (curl x50): p50 $LISTF_P50 ms, p99 $LISTF_P99 ms"
RSS_AFTER=$(mem VmRSS)
HWM=$(mem VmHWM)
say "RSS: empty $RSS_EMPTY kB, $NJOBS jobs $RSS_FULL kB, after wrk $RSS_AFTER kB, peak (VmHWM) $HWM kB"

# ---------------------------------------------------------------- 5. pause
say "pausing the $NJOBS queued jobs (bulk) and restarting with --max-active 4"
t0=$(now)
bulk=$(curl -s -H 'Content-Type: application/json' -d '{"action": "pause", "states": ["queued"]}' "$API/api/jobs/bulk")
BULK_S=$(elapsed "$t0" "$(now)")
affected=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("affected"))' "$bulk" 2>/dev/null || echo "?")
[[ $affected == "$NJOBS" ]] || wrong "bulk pause affected '$affected' of $NJOBS: $bulk"
stop_daemon
STOP1_S=$STOP_S
start_daemon 4
RESTART_S=$START_S
RSS_RESTART=$(mem VmRSS)
say "restarted with $NJOBS jobs in the store in ${RESTART_S}s (stop took ${STOP1_S}s)"

python3 - "$API" "$ORIGIN" "$NPAUSE" "$DL" "$WORK/pause.body" >"$WORK/pause.json" <<'EOF' || wrong "pause measurement failed: $(cat "$WORK/pause.json")"
import http.client, json, os, subprocess, sys, time, urllib.parse
api, origin, n, dl, body_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
u = urllib.parse.urlsplit(api)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def call(method, path, body=None):
    c.request(method, path, json.dumps(body) if body is not None else None,
              {"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    return r.status, json.loads(r.read())
times, jobs = [], []
for i in range(n):
    url = "%s/data/pl%d.bin?size=100000000&rate=1000000" % (origin, i)
    st, j = call("POST", "/api/jobs", {"url": url})
    if st != 201:
        sys.exit("create: %d %s" % (st, j))
    jid = j["id"]
    deadline = time.time() + 30
    while True:
        st, j = call("GET", "/api/jobs/" + jid)
        if j.get("state") == "running" and j.get("bytes_done", 0) > 0:
            break
        if time.time() > deadline or j.get("state") not in ("queued", "running"):
            sys.exit("job %d never ran with bytes: %s" % (i, j))
        time.sleep(0.02)
    out = subprocess.run(["curl", "-s", "-X", "POST", "-o", body_path, "-w", "%{http_code} %{time_total}",
                          api + "/api/jobs/" + jid + "/pause"], capture_output=True, text=True)
    code, secs = out.stdout.split()
    raw = open(body_path).read()
    if code != "200" or json.loads(raw).get("state") != "paused":
        sys.exit("pause %d: %s %s" % (i, code, raw[:300]))
    body = json.loads(raw)
    part = os.path.join(dl, ".haul-tmp", jid, "data.part")
    size = os.path.getsize(part) if os.path.exists(part) else -1
    times.append(float(secs) * 1000)
    jobs.append({"id": jid, "url": "/data/pl%d.bin?" % i, "part": part, "size": size,
                 "bytes_done": body.get("bytes_done")})
s = sorted(times)
pct = lambda p: s[min(len(s) - 1, int(round(p / 100 * len(s))) - 1)]
print(json.dumps({"n": n, "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2), "max_ms": round(s[-1], 2), "jobs": jobs}))
EOF
sleep 1 # the origin logs an aborted response when it notices the close
PAUSE_P50=$(jf "$WORK/pause.json" p50_ms 2>/dev/null || echo "")
PAUSE_P99=$(jf "$WORK/pause.json" p99_ms 2>/dev/null || echo "")
PAUSE_MAX=$(jf "$WORK/pause.json" max_ms 2>/dev/null || echo "")
# the transfers stopped: one request each in the origin's log, ended
# incomplete; the part files as large as at the answer and as bytes_done
PAUSE_OK=1
python3 - "$WORK/pause.json" "$ORIGIN_LOG" >"$WORK/pause.check" 2>&1 <<'EOF' || PAUSE_OK=0
import json, os, sys
d = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read().splitlines()
bad = []
for j in d["jobs"]:
    lines = [l.split() for l in log if j["url"] in l]
    if len(lines) != 1:
        bad.append("%s: %d requests in the origin log" % (j["url"], len(lines)))
    elif lines[0][5] != "0":
        bad.append("%s: the response completed?" % j["url"])
    now = os.path.getsize(j["part"]) if os.path.exists(j["part"]) else -1
    if now != j["size"] or j["size"] <= 0 or j["bytes_done"] != j["size"]:
        bad.append("%s: part %d at the answer, %d now, bytes_done %s" % (j["url"], j["size"], now, j["bytes_done"]))
if bad:
    sys.exit("\n".join(bad[:20]))
print("%d transfers stopped at the answer: one request each, part files unchanged, bytes_done = part size" % len(d["jobs"]))
EOF
PAUSE_CHECK=$(cat "$WORK/pause.check")
[[ $PAUSE_OK == 1 ]] || wrong "after pause: $PAUSE_CHECK"
say "pause: p50 $PAUSE_P50 ms, p99 $PAUSE_P99 ms; $PAUSE_CHECK"
stop_daemon
STOP2_S=$STOP_S

# ---------------------------------------------------------------- report
ratio() { # ratio TARGET MEASURED
    [[ -n $2 ]] && awk -v t="$1" -v m="$2" 'BEGIN { if (m > 0) printf "%.2f", t / m; else print "-" }' || echo "-"
}
verdict() { # verdict MEASURED OP TARGET
    [[ -n $1 ]] || { echo "n/a"; return; }
    if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !((op == ">=") ? v >= t : v < t) }'; then echo MET; else echo "NOT MET"; fi
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
RSS_MB=$(mb "$RSS_AFTER")
host_cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/{print $2}' "$(dirname "$HAUL")/CMakeCache.txt" 2>/dev/null || true)
sanitized=$(grep -q '^HAUL_SANITIZE:BOOL=ON' "$(dirname "$HAUL")/CMakeCache.txt" 2>/dev/null && echo ", sanitizers ON" || true)

DATE=$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
REPORT=$RESULTS/api-$DATE.md
{
    echo "# haul API benchmark — $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- machine: $(nproc) CPUs, ${host_cpu:-unknown CPU}, kernel $(uname -r), $(awk '/^MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "- haul: $("$HAUL" --version 2>/dev/null | head -1 || echo '?') at ${HAUL#"$REPO"/} (${build_type:-unknown build type}$sanitized); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'); python3 $(python3 -c 'import platform; print(platform.python_version())')"
    echo "- store: $NJOBS jobs (SQLite at a fresh --state-dir on $(df -PT "$WORK" | awk 'NR==2{print $2}')); daemon and clients share the machine, all on 127.0.0.1"
    echo "- submissions: $CLIENTS python3 processes, one keep-alive connection each, POST /api/jobs with --max-active 0"
    echo "- wrk: -t$WRK_T -c$WRK_C -d${WRK_S}s --latency; the list page is $LIST_BYTES bytes; GET /api/jobs/ID on random ids of the $NJOBS"
    echo "- pause: $NPAUSE times a fresh job downloading 100 MB at 1 MB/s, running with bytes_done > 0, then \`curl -X POST .../pause\` (time_total); --max-active 4, $NJOBS paused jobs in the store"
    echo
    echo "| measure | target | measured | target / measured | verdict |"
    echo "|---|---:|---:|---:|---|"
    echo "| submissions (jobs/s, higher is better) | ≥ 2,000 | $(printf '%.0f' "$SUB_RATE") | $(ratio 2000 "$SUB_RATE") | $(verdict "$SUB_RATE" '>=' 2000) |"
    echo "| GET /api/jobs?limit=100 p99 (ms) | < 20 | ${LIST_P99:-n/a} | $(ratio 20 "${LIST_P99:-}") | $(verdict "${LIST_P99:-}" '<' 20) |"
    echo "| POST pause p99 (ms; the old stack: up to 1,000) | < 50 | ${PAUSE_P99:-n/a} | $(ratio 50 "$PAUSE_P99") | $(verdict "$PAUSE_P99" '<' 50) |"
    echo "| daemon RSS with $NJOBS jobs (MB = MiB) | < 30 | $RSS_MB | $(ratio 30 "$RSS_MB") | $(verdict "$RSS_MB" '<' 30) |"
    echo
    echo "target / measured: above 1 meets an upper limit (latency, RSS); for the submission rate, a lower bound, below 1 meets it."
    echo "Pause against the old stack: 1,000 ms / p99 = $(ratio 1000 "$PAUSE_P99")x faster."
    echo
    echo "| detail | p50 | p99 | max | rate |"
    echo "|---|---:|---:|---:|---:|"
    echo "| POST /api/jobs ($CLIENTS clients) | $(printf '%.2f' "$SUB_P50") ms | $(printf '%.2f' "$SUB_P99") ms | $(printf '%.2f' "$(jf "$WORK/submit.json" max_ms)") ms | $(printf '%.0f' "$SUB_RATE") jobs/s ($NJOBS in $(printf '%.2f' "$SUB_S") s) |"
    echo "| GET /api/jobs?limit=100 | ${LIST_P50:-n/a} ms | ${LIST_P99:-n/a} ms | ${LIST_MAX:-n/a} ms | ${LIST_RPS:-n/a} req/s |"
    echo "| GET /api/jobs?limit=100, 1 connection (wrk -t1 -c1) | ${LIST1_P50:-n/a} ms | ${LIST1_P99:-n/a} ms | ${LIST1_MAX:-n/a} ms | ${LIST1_RPS:-n/a} req/s |"
    echo "| GET /api/jobs?limit=100, a new connection each (curl x50, one at a time) | $LISTF_P50 ms | $LISTF_P99 ms | $LISTF_MAX ms | |"
    echo "| GET /api/jobs/ID | ${JOB_P50:-n/a} ms | ${JOB_P99:-n/a} ms | ${JOB_MAX:-n/a} ms | ${JOB_RPS:-n/a} req/s |"
    echo "| POST /api/jobs/ID/pause (running) | ${PAUSE_P50:-n/a} ms | ${PAUSE_P99:-n/a} ms | ${PAUSE_MAX:-n/a} ms | $NPAUSE pauses |"
    echo
    echo "- RSS (VmRSS): empty $(mb "$RSS_EMPTY") MiB; with $NJOBS jobs $(mb "$RSS_FULL") MiB; after the wrk runs $RSS_MB MiB; peak (VmHWM) $(mb "$HWM") MiB; after a restart on the full store $(mb "$RSS_RESTART") MiB"
    echo "- bulk pause of $NJOBS queued jobs: ${BULK_S} s; SIGTERM to exit with $NJOBS jobs: ${STOP1_S} s; start-up to /healthz with $NJOBS jobs: ${RESTART_S} s; SIGTERM with $NPAUSE paused downloads more: ${STOP2_S} s"
    echo "- pause check: ${PAUSE_CHECK:-failed}"
    if [[ ${#FAILS[@]} -gt 0 ]]; then
        echo
        echo "**FAILURES — wrong results:**"
        for f in "${FAILS[@]}"; do echo "- $f"; done
    fi
} >"$REPORT"

echo
cat "$REPORT"
echo
say "report written to ${REPORT#"$REPO"/}"
[[ ${#FAILS[@]} -eq 0 ]] || exit 1
