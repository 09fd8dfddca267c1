#!/usr/bin/env bash
# Transient server errors are retried (honouring Retry-After); permanent
# ones stop at once with a clear message, a distinct exit code and no file.
. "$(dirname "$0")/lib.sh"
start_origin

url="$ORIGIN/data/busy.bin?size=200000&fail=2&retry_after=1"
"$HAUL" get "$url" -d "$T/dl" 2>"$T/err" >/dev/null || fail "503s were not retried: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$T/dl/busy.bin")" "$(expected_sha 200000)"
assert_eq "statuses" "$(log_lines /data/busy.bin | awk '{print $3}' | tr '\n' ' ')" "503 503 200 "
assert_contains "retry message" "$T/err" "503"
assert_contains "retry message" "$T/err" "trying again in 1 s"
ok "503 twice with Retry-After, then success"

try "$HAUL" get "$ORIGIN/data/missing.bin?status=404" -d "$T/nf" 2>"$T/err"
assert_eq "404 exit code" $RC 3
assert_contains "404 message" "$T/err" "404 Not Found"
assert_contains "404 message names the URL" "$T/err" "/data/missing.bin"
assert_eq "404 requests (no retry)" "$(log_lines /data/missing.bin | wc -l)" 1
[ -z "$(ls -A "$T/nf" 2>/dev/null)" ] || fail "404 left files: $(ls -A "$T/nf")"
ok "404 fails at once with exit 3 and no file"

try "$HAUL" get "$ORIGIN/data/down.bin?size=1000&fail=100&retry_after=0" -d "$T/down" \
    --attempts 3 2>"$T/err"
assert_eq "exhausted exit code" $RC 3
assert_contains "gave up" "$T/err" "gave up after 3 attempts"
assert_eq "attempts made" "$(log_lines /data/down.bin | wc -l)" 3
ok "retries stop after --attempts"

try "$HAUL" get "http://127.0.0.1:1/nothing" -d "$T/refused" --attempts 2 2>"$T/err"
assert_eq "connection refused exit" $RC 1
assert_contains "refused message" "$T/err" "could not connect"
ok "a refused connection is retried, then fails with exit 1"

# a server that announces more bytes than it sends
try "$HAUL" get "$ORIGIN/data/liar.bin?size=100000&cl=150000" -d "$T/liar" --attempts 2 2>"$T/err"
[ $RC -ne 0 ] || fail "a lying Content-Length was accepted"
[ ! -e "$T/liar/liar.bin" ] || fail "a short file was put in place"
grep -q "150000" "$T/err" || fail "the message does not name the announced size: $(cat "$T/err")"
ok "a lying Content-Length never yields a file (exit $RC)"
