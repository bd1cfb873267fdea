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

test_demo_keeps_its_store_out_of_the_source_tree_and_says_what_runs() {
    /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null || skip "needs python3-sklearn and python3-pandas"
    mkdir -p tree/examples && cp -r "$OLDPWD/examples/churn" "$OLDPWD/examples/demo.sh" tree/examples/ &&
        rm -rf tree/examples/churn/.sluice tree/examples/churn/results && ln -s "$SLUICE" tree/sluice
    OUT_TEXT=$(XDG_CACHE_HOME="$T/cache" tree/examples/demo.sh </dev/null 2>&1) || fail "demo failed: $OUT_TEXT"
    assert_out "== first run (7 pending): what is not in the store executes"
    assert_out "ran 7"
    [ ! -e tree/examples/churn/.sluice ] || fail "the demo wrote a store into the source tree"
    [ -f cache/sluice/demo-churn/sluice.db ] || fail "no store in \$XDG_CACHE_HOME/sluice/demo-churn"
    OUT_TEXT=$(XDG_CACHE_HOME="$T/cache" tree/examples/demo.sh </dev/null 2>&1) || fail "demo failed: $OUT_TEXT"
    assert_not_out "every task executes"
    assert_out "== first run: $T/cache/sluice/demo-churn already has every result, so nothing executes"
    assert_not_out "ran 7"
}
