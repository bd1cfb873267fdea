# The Slurm executor on a real single-node Slurm cluster on localhost: munged,
# slurmctld and slurmd started here in a private directory (no systemd), used by every
# scenario of the one test below (bring-up costs seconds), stopped by pid at the end.
# Needs root (the daemons, and jobs run as root); installs the Debian packages if
# they are missing. Without root, or with Slurm's ports taken, it reports itself
# skipped (exit 77), never passed.

SLURM_PKGS="slurmctld slurmd slurm-client munge"

port_taken() { (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

slurm_prerequisites() {
    [ "$(id -u)" = 0 ] || skip "needs root to start slurm"
    for port in 6817 6818; do
        port_taken "$port" && skip "port $port is taken (another Slurm running?)"
    done
    local missing=""
    for p in $SLURM_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] && return 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 &&
          apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; } ||
        fail "cannot install$missing"
}

# slurm_up DIR: a cluster whose configuration, state and logs live in DIR.
slurm_up() {
    local d=$1
    CLUSTER=$d
    mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
    # munged refuses a socket in a directory others cannot search, or a readable key.
    chmod 755 "$T" "$d" "$d/munge"
    head -c 1024 /dev/urandom >"$d/munge/key"
    chown -R munge:munge "$d/munge"
    chmod 400 "$d/munge/key"
    runuser -u munge -- munged --socket="$d/munge/socket" --key-file="$d/munge/key" \
        --pid-file="$d/munge/pid" --log-file="$d/munge/log" --seed-file="$d/munge/seed" ||
        fail "munged did not start: $(cat "$d/munge/log" 2>/dev/null)"
    local host cpus mem
    host=$(hostname -s)
    cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    cat >"$d/slurm.conf" <<CONF
ClusterName=sluicetest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/socket
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$((mem * 9 / 10)) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$d/slurm.conf"
    slurmctld || fail "slurmctld did not start: $(tail -5 "$d/log/slurmctld.log")"
    slurmd || fail "slurmd did not start: $(tail -5 "$d/log/slurmd.log")"
    for _ in $(seq 150); do
        [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && return 0
        sleep 0.2
    done
    fail "the node never became idle: $(sinfo 2>&1; tail -5 "$d/log/slurmctld.log")"
}

# Cancels what is left, then stops the daemons started above, by pid.
slurm_down() {
    [ -n "${BACKGROUND:-}" ] && kill -9 "$BACKGROUND" 2>/dev/null # a scenario that failed
    [ -n "${CLUSTER:-}" ] || return 0
    squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null
    local pids="" f
    for f in "$CLUSTER/slurmd.pid" "$CLUSTER/slurmctld.pid" "$CLUSTER/munge/pid"; do
        [ -s "$f" ] && pids="$pids $(cat "$f")"
    done
    [ -n "$pids" ] && kill $pids 2>/dev/null
    for _ in $(seq 100); do
        local alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    CLUSTER=""
}

# The job a task was submitted as in the last run ("42").
job_of() { sql "select substr(detail, 11) from events where task = '$1' and state = 'submitted'
                and run_id = (select max(id) from runs)"; }
job_field() { scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# wait_for SQL VALUE: until the store's database answers VALUE (15 s at most).
wait_for() {
    for _ in $(seq 150); do
        [ "$(sql "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    fail "waited in vain for '$1' to be $2 (it is $(sql "$1"))"
}

scenario_jobs_run_through_slurm_and_are_cached() {
    mkdir ok && cd ok && git_repo
    write train.sh 'echo train >>"$RUNS"; { cat "$IN_prep/job"; echo "$MODEL"; echo "$SLURM_JOB_ID"; } >"$OUT/model"'
    cat >flow.json <<'JSON'
{ "executor": "slurm", "slurm": { "cpus": 1, "time": "10m", "mem": "100M" },
  "tasks": {
    "prep":   { "run": "echo prep >>$RUNS; echo $SLURM_JOB_ID >$OUT/job" },
    "train":  { "run": "sh train.sh", "after": ["prep"], "code": ["train.sh"],
                "env": { "MODEL": "tree" }, "slurm": { "time": "5m" } },
    "report": { "run": "echo report >>$RUNS; cat $IN_train/model >$OUT/report",
                "after": ["train"], "executor": "local" }
} }
JSON
    commit_all
    local before
    before=$(squeue -h -t all | wc -l)
    sl run; assert_rc 0
    assert_out "ran 3, hit 0"
    local prep train
    prep=$(job_of prep) train=$(job_of train)
    assert_out "submitted prep  (slurm job $prep)"
    assert_out "submitted train  (slurm job $train)"
    [ -n "$prep" ] && [ -n "$train" ] && [ "$prep" != "$train" ] || fail "jobs: '$prep' '$train'"
    [ -z "$(job_of report)" ] || fail "report (local) went through Slurm"
    # What the jobs wrote: their own job ids, the task's env, the upstream's output.
    assert_eq "$(cat .sluice/views/*/report)" "$(printf '%s\ntree\n%s' "$prep" "$train")" "report"
    assert_eq "$(job_field "$train" JobState)" COMPLETED "train's job state"
    assert_eq "$(job_field "$train" JobName)" sluice:train "train's job name"
    assert_eq "$(job_field "$train" TimeLimit)" 00:05:00 "train's time limit (its own)"
    assert_eq "$(job_field "$prep" TimeLimit)" 00:10:00 "prep's time limit (the flow's)"
    assert_eq "$(sql "select state from events where task = 'train' and state in
        ('submitted', 'running', 'ran') order by seq" | tr '\n' ' ')" "submitted running ran " \
        "train's events"
    assert_eq "$(squeue -h -t all | wc -l)" $((before + 2)) "jobs in Slurm"
    sl run; assert_rc 0
    assert_out "ran 0, hit 1"
    assert_eq "$(squeue -h -t all | wc -l)" $((before + 2)) "jobs after the cached run"
    assert_eq "$(total_runs)" 3 "executions"
    cd ..
}

scenario_a_failing_job_fails_its_task_and_blocks_downstream() {
    mkdir fail && cd fail && git_repo
    cat >flow.json <<'JSON'
{ "executor": "slurm",
  "tasks": {
    "bad":  { "run": "echo bad >>$RUNS; echo about to fail; exit 3" },
    "down": { "run": "echo down >>$RUNS", "after": ["bad"] }
} }
JSON
    reset_runs
    sl run; assert_rc 1
    local job
    job=$(job_of bad)
    assert_out "failed    bad  (slurm job $job FAILED: exit code 3)"
    assert_out "| about to fail"
    assert_out "| sluice: slurm job $job FAILED: exit code 3"
    assert_out "blocked   down  (upstream bad failed)"
    assert_runs bad 1
    assert_runs down 0
    assert_eq "$(sql "select exit_code from task_runs where task = 'bad'")" 3 "bad's exit code"
    assert_eq "$(job_field "$job" JobState)" FAILED "the job's state"
    cd ..
}

scenario_cancelling_the_run_scancels_its_jobs() {
    mkdir cancel && cd cancel && git_repo
    # Each job wants every CPU of the node: one runs, the other stays pending.
    local cpus
    cpus=$(sinfo -h -o %c)
    cat >flow.json <<JSON
{ "executor": "slurm", "slurm": { "cpus": $cpus },
  "tasks": {
    "long1": { "run": "echo long1 >>\$RUNS; sleep 300" },
    "long2": { "run": "echo long2 >>\$RUNS; sleep 300" }
} }
JSON
    "$SLUICE" run >out.txt 2>&1 &
    BACKGROUND=$!
    wait_for "select count(*) from events where state = 'submitted'" 2
    wait_for "select count(*) from events where state = 'running'" 1
    local j1 j2
    j1=$(job_of long1) j2=$(job_of long2)
    assert_eq "$(printf '%s\n' "$(job_field "$j1" JobState)" "$(job_field "$j2" JobState)" |
        sort | tr '\n' ' ')" "PENDING RUNNING " "the jobs' states"
    kill -INT "$BACKGROUND"
    wait "$BACKGROUND"
    assert_eq "$?" 130 "exit code after Ctrl-C"
    BACKGROUND=""
    assert_eq "$(squeue -h -j "$j1,$j2" -t pending,running,completing | wc -l)" 0 "jobs left"
    assert_eq "$(job_field "$j1" JobState)" CANCELLED "long1's job"
    assert_eq "$(job_field "$j2" JobState)" CANCELLED "long2's job"
    assert_eq "$(sql "select decision from task_runs order by task" | tr '\n' ' ')" \
        "cancelled cancelled " "decisions"
    assert_eq "$(sql 'select status from runs')" cancelled "the run's status"
    cd ..
}

scenario_the_tui_shows_a_job_pending_then_running_with_its_id() {
    mkdir tui && cd tui && git_repo
    cat >flow.json <<'JSON'
{ "name": "cluster", "executor": "slurm",
  "tasks": { "train": { "run": "while [ ! -f go ]; do sleep 0.1; done; echo ok >$OUT/x" } } }
JSON
    # A job outside sluice holds every CPU, so train waits in the queue until it goes.
    BLOCKER=$(sbatch --parsable -c "$(sinfo -h -o %c)" -o /dev/null --wrap 'sleep 300')
    export BLOCKER
    cat >keys.txt <<'KEYS'
size 110 30
keys R
key Enter
wait-text pending in the queue 20000
dump queued
sh scancel "$BLOCKER"
wait-text : running for 20000
dump running
sh touch go
wait-idle 30000
dump done
keys q
KEYS
    TUI_OUT=$(LC_ALL=C.UTF-8 "$SLUICE" tui --script keys.txt 2>&1)
    case "$TUI_OUT" in *"--- timeout"* | *"--- failed"*) fail "the key script failed:
$TUI_OUT" ;; esac
    local job
    job=$(job_of train)
    OUT_TEXT=$(printf '%s\n' "$TUI_OUT" | sed -n '/^--- screen queued ---$/,/^--- end ---$/p')
    assert_out "◌ train"
    assert_out "#$job"
    assert_out "executor: slurm"
    assert_out "slurm job $job: pending in the queue for"
    OUT_TEXT=$(printf '%s\n' "$TUI_OUT" | sed -n '/^--- screen running ---$/,/^--- end ---$/p')
    assert_out "1 running"
    assert_out "slurm job $job: running for"
    OUT_TEXT=$(printf '%s\n' "$TUI_OUT" | sed -n '/^--- screen done ---$/,/^--- end ---$/p')
    assert_out "[slurm job $job]"
    cd ..
}

# A killed sluice leaves its jobs running; the next attempt at the task must not share
# its $OUT with them. The test hook hides the job from the local check (which finds
# processes with that OUT through /proc), as a compute node elsewhere would.
scenario_a_job_left_by_a_killed_run_is_cancelled_before_its_out_is_reused() {
    mkdir orphan && cd orphan && git_repo
    cat >flow.json <<'JSON'
{ "executor": "slurm",
  "tasks": { "write": { "run": "echo write >>$RUNS; if [ -f again ]; then sleep 1; [ ! -e $OUT/log ] || exit 1; echo fresh >$OUT/log; else while :; do echo stale >>$OUT/log; sleep 0.05; done; fi" } } }
JSON
    reset_runs
    SLUICE_TEST_HOOK="scratch-orphans on" "$SLUICE" run >out.txt 2>&1 &
    BACKGROUND=$!
    wait_for "select count(*) from events where state = 'running'" 1
    local old
    old=$(job_of write)
    kill -9 "$BACKGROUND"
    wait "$BACKGROUND" 2>/dev/null
    BACKGROUND=""
    assert_eq "$(job_field "$old" JobState)" RUNNING "the killed run's job"
    touch again
    SLUICE_TEST_HOOK="scratch-orphans on" sl run
    assert_rc 0
    assert_eq "$(job_field "$old" JobState)" CANCELLED "the killed run's job, after the next run"
    assert_eq "$(cat .sluice/views/*/log)" fresh "the output"
    assert_runs write 2
    cd ..
}

test_slurm_tasks_run_cache_fail_and_cancel_on_a_real_cluster() {
    slurm_prerequisites
    trap slurm_down EXIT
    slurm_up "$T/cluster"
    scenario_jobs_run_through_slurm_and_are_cached
    scenario_a_failing_job_fails_its_task_and_blocks_downstream
    scenario_cancelling_the_run_scancels_its_jobs
    scenario_the_tui_shows_a_job_pending_then_running_with_its_id
    scenario_a_job_left_by_a_killed_run_is_cancelled_before_its_out_is_reused
    slurm_down # before the test's directory (and the pid files in it) goes
    trap - EXIT
}
