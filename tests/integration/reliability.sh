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
