#!/usr/bin/env bash
# A connection cut in the middle: haul resumes from the exact byte, and the
# origin's log proves no byte was fetched twice.
. "$(dirname "$0")/lib.sh"
start_origin

size=6000000
cut=2345678
url="$ORIGIN/data/cut.bin?size=$size&cut=$cut"
"$HAUL" get "$url" -d "$T/dl" 2>"$T/err" >/dev/null || fail "get exited $?: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$T/dl/cut.bin")" "$(expected_sha $size)"

lines=$(log_lines "/data/cut.bin" | wc -l)
assert_eq "requests" "$lines" 2
first=$(log_lines "/data/cut.bin" | sed -n 1p)
second=$(log_lines "/data/cut.bin" | sed -n 2p)
assert_eq "first status" "$(echo "$first" | awk '{print $3}')" 200
assert_eq "first sent" "$(echo "$first" | awk '{print $5}')" "$cut"
assert_eq "second status" "$(echo "$second" | awk '{print $3}')" 206
assert_eq "second starts at the cut" "$(echo "$second" | awk '{print $4}')" "$cut"
assert_eq "bytes sent in all" "$(sent_total /data/cut.bin)" "$size"
no_temp_left "$T/dl"
ok "resumed at byte $cut; $size bytes sent for a $size-byte file"

# two cuts: still one pass over the bytes
url="$ORIGIN/data/cut2.bin?size=$size&cut=1000000,4000000"
"$HAUL" get "$url" -d "$T/dl" -q 2>"$T/err" || fail "two cuts: $(cat "$T/err")"
assert_eq "content (two cuts)" "$(file_sha "$T/dl/cut2.bin")" "$(expected_sha $size)"
assert_eq "requests (two cuts)" "$(log_lines /data/cut2.bin | wc -l)" 3
assert_eq "bytes sent (two cuts)" "$(sent_total /data/cut2.bin)" "$size"
ok "two cuts, three requests, no byte twice"
