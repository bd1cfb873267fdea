# The TUI over "matrix" tasks: one box per matrix task with counts per state, which
# expands into its instances and collapses again (issue 15 item 8).

# map and sort over three samples, then a gather; map@C fails when FAIL_C is set.
samples_flow() {
    git_repo
    cat >flow.json <<'JSON'
{
  "name": "samples",
  "params": { "samples": ["A", "B", "C"] },
  "tasks": {
    "map":  { "matrix": { "sample": "{params.samples}" },
              "run": "test {matrix.sample}${FAIL_C:+x} != Cx && echo reads-{matrix.sample} >$OUT/bam" },
    "sort": { "matrix": { "sample": "{params.samples}" }, "after": ["map"],
              "run": "sort $IN_map/bam >$OUT/sorted" },
    "call": { "after": ["sort"], "run": "cat $IN_sort/*/sorted >$OUT/calls" }
  }
}
JSON
    commit_all
}

test_tui_matrix_task_is_one_box_with_counts_per_state() {
    samples_flow
    sl run; assert_rc 0
    tui <<'KEYS'
size 100 30
dump open
keys q
KEYS
    screen open
    assert_out "✓ map ×3: 3 ✓"
    assert_out "✓ sort ×3: 3 ✓"
    assert_not_out "map@A"
    assert_out "samples │ 7 cached │" # the status bar still counts tasks
}

test_tui_matrix_box_expands_into_its_instances_and_collapses_again() {
    samples_flow
    tui <<'KEYS'
size 100 30
keys g+
dump expanded
keys -
dump collapsed
key Enter
dump entered
keys q
KEYS
    screen expanded
    assert_out "○ map@A"
    assert_out "○ map@C"
    assert_not_out "map ×3"
    assert_out "○ sort ×3: 3 ○" # only the one expanded
    assert_out "map@A · layer 1/3"
    screen collapsed
    assert_out "○ map ×3: 3 ○"
    assert_not_out "map@A"
    assert_out "map · layer 1/3"
    screen entered
    assert_out "○ map@B"
}

test_tui_matrix_box_shows_a_failed_instance_and_acts_on_every_instance() {
    samples_flow
    FAIL_C=1 sl run; assert_rc 1
    tui <<'KEYS'
size 100 30
dump failed
keys w
dump why
key Esc
keys i
dump ask
keys n
keys +
dump expanded
keys q
KEYS
    screen failed
    assert_out "✗ map ×3: 2 ✓ 1 ✗"
    assert_out "1 failed"
    screen why
    assert_out "map ×3: 2 ✓ 1 ✗ (+ shows every instance); the worst of them:"
    assert_out "map@C: ✗ failed"
    screen ask
    assert_out "invalidate map@A, map@B, map@C"
    screen expanded
    assert_out "✗ map@C"
    assert_out "map@C · layer 1/3" # the failed instance is selected
}
