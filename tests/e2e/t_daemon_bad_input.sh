#!/usr/bin/env bash
# haul serve: refused requests get the contract's status and error code,
# and leave the store exactly as it was (compared through the API after each
# request, and as an SQL dump of the store before and after them all);
# path traversal in filename/dir never puts a file outside the folder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
start_daemon

# a store with something in it: a done, a paused and a canceled job
d=$(create_job "{\"url\": \"$ORIGIN/data/d.bin?size=5000\", \"priority\": 3}")
wait_state "$d" done
p=$(create_job "{\"url\": \"$ORIGIN/data/p.bin?size=4000000&rate=200000\"}")
wait_running_bytes "$p" 1
api POST "/api/jobs/$p/pause"
expect_status 200 "pause"
c=$(create_job "{\"url\": \"$ORIGIN/data/c.bin?size=4000000&rate=200000\"}")
api POST "/api/jobs/$c/cancel"
expect_status 200 "cancel"

# the SQL dump is taken with the daemon stopped (it may hold a lock on the
# store); first make sure a restart alone changes nothing in it
stop_daemon
db_dump >"$T/db.0" || fail "cannot read the store $D_STATE/haul.db"
grep -q "$d" "$T/db.0" || fail "the done job $d is not in the dump of the store"
start_daemon
stop_daemon
db_dump >"$T/db.1"
diff -u "$T/db.0" "$T/db.1" >"$T/db.diff" || fail "a restart alone changed the store: $(cat "$T/db.diff")"
start_daemon
api_snapshot >"$T/snap.0"
ok "store set up: done, paused and canceled jobs"

# refuse STATUS CODE WHAT [FIELD]: checks the last answer; FIELD must be in
# the message; then the API shows the same jobs as before
refuse() {
    expect_error "$1" "$2" "$3"
    if [ -n "${4:-}" ]; then
        [[ $ERRMSG == *"$4"* ]] || fail "$3: the message does not name '$4': $ERRMSG"
    fi
    api_snapshot >"$T/snap.1"
    diff -u "$T/snap.0" "$T/snap.1" >"$T/snap.diff" || fail "$3 changed the jobs: $(cat "$T/snap.diff")"
    ok "$3: $STATUS $2${4:+ naming $4}"
}
u="$ORIGIN/data/new.bin?size=1000"

# malformed JSON: 400 with line and column
api POST /api/jobs $'{\n  "url": "'"$u"$'",\n  oops\n}'
refuse 400 bad_json "malformed JSON"
[[ $ERRMSG =~ line[^0-9]*3 ]] || fail "the malformed JSON message has no 'line 3': $ERRMSG"
[[ $ERRMSG =~ col(umn)?[^0-9]*[0-9]+ ]] || fail "the malformed JSON message has no column: $ERRMSG"
api POST /api/jobs "{\"url\": \"$u\""
refuse 400 bad_json "truncated JSON"
api POST /api/jobs 'hello'
refuse 400 bad_json "not JSON at all"
api POST /api/jobs ''
refuse 400 bad_json "an empty body"

# JSON that is no job
api POST /api/jobs '[1, 2]'
case $STATUS in 400) refuse 400 bad_json "an array body" ;; *) refuse 422 invalid_field "an array body" ;; esac
api POST /api/jobs "{\"url\": \"$u\", \"priority\": \"x\"}"
refuse 422 invalid_field "priority of the wrong type" priority
api POST /api/jobs "{\"url\": \"$u\", \"priority\": 1000}"
refuse 422 invalid_field "priority out of range" priority
api POST /api/jobs "{\"url\": \"$u\", \"priority\": 1.5}"
refuse 422 invalid_field "priority not an integer" priority
api POST /api/jobs "{\"url\": \"$u\", \"colour\": \"red\"}"
refuse 422 invalid_field "an unknown field" colour
api POST /api/jobs '{"priority": 1}'
refuse 422 invalid_field "url missing" url
api POST /api/jobs '{}'
refuse 422 invalid_field "an empty object" url
api POST /api/jobs '{"url": "ftp://127.0.0.1/x.bin"}'
refuse 422 invalid_field "an ftp:// url" url
api POST /api/jobs '{"url": 5}'
refuse 422 invalid_field "url not a string" url
api POST /api/jobs '{"url": "not a url"}'
refuse 422 invalid_field "url not a URL" url
api POST /api/jobs "{\"url\": \"$u\", \"sha256\": \"abc\"}"
refuse 422 invalid_field "sha256 not 64 hex digits" sha256
api POST /api/jobs "{\"url\": \"$u\", \"headers\": [\"X: y\"]}"
refuse 422 invalid_field "headers not an object" headers
api POST /api/jobs "{\"url\": \"$u\", \"mode\": \"torrent\"}"
refuse 422 invalid_field "an unknown mode" mode
api POST /api/jobs "{\"url\": \"$u\", \"max_speed\": -1}"
refuse 422 invalid_field "a negative max_speed" max_speed

# over 1 MiB: 413 (valid JSON, only too large)
python3 -c 'import json, sys; print(json.dumps({"url": sys.argv[1], "filename": "a" * (1100 * 1024)}))' "$u" >"$T/big.json"
api_curl POST /api/jobs -H 'Content-Type: application/json' --data-binary @"$T/big.json"
refuse 413 too_large "a body over 1 MiB"

# not declared as JSON: 415
api_curl POST /api/jobs -H 'Content-Type: text/plain' --data-binary "{\"url\": \"$u\"}"
refuse 415 not_json "Content-Type text/plain"
api_curl POST /api/jobs -H 'Content-Type:' --data-binary "{\"url\": \"$u\"}"
refuse 415 not_json "no Content-Type"
api_curl POST /api/jobs --data "{\"url\": \"$u\"}"
refuse 415 not_json "a form Content-Type"

# unknown jobs, bad query parameters, bad bulk and clean requests
api GET /api/jobs/nosuchjob0
refuse 404 not_found "an unknown job"
api POST /api/jobs/nosuchjob0/pause
refuse 404 not_found "pause of an unknown job"
api DELETE /api/jobs/nosuchjob0
refuse 404 not_found "delete of an unknown job"
for q in limit=abc limit=0 limit=1001 limit=-5 state=bogus state=done,bogus; do
    api GET "/api/jobs?$q"
    refuse 400 bad_request "GET /api/jobs?$q"
done
api POST /api/jobs/bulk '{"action": "explode", "ids": []}'
refuse 422 invalid_field "bulk with an unknown action" action
api POST /api/jobs/bulk "{\"action\": \"pause\", \"ids\": \"$p\"}"
refuse 422 invalid_field "bulk ids not a list" ids
api POST /api/jobs/clean '{"states": ["queued"]}'
refuse 422 invalid_field "clean of queued jobs" states
api POST /api/jobs/clean '{"older_than_s": "old"}'
refuse 422 invalid_field "clean with older_than_s a string" older_than_s
api POST "/api/jobs/$p/pause" '{"x": 1}'
case $STATUS in 409) refuse 409 bad_state "pause of a paused job with a body" ;; *) refuse 422 invalid_field "pause with a body" x ;; esac

# the store on disk is the same as before all these
stop_daemon
db_dump >"$T/db.2"
diff -u "$T/db.1" "$T/db.2" >"$T/db.diff" || fail "the refused requests changed the store: $(cat "$T/db.diff")"
ok "the store's SQL dump is unchanged after every refused request"

# path traversal: refused, or sanitized into the download folder
start_daemon
mkdir -p "$T/outside"
D_OUT=$(realpath "$T/outside")
dl_real=$(realpath "$D_DIR")
traversal() { # traversal JSON-FIELDS NAME
    api POST /api/jobs "{\"url\": \"$ORIGIN/data/$2?size=1234\", $1}"
    case $STATUS in
        422)
            expect_error 422 invalid_field "traversal $1"
            ok "traversal $1: refused (422)"
            ;;
        201)
            local id f
            id=$(jget .id <<<"$BODY")
            wait_state "$id" done
            f=$(job_field "$id" .filename)
            [[ $f != /* && $f != ../* && $f != */../* && $f != .. ]] \
                || fail "traversal $1: the job's filename is '$f'"
            [ -f "$D_DIR/$f" ] || fail "traversal $1: no file at $D_DIR/$f"
            case "$(realpath "$D_DIR/$f")" in
                "$dl_real"/*) ;;
                *) fail "traversal $1: the file is at $(realpath "$D_DIR/$f"), outside $dl_real" ;;
            esac
            assert_eq "traversal $1 content" "$(file_sha "$D_DIR/$f")" "$(expected_sha 1234)"
            ok "traversal $1: sanitized to $f inside the folder"
            ;;
        *) fail "traversal $1: status $STATUS: $BODY" ;;
    esac
}
traversal "\"filename\": \"../../outside/x1\"" t1.bin
traversal "\"filename\": \"../outside/x2\"" t2.bin
traversal "\"filename\": \"/$D_OUT/x3\"" t3.bin
traversal "\"dir\": \"../outside\"" t4.bin
traversal "\"dir\": \"sub/../../outside\"" t5.bin
traversal "\"dir\": \"$D_OUT\"" t6.bin
traversal "\"filename\": \"..\"" t7.bin
[ -z "$(ls -A "$T/outside")" ] || fail "files landed outside the download folder: $(ls -la "$T/outside")"
found=$(find "$T" -name 'x[0-9]' -o -name 't[0-9].bin' | grep -v "^$D_DIR/" || true)
[ -z "$found" ] || fail "files outside the download folder: $found"
ok "no file lands outside the download folder"

stop_daemon
