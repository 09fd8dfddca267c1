# Shared helpers for the end-to-end tests: each test sources this file,
# gets a private temp folder ($T) and a test origin on a free loopback port
# ($ORIGIN), and everything is stopped and removed when the test exits.
set -euo pipefail

: "${HAUL:?set HAUL to the haul binary}"
: "${HAUL_ORIGIN:?set HAUL_ORIGIN to the haul-origin binary}"

# loopback only: no proxy from the environment may get in the way
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost

T=$(mktemp -d "${TMPDIR:-/tmp}/haul-e2e.XXXXXX")
ORIGIN_PID=""
ORIGIN_STRICT=1 # a server other than haul-origin sets 0
ORIGIN_LOG="$T/origin.log"

cleanup() {
    local rc=$?
    if [ -n "$ORIGIN_PID" ] && kill "$ORIGIN_PID" 2>/dev/null; then
        # haul-origin exits 0 on SIGTERM, and non-zero on a sanitizer report
        if ! wait "$ORIGIN_PID" 2>/dev/null && [ "$ORIGIN_STRICT" = 1 ] && [ $rc -eq 0 ]; then
            echo "FAIL: the test origin did not exit cleanly: $(cat "$T/origin.stderr")" >&2
            rc=1
        fi
    fi
    if [ $rc -ne 0 ]; then
        echo "--- origin log ---" >&2
        cat "$ORIGIN_LOG" >&2 2>/dev/null || true
        echo "--- files under $T ---" >&2
        find "$T" -maxdepth 4 >&2 || true
    fi
    if [ -n "$SMALL_DISK" ]; then umount "$SMALL_DISK" 2>/dev/null || true; fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    echo "ok - $*"
}

# start_origin: runs the test origin and sets ORIGIN=http://127.0.0.1:PORT;
# with ORIGIN_ROOT set it also serves that folder under /files/
start_origin() {
    "$HAUL_ORIGIN" --port 0 --port-file "$T/origin.port" --log "$ORIGIN_LOG" \
        ${ORIGIN_ROOT:+--root "$ORIGIN_ROOT"} 2>"$T/origin.stderr" &
    ORIGIN_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$T/origin.port" ] && break
        sleep 0.05
    done
    [ -s "$T/origin.port" ] || fail "the test origin did not start: $(cat "$T/origin.stderr")"
    ORIGIN="http://127.0.0.1:$(cat "$T/origin.port")"
}

# expected_sha SIZE [SEED [VERSION]]: the SHA-256 of the origin's content
expected_sha() {
    "$HAUL_ORIGIN" --generate "$1" --seed "${2:-0}" --version "${3:-0}" \
        | sha256sum | cut -d' ' -f1
}

file_sha() {
    sha256sum "$1" | cut -d' ' -f1
}

file_size() {
    stat -c %s "$1"
}

# try COMMAND...: runs a command that may fail; its exit status goes to RC
try() {
    set +e
    "$@"
    RC=$?
    set -e
}

# assert_eq WHAT GOT WANT
assert_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# assert_contains WHAT FILE TEXT
assert_contains() {
    grep -qF -- "$3" "$2" || fail "$1: '$3' not in $2: $(cat "$2")"
}

# log_lines PATTERN: origin log lines whose URI contains PATTERN
log_lines() {
    grep -F -- "$1" "$ORIGIN_LOG" || true
}

# sent_total PATTERN: body bytes the origin sent for matching requests
sent_total() {
    log_lines "$1" | awk '{ if ($5 != "-") s += $5 } END { print s + 0 }'
}

# no_temp_left DIR: nothing of an unfinished download remains in DIR
no_temp_left() {
    if [ -d "$1/.haul-tmp" ] && [ -n "$(ls -A "$1/.haul-tmp")" ]; then
        fail "temp data left in $1/.haul-tmp: $(ls -R "$1/.haul-tmp")"
    fi
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds
wait_for() {
    local limit=$1
    shift
    local end=$((SECONDS + limit))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.05
    done
}

# mount_small_disk DIR SIZE: a tmpfs of SIZE (like 3m) at DIR, unmounted at
# exit. Needs root (CI runs as root): a test that needs it fails, not skips,
# without it. Grow it with `mount -o remount,size=… DIR`.
mount_small_disk() {
    mkdir -p "$1"
    mount -t tmpfs -o size="$2" tmpfs "$1" || fail "cannot mount a tmpfs at $1 (this test needs root)"
    SMALL_DISK=$1
}
SMALL_DISK=""

# part_file DIR: the part file of the unfinished download in DIR
part_file() {
    { find "$1/.haul-tmp" -name data.part 2>/dev/null || true; } | head -1
}

# get_until_part BYTES DIR URL [ARGS...]: starts `haul get URL -d DIR ARGS`
# in the background (pid in BG_PID, stderr in $T/bg.err) and returns once
# its part file holds at least BYTES
get_until_part() {
    local min=$1 dir=$2 url=$3 f
    shift 3
    "$HAUL" get "$url" -d "$dir" "$@" 2>"$T/bg.err" >/dev/null &
    BG_PID=$!
    local end=$((SECONDS + 30))
    while :; do
        f=$(part_file "$dir")
        if [ -n "$f" ] && [ "$(file_size "$f")" -ge "$min" ]; then
            return 0
        fi
        [ $SECONDS -lt $end ] || fail "no $min bytes of part data in $dir: $(cat "$T/bg.err")"
        sleep 0.05
    done
}

# interrupt_get BYTES DIR URL [ARGS...]: like get_until_part, then Ctrl-C;
# checks that haul exits 130
interrupt_get() {
    get_until_part "$@"
    kill -INT $BG_PID
    try wait $BG_PID
    assert_eq "exit code after Ctrl-C" $RC 130
}

# hls_media: makes the HLS test media (tests/media/make_hls.sh, cached in
# $HAUL_MEDIA, shared by the tests of one build) and sets MEDIA and
# ORIGIN_ROOT to it; call before start_origin
hls_media() {
    MEDIA=${HAUL_MEDIA:-$T/media}
    sh "$(dirname "${BASH_SOURCE[0]}")/../media/make_hls.sh" "$MEDIA" >"$T/media.log" 2>&1 \
        || fail "cannot make the HLS test media: $(tail -n 20 "$T/media.log")"
    ORIGIN_ROOT=$MEDIA
}

# media_duration FILE: the duration ffprobe reads, in whole deciseconds
media_duration() {
    ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" |
        awk '{ printf "%d", $1 * 10 + 0.5 }'
}

# near WHAT GOT WANT TOLERANCE: |GOT - WANT| <= TOLERANCE (integers)
near() {
    local d=$(($2 - $3))
    [ ${d#-} -le "$4" ] || fail "$1: got $2, want $3 (+-$4)"
}
