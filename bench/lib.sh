# bench/lib.sh — what the benchmark scripts share; sourced by direct.sh and
# hls.sh (bash, set -euo pipefail, REPO set):
#   say / die                 messages (die exits 2: a setup error)
#   find_nginx                NGINX, and GNU time checked
#   detect_page_reporting     page_reporting=yes|no (see direct.sh's noise note)
#   start_nginx_on_free_port ROOT PROBE [HTTP-LINES]
#                             a private nginx (prefix $NGX) serving ROOT on
#                             the first free port from PORT0 where PROBE (a
#                             path) answers; sets PORT and NGINX_PID
#   stop_nginx                stops it (for the cleanup trap)
#   AWK_MEDIAN                an awk median(arr, k) function to prepend
#   finish_report REPORT      prints the report, says where it is, and exits
#                             1 when FAILS (an array) is not empty

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

find_nginx() {
    NGINX=$(command -v nginx || true)
    [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
    [[ -n $NGINX ]] || die "nginx not found (apt-get install nginx-light)"
    [[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"
}

detect_page_reporting() {
    page_reporting=no
    local d f
    for d in /sys/bus/virtio/devices/*; do
        [[ -r $d/device && $(cat "$d/device") == 0x0005 ]] || continue
        f=$(cat "$d/features" 2>/dev/null || true)
        [[ ${f:5:1} == 1 ]] && page_reporting=yes # VIRTIO_BALLOON_F_REPORTING
    done
    return 0
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_nginx PORT ROOT PROBE HTTP-LINES: 0 once PROBE answers on PORT
start_nginx() {
    local port=$1 root=$2 probe=$3 extra=$4 m temp_paths user_line=""
    local nginx_v
    nginx_v=$("$NGINX" -V 2>&1)
    temp_paths="client_body_temp_path $NGX/tmp/body;"
    for m in proxy fastcgi uwsgi scgi; do
        [[ $nginx_v == *"--without-http_${m}_module"* ]] || temp_paths+=" ${m}_temp_path $NGX/tmp/$m;"
    done
    [[ $(id -u) -eq 0 ]] && user_line="user root;" # workers must read ROOT
    mkdir -p "$NGX"/{logs,tmp}
    cat >"$NGX/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 5;
    $extra
    $temp_paths
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { }
    }
}
CONF
    "$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" \
        >"$NGX/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    local i
    for i in $(seq 50); do
        kill -0 "$NGINX_PID" 2>/dev/null || { wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; return 1; }
        if curl -sf -r 0-0 -o /dev/null "http://127.0.0.1:$port/$probe" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    stop_nginx
    return 1
}

start_nginx_on_free_port() {
    local p
    PORT=""
    for p in $(seq "$PORT0" $((PORT0 + 50))); do
        port_free "$p" || continue
        if start_nginx "$p" "$1" "$2" "${3:-}"; then PORT=$p; return 0; fi
        say "nginx did not come up on port $p, trying the next one"
    done
    cat "$NGX/logs/error.log" "$NGX/logs/stdout.log" >&2 2>/dev/null || true
    die "could not start nginx on ports $PORT0..$((PORT0 + 50))"
}

NGINX_PID=""
stop_nginx() {
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -TERM "$NGINX_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    NGINX_PID=""
    return 0
}

# shellcheck disable=SC2034 # used by the scripts that source this
AWK_MEDIAN='
function median(arr, k,   i, j, t, tmp) {
    if (k == 0) return "";
    for (i = 1; i <= k; i++) tmp[i] = arr[i];
    for (i = 2; i <= k; i++) { t = tmp[i]; for (j = i - 1; j >= 1 && tmp[j] > t; j--) tmp[j + 1] = tmp[j]; tmp[j + 1] = t; }
    return (k % 2) ? tmp[(k + 1) / 2] : (tmp[k / 2] + tmp[k / 2 + 1]) / 2;
}'

finish_report() {
    echo
    cat "$1"
    echo
    say "report written to ${1#"$REPO"/}"
    if [[ ${#FAILS[@]} -gt 0 ]]; then
        printf '\nbench: *** %d run(s) produced a wrong result — see above ***\n' "${#FAILS[@]}" >&2
        exit 1
    fi
}
