#!/usr/bin/env bash
# --sha256: a match keeps the file, a mismatch fails and leaves nothing.
. "$(dirname "$0")/lib.sh"
start_origin

size=800000
good=$(expected_sha $size)
"$HAUL" get "$ORIGIN/data/v.bin?size=$size" -d "$T/dl" --sha256 "$good" -q 2>"$T/err" \
    || fail "a matching sha256 failed: $(cat "$T/err")"
assert_eq "content" "$(file_sha "$T/dl/v.bin")" "$good"
ok "a matching SHA-256 keeps the file"

bad=$(echo nope | sha256sum | cut -d' ' -f1)
try "$HAUL" get "$ORIGIN/data/w.bin?size=$size" -d "$T/dl" --sha256 "$bad" 2>"$T/err"
assert_eq "mismatch exit code" $RC 4
assert_contains "mismatch message" "$T/err" "$bad"
[ ! -e "$T/dl/w.bin" ] || fail "a file that failed verification is in the folder"
no_temp_left "$T/dl"
ok "a wrong SHA-256 fails with exit 4 and leaves no file"

try "$HAUL" get "$ORIGIN/data/w.bin?size=10" -d "$T/dl" --sha256 xyz 2>"$T/err"
assert_eq "malformed sha exit" $RC 2
assert_contains "malformed sha" "$T/err" "64 hexadecimal digits"
ok "a malformed --sha256 is a usage error"
