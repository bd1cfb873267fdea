# Explaining and overriding cache decisions: why, invalidate, undo.

test_invalidate_node_reruns_only_it_and_undo_restores() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    sl invalidate train --reason "bad data"; assert_rc 0
    assert_out "invalidation 1: train"
    assert_out "undo with: sluice invalidate --undo 1"
    sl status; assert_out "invalidated train     invalidated at"
    assert_out "(id 1)"
    sl why train; assert_out "invalidated at"
    sl invalidate --undo 1; assert_rc 0
    assert_out "undid invalidation 1"
    sl status; assert_out "4 cached"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "undo restored the cache"
    sl invalidate train; assert_rc 0
    sl run; assert_rc 0
    assert_runs train 1
    assert_eq "$(total_runs)" 1 "train re-ran, report was cut off"
    sl invalidate --undo 1; assert_rc 2
    assert_out "invalidation 1 was already undone"
}

test_invalidate_downstream_and_upstream_select_the_right_tasks() {
    chain_flow
    sl run; assert_rc 0
    sl invalidate features --downstream --dry-run; assert_rc 0
    assert_out "would invalidate: features, train, report"
    sl invalidate features --upstream --dry-run; assert_rc 0
    assert_out "would invalidate: features, load"
    sl status; assert_out "4 cached"
    [ "$(sql 'select count(*) from invalidations')" = 0 ] || fail "a dry run recorded something"
    reset_runs
    sl invalidate features --downstream; assert_rc 0
    sl run; assert_rc 0
    assert_runs load 0
    assert_runs features 1
    assert_runs train 1
    assert_runs report 1
    reset_runs
    sl invalidate features --upstream; assert_rc 0
    sl run; assert_rc 0
    assert_runs load 1
    assert_runs features 1
    assert_eq "$(total_runs)" 2 "train and report were cut off"
}

# invalidation 1 takes out train (and report's deep entry); invalidation 2, features
# with its downstream, covers train and report again.
overlapping_invalidations() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    sl invalidate train; assert_rc 0
    sl invalidate features --downstream; assert_rc 0
    assert_out "invalidation 2: features, train, report"
}

test_undoing_the_older_of_overlapping_invalidations_keeps_the_newer_in_force() {
    overlapping_invalidations
    sl invalidate --undo 1; assert_rc 0
    assert_out "undid invalidation 1: 0 cache entries restored"
    assert_out "invalidation 2 still covers them"
    sl status; assert_out "1 cached  3 invalidated"
    assert_out "invalidated train     invalidated at"
    sl invalidate --undo 2; assert_rc 0
    sl status; assert_out "4 cached"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "both undone: everything is cached again"
}

test_undoing_the_newer_of_overlapping_invalidations_keeps_the_older_in_force() {
    overlapping_invalidations
    sl invalidate --undo 2; assert_rc 0
    assert_out "invalidation 1 still covers them"
    sl status
    assert_out "cached      features"
    assert_out "invalidated train     invalidated at"
    assert_out "(id 1)"
    sl run --dry-run; assert_out "would run train"
    assert_not_out "would run features"
    sl invalidate --undo 1; assert_rc 0
    sl status; assert_out "4 cached"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "both undone: everything is cached again"
}

test_invalidate_explains_bad_requests() {
    chain_flow
    sl invalidate nope; assert_rc 2
    assert_out 'no task named "nope"'
    sl invalidate train; assert_rc 0
    assert_out "nothing to invalidate (not cached): train"
    sl invalidate train --upstream --downstream; assert_rc 2
    sl invalidate --undo 99; assert_rc 2
    assert_out "no invalidation 99"
}

test_why_shows_the_diff_of_a_changed_script() {
    chain_flow
    sl run; assert_rc 0
    sed -i 's/tr a-z A-Z/tr a-z A-Z | rev/' tasks/features.sh
    sl why features; assert_rc 0
    assert_out "features: ~ stale"
    assert_out "code tasks/features.sh changed"
    assert_out "+echo features >>\"\$RUNS\"; tr a-z A-Z | rev"
    assert_out "-echo features >>\"\$RUNS\"; tr a-z A-Z <"
    sl why report -p lr=0.3; assert_rc 0
    assert_out "upstream train is stale (param lr 0.1 -> 0.3; features: code tasks/features.sh changed)"
    sl why report --json; assert_rc 0
    echo "$OUT_TEXT" | python3 -c '
import json, sys
w = json.load(sys.stdin)
assert w["state"] == "stale", w
assert any("features" in c["text"] for c in w["causes"]), w' || fail "why --json: $OUT_TEXT"
    sl why features --json; assert_rc 0
    echo "$OUT_TEXT" | python3 -c '
import json, sys
(c,) = json.load(sys.stdin)["causes"]
assert c["text"] == "code tasks/features.sh changed", c
(d,) = c["diffs"]
assert d["task"] == "features" and "| rev" in d["diff"], d' || fail "why --json: $OUT_TEXT"
}

test_why_shows_the_diff_behind_an_upstream_root_cause() {
    chain_flow
    sl run; assert_rc 0
    printf '# just a comment\n' >>tasks/features.sh
    sl why train; assert_rc 0
    assert_out "upstream features is stale (code tasks/features.sh changed)"
    assert_out "+# just a comment"
    sl why report; assert_rc 0
    assert_out "features: code tasks/features.sh changed"
    assert_out "+# just a comment"
    sl why report --json; assert_rc 0
    echo "$OUT_TEXT" | python3 -c '
import json, sys
w = json.load(sys.stdin)
(c,) = w["causes"]
(d,) = c["diffs"]
assert d["task"] == "features" and d["path"] == "tasks/features.sh", d
assert len(d["old_blob"]) == 40 and "+# just a comment" in d["diff"], d' ||
        fail "why --json has no diff for the upstream cause: $OUT_TEXT"
}

test_why_diffs_uncommitted_code_after_it_ran() {
    # The version a run used was never committed; sluice kept its blob, so a later
    # edit can still be shown as a diff.
    chain_flow
    printf 'echo first-edit >/dev/null\n' >>tasks/load.sh
    sl run; assert_rc 0
    printf 'echo second-edit >/dev/null\n' >>tasks/load.sh
    sl why load; assert_rc 0
    assert_out "+echo second-edit >/dev/null"
    assert_not_out "no diff"
    git status --porcelain | grep -v '^ M tasks/load.sh$' | grep . && fail "the work tree or index changed"
    true
}

test_dag_draws_states_as_text_dot_and_mermaid() {
    chain_flow
    sl run features; assert_rc 0
    sl dag --ascii --down; assert_rc 0
    assert_out "| + load |"
    assert_out "| o train |"
    assert_out "v"
    assert_out "+ cached  o pending"
    sl dag --dot; assert_rc 0
    assert_out 'digraph "chain" {'
    assert_out '"load" -> "features";'
    assert_out '"train" [label="○ train", tooltip="pending"'
    echo "$OUT_TEXT" | grep -c -- '->' | grep -qx 3 || fail "DOT has not 3 edges"
    sl dag --mermaid; assert_rc 0
    assert_out "flowchart TD"
    assert_out 'n0["✓ load"]:::cached'
    assert_out "n2 --> n3"
}

test_dag_collapses_subflows() {
    subflow_pair
    sl -f a/flow.json dag --collapse --down; assert_rc 0
    assert_out "▸ prep (2)"
    assert_out "○ use_a"
    assert_not_out "prep/clean"
    sl -f a/flow.json dag --down; assert_rc 0
    assert_out "prep/clean"
}

# Each invalidation is a handful of set statements over all its tasks: its counts stay
# exact after a history of undone ones and with another still in force.
test_invalidations_after_a_history_of_undos_count_exactly() {
    chain_flow
    sl run; assert_rc 0
    for i in 1 2 3; do
        sl invalidate load --downstream; assert_rc 0
        assert_out "invalidation $i: load, features, train, report"
        sl invalidate --undo $i; assert_rc 0
        assert_out "undid invalidation $i: 8 cache entries restored"
    done
    sl invalidate train; assert_rc 0
    sl invalidate load --downstream; assert_rc 0
    sl invalidate features; assert_rc 0
    sl invalidate --undo 5; assert_rc 0
    assert_out "undid invalidation 5: 3 cache entries restored, 5 stay out: invalidations 4,6 still cover them"
    sl status; assert_out "1 cached  3 invalidated"
}
