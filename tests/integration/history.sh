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
