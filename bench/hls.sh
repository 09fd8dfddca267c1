#!/usr/bin/env bash
# bench/hls.sh — HLS download benchmark: haul vs yt-dlp (its native HLS
# downloader) and ffmpeg (-c copy), on a plain and an AES-128 stream.
#
# tests/media/make_hls.sh --bench makes the two streams (300 fragments of
# ~1.6 MB, 478,407,360 bytes each; made once, then reused); a private nginx on
# 127.0.0.1 serves them (sendfile on, access log off). In each round, for each
# stream, every contender downloads the whole stream to the same disk, in an
# order rotated per round:
#
#   haul -N 1 | haul (default, -N 4) | haul -N 8      build/haul get URL -d DIR -q [-N n]
#   yt-dlp -N 1 | yt-dlp -N 8                        (hlsnative, concatenates fragments)
#   ffmpeg                                           -i URL -c copy -f mpegts (a remux)
#
# The report has, per stream and contender, the medians over the rounds of
# wall time, MB/s (output bytes / wall, 1e6 bytes/s) and CPU (user+sys of the
# process tree, GNU time), and the ratios haul/other of the medians: against
# yt-dlp at the same -N, against ffmpeg with haul's default. Then the targets:
# haul >= 4x yt-dlp's throughput at the same -N, haul >= ffmpeg's throughput,
# haul's CPU <= 0.25x yt-dlp's at the same -N.
#
# Checks: haul's and yt-dlp's output must be the fragments joined (decrypted
# for AES): the size in every run, the sha256 in the first round (all rounds
# with BENCH_VERIFY=all). ffmpeg remuxes, so its bytes differ: its size must be
# within 5 % of the joined stream's, and in the first round ffprobe must read
# ~300 s from it.
#
# Environment:
#   HAUL            haul binary                   (default: <repo>/build/haul)
#   BENCH_MEDIA     where the streams are made and kept between runs
#                   (default: <dir of HAUL>/hls-bench-media)
#   BENCH_ROUNDS    timed rounds; the median is reported  (default: 3)
#   BENCH_WARMUP    untimed warm-up rounds        (default: 0)
#   BENCH_VERIFY    first | all: rounds whose sha256 is checked (default: first)
#   BENCH_DIR       work dir (nginx prefix, downloads)
#                   (default: mktemp -d /tmp/haul-bench-hls-XXXX, removed at the end)
#   BENCH_PORT      first port to try             (default: 18080)
#   BENCH_TIMEOUT   per-download timeout, s       (default: 300)
#   BENCH_RESULTS   where the report goes         (default: <repo>/bench/results)
#
# Noise warning: see bench/direct.sh (virtio-balloon free page reporting makes
# writes into freshly freed memory slow, by a varying amount). Read the
# min-max column.
#
# Exit status: 0 when every run produced the right file, 1 when any contender
# produced a wrong/short file or failed, 2 on setup errors.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HAUL=${HAUL:-$REPO/build/haul}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-0}
VERIFY=${BENCH_VERIFY:-first}
PORT0=${BENCH_PORT:-18080}
TMO=${BENCH_TIMEOUT:-300}
RESULTS=${BENCH_RESULTS:-$REPO/bench/results}

# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer (got '$ROUNDS')"
[[ $WARMUP =~ ^[0-9]+$ ]]      || die "BENCH_WARMUP must be a non-negative integer (got '$WARMUP')"
[[ $VERIFY == first || $VERIFY == all ]] || die "BENCH_VERIFY must be first or all (got '$VERIFY')"
[[ $PORT0 =~ ^[1-9][0-9]*$ ]]  || die "BENCH_PORT must be a port number (got '$PORT0')"
[[ $TMO =~ ^[1-9][0-9]*$ ]]    || die "BENCH_TIMEOUT must be a positive integer (got '$TMO')"
[[ -x $HAUL ]] || die "$HAUL missing: run 'make build' first (or set HAUL)"
HAUL=$(cd "$(dirname "$HAUL")" && pwd)/$(basename "$HAUL")
MEDIA=${BENCH_MEDIA:-$(dirname "$HAUL")/hls-bench-media}

# ---------------------------------------------------------------- tools
say "checking tools (scripts/bootstrap bench)"
if ! "$REPO/scripts/bootstrap" bench; then
    say "warning: scripts/bootstrap bench failed; continuing if the tools are present"
fi
find_nginx
for t in yt-dlp ffmpeg ffprobe openssl curl sha256sum sync timeout stat awk sort; do
    command -v "$t" >/dev/null || die "$t not found (scripts/bootstrap bench)"
done

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy FTP_PROXY
export no_proxy='*' NO_PROXY='*'

# ---------------------------------------------------------------- the streams
say "making the benchmark streams in $MEDIA (once; ~20 s the first time)"
mkdir -p "$MEDIA"
sh "$REPO/tests/media/make_hls.sh" --bench "$MEDIA" >&2 || die "tests/media/make_hls.sh --bench $MEDIA failed"
MEDIA=$(cd "$MEDIA" && pwd)
STREAMS=(plain aes)
declare -A SDIR=([plain]=bench_plain [aes]=bench_aes)
declare -A SLABEL=([plain]="plain (bench_plain/index.m3u8)" [aes]="AES-128 (bench_aes/index.m3u8, IV = media sequence number)")
for s in "${STREAMS[@]}"; do
    [[ -f $MEDIA/${SDIR[$s]}/index.m3u8 ]] || die "$MEDIA/${SDIR[$s]}/index.m3u8 missing"
done
EXP_SIZE=$(tr -dc 0-9 <"$MEDIA/bench_plain/expected.size")
EXP_SHA=$(tr -dc 0-9a-f <"$MEDIA/bench_plain/expected.sha256")
NFRAG=$(grep -vc '^#' "$MEDIA/bench_plain/index.m3u8" || true)

# The expected bytes are computed here too (the fragments joined in playlist
# order); that also puts the plain fragments in the page cache, and reading the
# AES ones puts those there: nothing is read from disk on the server side.
say "hashing the joined plain fragments (also warms the page cache)"
join_sha=$(cd "$MEDIA/bench_plain" && awk '!/^#/ && NF { sub(/\r$/, ""); print }' index.m3u8 |
    while IFS= read -r f; do cat "$f"; done | sha256sum | cut -d' ' -f1)
[[ $join_sha == "$EXP_SHA" ]] || die "the joined fragments hash to $join_sha, expected.sha256 says $EXP_SHA"
cat "$MEDIA"/bench_aes/*.ts >/dev/null
chmod -R a+rX "$MEDIA"

detect_page_reporting

# ---------------------------------------------------------------- work dir
CREATED_WORK=0
if [[ -n ${BENCH_DIR:-} ]]; then
    WORK=$BENCH_DIR
    mkdir -p "$WORK"
else
    WORK=$(mktemp -d /tmp/haul-bench-hls-XXXX)
    CREATED_WORK=1
fi
WORK=$(cd "$WORK" && pwd)
OUT_DIR=$WORK/out
NGX=$WORK/nginx
RAW=$WORK/runs.tsv
XDG=$WORK/xdg
mkdir -p "$OUT_DIR" "$NGX"/{logs,tmp} "$XDG"
chmod 755 "$WORK"

cleanup() {
    local rc=$?
    set +e
    stop_nginx
    rm -rf "$OUT_DIR" "$NGX" "$XDG" "$RAW" "$RAW.q" "$WORK"/*.time "$WORK"/*.err
    [[ $CREATED_WORK == 1 ]] && rmdir "$WORK" 2>/dev/null
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- nginx
start_nginx_on_free_port "$MEDIA" bench_plain/index.m3u8 'keepalive_requests 10000; types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; } default_type application/octet-stream;'
BASE="http://127.0.0.1:$PORT"
key=$(curl -sf "$BASE/bench_aes/key.key" | od -An -tx1 | tr -d ' \n')
[[ $key == 6861756c2d746573742d6b6579212121 ]] || die "nginx does not serve the AES key ($key)"
say "nginx (pid $NGINX_PID) serving $MEDIA at $BASE"

# ---------------------------------------------------------------- contenders
NAMES=(haul1 haul4 haul8 ytdlp1 ytdlp8 ffmpeg)
declare -A LABEL=([haul1]="haul -N 1" [haul4]="haul (default, -N 4)" [haul8]="haul -N 8"
    [ytdlp1]="yt-dlp -N 1" [ytdlp8]="yt-dlp -N 8" [ffmpeg]="ffmpeg -c copy")
# the haul row each other contender is compared with
declare -A VS=([ytdlp1]=haul1 [ytdlp8]=haul8 [ffmpeg]=haul4)

# yt-dlp: no user config, no cache dir, nothing from the environment
export XDG_CONFIG_HOME=$XDG XDG_CACHE_HOME=$XDG

# Sets CMD (array) and RUN_DIR for contender $1 on stream $2.
build_cmd() {
    local url="$BASE/${SDIR[$2]}/index.m3u8"
    RUN_DIR=$OUT_DIR/$1-$2
    case $1 in
        haul1)  CMD=("$HAUL" get "$url" -d "$RUN_DIR" -q -N 1) ;;
        haul4)  CMD=("$HAUL" get "$url" -d "$RUN_DIR" -q) ;;
        haul8)  CMD=("$HAUL" get "$url" -d "$RUN_DIR" -q -N 8) ;;
        ytdlp1|ytdlp8)
                CMD=(yt-dlp --ignore-config --no-cache-dir --fixup never --no-part --quiet --no-progress
                     -N "${1#ytdlp}" -o "$RUN_DIR/out.ts" "$url") ;;
        ffmpeg) CMD=(ffmpeg -nostdin -loglevel error -i "$url" -c copy -f mpegts "$RUN_DIR/out.ts") ;;
        *) die "unknown contender $1" ;;
    esac
}

# yt-dlp must pick its native HLS downloader for these URLs
for s in "${STREAMS[@]}"; do
    proto=$(yt-dlp --ignore-config --no-cache-dir --print protocol -s "$BASE/${SDIR[$s]}/index.m3u8" 2>/dev/null || true)
    [[ $proto == m3u8_native ]] || die "yt-dlp would download $s with protocol '$proto', not m3u8_native"
done

# CPU ticks: busy ones of the whole machine (/proc/stat: all but idle and
# iowait), and those of nginx's workers; the difference less the contender's
# own CPU is what other processes took during a run (noise).
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
nginx_ticks() {
    local t=0 p f
    for p in $(pgrep -P "$NGINX_PID" 2>/dev/null || true); do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }                    # the fields after "(comm) "
        read -r -a a <<<"$f"
        t=$((t + a[11] + a[12]))       # utime + stime (fields 14, 15)
    done
    echo "$t"
}

# how busy the machine is without us (2 s before the first run)
b0=$(busy_ticks)
sleep 2
BUSY_PCT=$(awk -v a="$b0" -v b="$(busy_ticks)" -v hz="$HZ" -v n="$(nproc)" 'BEGIN{printf "%.0f", (b - a) / hz / 2 / n * 100}')
((BUSY_PCT < 25)) || say "warning: the machine is ${BUSY_PCT}% busy before the benchmark: expect noisy results"

# ---------------------------------------------------------------- rounds
FAILS=()
printf 'round\tstream\tcontender\twall_s\tuser_s\tsys_s\trss_kib\tbytes\tnginx_s\tothers_s\tstatus\n' >"$RAW"
n=${#NAMES[@]}
say "$WARMUP warm-up + $ROUNDS timed rounds x ${#STREAMS[@]} streams x $n contenders, $EXP_SIZE bytes each"
for ((r = -WARMUP; r < ROUNDS; r++)); do
    order=()
    for ((i = 0; i < n; i++)); do order+=("${NAMES[((i + r) % n + n) % n]}"); done
    if ((r < 0)); then rlabel="warm-up $((r + WARMUP + 1))/$WARMUP"; else rlabel="round $((r + 1))/$ROUNDS"; fi
    check_sha=0
    [[ $r -eq 0 || ($VERIFY == all && $r -ge 0) ]] && check_sha=1
    for s in "${STREAMS[@]}"; do
        say "$rlabel, $s: ${order[*]}"
        for name in "${order[@]}"; do
            build_cmd "$name" "$s"
            tf=$WORK/$name.time ef=$WORK/$name.err
            rm -rf "$RUN_DIR" "$tf" "$ef"
            mkdir -p "$RUN_DIR"
            sync
            busy0=$(busy_ticks) ngx0=$(nginx_ticks)
            t0=$EPOCHREALTIME
            set +e
            timeout "$TMO" /usr/bin/time -o "$tf" -f '%e %U %S %M' "${CMD[@]}" >"$ef" 2>&1
            rc=$?
            set -e
            t1=$EPOCHREALTIME
            busy1=$(busy_ticks) ngx1=$(nginx_ticks)
            wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b - a}')
            read -r _e user sys rss < <(tail -n 1 "$tf" 2>/dev/null || echo "0 0 0 0") || true
            [[ $user =~ ^[0-9.]+$ ]] || { user=0 sys=0 rss=0; }
            # CPU seconds of the server, and of everything else on the machine
            ngx_s=$(awk -v a="$ngx0" -v b="$ngx1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b - a) / hz}')
            other_s=$(awk -v a="$busy0" -v b="$busy1" -v hz="$HZ" -v n="$ngx_s" -v u="$user" -v s="$sys" \
                'BEGIN{o = (b - a) / hz - n - u - s; printf "%.2f", (o > 0 ? o : 0)}')
            # the output: the one file in RUN_DIR (haul names it itself)
            files=()
            while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$RUN_DIR" -mindepth 1 -print0)
            bytes=0 status=ok
            if [[ $rc -ne 0 ]]; then
                status="exit$rc"
                [[ $rc -eq 124 ]] && status="timeout"
            elif [[ ${#files[@]} -eq 0 ]]; then
                status="missing"
            elif [[ ${#files[@]} -gt 1 || ! -f ${files[0]} ]]; then
                status="files:${#files[@]}"
            else
                out=${files[0]}
                bytes=$(stat -c %s "$out")
                if [[ $name == ffmpeg ]]; then
                    if ! awk -v b="$bytes" -v e="$EXP_SIZE" 'BEGIN{exit !(b > 0.95 * e && b < 1.05 * e)}'; then
                        status="size:$bytes"
                    elif [[ $check_sha == 1 ]]; then
                        dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out" 2>/dev/null || true)
                        awk -v d="$dur" 'BEGIN{exit !(d > 295 && d < 305)}' || status="duration:${dur:-?}"
                    fi
                elif [[ $bytes != "$EXP_SIZE" ]]; then
                    status="size:$bytes"
                elif [[ $check_sha == 1 ]]; then
                    sha=$(sha256sum "$out" | cut -d' ' -f1)
                    [[ $sha == "$EXP_SHA" ]] || status="sha256-mismatch"
                fi
            fi
            if [[ $status != ok ]]; then
                FAILS+=("$rlabel $s $name: $status")
                printf '\nbench: *** WRONG RESULT: %s %s %s: %s ***\n' "$name" "$s" "$rlabel" "$status" >&2
                printf '  command: %s\n' "${CMD[*]}" >&2
                sed 's/^/  output: /' "$ef" | head -n 20 >&2 || true
            fi
            ((r >= 0)) && printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $((r + 1)) "$s" "$name" \
                "$wall" "$user" "$sys" "$rss" "$bytes" "$ngx_s" "$other_s" "$status" >>"$RAW"
            say "  $(printf '%-7s %-6s %7.0f MB/s  wall %7ss  cpu %6.2fs  rss %6.1f MiB  nginx %5.2fs  others %5.2fs  %s' \
                "$s" "$name" "$(awk -v b="$bytes" -v w="$wall" 'BEGIN{print (w > 0 ? b / w / 1e6 : 0)}')" "$wall" \
                "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
                "$(awk -v m="$rss" 'BEGIN{print m/1024}')" "$ngx_s" "$other_s" "$status")"
            rm -rf "$RUN_DIR"
        done
    done
done

# ---------------------------------------------------------------- report
# Per stream and contender: runs ok/all, the medians (wall, MB/s, CPU, RSS,
# nginx CPU, others' CPU) and the range and best of MB/s and CPU.
# A run is quiet when the rest of the machine used at most 0.3 CPU s + 5 % of
# the CPUs over its wall time; the medians are those of the quiet runs, or of
# all the runs when none was quiet. The range and the bests are of all runs.
stats=$(awk -F'\t' -v ncpu="$(nproc)" "$AWK_MEDIAN"'
NR == 1 { next }
{
    key = $2 "\t" $3; runs[key]++;
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    if ($11 != "ok") next;
    k = ++ok[key];
    W[key, k] = $4; T[key, k] = $8 / $4 / 1e6; C[key, k] = $5 + $6; R[key, k] = $7 / 1024;
    N[key, k] = $9; O[key, k] = $10;
    Q[key, k] = ($10 <= 0.3 + 0.05 * $4 * ncpu);
    if (Q[key, k]) quiet[key]++;
}
END {
    for (x = 1; x <= nk; x++) {
        key = order[x]; k = ok[key] + 0; q = quiet[key] + 0; lo = ""; hi = ""; cmin = ""; u = 0;
        delete A; delete B; delete D; delete E; delete F; delete G;
        for (i = 1; i <= k; i++) {
            if (T[key, i] < lo || lo == "") lo = T[key, i];
            if (T[key, i] > hi || hi == "") hi = T[key, i];
            if (C[key, i] < cmin || cmin == "") cmin = C[key, i];
            if (q > 0 && !Q[key, i]) continue;
            u++;
            A[u] = W[key, i]; B[u] = T[key, i]; D[u] = C[key, i]; E[u] = R[key, i];
            F[u] = N[key, i]; G[u] = O[key, i];
        }
        printf "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", key, k, runs[key],
            median(A, u), median(B, u), lo, hi, median(D, u), median(E, u), cmin, median(F, u), median(G, u), q, u;
    }
}' "$RAW")

# get STREAM CONTENDER FIELD: ok runs wall mbps lo hi cpu rss cpumin nginx others quiet used
get() {
    awk -F'\t' -v s="$1" -v c="$2" -v f="$3" '
        BEGIN { split("ok runs wall mbps lo hi cpu rss cpumin nginx others quiet used", n, " "); for (i in n) col[n[i]] = i + 2 }
        $1 == s && $2 == c { print $(col[f]) }' <<<"$stats"
}
fmt() { # fmt FORMAT VALUE -> formatted, or "-" when empty
    if [[ -z $2 ]]; then printf -- '-'; else awk -v f="$1" -v v="$2" 'BEGIN{printf f, v}'; fi
}
div() { # div A B -> A/B, or empty
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) print a / b }'; fi
}
verdict() { # verdict VALUE OP LIMIT
    [[ -z $1 ]] && { echo "n/a (no successful runs)"; return; }
    if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{exit !((op == ">=") ? v >= l : v <= l)}'; then
        echo "MET"
    else
        echo "**NOT MET**"
    fi
}

host_cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
ver_haul=$("$HAUL" --version 2>/dev/null | head -n 1 || true)
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/{print $2}' "$(dirname "$HAUL")/CMakeCache.txt" 2>/dev/null || true)
ver_ytdlp=$(yt-dlp --version 2>/dev/null | head -n 1)
ver_ff=$(ffmpeg -version | head -n 1 | awk '{print $1, $3}')
ver_nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
crypto=$(/usr/bin/python3 -c 'import Cryptodome; print("pycryptodomex", Cryptodome.__version__)' 2>/dev/null ||
    echo "no pycryptodomex: pure-Python AES")
fs=$(df -PT "$OUT_DIR" | awk 'NR==2{print $2 " on " $1}')

DATE=$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
REPORT=$RESULTS/hls-$DATE.md

{
    echo "# haul HLS benchmark — $(date '+%Y-%m-%d %H:%M:%S %Z')"
    echo
    echo "- machine: $(nproc) CPUs, ${host_cpu:-unknown CPU}, kernel $(uname -r), $(awk '/^MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "- streams: \`tests/media/make_hls.sh --bench\`, $NFRAG fragments of 1 s (~1.6 MB, 720p ~12 Mbit/s MPEG-TS), $EXP_SIZE bytes joined; served by $ver_nginx on 127.0.0.1:$PORT (sendfile on, access_log off, fragments hot in the page cache)"
    echo "- downloads to $WORK ($fs); before every run (untimed): the previous output removed, \`sync\`; no cache drop"
    echo "- rounds: $ROUNDS timed after $WARMUP untimed warm-up; contenders rotated each round; sha256 checked in $([[ $VERIFY == all ]] && echo "every round" || echo "the first round") (haul, yt-dlp: the joined fragments, sha256 $EXP_SHA; ffmpeg remuxes: size within 5 %, ffprobe duration ~300 s), sizes in every round"
    echo "- other load: the CPUs were ${BUSY_PCT}% busy in the 2 s before the first run$( ((BUSY_PCT < 25)) || echo " — **the machine was shared: noisy results**"); see the others' CPU column"
    [[ $page_reporting == yes ]] && echo "- **noise warning**: this VM has virtio-balloon free page reporting (freed memory returns to the host and must be faulted back in by whoever writes next); read the min–max column"
    echo "- tools: ${ver_haul:-haul (no --version)} at ${HAUL#"$REPO"/} (${build_type:-unknown build type}); yt-dlp $ver_ytdlp (hlsnative, $crypto); $ver_ff"
    echo "- values are **medians over the quiet runs** (all runs when none was quiet): a run is quiet when the rest of the machine used at most 0.3 CPU s + 5 % of the CPUs during it; min–max and the best-of columns cover all runs"
    echo "- MB/s = output bytes / wall, 1e6 bytes/s; CPU = user+sys of the process tree (GNU time; nginx not included); ratios = haul/other of the medians, against yt-dlp at the same -N and against ffmpeg with haul's default (-N 4)"
    echo "- nginx CPU = its worker's CPU during the run; others' CPU = what every other process on the machine used meanwhile (/proc/stat busy time less the contender and nginx): above a few tenths of a second, that run shared the CPUs with something else"
    for s in "${STREAMS[@]}"; do
        echo
        echo "## ${SLABEL[$s]}"
        echo
        echo "| tool | wall s | MB/s | MB/s min–max | CPU s | peak RSS MiB | vs | throughput haul/other | CPU haul/other | nginx CPU s | others' CPU s | runs ok (quiet) |"
        echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
        for name in "${NAMES[@]}"; do
            k=$(get "$s" "$name" ok) runs=$(get "$s" "$name" runs)
            if [[ ${k:-0} -eq 0 ]]; then
                echo "| ${LABEL[$name]} | **FAILED (0/${runs:-$ROUNDS} runs ok)** | | | | | | | | | | |"
                continue
            fi
            okcol="$k/$runs"
            [[ $k -ne $runs ]] && okcol="**$k/$runs FAILED**"
            q=$(get "$s" "$name" quiet)
            if [[ $q -gt 0 ]]; then okcol+=" ($q quiet)"; else okcol+=" (**none quiet**)"; fi
            vs="—" tr="" cr=""
            if [[ -n ${VS[$name]:-} ]]; then
                h=${VS[$name]}
                vs=${LABEL[$h]}
                tr=$(div "$(get "$s" "$h" mbps)" "$(get "$s" "$name" mbps)")
                cr=$(div "$(get "$s" "$h" cpu)" "$(get "$s" "$name" cpu)")
            fi
            echo "| ${LABEL[$name]} | $(fmt '%.2f' "$(get "$s" "$name" wall)") | $(fmt '%.0f' "$(get "$s" "$name" mbps)") |" \
                 "$(fmt '%.0f' "$(get "$s" "$name" lo)")–$(fmt '%.0f' "$(get "$s" "$name" hi)") |" \
                 "$(fmt '%.2f' "$(get "$s" "$name" cpu)") | $(fmt '%.1f' "$(get "$s" "$name" rss)") | $vs |" \
                 "$(fmt '%.2fx' "$tr") | $(fmt '%.2fx' "$cr") |" \
                 "$(fmt '%.2f' "$(get "$s" "$name" nginx)") | $(fmt '%.2f' "$(get "$s" "$name" others)") | $okcol |"
        done
    done
    echo
    echo "## Targets"
    echo
    echo "| target | stream | haul | other | measured (medians) | verdict | best of $ROUNDS each |"
    echo "|---|---|---:|---:|---:|---|---:|"
    for s in "${STREAMS[@]}"; do
        for p in 1 8; do
            hv=$(get "$s" "haul$p" mbps) ov=$(get "$s" "ytdlp$p" mbps)
            v=$(div "$hv" "$ov") b=$(div "$(get "$s" "haul$p" hi)" "$(get "$s" "ytdlp$p" hi)")
            echo "| throughput ≥ 4x yt-dlp, -N $p | $s | $(fmt '%.0f MB/s' "$hv") | $(fmt '%.0f MB/s' "$ov") | $(fmt '%.2fx' "$v") | $(verdict "$v" '>=' 4) | $(fmt '%.2fx' "$b") |"
        done
        hv=$(get "$s" haul4 mbps) ov=$(get "$s" ffmpeg mbps)
        v=$(div "$hv" "$ov") b=$(div "$(get "$s" haul4 hi)" "$(get "$s" ffmpeg hi)")
        echo "| throughput ≥ ffmpeg (haul default -N 4) | $s | $(fmt '%.0f MB/s' "$hv") | $(fmt '%.0f MB/s' "$ov") | $(fmt '%.2fx' "$v") | $(verdict "$v" '>=' 1) | $(fmt '%.2fx' "$b") |"
        for p in 1 8; do
            hv=$(get "$s" "haul$p" cpu) ov=$(get "$s" "ytdlp$p" cpu)
            v=$(div "$hv" "$ov") b=$(div "$(get "$s" "haul$p" cpumin)" "$(get "$s" "ytdlp$p" cpumin)")
            echo "| CPU ≤ 0.25x yt-dlp, -N $p | $s | $(fmt '%.2f s' "$hv") | $(fmt '%.2f s' "$ov") | $(fmt '%.2fx' "$v") | $(verdict "$v" '<=' 0.25) | $(fmt '%.2fx' "$b") |"
        done
    done
    echo
    echo "Verdicts use the medians; the last column is the same ratio of each side's best run (highest MB/s, lowest CPU) among all runs: noise only ever slows a run down."
    if [[ ${#FAILS[@]} -gt 0 ]]; then
        echo
        echo "**FAILURES — wrong or missing output:**"
        for f in "${FAILS[@]}"; do echo "- $f"; done
    fi
    echo
    echo "<details><summary>Per-run data</summary>"
    echo
    echo '```'
    awk -F'\t' -v ncpu="$(nproc)" 'BEGIN { OFS = "\t" }
        NR == 1 { print $0, "quiet"; next }
        { print $0, ($10 <= 0.3 + 0.05 * $4 * ncpu) ? "yes" : "no" }' "$RAW" >"$RAW.q"
    column -t -s $'\t' "$RAW.q" 2>/dev/null || cat "$RAW.q"
    echo '```'
    echo
    echo "Commands (DIR = a fresh folder per run; URL = $BASE/bench_plain/index.m3u8 or $BASE/bench_aes/index.m3u8):"
    echo
    for name in "${NAMES[@]}"; do
        build_cmd "$name" plain
        c="${CMD[*]}"
        c=${c//"$BASE/bench_plain/index.m3u8"/URL}
        c=${c//"$RUN_DIR"/DIR}
        c=${c//"$REPO/"/}
        # shellcheck disable=SC2016 # the backticks are markdown
        printf -- '- %s: `%s`\n' "${LABEL[$name]}" "$c"
    done
    echo
    echo "</details>"
} >"$REPORT"

finish_report "$REPORT"
