# Expiry is inherited, and a state word is true in every view: what an expiring (or
# volatile) upstream does to the entries built from it, and the `not kept` state.

no_timing_under_valgrind() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "a 2 s expiry cannot be timed under valgrind"
}

# fetch (expire 2s) reads a live source; [mid ->] report copies it and publishes it.
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
    "fetch":  { "run": "echo fetch >>\"\$RUNS\"; cat $T/source >\$OUT/v", "expire": "2s" },
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
    sleep 2.1
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
    assert_runs report 1 # a hit now (or a cutoff, should fetch have expired again)
}

test_refreshing_an_expired_upstream_alone_does_not_make_a_stale_hit() {
    no_timing_under_valgrind
    live_flow
    sl run; assert_rc 0
    sleep 2.1
    echo v2 >source
    sl run fetch; assert_rc 0
    assert_out "ran 1"
    sl status; assert_out "cached   fetch"
    assert_out "stale    report  upstream fetch changed"
    sl why report; assert_out "report: ~ stale"
    assert_not_out "its output for these exact inputs is in the store"
    reset_runs
    sl run; assert_rc 0
    assert_out "ran 1, hit 1"
    assert_runs report 1
    assert_eq "$(published)" v2 "published report"
    sl run; assert_rc 0
    assert_runs report 1 # a hit now (or a cutoff, should fetch have expired again)
}

test_expired_upstream_with_the_same_bytes_cuts_off_downstream() {
    no_timing_under_valgrind
    live_flow mid
    sl run; assert_rc 0
    sleep 2.1
    reset_runs
    sl status; assert_out "stale    mid     upstream fetch expired"
    assert_out "stale    report  upstream fetch expired"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 1 "only fetch executes"
    assert_out "cut off 2"
    sl run; assert_rc 0
    assert_runs mid 0
    assert_runs report 0
}

test_an_expired_entry_removed_by_gc_still_makes_downstream_run() {
    no_timing_under_valgrind
    live_flow
    sl run; assert_rc 0
    sleep 2.1
    sl gc; assert_rc 0
    assert_out "2 expired cache entries"
    echo v2 >source
    sl status
    assert_out "expired  fetch   gc removed its expired entry"
    assert_out "stale    report  upstream fetch is expired"
    sl why report; assert_out "upstream fetch is expired (gc removed its expired entry)"
    assert_not_out "has new output"
    reset_runs
    sl run; assert_rc 0
    assert_runs report 1
    assert_eq "$(published)" v2 "published report"
}

test_expiry_is_inherited_through_a_chain() {
    no_timing_under_valgrind
    live_flow mid
    sl run; assert_rc 0
    sleep 2.1
    echo v2 >source
    sl run fetch; assert_rc 0
    sl status; assert_out "stale    mid     upstream fetch changed"
    assert_out "stale    report  upstream mid is stale"
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
                "expire": "2s", "keep": "none" },
    "report": { "run": "echo report >>\"\$RUNS\"; cp \$IN_fetch/v \$OUT/r", "after": ["fetch"],
                "publish": "out/report" }
} }
JSON
    commit_all
    sl run; assert_rc 0
    sl status; assert_out "not kept conf"
    assert_out "not kept fetch"
    assert_out "cached   report"
    sleep 2.1
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
    "fetch": { "run": "echo fetch >>\"\$RUNS\"; cat $T/source >\$OUT/v", "expire": "2s" },
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
    sleep 2.1
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

# --- `not kept`: cached only when the bytes are in the store -------------------------------

# load (ephemeral) -> report
not_kept_flow() {
    git_repo
    write load.sh 'echo load >>"$RUNS"; seq 1 5 >"$OUT/rows"'
    write report.sh 'echo report >>"$RUNS"; wc -l <"$IN_load/rows" >"$OUT/n"'
    cat >flow.json <<'JSON'
{ "tasks": {
    "load":   { "run": "sh load.sh", "code": ["load.sh"], "keep": "none" },
    "report": { "run": "sh report.sh", "after": ["load"], "code": ["report.sh"] }
} }
JSON
    commit_all
}

test_a_not_kept_output_is_not_called_cached_anywhere() {
    not_kept_flow
    sl run; assert_rc 0
    sl status; assert_rc 0
    assert_out "◇ not kept load    output was not kept; nothing needs it now"
    assert_out "✓ cached   report"
    assert_out "1 cached  1 not kept"
    assert_not_out "cached   load"
    sl status load; assert_out "◇ not kept load    output was not kept"
    assert_not_out "stale"
    sl why load; assert_out "load: ◇ not kept"
    assert_out "  output was not kept"
    sl status --json; assert_rc 0
    printf '%s' "$OUT_TEXT" | python3 -c '
import json, sys
t = {x["name"]: x for x in json.load(sys.stdin)["tasks"]}
assert t["load"]["state"] == "not kept", t["load"]
assert t["load"]["in_store"] is False, t["load"]
assert t["report"]["state"] == "cached" and t["report"]["in_store"] is True, t["report"]
' || fail "status --json: $OUT_TEXT"
    sl dag; assert_out "◇ load"
    assert_out "◇ not kept"
    sl dag --mermaid; assert_out ":::not_kept"
    assert_out "classDef not_kept"
    sl dag --dot; assert_out 'tooltip="not kept"'
}

test_an_output_removed_by_gc_is_not_kept_not_cached() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
    "big":  { "run": "head -c 200000 /dev/urandom >$OUT/blob; echo 1 >$OUT/n" },
    "tail": { "run": "cp $IN_big/n $OUT/m", "after": ["big"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    sl gc --max-size 100K; assert_rc 0
    sl status
    assert_out "◇ not kept big   output was removed by gc; nothing needs it now"
    assert_out "✓ cached   tail"
    assert_not_out "cached   big"
    sl dag; assert_out "◇ big"
}

test_why_compares_upstream_outputs_not_keys() {
    chain_flow
    sl run; assert_rc 0
    printf '# a comment\n' >>tasks/features.sh
    sl run features; assert_rc 0
    sl why train; assert_rc 0
    assert_out "upstream features has new inputs but the same output"
    assert_not_out "upstream features changed"
    sl status; assert_not_out "upstream features changed"
}

test_tui_shows_not_kept_with_its_own_glyph_and_no_view() {
    export LC_ALL=C.UTF-8
    not_kept_flow
    sl run; assert_rc 0
    tui <<'KEYS'
dump open
key Enter
dump details
keys q
KEYS
    assert_rc 0
    screen open
    assert_out "◇ load"
    assert_out "1 cached  1 not kept"
    screen details
    assert_out "load  ◇ not kept"
    assert_out "not in the store"
    assert_not_out ".sluice/views/"
}

# The clock was ten days ahead when fetch ran, then corrected: its entry's age is
# unknown, so a 2 s expiry must not keep it for ten days (it did).
test_an_entry_made_ahead_of_the_clock_is_expired() {
    live_flow
    sl run; assert_rc 0
    sql "UPDATE entries SET created = created + 864000"
    echo v2 >source
    sl status; assert_rc 0
    assert_out "expired  fetch"
    sl why fetch; assert_line "^  expired: made [0-9.]+d ahead of the clock"
    reset_runs
    sl run; assert_rc 0
    assert_runs fetch 1
    assert_eq "$(published)" v2 "published report"
}
