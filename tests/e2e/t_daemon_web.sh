#!/usr/bin/env bash
# haul serve: the web UI's files are embedded in the binary and served at
# / without a token, each with its type, a strong ETag (304 on a match),
# no-cache and a CSP; every file the page references is there; other
# methods are 405 and unknown paths a JSON 404; the API still needs the
# token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
D_TOKEN=""
start_daemon --token s3cret

page=$(curl -s --noproxy '*' -D "$T/h" "$API/")
grep -qi '^content-type: text/html; charset=utf-8' "$T/h" || fail "GET /: $(cat "$T/h")"
grep -qi '^content-security-policy: .*script-src .self.' "$T/h" || fail "no CSP on /: $(cat "$T/h")"
grep -qi '^cache-control: no-cache' "$T/h" || fail "no Cache-Control on /"
etag=$(grep -i '^etag:' "$T/h" | cut -d' ' -f2 | tr -d '\r')
[[ $etag =~ ^\"[0-9a-f]{16}\"$ ]] || fail "ETag of /: '$etag'"
grep -q '<script type="module"' <<<"$page" || fail "the page loads no module: $page"
ok "GET / without a token: the page, with its type, CSP, no-cache and a strong ETag"

code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$API/")
assert_eq "revalidation" "$code" 304
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$API/")
assert_eq "another ETag" "$code" 200
ok "If-None-Match with the ETag is 304, with another one 200"

# every local file the page references (src=, href=) and every module import
refs=$(grep -oE '(src|href)="/?[a-zA-Z0-9_./-]+"' <<<"$page" | sed -E 's/^(src|href)="\/?//; s/"$//' | sort -u)
[ -n "$refs" ] || fail "the page references no file"
n=0
for r in $refs; do
    code=$(curl -s --noproxy '*' -o "$T/asset" -D "$T/ah" -w '%{http_code}' "$API/$r")
    assert_eq "GET /$r" "$code" 200
    case "$r" in
        *.js) grep -qi '^content-type: text/javascript' "$T/ah" || fail "/$r: $(grep -i content-type "$T/ah")" ;;
        *.css) grep -qi '^content-type: text/css' "$T/ah" || fail "/$r: $(grep -i content-type "$T/ah")" ;;
        *.svg) grep -qi '^content-type: image/svg+xml' "$T/ah" || fail "/$r: $(grep -i content-type "$T/ah")" ;;
    esac
    if [[ $r == *.js ]]; then # its imports, one level down
        for i in $(grep -oE "from '\./[a-z_]+\.js'" "$T/asset" | sed -E "s/from '\.\/(.*)'/\1/"); do
            code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$API/$(dirname "$r")/$i")
            assert_eq "import $i of /$r" "$code" 200
        done
    fi
    n=$((n + 1))
done
ok "all $n files the page references are served with their types, and the modules they import"

code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -I "$API/")
assert_eq "HEAD /" "$code" 200
code=$(curl -s --noproxy '*' -o "$T/b" -D "$T/h" -w '%{http_code}' -X POST "$API/")
assert_eq "POST /" "$code" 405
grep -qi '^allow: GET, HEAD' "$T/h" || fail "405 without Allow: $(cat "$T/h")"
code=$(curl -s --noproxy '*' -o "$T/b" -w '%{http_code}' "$API/no/such/file.js")
assert_eq "an unknown path" "$code" 404
assert_eq "a JSON 404" "$(jget .error.code <"$T/b")" not_found
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$API/api/jobs")
assert_eq "the API without the token" "$code" 401
ok "HEAD works, POST is 405 with Allow, an unknown path is a JSON 404, the API still needs the token"
