# sluice status and --dry-run: states and reasons, without running anything.

test_status_names_states_and_root_causes() {
    chain_flow
    sl status; assert_rc 0
    assert_out "pending  load"
    assert_eq "$(total_runs)" 0 "status ran a task"
    sl run; assert_rc 0
    sl status; assert_out "4 cached"
    printf 'echo changed >/dev/null\n' >>tasks/features.sh
    sl status -p lr=0.5
    assert_out "stale    features  code tasks/features.sh changed"
    assert_out "stale    train     param lr 0.1 -> 0.5; upstream features is stale"
    assert_out "stale    report    upstream train is stale"
    assert_out "1 cached  3 stale"
}

test_status_json_is_machine_readable() {
    chain_flow
    sl run train; assert_rc 0
    sl status --json; assert_rc 0
    echo "$OUT_TEXT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = {x["name"]: x for x in d["tasks"]}
assert t["train"]["state"] == "cached", t["train"]
assert t["report"]["state"] == "pending", t["report"]
assert t["report"]["after"] == ["train"]
assert len(t["train"]["deep_key"]) == 64
assert t["train"]["output_size"] > 0
assert d["flow"]["name"] == "chain"
' || fail "status --json: $OUT_TEXT"
}

test_status_reports_failed_and_a_target_leaves_siblings_out() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >$OUT/x"}, "b": {"run": "exit 4", "after": ["a"]}, "c": {"run": "true", "after": ["a"]}}}' >flow.json
    sl run; assert_rc 1
    sl status; assert_out "failed   b"
    sl status c; assert_out "cached   c"; assert_not_out "failed   b" # not what c needs
}

test_dry_run_shows_the_plan_and_changes_nothing() {
    chain_flow
    sl run --dry-run; assert_rc 0
    assert_out "would run load"
    assert_out "4 to run, 0 cached"
    assert_eq "$(total_runs)" 0
    [ "$(sql 'select count(*) from runs')" = 0 ] || fail "dry run recorded a run"
    sl run; reset_runs
    sl run --dry-run -p title=New
    assert_out "would run report  (param title Report -> New)"
    assert_out "cached    train"
    assert_out "1 to run, 1 cached"
}

# `status TARGET` shows the target and what it needs. A task downstream of the target
# was listed as "skipped: not needed: everything downstream is cached", which was false:
# nothing downstream of it was cached, and it was simply outside what was asked.
test_status_of_a_target_shows_only_it_and_what_it_needs() {
    chain_flow
    sl run train
    assert_rc 0
    sl status features
    assert_rc 0
    assert_out "cached   load"
    assert_out "cached   features"
    assert_not_out "train"
    assert_not_out "report"
    assert_not_out "everything downstream is cached"
    assert_out "2 cached"
    sl status --json train
    assert_eq "$(printf '%s' "$OUT_TEXT" | grep -c '"state"')" 3 "tasks in status --json train"
    sl status
    assert_out "pending  report"
}
