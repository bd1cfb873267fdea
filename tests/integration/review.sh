# Crashes and unchecked paths a code review found.

test_run_reference_with_a_negative_or_empty_back_count_is_a_usage_error() {
    git_repo
    echo '{"tasks": {"t": {"run": "echo t >$OUT/t"}}}' >flow.json
    sl run; assert_rc 0
    for cmd in show replay; do
        for ref in 'last~-1' 'last~' 'last~+1' 'last~ 1' 'last~1x'; do
            sl $cmd "$ref"; assert_rc 2
            assert_out "a run is a number, \"last\" or \"last~N\", not \"$ref\""
        done
    done
    sl diff 'last~-1' last; assert_rc 2
    assert_out 'not "last~-1"'
    sl diff last 'last~-1'; assert_rc 2
    sl show 'last~1'; assert_rc 2
    assert_out "no run last~1"
    sl show 'last~0'; assert_rc 0
}

test_dangling_symlink_in_a_code_directory_is_no_file() {
    git_repo
    mkdir src
    for f in a b c d; do echo "$f" >src/$f.sh; done
    ln -s nowhere src/dangling
    ln -s loop src/loop # a link to itself
    echo '{"tasks": {"t": {"run": "cat src/*.sh >$OUT/o", "code": ["src"]}}}' >flow.json
    commit_all
    sl run; assert_rc 0
    sl show last --json; assert_rc 0
    assert_out '"src/a.sh"'
    assert_not_out 'dangling'
}
