#!/usr/bin/env bash
# A disk that fills up: haul stops with a clear message and exit 5, keeps
# every byte that fit, puts no file in place; with space freed, the same
# command resumes from those bytes. The "disk" is a 3 MiB tmpfs, which needs
# root (CI runs as root); the test fails, not skips, without it.
. "$(dirname "$0")/lib.sh"
start_origin

mnt="$T/small"
mount_small_disk "$mnt" 3m

size=6000000
url="$ORIGIN/data/big.bin?size=$size"
try "$HAUL" get "$url" -d "$mnt/dl" 2>"$T/err" >/dev/null
assert_eq "exit code on a full disk" $RC 5
assert_contains "message" "$T/err" "no space left"
assert_contains "resume hint" "$T/err" "run the same command again to resume"
[ ! -e "$mnt/dl/big.bin" ] || fail "an incomplete file was put in place"
part=$(find "$mnt/dl/.haul-tmp" -name data.part | head -1)
kept=$(file_size "$part")
[ "$kept" -gt 1000000 ] || fail "only $kept bytes were kept"
head -c "$kept" "$part" | sha256sum | cut -d' ' -f1 >"$T/kept.sha"
assert_eq "kept bytes are the right bytes" "$(cat "$T/kept.sha")" \
    "$("$HAUL_ORIGIN" --generate $size | head -c "$kept" | sha256sum | cut -d' ' -f1)"
ok "disk full: exit 5, $kept bytes kept, no file in place"

mount -o remount,size=20m "$mnt" || fail "cannot grow the tmpfs"
"$HAUL" get "$url" -d "$mnt/dl" -q 2>"$T/err" || fail "resume after freeing space: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$mnt/dl/big.bin")" "$(expected_sha $size)"
last=$(log_lines /data/big.bin | tail -1)
assert_eq "resumed from the kept bytes" "$(echo "$last" | awk '{print $3" "$4}')" "206 $kept"
ok "with space freed, the same command resumed at byte $kept"

# a file system with a size limit per file (FAT32's 4 GiB; here a 2 MiB
# RLIMIT_FSIZE): a clear error, the bytes kept, and a resume elsewhere works
try bash -c "ulimit -f 2048; exec '$HAUL' get '$url&seed=1' -d '$T/limited'" 2>"$T/err"
assert_eq "exit code over the file size limit" $RC 5
assert_contains "limit message" "$T/err" "larger than the file system"
part=$(find "$T/limited/.haul-tmp" -name data.part | head -1)
assert_eq "bytes kept up to the limit" "$(file_size "$part")" $((2048 * 1024))
"$HAUL" get "$url&seed=1" -d "$T/limited" -q 2>"$T/err" || fail "resume without the limit: $(cat "$T/err")"
assert_eq "content after the limit" "$(file_sha "$T/limited/big.bin")" "$(expected_sha $size 1)"
ok "over a file size limit: exit 5, a clear message, and the resume completes"
