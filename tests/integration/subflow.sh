# Sub-flows' inner tasks in `after`, matrix sub-flow nodes (prep@A/clean) and partial
# gathers (train@*,0.1). Every task appends its name to $RUNS.

# flows/sample.json: clean -> sort per sample, and stats beside sort; sort is the output.
sample_subflow() {
    mkdir -p flows
    cat >flows/sample.json <<'JSON'
{ "params": { "sample": "X", "tag": "t1" },
  "tasks": {
    "clean": { "run": "echo clean@{params.sample} >>\"$RUNS\"; echo c-{params.sample} >$OUT/c" },
    "stats": { "after": ["clean"], "run": "echo stats@{params.sample} >>\"$RUNS\"; echo {params.tag} >$OUT/n" },
    "sort":  { "after": ["clean", "stats"], "output": true,
               "run": "echo sort@{params.sample} >>\"$RUNS\"; cat $IN_clean/c >$OUT/s" }
  } }
JSON
}

matrix_subflow_flow() {
    git_repo
    sample_subflow
    cat >flow.json <<'JSON'
{ "params": { "samples": ["A", "B"] },
  "tasks": {
    "prep": { "flow": "flows/sample.json", "matrix": { "sample": "{params.samples}" },
              "with": { "sample": "{matrix.sample}" } },
    "call": { "after": ["prep"], "run": "echo call >>\"$RUNS\"; cat $IN_prep/*/s >$OUT/calls; ls $IN_prep >$OUT/seen" },
    "peek": { "after": ["prep/clean"], "run": "echo peek >>\"$RUNS\"; ls $IN_prep_clean >$OUT/peek" }
  } }
JSON
    commit_all
}

test_subflow_matrix_node_adding_a_sample_runs_only_its_inner_tasks_and_the_gathers() {
    matrix_subflow_flow
    sl run; assert_rc 0
    assert_eq "$(sort "$RUNS" | tr '\n' ' ')" \
        "call clean@A clean@B peek sort@A sort@B stats@A stats@B " "first run"
    sl status prep; assert_out 'prep@A/sort'; assert_out 'prep@B/sort'
    assert_eq "$(cat .sluice/views/*/seen | tr '\n' ' ')" "A B " "the gather has one entry per instance"
    assert_eq "$(cat .sluice/views/*/peek | tr '\n' ' ')" "A B " "so does the gather of an inner task"
    reset_runs
    sl run -p samples=A,B,C; assert_rc 0
    assert_eq "$(sort "$RUNS" | tr '\n' ' ')" "call clean@C peek sort@C stats@C " "adding C"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "removing C again is a hit"
    sl run prep@B/clean --force; assert_rc 0
    assert_out 'prep@B/clean'; assert_not_out 'prep@A/clean'
    sl why prep/clean; assert_rc 0
    assert_out 'prep@A/clean: '; assert_out 'prep@B/clean: '; assert_not_out 'prep@A/sort'
}

test_subflow_matrix_node_pairs_with_a_matrix_task_and_names_one_instance() {
    git_repo
    sample_subflow
    cat >flow.json <<'JSON'
{ "params": { "samples": ["A", "B"] },
  "tasks": {
    "prep": { "flow": "flows/sample.json", "matrix": { "sample": "{params.samples}" },
              "with": { "sample": "{matrix.sample}" } },
    "qc":   { "matrix": { "sample": "{params.samples}" }, "after": ["prep/clean", "prep"],
              "run": "cat $IN_prep_clean/c $IN_prep/s >$OUT/qc" },
    "one":  { "after": ["prep@B/clean"], "run": "cat $IN_prep_B_clean/c >$OUT/one" }
  } }
JSON
    commit_all
    sl run; assert_rc 0
    assert_eq "$(cat .sluice/views/*/qc | sort | tr '\n' ' ')" "c-A c-A c-B c-B " "qc@A pairs with prep@A"
    assert_eq "$(cat .sluice/views/*/one)" "c-B"
}

# A plain sub-flow node S; `use` reads S/clean, an inner task that is not S's output.
inner_after_flow() {
    git_repo
    sample_subflow
    cat >flow.json <<'JSON'
{ "params": { "sample": "A", "tag": "t1" },
  "tasks": {
    "S":   { "flow": "flows/sample.json", "with": { "sample": "{params.sample}", "tag": "{params.tag}" } },
    "use": { "after": ["S/clean"], "run": "echo use >>\"$RUNS\"; cat $IN_S_clean/c >$OUT/u" },
    "end": { "after": ["S", "use"], "run": "echo end >>\"$RUNS\"; cat $IN_S/s $IN_use/u >$OUT/e" }
  } }
JSON
    commit_all
}

test_subflow_after_an_inner_task_reruns_only_when_that_task_changes() {
    inner_after_flow
    sl run; assert_rc 0
    assert_runs use 1
    assert_eq "$(cat .sluice/views/*/u)" "c-A"
    reset_runs
    sl run -p tag=t2; assert_rc 0
    assert_runs stats@A 1
    assert_runs use 0 # a sibling inner task changed, not S/clean
    reset_runs
    sl run -p sample=B; assert_rc 0
    assert_runs clean@B 1
    assert_runs use 1 # S/clean's output changed
    # the inner task's command changes but its output does not: use is cut off
    sed -i 's/echo c-{params.sample} >$OUT\/c/echo c-{params.sample} >$OUT\/c; true/' flows/sample.json
    commit_all
    reset_runs
    sl run -p sample=B; assert_rc 0
    assert_runs clean@B 1
    assert_runs use 0
}

test_subflow_inner_task_names_are_checked() {
    inner_after_flow
    sed -i 's|"after": \["S/clean"\]|"after": ["S/nope"]|' flow.json
    sl run; assert_rc 2
    assert_out 'flow.json: task use: "after" names unknown task "S/nope"'
    sed -i 's|"after": \["S/nope"\]|"after": ["S/sotr"]|' flow.json
    sl run; assert_rc 2; assert_out 'unknown task "S/sotr" (did you mean "S/sort"?)'
    sed -i 's|"after": \["S/sotr"\]|"after": ["use/clean"]|' flow.json
    sl run; assert_rc 2
    assert_out '"after" names unknown task "use/clean"'
}

test_subflow_partial_gather_by_pattern() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
    "train": { "matrix": { "model": ["rf", "lin"], "lr": [0.1, 1] },
               "run": "echo train@{matrix.model},{matrix.lr} >>\"$RUNS\"; echo {matrix.model}{matrix.lr} >$OUT/m" },
    "small": { "after": ["train@*,0.1"], "run": "echo small >>\"$RUNS\"; ls $IN_train___0_1 >$OUT/seen" },
    "best":  { "matrix": { "model": ["rf", "lin"] }, "after": ["train@*,1"],
               "run": "ls $IN_train___1 >$OUT/best" }
  } }
JSON
    commit_all
    sl run; assert_rc 0
    assert_eq "$(cat .sluice/views/*/seen)" "$(printf 'lin,0.1\nrf,0.1')" "only lr 0.1"
    assert_eq "$(cat .sluice/views/*/best | sort | tr '\n' ' ')" "lin,1 rf,1 " "per model, lr 1 only"
    # a point outside the pattern changes: the partial gather is not re-run
    sed -i 's/echo {matrix.model}{matrix.lr} >$OUT\/m/echo {matrix.model}{matrix.lr} $( [ {matrix.lr} = 1 ] \&\& echo x) >$OUT\/m/' flow.json
    commit_all
    reset_runs
    sl run small; assert_rc 0
    assert_runs small 0
    for bad in '"train@*"|has 2 matrix variables, the pattern gives 1' \
        '"train@*,5"|matrix variable lr of train has no value 5'; do
        sed "s|\"train@\*,0.1\"|${bad%%|*}|" flow.json >f2.json
        sl run -f f2.json; assert_rc 2; assert_out "${bad#*|}"
    done
}

test_subflow_pattern_over_a_matrix_node_and_inner_names_of_a_matrix_task() {
    git_repo
    sample_subflow
    cat >flow.json <<'JSON'
{ "params": { "samples": ["A", "B", "C"] },
  "tasks": {
    "prep": { "flow": "flows/sample.json", "matrix": { "sample": "{params.samples}" },
              "with": { "sample": "{matrix.sample}" } },
    "m":    { "matrix": { "s": ["x"] }, "run": "echo >$OUT/a" },
    "some": { "after": ["prep@*/clean", "m"], "run": "ls $IN_prep___clean >$OUT/l" }
  } }
JSON
    commit_all
    sl run; assert_rc 0
    assert_eq "$(cat .sluice/views/*/l | tr '\n' ' ')" "A B C "
    sed -i 's|"prep@\*/clean", "m"|"m/clean"|' flow.json
    sl run; assert_rc 2
    assert_out 'flow.json:6:5: task some: "after" m/clean: m is a task, not a sub-flow node'
}
