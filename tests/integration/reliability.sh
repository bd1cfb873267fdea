# The cache is never wrong: damaged bytes, crashes at any point, concurrent runs,
# resource faults. Faults inside sluice are injected through SLUICE_TEST_HOOK
# (engine/testhook.h), a test-only switch.

# object_of TASK: the path of the (first) object of TASK's cached output.
object_of() {
    local d
    d=$(sql "select o.manifest from outputs o join entries e on e.digest = o.digest
             where e.task = '$1' and e.kind = 'deep'" | awk '$1 == "f" || $1 == "x" {print $2; exit}')
    [ -n "$d" ] || fail "no cached output for $1"
    echo ".sluice/objects/${d:0:2}/${d:2}"
}

# damage FILE: flips its first byte in place (same size, new content).
damage() {
    chmod u+w "$1"
    printf 'Z' | dd of="$1" bs=1 count=1 conv=notrunc status=none
}

test_verify_reports_damage_and_repair_makes_the_task_run_again() {
    chain_flow
    sl run; assert_rc 0
    sl verify; assert_rc 0
    assert_out "all intact"
    obj=$(object_of features)
    chmod u+w "$obj" && : >"$obj"
    sl verify; assert_rc 1
    assert_out "(task features): f.csv: object"
    assert_out "is truncated"
    assert_out "sluice verify --repair"
    sl verify --repair; assert_rc 0
    assert_out "repaired: dropped output"
    assert_out "(task features) and its 2 cache entries"
    sl verify; assert_rc 0
    assert_out "all intact"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "executions with the final result still cached"
    sl run features; assert_rc 0
    assert_runs features 1
    assert_eq "$(cat .sluice/views/*/f.csv | sort -u)" "A,B"
}

test_verify_puts_back_an_object_a_view_still_holds() {
    chain_flow
    sl run; assert_rc 0
    obj=$(object_of load)
    rm -f "$obj"
    sl verify; assert_rc 1
    assert_out "is missing (its view still has it)"
    sl verify --repair; assert_rc 0
    assert_out "put object"
    [ -f "$obj" ] || fail "object not restored"
    sl verify; assert_rc 0
}

test_verify_never_follows_a_symlinked_object() {
    chain_flow
    sl run; assert_rc 0
    echo precious >"$T/outside"
    obj=$(object_of report)
    rm -f "$obj" && ln -s "$T/outside" "$obj"
    sl verify; assert_rc 1
    assert_out "not a regular file"
    sl verify --repair; assert_rc 0
    [ ! -L "$obj" ] || fail "the symlink is still there"
    assert_eq "$(cat "$T/outside")" precious "the symlink's target"
}

test_damaged_input_is_a_miss_and_its_producer_runs_again() {
    chain_flow
    sl run; assert_rc 0
    damage "$(object_of features)"
    reset_runs
    sl run -p lr=0.2; assert_rc 0
    assert_runs load 0
    assert_runs features 1
    assert_runs train 1
    assert_eq "$(sql "select reason from task_runs where task = 'features' and run_id = 2")" \
        "its stored output is damaged: f.csv is damaged (its content changed)"
    model=.sluice/views/$(sql "select output_digest from task_runs where task = 'train' and run_id = 2")/model
    assert_eq "$(head -n 1 "$model")" "A,B" "what train read"
    sl verify; assert_rc 0
}

# Four independent slow tasks and one that reads them all.
wide_flow() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; sleep 0.3; echo a >$OUT/x" },
  "b": { "run": "echo b >>\"$RUNS\"; sleep 0.3; echo b >$OUT/x" },
  "c": { "run": "echo c >>\"$RUNS\"; sleep 0.3; echo c >$OUT/x" },
  "d": { "run": "echo d >>\"$RUNS\"; sleep 0.3; echo d >$OUT/x" },
  "all": { "run": "echo all >>\"$RUNS\"; cat $IN_a/x $IN_b/x $IN_c/x $IN_d/x >$OUT/all",
           "after": ["a", "b", "c", "d"] }
} }
JSON
    commit_all
}

test_two_concurrent_runs_compute_each_task_once() {
    wide_flow
    "$SLUICE" run -j 2 >one.out 2>&1 &
    one=$!
    "$SLUICE" run -j 2 >two.out 2>&1 &
    two=$!
    wait "$one" || fail "first run: $(cat one.out)"
    wait "$two" || fail "second run: $(cat two.out)"
    for t in a b c d all; do assert_runs "$t" 1; done
    sl verify; assert_rc 0
    assert_eq "$(sql "select count(*) from claims")" 0 "claims left behind"
}

test_a_run_waits_for_the_task_another_run_computes_and_reuses_it() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "slow": { "run": "echo slow >>\"$RUNS\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; echo s >$OUT/s" },
  "next": { "run": "echo next >>\"$RUNS\"; cat $IN_slow/s >$OUT/n", "after": ["slow"] }
} }
JSON
    "$SLUICE" run >one.out 2>&1 &
    one=$!
    for _ in $(seq 500); do [ "$(runs_of slow)" = 1 ] && break; sleep 0.02; done
    "$SLUICE" run >two.out 2>&1 &
    two=$!
    for _ in $(seq 500); do
        [ "$(sql "select count(*) from events where run_id = 2 and detail = 'waiting: run 1 is computing it'" 2>/dev/null)" = 1 ] && break
        sleep 0.02
    done
    touch go
    wait "$one" || fail "first run: $(cat one.out)"
    wait "$two" || fail "second run: $(cat two.out)"
    assert_runs slow 1
    assert_runs next 1
    grep -q "hit       slow  (computed meanwhile by run 1)" two.out || fail "second run: $(cat two.out)"
}

test_a_run_does_not_drop_an_ephemeral_output_another_run_reads() {
    # u is keep: none, kept in the store because it was a requested target. Run 1
    # computes x, run 2 computes y, both reading u as a hit. Run 1 finishes first: it must
    # not delete u's bytes while run 2's y is still to read them.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "u": { "run": "echo u >>\"$RUNS\"; echo U >$OUT/u", "keep": "none" },
  "x": { "run": "echo x >>\"$RUNS\"; cat $IN_u/u >$OUT/x; while [ ! -e \"$T/y-started\" ]; do sleep 0.02; done",
         "after": ["u"] },
  "y": { "run": "echo y >>\"$RUNS\"; touch \"$T/y-started\"; while [ ! -e \"$T/x-done\" ]; do sleep 0.02; done; cat $IN_u/u >$OUT/y",
         "after": ["u"] }
} }
JSON
    commit_all
    sl run u; assert_rc 0
    reset_runs
    "$SLUICE" run x >one.out 2>&1 &
    one=$!
    for _ in $(seq 500); do [ "$(runs_of x)" = 1 ] && break; sleep 0.02; done
    "$SLUICE" run y >two.out 2>&1 &
    two=$!
    wait "$one" || fail "first run: $(cat one.out)"
    touch x-done
    wait "$two" || fail "second run: $(cat two.out)"
    assert_runs u 0
    grep -qx U .sluice/views/*/y || fail "y did not read u's output"
    # Run 2, the last one reading u, dropped it.
    assert_eq "$(sql "select count(*) from outputs where dropped is not null")" 1 "u not dropped"
}

test_a_run_reuses_a_task_after_a_volatile_one_that_another_run_computed() {
    # v is volatile and makes the same bytes every time; d after it runs in both runs
    # (its deep key cannot be trusted after a volatile task), but run 2 waits for run 1's
    # claim on d, and then finds d's shallow key (v's bytes) computed: it must not run d.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "v": { "run": "echo same >$OUT/v", "volatile": true },
  "d": { "run": "echo d >>\"$RUNS\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; cat $IN_v/v >$OUT/d",
         "after": ["v"] }
} }
JSON
    commit_all
    "$SLUICE" run >one.out 2>&1 &
    one=$!
    for _ in $(seq 500); do [ "$(runs_of d)" = 1 ] && break; sleep 0.02; done
    "$SLUICE" run >two.out 2>&1 &
    two=$!
    for _ in $(seq 500); do
        grep -q "waiting for run 1" two.out 2>/dev/null && break
        sleep 0.02
    done
    touch go
    wait "$one" || fail "first run: $(cat one.out)"
    wait "$two" || fail "second run: $(cat two.out)"
    assert_runs d 1
}

test_an_upstream_output_deleted_during_the_run_is_computed_again() {
    # a runs and is stored; before c (after a and w) starts, a's bytes leave the store
    # (here by hand, as a run finishing with them or a mistaken rm would): c must not fail
    # on a missing $IN_a, a runs again first.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo A >$OUT/a", "keep": "none" },
  "w": { "run": "touch \"$T/w-started\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; echo W >$OUT/w" },
  "c": { "run": "cat $IN_a/a $IN_w/w >$OUT/c", "after": ["a", "w"] }
} }
JSON
    commit_all
    "$SLUICE" run -j 2 >one.out 2>&1 &
    one=$!
    for _ in $(seq 500); do [ -e w-started ] && [ "$(runs_of a)" = 1 ] && break; sleep 0.02; done
    local d="" # a's output is stored (under valgrind this takes a while)
    for _ in $(seq 500); do
        d=$(sql "select digest from entries where task='a' and kind='deep'" 2>/dev/null)
        [ -n "$d" ] && break
        sleep 0.02
    done
    [ -n "$d" ] || fail "a has no entry"
    chmod -R u+w .sluice/views/"$d" && rm -rf .sluice/views/"$d"
    for o in $(sqlite3 .sluice/sluice.db "select manifest from outputs where digest='$d'" | grep -oE '[0-9a-f]{64}'); do
        rm -f .sluice/objects/"${o:0:2}"/"${o:2}" .sluice/objects/"${o:0:2}"/"${o:2}".x
    done
    touch go
    wait "$one" || fail "run: $(cat one.out)"
    assert_runs a 2
    [ "$(sql "select count(*) from task_runs where task='a' and cause like '%left the store and c needs it%'")" = 1 ] ||
        fail "a's second run does not say why: $(sql "select cause from task_runs where task='a'")"
    grep -qx A .sluice/views/*/c || fail "c did not read a's output"
}

test_a_hit_upstream_deleted_during_the_run_fails_only_its_reader() {
    # a is a hit of the plan (its upstreams are not planned, it cannot run here); its bytes
    # leave the store before c reads them: c fails saying so, the run goes on (w, other),
    # and the next run computes a again.
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "a": { "run": "echo a >>\"$RUNS\"; echo A >$OUT/a" },
  "w": { "run": "touch \"$T/w-started\"; while [ ! -e \"$T/go\" ]; do sleep 0.02; done; echo W >$OUT/w" },
  "c": { "run": "cat $IN_a/a $IN_w/w >$OUT/c", "after": ["a", "w"] },
  "other": { "run": "echo O >$OUT/o", "after": ["w"] }
} }
JSON
    commit_all
    sl run a; assert_rc 0
    "$SLUICE" run -j 2 >one.out 2>&1 &
    one=$!
    for _ in $(seq 500); do [ -e w-started ] && break; sleep 0.02; done
    local d o
    d=$(sql "select digest from entries where task='a' and kind='deep'")
    for o in $(sql "select manifest from outputs where digest='$d'" | grep -oE '[0-9a-f]{64}'); do
        rm -f .sluice/objects/"${o:0:2}"/"${o:2}"
    done
    chmod -R u+w .sluice/views/"$d" && rm -rf .sluice/views/"$d"
    touch go
    wait "$one"; RC=$?; OUT_TEXT=$(cat one.out)
    assert_rc 1
    assert_out "upstream a's output left the store during the run"
    assert_out "ran       other"
    sl run; assert_rc 0
    assert_runs a 2
}

test_a_claim_left_by_a_dead_process_is_taken_over() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >>\"$RUNS\"; echo a >$OUT/a"}}}' >flow.json
    sl status; assert_rc 0
    key=$("$SLUICE" status --json | sed -n 's/.*"deep_key":[^"]*"\([0-9a-f]*\)".*/\1/p')
    [ -n "$key" ] || fail "no deep key"
    sh -c 'exit 0' & dead=$!; wait "$dead"
    sql "insert into claims(key, task, run_id, pid, started) values('$key', 'a', 99, $dead, 0)"
    OUT_TEXT=$(timeout 20 "$SLUICE" run 2>&1); RC=$?
    assert_rc 0
    assert_runs a 1
}

# claim_by PID STARTED: a claim of task a's key by run 99, process PID, made at STARTED.
claim_by() {
    git_repo
    echo '{"tasks": {"a": {"run": "echo a >>\"$RUNS\"; echo a >$OUT/a"}}}' >flow.json
    sl status; assert_rc 0
    key=$("$SLUICE" status --json | sed -n 's/.*"deep_key":[^"]*"\([0-9a-f]*\)".*/\1/p')
    [ -n "$key" ] || fail "no deep key"
    sql "insert into claims(key, task, run_id, pid, started) values('$key', 'a', 99, $1, $2)"
}

test_a_claim_held_by_a_zombie_or_a_reused_pid_is_taken_over() {
    sh -c 'sleep 0 & echo $! >zombie; exec sleep 30' & parent=$!
    for _ in $(seq 50); do [ -s zombie ] && grep -q '^State:.*Z' "/proc/$(cat zombie)/status" 2>/dev/null && break; sleep 0.05; done
    claim_by "$(cat zombie)" "$(date +%s)"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=0 timeout 20 "$SLUICE" run 2>&1); RC=$?
    kill "$parent"
    assert_rc 0
    assert_runs a 1
    rm -rf .sluice "$RUNS"
    sleep 30 & later=$! # a process started after the claim: the pid was reused
    claim_by "$later" "$(($(date +%s) - 100))"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=0 timeout 20 "$SLUICE" run 2>&1); RC=$?
    kill "$later"
    assert_rc 0
    assert_runs a 1
}

test_a_run_waiting_for_another_says_so_and_gives_up_after_its_bound() {
    sleep 30 & owner=$!
    sleep 0.1
    claim_by "$owner" "$(date +%s.%N)"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=1 timeout 20 "$SLUICE" run 2>&1); RC=$?
    kill "$owner"
    assert_rc 1
    assert_out "waiting for run 99 (pid $owner), which is computing it"
    assert_out "gave up after waiting 1 s for run 99 (pid $owner), which is still computing it"
    [ "$(grep -c 'waiting for run 99' <<<"$OUT_TEXT")" = 1 ] || fail "said more than once: $OUT_TEXT"
    assert_eq "$(total_runs)" 0 "executions"
}

# A replay waits for another run with the same bound and the same words as a run.
test_a_replay_waiting_for_another_run_gives_up_after_its_bound() {
    git_repo
    write a.sh 'echo a >>"$RUNS"; echo a >"$OUT/a"'
    echo '{"tasks": {"a": {"run": "sh a.sh", "code": ["a.sh"]}}}' >flow.json
    commit_all
    sl run; assert_rc 0
    key=$(sql "select deep_key from task_runs where task = 'a'")
    sleep 30 & owner=$!
    sleep 0.1
    sql "insert into claims(key, task, run_id, pid, started) values('$key', 'a', 99, $owner, $(date +%s.%N))"
    OUT_TEXT=$(SLUICE_CLAIM_WAIT=1 timeout 20 "$SLUICE" replay 1 2>&1); RC=$?
    kill "$owner"
    assert_rc 1
    assert_out "waiting for run 99 (pid $owner), which is computing it"
    assert_out "gave up after waiting 1 s for run 99 (pid $owner), which is still computing it"
}

# The TUI says it too: the waiting task's note and its details name the run it waits for.
test_a_tui_run_waiting_for_another_says_for_which() {
    sleep 30 & owner=$!
    sleep 0.1
    claim_by "$owner" "$(date +%s.%N)"
    export SLUICE_CLAIM_WAIT=20
    tui <<'KEYS'
keys R
wait-text a waiting 5000
key Enter
wait-text waiting for run 99 5000
dump waiting
keys q
keys q
keys y
KEYS
    kill "$owner"
    screen waiting
    assert_line "◌ a +waiting"
    assert_out "waiting for run 99 (pid $owner), which is computing it"
}

test_two_tasks_with_the_same_key_in_one_run_run_once() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
  "one": { "run": "echo same >>\"$RUNS\"; sleep 0.2; echo x >$OUT/x" },
  "two": { "run": "echo same >>\"$RUNS\"; sleep 0.2; echo x >$OUT/x" }
} }
JSON
    sl run -j 2; assert_rc 0
    assert_runs same 1
    assert_out "computed meanwhile"
}

# A diamond whose tasks write two files each and leave their pid in $T/pids (so a
# test can stop what a killed run left behind).
diamond_flow() {
    git_repo
    mkdir -p pids
    cat >flow.json <<'JSON'
{ "tasks": {
  "src":    { "run": "echo src >>\"$RUNS\"; echo $$ >$T/pids/src; seq 1 50 >$OUT/n; echo src >$OUT/name" },
  "left":   { "run": "echo left >>\"$RUNS\"; echo $$ >$T/pids/left; grep 1 $IN_src/n >$OUT/ones; echo l >$OUT/name", "after": ["src"] },
  "right":  { "run": "echo right >>\"$RUNS\"; echo $$ >$T/pids/right; grep 2 $IN_src/n >$OUT/twos; echo r >$OUT/name", "after": ["src"] },
  "join":   { "run": "echo join >>\"$RUNS\"; echo $$ >$T/pids/join; cat $IN_left/ones $IN_right/twos >$OUT/both; wc -l <$OUT/both >$OUT/count", "after": ["left", "right"] },
  "report": { "run": "echo report >>\"$RUNS\"; echo $$ >$T/pids/report; echo \"lines: $(cat $IN_join/count)\" >$OUT/report.txt", "after": ["join"] }
} }
JSON
    commit_all
}

# Kills `sluice run` where SLUICE_TEST_HOOK="POINT stop N" stops it (or lets it finish
# when it never gets there), then checks: the store verifies clean; the next run
# re-runs exactly the tasks that were not cached, each once; the result is right.
kill_at() { # POINT N
    rm -rf .sluice hook && mkdir hook && reset_runs
    SLUICE_TEST_HOOK="$1 stop $2 $T/hook" "$SLUICE" run -j 2 >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1000); do
        [ -e hook/stopped ] || ! kill -0 "$pid" 2>/dev/null && break
        sleep 0.01
    done
    [ -e hook/stopped ] && STOPPED="$STOPPED $1#$2"
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    for f in pids/*; do [ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    rm -f pids/*
    sl verify
    [ "$RC" = 0 ] || fail "killed at $1 #$2: verify: $OUT_TEXT"
    local states
    states=$("$SLUICE" status --json | tr -d '\n\t ' | grep -o '"name":"[a-z]*","state":"[a-z]*"' |
             sed 's/"name":"\([a-z]*\)","state":"\([a-z]*\)"/\1=\2/')
    reset_runs
    sl run
    [ "$RC" = 0 ] || fail "killed at $1 #$2: the next run: $OUT_TEXT"
    for s in $states; do
        local t=${s%%=*} want=1
        case ${s#*=} in cached|skipped) want=0 ;; esac
        local ran; ran=$(runs_of "$t")
        [ "${ran:-0}" = "$want" ] || fail "killed at $1 #$2: $t was ${s#*=} and ran ${ran:-0} times"
    done
    assert_eq "$(cat .sluice/views/*/report.txt)" "lines: 28" "killed at $1 #$2: the report"
    sl verify
    [ "$RC" = 0 ] || fail "killed at $1 #$2: verify after the next run: $OUT_TEXT"
}

test_kill_9_anywhere_loses_only_unfinished_work_and_never_makes_a_wrong_hit() {
    diamond_flow
    STOPPED=""
    for point in task-started store-object store-view entry-put history-commit; do
        for n in 1 3 6; do
            kill_at "$point" "$n"
        done
    done
    echo "killed at:$STOPPED"
    for must in task-started#3 store-object#6 store-view#3 entry-put#3 history-commit#1; do
        case "$STOPPED " in *" $must "*) ;; *) fail "never killed at $must (killed at:$STOPPED)" ;; esac
    done
}

test_inputs_are_checked_through_the_stat_cache_and_gc_forgets_its_rows() {
    chain_flow
    sl run; assert_rc 0
    # Files changed within two seconds are never cached: age the store's (mtime; for
    # ctime, which touch sets to now, wait).
    find .sluice/objects .sluice/views -type f -exec touch -h -d '1 hour ago' {} +
    sleep 2.1
    sl run -p lr=0.2; assert_rc 0
    rows="select count(*) from file_stat where path like '%/.sluice/%'"
    [ "$(sql "$rows")" -ge 1 ] || fail "no stat-cache row for the input train read"
    sl gc --max-size 1; assert_rc 0
    assert_out "freed"
    for p in $(sql "select path from file_stat where path like '%/.sluice/%'"); do
        [ -e "$p" ] || fail "gc kept the stat-cache row of $p, which it deleted"
    done
}

# A process that has not been reaped yet (PID 1 may be slow to) is dead all the same.
alive() { local s; s=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2); [ -n "$s" ] && [ "$s" != Z ]; }

test_a_task_left_running_by_a_killed_run_is_stopped_before_its_out_is_reused() {
    git_repo
    # The task forks a writer that keeps appending to $OUT, as a long job would; the
    # second attempt fails if anything still writes into its (reused) $OUT.
    cat >flow.json <<'JSON'
{ "tasks": { "write": { "run": "echo write >>\"$RUNS\"; if [ -f \"$T/again\" ]; then sleep 0.2; [ ! -e $OUT/log ] || exit 1; echo fresh >$OUT/log; else ( while :; do echo stale >>$OUT/log; sleep 0.05; done ) & echo $! >\"$T/writer.pid\"; sleep 60; fi" } } }
JSON
    "$SLUICE" run >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 200); do [ -s writer.pid ] && break; sleep 0.05; done
    [ -s writer.pid ] || fail "the task never started"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    writer=$(cat writer.pid)
    alive "$writer" || fail "the writer died with the run: nothing left to test"
    touch again
    sl run; assert_rc 0
    alive "$writer" && { kill -9 -- "-$(cut -d' ' -f5 "/proc/$writer/stat")"; fail "the old run's writer still runs"; }
    assert_runs write 2
}

# Live logs of killed runs (tmp/log-PID-N) go at the next run; a live process's stay.
test_logs_of_dead_runs_are_cleaned_at_the_next_run() {
    chain_flow
    sl run; assert_rc 0
    sh -c 'exit 0' & dead=$!; wait "$dead"
    echo partial >".sluice/tmp/log-$dead-0"
    echo partial >".sluice/tmp/log-$dead-3"
    echo live >".sluice/tmp/log-$$-0"
    echo mine >".sluice/tmp/notes-$dead-0"
    sl run; assert_rc 0
    [ ! -e ".sluice/tmp/log-$dead-0" ] && [ ! -e ".sluice/tmp/log-$dead-3" ] ||
        fail "a dead run's logs were left: $(ls .sluice/tmp)"
    [ -e ".sluice/tmp/log-$$-0" ] || fail "a live process's log was deleted"
    [ -e ".sluice/tmp/notes-$dead-0" ] || fail "a file that is not a log was deleted"
}
