#!/usr/bin/env bash
# haul get: plain downloads, naming, clashes, redirects, quiet output.
. "$(dirname "$0")/lib.sh"
start_origin

size=5000000
url="$ORIGIN/data/movie.bin?size=$size&seed=3"
mkdir -p "$T/dl"
"$HAUL" get "$url" -d "$T/dl" >"$T/out" 2>"$T/err" || fail "plain get exited $?: $(cat "$T/err")"
assert_eq "printed path" "$(cat "$T/out")" "$T/dl/movie.bin"
assert_eq "size" "$(file_size "$T/dl/movie.bin")" "$size"
assert_eq "content" "$(file_sha "$T/dl/movie.bin")" "$(expected_sha $size 3)"
no_temp_left "$T/dl"
[ ! -e "$T/dl/.haul-tmp" ] || fail "the empty temp folder was left behind"
ok "plain download lands whole under the URL's name"

# the same name again: a clash becomes "movie (1).bin", the first is untouched
"$HAUL" get "$url" -d "$T/dl" -q >"$T/out" 2>"$T/err" || fail "second get: $(cat "$T/err")"
[ -s "$T/out" ] && fail "-q printed: $(cat "$T/out")"
[ -f "$T/dl/movie (1).bin" ] || fail "no 'movie (1).bin': $(ls "$T/dl")"
assert_eq "clash content" "$(file_sha "$T/dl/movie (1).bin")" "$(expected_sha $size 3)"
ok "a clash becomes 'name (1).ext'"

# -o replaces the named file, relative to the working directory
echo old >"$T/dl/named.bin"
(cd "$T/dl" && "$HAUL" get "$ORIGIN/data/x?size=1000" -o named.bin -q) || fail "-o failed"
assert_eq "-o content" "$(file_sha "$T/dl/named.bin")" "$(expected_sha 1000)"
ok "-o writes exactly that file"

# -o naming a folder (existing, or ending in /) saves into it
mkdir -p "$T/into"
"$HAUL" get "$ORIGIN/data/in1.bin?size=100" -o "$T/into" -q || fail "-o DIR failed"
"$HAUL" get "$ORIGIN/data/in2.bin?size=100" -o "$T/new/" -q || fail "-o NEW/ failed"
[ -f "$T/into/in1.bin" ] && [ -f "$T/new/in2.bin" ] || fail "-o DIR: $(ls -R "$T")"
ok "-o DIR saves into the folder under the server's name"

# a redirect chain ends at the file; its name comes from the URL
"$HAUL" get "$ORIGIN/redirect/3/data/chain.bin?size=70000" -d "$T/dl" -q 2>"$T/err" \
    || fail "redirect chain: $(cat "$T/err")"
assert_eq "redirected content" "$(file_sha "$T/dl/chain.bin")" "$(expected_sha 70000)"
ok "a chain of 3 redirects is followed"

# a redirect loop stops with a clear message and no file
try "$HAUL" get "$ORIGIN/loop" -d "$T/loop" 2>"$T/err"
[ $RC -ne 0 ] || fail "a redirect loop succeeded"
assert_contains "loop message" "$T/err" "redirected more than 10 times"
[ -z "$(ls -A "$T/loop" 2>/dev/null)" ] || fail "a redirect loop left files: $(ls -A "$T/loop")"
ok "a redirect loop fails clearly (exit $RC)"

# an empty file is a file too
"$HAUL" get "$ORIGIN/data/empty.txt?size=0" -d "$T/dl" -q || fail "empty file failed"
assert_eq "empty size" "$(file_size "$T/dl/empty.txt")" 0
ok "an empty file downloads"

# bad command lines are refused with a reason
try "$HAUL" get "ftp://127.0.0.1/x" 2>"$T/err"
assert_eq "ftp exit" $RC 2
assert_contains "ftp message" "$T/err" "http:// and https://"
try "$HAUL" get 2>"$T/err"
assert_eq "no URL exit" $RC 2
ok "unsupported schemes and missing URLs are usage errors"
