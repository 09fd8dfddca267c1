#!/usr/bin/env bash
# HTTPS with a certificate that is not valid (self-signed, made here): haul
# refuses at once, says why, and leaves nothing behind. The server is
# `openssl s_server` on loopback.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
    -days 1 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null \
    || fail "cannot make a certificate"
mkdir -p "$T/www"
"$HAUL_ORIGIN" --generate 300000 >"$T/www/secure.bin"
cd "$T/www" # s_server -WWW serves files from here
port=$((20000 + RANDOM % 20000))
openssl s_server -accept "127.0.0.1:$port" -cert "$T/cert.pem" -key "$T/key.pem" \
    -WWW -quiet >/dev/null 2>&1 &
ORIGIN_PID=$!
ORIGIN_STRICT=0
up() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
wait_for 10 up || fail "openssl s_server did not start"

try "$HAUL" get "https://127.0.0.1:$port/file.bin" -d "$T/dl" 2>"$T/err"
assert_eq "exit code" $RC 1
assert_contains "message" "$T/err" "TLS certificate is not valid"
assert_eq "attempts (no retry)" "$(grep -c "certificate" "$T/err")" 1
[ -z "$(ls -A "$T/dl" 2>/dev/null)" ] || fail "files left: $(ls -A "$T/dl")"
ok "an invalid certificate is refused at once (exit 1)"

"$HAUL" get "https://127.0.0.1:$port/secure.bin" -d "$T/ok" --cacert "$T/cert.pem" -q 2>"$T/err" \
    || fail "https with --cacert failed: $(cat "$T/err")"
assert_eq "https content" "$(file_sha "$T/ok/secure.bin")" "$(expected_sha 300000)"
ok "with --cacert the same server is trusted and the file arrives whole"

try "$HAUL" get "https://127.0.0.1:$port/secure.bin" --cacert "$T/missing.pem" 2>"$T/err"
assert_eq "missing --cacert file" $RC 2
ok "a missing --cacert file is a usage error"
