# The bundled examples run for real.

test_churn_example_runs_then_hits() {
    /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null || skip "needs python3-sklearn and python3-pandas"
    cp -r "$OLDPWD/examples/churn" churn && cd churn && git_repo && commit_all
    sl run; assert_rc 0
    assert_out "ran 5"
    grep -q accuracy .sluice/views/*/report.md || fail "no report"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    sl run -p title=Again; assert_out "ran 1, hit 1"
}

test_hello_example_runs_then_hits() {
    cp -r "$OLDPWD/examples/hello" hello && rm -rf hello/.sluice && cd hello
    sl run; assert_rc 0
    assert_out "ran 3"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
}
