#!/usr/bin/env bash
# haul get's request options: extra headers, user agent, speed limit, and
# redirects that try to leave http(s).
. "$(dirname "$0")/lib.sh"
start_origin

need='require=X-Token%3A%20s3cret'
try "$HAUL" get "$ORIGIN/data/h.bin?size=1000&$need" -d "$T/dl" 2>"$T/err"
assert_eq "without the header" $RC 3
assert_contains "403 message" "$T/err" "403 Forbidden"
"$HAUL" get "$ORIGIN/data/h.bin?size=1000&$need" -d "$T/dl" -H 'X-Token: s3cret' -q \
    || fail "-H was not sent"
assert_eq "content" "$(file_sha "$T/dl/h.bin")" "$(expected_sha 1000)"
ok "-H sends the header"

"$HAUL" get "$ORIGIN/data/ua.bin?size=10&require=User-Agent%3Amy-agent%2F1" -d "$T/dl" \
    -A my-agent/1 -q || fail "-A was not sent"
"$HAUL" get "$ORIGIN/data/ua2.bin?size=10&require=User-Agent%3Ahaul%2F0.1.0" -d "$T/dl" -q \
    || fail "the default User-Agent is not haul/VERSION"
ok "-A sets the User-Agent; the default is haul/VERSION"

try "$HAUL" get "$ORIGIN/data/x?size=10" -H 'no colon' 2>"$T/err"
assert_eq "bad -H" $RC 2
try "$HAUL" get "$ORIGIN/data/x?size=10" -H $'X-A: 1\r\nX-Injected: 2' 2>"$T/err"
assert_eq "-H with a line break" $RC 2
assert_contains "-H with a line break" "$T/err" "one line"
try "$HAUL" get "$ORIGIN/data/x?size=10" --attempts 0 2>"$T/err"
assert_contains "--attempts 0" "$T/err" "--attempts takes a whole number from 1"
[ -z "$(log_lines /data/x)" ] || fail "a refused command line reached the server"
"$HAUL" get "$ORIGIN/data/x?size=10" --max-speed fast 2>"$T/err" && fail "--max-speed fast accepted"
assert_contains "bad --max-speed" "$T/err" "500K"
ok "malformed options are usage errors"

# 600 KB at 200 KB/s cannot take less than ~2 s (a lower bound only: slow
# machines are fine)
start=$(date +%s%N)
"$HAUL" get "$ORIGIN/data/slow.bin?size=600000" -d "$T/dl" --max-speed 200K -q \
    || fail "--max-speed download failed"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 1800 ] || fail "--max-speed 200K took only ${ms} ms for 600 KB"
assert_eq "limited content" "$(file_sha "$T/dl/slow.bin")" "$(expected_sha 600000)"
ok "--max-speed 200K: 600 KB took ${ms} ms"

try "$HAUL" get "$ORIGIN/to?to=ftp%3A%2F%2F127.0.0.1%2Fx" -d "$T/ftp" 2>"$T/err"
[ $RC -ne 0 ] || fail "a redirect to ftp:// was followed"
assert_contains "redirect to ftp" "$T/err" "http:// and https://"
ok "a redirect to ftp:// is refused (exit $RC)"

# --proxy: the origin also answers proxy requests (absolute URIs), so a host
# that does not exist is reachable only through it; nothing leaves loopback
"$HAUL" get "http://haul-test.invalid/data/via.bin?size=5000" -d "$T/dl" \
    --proxy "$ORIGIN" -q 2>"$T/err" || fail "--proxy: $(cat "$T/err")"
assert_eq "proxied content" "$(file_sha "$T/dl/via.bin")" "$(expected_sha 5000)"
log_lines "http://haul-test.invalid/data/via.bin" | grep -q . \
    || fail "the request did not go through the proxy: $(cat "$ORIGIN_LOG")"
ok "--proxy sends the request through the proxy"
