#!/usr/bin/env bash
# Ctrl-C keeps the part file and says how to resume; the same command then
# resumes from the bytes on disk.
. "$(dirname "$0")/lib.sh"
start_origin

size=4000000
url="$ORIGIN/data/slow.bin?size=$size&rate=1000000"
mkdir -p "$T/dl"
"$HAUL" get "$url" -d "$T/dl" 2>"$T/err1" >/dev/null &
pid=$!
part_big() {
    local f
    f=$(find "$T/dl/.haul-tmp" -name data.part 2>/dev/null | head -1)
    [ -n "$f" ] && [ "$(file_size "$f")" -ge 1000000 ]
}
wait_for 30 part_big || fail "no part data appeared"
kill -INT $pid
try wait $pid
assert_eq "exit code after Ctrl-C" $RC 130
assert_contains "resume hint" "$T/err1" "run the same command again to resume"
part=$(find "$T/dl/.haul-tmp" -name data.part | head -1)
kept=$(file_size "$part")
[ "$kept" -gt 0 ] && [ "$kept" -lt $size ] || fail "part file has $kept bytes"
[ ! -e "$T/dl/slow.bin" ] || fail "an unfinished file is in the folder"
ok "Ctrl-C kept $kept bytes"

# nothing is requested after the interrupt
before=$(log_lines /data/slow.bin | wc -l)
sleep 1
assert_eq "requests after Ctrl-C" "$(log_lines /data/slow.bin | wc -l)" "$before"

"$HAUL" get "$url" -d "$T/dl" 2>"$T/err2" >/dev/null || fail "resume failed: $(cat "$T/err2")"
assert_eq "content" "$(file_sha "$T/dl/slow.bin")" "$(expected_sha $size)"
last=$(log_lines /data/slow.bin | tail -1)
assert_eq "resumed request" "$(echo "$last" | awk '{print $3" "$4}')" "206 $kept"
no_temp_left "$T/dl"
ok "the same command resumed at byte $kept"
