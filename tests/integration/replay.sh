# Run history: listing, inspecting and comparing runs, reading logs, and replaying a
# past run with the code it had.

# A two-task flow: `make` writes what its script says (and records that it ran);
# `stamp` copies it, optionally adding the time (non-deterministic).
replay_flow() {
    git_repo
    write tasks/make.sh 'echo "make v1" >>"$RUNS"; echo "v1 n=$1" >$OUT/made.txt'
    write tasks/stamp.sh 'echo stamp >>"$RUNS"; cp $IN_make/made.txt $OUT/; [ "$STAMP" = time ] && date +%s%N >>$OUT/made.txt; true'
    cat >flow.json <<'JSON'
{ "name": "rp", "params": { "n": 1, "stamp": "none" },
  "tasks": {
    "make":  { "run": "sh tasks/make.sh {params.n}", "code": ["tasks/make.sh"] },
    "stamp": { "run": "sh tasks/stamp.sh", "after": ["make"], "code": ["tasks/stamp.sh"],
               "env": { "STAMP": "{params.stamp}" } }
  } }
JSON
    commit_all "v1"
}

# A checksum of the work tree as the user sees it (not the store, not .git).
tree_sum() {
    find . -path ./.git -prune -o -path ./.sluice -prune -o -name .runs -prune -o -type f -print0 |
        sort -z | xargs -0 sha256sum | sha256sum
}

test_replay_runs_the_code_a_run_had_and_leaves_the_tree_alone() {
    replay_flow
    sl run; assert_rc 0
    write tasks/make.sh 'echo "make v2" >>"$RUNS"; echo "v2 n=$1" >$OUT/made.txt'
    commit_all "v2"
    sl run; assert_rc 0
    before=$(tree_sum); head=$(git rev-parse HEAD); index=$(sha256sum .git/index)
    reset_runs
    sl replay 1 --verify; assert_rc 0
    assert_eq "$(grep -c 'make v1' "$RUNS")" 1 "executions of the old script"
    assert_eq "$(grep -c 'make v2' "$RUNS")" 0 "executions of the new script"
    assert_out "identical make"
    assert_out "identical stamp"
    assert_out "replay of run 1: 2 tasks identical"
    assert_eq "$(tree_sum)" "$before" "work tree after the replay"
    assert_eq "$(git rev-parse HEAD)" "$head" "HEAD after the replay"
    assert_eq "$(sha256sum .git/index)" "$index" "git index after the replay"
    assert_eq "$(git status --porcelain)" "" "git status after the replay"
    assert_eq "$(sql 'select replay_of from runs where id = 3')" 1 "run 3 is a replay of run 1"
    sl history; assert_rc 0
    assert_out "(replay of run 1)"
    # A replay records history but no cache entries: the present flow is still cached.
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions after the replay"
}

test_replay_verify_reports_a_task_whose_output_differs() {
    replay_flow
    sl run -p stamp=time; assert_rc 0
    sl replay 1 --verify; assert_rc 1
    assert_out "identical make"
    assert_out "differs   stamp"
    assert_out "replay of run 1: 1 task identical, 1 differs: stamp"
}

test_replay_of_uncommitted_code_and_sluice_never_writes_into_git() {
    replay_flow
    objects() { find .git/objects -type f | wc -l; }
    before=$(objects)
    write tasks/make.sh 'echo "make draft" >>"$RUNS"; echo "draft n=$1" >$OUT/made.txt'
    sl run; assert_rc 0
    assert_eq "$(objects)" "$before" "git objects after a run with uncommitted code"
    git checkout -q tasks/make.sh
    reset_runs
    sl replay 1 --verify; assert_rc 0
    assert_eq "$(grep -c 'make draft' "$RUNS")" 1 "executions of the uncommitted version"
    assert_out "replay of run 1: 2 tasks identical"
    assert_eq "$(git status --porcelain)" "" "git status after the replay"
}

test_replay_names_the_path_and_blob_it_cannot_find() {
    replay_flow
    write tasks/make.sh 'echo "make draft" >>"$RUNS"; echo draft >$OUT/made.txt'
    sl run; assert_rc 0
    blob=$(git hash-object tasks/make.sh)
    git checkout -q tasks/make.sh
    chmod -R u+w .sluice/blobs && rm -rf .sluice/blobs
    reset_runs
    sl replay 1; assert_rc 2
    assert_out "cannot replay run 1: task make: tasks/make.sh: blob $blob is neither in the store nor in the repository"
    assert_eq "$(total_runs)" 0 "executions"
}

test_replay_of_one_target_runs_only_what_it_needs() {
    replay_flow
    sl run; assert_rc 0
    reset_runs
    sl replay 1 make; assert_rc 0
    assert_eq "$(grep -c 'make v1' "$RUNS")" 1 "executions of make"
    assert_runs stamp 0
}

test_diff_names_the_changed_parameter_file_and_outputs() {
    replay_flow
    sl run; assert_rc 0
    write tasks/make.sh 'echo "make v2" >>"$RUNS"; echo "v2 n=$1" >$OUT/made.txt'
    commit_all "v2"
    sl run -p n=2; assert_rc 0
    sl diff 1 2; assert_rc 0
    assert_out "n: 1 -> 2"
    assert_out "tasks/make.sh (make): $(git rev-parse HEAD~1:tasks/make.sh | cut -c1-12) -> $(git rev-parse HEAD:tasks/make.sh | cut -c1-12)"
    assert_out '-echo "make v1"'
    assert_out '+echo "make v2"'
    assert_out "keys changed: make, stamp"
    assert_out "outputs: 0 identical, 2 differ:"
    sl diff last~1 last --json; assert_rc 0
    assert_eq "$(printf '%s' "$OUT_TEXT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["params"][0], len(d["code"]), [o["identical"] for o in d["outputs"]])')" \
        "n: 1 -> 2 1 [False, False]" "diff --json"
}

test_history_and_show_list_runs_and_their_tasks() {
    replay_flow
    sl run; assert_rc 0
    sl run -p n=2; assert_rc 0
    sl history; assert_rc 0
    assert_out "$(git rev-parse --short=7 HEAD)"
    sl history --json -n 1; assert_rc 0
    assert_eq "$(printf '%s' "$OUT_TEXT" | python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"]; print(len(r), r[0]["id"], r[0]["status"], r[0]["ran"], r[0]["params"]["n"], r[0]["git_dirty"])')" \
        "1 2 ok 2 2 False" "history --json"
    sl history --task stamp --json; assert_rc 0
    assert_eq "$(printf '%s' "$OUT_TEXT" | python3 -c 'import json,sys; print([r["task_decision"] for r in json.load(sys.stdin)["runs"]])')" \
        "['ran', 'ran']" "history --task"
    sl show 1; assert_rc 0
    assert_out "ran       make"
    assert_out "code     tasks/make.sh  $(git rev-parse HEAD:tasks/make.sh | cut -c1-12)"
    sl show last --json; assert_rc 0
    assert_eq "$(printf '%s' "$OUT_TEXT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["run"]["id"], [(t["name"], t["decision"], t["exit_code"], len(t["output_digest"])) for t in d["tasks"]])')" \
        "2 [('make', 'ran', 0, 64), ('stamp', 'ran', 0, 64)]" "show --json"
    sl show 9; assert_rc 2
    assert_out "no run 9"
}

test_log_prints_a_task_output_and_follows_a_running_one() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": { "talk": { "run": "for i in 1 2 3; do echo line $i; sleep 0.3; done; echo done >$OUT/x" } } }
JSON
    "$SLUICE" run >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ "$(sql "select count(*) from events where state = 'running'" 2>/dev/null)" = 1 ] && break
        sleep 0.05
    done
    sl log talk -f; assert_rc 0
    wait "$pid"
    assert_eq "$OUT_TEXT" "$(printf 'line 1\nline 2\nline 3')" "followed log"
    sl log talk --run 1; assert_rc 0
    assert_out "line 3"
    sl log nobody; assert_rc 2
}

test_log_refuses_a_tampered_log() {
    tampered_log_flow
    sl log talk; assert_rc 1
    assert_out "is damaged: its bytes do not match its name"
    assert_not_out "words nobody printed"
}

test_gc_keep_runs_keeps_the_code_versions_recent_runs_need() {
    replay_flow
    write tasks/make.sh 'echo "make draft1" >>"$RUNS"; echo d1 >$OUT/made.txt'
    sl run; assert_rc 0
    write tasks/make.sh 'echo "make draft2" >>"$RUNS"; echo d2 >$OUT/made.txt'
    sl run; assert_rc 0
    sl gc --keep-runs 1; assert_rc 0
    # Run 2's uncommitted version stays, and the committed stamp.sh it used is copied in
    # (a history rewrite could lose it); run 1's draft is gone.
    assert_out "copied 1 from the repository, deleted 1 no kept run uses"
    [ -f .sluice/sluice.db ] && [ -f .sluice/lock ] && [ -f .sluice/.gitignore ] ||
        fail "gc deleted the store's own files: $(ls -a .sluice)"
    git checkout -q tasks/make.sh
    reset_runs
    sl replay 2 --verify; assert_rc 0
    assert_eq "$(grep -c 'make draft2' "$RUNS")" 1 "replay of run 2"
    sl replay 1; assert_rc 2
    assert_out "blob"
}

test_a_store_from_before_replay_is_migrated_and_its_runs_replay() {
    replay_flow
    sl run; assert_rc 0
    # Make the store look as schema 1 left it: no dir, no var, no claims, no index of
    # invalidated entries by digest, publications without owner flow or stamp, no cause,
    # no hosts of runs, no outputs or cpus, no ctimes in the stat caches.
    sql "ALTER TABLE task_runs DROP COLUMN cause; DROP INDEX invalidated_by_digest;
         ALTER TABLE task_runs DROP COLUMN outputs; ALTER TABLE task_runs DROP COLUMN cpus;
         ALTER TABLE task_runs DROP COLUMN dir; ALTER TABLE task_upstream DROP COLUMN var;
         DROP TABLE claims; ALTER TABLE publications DROP COLUMN flow;
         ALTER TABLE publications DROP COLUMN stamp; ALTER TABLE runs DROP COLUMN host;
         ALTER TABLE code_stat DROP COLUMN ctime_ns; ALTER TABLE file_stat DROP COLUMN ctime_ns;
         PRAGMA user_version = 1;"
    assert_eq "$(sql 'PRAGMA user_version')" 1 "schema version made to look old"
    sl history; assert_rc 0
    assert_eq "$(sql 'PRAGMA user_version')" 9 "schema version after opening"
    reset_runs
    sl replay 1 --verify; assert_rc 0
    assert_out "replay of run 1: 2 tasks identical"
}

# Replay writes only under its scratch tree: not at an absolute code path, not at a
# path a tampered history names, not through a symlinked directory of the work tree.
test_replay_never_writes_outside_its_scratch_tree() {
    mkdir proj shared && cd proj || fail "cd"
    git_repo
    write ../shared/lib.sh 'echo lib v1'
    write real/a.sh 'echo a v1'
    ln -s real lnk
    write victim.txt 'precious'
    cat >flow.json <<JSON
{ "tasks": {
  "abs": { "run": "sh $T/shared/lib.sh >\$OUT/o", "code": ["$T/shared/lib.sh"] },
  "via": { "run": "sh lnk/a.sh >\$OUT/o", "code": ["lnk/a.sh"] }
} }
JSON
    commit_all v1
    sl run; assert_rc 0
    write ../shared/lib.sh 'echo lib v2'
    write real/a.sh 'echo a v2'
    commit_all v2
    sl replay 1; assert_rc 0
    assert_eq "$(cat ../shared/lib.sh)" "echo lib v2" "the absolute code file"
    assert_eq "$(cat real/a.sh)" "echo a v2" "the file behind the symlinked directory"
    assert_out "task abs: code $T/shared/lib.sh, outside the work tree, changed since run 1"
    assert_out "via"
    sql "update task_code set path = '$T/proj/victim.txt' where path = '$T/shared/lib.sh'"
    sl replay 1
    assert_eq "$(cat victim.txt)" "precious" "a path named by a tampered history"
}

# A replay runs each task as the run did: with its cpus, and failing when a declared
# output is missing.
test_replay_honours_outputs_and_cpus() {
    git_repo
    touch "$T/switch"
    cat >flow.json <<JSON
{ "tasks": {
    "train": { "run": "echo cpus=\$SLUICE_CPUS >>\"\$RUNS\"; [ ! -e $T/switch ] || echo m >\$OUT/model; echo x >\$OUT/log",
               "outputs": ["model"], "cpus": 2 } } }
JSON
    commit_all
    sl run -j 2; assert_rc 0
    assert_eq "$(cat "$RUNS")" "cpus=2"
    reset_runs
    rm "$T/switch"
    sl replay 1 -j 2; assert_rc 1
    assert_eq "$(cat "$RUNS")" "cpus=2" "the replay gets the task's cpus"
    assert_out 'declared output model is missing from $OUT after the command exited 0'
}
