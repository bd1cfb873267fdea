# Safety: sluice never destroys or alters a file it does not own. Publishing replaces
# only what sluice published itself, never the flow file, the store or .git; a
# published file is never the store's object; two publications of one path are
# refused; a task's $OUT that points outside is never followed, chmodded or linked.
# Each scenario checks the exit code, the message, and that the user's files are
# byte-identical (same content, inode, mode and link count) afterwards.

# Everything under the current directory but the store and $RUNS: path, type, mode,
# inode, links, size, content. With an argument: the store's objects and views.
snapshot() {
    if [ -n "${1:-}" ]; then
        find "$1/objects" "$1/views"
    else
        local store=.sluice
        [ -n "${SLUICE_STORE:-}" ] && store=${SLUICE_STORE#"$T"/}
        find . -mindepth 1 \( -path ./.sluice -o -path "./$store" -o -path ./.runs \) -prune -o -print
    fi | LC_ALL=C sort |
        while IFS= read -r p; do
            if [ -d "$p" ] && [ ! -L "$p" ]; then
                stat -c '%n %F %a %i' "$p"
            else
                printf '%s %s\n' "$(stat -c '%n %F %a %i %h %s' "$p")" \
                    "$([ -f "$p" ] && [ ! -L "$p" ] && sha256sum <"$p" | cut -c1-16)"
            fi
        done
}
assert_untouched() { # SNAPSHOT WHAT [STORE]
    [ -n "$1" ] || fail "an empty snapshot of $2 proves nothing"
    [ "$(snapshot "${3:-}")" = "$1" ] || fail "$2 changed:
$(diff <(echo "$1") <(snapshot "${3:-}"))"
}

publishing_flow() { # PUBLISH-PATH [EXTRA-TOP-LEVEL-FIELDS]
    cat >flow.json <<JSON
{ ${2:-} "tasks": { "a": { "run": "echo a >>\"\$RUNS\"; echo hi >\$OUT/r", "publish": "$1" } } }
JSON
}

# Defect 1: a path sluice did not publish is the user's.
test_publish_never_replaces_a_users_file_or_directory() {
    git_repo
    write results/thesis.tex 'my thesis'
    write notes.txt 'my notes'
    commit_all
    publishing_flow results
    before=$(snapshot)
    sl run; assert_rc 1
    assert_out "task a: publish path results exists and sluice did not publish it: refused (move it away, or run with --publish-overwrite to replace it)"
    assert_out "unpublished 1"
    assert_untouched "$before" "the user's directory"
    publishing_flow notes.txt
    before=$(snapshot)
    sl run; assert_rc 1
    assert_out "task a: publish path notes.txt exists and sluice did not publish it"
    assert_untouched "$before" "the user's file"
    sl run --publish-overwrite; assert_rc 0
    assert_eq "$(cat notes.txt)" hi "taken over on request"
    sl run; assert_rc 0
    assert_eq "$(cat notes.txt)" hi "sluice's own from then on"
}

# Defect 1: a directory sluice published that the user then put a file into.
test_publish_never_deletes_a_file_added_to_a_published_directory() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo {params.v} >$OUT/r", "publish": "out/"}}, "params": {"v": 1}}' >flow.json
    sl run; assert_rc 0
    assert_eq "$(cat out/r)" 1
    echo mine >out/mine.txt
    before=$(snapshot)
    sl run -p v=2; assert_rc 1
    assert_out "task a: publish path out/ holds out/mine.txt, which sluice did not publish: refused"
    assert_untouched "$before" "the published directory with the user's file"
    rm out/mine.txt
    sl run -p v=2; assert_rc 0
    assert_eq "$(cat out/r)" 2 "published once the user's file was gone"
}

# Defect 1: the flow file, the store, .git and their ancestors, whatever the path says.
test_publish_never_onto_or_into_the_flow_file_the_store_or_git() {
    git_repo
    name=$(basename "$T")
    mkdir sub && ln -s .. sub/up
    commit_all
    publishing_flow x
    sl run; assert_rc 0 # a store with an object in it
    rm x
    while IFS='|' read -r path top rc what; do
        publishing_flow "$path" "$top"
        before=$(snapshot) store=$(snapshot .sluice)
        sl run
        [ "$RC" = "$rc" ] || fail "publish $path: exit code $RC, expected $rc: $OUT_TEXT"
        case "$OUT_TEXT" in *"task a: publish path $path $what: refused"*) ;;
            *) fail "publish $path: output lacks '$what':
$OUT_TEXT" ;; esac
        assert_untouched "$before" "after publishing to $path"
        assert_untouched "$store" "the store after publishing to $path" .sluice
    done <<EOF
flow.json||2|is the flow file flow.json
flow.json/x||2|is inside the flow file flow.json
.git||2|is the git directory $T/.git
.git/hooks/x||2|is inside the git directory $T/.git
.sluice||2|is the store $T/.sluice
.sluice/objects||2|is inside the store $T/.sluice
sub/up/.sluice||2|is the store $T/.sluice
sub/up/.git/x||2|is inside the git directory $T/.git
../$name|"publish_root": "..",|2|holds the flow file flow.json
sub/up||1|exists and sluice did not publish it
sub||1|exists and sluice did not publish it
EOF
    assert_eq "$(total_runs)" 1 "tasks that ran"
}

# Defect 1: SLUICE_STORE inside the publication.
test_publish_never_replaces_a_store_set_by_sluice_store() {
    git_repo
    publishing_flow results
    export SLUICE_STORE=$T/results/store
    sl status; assert_rc 0
    before=$(snapshot) store=$(snapshot "$SLUICE_STORE")
    sl run; assert_rc 2
    assert_out "flow.json: task a: publish path results holds the store $T/results/store: refused"
    assert_untouched "$before" "the flow's directory"
    assert_untouched "$store" "the store" "$SLUICE_STORE"
    assert_eq "$(total_runs)" 0 "tasks that ran"
}

# Defect 2: a published file is a copy (or a reflink), never the store's object.
test_a_published_file_is_not_the_stores_object() {
    git_repo
    publishing_flow out/r
    sl run; assert_rc 0
    obj=$(find .sluice/objects -type f | head -n 1)
    [ "$(stat -c %i out/r)" != "$(stat -c %i "$obj")" ] || fail "out/r is the store's object"
    chmod u+w out/r && echo edited >out/r
    sl verify; assert_rc 0
    assert_eq "$(cat "$obj")" hi "the stored object"
    sl run; assert_rc 0
    assert_out "hit 1"
    assert_eq "$(cat out/r)" hi "an edited publication is published again"
    assert_eq "$(runs_of a)" 1 "runs of a"
    chmod u+w "$obj" && echo HI >"$obj" # damaged in the store, same size
    rm out/r
    sl run; assert_rc 0 # a damaged target is no hit: its task runs again
    assert_out "ran 1"
    assert_eq "$(cat out/r)" hi "the publication after the store was damaged"
}

# Defect 2: "publish_mode": "link" hard-links on request; damaged bytes are never published
# (a target whose stored bytes are damaged runs again).
test_publish_mode_link_and_damaged_objects() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": { "a": { "run": "echo hi >$OUT/r", "publish": "out/r", "publish_mode": "link" } } }
JSON
    sl run; assert_rc 0
    obj=$(find .sluice/objects -type f | head -n 1)
    assert_eq "$(stat -c %i out/r)" "$(stat -c %i "$obj")" "a linked publication's inode"
    chmod u+w "$obj" && echo HI >"$obj" # the documented danger: this edits the store
    rm out/r
    sl run; assert_rc 0 # the damaged target is no hit: its task runs again
    assert_out "ran 1"
    assert_eq "$(cat out/r)" hi "the publication after the store was damaged"
    sed -i 's/"publish_mode": "link"/"publish_mode": "lnk"/' flow.json
    sl run; assert_rc 2
    assert_out "flow.json: task a: \"publish_mode\" must be \"copy\" or \"link\""
}

# Defect 3: two publications of one path.
test_two_publications_of_one_path_are_refused() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": { "a": { "run": "echo a >$OUT/r", "publish": "out/r" },
             "b": { "run": "echo b >$OUT/r", "publish": "out/r" } } }
JSON
    sl run; assert_rc 2
    assert_out "flow.json: tasks a and b both publish to out/r: refused"
    [ ! -e out ] || fail "published anyway"
    cat >flow.json <<'JSON'
{ "tasks": { "a": { "run": "mkdir $OUT/d; echo a >$OUT/d/r", "publish": "out/" },
             "b": { "run": "echo b >$OUT/r", "publish": "out/d/r" } } }
JSON
    sl run; assert_rc 2
    assert_out "flow.json: task b publishes out/d/r inside out/, which task a publishes: refused"
    # Two flows sharing a store.
    echo '{"tasks": {"a": {"run": "echo one >$OUT/r", "publish": "shared/r"}}}' >flow.json
    echo '{"tasks": {"b": {"run": "echo two >$OUT/r", "publish": "shared/r"}}}' >other.json
    sl run; assert_rc 0
    before=$(snapshot)
    sl run -f other.json; assert_rc 1
    assert_out "task b: publish path shared/r is published by task a of flow.json: refused (two flows must not publish to one path; --publish-overwrite takes it over)"
    assert_untouched "$before" "the first flow's publication"
    sl run; assert_rc 0
    assert_eq "$(cat shared/r)" one
    ln -s . self # the same flow by another path is the same owner
    sl -f self/flow.json run; assert_rc 0
    echo '{"tasks": {"a": {"run": "echo 1 >$OUT/r", "publish": "shared/r"}}}' >flow.json
    sl -f self/flow.json run; assert_rc 0
    assert_eq "$(cat shared/r)" 1 "republished through the symlinked directory"
}

# Defect 5: a $OUT replaced by a symbolic link is not followed.
test_a_symlinked_out_is_never_followed() {
    git_repo
    write outside/keep 'precious'
    chmod 644 outside/keep
    echo '{"tasks": {"a": {"run": "rm -rf $OUT && ln -s '"$T"'/outside $OUT"}}}' >flow.json
    before=$(snapshot)
    sl run; assert_rc 1
    assert_out "the task replaced \$OUT with a symbolic link: nothing was stored"
    assert_untouched "$before" "the directory the symlink points at"
    assert_eq "$(find .sluice/objects -type f | wc -l)" 0 "objects"
}

# Defect 5: a hard link in $OUT to a user's file is copied, never chmodded or linked.
test_a_hard_link_in_out_is_copied() {
    git_repo
    write data.txt 'user data'
    chmod 644 data.txt
    echo '{"tasks": {"a": {"run": "ln '"$T"'/data.txt $OUT/d"}, "b": {"run": "cat $IN_a/d >$OUT/c", "after": ["a"]}}}' >flow.json
    before=$(snapshot)
    sl run; assert_rc 0
    assert_untouched "$before" "the user's hard-linked file"
    obj=$(find .sluice/objects -type f | head -n 1)
    [ "$(stat -c %i "$obj")" != "$(stat -c %i data.txt)" ] || fail "data.txt became a store object"
    echo changed >data.txt
    sl verify; assert_rc 0
    assert_eq "$(cat .sluice/views/*/d)" "user data" "the stored output"
}

# gc forgot what pub/1/t0/ held (its entries expired), but the directory is as sluice
# left it (its stamp is the recorded one): it is sluice's to replace.
test_an_untouched_publication_whose_output_gc_forgot_is_replaced() {
    git_repo
    cat >flow.json <<'JSON'
{ "params": {"p": 0}, "tasks": {
  "t0": { "run": "echo v1 >$OUT/a", "expire": "1s", "publish": "pub/{params.p}/t0/" }
} }
JSON
    sl run; assert_rc 0
    sl run -p p=1; assert_rc 0
    sed -i s/v1/v2/ flow.json
    sl run; assert_rc 0
    sleep 1.2
    sl gc; assert_rc 0
    assert_out "2 outputs"
    sl run -p p=1; assert_rc 0
    assert_eq "$(cat pub/1/t0/a)" v2 "republished"
    echo mine >pub/1/t0/b
    sed -i s/v2/v3/ flow.json
    sleep 1.2
    sl gc; assert_rc 0
    sl run -p p=1; assert_rc 1
    assert_out "no longer recorded: refused"
    assert_eq "$(cat pub/1/t0/b)" mine "a file the user added is left alone"
}

# Waits until a run started with SLUICE_TEST_HOOK="POINT stop 1 $T/hook" stops there,
# then kills it with -9.
kill_when_stopped() { # PID
    for _ in $(seq 1000); do
        [ -e hook/stopped ] || ! kill -0 "$1" 2>/dev/null && break
        sleep 0.01
    done
    [ -e hook/stopped ] || fail "the run never stopped at the hook"
    kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
    rm -rf hook
}

# kill -9 between placing a publication and recording it: the next run recognises the
# path as its own (it holds exactly what sluice meant to leave there), but a path the
# user changed meanwhile stays the user's.
test_a_publication_cut_by_kill_9_is_still_sluices_own() {
    git_repo
    commit_all
    for shape in res res/; do
        rm -rf .sluice res
        publishing_flow "$shape"
        mkdir hook
        SLUICE_TEST_HOOK="publish-placed stop 1 $T/hook" "$SLUICE" run >/dev/null 2>&1 &
        kill_when_stopped $!
        [ -e res ] || fail "$shape: nothing was placed before the kill"
        sl run; assert_rc 0
        assert_not_out "did not publish"
        # Republishing other bytes over sluice's own publication, killed the same way.
        sed -i 's/echo hi/echo ho/' flow.json
        mkdir hook
        SLUICE_TEST_HOOK="publish-placed stop 1 $T/hook" "$SLUICE" run >/dev/null 2>&1 &
        kill_when_stopped $!
        sl run; assert_rc 0
        assert_not_out "did not publish"
        [ "$shape" = res ] && assert_eq "$(cat res)" ho "$shape: published"
        [ "$shape" = res/ ] && assert_eq "$(cat res/r)" ho "$shape: published"
        sl verify; assert_rc 0
    done
    # Killed after placing, then the user writes over the path: it is theirs now.
    rm -rf .sluice res
    publishing_flow res
    mkdir hook
    SLUICE_TEST_HOOK="publish-placed stop 1 $T/hook" "$SLUICE" run >/dev/null 2>&1 &
    kill_when_stopped $!
    rm -f res
    write res 'mine'
    before=$(snapshot)
    sl run; assert_rc 1
    assert_out "publish path res exists and sluice did not publish it: refused"
    assert_untouched "$before" "the user's file written after the kill"
}

# Defect 8: an output tree deeper than PATH_MAX fails its task with the reason, every
# time (never wedging later runs), and gc really removes its scratch directory.
test_an_output_tree_deeper_than_path_max_fails_its_task_and_gc_removes_it() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": { "a": { "run": "echo a >>\"$RUNS\"; python3 -c \"import os; os.chdir(os.environ['OUT']); [(os.mkdir('d' * 16), os.chdir('d' * 16)) for i in range(300)]; open('f', 'w').write('x')\"" } } }
JSON
    commit_all
    sl run; assert_rc 1
    assert_out "File name too long"
    sl run; assert_rc 1
    assert_out "File name too long"
    assert_eq "$(runs_of a)" 2 "the task ran in both runs"
    assert_eq "$(sql "select count(*) from task_runs where decision = 'failed' and reason like '%File name too long%'")" 2 "failures recorded with their reason"
    # As a killed run leaves one.
    mkdir -p .sluice/tmp/0123456789abcdef0123456789abcdef.out
    python3 -c "import os; os.chdir('.sluice/tmp/0123456789abcdef0123456789abcdef.out'); [(os.mkdir('d' * 16), os.chdir('d' * 16)) for i in range(300)]"
    sl gc; assert_rc 0
    assert_eq "$(ls -A .sluice/tmp)" "" "gc left the scratch directory"
}

# Defect 9: verify --repair never says it repaired what it left broken. An object
# replaced by a symbolic link (to a file of the user's, never followed nor touched) is
# put back from its view, and stays put back.
test_verify_repair_puts_a_symlinked_object_back_for_good() {
    git_repo
    publishing_flow out
    commit_all
    sl run; assert_rc 0
    obj=$(find .sluice/objects -type f | head -1)
    write mine.txt hi
    rm -f "$obj"; ln -s "$T/mine.txt" "$obj"
    before=$(snapshot)
    sl verify; assert_rc 1
    assert_out "not a regular file"
    sl verify --repair; assert_rc 0
    assert_out "put object"
    assert_not_out "deleted the damaged object"
    sl verify; assert_rc 0
    [ -f "$obj" ] && [ ! -L "$obj" ] || fail "the object was not put back"
    assert_untouched "$before" "the user's file the object pointed to"
}

# Defect 12: valid JSON nested deeper than the reader goes is said to be that, with its
# place; a duplicated parameter or task field gets its line (as a duplicated task does).
test_deep_nesting_and_duplicated_members_are_named_with_their_place() {
    python3 -c "print('{\"tasks\": {\"a\": {\"run\": \"x\",\n \"x-deep\": ' + '[' * 1500 + ']' * 1500 + '}}}')" >flow.json
    sl status; assert_rc 2
    assert_out "flow.json:2:1011: nested too deeply (JSON deeper than 1000 levels)"
    assert_not_out "invalid JSON"
    printf '{ "params": { "lr": 1,\n  "lr": 2 },\n  "tasks": { "a": { "run": "x" } } }\n' >flow.json
    sl status; assert_rc 2
    assert_out "flow.json:2:3: parameter lr is defined twice (first at line 1)"
    printf '{ "tasks": { "a": { "run": "x",\n    "run": "y" } } }\n' >flow.json
    sl status; assert_rc 2
    assert_out "flow.json:2:5: task a: field \"run\" appears twice (first at line 1)"
}

# Defect 11: two runs never share an id, even when the WAL holding one run's record
# is deleted under it and a second writer then sees an older database.
test_two_runs_never_share_an_id_even_with_a_deleted_wal() {
    git_repo
    publishing_flow out
    commit_all
    mkdir hook
    SLUICE_TEST_HOOK="run-planned wait 1 $T/hook" "$SLUICE" run >a.out 2>&1 &
    local pid=$!
    for _ in $(seq 1000); do [ -e hook/stopped ] && break; sleep 0.01; done
    [ -e hook/stopped ] || fail "the first run never got to its plan"
    rm -f .sluice/sluice.db-wal .sluice/sluice.db-shm
    sl run -f flow.json
    b=$(printf '%s\n' "$OUT_TEXT" | sed -n 's/.* run \([0-9]*\) [a-z]*:.*/\1/p' | tail -1)
    touch hook/go
    wait "$pid"
    a=$(sed -n 's/.* run \([0-9]*\) [a-z]*:.*/\1/p' a.out | tail -1)
    [ -n "$a" ] && [ -n "$b" ] || fail "no run ids: first '$(cat a.out)', second '$OUT_TEXT'"
    [ "$a" != "$b" ] || fail "both runs are run $a"
}

# Defect 9 and 5: an objects/xx directory replaced by a symbolic link to a directory of
# the user's is never written through, by verify --repair (which puts the store's own
# directory back and exits 0 only once verify finds nothing) or by a run.
test_a_symlinked_object_directory_is_never_written_through() {
    git_repo
    publishing_flow out
    commit_all
    sl run; assert_rc 0
    obj=$(find .sluice/objects -type f | head -1)
    fan=$(dirname "$obj")
    mkdir mine && echo precious >mine/keep
    chmod -R u+w "$fan" && rm -rf "$fan" && ln -s "$T/mine" "$fan"
    before=$(snapshot)
    sl verify; assert_rc 1
    assert_out "objects/${fan##*/}: not a directory (a symbolic link)"
    sl verify --repair; assert_rc 0
    assert_out "deleted the damaged objects/${fan##*/}"
    assert_out "put object"
    assert_untouched "$before" "the directory the symlink pointed at"
    sl verify; assert_rc 0
    [ -d "$fan" ] && [ ! -L "$fan" ] && [ -f "$obj" ] || fail "the object was not put back"
    # A run meeting one refuses to store through it.
    chmod -R u+w "$fan" && rm -rf "$fan" && ln -s "$T/mine" "$fan"
    before=$(snapshot)
    sl run --force
    assert_rc 1
    assert_out "objects/${fan##*/} is not a directory (a symbolic link): run sluice verify --repair"
    assert_untouched "$before" "the directory the symlink points at"
}

# limited KB CMD...: runs CMD with its address space limited to KB, except under ASan
# or valgrind (whose shadow memory needs far more): there only the outcome is checked.
limited() {
    local kb=$1; shift
    if [ -n "${SLUICE_UNDER_VALGRIND:-}" ] || ldd "$SLUICE" 2>/dev/null | grep -q libasan; then
        "$@"
    else
        (ulimit -v "$kb" && "$@")
    fi
}

# Defect 7: what is read is bounded. A 3 GB flow file (sparse: no disk used) is refused
# before a byte of it is read, naming its size and the bound, in a bounded address space.
test_a_flow_file_bigger_than_the_bound_is_refused_unread() {
    git_repo
    truncate -s 3G flow.json
    OUT_TEXT=$(limited 1000000 timeout 20 "$SLUICE" status 2>&1); RC=$?
    assert_rc 2
    assert_out "flow.json: 3.0 GB, more than the 256 MB it may be"
    [ ! -e .sluice ] || fail "a store was made for a flow that was never read"
}

# Defect 7: a big code file that git does not have is kept for replay without being
# read into memory whole (a 200 MB one under a 150 MB address-space limit).
test_a_big_uncommitted_code_file_is_kept_in_bounded_memory() {
    git_repo
    truncate -s 200M big.bin
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo a >$OUT/a", "code": ["big.bin"]}}}' >flow.json
    OUT_TEXT=$(limited 150000 timeout 60 "$SLUICE" run 2>&1); RC=$?
    assert_rc 0
    assert_runs a 1
    blob=$(find .sluice/blobs -type f)
    [ "$(stat -c %s "$blob")" = $((200 << 20)) ] || fail "the kept blob: $(ls -l "$blob")"
    assert_eq "$(git hash-object big.bin)" "$(basename "$(dirname "$blob")")$(basename "$blob")" "its blob id"
    assert_eq "$(find .sluice/blobs -name '*.tmp' | wc -l)" 0 "temporary files left"
}

# A view replaced by a symbolic link to a directory of the user's is never followed: a
# run making that output again puts a real view back (the user's directory untouched).
test_a_view_replaced_by_a_symlink_is_put_back_not_followed() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >>$RUNS; echo a >$OUT/r"}}}' >flow.json
    sl run; assert_rc 0
    view=$(ls -d .sluice/views/*)
    mkdir mine && echo precious >mine/r && echo x >mine/extra
    chmod -R u+w "$view" && rm -rf "$view" && ln -s "$T/mine" "$view"
    before=$(snapshot)
    sl run --force; assert_rc 0
    assert_runs a 2
    assert_untouched "$before" "the directory the view pointed at"
    [ -d "$view" ] && [ ! -L "$view" ] || fail "the view is not a directory again"
    sl verify; assert_rc 0
}
