#!/usr/bin/env bash
# haul serve: a crash after the finished file was moved into place but
# before "done" was committed. The restart must find the file (finished.json
# names it; same inode) and record the job done: no new download, no
# "name (1).ext" copy, no temp data left.
#
# The crash is simulated exactly: a clean run, then the store and the temp
# folder are put back into the state that moment leaves behind (job
# "running", the work folder with meta.json and finished.json, no part).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
start_origin
start_daemon

size=300000
url="$ORIGIN/data/fin.bin?size=$size"
id=$(create_job "{\"url\": \"$url\"}")
wait_state "$id" done
assert_eq "content" "$(file_sha "$D_DIR/fin.bin")" "$(expected_sha $size)"
[ ! -e "$D_DIR/.haul-tmp/$id" ] || fail "the work folder of a done job is still there"
stop_daemon

wd="$D_DIR/.haul-tmp/$id"

# crash_after_rename INODE_SHIFT: the store and the temp folder as a crash
# right after the rename leaves them (job running, meta.json, finished.json
# naming fin.bin; INODE_SHIFT != 0 makes the record name another inode)
crash_after_rename() {
    mkdir -p "$wd"
    python3 - "$D_STATE/haul.db" "$id" "$url" "$D_DIR/fin.bin" "$wd" "$1" <<'PY'
import json, os, sqlite3, sys
db, jid, url, path, wd, shift = sys.argv[1:]
c = sqlite3.connect(db)
c.execute("update jobs set state='running', finished_at=0, filename='' where id=?", (jid,))
c.commit()
st = os.stat(path)
json.dump({"url": url, "total": st.st_size, "name": "fin.bin"}, open(wd + "/meta.json", "w"))
json.dump({"path": path, "dev": st.st_dev, "ino": st.st_ino + int(shift), "size": st.st_size},
          open(wd + "/finished.json", "w"))
PY
}
crash_after_rename 0
requests=$(log_count "/data/fin.bin")

start_daemon
wait_state "$id" done
assert_eq "origin requests after the restart" "$(log_count "/data/fin.bin")" "$requests"
[ ! -e "$D_DIR/fin (1).bin" ] || fail "the file was downloaded again as 'fin (1).bin'"
assert_eq "content" "$(file_sha "$D_DIR/fin.bin")" "$(expected_sha $size)"
assert_eq "filename" "$(job_field "$id" .filename)" "fin.bin"
[ ! -e "$wd" ] || fail "the work folder is still there: $(ls -la "$wd")"
api GET "/api/jobs/$id/events"
grep -q "already moved into place" <<<"$BODY" || fail "no history line about it: $BODY"
ok "a file moved into place before a crash is recorded done on restart, not fetched again"

# a record that no longer matches (the file was replaced) is not trusted
stop_daemon
crash_after_rename 1
start_daemon
wait_state "$id" done
[ "$(log_count "/data/fin.bin")" -gt "$requests" ] || fail "a stale record was trusted"
assert_eq "filename" "$(job_field "$id" .filename)" "fin (1).bin"
assert_eq "content" "$(file_sha "$D_DIR/fin (1).bin")" "$(expected_sha $size)"
ok "a record whose file is not the same inode is ignored and the job downloads"
