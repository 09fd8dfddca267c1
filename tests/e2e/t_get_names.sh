#!/usr/bin/env bash
# Names from Content-Disposition are sanitized: a path-traversal name lands
# as a safe name inside the download folder.
. "$(dirname "$0")/lib.sh"
start_origin

mkdir -p "$T/a/b/dl"
cd_value='attachment%3B%20filename%3D%22..%2F..%2Fevil.sh%22'
"$HAUL" get "$ORIGIN/data/x?size=1234&cd=$cd_value" -d "$T/a/b/dl" >"$T/out" 2>"$T/err" \
    || fail "traversal get: $(cat "$T/err")"
path=$(cat "$T/out")
case "$path" in
    "$T/a/b/dl/"*) ;;
    *) fail "the file landed outside the folder: $path" ;;
esac
name=${path#"$T/a/b/dl/"}
case "$name" in */* | .*) fail "unsafe name: $name" ;; esac
[ ! -e "$T/a/evil.sh" ] && [ ! -e "$T/evil.sh" ] || fail "a file escaped the folder"
assert_eq "content" "$(file_sha "$path")" "$(expected_sha 1234)"
ok "'../../evil.sh' became '$name' inside the folder"

# RFC 6266 filename* wins, UTF-8 decoded
cd_value="attachment%3B%20filename%3D%22plain.txt%22%3B%20filename*%3DUTF-8''caf%25C3%25A9.txt"
"$HAUL" get "$ORIGIN/data/y?size=10&cd=$cd_value" -d "$T/dl2" -q 2>"$T/err" || fail "$(cat "$T/err")"
[ -f "$T/dl2/café.txt" ] || fail "filename* not used: $(ls "$T/dl2")"
ok "filename*=UTF-8'' names the file"

# a folder-like URL: its last segment
"$HAUL" get "$ORIGIN/data/?size=10" -d "$T/dl3" -q 2>"$T/err" || fail "$(cat "$T/err")"
[ -f "$T/dl3/data" ] || fail "the folder's name was not used: $(ls "$T/dl3")"
ok "names fall back to the URL path"

# no name anywhere (no Content-Disposition, no path): "download"
"$HAUL" get "$ORIGIN/?size=10" -d "$T/dl4" -q 2>"$T/err" || fail "$(cat "$T/err")"
assert_eq "fallback name" "$(ls "$T/dl4")" "download"
assert_eq "fallback content" "$(file_sha "$T/dl4/download")" "$(expected_sha 10)"
ok "with no name anywhere the file is called 'download'"
