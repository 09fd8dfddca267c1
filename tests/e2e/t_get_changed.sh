#!/usr/bin/env bash
# The source changes between attempts (new ETag), or cannot serve ranges:
# haul starts over from zero, says so, and ends with the right bytes.
. "$(dirname "$0")/lib.sh"
start_origin

size=3000000
url="$ORIGIN/data/changing.bin?size=$size&cut=1000000&cut_times=1&change_after=1"
"$HAUL" get "$url" -d "$T/dl" 2>"$T/err" >/dev/null || fail "get exited $?: $(cat "$T/err")"
assert_contains "restart notice" "$T/err" "starting over"
assert_eq "requests" "$(log_lines /data/changing.bin | wc -l)" 2
second=$(log_lines "/data/changing.bin" | sed -n 2p)
assert_eq "If-Range mismatch gives the whole new file" "$(echo "$second" | awk '{print $3}')" 200
# the origin serves version 1 from the second request on: that must be on disk
v1=$(expected_sha $size 0 1)
[ "$v1" != "$(expected_sha $size)" ] || fail "the origin's versions do not differ"
assert_eq "content is the new version" "$(file_sha "$T/dl/changing.bin")" "$v1"
ok "an ETag change restarts from zero and ends with the new version"

url="$ORIGIN/data/norange.bin?size=$size&cut=1200000&cut_times=1&norange=1"
"$HAUL" get "$url" -d "$T/dl" 2>"$T/err" >/dev/null || fail "norange get: $(cat "$T/err")"
assert_contains "norange notice" "$T/err" "starting over from zero"
assert_eq "norange content" "$(file_sha "$T/dl/norange.bin")" "$(expected_sha $size)"
second=$(log_lines "/data/norange.bin" | sed -n 2p)
assert_eq "second answer is a full 200" "$(echo "$second" | awk '{print $3" "$4}')" "200 0"
ok "a server without Range support restarts from zero, correctly"
