# Stable paths are opt-in for now (SLUICE_STABLE_PATHS=1): see README.
export SLUICE_STABLE_PATHS=1

# Sharing results between machines: what a task sees does not depend on where the
# project is cloned or where its store lives.

# A flow whose tasks write the paths they are given ($IN_x, $OUT) into their outputs.
path_writing_flow() {
    git_repo
    write load.sh 'echo load >>"$RUNS"; echo "out=$OUT" >"$OUT/paths"; seq 1 2000 >"$OUT/rows" # over INLINE_MAX: an object of its own on the remote'
    write use.sh 'echo use >>"$RUNS"; { echo "in=$IN_load out=$OUT"; cat "$IN_load/rows"; } >"$OUT/r"'
    # Keys of this test's own: tests run side by side, and a key running for another
    # test's store takes the stable /tmp/sluice-exec/<key> (this one then gets store paths).
    local own; own=$(basename "$T")
    cat >flow.json <<JSON
{ "tasks": {
    "load": { "run": "sh load.sh", "code": ["load.sh"], "env": { "TEST": "$own" } },
    "use":  { "run": "sh use.sh", "after": ["load"], "code": ["use.sh"], "env": { "TEST": "$own" } }
} }
JSON
    commit_all
}

digest_of() { # STORE TASK: the task's output digest in that store
    sqlite3 "$1/sluice.db" "select digest from entries where task='$2' and kind='deep' limit 1"
}

test_output_digest_does_not_depend_on_clone_or_store_path() {
    mkdir a && (cd a && path_writing_flow)
    git clone -q a elsewhere/deeper/b
    (cd a && SLUICE_STORE="$T/store-one" "$SLUICE" run >/dev/null 2>&1) || fail "run in a failed"
    (cd elsewhere/deeper/b && SLUICE_STORE="$T/s2/store-two" "$SLUICE" run >/dev/null 2>&1) ||
        fail "run in b failed"
    for t in load use; do
        d1=$(digest_of "$T/store-one" $t) d2=$(digest_of "$T/s2/store-two" $t)
        [ -n "$d1" ] || fail "no entry for $t"
        assert_eq "$d2" "$d1" "$t's output digest differs between the clones"
    done
    view=$T/store-one/views/$(digest_of "$T/store-one" use)
    key=$(sqlite3 "$T/store-one/sluice.db" "select substr(key, 1, 32) from entries where task='use' and kind='deep'")
    assert_eq "$(head -1 "$view/r")" "in=/tmp/sluice-exec/$key/in/load out=/tmp/sluice-exec/$key/out" \
        "the paths use saw"
    [ ! -e "/tmp/sluice-exec/$key" ] || fail "use's exec directory was left behind"
}

test_a_task_that_changes_directory_still_reaches_its_out_and_inputs() {
    git_repo
    write sub/a.sh 'echo a >>"$RUNS"; echo x >"$OUT/x"'
    write sub/b.sh 'echo b >>"$RUNS"; cd / && { echo "$IN_a $OUT"; cat "$IN_a/x"; } >"$OUT/r"'
    cat >sub/prep.json <<'JSON'
{ "tasks": {
    "a": { "run": "sh a.sh", "code": ["a.sh"] },
    "b": { "run": "sh b.sh", "after": ["a"], "code": ["b.sh"] }
} }
JSON
    cat >flow.json <<'JSON'
{ "tasks": {
    "prep": { "flow": "sub/prep.json" },
    "top":  { "run": "cp $IN_prep/r $OUT/r", "after": ["prep"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    r=$(cat .sluice/views/$(sqlite3 .sluice/sluice.db "select digest from entries where task='top' limit 1")/r)
    case "$r" in
    "/tmp/sluice-exec/"*"/in/a /tmp/sluice-exec/"*"/out"$'\n'x) ;;
    *) fail "the sub-flow's task saw: $r" ;;
    esac
}

# --- a shared remote cache (bazel-remote's HTTP API) on a local nginx -------------------

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_up: nginx with WebDAV PUT on 127.0.0.1, its files under $T/srv/root, its access
# log $T/srv/access.log; sets REMOTE (with an instance prefix) and stops it at exit.
# Without nginx (outside CI) the test is skipped.
nginx_up() {
    local nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx)
    if [ ! -x "$nginx" ]; then
        [ -n "${CI:-}" ] && fail "nginx is missing (apt-get install nginx-light)"
        skip "needs nginx (apt-get install nginx-light)"
    fi
    local port; port=$(free_port)
    mkdir -p "$T/srv/root" "$T/srv/tmp"
    chmod 0777 "$T/srv/root" "$T/srv/tmp"
    cat >"$T/srv/nginx.conf" <<CONF
daemon off;
user $(id -un) $(id -gn);
worker_processes 1;
pid $T/srv/nginx.pid;
error_log $T/srv/error.log;
events { worker_connections 64; }
http {
    access_log $T/srv/access.log;
    client_body_temp_path $T/srv/tmp;
    proxy_temp_path $T/srv/tmp; fastcgi_temp_path $T/srv/tmp;
    uwsgi_temp_path $T/srv/tmp; scgi_temp_path $T/srv/tmp;
    server {
        listen 127.0.0.1:$port;
        root $T/srv/root;
        client_max_body_size 0;
        location / { dav_methods PUT; create_full_put_path on; dav_access user:rw all:r; }
    }
}
CONF
    "$nginx" -c "$T/srv/nginx.conf" -p "$T/srv" 2>>"$T/srv/error.log" &
    NGINX_PID=$!
    trap 'kill ${NGINX_PID:-} ${PY_PID:-} 2>/dev/null; true' EXIT
    for _ in $(seq 50); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    export REMOTE="http://127.0.0.1:$port/team"
}

# py_server MODE: a tiny HTTP server that misbehaves on every request: "sleep" (answers
# nothing for a minute), "500", "truncate" (promises 1000 bytes, sends 10, closes).
py_server() {
    local port; port=$(free_port)
    cat >"$T/server.py" <<'PY'
import http.server, sys, time
mode = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        if mode == "sleep":
            time.sleep(60)
        elif mode == "500":
            self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
        else:
            self.send_response(200); self.send_header("Content-Length", "1000"); self.end_headers()
            self.wfile.write(b"0123456789"); self.wfile.flush()
            self.close_connection = True
    do_GET = do_HEAD = do_PUT = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    python3 "$T/server.py" "$port" "$1" &
    PY_PID=$!
    trap 'kill ${NGINX_PID:-} ${PY_PID:-} 2>/dev/null; true' EXIT
    for _ in $(seq 50); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    export REMOTE="http://127.0.0.1:$port/team"
}

requests() { [ -f "$T/srv/access.log" ] && wc -l <"$T/srv/access.log" | tr -d ' ' || echo 0; }

view_of() { # STORE TASK: the path of the task's output view in that store
    echo "$1/views/$(digest_of "$1" "$2")"
}

# A clone `a` whose flow ran once with the remote (filling it), and REMOTE set.
filled_remote() {
    nginx_up
    mkdir a && (cd a && path_writing_flow)
    (cd a && SLUICE_REMOTE=$REMOTE "$SLUICE" run >"$T/a.out" 2>&1) || fail "run in a failed: $(cat "$T/a.out")"
    reset_runs
}

test_remote_second_clone_at_another_path_runs_nothing_and_gets_identical_outputs() {
    filled_remote
    grep -q "entries uploaded" "$T/a.out" || fail "no uploads: $(cat "$T/a.out")"
    [ -n "$(ls "$T/srv/root/team/cas")" ] && [ -n "$(ls "$T/srv/root/team/ac")" ] ||
        fail "the remote holds nothing"
    git clone -q a elsewhere/deeper/b
    cd elsewhere/deeper/b
    SLUICE_REMOTE=$REMOTE sl run --dry-run # "cached" would say the bytes were here
    assert_rc 0
    assert_out "remote    use  (on the remote cache: a run downloads it)"
    assert_out "0 to run, 0 cached, 1 on the remote"
    [ ! -d .sluice/views ] || [ -z "$(ls .sluice/views)" ] || fail "a dry run downloaded"
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 0, hit 1"
    assert_eq "$(total_runs)" 0 "tasks executed in the second clone"
    diff -r "$(view_of "$T/a/.sluice" use)" "$(view_of .sluice use)" || fail "outputs differ"
    assert_out "hit       use  (from the remote cache)"
    sl run --dry-run
    assert_out "0 to run, 1 cached"
    sl status
    assert_out "cached   use   8.8 KB (remote)"
    sl show last
    assert_out "reason   from the remote cache"
    sl history
    assert_out "(1 cached (remote))"
    before=$(requests)
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_eq "$(requests)" "$before" "requests made by a local no-op"
    assert_not_out "remote:"
}

# gen_count_flow [GEN_FIELDS]: in a new repository a, gen writes rows and count counts
# them; GEN_FIELDS (JSON, e.g. '"expire": "1h",') go into gen.
gen_count_flow() {
    nginx_up
    mkdir a && cd a && git_repo
    write gen.sh 'echo gen >>"$RUNS"; seq 1 3 >"$OUT/rows"'
    write count.sh 'echo count >>"$RUNS"; wc -l <"$IN_gen/rows" >"$OUT/n"'
    cat >flow.json <<JSON
{ "tasks": {
    "gen":   { "run": "sh gen.sh", "code": ["gen.sh"], ${1:-}
               "env": { "TEST": "$(basename "$T")" } },
    "count": { "run": "sh count.sh", "after": ["gen"], "code": ["count.sh"] }
} }
JSON
    commit_all
}

test_remote_a_cut_off_task_is_shared_under_its_new_deep_key() {
    gen_count_flow
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "2 entries uploaded" # one per task: no shallow record is asked for here
    write gen.sh 'echo gen >>"$RUNS"; seq 1 3 >"$OUT/rows" # the same bytes'
    commit_all
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "cut off 1"
    assert_out "2 entries uploaded" # gen's new key, and count's under its new key
    reset_runs
    cd "$T"
    git clone -q a b
    cd b # the edited code: count's new deep key is on the remote
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 0, hit 1"
    assert_eq "$(total_runs)" 0 "tasks executed in the second clone"
    diff -r "$(view_of "$T/a/.sluice" count)" "$(view_of .sluice count)" || fail "outputs differ"
}

test_remote_a_task_below_an_expiring_one_is_a_hit_in_a_fresh_clone() {
    gen_count_flow '"expire": "1h",'
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "3 entries uploaded" # count's shallow key too: the plan checks gen's output by it
    reset_runs
    cd "$T"
    git clone -q a b
    cd b
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 0, hit 1"
    assert_eq "$(total_runs)" 0 "tasks executed in the second clone"
}

# slow_proxy [SECONDS]: a proxy in front of nginx ($REMOTE) that holds each request 0.2 s
# (or SECONDS) and writes the most requests it held at once to $T/most; sets REMOTE to
# itself.
slow_proxy() {
    local port; port=$(free_port)
    cat >"$T/proxy.py" <<'PY'
import http.server, sys, threading, time, urllib.request, urllib.error
upstream, most_file, delay = sys.argv[2], sys.argv[3], float(sys.argv[4])
lock, now, most = threading.Lock(), [0], [0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        with lock:
            now[0] += 1; most[0] = max(most[0], now[0])
            open(most_file, "w").write(str(most[0]))
        time.sleep(delay)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        req = urllib.request.Request(upstream + self.path, data=body, method=self.command)
        try:
            with urllib.request.urlopen(req) as r:
                code, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, data = e.code, e.read()
        with lock:
            now[0] -= 1
        self.send_response(code)
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    do_GET = do_HEAD = do_PUT = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    python3 "$T/proxy.py" "$port" "${REMOTE%/team}" "$T/most" "${1:-0.2}" &
    PY_PID=$!
    trap 'kill ${NGINX_PID:-} ${PY_PID:-} 2>/dev/null; true' EXIT
    for _ in $(seq 50); do (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    export REMOTE="http://127.0.0.1:$port/team"
}

test_remote_lookups_and_downloads_of_many_targets_go_at_once() {
    nginx_up
    mkdir a && cd a && git_repo
    local own; own=$(basename "$T")
    {
        echo '{ "tasks": {'
        for i in 1 2 3 4 5 6; do
            [ $i = 1 ] || echo ','
            echo "\"t$i\": { \"run\": \"echo $i-$own >\$OUT/v\" }"
        done
        echo '} }'
    } >flow.json
    commit_all
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "6 entries uploaded"
    slow_proxy
    cd "$T"
    git clone -q a b
    cd b
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 0, hit 6"
    assert_out "6 hits, 6 objects downloaded"
    [ "$(cat "$T/most")" -ge 4 ] || fail "at most $(cat "$T/most") requests at once"
    assert_eq "$(cat "$(view_of .sluice t6)/v")" "6-$own" "t6's output"
}

test_tui_shows_the_tasks_being_fetched_from_the_remote() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "its waits are for native speed"
    nginx_up
    mkdir a && cd a && git_repo
    local own; own=$(basename "$T")
    # outputs over INLINE_MAX, so that downloading them takes requests of their own
    printf '{ "name": "pair", "tasks": { "x": { "run": "seq 2000 >$OUT/v; echo %s >>$OUT/v" }, %s } }\n' \
        "$own" '"y": { "run": "seq 3000 >$OUT/v" }' >flow.json
    commit_all
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    slow_proxy 1
    cd "$T"
    git clone -q a b
    cd b
    tui <<KEYS
sh SLUICE_REMOTE=$REMOTE "$SLUICE" run >run.out 2>&1 &
wait-text 2 fetching 8000
dump fetching
wait-text 2 cached 8000
dump done
keys q
KEYS
    screen fetching
    assert_out "pair │ 2 fetching │ ● run 1 going"
    assert_line '↓ x '
    screen done
    assert_out "2 cached │"
    assert_line '^run 1 ok in .*: 2 hit'
    sl log x
    assert_rc 0
}

# A flow of one task with a tiny output, run once with the remote in clone a.
tiny_on_remote() {
    nginx_up
    mkdir a && cd a && git_repo
    printf '{ "tasks": { "t": { "run": "echo small-%s >$OUT/v; echo t >>$RUNS" } } }\n' \
        "$(basename "$T")" >flow.json
    commit_all
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    reset_runs
    cd "$T"
    git clone -q a b
    cd b
}

test_remote_a_small_output_travels_inside_its_record() {
    tiny_on_remote
    assert_eq "$(grep -c ' "PUT /team/cas/' "$T/srv/access.log")" 0 "objects PUT on their own"
    assert_eq "$(ls "$T/srv/root/team/ac" | wc -l)" 1 "records on the remote"
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 0, hit 1"
    assert_out "1 hit, 1 object downloaded"
    assert_eq "$(grep -c ' "GET /team/cas/' "$T/srv/access.log")" 0 "objects downloaded on their own"
    assert_eq "$(cat "$(view_of .sluice t)/v")" "small-$(basename "$T")" "t's output"
    sl verify
    assert_rc 0
}

test_remote_a_record_carrying_other_bytes_than_it_names_is_a_miss() {
    tiny_on_remote
    local rec; rec=$(ls "$T"/srv/root/team/ac/*)
    chmod u+w "$rec"
    python3 - "$rec" <<'PY'
import base64, json, sys
r = json.load(open(sys.argv[1]))
for d in r["inline"]:
    r["inline"][d] = base64.b64encode(b"poisoned\n").decode()
json.dump(r, open(sys.argv[1], "w"))
PY
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "is unusable (an object it carries is not one its manifest names): a miss"
    assert_runs t 1
    assert_eq "$(cat "$(view_of .sluice t)/v")" "small-$(basename "$T")" "t's output"
}

test_remote_pull_of_a_target_the_remote_lacks_records_nothing_of_its_upstream() {
    filled_remote
    local key; key=$(sqlite3 a/.sluice/sluice.db "select key from entries where task='use' and kind='deep'")
    rm -f "$T/srv/root/team/ac/$key"
    git clone -q a b
    cd b
    sl pull --remote "$REMOTE" use
    assert_rc 1
    assert_out "1 target is neither cached here nor on the remote"
    assert_not_out "hit       load" # its bytes were never fetched: only use would read them
    assert_eq "$(sql "select count(*) from entries")" 0 "entries recorded"
    sl verify
    assert_rc 0
}

test_remote_object_damaged_on_the_server_is_a_miss_and_is_recomputed() {
    filled_remote
    for f in "$T"/srv/root/team/cas/*; do chmod u+w "$f"; echo damaged >"$f"; done
    git clone -q a b
    (cd b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "damaged" &&
        assert_out "its task runs here") || exit 1
    assert_runs use 1
    diff -r "$(view_of "$T/a/.sluice" use)" "$(view_of b/.sluice use)" || fail "outputs differ"
    (cd b && sl verify && assert_rc 0) || exit 1
    reset_runs # the run replaced what was damaged: a third clone gets it all
    git clone -q a c
    (cd c && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "ran 0, hit 1") || exit 1
    assert_eq "$(total_runs)" 0 "tasks executed in the third clone"
}

test_remote_killed_mid_run_leaves_a_correct_finished_run() {
    nginx_up
    git_repo
    write one.sh 'echo one >>"$RUNS"; seq 1 4 >"$OUT/x"'
    write two.sh "echo two >>\"\$RUNS\"; kill \$(cat '$T/srv/nginx.pid'); sleep 0.5; tr 1 9 <\"\$IN_one/x\" >\"\$OUT/y\""
    write three.sh 'echo three >>"$RUNS"; cat "$IN_two/y" "$IN_one/x" >"$OUT/z"'
    cat >flow.json <<'JSON'
{ "tasks": {
    "one":   { "run": "sh one.sh", "code": ["one.sh"] },
    "two":   { "run": "sh two.sh", "after": ["one"], "code": ["two.sh"] },
    "three": { "run": "sh three.sh", "after": ["two", "one"], "code": ["three.sh"] }
} }
JSON
    commit_all
    SLUICE_REMOTE=$REMOTE sl run
    assert_rc 0
    assert_out "ran 3"
    assert_out "unusable"
    assert_eq "$(cat "$(view_of .sluice three)/z" | tr '\n' ' ')" "9 2 3 4 1 2 3 4 " "three's output"
    sl verify
    assert_rc 0
    SLUICE_REMOTE=$REMOTE sl run # the server is gone: a local no-op all the same
    assert_rc 0
    assert_out "ran 0, hit 1"
}

test_remote_slow_server_hits_the_timeout_and_the_run_ends_ok() {
    py_server sleep
    mkdir a && cd a && path_writing_flow
    start=$(date +%s)
    SLUICE_REMOTE=$REMOTE SLUICE_REMOTE_TIMEOUT=1 sl run
    took=$(( $(date +%s) - start ))
    assert_rc 0
    assert_out "ran 2"
    assert_out "unusable"
    [ "$(grep -c 'warning' <<<"$OUT_TEXT")" = 1 ] || fail "not one warning: $OUT_TEXT"
    [ "$took" -lt 20 ] || fail "the run took ${took}s against a stalled server"
}

test_remote_erroring_or_truncating_server_is_a_miss_and_the_run_ends_ok() {
    for mode in 500 truncate; do
        py_server $mode
        rm -rf a && mkdir a && (cd a && path_writing_flow)
        (cd a && SLUICE_REMOTE=$REMOTE SLUICE_REMOTE_TIMEOUT=2 sl run && assert_rc 0 &&
            assert_out "ran 2" && assert_out "unusable") || fail "against a $mode server"
        kill $PY_PID; wait $PY_PID 2>/dev/null || true
    done
}

test_remote_read_only_uploads_nothing() {
    nginx_up
    mkdir a && cd a && path_writing_flow
    SLUICE_REMOTE=$REMOTE SLUICE_REMOTE_READ_ONLY=1 sl run
    assert_rc 0
    assert_eq "$(grep -c ' "PUT ' "$T/srv/access.log")" 0 "PUT requests by a read-only run"
    "$SLUICE" run --remote "$REMOTE" --remote-read-only -p x=1 >/dev/null 2>&1
    assert_eq "$(grep -c ' "PUT ' "$T/srv/access.log")" 0 "PUT requests with --remote-read-only"
}

test_remote_from_sluice_conf_and_off_by_flag() {
    nginx_up
    mkdir a && cd a && path_writing_flow
    printf '# the team cache\nremote = %s\nstore = ../shared-store\n' "$REMOTE" >sluice.conf
    sl run --remote off
    assert_rc 0
    assert_eq "$(requests)" 0 "requests with --remote off"
    [ -f "$T/shared-store/sluice.db" ] || fail "sluice.conf's store was not used"
    sl invalidate use
    sl run
    assert_rc 0
    assert_out "1 entry uploaded"
    printf 'remote = http://user:secret@127.0.0.1:1/x\n' >sluice.conf
    sl run
    assert_rc 2
    assert_out "sluice.conf:1: credentials do not belong"
    printf 'remot = x\n' >sluice.conf
    sl run
    assert_rc 2
    assert_out "sluice.conf:1: unknown key \"remot\""
}

test_remote_push_then_pull_in_another_clone_runs_nothing() {
    nginx_up
    mkdir a && (cd a && path_writing_flow && "$SLUICE" run >/dev/null 2>&1) || fail "run in a failed"
    reset_runs
    git clone -q a b
    (cd b && sl pull --remote "$REMOTE" && assert_rc 1 &&
        assert_out "1 target is neither cached here nor on the remote") || exit 1
    (cd a && sl push --remote "$REMOTE" && assert_rc 0 && assert_out "pushing 2 cached results" &&
        assert_out "2 entries uploaded") || exit 1
    (cd b && sl pull --remote "$REMOTE" && assert_rc 0 && assert_out "hit 1") || exit 1
    assert_eq "$(grep -c ' "PUT ' "$T/srv/access.log")" 4 "PUT requests (2 objects, 2 records: the small one inside its record)"
    diff -r "$(view_of a/.sluice use)" "$(view_of b/.sluice use)" || fail "outputs differ"
    (cd b && sl run --remote off && assert_rc 0 && assert_out "ran 0, hit 1") || exit 1
    assert_eq "$(total_runs)" 0 "tasks executed in b"
}

# --- an S3 remote (SigV4) on s3rver, the npm package's fake S3 --------------------------

# s3_up: s3rver on 127.0.0.1 with a bucket "cache", its files under $T/s3; sets REMOTE
# (s3://cache/team) and the AWS variables, and stops it at exit. Without s3rver (outside
# CI: `npm install -g s3rver`) the test is skipped.
s3_up() {
    if ! command -v s3rver >/dev/null; then
        [ -n "${CI:-}" ] && fail "s3rver is missing (npm install -g s3rver)"
        skip "needs s3rver (npm install -g s3rver)"
    fi
    local port; port=$(free_port)
    mkdir -p "$T/s3"
    s3rver -d "$T/s3" -a 127.0.0.1 -p "$port" --configure-bucket cache >"$T/s3.log" 2>&1 &
    PY_PID=$!
    trap 'kill ${NGINX_PID:-} ${PY_PID:-} 2>/dev/null; true' EXIT
    for _ in $(seq 100); do grep -q listening "$T/s3.log" && break; sleep 0.1; done
    export REMOTE=s3://cache/team AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}

test_s3_second_clone_runs_nothing_and_a_damaged_object_is_recomputed() {
    s3_up
    mkdir a && (cd a && path_writing_flow)
    (cd a && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "entries uploaded") || exit 1
    reset_runs
    git clone -q a elsewhere/b
    (cd elsewhere/b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "ran 0, hit 1") ||
        exit 1
    assert_eq "$(total_runs)" 0 "tasks executed in the second clone"
    diff -r "$(view_of a/.sluice use)" "$(view_of elsewhere/b/.sluice use)" || fail "outputs differ"
    # Same length, other bytes: only the digest can tell.
    for f in "$T"/s3/cache/team/cas/*._S3rver_object; do
        python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[0] ^= 1; open(p, "wb").write(b)' "$f"
    done
    git clone -q a c
    (cd c && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "damaged" &&
        assert_out "ran 2") || exit 1
    diff -r "$(view_of a/.sluice use)" "$(view_of c/.sluice use)" || fail "outputs differ"
}

test_s3_without_credentials_is_a_clear_error() {
    mkdir a && cd a && path_writing_flow
    HOME=$T AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= sl run --remote s3://cache/team
    assert_rc 2
    assert_out "no AWS credentials"
}

# Two machines sharing one store (warned against, but possible): a pid of another host
# says nothing here, so that host's claim is never taken as stale, nor its run reaped.
test_a_claim_made_on_another_host_is_never_taken_as_stale() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >>\"$RUNS\"; echo a >$OUT/a"}}}' >flow.json
    sl status; assert_rc 0
    key=$("$SLUICE" status --json | sed -n 's/.*"deep_key":[^"]*"\([0-9a-f]*\)".*/\1/p')
    sh -c 'exit 0' & dead=$!; wait "$dead" # no such process here
    sql "insert into runs(id, flow_id, targets, params, jobs, started, status, pid, host)
         values(99, 1, '[]', '{}', 1, $(date +%s), 'running', $dead, 'another-host')"
    sql "insert into claims(key, task, run_id, pid, started, host)
         values('$key', 'a', 99, $dead, $(date +%s), 'another-host')"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=1 timeout 20 "$SLUICE" run 2>&1); RC=$?
    assert_rc 1
    assert_out "gave up after waiting"
    assert_eq "$(total_runs)" 0 "executions while another host holds the claim"
    assert_eq "$(sql "select status from runs where id = 99")" running "the other host's run"
    sql "update claims set host = '$(hostname)'; update runs set host = '$(hostname)'"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=1 timeout 20 "$SLUICE" run 2>&1); RC=$?
    assert_rc 0
    assert_runs a 1
}

test_remote_record_whose_manifest_leaves_the_output_is_a_miss() {
    filled_remote
    key=$(sqlite3 a/.sluice/sluice.db "select key from entries where task='use' and kind='deep'")
    manifest=$(printf 'sluice-manifest 1\nf %s 2 ../../../../escaped\n' \
        "$(printf 'x\n' | sha256sum | cut -c1-64)")
    digest=$(printf '%s\n' "$manifest" | sha256sum | cut -c1-64)
    python3 -c 'import json, sys; print(json.dumps({"sluice_ac": 1, "task": "use", "digest": sys.argv[1], "size": 2, "created": 0, "expires": 0, "manifest": sys.argv[2] + "\n"}))' \
        "$digest" "$manifest" >"$T/srv/root/team/ac/$key"
    printf 'x\n' >"$T/srv/root/team/cas/$(printf 'x\n' | sha256sum | cut -c1-64)"
    git clone -q a b
    (cd b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "outside the output" &&
        assert_out "ran 1") || exit 1
    [ ! -e "$T/escaped" ] && [ ! -e "$T/b/escaped" ] && [ ! -e "$T/b/.sluice/escaped" ] ||
        fail "a remote manifest wrote outside the store"
    diff -r "$(view_of a/.sluice use)" "$(view_of b/.sluice use)" || fail "outputs differ"
}

test_remote_object_missing_on_the_server_is_a_miss() {
    filled_remote
    rm -f "$T"/srv/root/team/cas/*
    git clone -q a b
    (cd b && SLUICE_REMOTE=$REMOTE sl run && assert_rc 0 && assert_out "missing on the remote" &&
        assert_out "ran 2") || exit 1
    diff -r "$(view_of a/.sluice use)" "$(view_of b/.sluice use)" || fail "outputs differ"
    [ -n "$(ls "$T/srv/root/team/cas")" ] || fail "the run did not upload the objects again"
}

# A sluice.conf that cannot be read must stop every command that opens the store: falling
# back to .sluice would show (and change) another store than the one `run` uses.
test_a_broken_sluice_conf_stops_every_command_not_only_run() {
    mkdir proj && cd proj || exit 1 # ../team-store stays inside $T, not a shared /tmp/team-store
    chain_flow
    printf 'store = ../team-store\n' >sluice.conf
    sl run
    assert_rc 0
    [ -d ../team-store ] || fail "sluice.conf's store was not used"
    printf 'store = ../team-store\nstoer = x\n' >sluice.conf
    for cmd in status history "invalidate train" gc verify "why report" "show last" "log train"; do
        sl $cmd
        assert_rc 2
        assert_out "sluice.conf:2: unknown key \"stoer\""
    done
    [ ! -e .sluice ] || fail "a store was made at the default place"
}

# On a terminal, a run counts its downloads on one line, which its own output then
# replaces (not appended to: the line is cleared first).
test_remote_downloads_show_a_progress_line_on_a_terminal() {
    command -v script >/dev/null || skip "needs script (util-linux)"
    filled_remote
    git clone -q a b
    cd b
    SLUICE_REMOTE=$REMOTE script -qec "'$SLUICE' run" "$T/tty.txt" >/dev/null 2>&1
    grep -q "fetching from the remote: 1 object, 8.8 KB" "$T/tty.txt" ||
        fail "no download line: $(cat -v "$T/tty.txt")"
    grep -q $'8.8 KB\r\033\[K' "$T/tty.txt" || fail "the download line was not cleared: $(cat -v "$T/tty.txt")"
    grep -q "hit 1" "$T/tty.txt" || fail "the run did not end: $(cat -v "$T/tty.txt")"
}
