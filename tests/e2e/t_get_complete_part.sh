#!/usr/bin/env bash
# A part file that already holds every byte (a crash after the last byte,
# before the rename): the resumed request gets 416, and haul verifies and
# finishes without fetching anything again.
. "$(dirname "$0")/lib.sh"
start_origin

size=3000000
url="$ORIGIN/data/whole.bin?size=$size&rate=1000000"
interrupt_get 100000 "$T/dl" "$url"
part=$(part_file "$T/dl")
# what a crash after the last write would leave
"$HAUL_ORIGIN" --generate $size >"$part"

"$HAUL" get "$url" -d "$T/dl" -q 2>"$T/err" || fail "finishing failed: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$T/dl/whole.bin")" "$(expected_sha $size)"
assert_eq "last answer" "$(log_lines /data/whole.bin | tail -1 | awk '{print $3" "$5}')" "416 0"
no_temp_left "$T/dl"
ok "a complete part file is finished on 416, no byte fetched again"

# the same, but the part file is longer than the file: start over
interrupt_get 1000 "$T/dl2" "$ORIGIN/data/long.bin?size=100000&rate=50000"
part=$(part_file "$T/dl2")
"$HAUL_ORIGIN" --generate 150000 >"$part"
"$HAUL" get "$ORIGIN/data/long.bin?size=100000&rate=50000" -d "$T/dl2" 2>"$T/err" >/dev/null \
    || fail "an over-long part file was not recovered: $(cat "$T/err")"
assert_eq "content (2)" "$(file_sha "$T/dl2/long.bin")" "$(expected_sha 100000)"
assert_contains "restart notice" "$T/err" "starting over"
ok "a part file longer than the file starts over, and says so"
