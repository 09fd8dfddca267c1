#!/usr/bin/env bash
# Ctrl-C keeps the part file and says how to resume; the same command then
# resumes from the bytes on disk.
. "$(dirname "$0")/lib.sh"
start_origin

size=4000000
url="$ORIGIN/data/slow.bin?size=$size&rate=1000000"
get_until_part 1000000 "$T/dl" "$url"
# the same download started twice: the second one refuses, touching nothing
try "$HAUL" get "$url" -d "$T/dl" 2>"$T/twice"
assert_eq "second copy's exit code" $RC 5
assert_contains "second copy's message" "$T/twice" "another haul is already downloading"
[ -n "$(part_file "$T/dl")" ] || fail "the second copy removed the first one's data"
ok "a second haul on the same download is refused"
kill -INT $BG_PID
try wait $BG_PID
assert_eq "exit code after Ctrl-C" $RC 130
assert_contains "resume hint" "$T/bg.err" "run the same command again to resume"
part=$(part_file "$T/dl")
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

# kill -9 in the middle: no chance to clean up, yet the part file on disk
# is a valid prefix and the same command resumes from its length
url="$ORIGIN/data/crash.bin?size=$size&rate=1000000"
get_until_part 1000000 "$T/dl" "$url"
kill -9 $BG_PID
try wait $BG_PID
part=$(part_file "$T/dl")
kept=$(file_size "$part")
assert_eq "the part is a prefix" "$(head -c "$kept" "$part" | sha256sum | cut -d' ' -f1)" \
    "$("$HAUL_ORIGIN" --generate $size | head -c "$kept" | sha256sum | cut -d' ' -f1)"
"$HAUL" get "$url" -d "$T/dl" -q 2>"$T/err3" || fail "resume after kill -9: $(cat "$T/err3")"
assert_eq "content after a crash" "$(file_sha "$T/dl/crash.bin")" "$(expected_sha $size)"
assert_eq "resumed after the crash" "$(log_lines /data/crash.bin | tail -1 | awk '{print $3" "$4}')" "206 $kept"
ok "after kill -9 the same command resumed at byte $kept"
