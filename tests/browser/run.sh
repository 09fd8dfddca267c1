#!/bin/sh
# The web UI's browser tests: starts the test origin and a daemon on free
# loopback ports in a fresh temp dir, runs ui.test.mjs (playwright-core
# driving Debian's chromium), stops everything, exits non-zero on any
# failure. ctest calls it with HAUL and HAUL_ORIGIN set:
#
#   HAUL=build/haul HAUL_ORIGIN=build/haul-origin tests/browser/run.sh
#
# Screenshots of failures go to $HAUL_BROWSER_ARTIFACTS (default:
# tests/browser/artifacts/ under the current folder, which is the build
# folder under ctest; a temp folder when run from the source tree).
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${HAUL:?set HAUL to the haul binary}"
: "${HAUL_ORIGIN:?set HAUL_ORIGIN to the haul-origin binary}"
HAUL=$(cd "$(dirname "$HAUL")" && pwd)/$(basename "$HAUL")
HAUL_ORIGIN=$(cd "$(dirname "$HAUL_ORIGIN")" && pwd)/$(basename "$HAUL_ORIGIN")
export HAUL HAUL_ORIGIN
chromium=${HAUL_CHROMIUM:-/usr/bin/chromium}

fail() {
    echo "not ok - $*"
    exit 1
}

command -v node >/dev/null 2>&1 || fail "node is not installed (scripts/bootstrap installs it)"
[ -x "$chromium" ] || fail "$chromium is missing (scripts/bootstrap installs Debian's chromium)"
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    echo "# installing playwright-core (npm ci --prefix tests/browser)"
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null ||
        fail "npm ci --prefix $here failed"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/haul-browser.XXXXXX") || fail "mktemp"
if [ -z "${HAUL_BROWSER_ARTIFACTS:-}" ]; then
    case "$(pwd -P)/" in
        "$(cd "$here/../.." && pwd -P)/"*) HAUL_BROWSER_ARTIFACTS="${TMPDIR:-/tmp}/haul-browser-artifacts" ;;
        *) HAUL_BROWSER_ARTIFACTS="$(pwd -P)/tests/browser/artifacts" ;;
    esac
fi
export HAUL_BROWSER_ARTIFACTS HAUL_BROWSER_WORK="$work"
: >"$work/pids"

rc=1
cleanup() {
    # Every process started here or by the spec is in the pids file.
    while read -r pid; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    done <"$work/pids"
    sleep 0.3
    while read -r pid; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { sleep 2; kill -KILL "$pid" 2>/dev/null; }
    done <"$work/pids"
    if [ "$rc" -ne 0 ]; then
        mkdir -p "$HAUL_BROWSER_ARTIFACTS"
        for f in "$work"/origin.log "$work"/origin.err; do
            [ -f "$f" ] && cp "$f" "$HAUL_BROWSER_ARTIFACTS/"
        done
        for f in "$work"/*/daemon.log; do
            [ -f "$f" ] && cp "$f" "$HAUL_BROWSER_ARTIFACTS/$(basename "$(dirname "$f")")-daemon.log"
        done
        echo "# logs in $HAUL_BROWSER_ARTIFACTS"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_port FILE: the port a server wrote there, within 15 s.
wait_port() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ "$i" -gt 300 ] && return 1
        sleep 0.05
    done
    cat "$1"
}

"$HAUL_ORIGIN" --port-file "$work/oport" --log "$work/origin.log" 2>"$work/origin.err" &
echo $! >>"$work/pids"
HAUL_ORIGIN_PORT=$(wait_port "$work/oport") || fail "haul-origin did not start: $(cat "$work/origin.err")"

mkdir -p "$work/a/dl"
"$HAUL" serve --dir "$work/a/dl" --listen 127.0.0.1:0 --port-file "$work/a/port" \
    --log-level warn >>"$work/a/daemon.log" 2>&1 &
HAUL_PID=$!
echo "$HAUL_PID" >>"$work/pids"
HAUL_PORT=$(wait_port "$work/a/port") || fail "haul serve did not start: $(cat "$work/a/daemon.log")"
export HAUL_ORIGIN_PORT HAUL_PORT HAUL_PID HAUL_DIR="$work/a/dl"

echo "# origin on 127.0.0.1:$HAUL_ORIGIN_PORT, daemon on 127.0.0.1:$HAUL_PORT, in $work"
node "$here/ui.test.mjs"
rc=$?
exit "$rc"
