#!/usr/bin/env bash
# A server that stops sending mid-body: haul notices within --stall-timeout,
# and resumes from where it stopped until the file is whole.
. "$(dirname "$0")/lib.sh"
start_origin

size=300000
url="$ORIGIN/data/stall.bin?size=$size&stall=120000"
"$HAUL" get "$url" -d "$T/dl" --stall-timeout 1 2>"$T/err" >/dev/null \
    || fail "stalled download failed: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$T/dl/stall.bin")" "$(expected_sha $size)"
assert_contains "stall message" "$T/err" "stopped sending"
starts=$(log_lines /data/stall.bin | awk '{print $4}' | tr '\n' ' ')
assert_eq "resume points" "$starts" "0 120000 240000 "
ok "stalls are detected and resumed at 120000 and 240000"
