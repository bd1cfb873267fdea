# The command line itself: help, version, global options.

test_help_names_every_command_with_an_example() {
    sl --help; assert_rc 0
    assert_out "run "
    assert_out "status "
    for cmd in run status; do
        sl "$cmd" --help; assert_rc 0
        assert_out "usage: sluice $cmd"
        assert_out "example:"
    done
    sl help run; assert_rc 0
    assert_out "usage: sluice run"
}

test_dash_C_and_dash_f_work_anywhere() {
    mkdir proj && cd proj && chain_flow && mv flow.json pipeline.json && commit_all && cd ..
    sl -C proj run -f pipeline.json; assert_rc 0
    assert_out "ran 4"
    sl status -C proj --flow=pipeline.json; assert_out "4 cached"
}
