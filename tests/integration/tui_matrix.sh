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

test_tui_builds_a_matrix_task_over_a_list_parameter_in_the_form() {
    git_repo
    tui -f flow.json <<'KEYS'
size 100 30
keys y
keys :
type param samples [A, B, C]
key Enter
keys a
type map
key Down
type echo {matrix.sample} >$OUT/x
key Down
key Down
key Down
type sample={params.smaples}
dump misspelt
key ^U
type sample={params.samples}; n=1, 2
key Enter
dump added
keys e
dump edit
key Esc
keys s
keys q
KEYS
    screen misspelt
    assert_line '^ matrix +sample=\{params.smaples\}$'
    assert_out "flow.json:6:5: task map: matrix variable sample: unknown parameter {params.smaples}"
    screen added
    assert_out "○ map ×6: 6 ○"
    assert_out "6 pending"
    screen edit # the box edits the task in the file
    assert_line '^ matrix +sample=\{params.samples\}; n=1, 2$'
    grep -q '"samples": \["A", "B", "C"\]' flow.json || fail "no list parameter: $(cat flow.json)"
    grep -q '"n": \[1, 2\]' flow.json || fail "no literal list: $(cat flow.json)"
    sl run; assert_rc 0
    sl status; assert_out "map@C,2"
}

test_tui_param_of_a_list_takes_commas_and_refuses_an_empty_list() {
    git_repo
    printf '{"params": {"s": ["A"]}, "tasks": {"t": {"run": "true"}}}\n' >flow.json
    tui <<'KEYS'
keys :
type param s A, B
key Enter
dump set
keys :
type param s []
key Enter
dump empty
keys s
keys q
KEYS
    screen set
    assert_out "param s = A, B"
    screen empty
    assert_out "parameter s is a list: give it as A,B,C or [A, B, C]"
    grep -q '"s": \["A", "B"\]' flow.json || fail "not a list: $(cat flow.json)"
}

# Search finds a task inside a collapsed box: `/sort@B` selects the `sort ×3` box.
test_tui_search_finds_an_instance_inside_a_collapsed_matrix_box() {
    samples_flow
    sl run; assert_rc 0
    tui <<'KEYS'
size 100 30
keys g
keys /
type sort@B
dump typing
key Enter
dump found
keys q
KEYS
    screen typing
    assert_out "1 match"
    screen found
    assert_out "┃ ✓ sort ×3: 3 ✓"
    assert_line "sort · layer 2/3"
}

# Issue 17 item 5: `f` on a collapsed matrix box focuses on the whole matrix task (every
# instance, with their ancestors and descendants), as the box stands for all of them; it
# focused on one instance (`sort ×1`), picked as the box's worst.
test_tui_focus_on_a_matrix_box_takes_every_instance() {
    samples_flow
    tui <<'KEYS'
keys gj
keys f
dump focused
keys ?
keys /focus
key Enter
dump help
keys q
keys q
KEYS
    screen focused
    assert_out "focus on sort (3 instances; Esc shows everything)"
    assert_out "sort ×3: 3 ○"
    assert_out "map ×3: 3 ○"
    screen help
    assert_line "only its ancestors and descendants \(on a matrix box: all( |$)"
    assert_line "^ +(all )?its instances\)$"
}
