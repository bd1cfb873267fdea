# Bad input: a located message, exit 2, nothing run, nothing stored.

expect_flow_error() { # MESSAGE (flow.json already written)
    reset_runs
    sl run; assert_rc 2
    assert_out "$1"
    assert_eq "$(total_runs)" 0 "executions after a flow error"
    [ ! -e .sluice ] || fail "a store was created for an invalid flow"
}

test_flow_errors_exit_2_and_run_nothing() {
    git_repo
    printf '{\n  "tasks": {\n    "a": {"run": "echo a >>$RUNS",}\n  }\n}\n' >flow.json
    expect_flow_error "flow.json:3:35: invalid JSON near '}'"
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "aftr": []}}}' >flow.json
    expect_flow_error 'flow.json: task a: unknown field "aftr" (did you mean "after"?)'
    echo '{"tasks": {"load": {"run": "echo a >>$RUNS", "after": ["loda"]}, "train": {"run": "x", "after": ["trian"]}}}' >flow.json
    expect_flow_error 'flow.json: task load: "after" names unknown task "loda"'
    assert_not_out "did you mean"
    echo '{"tasks": {"load": {"run": "echo a >>$RUNS"}, "train": {"run": "x", "after": ["laod"]}}}' >flow.json
    expect_flow_error 'flow.json: task train: "after" names unknown task "laod" (did you mean "load"?)'
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "after": ["b"]}, "b": {"run": "x", "after": ["a"]}}}' >flow.json
    expect_flow_error "flow.json: cycle: a -> b -> a"
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "code": ["missing.py"]}}}' >flow.json
    expect_flow_error "flow.json: task a: code file missing.py: No such file or directory"
    mkdir -p src/deep && touch src/deep/x.py
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "code": ["src/**/*.py"]}}}' >flow.json
    expect_flow_error "flow.json: task a: code pattern src/**/*.py: ** is not supported (name the directory, src/, to take every file below it)"
    echo '{"params": {"lr": 1}, "tasks": {"a": {"run": "echo {params.rate} >>$RUNS"}}}' >flow.json
    expect_flow_error "flow.json: task a: run: unknown parameter {params.rate}"
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "executor": "Slurm"}}}' >flow.json
    expect_flow_error 'flow.json: task a: "executor" must be an executor'"'"'s name, like "local" or "slurm"'
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "slurm": {"cpus": 2}}}}' >flow.json
    expect_flow_error 'flow.json: task a: unknown field "slurm" (the task runs on executor "local", so it takes no "slurm" options)'
    rm flow.json
    expect_flow_error "flow.json: No such file or directory"
}

test_unknown_target_and_bad_options_exit_2() {
    chain_flow
    sl run nosuch; assert_rc 2
    assert_out 'no task named "nosuch"'
    sl run -j 0; assert_rc 2
    assert_out "-j wants a number"
    sl run --frobnicate; assert_rc 2
    assert_out "unknown option --frobnicate"
    sl frobnicate; assert_rc 2
    assert_out 'unknown command "frobnicate"'
}

test_missing_input_file_names_the_task() {
    git_repo
    echo '{"tasks": {"load": {"run": "echo load >>$RUNS", "files": ["data/nope.csv"]}}}' >flow.json
    sl run; assert_rc 2
    assert_out "sluice: flow.json: task load: file data/nope.csv: No such file or directory"
    mkdir -p sub && echo '{"tasks": {"load": {"run": "x", "files": ["nope.csv"]}}}' >sub/p.json
    echo '{"tasks": {"prep": {"flow": "sub/p.json"}}}' >flow.json
    sl status; assert_rc 2
    assert_out "sluice: flow.json: task prep/load: file nope.csv: No such file or directory"
    assert_eq "$(total_runs)" 0
}

test_bad_publish_placeholders_are_refused() {
    git_repo
    for tpl in '{key:0}' '{key:99}' '{key:abc}'; do
        echo "{\"tasks\": {\"a\": {\"run\": \"echo a >>\$RUNS\", \"publish\": \"out/m-$tpl\"}}}" >flow.json
        expect_flow_error "flow.json: task a: publish: $tpl: the length must be from 1 to 64"
    done
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "publish": "out/{nope}"}}}' >flow.json
    expect_flow_error "flow.json: task a: publish: unknown placeholder {nope} (there are {params.NAME}, {task}, {flow}, {key} and {key:N})"
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo {nope} >$OUT/x", "publish": "out/{task}-{key:64}"}}}' >flow.json
    sl run; assert_rc 0
    [ -f "out/a-$(sql "select key from entries where kind = 'deep'")" ] || fail "not published: $(ls out)"
}
