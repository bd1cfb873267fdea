# Expiry is inherited, and a state word is true in every view: what an expiring (or
# volatile) upstream does to the entries built from it, and the `not kept` state.

no_timing_under_valgrind() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "a 1 s expiry cannot be timed under valgrind"
}

# fetch (expire 1s) reads a live source; [mid ->] report copies it and publishes it.
live_flow() { # [mid]
    git_repo
    echo v1 >source
    local mid_task="" up=fetch
    if [ "${1:-}" = mid ]; then
        mid_task='"mid": { "run": "echo mid >>\"$RUNS\"; cp $IN_fetch/v $OUT/v", "after": ["fetch"] },'
        up=mid
    fi
    cat >flow.json <<JSON
{ "tasks": {
    "fetch":  { "run": "echo fetch >>\"\$RUNS\"; cat $T/source >\$OUT/v", "expire": "1s" },
    $mid_task
    "report": { "run": "echo report >>\"\$RUNS\"; cp \$IN_$up/v \$OUT/v", "after": ["$up"],
                "publish": "out/report" }
} }
JSON
    commit_all
}

published() { cat out/report 2>/dev/null || echo "(nothing published)"; }

test_downstream_of_an_expired_task_is_not_served() {
    no_timing_under_valgrind
    live_flow
    sl run; assert_rc 0
    sleep 1.2
    echo v2 >source
    sl status; assert_rc 0
    assert_out "expired  fetch"
    assert_out "stale    report  upstream fetch expired"
    sl why report; assert_out "report: ~ stale"
    assert_line "^  upstream fetch expired [0-9.]+m?s ago$"
    sl run --dry-run; assert_out "would run report"
    assert_out "2 to run, 0 cached"
    reset_runs
    sl run; assert_rc 0
    assert_out "ran 2, hit 0"
    assert_eq "$(published)" v2 "published report"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
}

test_refreshing_an_expired_upstream_alone_does_not_make_a_stale_hit() {
    no_timing_under_valgrind
    live_flow
    sl run; assert_rc 0
    sleep 1.2
    echo v2 >source
    sl run fetch; assert_rc 0
    assert_out "ran 1"
    sl status; assert_out "cached   fetch"
    assert_out "stale    report  upstream fetch has new output since this was made"
    sl why report; assert_out "report: ~ stale"
    assert_not_out "its output for these exact inputs is in the store"
    reset_runs
    sl run; assert_rc 0
    assert_out "ran 1, hit 1"
    assert_runs report 1
    assert_eq "$(published)" v2 "published report"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
}

test_expired_upstream_with_the_same_bytes_cuts_off_downstream() {
    no_timing_under_valgrind
    live_flow mid
    sl run; assert_rc 0
    sleep 1.2
    reset_runs
    sl status; assert_out "stale    mid     upstream fetch expired"
    assert_out "stale    report  upstream fetch expired"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 1 "only fetch executes"
    assert_out "cut off 2"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    sl status; assert_out "3 cached"
}

test_expiry_is_inherited_through_a_chain() {
    no_timing_under_valgrind
    live_flow mid
    sl run; assert_rc 0
    sleep 1.2
    echo v2 >source
    sl run fetch; assert_rc 0
    sl status; assert_out "stale    mid     upstream fetch has new output"
    assert_out "stale    report  upstream fetch has new output"
    reset_runs
    sl run report; assert_rc 0
    assert_runs mid 1
    assert_runs report 1
    assert_runs fetch 0
    assert_eq "$(published)" v2 "published report"
}

test_an_ephemeral_task_above_an_expiring_one() {
    no_timing_under_valgrind
    git_repo
    echo v1 >source
    cat >flow.json <<JSON
{ "tasks": {
    "conf":   { "run": "echo conf >>\"\$RUNS\"; echo prefix >\$OUT/c", "keep": "none" },
    "fetch":  { "run": "echo fetch >>\"\$RUNS\"; cat \$IN_conf/c $T/source >\$OUT/v", "after": ["conf"],
                "expire": "1s", "keep": "none" },
    "report": { "run": "echo report >>\"\$RUNS\"; cp \$IN_fetch/v \$OUT/r", "after": ["fetch"],
                "publish": "out/report" }
} }
JSON
    commit_all
    sl run; assert_rc 0
    sleep 1.2
    echo v2 >source
    sl status; assert_out "expired  fetch"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(runs_of conf)$(runs_of fetch)$(runs_of report)" 111 "conf, fetch, report executions"
    assert_eq "$(published)" "prefix
v2" "published report"
}

test_a_sub_flow_with_an_expiring_task() {
    no_timing_under_valgrind
    git_repo
    echo v1 >source
    mkdir flows
    cat >flows/live.json <<JSON
{ "tasks": {
    "fetch": { "run": "echo fetch >>\"\$RUNS\"; cat $T/source >\$OUT/v", "expire": "1s" },
    "clean": { "run": "echo clean >>\"\$RUNS\"; cp \$IN_fetch/v \$OUT/v", "after": ["fetch"] }
} }
JSON
    cat >flow.json <<'JSON'
{ "tasks": {
    "live":   { "flow": "flows/live.json" },
    "report": { "run": "echo report >>\"$RUNS\"; cp $IN_live/v $OUT/v", "after": ["live"],
                "publish": "out/report" }
} }
JSON
    commit_all
    sl run; assert_rc 0
    sleep 1.2
    echo v2 >source
    sl dag; assert_out "~ report"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 3 "fetch, clean and report execute"
    assert_eq "$(published)" v2 "published report"
}

test_volatile_upstream_refreshed_alone_does_not_make_a_stale_hit() {
    git_repo
    echo v1 >source
    cat >flow.json <<JSON
{ "tasks": {
    "poll":   { "run": "echo poll >>\"\$RUNS\"; cat $T/source >\$OUT/v", "volatile": true },
    "report": { "run": "echo report >>\"\$RUNS\"; cp \$IN_poll/v \$OUT/v", "after": ["poll"],
                "publish": "out/report" }
} }
JSON
    commit_all
    sl run; assert_rc 0
    echo v2 >source
    sl run poll; assert_rc 0
    reset_runs
    sl run; assert_rc 0
    assert_runs report 1
    assert_eq "$(published)" v2 "published report"
}
