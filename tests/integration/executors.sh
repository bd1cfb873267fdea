# Executors are plugins, chosen per task: how a missing or broken plugin and bad
# options are reported, and what the local plugin's resource limits do.

# A flow of one task on EXECUTOR (with OPTIONS for it, a JSON object or empty).
one_task() { # EXECUTOR OPTIONS COMMAND
    local opts=""
    [ -n "$2" ] && opts=", \"$1\": $2"
    printf '{ "tasks": { "a": { "run": "%s", "executor": "%s"%s }, "b": { "run": "echo b >>$RUNS", "after": ["a"] } } }\n' \
        "$3" "$1" "$opts" >flow.json
}

# Nothing executed and no run recorded (the store may exist).
assert_nothing_ran() {
    assert_eq "$(total_runs)" 0 "task executions"
    [ ! -f .sluice/sluice.db ] || assert_eq "$(sql 'select count(*) from runs')" 0 "runs recorded"
}

test_a_missing_executor_plugin_is_named_before_anything_runs() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "under valgrind \$SLUICE is a wrapper, not next to plugins/"
    git_repo
    one_task nosuch "" 'echo a >>$RUNS'
    sl run; assert_rc 2
    assert_out 'flow.json: task a: executor "nosuch": no plugin nosuch.so in '
    assert_out "$(dirname "$SLUICE")/plugins"
    assert_out "lib/sluice/plugins (set SLUICE_PLUGIN_PATH to add a directory)"
    sl run --dry-run; assert_rc 2
    assert_out 'no plugin nosuch.so'
    assert_nothing_ran
}

test_sluice_plugin_path_comes_first_and_a_wrong_abi_is_refused() {
    git_repo
    mkdir p
    echo 'struct { int abi; const char *name; } sluice_executor = {1, "local"};' >p/old.c
    cc -shared -fPIC -o p/local.so p/old.c || fail "cannot build a test plugin"
    echo '{ "tasks": { "a": { "run": "echo a >>$RUNS" } } }' >flow.json
    SLUICE_PLUGIN_PATH="$T/p" sl run; assert_rc 2
    assert_out "flow.json: task a: $T/p/local.so: executor ABI version 1, but this sluice needs version 2"
    assert_nothing_ran
    sl run; assert_rc 0 # without it, the local plugin next to the binary
    assert_runs a 1
}

test_bad_executor_options_are_located_and_nothing_runs() {
    git_repo
    one_task local '{"mem": "lots"}' 'echo a >>$RUNS'
    sl run; assert_rc 2
    assert_out 'flow.json: task a: "local": "mem" must be a size like "500M" or "8G", not "lots"'
    assert_nothing_ran
    one_task local '{"cpus": 2}' 'echo a >>$RUNS'
    sl run --dry-run; assert_rc 2
    assert_out 'flow.json: task a: "local": unknown option "cpus" (options: mem, time)'
    one_task slurm '{"cpus": 0}' 'echo a >>$RUNS'
    sl run; assert_rc 2
    assert_out 'flow.json: task a: "slurm": "cpus" must be a whole number of at least 1'
    assert_nothing_ran
}

test_executor_options_are_not_part_of_the_key() {
    git_repo
    one_task local '{"time": "1h"}' 'echo a >>$RUNS; echo a >$OUT/a'
    sl run; assert_rc 0
    one_task local '{"time": "2h", "mem": "1G"}' 'echo a >>$RUNS; echo a >$OUT/a'
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    assert_runs a 1
}

test_local_time_limit_stops_the_task_and_blocks_downstream() {
    git_repo
    one_task local '{"time": "1s"}' 'echo a >>$RUNS; sleep 30'
    sl run; assert_rc 1
    assert_out "failed    a  (time limit 1s reached: stopped)"
    assert_out "| sluice: time limit 1s reached: stopped" # in the task's log
    assert_out "blocked   b  (upstream a failed)"
    assert_runs b 0
    assert_eq "$(sql "select decision from task_runs where task = 'a'")" failed "a's decision"
}

test_local_mem_limit_caps_what_a_task_may_allocate() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "valgrind virtualises the limits a task inherits"
    git_repo
    write grow.awk 'BEGIN { s = "x"; while (length(s) < n) s = s s; print length(s) }'
    cat >flow.json <<'JSON'
{ "local": { "mem": "100M" },
  "tasks": {
    "big":   { "run": "echo big >>$RUNS; awk -v n=200000000 -f grow.awk >$OUT/n" },
    "small": { "run": "echo small >>$RUNS; awk -v n=1000000 -f grow.awk >$OUT/n" },
    "roomy": { "run": "echo roomy >>$RUNS; awk -v n=200000000 -f grow.awk >$OUT/n",
               "local": { "mem": "2G" } }
} }
JSON
    sl run; assert_rc 1
    assert_out "failed    big  (exit code 2 (it ran with mem 100M))"
    assert_out "out of memory"
    assert_out "ran       small"
    assert_out "ran       roomy"
}

# A command of plain words is executed without /bin/sh (as make runs such a recipe):
# its program's parent is sluice itself; and it is reported exactly as under the
# shell (a signal's death is exit code 128+N with the shell's line in the log, PWD as
# the shell exports it), a script without #! still runs, anything else is the shell's.
test_local_plain_command_runs_without_a_shell_and_reads_as_under_it() {
    git_repo
    write steps/parent.sh 'cat /proc/$PPID/comm >"$OUT/parent"; echo "$PWD" >"$OUT/pwd"'
    write steps/die.sh 'echo dying; kill -SEGV $$'
    printf 'echo plain >"$OUT/x"\n' >steps/noshebang && chmod +x steps/noshebang
    cat >flow.json <<'JSON'
{ "tasks": {
  "direct":   { "run": "sh steps/parent.sh" },
  "shell":    { "run": "sh steps/parent.sh; :" },
  "die":      { "run": "sh steps/die.sh" },
  "die_sh":   { "run": "sh steps/die.sh || exit $?" },
  "plain":    { "run": "./steps/noshebang" }
} }
JSON
    sl run; assert_rc 1
    assert_eq "$(cat .sluice/views/*/parent | sort | tr '\n' ' ')" "sh sluice " "the commands' parents"
    assert_eq "$(cat .sluice/views/*/pwd | sort -u)" "$(pwd -P)" "PWD"
    assert_out "failed    die  (exit code 139)"
    assert_out "failed    die_sh  (exit code 139)"
    assert_eq "$(sql "select exit_code from task_runs where task = 'die'")" 139 "die's exit code"
    sl log die; assert_eq "$OUT_TEXT" "dying
Segmentation fault" "die's log"
    sl log die_sh; assert_eq "$OUT_TEXT" "dying
Segmentation fault" "die_sh's log"
    assert_eq "$(cat .sluice/views/*/x)" plain "the script without #!"
}
