# Damage a cache can hide: a view that no longer holds exactly its manifest, an
# entry in the database pointed at another output. `verify` must see each, and no
# run may hand a task (or the user) bytes other than a fresh run would.

# gen writes d/x and y; use lists and reads everything gen's view holds.
view_flow() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "gen": { "run": "echo gen >>\"$RUNS\"; mkdir $OUT/d; echo one >$OUT/d/x; echo two >$OUT/y" },
  "use": { "run": "echo use >>\"$RUNS\"; cd $IN_gen && find . | LC_ALL=C sort >$OUT/list && cat d/x y >>$OUT/list",
           "after": ["gen"] },
  "other": { "run": "echo other >>\"$RUNS\"; echo wrong >$OUT/list" }
} }
JSON
    commit_all
}

# view_of TASK: the view of the output TASK's latest task run recorded.
view_of() {
    local d
    d=$(sql "select output_digest from task_runs where task = '$1' and output_digest is not null
             order by id desc limit 1")
    [ -n "$d" ] || fail "no output recorded for $1"
    echo ".sluice/views/$d"
}

# What `use` reads from a fresh store: the result every later run must equal.
fresh_list() {
    SLUICE_STORE="$T/fresh" "$SLUICE" run use >/dev/null 2>&1 || fail "fresh run"
    STORE="$T/fresh" sql "select output_digest from task_runs where task = 'use' and
                          decision = 'ran'" | while read -r d; do cat "$T/fresh/views/$d/list"; done
}

test_an_extra_file_in_a_view_is_reported_and_never_read_downstream() {
    view_flow
    sl run; assert_rc 0
    expected=$(fresh_list)
    gen=$(view_of gen)
    chmod u+w "$gen" "$gen/d"
    echo planted >"$gen/planted"
    mkdir "$gen/d/extra-dir"
    ln -s y "$gen/link"
    sl verify; assert_rc 1
    assert_out "(task gen): its view differs from its manifest: planted is not in its manifest (an extra file)"
    assert_out "d/extra-dir is not in its manifest (an extra directory)"
    assert_out "link is not in its manifest (an extra symlink)"
    reset_runs
    sl run --force use; assert_rc 0
    assert_runs gen 0
    assert_runs use 1
    assert_eq "$(cat "$(view_of use)/list")" "$expected" "what use read from gen's view"
    [ ! -e "$gen/planted" ] || fail "the planted file is still in the view"
    sl verify; assert_rc 0
    assert_out "all intact"
}

test_verify_repair_rebuilds_a_view_with_an_extra_file() {
    view_flow
    sl run; assert_rc 0
    gen=$(view_of gen)
    chmod u+w "$gen"
    echo planted >"$gen/planted"
    sl verify --repair; assert_rc 0
    assert_out "planted is not in its manifest"
    assert_out "repaired: rebuilt the view of output"
    [ ! -e "$gen/planted" ] || fail "the planted file is still in the view"
    [ "$(cat "$gen/d/x")" = one ] || fail "the rebuilt view lacks d/x"
    sl verify; assert_rc 0
    assert_out "all intact"
}

test_a_target_hit_never_leaves_a_tampered_view_for_the_user() {
    view_flow
    sl run; assert_rc 0
    use=$(view_of use)
    chmod u+w "$use"
    echo planted >"$use/planted"
    reset_runs
    sl run use; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions for a cached target"
    [ ! -e "$use/planted" ] || fail "the target's view still holds the planted file"
    [ -f "$use/list" ] || fail "the target's view lost its file"
}

test_a_replaced_file_in_a_view_is_reported_and_never_read_downstream() {
    view_flow
    sl run; assert_rc 0
    expected=$(fresh_list)
    gen=$(view_of gen)
    chmod u+w "$gen"
    rm -f "$gen/y" && echo TWO >"$gen/y" # same size, another inode: the object is intact
    sl verify; assert_rc 1
    assert_out "(task gen): its view differs from its manifest: y was replaced (it is not the stored object)"
    reset_runs
    sl run --force use; assert_rc 0
    assert_runs gen 0
    assert_eq "$(cat "$(view_of use)/list")" "$expected" "what use read from gen's view"
    sl verify; assert_rc 0
}

test_a_missing_file_in_a_view_is_reported_and_put_back_before_use() {
    view_flow
    sl run; assert_rc 0
    expected=$(fresh_list)
    gen=$(view_of gen)
    chmod u+w "$gen/d"
    rm -f "$gen/d/x"
    sl verify; assert_rc 1
    assert_out "(task gen): its view differs from its manifest: d/x is missing"
    reset_runs
    sl run --force use; assert_rc 0
    assert_runs gen 0
    assert_eq "$(cat "$(view_of use)/list")" "$expected" "what use read from gen's view"
    sl verify; assert_rc 0
}

test_an_entry_pointed_at_another_output_is_reported_and_never_a_hit() {
    view_flow
    sl run; assert_rc 0
    expected=$(fresh_list)
    right=$(sql "select digest from entries where task = 'use' and kind = 'deep'")
    wrong=$(sql "select digest from entries where task = 'other' and kind = 'deep'")
    sql "update entries set digest = '$wrong' where task = 'use'"
    sl verify; assert_rc 1
    assert_out "(task use, deep) names another output than its task run made"
    assert_out "(task use, shallow) names another output than its task run made"
    # Not even before a repair does a run hand out the other output's bytes.
    reset_runs
    sl run use; assert_rc 0
    assert_not_out "hit       use"
    assert_eq "$(sql "select output_digest from task_runs where run_id = 2 and task = 'use'")" \
        "$right" "the output run 2 gave for use"
    assert_eq "$(cat "$(view_of use)/list")" "$expected" "use's result"
    sl verify; assert_rc 0
    # And a repair deletes such entries, so the task runs again.
    sql "update entries set digest = '$wrong' where task = 'use'"
    sl verify --repair; assert_rc 0
    assert_out "repaired: deleted cache entry"
    assert_eq "$(sql "select count(*) from entries where task = 'use'")" 0 "entries left for use"
    reset_runs
    sl run use; assert_rc 0
    assert_runs use 1
    assert_eq "$(cat "$(view_of use)/list")" "$expected" "use's result"
    sl verify; assert_rc 0
    assert_out "all intact"
}

# A target that is cut off is read by the user as well: its view is checked too.
test_a_cut_off_targets_altered_view_is_rebuilt() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "src": { "run": "echo same >$OUT/s", "volatile": true },
  "tgt": { "run": "cp $IN_src/s $OUT/t", "after": ["src"] }
} }
JSON
    sl run; assert_rc 0
    view=.sluice/views/$(sql "select digest from entries where task = 'tgt' and kind = 'deep'")
    chmod u+w "$view" && echo planted >"$view/planted.txt" && chmod a-w "$view"
    sl run; assert_rc 0
    assert_out "cutoff    tgt"
    [ ! -e "$view/planted.txt" ] || fail "the target's view still holds a planted file"
    assert_eq "$(cat "$view/t")" same "the target's bytes"
}

# prep is covered by report's hit; its stored bytes are damaged and its publication
# removed: it cannot be published from the store, so it runs again.
test_a_removed_publication_whose_stored_bytes_are_damaged_runs_its_task() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "prep":   { "run": "echo prep >>\"$RUNS\"; echo prep-bytes >$OUT/p.txt", "publish": "pub/p.txt" },
  "report": { "run": "echo report >>\"$RUNS\"; (cat $IN_prep/p.txt; echo r) >$OUT/r.txt",
              "after": ["prep"] }
} }
JSON
    sl run; assert_rc 0
    obj=$(find "$(view_of prep)/" -type f -o -type l | head -n 1)
    obj=$(readlink -f "$obj")
    chmod u+w "$obj"; echo damaged-bytes >"$obj"
    rm pub/p.txt
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(cat pub/p.txt)" prep-bytes "published from a fresh run"
    assert_eq "$(runs_of prep) $(runs_of report)" "1 0" "prep ran again, report stays a hit"
}
