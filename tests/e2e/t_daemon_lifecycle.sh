#!/usr/bin/env bash
# haul serve: a job's whole life over the REST API: create, run, done, the
# file endpoint (bytes, ETag, Range), its history, the list (filter,
# pagination), stats, metrics, health, delete and clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_MAX_ACTIVE=3
start_daemon

api GET /healthz
expect_status 200 "GET /healthz"
assert_eq "healthz ok" "$(jget .ok <<<"$BODY")" true
ok "/healthz answers 200 {\"ok\": true}"

api GET /api/jobs
expect_status 200 "empty list"
assert_eq "empty list" "$(jget '.jobs|length' <<<"$BODY")" 0
assert_eq "empty total" "$(jget .total <<<"$BODY")" 0
assert_eq "empty next_cursor" "$(jget .next_cursor <<<"$BODY")" null

# five small jobs, done quickly; created in order p0..p4
ids=()
for i in 0 1 2 3 4; do
    ids+=("$(create_job "{\"url\": \"$ORIGIN/data/p$i.bin?size=$((1000 + i))&seed=$i\"}")")
done
for i in 0 1 2 3 4; do
    wait_state "${ids[$i]}" done
    assert_eq "p$i content" "$(file_sha "$D_DIR/p$i.bin")" "$(expected_sha $((1000 + i)) $i)"
done
ok "five small jobs are done with the right bytes"

# one slow job: created, seen queued or running, then done
size=3000000
url="$ORIGIN/data/life.bin?size=$size&seed=7&rate=500000"
api POST /api/jobs "{\"url\": \"$url\"}"
expect_status 201 "create"
id=$(jget .id <<<"$BODY")
[[ $id =~ ^[A-Za-z0-9_-]+$ ]] || fail "odd id '$id'"
assert_eq "Location" "$(header Location)" "/api/jobs/$id"
assert_eq "created url" "$(jget .url <<<"$BODY")" "$url"
case "$(jget .state <<<"$BODY")" in queued | running) ;; *) fail "a new job is $(jget .state <<<"$BODY")" ;; esac
assert_eq "default options" "$(jeval 'j["options"]' <<<"$BODY")" \
    '{"connections":4,"dir":"","filename":"","format":"best","headers":{},"max_speed":0,"mode":"auto","priority":0,"record":false,"sha256":""}'
assert_eq "no error" "$(jget .error <<<"$BODY")" null
assert_eq "not finished" "$(jget .finished_at <<<"$BODY")" null
[[ $(jget .created_at <<<"$BODY") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] \
    || fail "created_at is not ISO 8601 UTC: $BODY"
ok "POST /api/jobs: 201, Location, defaults, queued or running"

wait_running_bytes "$id" 1
ok "the job runs"

# the filter sees it among the active jobs and not among the done ones
api GET "/api/jobs?state=queued,running"
expect_status 200 "list active"
assert_eq "active ids" "$(jget '.jobs[].id' <<<"$BODY")" "$id"
assert_eq "active total" "$(jget .total <<<"$BODY")" 1
api GET "/api/jobs?state=done"
expect_status 200 "list done"
assert_eq "done total" "$(jget .total <<<"$BODY")" 5
jget '.jobs[].id' <<<"$BODY" | grep -qx "$id" && fail "the running job is listed as done"
api GET /api/jobs
assert_eq "all total" "$(jget .total <<<"$BODY")" 6
ok "state filter: queued,running -> the running job; done -> the 5 others"

# pagination: limit=2 over the 5 done jobs, newest first, each id once
seen=()
cursor=""
pages=0
while :; do
    api GET "/api/jobs?state=done&limit=2${cursor:+&cursor=$cursor}"
    expect_status 200 "page $pages"
    pages=$((pages + 1))
    n=$(jget '.jobs|length' <<<"$BODY")
    assert_eq "page $pages total" "$(jget .total <<<"$BODY")" 5
    if [ $pages -lt 3 ]; then assert_eq "page $pages size" "$n" 2; fi
    while read -r x; do [ -n "$x" ] && seen+=("$x"); done < <(jget '.jobs[].id' <<<"$BODY")
    cursor=$(jget .next_cursor <<<"$BODY")
    [ "$cursor" = null ] && break
    [ $pages -lt 10 ] || fail "more than 10 pages for 5 jobs"
done
assert_eq "pages" "$pages" 3
assert_eq "paged ids, newest first" "${seen[*]}" "${ids[4]} ${ids[3]} ${ids[2]} ${ids[1]} ${ids[0]}"
ok "limit=2 pages through 5 jobs in 3 pages, newest first, each once"

wait_state "$id" done
job=$(job_json "$id")
assert_eq "bytes_done" "$(jget .bytes_done <<<"$job")" $size
assert_eq "bytes_total" "$(jget .bytes_total <<<"$job")" $size
assert_eq "filename" "$(jget .filename <<<"$job")" life.bin
assert_eq "source" "$(jget .source <<<"$job")" direct
assert_eq "error" "$(jget .error <<<"$job")" null
[ "$(jget .finished_at <<<"$job")" != null ] || fail "done without finished_at: $job"
[ "$(jget .started_at <<<"$job")" != null ] || fail "done without started_at: $job"
sha=$(expected_sha $size 7)
assert_eq "file on disk" "$(file_sha "$D_DIR/life.bin")" "$sha"
[ ! -e "$D_DIR/.haul-tmp/$id" ] || fail "temp data left: $(ls -la "$D_DIR/.haul-tmp/$id")"
ok "done: bytes_done = bytes_total = $size, the file is whole, no temp data"

# the file endpoint
api_curl GET "/api/jobs/$id/file"
expect_status 200 "GET file"
assert_eq "served bytes" "$(file_sha "$T/api.body")" "$sha"
etag=$(header ETag)
[ -n "$etag" ] || fail "no ETag: $(cat "$T/api.headers")"
header Content-Disposition | grep -q 'life\.bin' || fail "Content-Disposition: '$(header Content-Disposition)'"
assert_eq "Accept-Ranges" "$(header Accept-Ranges)" bytes
assert_eq "Content-Length" "$(header Content-Length)" $size
[ -n "$(header Last-Modified)" ] || fail "no Last-Modified"
[ -n "$(header Content-Type)" ] || fail "no Content-Type"
ok "GET file: 200, exact bytes, ETag $etag, Content-Disposition, Accept-Ranges"

"$HAUL_ORIGIN" --generate $size --seed 7 >"$T/expected.bin"
api_curl GET "/api/jobs/$id/file" -H 'Range: bytes=1000-1999'
expect_status 206 "Range 1000-1999"
assert_eq "206 slice" "$(file_sha "$T/api.body")" \
    "$(dd if="$T/expected.bin" iflag=skip_bytes,count_bytes skip=1000 count=1000 status=none | sha256sum | cut -d' ' -f1)"
assert_eq "Content-Range" "$(header Content-Range)" "bytes 1000-1999/$size"
api_curl GET "/api/jobs/$id/file" -H "Range: bytes=-500"
expect_status 206 "Range -500"
assert_eq "suffix slice" "$(file_sha "$T/api.body")" "$(tail -c 500 "$T/expected.bin" | sha256sum | cut -d' ' -f1)"
api_curl GET "/api/jobs/$id/file" -H "Range: bytes=$size-"
expect_status 416 "Range past the end"
assert_eq "416 Content-Range" "$(header Content-Range)" "bytes */$size"
ok "Range: 206 with the right slices, 416 past the end"

# the history: created queued, then running, then done, in order
api GET "/api/jobs/$id/events"
expect_status 200 "events"
assert_eq "history" "$(jpy '[e["to"] for e in j["events"] if e["type"] in ("created", "state")]' <<<"$BODY" | tr '\n' ' ')" \
    "queued running done "
assert_eq "first event" "$(jpy '[j["events"][0][k] for k in ("type", "from", "to")]' <<<"$BODY" | tr '\n' ' ')" \
    "created null queued "
assert_eq "transitions" "$(jpy '[str(e["from"]) + ">" + e["to"] for e in j["events"] if e["type"] == "state"]' <<<"$BODY" | tr '\n' ' ')" \
    "queued>running running>done "
ok "history: created->queued, queued->running, running->done"

# stats and metrics
api GET /api/stats
expect_status 200 "stats"
assert_eq "stats counts" "$(jpy '[j["jobs"][k] for k in ("queued", "running", "paused", "done", "failed", "canceled", "total")]' <<<"$BODY" | tr '\n' ' ')" \
    "0 0 0 6 0 0 6 "
assert_eq "stats active" "$(jget .active <<<"$BODY")" 0
assert_eq "stats max_active" "$(jget .max_active <<<"$BODY")" 3
[ -n "$(jget .version <<<"$BODY")" ] || fail "no version in stats"
[ "$(jpy 'j["disk_free_bytes"] > 0' <<<"$BODY")" = true ] || fail "disk_free_bytes: $BODY"
assert_eq "download_dir" "$(realpath "$(jget .download_dir <<<"$BODY")")" "$(realpath "$D_DIR")"
ok "stats: 6 done of 6, active 0, max_active 3"

api GET /metrics
expect_status 200 "metrics"
grep -q '^haul_jobs' "$T/api.body" || fail "no haul_jobs line in /metrics: $BODY"
header Content-Type | grep -q '^text/plain' || fail "/metrics Content-Type: $(header Content-Type)"
ok "/metrics has haul_jobs"

# a file removed from the disk: 404 file_missing
api GET "/api/jobs/${ids[1]}/file"
expect_status 200 "file of p1"
mv "$D_DIR/p1.bin" "$T/p1.moved"
api GET "/api/jobs/${ids[1]}/file"
expect_error 404 file_missing "file of p1 removed from the disk"
mv "$T/p1.moved" "$D_DIR/p1.bin"
ok "a done job whose file was removed: 404 file_missing"

# sha256: done only when it matches; otherwise failed, and no file
good=$(create_job "{\"url\": \"$ORIGIN/data/good.bin?size=2000\", \"sha256\": \"$(expected_sha 2000)\"}")
bad=$(create_job "{\"url\": \"$ORIGIN/data/bad.bin?size=2000\", \"sha256\": \"$(expected_sha 2000 9)\"}")
wait_state "$good" done
wait_state "$bad" failed
job=$(job_json "$bad")
[ "$(jget .error <<<"$job")" != null ] || fail "a failed job without an error: $job"
[ -n "$(jget .error.code <<<"$job")" ] && [ -n "$(jget .error.message <<<"$job")" ] || fail "error without code or message: $job"
[ ! -e "$D_DIR/bad.bin" ] || fail "a file that failed its sha256 is in the folder"
api GET "/api/jobs/$bad/file"
expect_error 409 not_done "file of a failed job"
assert_eq "good.bin" "$(file_sha "$D_DIR/good.bin")" "$(expected_sha 2000)"
for j in $good $bad; do
    api DELETE "/api/jobs/$j?delete_file=1"
    expect_status 200 "delete $j"
done
ok "sha256 option: a match is done, a mismatch fails ($(jget .error.code <<<"$job")) with no file"

# delete with delete_file=1: the record and the file go
api DELETE "/api/jobs/$id?delete_file=1"
expect_status 200 "delete"
assert_eq "delete answer" "$(jpy '[j["id"], j["deleted"], j["file_deleted"]]' <<<"$BODY" | tr '\n' ' ')" "$id true true "
[ ! -e "$D_DIR/life.bin" ] || fail "delete_file=1 left the file"
api GET "/api/jobs/$id"
expect_error 404 not_found "GET a deleted job"
api GET "/api/jobs/$id/file"
expect_status 404 "file of a deleted job"
# without delete_file the file stays
api DELETE "/api/jobs/${ids[0]}"
expect_status 200 "delete p0"
assert_eq "delete p0 answer" "$(jget .file_deleted <<<"$BODY")" false
[ -f "$D_DIR/p0.bin" ] || fail "delete without delete_file removed the file"
ok "delete: delete_file=1 removes the file, without it the file stays"

# clean: removes finished jobs (not the paused one), keeps their files
pid_=$(create_job "{\"url\": \"$ORIGIN/data/keep.bin?size=4000000&rate=100000\"}")
api POST "/api/jobs/$pid_/pause"
expect_status 200 "pause before clean"
api POST /api/jobs/clean '{"older_than_s": 0}'
expect_status 200 "clean"
assert_eq "removed" "$(jget .removed <<<"$BODY")" 4
api GET /api/jobs
assert_eq "after clean" "$(jget '.jobs[].id' <<<"$BODY")" "$pid_"
assert_eq "after clean total" "$(jget .total <<<"$BODY")" 1
for i in 1 2 3 4; do [ -f "$D_DIR/p$i.bin" ] || fail "clean removed p$i.bin without delete_files"; done
api GET /api/stats
assert_eq "stats after clean" "$(jpy '[j["jobs"][k] for k in ("paused", "done", "total")]' <<<"$BODY" | tr '\n' ' ')" "1 0 1 "
ok "clean removed the 4 done jobs, kept the paused one and the files"

stop_daemon
ok "SIGTERM: exit 0 in ${STOP_SECONDS}s"
