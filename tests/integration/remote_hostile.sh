# A hostile or broken remote cache (issue 16): whatever a server answers, a run gets
# right outputs (a miss runs the task), writes nothing outside its store, and ends.
# The servers and helpers are remote.sh's; its tests are not run twice from here.
source "$(dirname "${BASH_SOURCE[0]}")/remote.sh"
unset -f $(declare -F | awk '{print $3}' | grep '^test_')

# forge_record KEY MANIFEST: puts on the nginx remote a well-formed record for KEY
# whose manifest is MANIFEST (its digest is right: only the paths are hostile).
forge_record() {
    local digest; digest=$(printf '%s' "$2" | sha256sum | cut -c1-64)
    python3 -c 'import json, sys; print(json.dumps({"sluice_ac": 1, "task": "use", "digest": sys.argv[1], "size": 2, "created": 0, "expires": 0, "manifest": sys.argv[2]}))' \
        "$digest" "$2" >"$T/srv/root/team/ac/$1"
}
use_key() { sqlite3 a/.sluice/sluice.db "select key from entries where task='use' and kind='deep'"; }

# Each symlink on its own stays inside the output when read lexically ("d/up/.." is
# "d"), but d/up is itself a link to "..": followed, e -> the output's parent, e2 ->
# the store, e3 -> the clone. A file under e3 would be written outside the store.
test_remote_manifest_escaping_through_a_chain_of_symlinks_is_a_miss() {
    filled_remote
    local x; x=$(printf 'x\n' | sha256sum | cut -c1-64)
    printf 'x\n' >"$T/srv/root/team/cas/$x"
    forge_record "$(use_key)" "sluice-manifest 1
d d
l .. d/up
l d/up/.. e
l d/up/e/.. e2
l d/up/e2/.. e3
f $x 2 e3/pwned
f $x 2 e2/pwned
f $x 2 e/pwned
"
    git clone -q a b
    (cd b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "ran 1" && assert_out "its manifest names paths outside the output") || exit 1
    local found; found=$(find "$T" -name pwned -not -path "$T/srv/*")
    [ -z "$found" ] || fail "a remote manifest wrote outside the output: $found"
    grep -q '^1$' "$(view_of b/.sluice use)/r" || fail "use's output is not its own"
}

# hostile_server MODE: a Python server on 127.0.0.1 (REMOTE set, stopped at exit) that
# answers every GET /ac/KEY with a well-formed record of a one-file output ("rows",
# 2 bytes: "x\n") and then, by MODE:
#   drip  every answer promises 100000 bytes and sends one every 0.3 s (never idle
#         for a second, never done);
#   huge  /cas/ sends 200 MB where the manifest says 2; what it managed to send is
#         written to $T/sent.
hostile_server() {
    local port; port=$(free_port)
    cat >"$T/hostile.py" <<'PY'
import hashlib, http.server, json, sys, time
mode, sent_file = sys.argv[2], sys.argv[3]
obj = b"x\n"
od = hashlib.sha256(obj).hexdigest()
manifest = "sluice-manifest 1\nf %s %d rows\n" % (od, len(obj))
record = json.dumps({"sluice_ac": 1, "task": "t", "digest": hashlib.sha256(manifest.encode()).hexdigest(),
                     "size": 2, "created": 0, "expires": 0, "manifest": manifest}).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if mode == "drip":
            self.send_response(200); self.send_header("Content-Length", "100000"); self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b"{"); self.wfile.flush(); time.sleep(0.3)
            except OSError:
                pass
            self.close_connection = True
            return
        if "/ac/" in self.path:
            self.send_response(200); self.send_header("Content-Length", str(len(record))); self.end_headers()
            self.wfile.write(record)
            return
        total = 200 << 20
        self.send_response(200); self.send_header("Content-Length", str(total)); self.end_headers()
        sent, chunk = 0, b"y" * 65536
        try:
            while sent < total:
                self.wfile.write(chunk); sent += len(chunk)
        except OSError:
            pass
        with open(sent_file, "a") as f:
            f.write("%d\n" % sent)
        self.close_connection = True
    def do_HEAD(self):
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    python3 "$T/hostile.py" "$port" "$1" "$T/sent" &
    PY_PID=$!
    trap 'kill ${PY_PID:-} 2>/dev/null; true' EXIT
    for _ in $(seq 50); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    export REMOTE="http://127.0.0.1:$port/team"
}

# A byte every 0.3 s is "progress" for a limit of 1 byte a second: the lookup never
# ended (a 100000-byte record: 8 hours). Now a record must come within the timeout.
test_remote_server_dripping_bytes_cannot_hold_a_run() {
    hostile_server drip
    path_writing_flow
    local start=$SECONDS
    OUT_TEXT=$(SLUICE_REMOTE=$REMOTE SLUICE_REMOTE_TIMEOUT=1 timeout 60 "$SLUICE" run 2>&1)
    RC=$?
    assert_rc 0
    [ $((SECONDS - start)) -lt 30 ] || fail "the run took $((SECONDS - start)) s"
    assert_out "ran 2"
    assert_out "unusable"
}

# The manifest says 2 bytes; a server sending 200 MB was written to disk to the end
# before the hash said no. Now a download stops at the size the manifest names.
test_remote_object_longer_than_its_manifest_says_is_cut_off_and_a_miss() {
    hostile_server huge
    path_writing_flow
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "longer than its 2 bytes"
    assert_out "ran 2"
    [ -s "$T/sent" ] || fail "the server sent no object"
    local most; most=$(sort -n "$T/sent" | tail -1)
    [ "$most" -lt $((50 << 20)) ] || fail "the client took $most bytes of an object of 2"
    sl verify
    assert_rc 0
}

# The URL is shown without its credentials, even when the password holds '@'
# (URL-encoded or not), and they are never written to the store.
test_remote_credentials_with_an_at_sign_are_never_shown_or_stored() {
    path_writing_flow
    local port; port=$(free_port) # nothing listens there
    SLUICE_REMOTE="http://user:p@ssSECRET@127.0.0.1:$port/team" sl run
    assert_rc 0
    assert_out "unusable"
    assert_not_out "SECRET"
    sl run --force --remote "http://user:p@ssSECRET@127.0.0.1:$port/team"
    assert_rc 0
    assert_not_out "SECRET"
    sl history --json
    assert_not_out "SECRET"
    ! grep -rq SECRET .sluice || fail "the password was written into the store"
}

# Ctrl-C or SIGTERM during a request to a server that answers nothing ended the run
# only when the request timed out (here 30 s, three times over).
test_remote_sigterm_stops_a_request_to_a_silent_server_at_once() {
    py_server sleep
    path_writing_flow
    SLUICE_REMOTE=$REMOTE SLUICE_REMOTE_TIMEOUT=30 "$SLUICE" run >"$T/run.out" 2>&1 &
    local pid=$!
    sleep 1.5
    kill -TERM $pid
    local waited=0
    while kill -0 $pid 2>/dev/null && [ $waited -lt 80 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid
        fail "sluice still waited for the remote 8 s after SIGTERM"
    fi
    wait $pid
    RC=$? OUT_TEXT=$(cat "$T/run.out")
    assert_rc 130
    assert_not_out "unusable"
}

# A record's "size" is the server's word; the manifest is what was checked. A hostile
# -5e300 was shown by status as 8388608 TB and stored (and the cast was undefined).
test_remote_record_size_is_the_manifests_not_the_servers_word() {
    filled_remote
    local k f; k=$(use_key); f="$T/srv/root/team/ac/$k"
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); r["size"] = -5e300; json.dump(r, open(sys.argv[1], "w"))' "$f"
    local real; real=$(sqlite3 a/.sluice/sluice.db "select size from entries where key='$k'")
    git clone -q a b
    cd b
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_eq "$(sql "select size from entries where key='$k'")" "$real" "size recorded from the remote"
    sl status
    assert_not_out "TB"
}

# A remote of an unsupported scheme is refused without printing its credentials.
test_remote_of_another_scheme_is_refused_without_its_password() {
    path_writing_flow
    SLUICE_REMOTE=ftp://user:hunter2@127.0.0.1/x sl run
    assert_rc 2
    assert_out "remote ftp://127.0.0.1/x: only http://, https:// and s3://"
    assert_not_out "hunter2"
}
