# The command line itself: help, version, global options.

test_help_names_every_command_with_an_example() {
    sl --help; assert_rc 0
    assert_out "run "
    assert_out "status "
    for cmd in run status verify; do
        sl "$cmd" --help; assert_rc 0
        assert_out "usage: sluice $cmd"
        assert_out "example:"
    done
    sl help run; assert_rc 0
    assert_out "usage: sluice run"
    sl --help; assert_rc 0
    assert_out "examples:"
    assert_out "  sluice run -j 4"
}

test_help_lists_each_command_on_one_indented_line() {
    sl --help; assert_rc 0
    stray=$(printf '%s\n' "$OUT_TEXT" | sed -n '/^commands:/,/^$/p' | sed 1d | grep -v '^  [a-z]' || true)
    assert_eq "$stray" "" "lines of the command list that are not a command"
}

test_dag_refuses_two_formats_or_two_directions() {
    chain_flow
    sl dag --dot --mermaid; assert_rc 2
    assert_out "sluice dag: --dot and --mermaid exclude each other: choose one"
    sl dag --down --right; assert_rc 2
    assert_out "--down and --right exclude each other"
    sl dag --dot --dot; assert_rc 0
    assert_out "digraph"
}

test_dash_C_and_dash_f_work_anywhere() {
    mkdir proj && cd proj && chain_flow && mv flow.json pipeline.json && commit_all && cd ..
    sl -C proj run -f pipeline.json; assert_rc 0
    assert_out "ran 4"
    sl status -C proj --flow=pipeline.json; assert_out "4 cached"
}
