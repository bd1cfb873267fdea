# Stable paths are opt-in for now (SLUICE_STABLE_PATHS=1): see README.
export SLUICE_STABLE_PATHS=1

# Sharing results between machines: what a task sees does not depend on where the
# project is cloned or where its store lives.

# A flow whose tasks write the paths they are given ($IN_x, $OUT) into their outputs.
path_writing_flow() {
    git_repo
    write load.sh 'echo load >>"$RUNS"; echo "out=$OUT" >"$OUT/paths"; seq 1 3 >"$OUT/rows"'
    write use.sh 'echo use >>"$RUNS"; { echo "in=$IN_load out=$OUT"; cat "$IN_load/rows"; } >"$OUT/r"'
    cat >flow.json <<'JSON'
{ "tasks": {
    "load": { "run": "sh load.sh", "code": ["load.sh"] },
    "use":  { "run": "sh use.sh", "after": ["load"], "code": ["use.sh"] }
} }
JSON
    commit_all
}

digest_of() { # STORE TASK: the task's output digest in that store
    sqlite3 "$1/sluice.db" "select digest from entries where task='$2' and kind='deep' limit 1"
}

test_output_digest_does_not_depend_on_clone_or_store_path() {
    mkdir a && (cd a && path_writing_flow)
    git clone -q a elsewhere/deeper/b
    (cd a && SLUICE_STORE="$T/store-one" "$SLUICE" run >/dev/null 2>&1) || fail "run in a failed"
    (cd elsewhere/deeper/b && SLUICE_STORE="$T/s2/store-two" "$SLUICE" run >/dev/null 2>&1) ||
        fail "run in b failed"
    for t in load use; do
        d1=$(digest_of "$T/store-one" $t) d2=$(digest_of "$T/s2/store-two" $t)
        [ -n "$d1" ] || fail "no entry for $t"
        assert_eq "$d2" "$d1" "$t's output digest differs between the clones"
    done
    view=$T/store-one/views/$(digest_of "$T/store-one" use)
    key=$(sqlite3 "$T/store-one/sluice.db" "select substr(key, 1, 32) from entries where task='use' and kind='deep'")
    assert_eq "$(head -1 "$view/r")" "in=/tmp/sluice-exec/$key/in/load out=/tmp/sluice-exec/$key/out" \
        "the paths use saw"
    [ ! -e "/tmp/sluice-exec/$key" ] || fail "use's exec directory was left behind"
}

test_a_task_that_changes_directory_still_reaches_its_out_and_inputs() {
    git_repo
    write sub/a.sh 'echo a >>"$RUNS"; echo x >"$OUT/x"'
    write sub/b.sh 'echo b >>"$RUNS"; cd / && { echo "$IN_a $OUT"; cat "$IN_a/x"; } >"$OUT/r"'
    cat >sub/prep.json <<'JSON'
{ "tasks": {
    "a": { "run": "sh a.sh", "code": ["a.sh"] },
    "b": { "run": "sh b.sh", "after": ["a"], "code": ["b.sh"] }
} }
JSON
    cat >flow.json <<'JSON'
{ "tasks": {
    "prep": { "flow": "sub/prep.json" },
    "top":  { "run": "cp $IN_prep/r $OUT/r", "after": ["prep"] }
} }
JSON
    commit_all
    sl run; assert_rc 0
    r=$(cat .sluice/views/$(sqlite3 .sluice/sluice.db "select digest from entries where task='top' limit 1")/r)
    case "$r" in
    "/tmp/sluice-exec/"*"/in/a /tmp/sluice-exec/"*"/out"$'\n'x) ;;
    *) fail "the sub-flow's task saw: $r" ;;
    esac
}
