# What a run leaves in the SQLite history: enough to explain and replay it.

test_history_records_runs_inputs_and_events() {
    chain_flow
    sl run; assert_rc 0
    head=$(git rev-parse HEAD)
    [ "$(sql "select status||' '||git_head||' '||git_dirty from runs")" = "ok $head 0" ] ||
        fail "runs row: $(sql 'select * from runs')"
    [ "$(sql "select count(*) from task_runs where decision='ran'")" = 4 ] || fail "task runs"
    blob=$(git rev-parse HEAD:tasks/train.sh)
    [ "$(sql "select c.blob_id from task_code c join task_runs t on t.id=c.task_run_id where t.task='train'")" = "$blob" ] ||
        fail "code fingerprint of train is not its git blob id"
    [ "$(sql "select upstream from task_upstream u join task_runs t on t.id=u.task_run_id where t.task='train'")" = features ] ||
        fail "upstream of train"
    [ "$(sql "select count(*) from events where state='running'")" = 4 ] || fail "events"
    [ "$(sql "select count(*) from entries where kind in ('deep','shallow')")" = 8 ] || fail "entries"
    [ "$(sql "select json_extract(params,'\$.lr') from runs")" = 0.1 ] || fail "params"
    printf '# dirty\n' >>tasks/load.sh
    sl run; assert_rc 0
    [ "$(sql "select git_dirty from runs where id=2")" = 1 ] || fail "dirty code not flagged"
}

test_task_output_log_is_stored() {
    git_repo
    echo '{"tasks": {"talk": {"run": "echo to-stdout; echo to-stderr >&2"}}}' >flow.json
    sl run; assert_rc 0
    obj=$(sql "select log_object from task_runs where task='talk'")
    [ -n "$obj" ] || fail "no log object"
    f=.sluice/logs/${obj:0:2}/${obj:2}
    grep -q to-stdout "$f" && grep -q to-stderr "$f" || fail "log lacks output: $(cat "$f")"
}

test_interrupted_run_is_marked_and_work_reused() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "quick": { "run": "echo quick >>\"$RUNS\"; echo q >$OUT/q" },
  "slow":  { "run": "echo slow >>\"$RUNS\"; echo $$ >\"$T/slow.pid\"; sleep 60", "after": ["quick"] }
} }
JSON
    "$SLUICE" run >/dev/null 2>&1 &
    pid=$!
    # A task counts as completed once its result is committed (milliseconds after it
    # exits): wait for that, then kill the coordinator mid-run.
    for _ in $(seq 200); do
        [ -s slow.pid ] && [ "$(sql "select count(*) from entries where task='quick'" 2>/dev/null)" = 2 ] && break
        sleep 0.05
    done
    [ -s slow.pid ] || fail "slow never started"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    kill -9 "$(cat slow.pid)" 2>/dev/null
    reset_runs
    sed -i 's/sleep 60/true/' flow.json
    sl run; assert_rc 0
    assert_runs quick 0
    assert_runs slow 1
    [ "$(sql "select status from runs where id=1")" = interrupted ] || fail "run 1 not marked interrupted"
}

# The cause `sluice show RUN` gives for TASK (its "cause" line), in $CAUSE.
show_cause() { # RUN TASK
    sl show "$1"; assert_rc 0
    CAUSE=$(printf '%s\n' "$OUT_TEXT" | awk -v t="$2" '
        /^[^ ]/ { cur = $3 }
        cur == t && /^    cause    / { sub(/^    cause    /, ""); print }')
}
assert_cause() { # RUN TASK TEXT: show names TEXT as the cause of TASK in RUN
    show_cause "$1" "$2"
    case "$CAUSE" in *"$3"*) ;; *) fail "run $1: cause of $2 is '$CAUSE', expected '$3'" ;; esac
}

test_show_names_why_each_task_ran_param_code_upstream_new() {
    chain_flow
    sl run; assert_rc 0
    assert_cause 1 load "new: it never ran in this flow"
    sl run -p lr=0.2; assert_rc 0
    assert_cause 2 train "param lr 0.1 -> 0.2"
    assert_cause 2 report "upstream train"
    assert_cause 2 report "param lr 0.1 -> 0.2"
    show_cause 2 features
    assert_eq "$CAUSE" "" "a hit has no cause"
    write tasks/load.sh 'echo load >>"$RUNS"; echo "a,c" >"$OUT/data.csv"'
    sl run -p lr=0.2; assert_rc 0
    assert_cause 3 load "code tasks/load.sh changed"
    assert_cause 3 features "upstream load output changed (code tasks/load.sh changed)"
    # Early cutoff: load re-runs with the same bytes, features is planned but cut off.
    echo '# a comment' >>tasks/load.sh
    sl run -p lr=0.2; assert_rc 0
    assert_cause 4 features "upstream load is stale (code tasks/load.sh changed)"
    # The same in --json, in `history --task` and its --json.
    sl show 3 --json; assert_rc 0
    assert_line '"cause":[[:space:]]+"upstream load output changed \(code tasks/load.sh changed\)"'
    assert_line '"cause":[[:space:]]+"code tasks/load.sh changed"'
    sl history --task train; assert_rc 0
    assert_line '^ +2 .* ran +param lr 0.1 -> 0.2$'
    assert_line '^ +1 .* ran +new: it never ran in this flow$'
    sl history --task train --json; assert_rc 0
    assert_line '"task_cause":[[:space:]]+"param lr 0.1 -> 0.2"'
}

test_show_names_why_each_task_ran_files_forced_volatile() {
    git_repo
    write data.csv 'a'
    cat >flow.json <<'JSON'
{ "tasks": {
  "read":  { "run": "echo read >>\"$RUNS\"; cp data.csv $OUT/", "files": ["data.csv"] },
  "clock": { "run": "date +%s%N >$OUT/t", "volatile": true }
} }
JSON
    commit_all
    sl run; assert_rc 0
    write data.csv 'ab'
    sl run read; assert_rc 0
    assert_cause 2 read "file data.csv changed"
    sl run read --force; assert_rc 0
    assert_cause 3 read "forced (--force)"
    sl run clock; assert_rc 0
    assert_cause 4 clock "volatile: runs every time"
}

test_show_names_why_each_task_ran_expired_invalidated() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "old":  { "run": "echo old >>\"$RUNS\"; echo x >$OUT/x", "expire": "1s" },
  "mark": { "run": "echo mark >>\"$RUNS\"; echo y >$OUT/y" }
} }
JSON
    commit_all
    sl run; assert_rc 0
    sleep 1.2
    sl run old; assert_rc 0
    assert_cause 2 old "expired"
    sl invalidate mark; assert_rc 0
    sl run mark; assert_rc 0
    assert_cause 3 mark "invalidated at"
    assert_cause 3 mark "(id 1)"
}

test_show_names_why_each_task_ran_not_kept_damaged() {
    git_repo
    write b.sh 'echo b >>"$RUNS"; cat $IN_a/x >$OUT/y'
    write d.sh 'echo d >>"$RUNS"; cat $IN_c/x >$OUT/y'
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo a >$OUT/x", "keep": "none" },
  "b": { "run": "sh b.sh", "after": ["a"], "code": ["b.sh"] },
  "c": { "run": "echo c >>\"$RUNS\"; echo c >$OUT/x" },
  "d": { "run": "sh d.sh", "after": ["c"], "code": ["d.sh"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    echo '# changed' >>b.sh
    sl run b; assert_rc 0
    assert_cause 2 a "not kept"
    assert_cause 2 b "code b.sh changed"
    obj=$(sql "select o.object from output_objects o join task_runs t on t.output_digest = o.output where t.task = 'c' limit 1")
    f=$(ls .sluice/objects/"${obj:0:2}"/"${obj:2}"* | head -1)
    chmod u+w "$f"; echo tampered >"$f"
    echo '# changed' >>d.sh
    sl run d; assert_rc 0
    assert_cause 3 c "damaged"
}

test_an_old_history_database_migrates_and_its_task_runs_have_no_cause() {
    chain_flow
    sl run; assert_rc 0
    # As a sluice of schema 5 left it: no cause column (nor the hosts of schema 7, nor
    # the outputs and cpus of schema 8, nor the ctimes of schema 9).
    sql "alter table task_runs drop column cause; alter table claims drop column host;
         alter table runs drop column host; alter table task_runs drop column outputs;
         alter table task_runs drop column cpus; alter table code_stat drop column ctime_ns;
         alter table file_stat drop column ctime_ns; pragma user_version=5"
    sl show 1; assert_rc 0
    assert_not_out "cause"
    assert_eq "$(sql 'pragma user_version')" 9 "schema after the migration"
    sl run -p lr=0.3; assert_rc 0
    assert_cause 2 train "param lr 0.1 -> 0.3"
}
