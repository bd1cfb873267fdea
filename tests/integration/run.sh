# sluice run: what executes, what is reused, and what the user sees.

test_second_run_executes_nothing() {
    chain_flow
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 4
    assert_out "ran 4, hit 0"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0
    assert_out "ran 0, hit 1"
}

test_param_used_only_by_last_task_runs_only_it() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    sl run -p title=Other; assert_rc 0
    assert_runs report 1
    assert_eq "$(total_runs)" 1
    grep -q "# Other" .sluice/views/*/report.md || fail "report output lacks the new title"
}

test_comment_only_edit_reruns_only_that_task() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    printf '# a comment\n' >>tasks/features.sh
    sl run; assert_rc 0
    assert_runs features 1
    assert_eq "$(total_runs)" 1 "only features executes (train and report are cut off)"
    assert_out "cut off 2"
}

test_real_change_reruns_it_and_downstream() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    write tasks/features.sh 'echo features >>"$RUNS"; tr a-z A-Z <"$IN_load/data.csv" >"$OUT/f.csv"; echo extra >>"$OUT/f.csv"'
    sl run; assert_rc 0
    assert_runs load 0
    assert_runs features 1
    assert_runs train 1
    assert_runs report 1
}

test_failing_task_stops_downstream_and_exits_1() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "ok":     { "run": "echo ok >>\"$RUNS\"" },
  "bad":    { "run": "echo bad >>\"$RUNS\"; echo 'something broke' >&2; exit 3" },
  "after_bad": { "run": "echo after_bad >>\"$RUNS\"", "after": ["bad"] },
  "after_ok":  { "run": "echo after_ok >>\"$RUNS\"", "after": ["ok"] }
} }
JSON
    sl run; assert_rc 1
    assert_runs bad 1
    assert_runs after_bad 0
    assert_runs ok 1
    assert_runs after_ok 1
    assert_out "failed    bad  (exit code 3)"
    assert_out "| something broke"
    assert_out "blocked   after_bad  (upstream bad failed)"
    [ "$(sql "select decision||':'||exit_code from task_runs where task='bad'")" = "failed:3" ] ||
        fail "the failure is not recorded"
    reset_runs
    sl run; assert_rc 1
    assert_runs ok 0
    assert_runs bad 1
}

test_tasks_run_in_parallel() {
    # Each task waits (up to 10 s) for the other's marker: only parallel runs finish fast
    # and succeed; sequential execution would fail both.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "touch \"$T/a.ready\"; i=0; while [ ! -e \"$T/b.ready\" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done" },
  "b": { "run": "touch \"$T/b.ready\"; i=0; while [ ! -e \"$T/a.ready\" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done" }
} }
JSON
    sl run -j 2; assert_rc 0
    rm -f a.ready b.ready
    sl run -j 1 --force a b; assert_rc 1
}

test_outputs_flow_through_in_variables() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "prep-data.v1": { "run": "mkdir -p $OUT/sub && echo hello >$OUT/sub/x.txt && chmod +x $OUT/sub/x.txt" },
  "use":          { "run": "cat $IN_prep_data_v1/sub/x.txt >$OUT/copy && test -x $IN_prep_data_v1/sub/x.txt && [ -z \"$(find $IN_prep_data_v1 -perm /222)\" ] && { [ $(id -u) = 0 ] || ! touch $IN_prep_data_v1/new 2>/dev/null; }", "after": ["prep-data.v1"] }
} }
JSON
    # Every check holds for root too (CI runs as root, and root may write anything):
    # the modes say read-only, and only a non-root user can try writing.
    sl run; assert_rc 0
    [ "$(cat .sluice/views/*/copy)" = hello ] || fail "downstream did not read upstream output"
    [ -z "$(ls .sluice/tmp)" ] || fail "scratch directories were left behind: $(ls .sluice/tmp)"
}

test_input_files_change_reruns_touch_does_not() {
    git_repo
    write data/in.csv "1,2,3"
    cat >flow.json <<'JSON'
{ "params": { "data": "data/in.csv" },
  "tasks": { "load": { "run": "echo load >>\"$RUNS\"; cp {params.data} $OUT/", "files": ["{params.data}"] } } }
JSON
    sl run; assert_rc 0
    touch -d '1 hour ago' data/in.csv
    sl run; assert_rc 0
    assert_runs load 1
    printf '4,5,6\n' >data/in.csv
    sl status; assert_out "file data/in.csv changed"
    sl run; assert_rc 0
    assert_runs load 2
}

test_force_reruns_the_target_only() {
    chain_flow
    sl run; assert_rc 0
    reset_runs
    sl run --force train; assert_rc 0
    assert_runs train 1
    assert_eq "$(total_runs)" 1
}

test_named_target_runs_only_what_it_needs() {
    chain_flow
    sl run features; assert_rc 0
    assert_runs load 1
    assert_runs features 1
    assert_runs train 0
    assert_runs report 0
}

test_ctrl_c_cancels_running_tasks() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": { "slow": { "run": "echo $$ >\"$T/slow.pid\"; exec sleep 60" } } }
JSON
    "$SLUICE" run >out.txt 2>&1 &
    pid=$!
    for _ in $(seq 400); do [ -s slow.pid ] && break; sleep 0.05; done
    [ -s slow.pid ] || fail "task never started"
    kill -INT "$pid"
    wait "$pid"; rc=$?
    assert_eq "$rc" 130 "exit code after Ctrl-C"
    kill -0 "$(cat slow.pid)" 2>/dev/null && fail "the task's process survived the cancel"
    [ "$(sql "select decision from task_runs where task='slow'")" = cancelled ] || fail "not recorded as cancelled"
    [ "$(sql "select status from runs")" = cancelled ] || fail "run not recorded as cancelled"
}

test_outside_git_works_and_says_so_once() {
    write s.sh 'echo s >>"$RUNS"'
    echo '{ "tasks": { "s": { "run": "sh s.sh", "code": ["s.sh"] } } }' >flow.json
    sl run; assert_rc 0
    assert_out "not in a git repository"
    sl run; assert_rc 0
    assert_not_out "not in a git repository"
    assert_runs s 1
    printf '# changed\n' >>s.sh
    sl run; assert_rc 0
    assert_runs s 2
}

test_store_location_follows_sluice_store() {
    chain_flow
    export STORE="$T/elsewhere"
    SLUICE_STORE="$STORE" "$SLUICE" run >/dev/null 2>&1 || fail "run failed"
    [ -f "$STORE/sluice.db" ] || fail "no database in \$SLUICE_STORE"
    [ ! -e .sluice ] || fail "created .sluice despite \$SLUICE_STORE"
    [ "$(stat -c %a "$STORE")" = 700 ] || fail "store is not 0700"
    [ "$(stat -c %a "$STORE/sluice.db")" = 600 ] || fail "database is not 0600"
}

test_progress_is_one_line_per_event_off_a_terminal() {
    chain_flow
    sl run
    assert_out "running   load"
    assert_out "ran       load"
    assert_out "run 1 ok: ran 4, hit 0, cut off 0, failed 0"
}

# output_of STORE TASK FILE: a file of the task's cached output in that store.
output_of() {
    local d
    d=$(sqlite3 "$1/sluice.db" "select digest from entries where task='$2' and kind='deep'")
    [ -n "$d" ] || fail "no cache entry for $2 in $1"
    cat "$1/views/$d/$3"
}

test_relative_flow_path_from_another_directory_runs() {
    mkdir proj && (cd proj && chain_flow) || fail "setup failed"
    sl -f proj/flow.json run; assert_rc 0
    assert_eq "$(total_runs)" 4
    assert_eq "$(output_of proj/.sluice report report.md)" "$(printf '# Report\nA,B\nlr=0.1')"
    reset_runs
    (cd proj && "$SLUICE" run >/dev/null 2>&1) || fail "run from the flow's directory failed"
    assert_eq "$(total_runs)" 0 "the same store, whichever directory sluice starts in"
}

# flow.json includes flows/sub.json, whose two tasks run in flows/ and pass a file on.
subdir_subflow() {
    git_repo
    write flows/make.sh 'echo make >>"$RUNS"; echo "$1" >"$OUT/b.txt"'
    write flows/use.sh 'echo use >>"$RUNS"; tr a-z A-Z <"$IN_make/b.txt" >"$OUT/b.txt"'
    cat >flows/sub.json <<'JSON'
{ "params": { "word": "x" },
  "tasks": {
    "make": { "run": "sh make.sh {params.word}", "code": ["make.sh"] },
    "use":  { "run": "sh use.sh", "after": ["make"], "code": ["use.sh"] }
} }
JSON
    cat >flow.json <<'JSON'
{ "tasks": {
  "sub":  { "flow": "flows/sub.json", "with": { "word": "hi" } },
  "last": { "run": "echo last >>\"$RUNS\"; cat $IN_sub/b.txt >$OUT/c.txt", "after": ["sub"] }
} }
JSON
    commit_all
}

test_subflow_in_a_subdirectory_runs_with_the_default_store() {
    subdir_subflow
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 3
    assert_eq "$(output_of .sluice last c.txt)" "HI"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0
}

test_relative_sluice_store_is_resolved_from_the_current_directory() {
    subdir_subflow
    SLUICE_STORE=rel-store sl run; assert_rc 0
    assert_eq "$(total_runs)" 3
    assert_eq "$(output_of rel-store last c.txt)" "HI"
    [ ! -e .sluice ] && [ ! -e flows/rel-store ] || fail "a store appeared outside rel-store"
    reset_runs
    (cd flows && SLUICE_STORE=../rel-store "$SLUICE" -f ../flow.json run >/dev/null 2>&1) ||
        fail "run from flows/ failed"
    assert_eq "$(total_runs)" 0 "the same store, named from another directory"
}

test_dry_run_marks_what_would_run_as_queued() {
    chain_flow
    LC_ALL=C.UTF-8 sl run --dry-run; assert_rc 0
    assert_out "◌ would run load"
    assert_not_out "○"
    LC_ALL=C sl run --dry-run; assert_out "q would run load"
}

# A failed task's log tail is quoted on the terminal: its control bytes must not
# act there (clear the screen, retitle the window, move the cursor over the quote).
test_a_failed_tasks_log_tail_cannot_drive_the_terminal() {
    git_repo
    cat >flow.json <<'JSON'
{ "name": "esc",
  "tasks": { "a": { "run": "printf 'error: \\033]0;PWNED\\007\\033[2Jbad\\n10%%\\r100%%\\n' >&2; exit 3" } } }
JSON
    commit_all
    sl run; assert_rc 1
    esc=$(printf '\033'); bel=$(printf '\007'); cr=$(printf '\r')
    assert_not_out "$esc"
    assert_not_out "$bel"
    assert_not_out "$cr"
    assert_out '| error: ^[]0;PWNED^G^[[2Jbad'
    assert_out '| 100%'
}
