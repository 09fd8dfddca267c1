#!/usr/bin/env bash
# What a person sees: on a terminal one progress line redrawn in place
# (percent, bar, bytes, speed, ETA), then a summary; in a pipe, no terminal
# control codes at all. The terminal is a pseudo-terminal from script(1).
. "$(dirname "$0")/lib.sh"
start_origin

url="$ORIGIN/data/p.bin?size=2000000&rate=1000000"
script -qfec "'$HAUL' get '$url' -d '$T/tty'" "$T/typescript" >/dev/null </dev/null \
    || fail "haul get on a terminal failed: $(cat "$T/typescript")"
tr '\r' '\n' <"$T/typescript" | sed 's/\x1b\[K//g' >"$T/lines"
grep -Eq '^ *[0-9]+% \[#*-*\] .* / 1\.91 MiB .*/s  ETA [0-9-]+:[0-9-]+' "$T/lines" \
    || fail "no progress line: $(cat -v "$T/typescript")"
grep -q $'\033\[K' "$T/typescript" || fail "the progress line is not redrawn in place"
grep -q "haul: saved 1.91 MiB in" "$T/lines" || fail "no summary: $(cat -v "$T/typescript")"
grep -q "^$T/tty/p.bin" "$T/lines" || fail "the path was not printed"
ok "a terminal gets a live progress line and a summary"

# a narrow terminal: the line shrinks instead of wrapping
script -qfec "stty cols 50; '$HAUL' get '$url&seed=2' -d '$T/narrow'" "$T/ts2" >/dev/null </dev/null \
    || fail "haul get on a narrow terminal failed"
tr '\r' '\n' <"$T/ts2" | sed 's/\x1b\[K//g' | grep '%' >"$T/narrow.lines" || true
[ -s "$T/narrow.lines" ] || fail "no progress on a narrow terminal: $(cat -v "$T/ts2")"
long=$(awk 'length($0) > 50' "$T/narrow.lines" | head -1)
[ -z "$long" ] || fail "a progress line wider than the 50-column terminal: $long"
ok "on a 50-column terminal the progress line fits"

"$HAUL" get "$url&seed=1" -d "$T/pipe" >"$T/out" 2>"$T/err" || fail "piped get failed"
if grep -q $'\033\|\r' "$T/err" "$T/out"; then
    fail "control codes in piped output: $(cat -v "$T/err")"
fi
assert_eq "stdout is the path" "$(cat "$T/out")" "$T/pipe/p.bin"
ok "a pipe gets plain lines and the path on stdout"
