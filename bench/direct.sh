#!/usr/bin/env bash
# bench/direct.sh — single-file HTTP download benchmark: haul vs curl, wget,
# aria2c, and the machine's limits (dd for the disk, curl > /dev/null for the
# network side).
#
# A private nginx on 127.0.0.1 serves one random file (sendfile on, access log
# off); every contender downloads it to the same disk, BENCH_ROUNDS times, in a
# rotated order. Reports median throughput, CPU seconds and peak RSS, plus
# ratios against curl computed as the median of per-round paired ratios.
#
# Environment:
#   HAUL            haul binary                  (default: <repo>/build/haul)
#   BENCH_SIZE_MB   size of the served file, MiB (default: 1024)
#   BENCH_ROUNDS    rounds                       (default: 5)
#   BENCH_DIR       work dir (source file, nginx prefix, downloads)
#                   (default: mktemp -d /tmp/haul-bench-XXXX, or
#                    /tmp/haul-bench-keep when BENCH_KEEP=1)
#   BENCH_KEEP      1 = keep the source file (and work dir) for the next run
#   BENCH_PORT      first port to try            (default: 18080)
#   BENCH_TIMEOUT   per-download timeout, s      (default: 600)
#   BENCH_RESULTS   where the report goes        (default: <repo>/bench/results)
#   BENCH_WARMUP    untimed warm-up rounds       (default: 1)
#
# Noise warning: on VMs with virtio-balloon free page reporting (Firecracker,
# some clouds) memory freed by deleting the previous output is handed back to
# the host after ~2 s and every write must fault it in again; how much of a
# run hits such pages varies run to run (dd of 256 MiB: 0.05 s to 0.35 s).
# The header says whether this is the case; read the min-max column and use
# more rounds (BENCH_ROUNDS) there.
#
# Exit status: 0 when every run produced the right file, 1 when any contender
# produced a wrong/short file or failed, 2 on setup errors.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HAUL=${HAUL:-$REPO/build/haul}
SIZE_MB=${BENCH_SIZE_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-5}
KEEP=${BENCH_KEEP:-0}
PORT0=${BENCH_PORT:-18080}
TMO=${BENCH_TIMEOUT:-600}
RESULTS=${BENCH_RESULTS:-$REPO/bench/results}
WARMUP=${BENCH_WARMUP:-1}

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE_MB must be a positive integer (got '$SIZE_MB')"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]]  || die "BENCH_ROUNDS must be a positive integer (got '$ROUNDS')"
[[ $PORT0 =~ ^[1-9][0-9]*$ ]]   || die "BENCH_PORT must be a port number (got '$PORT0')"
[[ $TMO =~ ^[1-9][0-9]*$ ]]     || die "BENCH_TIMEOUT must be a positive integer (got '$TMO')"
[[ $WARMUP =~ ^[0-9]+$ ]]       || die "BENCH_WARMUP must be a non-negative integer (got '$WARMUP')"

# ---------------------------------------------------------------- tools
say "checking tools (scripts/bootstrap bench)"
if ! "$REPO/scripts/bootstrap" bench; then
    say "warning: scripts/bootstrap bench failed; continuing if the tools are present"
fi
find_nginx
for t in curl wget aria2c dd sha256sum sync timeout stat awk sort; do
    command -v "$t" >/dev/null || die "$t not found"
done

# Nothing from the environment may reroute or reconfigure the downloads.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy FTP_PROXY
export no_proxy='*' NO_PROXY='*'

# ---------------------------------------------------------------- work dir
CREATED_WORK=0
if [[ -n ${BENCH_DIR:-} ]]; then
    WORK=$BENCH_DIR
    mkdir -p "$WORK"
elif [[ $KEEP == 1 ]]; then
    WORK=/tmp/haul-bench-keep
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d /tmp/haul-bench-XXXX)
    CREATED_WORK=1
fi
WORK=$(cd "$WORK" && pwd)
SRC_DIR=$WORK/src
OUT_DIR=$WORK/out
NGX=$WORK/nginx
RAW=$WORK/runs.tsv
SRC=$SRC_DIR/file.bin
mkdir -p "$SRC_DIR" "$OUT_DIR" "$NGX"/{logs,tmp} "$WORK/empty"
: >"$WORK/empty/wgetrc"
# nginx workers may run as another user: let them read the source.
chmod 755 "$WORK" "$SRC_DIR"
export CURL_HOME=$WORK/empty WGETRC=$WORK/empty/wgetrc

cleanup() {
    local rc=$?
    set +e
    stop_nginx
    rm -rf "$OUT_DIR" "$NGX" "$WORK/empty" "$RAW" "$WORK"/*.time "$WORK"/*.size "$WORK"/*.err
    if [[ $KEEP != 1 ]]; then
        rm -f "$SRC"
        rmdir "$SRC_DIR" 2>/dev/null
        [[ $CREATED_WORK == 1 ]] && rmdir "$WORK" 2>/dev/null
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- source file
SIZE=$((SIZE_MB * 1048576))
if [[ -f $SRC && $(stat -c %s "$SRC") -eq $SIZE ]]; then
    say "reusing $SRC ($SIZE_MB MiB)"
else
    say "creating $SRC ($SIZE_MB MiB from /dev/urandom)"
    rm -f "$SRC"
    dd if=/dev/urandom of="$SRC.part" bs=1M count="$SIZE_MB" status=none
    mv "$SRC.part" "$SRC"
fi
chmod 644 "$SRC"
say "hashing the source (also warms the page cache)"
SRC_SHA=$(sha256sum "$SRC" | cut -d' ' -f1)
cat "$SRC" >/dev/null

detect_page_reporting

# ---------------------------------------------------------------- nginx
start_nginx_on_free_port "$SRC_DIR" file.bin 'types { } default_type application/octet-stream;'
URL="http://127.0.0.1:$PORT/file.bin"
served=$(curl -sfI "$URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[[ $served == "$SIZE" ]] || die "nginx serves $URL with Content-Length '$served', expected $SIZE"
say "nginx (pid $NGINX_PID) serving $URL"

# ---------------------------------------------------------------- contenders
HAUL_NOTE=""
HAUL_OK=0; HAUL_SYNC=0
if [[ -x $HAUL ]]; then
    HAUL_OK=1
    haul_help=$("$HAUL" get --help 2>&1 || true)
    [[ $haul_help == *--sync* ]] && HAUL_SYNC=1
else
    HAUL_NOTE="n/a (${HAUL#"$REPO"/} missing)"
    say "haul: $HAUL_NOTE"
fi

# name|label ; command built by run_cmd
NAMES=()
LABELS=()
add() { NAMES+=("$1"); LABELS+=("$2"); }
[[ $HAUL_OK == 1 ]] && add haul "haul get"
[[ $HAUL_SYNC == 1 ]] && add haul-sync "haul get --sync"
add curl "curl"
add wget "wget"
add aria2c "aria2c -x1 -s1"
add dd "dd bs=1M (local copy)"
add curl-null "curl > /dev/null (net limit)"

# Sets CMD (array) and OUT for contender $1.
build_cmd() {
    OUT=$OUT_DIR/$1.bin
    case $1 in
        haul)      CMD=("$HAUL" get "$URL" -o "$OUT" -q) ;;
        haul-sync) CMD=("$HAUL" get --sync "$URL" -o "$OUT" -q) ;;
        curl)      CMD=(curl -s -o "$OUT" "$URL") ;;
        wget)      CMD=(wget -q -O "$OUT" "$URL") ;;
        aria2c)    CMD=(aria2c -x1 -s1 -q --allow-overwrite=true --file-allocation=none
                        -d "$OUT_DIR" -o "$1.bin" "$URL") ;;
        dd)        CMD=(dd if="$SRC" of="$OUT" bs=1M status=none) ;;
        curl-null) OUT=/dev/null
                   CMD=(curl -s -o /dev/null -w '%{size_download}' "$URL") ;;
        *) die "unknown contender $1" ;;
    esac
}

# ---------------------------------------------------------------- rounds
FAILS=()
: >"$RAW"
printf 'round\tcontender\twall_s\tuser_s\tsys_s\trss_kib\tstatus\n' >"$RAW"
n=${#NAMES[@]}
say "$WARMUP warm-up + $ROUNDS timed rounds x $n contenders, $SIZE_MB MiB each"
for ((r = -WARMUP; r < ROUNDS; r++)); do
    order=()
    for ((i = 0; i < n; i++)); do order+=("${NAMES[((i + r) % n + n) % n]}"); done
    if ((r < 0)); then rlabel="warm-up $((r + WARMUP + 1))/$WARMUP"; else rlabel="round $((r + 1))/$ROUNDS"; fi
    say "$rlabel: ${order[*]}"
    for name in "${order[@]}"; do
        build_cmd "$name"
        tf=$WORK/$name.time sf=$WORK/$name.size ef=$WORK/$name.err
        [[ $OUT != /dev/null ]] && rm -f "$OUT" "$OUT.aria2"
        rm -f "$tf" "$sf" "$ef"
        sync
        t0=$EPOCHREALTIME
        set +e
        timeout "$TMO" /usr/bin/time -o "$tf" -f '%e %U %S %M' "${CMD[@]}" >"$sf" 2>"$ef"
        rc=$?
        set -e
        t1=$EPOCHREALTIME
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b - a}')
        read -r _e user sys rss < <(tail -n 1 "$tf" 2>/dev/null || echo "0 0 0 0") || true
        [[ $user =~ ^[0-9.]+$ ]] || { user=0 sys=0 rss=0; }
        status=ok
        if [[ $rc -ne 0 ]]; then
            status="exit$rc"
            [[ $rc -eq 124 ]] && status="timeout"
        elif [[ $OUT == /dev/null ]]; then
            got=$(tr -dc 0-9 <"$sf")
            [[ $got == "$SIZE" ]] || status="size:${got:-?}"
        elif [[ ! -f $OUT ]]; then
            status="missing"
        else
            got=$(stat -c %s "$OUT")
            if [[ $got != "$SIZE" ]]; then
                status="size:$got"
            elif [[ $r -eq 0 ]]; then
                sha=$(sha256sum "$OUT" | cut -d' ' -f1)
                [[ $sha == "$SRC_SHA" ]] || status="sha256-mismatch"
            fi
        fi
        if [[ $status != ok ]]; then
            FAILS+=("$rlabel $name: $status")
            printf '\nbench: *** WRONG RESULT: %s %s: %s ***\n' "$name" "$rlabel" "$status" >&2
            printf '  command: %s\n' "${CMD[*]}" >&2
            sed 's/^/  stderr: /' "$ef" | head -n 20 >&2 || true
        fi
        ((r >= 0)) && printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' $((r + 1)) "$name" "$wall" "$user" "$sys" "$rss" "$status" >>"$RAW"
        mbps=$(awk -v s="$SIZE" -v w="$wall" 'BEGIN{printf "%.0f", (w > 0 ? s / w / 1e6 : 0)}')
        say "  $(printf '%-10s %8s MB/s  wall %7ss  cpu %5.2fs  rss %6.1f MiB  %s' \
            "$name" "$mbps" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
            "$(awk -v m="$rss" 'BEGIN{print m/1024}')" "$status")"
        [[ $OUT != /dev/null ]] && rm -f "$OUT" "$OUT.aria2"
    done
done

# ---------------------------------------------------------------- report
# Per contender: median MB/s, min-max MB/s, median CPU, median RSS, and the
# medians of per-round ratios against curl (both runs of the round must be ok).
stats=$(awk -F'\t' -v size="$SIZE" "$AWK_MEDIAN"'
NR == 1 { next }
{
    r = $1; c = $2; runs[c]++;
    if ($7 != "ok") { bad[c]++; next }
    thr[c, r] = size / $3 / 1e6; cpu[c, r] = $4 + $5; rss[c, r] = $6 / 1024; okr[c, r] = 1;
    if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
    if (r > maxr) maxr = r;
}
END {
    for (x = 1; x <= nc; x++) {
        c = order[x]; k = 0; kt = 0; kc = 0; kr = 0; lo = ""; hi = "";
        delete A; delete B; delete C; delete T; delete U; delete V;
        for (r = 1; r <= maxr; r++) {
            if (!okr[c, r]) continue;
            k++; A[k] = thr[c, r]; B[k] = cpu[c, r]; C[k] = rss[c, r];
            if (lo == "" || thr[c, r] < lo) lo = thr[c, r];
            if (hi == "" || thr[c, r] > hi) hi = thr[c, r];
            if (okr["curl", r]) {
                T[++kt] = thr[c, r] / thr["curl", r];
                if (cpu["curl", r] > 0) U[++kc] = cpu[c, r] / cpu["curl", r];
                if (rss["curl", r] > 0) V[++kr] = rss[c, r] / rss["curl", r];
            }
        }
        printf "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, k, runs[c] + 0,
            median(A, k), lo, hi, median(B, k), median(C, k), median(T, kt), median(U, kc), median(V, kr);
    }
    for (c in runs) if (!(c in seen)) printf "%s\t0\t%d\t\t\t\t\t\t\t\t\n", c, runs[c];
}' "$RAW")

fmt() { # fmt FORMAT VALUE -> formatted, or "-" when empty
    if [[ -z $2 ]]; then printf -- '-'; else awk -v f="$1" -v v="$2" 'BEGIN{printf f, v}'; fi
}

host_cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
ver_curl=$(curl --version | head -n 1 | awk '{print $1, $2}')
ver_wget=$(wget --version | head -n 1 | awk '{print $1, $2, $3}')
ver_aria=$(aria2c --version | head -n 1)
ver_nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
ver_dd=$(dd --version | head -n 1)
if [[ $HAUL_OK == 1 ]]; then
    ver_haul=$("$HAUL" --version 2>/dev/null | head -n 1 || true)
    ver_haul="${ver_haul:-(no --version)} at ${HAUL#"$REPO"/}"
else
    ver_haul=$HAUL_NOTE
fi
fs=$(df -PT "$OUT_DIR" | awk 'NR==2{print $2 " on " $1}')

DATE=$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
REPORT=$RESULTS/direct-$DATE.md

{
    echo "# haul direct-download benchmark — $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- machine: $(nproc) CPUs, ${host_cpu:-unknown CPU}, kernel $(uname -r), $(awk '/^MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "- file: $SIZE_MB MiB ($SIZE bytes) random, served by $ver_nginx on 127.0.0.1:$PORT (sendfile on, access_log off); downloads to $WORK ($fs), source kept hot in page cache"
    echo "- rounds: $ROUNDS timed after $WARMUP untimed warm-up, contenders rotated each round; before every run (untimed): rm the output, \`sync\`; no cache drop (the source stays hot)"
    [[ $page_reporting == yes ]] && echo "- **noise warning**: this VM has virtio-balloon free page reporting (freed memory returns to the host and must be faulted back in by whoever writes next); expect wide min–max spreads"
    echo "- tools: $ver_curl; $ver_wget; $ver_aria; $ver_dd; haul: $ver_haul"
    echo "- MB/s = 1e6 bytes/s over wall time; CPU = user+sys; RSS = peak (GNU time %M); ratios vs curl = median of per-round paired ratios"
    echo
    echo "| contender | MB/s (median) | GB/s | MB/s min–max | CPU s | peak RSS MiB | thr / curl | CPU / curl | RSS / curl | runs ok |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if [[ $HAUL_OK != 1 ]]; then
        echo "| haul get | $HAUL_NOTE | | | | | | | | |"
    elif [[ $HAUL_SYNC != 1 ]]; then
        echo "| haul get --sync | n/a (haul get has no --sync) | | | | | | | | |"
    fi
    for ((i = 0; i < n; i++)); do
        name=${NAMES[i]}
        line=$(awk -F'\t' -v c="$name" '$1 == c' <<<"$stats")
        IFS=$'\t' read -r _ k runs med lo hi cpu rss tr cr rr <<<"$line"
        if [[ ${k:-0} -eq 0 ]]; then
            echo "| ${LABELS[i]} | **FAILED (0/${runs:-$ROUNDS} runs ok)** | | | | | | | | |"
            continue
        fi
        okcol="$k/$runs"
        [[ $k -ne $runs ]] && okcol="**$k/$runs FAILED**"
        echo "| ${LABELS[i]} | $(fmt '%.0f' "$med") | $(fmt '%.2f' "$(awk -v m="$med" 'BEGIN{print m/1000}')") |" \
             "$(fmt '%.0f' "$lo")–$(fmt '%.0f' "$hi") | $(fmt '%.2f' "$cpu") | $(fmt '%.1f' "$rss") |" \
             "$(fmt '%.2fx' "$tr") | $(fmt '%.2fx' "$cr") | $(fmt '%.2fx' "$rr") | $okcol |"
    done
    echo
    echo "Targets (haul get vs curl, paired per-round medians):"
    if [[ $HAUL_OK != 1 ]]; then
        echo "- throughput >= 1.5x curl: $HAUL_NOTE"
        echo "- CPU <= curl: n/a"
        echo "- RSS <= curl: n/a"
    else
        line=$(awk -F'\t' '$1 == "haul"' <<<"$stats")
        IFS=$'\t' read -r _ k runs med lo hi cpu rss tr cr rr <<<"$line"
        verdict() { # verdict VALUE OP LIMIT
            [[ -z $1 ]] && { echo "n/a (no successful paired runs)"; return; }
            if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{exit !((op == ">=") ? v >= l : v <= l)}'; then
                echo "MET ($(fmt '%.2fx' "$1"))"
            else
                echo "NOT MET ($(fmt '%.2fx' "$1"))"
            fi
        }
        echo "- throughput >= 1.5x curl: $(verdict "${tr:-}" '>=' 1.5)"
        echo "- CPU <= curl: $(verdict "${cr:-}" '<=' 1.0)"
        echo "- RSS <= curl: $(verdict "${rr:-}" '<=' 1.0)"
    fi
    if [[ ${#FAILS[@]} -gt 0 ]]; then
        echo
        echo "**FAILURES — wrong or missing output:**"
        for f in "${FAILS[@]}"; do echo "- $f"; done
    fi
    echo
    echo "<details><summary>Per-run data</summary>"
    echo
    echo '```'
    column -t -s $'\t' "$RAW" 2>/dev/null || cat "$RAW"
    echo '```'
    echo
    echo "Commands (OUT = $OUT_DIR/<contender>.bin):"
    echo
    for name in "${NAMES[@]}"; do
        build_cmd "$name"
        printf -- '- `%s`\n' "${CMD[*]}"
    done
    echo
    echo "</details>"
} >"$REPORT"

finish_report "$REPORT"
