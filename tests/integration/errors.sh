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

# store_state: everything in the store that a bad flow must leave alone.
store_state() {
    { sqlite3 .sluice/sluice.db .dump; find .sluice -printf '%p %s %m\n' | sort; } | sha256sum
}

# bad FLOW_TEXT MESSAGE: with that flow, `sluice run` exits 2 naming the problem,
# runs nothing and changes nothing in the existing store.
bad() {
    printf '%s\n' "$1" >flow.json
    reset_runs
    sl run; assert_rc 2
    assert_out "$2"
    assert_eq "$(total_runs)" 0 "executions for: $1"
    assert_eq "$(store_state)" "$BEFORE" "the store after: $1"
}

test_bad_input_catalogue_is_located_runs_nothing_and_leaves_the_store_alone() {
    git_repo
    mkdir -p flows && write code.sh 'echo code'
    echo '{"tasks": {"ok": {"run": "echo ok >>$RUNS; echo ok >$OUT/ok"}}}' >flow.json
    sl run; assert_rc 0
    BEFORE=$(store_state)
    bad '{"tasks": {"a": {"run": "x",}}}' 'flow.json:1:29: invalid JSON near '"'}'"
    bad '{"tasks": {"a": {"run": "x", "after": "b"}}}' 'task a: "after" must be an array of strings'
    bad '{"tasks": {"a": {"run": "x", "cache": true}}}' 'task a: unknown field "cache"'
    bad '{"tasks": {"a": {"run": "x", "after": ["nope"]}}}' 'task a: "after" names unknown task "nope"'
    bad '{"tasks": {"a": {"run": "x", "after": ["c"]}, "b": {"run": "x", "after": ["a"]}, "c": {"run": "x", "after": ["b"]}}}' \
        'flow.json: cycle: a -> b -> c -> a'
    bad '{"tasks": {"a": {"run": "x"}, "a": {"run": "y"}}}' 'flow.json:1:31: task a is defined twice (first at line 1)'
    bad '{"tasks": {"a": {"run": "x", "code": ["missing.sh"]}}}' 'task a: code file missing.sh: No such file or directory'
    bad '{"tasks": {"a": {"run": "x", "code": ["*.py"]}}}' 'task a: code pattern *.py matches no file'
    bad '{"params": {"lr": 1}, "tasks": {"a": {"run": "x {params.lrr}"}}}' 'task a: run: unknown parameter {params.lrr} (did you mean {params.lr}?)'
    bad '{"tasks": {"a": {"run": "x", "expire": "soon"}}}' 'task a: "expire" must be a duration'
    bad '{"tasks": {"a": {"run": "x", "publish": "../../elsewhere"}}}' "task a: publish path ../../elsewhere leaves the flow's directory"
    bad '{"tasks": {"a": {"flow": "flow.json"}}}' 'flow.json includes itself: flow.json -> flow.json'
    bad '{"tasks": {"../x": {"run": "x"}}}' 'task "../x": names may use letters, digits'
    bad '{"tasks": {"a b": {"run": "x"}}}' 'task "a b": names may use letters, digits'
    bad '{"tasks": {"café": {"run": "x"}}}' 'task "café": names may use letters, digits'
    bad '{"tasks": {"a": {"run": "x\u0000; rm -rf /"}}}' 'flow.json:1:27: a NUL character is not allowed'
    bad "$(printf '{"tasks": {"a": {"run": "x\001"}}}')" 'flow.json:1:27: invalid JSON: a control character inside a string'
    bad "$(printf '%0.s[' $(seq 3000))" "flow.json:1:1001: invalid JSON near '['"
    printf '{"tasks": {"a": {"run": "x\0y"}}}' >flow.json
    sl run; assert_rc 2
    assert_out "flow.json:1:27: a NUL character is not allowed"
    assert_eq "$(store_state)" "$BEFORE" "the store after a raw NUL"
}

test_absurd_sizes_work_or_fail_cleanly() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "100,000 tasks under valgrind take too long"
    git_repo
    # 100,000 tasks (a binary tree): planned and drawn, not run.
    awk 'BEGIN { printf "{\"tasks\": {"
                 for (i = 0; i < 100000; i++)
                     printf "%s\"t%d\": {\"run\": \"echo %d >$OUT/x\"%s}", i ? "," : "", i, i,
                            i ? sprintf(", \"after\": [\"t%d\"]", int((i - 1) / 2)) : ""
                 print "}}" }' >flow.json
    sl run --dry-run; assert_rc 0
    assert_out "100000 to run, 0 cached"
    sl status; assert_rc 0
    # A 50 MB flow file: a huge description is read; a 50 MB command cannot be passed
    # to a shell, and the task fails saying so.
    awk 'BEGIN { printf "{\"description\": \""; for (i = 0; i < 50000; i++) printf "%01000d", 0
                 print "\", \"tasks\": {\"a\": {\"run\": \"echo a >>$RUNS; echo a >$OUT/a\"}}}" }' >flow.json
    [ "$(stat -c %s flow.json)" -gt 50000000 ] || fail "the flow is not 50 MB"
    sl run; assert_rc 0
    assert_runs a 1
    awk 'BEGIN { printf "{\"tasks\": {\"a\": {\"run\": \"echo "; for (i = 0; i < 50000; i++) printf "%01000d", 0
                 print " >$OUT/a\"}}}" }' >flow.json
    sl run; assert_rc 1
    assert_out "Argument list too long"
}

test_a_flow_given_by_a_path_from_another_directory_runs() {
    mkdir proj && cd proj && chain_flow && cd ..
    mkdir elsewhere && cd elsewhere
    sl -f ../proj/flow.json run; assert_rc 0
    assert_out "ran 4"
    cd .. && sl -f proj/flow.json status; assert_rc 0
    assert_out "4 cached"
}

# A device or a FIFO where a file is expected is refused at once, never read forever.
test_devices_and_fifos_as_inputs_are_refused() {
    git_repo
    mkfifo pipe
    refused() { # MESSAGE ARGS...: sluice ARGS exits 2 at once with MESSAGE
        local msg=$1; shift
        timeout 10 "$SLUICE" "$@" >out.txt 2>&1; RC=$?; OUT_TEXT=$(cat out.txt)
        assert_rc 2
        assert_out "$msg"
    }
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "code": ["/dev/zero"]}}}' >flow.json
    refused "flow.json: task a: code file /dev/zero: not a regular file" run
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "code": ["pipe"]}}}' >flow.json
    refused "flow.json: task a: code file pipe: not a regular file" run
    [ ! -e .sluice ] || fail "a store was created for an invalid flow"
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS", "files": ["/dev/zero"]}}}' >flow.json
    refused "flow.json: task a: file /dev/zero: not a regular file" run
    rm -rf .sluice # `files` are digested once the store is open
    for f in /dev/zero pipe; do
        refused "$f: not a regular file" run -f "$f"
    done
    [ ! -e .sluice ] || fail "a store was created for an unreadable flow file"
    assert_eq "$(total_runs)" 0 "executions"
}
