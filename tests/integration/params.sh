# Parameters reach the command and the key exactly as written (numbers included:
# cJSON would hold them as doubles, and print 9007199254740993 as 9.00719925474099e+15).

# One task that writes every parameter it uses to $RUNS (one line) and its output.
param_flow() { # PARAMS-JSON
    git_repo
    cat >flow.json <<JSON
{ "params": $1,
  "tasks": {
    "t": { "run": "echo {params.a} {params.b} >>\"\$RUNS\"; echo {params.a} {params.b} >\$OUT/v" }
} }
JSON
    commit_all
}

last_run_line() { tail -n 1 "$RUNS"; }

# a then b (in flow.json): each must run (a different key) and see its text.
assert_distinct_in_file() { # A B
    param_flow "{ \"a\": $1, \"b\": 1 }"
    sl run; assert_rc 0
    assert_eq "$(last_run_line)" "$1 1" "the command's text of $1"
    sed -i "s/\"a\": $1,/\"a\": $2,/" flow.json
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 1 "$1 then $2 in flow.json: a cache hit for a different value"
    assert_eq "$(last_run_line)" "$2 1" "the command's text of $2"
}

test_param_numbers_in_flow_file_are_distinct_as_written() {
    assert_distinct_in_file 9007199254740990 9007199254740992
    rm -rf .sluice .git flow.json "$RUNS"
    assert_distinct_in_file 0.30000000000000004 0.3
    rm -rf .sluice .git flow.json "$RUNS"
    assert_distinct_in_file 0.10 0.1 # the text is the value: the command sees different text
}

test_param_numbers_in_flow_file_reach_the_command_as_written() {
    param_flow '{ "a": 1e400, "b": 9007199254740993 }'
    sl run; assert_rc 0
    assert_eq "$(last_run_line)" "1e400 9007199254740993"
    assert_eq "$(cat .sluice/views/*/v)" "1e400 9007199254740993"
    sl show last; assert_out 'command  echo 1e400 9007199254740993'
    assert_out '"a":1e400,"b":9007199254740993'
}

test_param_numbers_on_the_command_line_are_distinct_as_typed() {
    param_flow '{ "a": 1, "b": 1 }'
    sl run -p a=9007199254740990; assert_rc 0
    reset_runs
    sl run -p a=9007199254740992; assert_rc 0
    assert_eq "$(total_runs)" 1 "-p a=9007199254740990 then a=9007199254740992: a hit"
    assert_eq "$(last_run_line)" "9007199254740992 1"
    sl run -p a=0.30000000000000004; assert_rc 0
    reset_runs
    sl run -p a=0.3; assert_rc 0
    assert_eq "$(total_runs)" 1 "-p a=0.30000000000000004 then a=0.3: a hit"
    sl run -p a=1e400 -p b=9007199254740993; assert_rc 0
    assert_eq "$(last_run_line)" "1e400 9007199254740993"
    # The text as typed, even when a JSON reader would stop early at a number.
    sl run -p a=5abc -p b=true1; assert_rc 0
    assert_eq "$(last_run_line)" "5abc true1"
    sl run -p a=01; assert_rc 0
    assert_eq "$(last_run_line)" "01 1"
}

test_param_numbers_in_history_keep_their_text() {
    param_flow '{ "a": 9007199254740993, "b": 0.30000000000000004 }'
    sl run; assert_rc 0
    sl run -p a=9007199254740992 -p b=1e400; assert_rc 0
    sl diff last~1 last; assert_rc 0
    assert_out "a: 9007199254740993 -> 9007199254740992"
    assert_out "b: 0.30000000000000004 -> 1e400"
    sl show last --json; assert_rc 0
    assert_out '"a":	9007199254740992'
    assert_out '"b":	1e400'
    sl history --json; assert_rc 0
    assert_out '"a":	9007199254740993'
    assert_out '"b":	0.30000000000000004'
    sl status -p a=9007199254740991 -p b=1e400; assert_out "param a 9007199254740992 -> 9007199254740991"
    reset_runs
    sl replay 1; assert_rc 0
    assert_eq "$(last_run_line)" "9007199254740993 0.30000000000000004" "replay's command"
}

test_param_numbers_in_env_and_with_keep_their_text() {
    git_repo
    mkdir -p sub
    cat >sub/flow.json <<'JSON'
{ "params": { "n": 0 },
  "tasks": { "s": { "run": "echo s {params.n} $N >>\"$RUNS\"; echo {params.n} >$OUT/n",
                    "env": { "N": 9007199254740993 } } } }
JSON
    cat >flow.json <<'JSON'
{ "params": { "big": 1e400 },
  "tasks": {
    "a": { "flow": "sub/flow.json", "with": { "n": 9007199254740993 } },
    "b": { "flow": "sub/flow.json", "with": { "n": "{params.big}" } }
} }
JSON
    commit_all
    sl run; assert_rc 0
    grep -qx 's 9007199254740993 9007199254740993' "$RUNS" || fail "with/env numbers: $(cat "$RUNS")"
    grep -qx 's 1e400 9007199254740993' "$RUNS" || fail "with from a param: $(cat "$RUNS")"
}

test_param_number_not_written_as_json_is_an_error_at_its_place() {
    git_repo
    printf '{ "params": {\n  "a": 01 },\n  "tasks": { "t": { "run": "echo {params.a}" } } }\n' >flow.json
    sl run; assert_rc 2
    assert_out "flow.json:2:8: invalid JSON: 01 is not a number as JSON writes one"
}
