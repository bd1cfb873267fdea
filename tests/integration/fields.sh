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
