#!/usr/bin/env bash
# haul serve and its store: one daemon per store (a second one is refused
# and says why), the schema version is written, a store from a newer haul
# is refused untouched, and another process may read the store while the
# daemon runs (backups).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
start_daemon
id=$(create_job "{\"url\": \"$ORIGIN/data/s.bin?size=100000\"}")
wait_state "$id" done

try "$HAUL" serve --listen 127.0.0.1:0 --dir "$D_DIR" --state-dir "$D_STATE" 2>"$T/second.err"
[ "$RC" = 5 ] || fail "a second daemon on the same store exited $RC, not 5: $(cat "$T/second.err")"
assert_contains "second daemon" "$T/second.err" "another haul daemon is using"
ok "a second daemon on the same store is refused, saying why"

# the store is readable from outside while the daemon runs
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from jobs").fetchone()[0])' "$D_STATE/haul.db")
assert_eq "jobs read by another process" "$n" 1
ok "another process reads the store while the daemon runs"
stop_daemon

v=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma user_version").fetchone()[0])' "$D_STATE/haul.db")
assert_eq "schema version" "$v" 1
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("pragma user_version=99"); c.commit()' "$D_STATE/haul.db"
before=$(sha256sum "$D_STATE/haul.db" | cut -d' ' -f1)
try "$HAUL" serve --listen 127.0.0.1:0 --dir "$D_DIR" --state-dir "$D_STATE" 2>"$T/newer.err"
[ "$RC" != 0 ] || fail "a store from a newer haul was accepted"
assert_contains "newer store" "$T/newer.err" "newer haul"
assert_eq "newer store untouched" "$(sha256sum "$D_STATE/haul.db" | cut -d' ' -f1)" "$before"
ok "a store written by a newer haul is refused and left untouched"
