# The differential tester (tests/differential/): random flows and random steps on a
# long-lived store, every target and publication compared with a from-scratch run.

# Step classes whose sluice defect is known and not fixed yet (tests/differential/
# README.md lists them); remove a class here once its fix has landed.
DIFF_SKIP=${DIFF_SKIP:-known}
# Stores on tmpfs when there is one: fsync there costs nothing, and the pass checks
# what a cache serves, not durability (faults.sh and reliability.sh do).
difftest() {
    local tmp=$T
    [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
    python3 "$OLDPWD/tests/differential/difftest.py" --sluice "$SLUICE" --tmp "$tmp" "$@"
}

test_differential_quick() {
    # A fixed seed, a few small flows: fails on any wrong output or failed run.
    OUT_TEXT=$(difftest --seed 1 --cases 3 --steps 8 --max-tasks 5 --skip "$DIFF_SKIP" \
               --shrink-time 20 2>&1)
    RC=$?
    printf '%s\n' "$OUT_TEXT" | tail -n 30
    assert_rc 0
    assert_line '^difftest seed=1: 3 flows, 27 steps, .* wrong outputs 0, failed runs 0'
}

test_differential_reports_a_lying_cache() {
    # The same kind of pass with bytes changed in the store behind sluice's back (as a
    # cache that lies would serve them): the tester must fail and say where.
    OUT_TEXT=$(difftest --seed 1 --cases 1 --steps 1 --max-tasks 4 --skip "$DIFF_SKIP" \
               --inject lie --no-shrink 2>&1)
    RC=$?
    assert_rc 1
    assert_out "differs from a fresh run"
    assert_line 'wrong outputs [1-9]'
}
