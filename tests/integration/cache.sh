# Cache control: what is kept, for how long, where it is published, what is shared.

# load (ephemeral) -> features -> report; report uses params.title only.
ephemeral_flow() {
    git_repo
    write load.sh 'echo load >>"$RUNS"; seq 1 5 >"$OUT/rows"'
    write features.sh 'echo features >>"$RUNS"; wc -l <"$IN_load/rows" >"$OUT/n"'
    write report.sh 'echo report >>"$RUNS"; { echo "$1"; cat "$IN_features/n"; } >"$OUT/r.txt"'
    cat >flow.json <<'JSON'
{ "params": { "title": "T" },
  "tasks": {
    "load":     { "run": "sh load.sh", "code": ["load.sh"], "keep": "none" },
    "features": { "run": "sh features.sh", "after": ["load"], "code": ["features.sh"] },
    "report":   { "run": "sh report.sh '{params.title}'", "after": ["features"], "code": ["report.sh"] }
} }
JSON
    commit_all
}

test_ephemeral_output_is_dropped_and_downstream_still_hits() {
    ephemeral_flow
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 3
    [ "$(sql "select count(*) from outputs where dropped is not null")" = 1 ] ||
        fail "load's output was not dropped"
    [ "$(sql "select count(*) from entries where task='load' and kind='deep'")" = 1 ] ||
        fail "load's entry (key, digest) was not kept"
    reset_runs
    sl run -p title=Other; assert_rc 0
    assert_runs report 1
    assert_eq "$(total_runs)" 1 "only report runs; load's missing bytes are not needed"
}

test_ephemeral_bytes_needed_again_rerun_the_task() {
    ephemeral_flow
    sl run; assert_rc 0
    reset_runs
    write features.sh 'echo features >>"$RUNS"; wc -l <"$IN_load/rows" >"$OUT/n"; echo more >>"$OUT/n"'
    sl status; assert_out "not kept load      output was not kept"
    sl run --dry-run; assert_out "would run load  (output was not kept)"
    sl run; assert_rc 0
    assert_runs load 1
    assert_runs features 1
    assert_runs report 1
}

test_ephemeral_root_rerun_with_same_bytes_cuts_off_downstream() {
    # A comment in load.sh: load re-runs and makes the same bytes; features and report
    # are cut off.
    ephemeral_flow
    sl run; assert_rc 0
    reset_runs
    printf '# comment\n' >>load.sh
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 1 "only load executes"
    assert_out "cut off 2"
}

test_ephemeral_task_is_cut_off_without_its_bytes_until_they_are_needed() {
    # chain a -> b (keep none) -> c. A comment in a: a re-runs with the same output, so b
    # is cut off on its recorded digest although its bytes are gone, and c follows.
    # Then c's code changes: c must run, so b runs first to give it b's output.
    git_repo
    write a.sh 'echo a >>"$RUNS"; echo A >"$OUT/a"'
    write c.sh 'echo c >>"$RUNS"; cat "$IN_b/b" >"$OUT/c"'
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "sh a.sh", "code": ["a.sh"] },
  "b": { "run": "echo b >>\"$RUNS\"; tr A B <$IN_a/a >$OUT/b", "after": ["a"], "keep": "none" },
  "c": { "run": "sh c.sh", "after": ["b"], "code": ["c.sh"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    reset_runs
    printf '# comment\n' >>a.sh
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 1 "only a executes"
    assert_out "cut off 2"
    reset_runs
    printf '# changed\n' >>c.sh
    sl run; assert_rc 0
    assert_runs a 0
    assert_runs b 1
    assert_runs c 1
    # Both at once: b is first cut off without bytes, then revived when c needs them.
    reset_runs
    printf '# comment 2\n' >>a.sh
    printf 'echo changed again >/dev/null\n' >>c.sh
    sl run; assert_rc 0
    assert_runs a 1
    assert_runs b 1
    assert_runs c 1
    [ "$(sql "select group_concat(decision) from task_runs where task='b' and run_id=(select max(id) from runs)")" = "cutoff,ran" ] ||
        fail "b was not revived: $(sql "select decision from task_runs where task='b'")"
    grep -qx B .sluice/views/*/c || fail "c did not read b's output"
}

test_ephemeral_upstream_revived_for_one_consumer_is_awaited_by_all() {
    # a -> b (keep none) -> c1, c2. A comment in a: a re-runs with the same bytes, b is
    # cut off without its bytes; c1 and c2 must run (their code changed), so the first
    # to start revives b, and the second must wait for b's new output too rather than
    # start with no upstream output (its $IN_b was the store's whole views directory).
    git_repo
    write a.sh 'echo a >>"$RUNS"; echo A >"$OUT/a"'
    write c.sh 'echo c >>"$RUNS"; ls -R "$IN_b" >"$OUT/ls"; cat "$IN_b/b" >"$OUT/c"'
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "sh a.sh", "code": ["a.sh"] },
  "b": { "run": "echo b >>\"$RUNS\"; tr A B <$IN_a/a >$OUT/b", "after": ["a"], "keep": "none" },
  "c1": { "run": "sh c.sh", "after": ["b"], "code": ["c.sh"] },
  "c2": { "run": "sh c.sh two", "after": ["b"], "code": ["c.sh"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    reset_runs
    printf '# comment\n' >>a.sh
    printf '# changed\n' >>c.sh
    sl run -j 1; assert_rc 0
    assert_runs a 1
    assert_runs b 1
    assert_runs c 2
    local t d
    for t in c1 c2; do
        d=$(sql "select digest from entries where task='$t' and kind='deep' order by created desc limit 1")
        grep -qx B .sluice/views/"$d"/c || fail "$t did not read b's output: $(cat .sluice/views/"$d"/ls)"
    done
}

test_a_revived_task_waits_for_its_own_revived_upstream() {
    # a -> b (keep none) -> c (keep none) -> u, and b -> w. A comment in a: b and c are
    # cut off without their bytes. w and u must run (their code changed): w revives b,
    # then u revives c, whose upstream b is now running again: c must wait for it.
    git_repo
    write a.sh 'echo a >>"$RUNS"; echo A >"$OUT/a"'
    write w.sh 'echo w >>"$RUNS"; cat "$IN_b/b" >"$OUT/w"'
    write u.sh 'echo u >>"$RUNS"; cat "$IN_c/c" >"$OUT/u"'
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "sh a.sh", "code": ["a.sh"] },
  "b": { "run": "echo b >>\"$RUNS\"; sleep 0.3; tr A B <$IN_a/a >$OUT/b", "after": ["a"], "keep": "none" },
  "c": { "run": "echo c >>\"$RUNS\"; tr B C <$IN_b/b >$OUT/c", "after": ["b"], "keep": "none" },
  "u": { "run": "sh u.sh", "after": ["c"], "code": ["u.sh"] },
  "w": { "run": "sh w.sh", "after": ["b"], "code": ["w.sh"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    reset_runs
    printf '# comment\n' >>a.sh
    printf '# changed\n' >>w.sh
    printf '# changed\n' >>u.sh
    sl run -j 2; assert_rc 0
    assert_runs b 1
    assert_runs c 1
    local d
    d=$(sql "select digest from entries where task='u' and kind='deep' order by created desc limit 1")
    grep -qx C .sluice/views/"$d"/u || fail "u did not read c's output"
}

test_expired_entry_is_a_miss() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "a 1 s expiry cannot be timed under valgrind"
    git_repo
    echo '{"tasks": {"fetch": {"run": "echo fetch >>\"$RUNS\"; date +%s%N >$OUT/t", "expire": "1s"}}}' >flow.json
    sl run; assert_rc 0
    sl run; assert_rc 0
    assert_runs fetch 1
    sleep 1.2
    sl status; assert_out "expired  fetch"
    assert_out "ago"
    sl run; assert_rc 0
    assert_runs fetch 2
}

test_bad_duration_is_refused() {
    git_repo
    echo '{"tasks": {"fetch": {"run": "true", "expire": "soon"}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'flow.json: task fetch: "expire" must be a duration like "90s", "15m", "24h" or "30d"'
}

test_a_revived_task_releases_its_downstream_once() {
    # src (volatile) -> mid (keep none: cut off without bytes) -> slow (volatile, needs
    # mid's bytes: mid is revived) -> end (after mid and slow). When mid completes a
    # second time, end must go on waiting for slow, not start without its input.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "src":  { "run": "echo same >$OUT/s", "volatile": true },
  "mid":  { "run": "echo mid >>\"$RUNS\"; cat $IN_src/s >$OUT/m", "after": ["src"], "keep": "none" },
  "slow": { "run": "sleep 0.3; cat $IN_mid/m >$OUT/v", "after": ["mid"], "volatile": true },
  "end":  { "run": "cat $IN_mid/m $IN_slow/v >$OUT/e", "after": ["mid", "slow"] }
} }
JSON
    sl run -j 2; assert_rc 0
    sl run -j 2; assert_rc 0
    assert_out "ran 3, hit 0, cut off 1"
    [ "$(cat .sluice/views/*/e 2>/dev/null | head -2 | tr '\n' ' ')" = "same same " ] ||
        fail "end's output: $(cat .sluice/views/*/e)"
}

test_revived_tasks_wait_for_their_own_revived_upstreams() {
    # src (volatile) -> b -> c, both keep none and so cut off without bytes; d
    # (volatile) needs both: b and c are revived, and c must wait for b.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "src": { "run": "echo same >$OUT/s", "volatile": true },
  "b":   { "run": "sleep 0.2; cat $IN_src/s >$OUT/b", "after": ["src"], "keep": "none" },
  "c":   { "run": "cat $IN_b/b >$OUT/c", "after": ["b"], "keep": "none" },
  "d":   { "run": "cat $IN_b/b $IN_c/c >$OUT/d", "after": ["b", "c"], "volatile": true }
} }
JSON
    sl run -j 2; assert_rc 0
    sl run -j 2; assert_rc 0
    assert_out "ran 4, hit 0, cut off 0"
    [ "$(cat .sluice/views/*/d 2>/dev/null | tr '\n' ' ')" = "same same " ] ||
        fail "d's output: $(cat .sluice/views/*/d)"
}

test_volatile_runs_every_time_and_unchanged_output_cuts_off() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "poll": { "run": "echo poll >>\"$RUNS\"; cat \"$T/source\" >$OUT/data", "volatile": true },
  "use":  { "run": "echo use >>\"$RUNS\"; wc -c <$IN_poll/data >$OUT/n", "after": ["poll"] }
} }
JSON
    echo v1 >"$T/source"
    sl run; assert_rc 0
    sl run; assert_rc 0
    assert_runs poll 2
    assert_runs use 1
    assert_out "cut off 1"
    echo v2-longer >"$T/source"
    sl run; assert_rc 0
    assert_runs poll 3
    assert_runs use 2
}

test_publish_materialises_the_output() {
    git_repo
    cat >flow.json <<'JSON'
{ "params": { "lr": 0.5 },
  "tasks": {
    "train": { "run": "echo model-{params.lr} >$OUT/model.bin", "publish": "models/lr={params.lr}/model-{key:8}" },
    "many":  { "run": "mkdir $OUT/d && echo 1 >$OUT/d/x && echo 2 >$OUT/y", "publish": "out/many" }
} }
JSON
    sl run; assert_rc 0
    f=$(ls models/lr=0.5/model-*)
    [ "$(cat "$f")" = model-0.5 ] || fail "published file content: $(cat "$f")"
    key=$(sql "select substr(deep_key,1,8) from task_runs where task='train'")
    [ "$f" = "models/lr=0.5/model-$key" ] || fail "published name $f, key $key"
    [ -f out/many/d/x ] && [ "$(cat out/many/y)" = 2 ] || fail "directory output not published"
    [ -L "$f" ] && fail "published as a symlink"
    inode=$(stat -c %i "$f")
    sl run; assert_rc 0
    [ "$(stat -c %i "$f")" = "$inode" ] || fail "an unchanged output was published again"
    rm "$f"
    sl run; assert_rc 0
    [ -f "$f" ] || fail "a cache hit did not publish the missing file"
}

# prep publishes; report, downstream of it, is the target and does not.
publish_upstream_flow() {
    git_repo
    cat >flow.json <<JSON
{ "tasks": {
  "prep":   { "run": "echo prep >>\"\$RUNS\"; echo p >\$OUT/p.txt", "publish": "${1:-pub}/p.txt" },
  "report": { "run": "echo report >>\"\$RUNS\"; cat \$IN_prep/p.txt >\$OUT/r.txt", "after": ["prep"] }
} }
JSON
}

test_publish_upstream_of_a_cached_target_is_kept_current() {
    publish_upstream_flow
    sl run; assert_rc 0
    [ -f pub/p.txt ] || fail "prep was not published"
    reset_runs
    rm pub/p.txt
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    assert_eq "$(total_runs)" 0 "nothing runs to publish again"
    assert_eq "$(cat pub/p.txt 2>/dev/null)" p "the deleted publication is back"
    assert_eq "$(sql "select count(*) from events where run_id = 2 and task = 'prep' and state = 'published'")" 1
    publish_upstream_flow moved
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "a new publish template runs nothing"
    assert_eq "$(cat moved/p.txt 2>/dev/null)" p "published where the new template says"
    sl run; assert_rc 0
    assert_eq "$(sql "select count(*) from events where run_id = 4 and state = 'published'")" 0 \
        "a current publication is left alone"
}

publish_dropped_flow() {
    cat >flow.json <<JSON
{ "tasks": {
  "prep":   { "run": "echo prep >>\"\$RUNS\"; echo prep-bytes >\$OUT/p.txt", "publish": "$1/p.txt" },
  "report": { "run": "echo report >>\"\$RUNS\"; (cat \$IN_prep/p.txt; echo r) >\$OUT/r.txt",
              "after": ["prep"] }
} }
JSON
}

# gc --max-size drops prep's bytes (report, a hit since, was used last); then its
# publication moves, or is removed: the flow says it is published, so prep runs again.
test_a_moved_publication_whose_bytes_gc_dropped_runs_its_task_again() {
    git_repo
    publish_dropped_flow pub
    sl run; assert_rc 0
    sleep 1.1
    sl run; assert_rc 0
    sl gc --max-size 15; assert_rc 0
    assert_out "freed 11 B: 1 output"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "a publication in place needs no bytes"
    publish_dropped_flow moved
    sl run; assert_rc 0
    assert_eq "$(cat moved/p.txt 2>/dev/null)" prep-bytes "published where the new template says"
    assert_eq "$(runs_of prep)" 1 "prep ran again to publish: its bytes were gone"
    assert_eq "$(runs_of report)" 0 "report stays a hit"
    sleep 1.1
    sl run; assert_rc 0
    sl gc --max-size 15; assert_rc 0
    assert_out "freed 11 B: 1 output"
    rm moved/p.txt
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(cat moved/p.txt 2>/dev/null)" prep-bytes "a removed publication is made again"
    assert_eq "$(runs_of prep)" 1 "prep ran again to publish it"
    assert_eq "$(runs_of report)" 0 "report stays a hit"
}

test_publish_outside_the_flow_directory_is_refused() {
    git_repo
    echo '{"tasks": {"t": {"run": "true", "publish": "../elsewhere/x"}}}' >flow.json
    sl run; assert_rc 2
    assert_out "flow.json: task t: publish path ../elsewhere/x leaves the flow's directory (set \"publish_root\" to allow it)"
    echo '{"tasks": {"t": {"run": "true", "publish": "/tmp/x"}}}' >flow.json
    sl run; assert_rc 2
    assert_out "leaves the flow's directory"
    mkdir -p ../shared-$$
    echo "{\"publish_root\": \"..\", \"tasks\": {\"t\": {\"run\": \"echo x >\$OUT/f\", \"publish\": \"../shared-$$/x\"}}}" >flow.json
    sl run; assert_rc 0
    [ -f ../shared-$$/x ] || fail "publish_root did not allow the path"
    rm -rf ../shared-$$
}

test_subflow_is_one_cache_unit_shared_by_two_flows() {
    subflow_pair
    export SLUICE_STORE="$T/shared-store" STORE="$T/shared-store"
    sl -f a/flow.json run; assert_rc 0
    assert_runs clean 1
    assert_runs stats 1
    assert_runs use_a 1
    sl -f b/flow.json run; assert_rc 0
    assert_runs clean 1
    assert_runs stats 1
    assert_runs use_b 1
    sl -f a/flow.json status
    assert_out "cached   prep/clean"
    assert_out "cached   prep/stats"
}

test_subflow_errors_are_located() {
    subflow_pair
    echo '{"tasks": {"x": {"flow": "flow.json"}}}' >self.json
    cp self.json flow.json
    sl run; assert_rc 2
    assert_out "flow.json: task x: flow.json includes itself: flow.json -> flow.json"
    cat >flows/two.json <<'JSON'
{ "tasks": { "p": { "run": "true" }, "q": { "run": "true" } } }
JSON
    echo '{"tasks": {"s": {"flow": "flows/two.json"}, "u": {"run": "true", "after": ["s"]}}}' >flow.json
    sl run; assert_rc 2
    assert_out "flows/two.json: a sub-flow needs one output: it has 2 final tasks; mark one with \"output\": true"
    echo '{"tasks": {"s": {"flow": "flows/prep.json", "with": {"nope": 1}}}}' >flow.json
    sl run; assert_rc 2
    assert_out "flows/prep.json: no parameter named nope (it has: src)"
    echo '{"tasks": {"s": {"flow": "flows/prep.json", "run": "x"}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'task s: a sub-flow node takes only "flow", "with" and "matrix"'
}

test_identical_task_in_two_flows_runs_once() {
    git_repo
    mkdir one two
    write step.sh 'echo step >>"$RUNS"; echo same >"$OUT/x"'
    echo '{"tasks": {"first":  {"run": "sh ../step.sh", "code": ["../step.sh"]}}}' >one/flow.json
    echo '{"tasks": {"second": {"run": "sh ../step.sh", "code": ["../step.sh"]}}}' >two/flow.json
    commit_all
    export SLUICE_STORE="$T/shared-store"
    sl -f one/flow.json run; assert_rc 0
    sl -f two/flow.json run; assert_rc 0
    assert_runs step 1
    assert_out "ran 0, hit 1"
}

test_gc_frees_unreferenced_outputs_and_keeps_referenced_ones() {
    chain_flow
    sl run; assert_rc 0
    sl run -p lr=0.2; assert_rc 0          # a second train/report output
    before=$(find .sluice/objects -type f | wc -l)
    sl gc --dry-run; assert_rc 0
    assert_out "would free"
    [ "$(find .sluice/objects -type f | wc -l)" = "$before" ] || fail "a dry run deleted objects"
    # Forget the lr=0.2 results: their entries go, so their bytes are garbage.
    sql "delete from entries where task_run_id in (select id from task_runs where run_id = 2)"
    mkdir -p .sluice/objects/ab && echo junk >.sluice/objects/ab/cdef-orphan  # a crash leftover
    sl gc; assert_rc 0
    assert_out "freed"
    [ -e .sluice/objects/ab/cdef-orphan ] && fail "an orphan object survived"
    [ "$(find .sluice/objects -type f | wc -l)" -lt "$before" ] || fail "nothing was freed"
    reset_runs
    [ "$(sql 'select count(*) from runs')" = 2 ] || fail "gc damaged the history"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "gc removed something the current results need"
    sl run -p lr=0.2; assert_rc 0
    assert_runs train 1
}

test_gc_max_size_drops_least_recently_used_and_keep_runs_protects() {
    git_repo
    cat >flow.json <<'JSON'
{ "params": { "n": 1 },
  "tasks": { "big": { "run": "echo big >>\"$RUNS\"; head -c 200000 /dev/urandom >$OUT/blob; echo {params.n} >$OUT/n" } } }
JSON
    sl run -p n=1; assert_rc 0
    sl run -p n=2; assert_rc 0
    sl run -p n=3; assert_rc 0
    sl gc --max-size 300K --keep-runs 1; assert_rc 0
    reset_runs
    sl run -p n=3; assert_rc 0
    assert_eq "$(total_runs)" 0 "the most recent output was dropped"
    sl status -p n=1; assert_out "output was removed by gc"
    assert_not_out "output was not kept"
    sl run --dry-run -p n=1; assert_out "would run big  (output was removed by gc)"
    sl run -p n=1; assert_rc 0
    assert_runs big 1
    sl status -p n=1; assert_out "cached"
    [ -s .sluice/sluice.db ] && [ "$(sql 'select count(*) from runs')" = 5 ] ||
        fail "gc damaged the history"
}

test_gc_refuses_while_a_run_holds_the_store() {
    git_repo
    echo '{"tasks": {"slow": {"run": "touch \"$T/started\"; sleep 2"}}}' >flow.json
    "$SLUICE" run >/dev/null 2>&1 &
    for _ in $(seq 100); do [ -e started ] && break; sleep 0.05; done
    sl gc; assert_rc 2 # the same exit and the same words as verify --repair
    assert_out "in use by a run"
    assert_out "gc changes nothing while a run uses the store"
    sl verify --repair; assert_rc 2
    assert_out "verify --repair changes nothing while a run uses the store"
    wait
    sl gc; assert_rc 0
}

test_publish_through_a_symlink_leading_outside_is_refused() {
    git_repo
    mkdir -p "$T/../outside-$$" && ln -s "$T/../outside-$$" link
    echo '{"tasks": {"t": {"run": "echo t >>$RUNS; echo x >$OUT/f", "publish": "link/f"}}}' >flow.json
    sl run
    rm_outside() { local found; found=$(ls -A "$T/../outside-$$"); rm -rf "$T/../outside-$$"; echo "$found"; }
    [ -z "$(rm_outside)" ] || fail "published outside the flow's directory"
    assert_rc 2
    assert_out "flow.json: task t: publish path link/f leads outside the flow's directory"
    assert_eq "$(total_runs)" 0 "refused before anything ran"
    mkdir inside && ln -sfn inside link2
    echo '{"tasks": {"t": {"run": "echo t >>$RUNS; echo x >$OUT/f", "publish": "link2/f"}}}' >flow.json
    sl run; assert_rc 0
    assert_eq "$(cat inside/f)" x "a symlink within the flow's directory is fine"
}

# A publication that cannot be written fails the run, not the tasks: both outputs are
# stored, the other task still runs, and the next run only publishes.
test_a_publish_path_that_cannot_be_written_fails_the_run_but_keeps_the_outputs() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo a >$OUT/a.txt", "publish": "locked/a.txt" },
  "b": { "run": "echo b >>\"$RUNS\"; cat $IN_a/a.txt >$OUT/b.txt", "after": ["a"] }
} }
JSON
    echo 'a file where a directory should be' >locked
    sl run; assert_rc 1
    assert_out "unpublished a  (task a: "
    assert_out "run 1 failed: ran 2, hit 0, cut off 0, failed 0, unpublished 1"
    assert_eq "$(sql "select count(*) from events where task = 'a' and state = 'publish failed'")" 1
    sl show 1; assert_rc 0
    assert_out "publish  failed: task a: publishing to $PWD/locked/a.txt: $PWD/locked is not a directory"
    sl history; assert_out "(1 unpublished)"
    rm locked
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "the stored outputs were used"
    assert_eq "$(cat locked/a.txt 2>/dev/null)" a "published once the directory was writable"
}

# RUN_PID waits for the store's lock (its flock is blocked in /proc/locks).
blocked_on_lock() {
    for _ in $(seq 3000); do
        grep -Eq -- "-> FLOCK +ADVISORY +READ +$1 " /proc/locks && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# A run started while COMMAND... holds the store exclusively (stopped by the hook
# until hook/go exists) must plan only once it has the lock: whatever the command
# removed meanwhile runs again and gives the right bytes.
run_racing() { # COMMAND...
    rm -rf hook && mkdir hook
    SLUICE_TEST_HOOK="store-locked-exclusive wait 1 $T/hook" "$SLUICE" "$@" >hook.out 2>&1 &
    local held=$!
    for _ in $(seq 3000); do [ -e hook/stopped ] && break; sleep 0.01; done
    [ -e hook/stopped ] || fail "$1 never took the store's lock: $(cat hook.out)"
    reset_runs
    "$SLUICE" run >run.out 2>&1 &
    local run=$!
    blocked_on_lock "$run" || { touch hook/go; fail "the run never waited for $1's lock: $(cat run.out)"; }
    touch hook/go
    wait "$held" || fail "$1 failed: $(cat hook.out)"
    wait "$run"; RC=$?; OUT_TEXT=$(cat run.out)
    assert_rc 0
    assert_runs t 1
    assert_out "ran 1, hit 0"
    assert_eq "$(cat .sluice/views/*/f)" "fresh bytes" "the run's output"
}

test_a_run_waiting_for_gc_plans_after_it_and_runs_what_gc_deleted() {
    git_repo
    echo '{"tasks": {"t": {"run": "echo t >>\"$RUNS\"; echo fresh bytes >$OUT/f"}}}' >flow.json
    sl run; assert_rc 0
    run_racing gc --max-size 1
}

test_a_run_waiting_for_verify_repair_plans_after_it() {
    git_repo
    echo '{"tasks": {"t": {"run": "echo t >>\"$RUNS\"; echo fresh bytes >$OUT/f"}}}' >flow.json
    sl run; assert_rc 0
    obj=$(find .sluice/objects -type f | head -1)
    chmod u+w "$obj"; echo tampered >"$obj"
    run_racing verify --repair
}

# Run B computes an ephemeral output and is done with it while run A, started
# meanwhile, has planned to read it (a hit of A's plan): B must see A as going, even
# though A has only planned so far, and leave the bytes for it.
test_an_ephemeral_output_a_planned_run_reads_is_not_dropped_under_it() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "e":  { "run": "echo e >>\"$RUNS\"; echo shared >$OUT/f", "keep": "none" },
  "c1": { "run": "(cat $IN_e/f; echo c1) >$OUT/f; touch \"$GATE.in\"; while [ ! -e \"$GATE\" ]; do sleep 0.02; done",
          "after": ["e"] },
  "c2": { "run": "echo c2 >>\"$RUNS\"; (cat $IN_e/f; echo c2) >$OUT/f", "after": ["e"] }
} }
JSON
    GATE=$T/gate "$SLUICE" run c1 >b.out 2>&1 &
    local b=$!
    for _ in $(seq 3000); do
        [ -e gate.in ] && [ "$(sql "select count(*) from entries where task = 'e'")" -gt 0 ] && break
        sleep 0.01
    done
    [ -e gate.in ] || { touch gate; fail "run B never reached c1: $(cat b.out)"; }
    rm -rf hook && mkdir hook
    SLUICE_TEST_HOOK="run-planned wait 1 $T/hook" "$SLUICE" run c2 >a.out 2>&1 &
    local a=$!
    for _ in $(seq 3000); do [ -e hook/stopped ] && break; sleep 0.01; done
    [ -e hook/stopped ] || { touch gate; fail "run A never planned: $(cat a.out)"; }
    touch gate
    wait "$b" || fail "run B failed: $(cat b.out)"
    reset_runs
    touch hook/go
    wait "$a"; RC=$?; OUT_TEXT=$(cat a.out)
    assert_rc 0
    assert_out "ran 1, hit 1"
    assert_runs e 0
    assert_runs c2 1
    assert_eq "$(cat .sluice/views/"$(sql "select digest from entries where task = 'c2' and kind = 'deep'")"/f)" \
        "shared
c2" "c2's output"
}

# Two includes of one sub-flow have the same tasks, so one run computes each once,
# an ephemeral one too: its output stays until the other include has read it.
test_an_ephemeral_task_shared_by_two_includes_runs_once() {
    git_repo
    mkdir flows
    cat >flows/s.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo bytes >$OUT/f", "keep": "none" },
  "b": { "run": "echo b >>\"$RUNS\"; (cat $IN_a/f; echo b) >$OUT/f", "after": ["a"] },
  "c": { "run": "(cat $IN_b/f; echo c) >$OUT/f", "after": ["b"] }
} }
JSON
    cat >flow.json <<'JSON'
{ "tasks": {
  "s0": { "flow": "flows/s.json" },
  "s1": { "flow": "flows/s.json" },
  "both": { "run": "cat $IN_s0/f $IN_s1/f >$OUT/f", "after": ["s0", "s1"] }
} }
JSON
    sl run -j 1; assert_rc 0
    assert_runs a 1
    assert_runs b 1
    assert_out "failed 0"
}

# A forced re-run that gives other bytes (a task that is not deterministic): nothing
# built from the old bytes is a hit any more; what comes out the same is still cut off.
test_a_forced_rerun_with_new_bytes_leaves_no_stale_hit_downstream() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "train":  { "run": "echo train >>\"$RUNS\"; date +%s%N >$OUT/model" },
  "report": { "run": "echo report >>\"$RUNS\"; cp $IN_train/model $OUT/r", "after": ["train"] },
  "size":   { "run": "echo size >>\"$RUNS\"; wc -c <$IN_report/r >$OUT/s", "after": ["report"] }
} }
JSON
    sl run; assert_rc 0
    sl run --force train; assert_rc 0
    reset_runs
    sl run; assert_rc 0
    assert_runs report 1
    assert_runs size 1
    model=$(cat .sluice/views/"$(sql "select digest from entries where task = 'train' and kind = 'deep'")"/model)
    r=$(cat .sluice/views/"$(sql "select digest from entries where task = 'report' and kind = 'deep'")"/r)
    assert_eq "$r" "$model" "the report of the current model"
}

# v is cut off without its bytes, then revived for z: e, an ephemeral hit of the plan
# that v reads, must still be there then (w's read alone must not drop it).
test_a_revived_cutoff_still_finds_its_ephemeral_hit_input() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo a >$OUT/a" },
  "e": { "run": "echo e >>\"$RUNS\"; (cat $IN_a/a; echo e) >$OUT/e", "after": ["a"], "keep": "none" },
  "v": { "run": "echo v >>\"$RUNS\"; (cat $IN_e/e; echo v) >$OUT/v", "after": ["e"], "keep": "none" },
  "w": { "run": "echo w >>\"$RUNS\"; (cat $IN_e/e; echo w) >$OUT/w", "after": ["e"] },
  "z": { "run": "echo z >>\"$RUNS\"; cat $IN_v/v $IN_w/w >$OUT/z", "after": ["v", "w"] }
} }
JSON
    sl run; assert_rc 0
    sed -i 's/echo a >\$OUT/echo  a >$OUT/' flow.json # new deep keys, same bytes
    sl run e; assert_rc 0                               # e is kept as a target
    sed -i 's/>\$OUT\/z"/>$OUT\/z; echo z2 >>$OUT\/z"/' flow.json
    reset_runs
    sl run; assert_rc 0
    assert_out "ran 2, hit 1, cut off 1, failed 0"
    assert_eq "$(runs_of v) $(runs_of z) $(runs_of e)" "1 1 0" "v revived from the hit e"
    sl status e; assert_out "not kept"
}

# rewrite FILE TEXT: new bytes of the same size under the old mtime (as a tool that
# restores timestamps, `touch -r` or an editor keeping them, does): only ctime moves.
same_stat_rewrite() {
    m=$(stat -c %y "$1")
    printf '%s\n' "$2" >"$1"
    touch -d "$m" "$1"
}

# wait_for FILE: up to 10 s (more under valgrind) for a task to create it.
wait_for() { for _ in $(seq 1000); do [ -e "$1" ] && return 0; sleep 0.02; done; fail "no $1"; }

test_an_input_edited_while_its_task_runs_leaves_it_uncached() {
    # a reads data.txt while it holds v2; the user then restores v1 under its old size
    # and mtime. The key sluice computed is v1's: caching a's v2 output under it would
    # serve v2 for v1 ever after (the oracle, a fresh run of v1, says v1).
    git_repo
    write data.txt 'v1'
    touch -d '1 hour ago' data.txt
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; touch \"$T/started\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; cat data.txt >$OUT/o; touch \"$T/read\"; while [ ! -e \"$T/go2\" ]; do sleep 0.02; done",
         "files": ["data.txt"] },
  "b": { "run": "echo b >>\"$RUNS\"; cat $IN_a/o >$OUT/o", "after": ["a"] } } }
JSON
    commit_all
    T=$PWD "$SLUICE" run >one.out 2>&1 &
    local one=$!
    wait_for started
    same_stat_rewrite data.txt 'v2'
    touch go
    wait_for read
    same_stat_rewrite data.txt 'v1'
    touch go2
    wait "$one" || fail "run: $(cat one.out)"
    OUT_TEXT=$(cat one.out)
    assert_out "warning: the inputs of a changed while it ran, so its result is not cached"
    [ "$(sql "select count(*) from task_runs where task='a' and reason like '%data.txt changed while it ran, so its result is not cached%'")" = 1 ] ||
        fail "a's history does not say why it is not cached: $(sql "select reason from task_runs")"
    assert_eq "$(sql "select count(*) from entries where task='a'")" 0 "a's entries"
    assert_eq "$(sql "select count(*) from entries where task='b' and kind='deep'")" 0 \
        "b's deep entries (its key is made of a's)"
    sl status a; assert_not_out "cached"
    reset_runs
    touch go go2
    T=$PWD sl run; assert_rc 0
    assert_runs a 1
    local t
    for t in a b; do
        assert_eq "$(cat .sluice/views/"$(sql "select digest from entries where task='$t' and kind='deep'")"/o)" \
            v1 "$t's output after the rerun"
    done
    sl status; assert_out "2 cached"
}

test_a_file_added_to_a_files_directory_while_its_task_runs_leaves_it_uncached() {
    git_repo
    write d/x 'x'
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "touch \"$T/started\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; cat d/* >$OUT/o",
         "files": ["d"] } } }
JSON
    commit_all
    T=$PWD "$SLUICE" run >one.out 2>&1 &
    local one=$!
    wait_for started
    write d/y 'y'
    touch go
    wait "$one" || fail "run: $(cat one.out)"
    OUT_TEXT=$(cat one.out); assert_out "the inputs of a changed while it ran"
    assert_eq "$(sql "select count(*) from entries where task='a'")" 0 "a's entries"
    [ "$(sql "select count(*) from task_runs where reason like '%d/y changed while it ran%'")" = 1 ] ||
        fail "the cause does not name d/y: $(sql "select reason from task_runs")"
}

test_a_same_size_rewrite_under_the_old_mtime_is_a_change() {
    git_repo
    write tracked.sh 'echo one >$OUT/o'
    write untracked.sh 'echo one >$OUT/o'
    write data.txt 'aaaa'
    touch -d '1 hour ago' tracked.sh untracked.sh data.txt
    cat >flow.json <<'JSON'
{ "name": "s",
  "tasks": {
    "t": { "run": "sh tracked.sh", "code": ["tracked.sh"] },
    "u": { "run": "sh untracked.sh", "code": ["untracked.sh"] },
    "f": { "run": "cat data.txt >$OUT/o", "files": ["data.txt"] } } }
JSON
    git add flow.json tracked.sh data.txt && git commit -qm init
    sl run; assert_rc 0
    sl status; assert_out '3 cached'
    same_stat_rewrite tracked.sh 'echo two >$OUT/o'
    same_stat_rewrite untracked.sh 'echo two >$OUT/o'
    same_stat_rewrite data.txt 'bbbb'
    sl status
    assert_out 'code tracked.sh changed'
    assert_out 'code untracked.sh changed'
    assert_out 'file data.txt changed'
    sl run; assert_rc 0; assert_out 'ran 3, hit 0'
}
