# Security: a private store, read-only results, no symlink leading out of the
# store, no store internals handed to tasks, and no command run unless asked.

test_store_and_database_are_private_and_results_read_only() {
    chain_flow
    umask 022
    sl run; assert_rc 0
    assert_eq "$(stat -c %a .sluice)" 700 ".sluice"
    assert_eq "$(stat -c %a .sluice/sluice.db)" 600 "sluice.db"
    for d in objects views logs tmp; do
        assert_eq "$(stat -c %a .sluice/$d)" 700 ".sluice/$d"
    done
    assert_eq "$(find .sluice/objects .sluice/logs -type f ! -perm 444 ! -perm 555)" "" \
        "objects and logs that are not read-only"
    assert_eq "$(find .sluice/views -mindepth 1 -type d ! -perm 555)" "" "writable views"
    assert_eq "$(find .sluice/views -type f ! -perm 444 ! -perm 555)" "" "writable view files"
}

# The tasks of chain_flow after a run and a code change, for commands that must not
# run anything.
test_inspecting_a_flow_never_runs_its_commands() {
    chain_flow
    for cmd in "status" "status --json" "why report" "dag --ascii" "dag --dot" "dag --mermaid" \
        "run --dry-run" "invalidate train --dry-run" "verify" "gc --dry-run"; do
        # shellcheck disable=SC2086
        sl $cmd
        [ "$RC" = 0 ] || fail "sluice $cmd: $OUT_TEXT"
    done
    printf 'size 100 30\nwait-idle\ndump open\nkey q\n' >keys.txt
    sl tui --script keys.txt; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions before any run"
    sl run; assert_rc 0
    echo '# changed' >>tasks/train.sh
    reset_runs
    for cmd in "status" "why report" "dag --ascii" "run --dry-run" "verify"; do
        # shellcheck disable=SC2086
        sl $cmd
        [ "$RC" = 0 ] || fail "sluice $cmd: $OUT_TEXT"
    done
    sl tui --script keys.txt; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions after a code change"
}

test_tasks_inherit_no_store_file_descriptors_and_no_store_variables() {
    git_repo
    echo '{"tasks": {"look": {"run": "ls -l /proc/$$/fd >$OUT/fds; env >$OUT/env"}}}' >flow.json
    SECRET_OF_THE_USER=kept sl run; assert_rc 0
    fds=$(cat .sluice/views/*/fds)
    case "$fds" in *sluice.db* | *"/lock"* | *-wal* | *-shm*) fail "a store file is open in the task:
$fds" ;; esac
    grep -q '^SECRET_OF_THE_USER=kept$' .sluice/views/*/env || fail "the user's environment was not passed"
    assert_eq "$(grep -F "$T/.sluice" .sluice/views/*/env | grep -v '^OUT=')" "" \
        "store paths in the task's environment besides \$OUT"
}

test_an_unprivileged_task_cannot_write_into_its_inputs() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "src": { "run": "echo original >$OUT/data" },
  "bad": { "run": "if echo evil >$IN_src/data 2>/dev/null || touch $IN_src/new 2>/dev/null; then echo wrote >$OUT/r; else echo refused >$OUT/r; fi",
           "after": ["src"] }
} }
JSON
    as_user=""
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "no setpriv to drop root"
        chown -R nobody "$T"
        as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$T"
    fi
    OUT_TEXT=$($as_user "$SLUICE" run 2>&1); RC=$?
    assert_rc 0
    assert_eq "$(cat .sluice/views/*/r)" refused "the task's attempt"
    assert_eq "$(cat .sluice/views/*/data)" original "the stored input"
    sl verify; assert_rc 0
}

test_a_task_output_linking_out_of_its_directory_is_refused() {
    git_repo
    echo '{"tasks": {"leak": {"run": "ln -s /etc/passwd $OUT/passwd"}}}' >flow.json
    sl run; assert_rc 1
    assert_out "output passwd is a symlink to /etc/passwd, outside \$OUT"
    assert_eq "$(sql "select count(*) from entries")" 0 "entries"
}

test_a_symlink_planted_in_the_store_is_never_followed() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >$OUT/a"}}}' >flow.json
    sl status; assert_rc 0
    key=$("$SLUICE" status --json | sed -n 's/.*"deep_key":[^"]*"\([0-9a-f]*\)".*/\1/p')
    mkdir outside && echo precious >outside/keep
    ln -s "$T/outside" ".sluice/tmp/${key:0:32}.out"
    sl run; assert_rc 0
    assert_eq "$(ls outside)" keep "the symlink's target directory"
    assert_eq "$(cat outside/keep)" precious
    sl gc; assert_rc 0
    assert_eq "$(cat outside/keep)" precious "after gc"
}

test_publishing_replaces_a_symlink_instead_of_writing_through_it() {
    git_repo
    echo precious >"$T/outside"
    echo '{"tasks": {"a": {"run": "echo result >$OUT/r", "publish": "out/r.txt"}}}' >flow.json
    mkdir out && ln -s "$T/outside" out/r.txt
    sl run; assert_rc 1
    assert_out "publish path out/r.txt exists and sluice did not publish it: refused"
    assert_eq "$(readlink out/r.txt)" "$T/outside" "the user's symlink"
    assert_eq "$(cat "$T/outside")" precious "the symlink's target"
    sl run --publish-overwrite; assert_rc 0
    [ ! -L out/r.txt ] || fail "out/r.txt is still a symlink"
    assert_eq "$(cat out/r.txt)" result
    assert_eq "$(cat "$T/outside")" precious "the symlink's target"
}

# Reading a 0400 database leaves 0400 WAL files; once the database is writable again,
# so is the store.
test_a_database_made_writable_again_can_be_written() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo one >$OUT/a"}}}' >flow.json
    as_user=""
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "no setpriv to drop root"
        chown -R nobody "$T"
        as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$T"
    fi
    $as_user "$SLUICE" run >/dev/null 2>&1 || fail "first run"
    chmod 400 .sluice/sluice.db
    OUT_TEXT=$($as_user "$SLUICE" status 2>&1); RC=$?
    assert_rc 0
    chmod 600 .sluice/sluice.db
    echo '{"tasks": {"a": {"run": "echo two >$OUT/a"}}}' >flow.json
    OUT_TEXT=$($as_user "$SLUICE" run 2>&1); RC=$?
    assert_rc 0
    assert_out "ran 1"
}

test_file_names_cannot_drive_the_terminal_in_status_why_and_show() {
    # A cloned repository may hold a file whose name is an escape sequence; status, why
    # and show name changed files, and must print its control bytes as ^[ and ^G.
    git_repo
    local evil=$'data/\e]2;owned\a.txt'
    write "$evil" 'one'
    cat >flow.json <<'JSON'
{ "tasks": { "a": { "run": "cat data/* >$OUT/o", "files": ["data"] } } }
JSON
    commit_all
    sl run; assert_rc 0
    printf 'two\n' >"$evil"
    local cmd
    for cmd in "status" "why a" "show last"; do
        # shellcheck disable=SC2086
        sl $cmd
        case "$OUT_TEXT" in *$'\e'*) fail "sluice $cmd printed a raw ESC: $(printf '%s' "$OUT_TEXT" | cat -v)" ;; esac
    done
    sl status; assert_out 'file data/^[]2;owned^G.txt changed'
    sl why a; assert_out 'data/^[]2;owned^G.txt'
}
