# Task fields: files as globs and directories, outputs, cpus, and names suggested.

test_unknown_task_name_suggests_the_nearest() {
    chain_flow
    sl run trian; assert_rc 2
    assert_out 'flow.json: no task named "trian" (did you mean "train"?)'
    sl status fetaures; assert_rc 2
    assert_out '(did you mean "features"?)'
    sl why reprot; assert_rc 2
    assert_out 'no task named "reprot" (did you mean "report"?)'
    sl invalidate lod; assert_rc 2
    assert_out 'no task named "lod" (did you mean "load"?)'
    sl run zzzzzzzz; assert_rc 2
    assert_out 'no task named "zzzzzzzz"'
    assert_not_out 'did you mean'
    assert_eq "$(total_runs)" 0 "executions after a bad name"
}

# A task reading every CSV under data/ through a glob, and a directory.
files_flow() {
    git_repo
    write data/a.csv 'a'
    write data/b.csv 'b'
    write data/notes.txt 'n'
    write ref/x/1.fa 'x1'
    write ref/2.fa 'r2'
    cat >flow.json <<'JSON'
{ "tasks": {
    "csvs": { "run": "echo csvs >>$RUNS; cat data/*.csv >$OUT/all", "files": ["data/*.csv"] },
    "refs": { "run": "echo refs >>$RUNS; find ref -type f | sort >$OUT/list", "files": ["ref"] }
} }
JSON
    commit_all files
}

test_files_glob_takes_each_matching_file() {
    files_flow
    sl run; assert_rc 0
    assert_runs csvs 1
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions of an unchanged flow"
    echo 'not a csv' >>data/notes.txt
    touch data/a.csv
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions after a non-matching edit and a touch"
    echo 'c' >data/c.csv
    sl run; assert_rc 0
    assert_runs csvs 1
    assert_runs refs 0
    reset_runs
    echo 'B' >data/b.csv
    sl status; assert_out 'data/b.csv'
    sl run; assert_rc 0
    assert_runs csvs 1
}

test_files_directory_takes_every_file_below() {
    files_flow
    sl run; assert_rc 0
    reset_runs
    echo 'x3' >ref/x/3.fa
    sl run; assert_rc 0
    assert_runs refs 1
    assert_runs csvs 0
    reset_runs
    echo 'X1' >ref/x/1.fa
    sl run; assert_rc 0
    assert_runs refs 1
}

test_files_pattern_matching_nothing_is_an_error() {
    files_flow
    rm data/*.csv
    sl run csvs; assert_rc 2
    assert_out 'flow.json: task csvs: files pattern data/*.csv matches no file'
    assert_eq "$(total_runs)" 0
    rm -r ref; mkdir ref
    sl run refs; assert_rc 2
    assert_out 'flow.json: task refs: files directory ref holds no file'
    echo '{"tasks": {"a": {"run": "true", "files": ["data/**/*.csv"]}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'task a: files pattern data/**/*.csv: ** is not supported'
}

test_declared_output_missing_fails_the_task() {
    git_repo
    cat >flow.json <<'JSON'
{ "params": { "name": "m" },
  "tasks": {
    "train": { "run": "echo train >>$RUNS; mkdir -p $OUT/models; touch $OUT/models/{params.name}.pkl",
               "outputs": ["models/{params.name}.pkl", "./metrics.json"] },
    "report": { "run": "echo report >>$RUNS; cat $IN_train/metrics.json >$OUT/r", "after": ["train"] }
} }
JSON
    commit_all
    sl run; assert_rc 1
    assert_out 'declared output metrics.json is missing from $OUT after the command exited 0'
    assert_runs train 1
    assert_runs report 0
    reset_runs
    sl run; assert_rc 1
    assert_runs train 1
    # Declaring what the command makes: it now succeeds, and is then cached.
    sed -i 's|touch $OUT/models/{params.name}.pkl|touch $OUT/models/{params.name}.pkl $OUT/metrics.json|' flow.json
    reset_runs
    sl run; assert_rc 0
    assert_runs train 1
    assert_runs report 1
    assert_not_out 'empty $OUT'
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions of a cached flow with outputs"
}

test_outputs_are_part_of_the_key() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo 1 >$OUT/x"}}}' >flow.json
    sl run; assert_rc 0
    assert_runs a 1
    # A result made before the declaration is not known to have it: the task runs again.
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo 1 >$OUT/x", "outputs": ["x"]}}}' >flow.json
    sl run; assert_rc 0
    assert_runs a 2
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo 1 >$OUT/x", "outputs": ["x", "x"]}}}' >flow.json
    sl run; assert_rc 0
    assert_runs a 2
}

test_outputs_paths_must_stay_under_out() {
    git_repo
    echo '{"tasks": {"a": {"run": "true", "outputs": ["../x"]}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'flow.json: task a: outputs path ../x must be a path under $OUT'
    echo '{"tasks": {"a": {"run": "true", "outputs": ["/tmp/x"]}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'outputs path /tmp/x must be a path under $OUT'
    echo '{"tasks": {"a": {"run": "true", "outputs": "x"}}}' >flow.json
    sl run; assert_rc 2
    assert_out 'task a: "outputs" must be an array of strings'
    assert_eq "$(total_runs)" 0
}

test_empty_out_of_a_successful_task_is_warned_about() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
    "quiet": { "run": "echo quiet >>$RUNS" },
    "also":  { "run": "echo also >>$RUNS" },
    "full":  { "run": "echo full >>$RUNS; echo x >$OUT/x", "after": ["quiet", "also"] }
} }
JSON
    sl run; assert_rc 0
    assert_out 'warning: 2 tasks succeeded with an empty $OUT: '
    assert_out 'quiet'
    case "$OUT_TEXT" in *"empty \$OUT: "*full*) fail "full was named: $OUT_TEXT" ;; esac
    sl run; assert_rc 0
    assert_not_out 'empty $OUT'
}

# cpus_task NAME CPUS: a task that logs "NAME START_NS END_NS CPUS_GIVEN" into $T/times
# (its command does not depend on CPUS).
cpus_task() {
    printf '"%s": {"run": "s=$(date +%%s%%N); sleep 0.3; echo %s $s $(date +%%s%%N) $SLUICE_CPUS >>%s/times; echo $SLUICE_CPUS {cpus} >$OUT/c", "cpus": %s}' \
        "$1" "$1" "$T" "$2"
}

# The most cpus the tasks' own timestamps ever show running at once.
peak_cpus() {
    awk '{ print $2, 1, $4; print $3, 0, -$4 }' "$T/times" | sort -k1,1n -k2,2n |
        awk '{ now += $3; if (now > peak) peak = now } END { print peak + 0 }'
}

test_local_tasks_never_use_more_cpus_than_jobs() {
    git_repo
    echo "{\"tasks\": {$(cpus_task big 2), $(cpus_task one 1), $(cpus_task two 1), $(cpus_task three 1)}}" >flow.json
    sl run -j 2; assert_rc 0
    assert_eq "$(wc -l <times | tr -d ' ')" 4 "tasks that ran"
    assert_eq "$(peak_cpus)" 2 "most cpus in use at once with -j 2"
    grep -qx '2 2' .sluice/views/*/c || fail "big did not see 2 cpus"
}

test_one_cpu_tasks_still_run_side_by_side() {
    git_repo
    # Each waits for the other to have started: they finish only when run together.
    cat >flow.json <<JSON
{"tasks": {
  "p": {"run": "touch $T/p; for i in \$(seq 100); do [ -e $T/q ] && exit 0; sleep 0.1; done; exit 1", "cpus": 1},
  "q": {"run": "touch $T/q; for i in \$(seq 100); do [ -e $T/p ] && exit 0; sleep 0.1; done; exit 1"}
}}
JSON
    sl run -j 2; assert_rc 0
}

test_a_task_asking_more_cpus_than_jobs_gets_them_all() {
    git_repo
    echo "{\"tasks\": {$(cpus_task huge 8), $(cpus_task small 1)}}" >flow.json
    sl run -j 3; assert_rc 0
    assert_out 'note: huge asked for more cpus than -j 3 and ran with all 3 job slots'
    grep -qx '3 3' .sluice/views/*/c || fail "huge did not see its 3 cpus: $(cat .sluice/views/*/c)"
    # huge held all three slots: small never ran beside it.
    assert_eq "$(peak_cpus)" 3 "most cpus in use at once with -j 3"
}

test_changing_cpus_reruns_nothing() {
    git_repo
    echo "{\"tasks\": {$(cpus_task t 2)}}" >flow.json
    sl run -j 4; assert_rc 0
    echo "{\"tasks\": {$(cpus_task t 4)}}" >flow.json
    sl run -j 4; assert_rc 0
    assert_out 'ran 0, hit 1'
    assert_eq "$(wc -l <times | tr -d ' ')" 1 "executions"
}

test_cpus_must_be_a_positive_whole_number() {
    git_repo
    for bad in 0 1.5 '"2"' -1 5000; do
        echo "{\"tasks\": {\"a\": {\"run\": \"true\", \"cpus\": $bad}}}" >flow.json
        sl run; assert_rc 2
        assert_out 'flow.json: task a: "cpus" must be a whole number from 1 to 4096'
    done
}

test_cpus_dry_run_says_what_a_task_asks_for_and_what_it_gets() {
    git_repo
    printf '%s\n' '{ "tasks": { "big": { "run": "echo >$OUT/x", "cpus": 4 },
  "one": { "run": "echo >$OUT/x" } } }' >flow.json
    commit_all
    sl run --dry-run -j 2; assert_rc 0
    assert_out 'big  (pending)  [4 cpus: more than -j 2, runs with all 2 job slots]'
    assert_not_out 'one  (pending)  ['
    sl run --dry-run -j 8; assert_rc 0
    assert_out 'big  (pending)  [4 cpus]'
}
