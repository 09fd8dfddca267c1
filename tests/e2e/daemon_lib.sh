# Helpers for the end-to-end tests of the daemon (`haul serve`). Source it
# after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/daemon_lib.sh"
#
# It adds: start_daemon / stop_daemon / kill9_daemon (one daemon at a time,
# API=http://127.0.0.1:PORT), api (one REST call: sets STATUS and BODY),
# jget / jpy (JSON from stdin, with python3: no jq needed), wait_state,
# wait_running_bytes, create_job, create_many, api_snapshot and db_dump.
# At exit the daemon is stopped with SIGTERM and the test FAILS unless it
# exits 0 (a sanitizer report makes it non-zero); when the test fails, the
# daemon's stderr is printed.
#
# Needs: curl and python3 (json, sqlite3 and http.client from its standard
# library).

# python3: Debian's when there is one (a version manager's shim on PATH can
# take half a second to start, and the helpers below run python3 often)
if [ -x /usr/bin/python3 ]; then
    HAUL_PY=/usr/bin/python3
else
    HAUL_PY=$(command -v python3) || fail "python3 is needed by the daemon tests (apt-get install python3)"
fi
python3() { "$HAUL_PY" "$@"; }
command -v curl >/dev/null || fail "curl is needed by the daemon tests"

# Nothing from the caller's environment may configure the daemon.
unset HAUL_LISTEN HAUL_DIR HAUL_STATE_DIR HAUL_MAX_ACTIVE HAUL_TOKEN HAUL_LOG_LEVEL HAUL_PORT_FILE

DAEMON_PID=""
DAEMON_N=0
DAEMON_STDERR=""
API=""
STATUS=""
BODY=""
# where the daemon keeps things; a test may change these before start_daemon
D_DIR="$T/dl"
D_STATE="$T/state"
D_MAX_ACTIVE=3
D_LOG_LEVEL=debug
D_TOKEN="" # sent by api() as "Authorization: Bearer" when set

# proc_alive PID: the process exists and is not a zombie
proc_alive() {
    local st
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# print_daemon_stderr: what the daemons said (a sanitizer report whole,
# otherwise the last lines)
print_daemon_stderr() {
    local f
    for f in "$T"/daemon.*.stderr; do
        [ -f "$f" ] || continue
        echo "--- $(basename "$f") ---" >&2
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
            grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -5 >&2
            sed -n "$(grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" \
                | head -1 | cut -d: -f1),+300p" "$f" >&2
        else
            tail -n 150 "$f" >&2
        fi
    done
}

# wait_exit PID SECONDS: waits for our child PID to end; sets RC to its exit
# status and WAITED to the seconds it took; returns 1 (RC=timeout) when it
# was still running after SECONDS
wait_exit() {
    local pid=$1 limit=$2 t0=$EPOCHREALTIME
    local end
    end=$(awk -v t="$t0" -v l="$limit" 'BEGIN { printf "%.3f", t + l }')
    while proc_alive "$pid"; do
        if awk -v n="$EPOCHREALTIME" -v e="$end" 'BEGIN { exit !(n > e) }'; then
            WAITED=$limit
            RC=timeout
            return 1
        fi
        sleep 0.02
    done
    RC=0
    wait "$pid" || RC=$?
    WAITED=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

daemon_cleanup() {
    local rc=$?
    set +e
    if [ -n "$DAEMON_PID" ]; then
        kill -TERM "$DAEMON_PID" 2>/dev/null
        if ! wait_exit "$DAEMON_PID" 10; then
            echo "FAIL: the daemon did not exit within 10 s of SIGTERM (at the end of the test)" >&2
            kill -9 "$DAEMON_PID" 2>/dev/null
            wait "$DAEMON_PID" 2>/dev/null
            rc=1
        elif [ "$RC" != 0 ]; then
            echo "FAIL: the daemon exited $RC on SIGTERM at the end of the test" >&2
            rc=1
        fi
        DAEMON_PID=""
    fi
    [ -n "${SSE_PID:-}" ] && kill "$SSE_PID" 2>/dev/null && wait "$SSE_PID" 2>/dev/null
    [ $rc -ne 0 ] && print_daemon_stderr
    (exit $rc)
    cleanup # lib.sh's: stops the origin, prints its log on failure, removes $T
}
trap daemon_cleanup EXIT

# start_daemon [FLAGS...]: runs `haul serve` on a free loopback port with
# --dir $D_DIR --state-dir $D_STATE --max-active $D_MAX_ACTIVE plus FLAGS;
# sets DAEMON_PID, API and DAEMON_STDERR ($T/daemon.N.stderr) and returns
# once /healthz answers 200.
start_daemon() {
    [ -z "$DAEMON_PID" ] || fail "start_daemon: a daemon is already running (pid $DAEMON_PID)"
    DAEMON_N=$((DAEMON_N + 1))
    DAEMON_STDERR="$T/daemon.$DAEMON_N.stderr"
    mkdir -p "$D_DIR" "$D_STATE"
    rm -f "$T/daemon.port"
    "$HAUL" serve --listen 127.0.0.1:0 --port-file "$T/daemon.port" --dir "$D_DIR" \
        --state-dir "$D_STATE" --max-active "$D_MAX_ACTIVE" --log-level "$D_LOG_LEVEL" "$@" \
        </dev/null >"$T/daemon.$DAEMON_N.stdout" 2>"$DAEMON_STDERR" &
    DAEMON_PID=$!
    local port="" end=$((SECONDS + 30))
    while :; do
        if ! proc_alive "$DAEMON_PID"; then
            try wait "$DAEMON_PID"
            DAEMON_PID=""
            fail "the daemon exited $RC at start: $(tail -n 30 "$DAEMON_STDERR")"
        fi
        port=$({ tr -dc 0-9 <"$T/daemon.port"; } 2>/dev/null || true)
        if [ -n "$port" ]; then
            API="http://127.0.0.1:$port"
            if [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$API/healthz" 2>/dev/null)" = 200 ]; then
                return 0
            fi
        fi
        [ $SECONDS -lt $end ] || fail "the daemon did not answer /healthz within 30 s (port '$port')"
        sleep 0.05
    done
}

# stop_daemon [SIGNAL]: SIGTERM (or SIGNAL), then asserts the daemon exited 0
# within 10 s; sets STOP_SECONDS
stop_daemon() {
    local sig=${1:-TERM}
    [ -n "$DAEMON_PID" ] || fail "stop_daemon: no daemon is running"
    kill -"$sig" "$DAEMON_PID"
    if ! wait_exit "$DAEMON_PID" 10; then
        kill -9 "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
        DAEMON_PID=""
        fail "the daemon did not exit within 10 s of SIG$sig"
    fi
    DAEMON_PID=""
    STOP_SECONDS=$WAITED
    [ "$RC" = 0 ] || fail "the daemon exited $RC on SIG$sig: $(tail -n 40 "$DAEMON_STDERR")"
}

# kill9_daemon: kills the daemon without a chance to clean up
kill9_daemon() {
    [ -n "$DAEMON_PID" ] || fail "kill9_daemon: no daemon is running"
    kill -9 "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
}

# api_curl METHOD PATH [CURL-ARGS...]: one request to the daemon; sets STATUS
# (000 when there was no answer) and BODY; the headers are in $T/api.headers
api_curl() {
    local method=$1 path=$2
    shift 2
    local auth=()
    [ -n "$D_TOKEN" ] && auth=(-H "Authorization: Bearer $D_TOKEN")
    STATUS=$(curl -s --noproxy '*' -X "$method" -o "$T/api.body" -D "$T/api.headers" \
        -w '%{http_code}' "${auth[@]}" "$@" "$API$path" 2>"$T/api.curlerr") || true
    [ -n "$STATUS" ] || STATUS=000
    BODY=$(cat "$T/api.body" 2>/dev/null || true)
}

# api METHOD PATH [JSON]: a REST call; a JSON body goes with
# Content-Type: application/json. Sets STATUS and BODY (not printed: a
# command substitution would lose STATUS).
api() {
    if [ $# -ge 3 ]; then
        api_curl "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
    else
        api_curl "$1" "$2"
    fi
}

# expect_status WANT WHAT: asserts the last api call answered WANT ("201",
# or alternatives "200|201")
expect_status() {
    case "|$1|" in
        *"|$STATUS|"*) ;;
        *) fail "$2: status $STATUS, want $1; body: $BODY" ;;
    esac
}

# header NAME: a header of the last api call ("" when absent)
header() {
    tr -d '\r' <"$T/api.headers" | awk -v n="$1" 'BEGIN { n = tolower(n) }
        { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v } }' \
        | tail -1
}

JGET_PY='
import json, re, sys
path = sys.argv[1]
raw = sys.stdin.read()
try:
    v = json.loads(raw)
except Exception as e:
    sys.stderr.write("jget %s: not JSON (%s): %.2000s\n" % (path, e, raw))
    sys.exit(2)
def out(x):
    if isinstance(x, str): return x
    if x is None: return "null"
    if x is True: return "true"
    if x is False: return "false"
    if isinstance(x, (int, float)): return json.dumps(x)
    return json.dumps(x, sort_keys=True, separators=(",", ":"))
p, op = (path.split("|", 1) + [""])[:2]
p, op = p.strip(), op.strip()
vals = [v]
for m in re.finditer(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\[\]", p):
    nxt = []
    for x in vals:
        try:
            if m.group(1) is not None: nxt.append(x[m.group(1)])
            elif m.group(2) is not None: nxt.append(x[int(m.group(2))])
            else: nxt.extend(x)
        except (KeyError, IndexError, TypeError):
            sys.stderr.write("jget: no %s in: %.2000s\n" % (path, raw))
            sys.exit(3)
    vals = nxt
if op == "length": vals = [len(x) for x in vals]
elif op == "keys": vals = [" ".join(sorted(x)) for x in vals]
elif op: sys.stderr.write("jget: unknown op %s\n" % op); sys.exit(4)
for x in vals: print(out(x))
'

# jget PATH: a field of the JSON on stdin: .state, .options.priority,
# .jobs[0].id, .jobs[].id (one line each), .jobs|length. Strings print raw,
# null as null. A missing field fails (exit 3) with the JSON on stderr.
jget() {
    python3 -c "$JGET_PY" "$1"
}

# jpy EXPR: a python expression over the JSON on stdin, bound to j
# (json, re available); lists print one item a line
jpy() {
    python3 -c '
import json, re, sys
raw = sys.stdin.read()
try:
    j = json.loads(raw)
except Exception as e:
    sys.stderr.write("jpy: not JSON (%s): %.2000s\n" % (e, raw)); sys.exit(2)
r = eval(sys.argv[1])
for x in (r if isinstance(r, list) else [r]):
    if isinstance(x, str): print(x)
    elif x is None: print("null")
    elif isinstance(x, bool): print("true" if x else "false")
    else: print(json.dumps(x, sort_keys=True, separators=(",", ":")))
' "$1"
}

# jeval EXPR: like jpy, but prints the value as one line of compact JSON
# (keys sorted): jeval '[j["state"], j["bytes_done"]]' -> ["done",42]
jeval() {
    jpy "json.dumps($1, sort_keys=True, separators=(',', ':'))"
}

# job_json ID: the job as JSON (fails unless 200)
job_json() {
    api GET "/api/jobs/$1"
    expect_status 200 "GET /api/jobs/$1"
    printf '%s' "$BODY"
}

# job_field ID PATH: one field of the job
job_field() {
    job_json "$1" | jget "$2"
}

# create_job JSON: POST /api/jobs, asserts 201; prints the id
create_job() {
    api POST /api/jobs "$1"
    expect_status 201 "POST /api/jobs $1"
    jget .id <<<"$BODY"
}

# wait_jobs SECONDS EXPR ID...: polls the jobs (one python3 process, every
# 50 ms) until the python expression EXPR is true for each (j = the job's
# JSON); fails with the last JSON after SECONDS, or at once when a job is in
# a final state (done, failed, canceled) and EXPR is false for it. JOB is
# left holding the last JSON of the last job.
wait_jobs() {
    local limit=$1 expr=$2
    shift 2
    JOB=$(python3 - "$API" "$D_TOKEN" "$limit" "$expr" "$@" <<'EOF'
import http.client, json, sys, time, urllib.parse
api, token, limit, expr, ids = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5:]
u = urllib.parse.urlsplit(api)
hdr = {"Authorization": "Bearer " + token} if token else {}
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
pred = compile(expr, "<wait_jobs>", "eval")
deadline = time.time() + limit
left, last = list(ids), {}
while left:
    for jid in list(left):
        try:
            c.request("GET", "/api/jobs/" + jid, headers=hdr)
            r = c.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            c.close()
            sys.exit("wait_jobs: GET /api/jobs/%s: %s" % (jid, e))
        if r.status != 200:
            sys.exit("wait_jobs: GET /api/jobs/%s: %d %s" % (jid, r.status, raw[:500]))
        j = json.loads(raw)
        last[jid] = raw.decode()
        if eval(pred, {}, {"j": j}):
            left.remove(jid)
        elif j.get("state") in ("done", "failed", "canceled"):
            sys.exit("job %s is %s; waited for %s: %s" % (jid, j.get("state"), expr, last[jid]))
    if not left:
        break
    if time.time() > deadline:
        sys.exit("after %g s, not %s: %s" % (limit, expr, "\n".join(last[i] for i in left)))
    time.sleep(0.05)
print(last[ids[-1]])
EOF
) || fail "wait_jobs"
}

# wait_state ID STATE[|STATE...] [SECONDS=60]: until the job is in STATE
# (fails at once when it reached another final state)
wait_state() {
    local id=$1 want=$2 limit=${3:-60}
    wait_jobs "$limit" "j['state'] in '$want'.split('|')" "$id"
}

# wait_running_bytes ID MIN [SECONDS=60]: until the job runs with
# bytes_done >= MIN; JOB is left holding its JSON
wait_running_bytes() {
    wait_jobs "${3:-60}" "j['state'] == 'running' and j['bytes_done'] >= $2" "$1"
}

# expect_error STATUS CODE WHAT: the last answer is STATUS with the error
# shape {"error": {"code": CODE, "message": "..."}}; ERRMSG gets the message
expect_error() {
    expect_status "$1" "$3"
    local code
    code=$(jget .error.code <<<"$BODY") || fail "$3: no error.code in: $BODY"
    assert_eq "$3: error code" "$code" "$2"
    ERRMSG=$(jget .error.message <<<"$BODY") || fail "$3: no error.message in: $BODY"
    [ -n "$ERRMSG" ] || fail "$3: empty error message"
}

# create_many N URL-TEMPLATE [EXTRA-JSON-FIELDS]: creates N jobs over one
# keep-alive connection ({i} in the template becomes 0..N-1); prints the ids
# in creation order; fails unless every answer is 201
create_many() {
    python3 - "$API" "$1" "$2" "${3:-}" "$D_TOKEN" <<'EOF'
import http.client, json, sys, urllib.parse
api, n, tmpl, extra, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
u = urllib.parse.urlsplit(api)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
hdr = {"Content-Type": "application/json"}
if token:
    hdr["Authorization"] = "Bearer " + token
for i in range(n):
    body = {"url": tmpl.replace("{i}", str(i))}
    if extra:
        body.update(json.loads(extra.replace("{i}", str(i))))
    c.request("POST", "/api/jobs", json.dumps(body), hdr)
    r = c.getresponse()
    data = r.read()
    if r.status != 201:
        sys.stderr.write("create_many: job %d: status %d: %s\n" % (i, r.status, data[:500]))
        sys.exit(1)
    print(json.loads(data)["id"])
EOF
}

# api_snapshot: every job as the API shows it (sorted by id, without the
# live fields speed_bps and eta_s) plus the counts of /api/stats: two
# snapshots differ when a request changed a job
api_snapshot() {
    python3 - "$API" "$D_TOKEN" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
hdr = {"Authorization": "Bearer " + sys.argv[2]} if sys.argv[2] else {}
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
jobs, cursor = [], None
while True:
    c.request("GET", "/api/jobs?limit=1000" + ("&cursor=" + urllib.parse.quote(cursor) if cursor else ""), headers=hdr)
    r = c.getresponse()
    d = json.loads(r.read())
    if r.status != 200:
        sys.exit("api_snapshot: GET /api/jobs: %d %s" % (r.status, d))
    jobs += d["jobs"]
    cursor = d.get("next_cursor")
    if not cursor:
        break
for j in jobs:
    j.pop("speed_bps", None)
    j.pop("eta_s", None)
c.request("GET", "/api/stats", headers=hdr)
r = c.getresponse()
stats = json.loads(r.read())
print(json.dumps({"jobs": sorted(jobs, key=lambda j: j["id"]), "total": d.get("total"),
                  "counts": stats.get("jobs")}, sort_keys=True, indent=1))
EOF
}

# db_dump [DB]: the store's tables as SQL (python3's sqlite3 module, read
# only). Run it while no daemon holds the store: the daemon may lock it.
db_dump() {
    python3 - "${1:-$D_STATE/haul.db}" <<'EOF'
import sqlite3, sys
path = sys.argv[1]
con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
for line in con.iterdump():
    print(line)
EOF
}

# part_of ID: the part file of a job
part_of() {
    echo "$D_DIR/.haul-tmp/$1/data.part"
}

# log_count PATTERN: origin log lines for matching URIs
log_count() {
    log_lines "$1" | wc -l | tr -d ' '
}

# log_count_ge PATTERN N: the origin logged at least N matching requests
# (for wait_for)
log_count_ge() {
    [ "$(log_count "$1")" -ge "$2" ]
}
