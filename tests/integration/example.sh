# The bundled examples run for real.

test_churn_example_runs_then_hits() {
    /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null || skip "needs python3-sklearn and python3-pandas"
    cp -r "$OLDPWD/examples/churn" churn && rm -rf churn/.sluice churn/results && cd churn && git_repo && commit_all
    sl run; assert_rc 0
    assert_out "ran 7"
    grep -q "| roc_auc | 0.8" results/report.md || fail "no published report: $(cat results/report.md)"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    sl run -p title=Again; assert_out "ran 1, hit 2"
}

test_hello_example_runs_then_hits() {
    cp -r "$OLDPWD/examples/hello" hello && rm -rf hello/.sluice && cd hello
    sl run; assert_rc 0
    assert_out "ran 3"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
}
