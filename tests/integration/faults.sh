# Resource faults: a full disk, a failing disk, a read-only store, a database
# another program keeps locked, a store on a network file system. Each ends with a
# clear message, nothing partial stored and a history that still adds up.

two_tasks() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "make": { "run": "echo make >>\"$RUNS\"; seq 1 1000 >$OUT/numbers" },
  "sum":  { "run": "echo sum >>\"$RUNS\"; awk '{ s += $1 } END { print s }' $IN_make/numbers >$OUT/sum",
            "after": ["make"] }
} }
JSON
    commit_all
}

test_disk_full_while_storing_an_output_fails_the_task_and_stores_nothing() {
    two_tasks
    SLUICE_TEST_HOOK="store-object enospc" sl run; assert_rc 1
    assert_out "failed    make"
    assert_out "storing its output failed"
    assert_out "No space left on device"
    assert_runs sum 0
    assert_eq "$(sql "select count(*) from entries")" 0 "entries"
    assert_eq "$(sql "select status from runs")" failed "the run's status"
    assert_eq "$(sql "select decision from task_runs where task = 'make'")" failed
    sl verify; assert_rc 0
    reset_runs
    sl run; assert_rc 0
    assert_runs make 1
    assert_eq "$(cat .sluice/views/*/sum)" 500500
}

test_a_full_tmpfs_store_fails_the_run_cleanly_and_recovers() {
    two_tasks
    mkdir small
    mount -t tmpfs -o size=2m,mode=0700 tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
    trap 'umount "$T/small" 2>/dev/null' EXIT
    export SLUICE_STORE=$T/small/store
    sed -i 's/seq 1 1000/seq 1 1000000/' flow.json
    sl run
    # The task's writes fail, or the history's if it gets there first: either way
    # the run stops with the cause named, and nothing is stored.
    [ "$RC" = 1 ] || [ "$RC" = 2 ] || fail "exit code $RC: $OUT_TEXT"
    case "$OUT_TEXT" in
    *"file system is full"* | *"no space left on device"*) ;;
    *) fail "no cause: $OUT_TEXT" ;;
    esac
    assert_runs sum 0
    assert_eq "$(sql_store "select count(*) from entries")" 0 "entries"
    [ -z "$(ls "$SLUICE_STORE/tmp")" ] || fail "scratch left behind: $(ls "$SLUICE_STORE/tmp")"
    sed -i 's/seq 1 1000000/seq 1 1000/' flow.json
    reset_runs
    sl run; assert_rc 0
    assert_runs make 1
    assert_eq "$(cat "$SLUICE_STORE"/views/*/sum)" 500500
    # (A full disk may have kept the first run from being recorded at all.)
    case "$(sql_store "select group_concat(status) from runs")" in
    ok | failed,ok | interrupted,ok) ;;
    *) fail "runs: $(sql_store "select group_concat(status) from runs")" ;;
    esac
    sl verify; assert_rc 0
    umount "$T/small"
}

sql_store() { sqlite3 "$SLUICE_STORE/sluice.db" "$1"; }

test_a_failing_fsync_stops_the_run_before_any_entry_is_written() {
    two_tasks
    SLUICE_TEST_HOOK="store-fsync eio" sl run; assert_rc 2
    assert_out "fsync"
    assert_out "Input/output error"
    assert_eq "$(sql "select count(*) from entries")" 0 "entries"
    assert_eq "$(sql "select status from runs")" failed "the run's status"
    sl verify; assert_rc 0
    reset_runs
    sl run; assert_rc 0
    assert_runs make 1
}

test_a_database_locked_by_another_program_is_named_and_nothing_runs() {
    two_tasks
    sl status; assert_rc 0
    # The lock is held while sqlite3 reads on; the whole pipeline (the sleep too, which
    # would otherwise keep the test's output open for 30 s) ends when the test does.
    { echo "BEGIN EXCLUSIVE;"; echo "SELECT 'locked';"; sleep 30 & echo $! >sleep.pid; wait; } |
        sqlite3 .sluice/sluice.db >lock.out &
    holder=$!
    end_holder() { kill "$(cat sleep.pid 2>/dev/null)" "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }
    trap end_holder EXIT
    for _ in $(seq 500); do grep -q locked lock.out 2>/dev/null && break; sleep 0.02; done
    SLUICE_TEST_HOOK="db-busy-timeout on" sl run; assert_rc 2
    assert_out ".sluice/sluice.db is locked by another program (gave up after 0.3 s)"
    assert_not_out "cancelled"
    assert_eq "$(total_runs)" 0 "executions"
    end_holder
    sl run; assert_rc 0
    assert_runs make 1
    assert_eq "$(sql "select group_concat(status) from runs")" ok "runs"
}

# Makes $T/ro a read-only view of the store; skips where that is impossible.
read_only_store() {
    mkdir ro
    if [ "$(id -u)" = 0 ]; then
        mount --bind .sluice ro 2>/dev/null && mount -o remount,bind,ro ro 2>/dev/null ||
            { umount ro 2>/dev/null; skip "cannot make a read-only bind mount here"; }
        trap 'umount "$T/ro" 2>/dev/null' EXIT
    else
        rmdir ro && cp -a .sluice ro && chmod -R a-w ro
    fi
    export SLUICE_STORE=$T/ro
}

test_a_read_only_store_can_be_read_but_not_run_in() {
    two_tasks
    sl run; assert_rc 0
    sed -i 's/seq 1 1000/seq 1 10/' flow.json
    read_only_store
    reset_runs
    sl status; assert_rc 0
    assert_out "stale"
    sl dag --ascii; assert_rc 0
    sl verify; assert_rc 0
    sl run; assert_rc 2
    assert_out "is read-only"
    assert_eq "$(total_runs)" 0 "executions"
    sl gc; assert_rc 2
    assert_out "is read-only"
    [ "$(id -u)" = 0 ] && umount "$T/ro"
    return 0
}

test_a_store_on_a_network_file_system_gets_a_loud_warning() {
    two_tasks
    SLUICE_TEST_HOOK="store-network-fs on" sl run; assert_rc 0
    assert_out "sluice: warning: the store"
    assert_out "is on a network file system (nfs)"
    assert_out "never use it from two machines at once"
    SLUICE_TEST_HOOK="store-network-fs on" sl verify; assert_rc 0
    assert_out "network file system"
    sl run; assert_rc 0
    assert_not_out "warning"
}

# A full disk met when opening the store (SQLite cannot make its WAL index) is said
# to be one, with the database's path, not "disk I/O error".
test_a_full_disk_at_open_says_the_disk_is_full() {
    two_tasks
    mkdir small
    mount -t tmpfs -o size=2m,mode=0700 tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
    trap 'umount "$T/small" 2>/dev/null' EXIT
    export SLUICE_STORE=$T/small/store
    sl run; assert_rc 0
    # The WAL and its index go first (the WAL outlives commands), then the disk fills.
    rm -f small/store/sluice.db-wal small/store/sluice.db-shm
    dd if=/dev/zero of=small/fill bs=1k count=4000 2>/dev/null || true
    sl status; assert_rc 2
    assert_out "$T/small/store/sluice.db"
    assert_out "the disk is full (no space left on device)"
    assert_not_out "disk I/O error"
    rm -f small/fill
    sl status; assert_rc 0
    umount "$T/small"
}
