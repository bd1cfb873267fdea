# "matrix" tasks: one task over many samples or hyperparameters, pairing and gathering
# edges, caching per instance. Every task appends its instance to $RUNS.

# The Snakemake tutorial's shape: map -> sort per sample, then one call over all.
tutorial_flow() {
    git_repo
    cat >flow.json <<'JSON'
{
  "params": { "samples": ["A", "B"] },
  "tasks": {
    "map":  { "matrix": { "sample": "{params.samples}" },
              "run": "echo map@{matrix.sample} >>\"$RUNS\"; echo reads-{matrix.sample} >$OUT/bam" },
    "sort": { "matrix": { "sample": "{params.samples}" }, "after": ["map"],
              "run": "echo sort@{matrix.sample} >>\"$RUNS\"; sort $IN_map/bam >$OUT/sorted" },
    "call": { "after": ["sort"],
              "run": "echo call >>\"$RUNS\"; for d in $IN_sort/*; do echo \"$(basename $d): $(cat $d/sorted)\"; done >$OUT/calls" }
  }
}
JSON
    commit_all
}

test_matrix_tutorial_adding_a_sample_runs_only_its_chain_and_the_gather() {
    tutorial_flow
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 5 "first run: map, sort for A and B, and call"
    assert_eq "$(cat .sluice/views/*/calls 2>/dev/null | sort -u | tr '\n' ' ')" \
        "A: reads-A B: reads-B " "the gather sees one entry per instance"
    reset_runs
    sl run -p samples=A,B,C; assert_rc 0
    assert_eq "$(sort "$RUNS" | tr '\n' ' ')" "call map@C sort@C " "adding C"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "removing C again: the old gather is a hit"
    assert_out "ran 0, hit 1"
}

test_matrix_instances_pair_by_values_and_the_gather_reads_a_directory() {
    tutorial_flow
    sl run; assert_rc 0
    sl show last; assert_out 'sort@A'
    # each sort read its own sample's map, not the other's
    assert_eq "$(grep -l reads-B .sluice/views/*/sorted | wc -l | tr -d ' ')" 1
    sl status map; assert_out 'map@A'; assert_out 'map@B'
    sl run map@A --force; assert_rc 0
    assert_out 'map@A'; assert_not_out 'map@B'
}

test_matrix_base_name_stands_for_every_instance() {
    tutorial_flow
    sl run; assert_rc 0
    sl invalidate map; assert_rc 0; assert_out 'map@A'; assert_out 'map@B'
    sl why sort; assert_out 'sort@A'; assert_out 'sort@B'
    reset_runs
    sl run map; assert_rc 0
    assert_eq "$(sort "$RUNS" | tr '\n' ' ')" "map@A map@B " "run map runs every instance"
    sl history --task map; assert_out '2 ran'
    sl history --task map@A; assert_out 'ran'
}

sweep_flow() {
    git_repo
    cat >flow.json <<'JSON'
{
  "params": { "models": ["rf", "lin"], "lrs": [0.01, 0.1, 1] },
  "tasks": {
    "train":   { "matrix": { "model": "{params.models}", "lr": "{params.lrs}" },
                 "run": "echo train@{matrix.model},{matrix.lr} >>\"$RUNS\"; echo {matrix.model} {matrix.lr} >$OUT/score" },
    "compare": { "after": ["train"],
                 "run": "echo compare >>\"$RUNS\"; ls $IN_train >$OUT/seen; cat $IN_train/*/score | sort >$OUT/all" }
  }
}
JSON
    commit_all
}

test_matrix_sweep_cross_product_and_switching_back_runs_nothing() {
    sweep_flow
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 7 "2 x 3 instances and the comparison"
    assert_eq "$(runs_of 'train@lin,0.1')" 1
    assert_eq "$(cat .sluice/views/*/seen | tr '\n' ' ')" \
        "lin,0.01 lin,0.1 lin,1 rf,0.01 rf,0.1 rf,1 " "one entry per instance, named by its values"
    reset_runs
    sl run -p 'lrs=[0.1, 2]'; assert_rc 0
    assert_eq "$(sort "$RUNS" | tr '\n' ' ')" "compare train@lin,2 train@rf,2 " "only the new points"
    reset_runs
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 0 "switching the sweep back runs nothing"
}

test_matrix_pairing_versus_gathering_over_a_subset_of_variables() {
    git_repo
    cat >flow.json <<'JSON'
{
  "tasks": {
    "train": { "matrix": { "model": ["rf", "lin"], "lr": [1, 2] },
               "run": "echo {matrix.model}{matrix.lr} >$OUT/m" },
    "eval":  { "matrix": { "model": ["rf", "lin"], "lr": [1, 2] }, "after": ["train"],
               "run": "cat $IN_train/m >$OUT/e" },
    "best":  { "matrix": { "model": ["rf", "lin"] }, "after": ["eval"],
               "run": "ls $IN_eval >$OUT/seen" }
  }
}
JSON
    commit_all
    sl run; assert_rc 0
    assert_out 'ran 10'
    assert_eq "$(cat .sluice/views/*/e | sort | tr '\n' ' ')" "lin1 lin2 rf1 rf2 " "eval pairs with train"
    assert_eq "$(cat .sluice/views/*/seen | sort | tr '\n' ' ')" \
        "lin,1 lin,2 rf,1 rf,2 " "best@rf gathers eval@rf,* only, best@lin eval@lin,*"
}

matrix_error() { # FLOW-JSON EXPECTED-MESSAGE
    printf '%s\n' "$1" >flow.json
    sl run; assert_rc 2; assert_out "$2"
    [ ! -d .sluice ] || [ -z "$(ls .sluice/views 2>/dev/null)" ] || fail "an error stored something"
}

test_matrix_errors_are_located() {
    git_repo
    matrix_error '{ "tasks": { "a": { "matrix": { "s": [1, 2] }, "run": "echo {matrix.x}" } } }' \
        'flow.json:1:14: task a: run: unknown matrix variable {matrix.x}'
    matrix_error '{ "tasks": { "a": { "matrix": { "s": [] }, "run": "echo" } } }' \
        'flow.json:1:14: task a: matrix variable s is an empty list'
    matrix_error '{ "params": { "x": [1],
    "l": [] }, "tasks": { "a": { "run": "echo" } } }' \
        'flow.json:2:5: parameter l is an empty list'
    matrix_error '{ "tasks": { "a": { "matrix": { "s": ["x", "y", "x"] }, "run": "echo" } } }' \
        'flow.json:1:14: task a: matrix variable s lists x twice'
    matrix_error '{ "params": { "l": ["x"] }, "tasks": {
  "a": { "run": "echo {params.l}" } } }' \
        'flow.json:2:3: task a: run: parameter l is a list, not one value'
    matrix_error '{ "params": { "l": ["x"] }, "tasks": {
  "a": { "run": "echo", "outputs": ["{params.l}"] } } }' \
        'flow.json:2:3: task a: outputs: parameter l is a list, not one value'
    matrix_error '{ "params": { "l": ["1G"] }, "tasks": {
  "a": { "run": "echo", "local": { "mem": "{params.l}" } } } }' \
        'flow.json:2:3: task a: local: parameter l is a list, not one value'
    matrix_error '{ "params": { "l": ["x", "x"] }, "tasks": {
  "a": { "matrix": { "s": "{params.l}" }, "run": "echo" } } }' \
        'flow.json:2:3: task a: matrix variable s lists x twice'
    matrix_error '{ "tasks": { "a": { "run": "echo {matrix.s}" } } }' \
        'task a: run: {matrix.s} but the task has no "matrix"'
    matrix_error '{ "tasks": { "a": { "matrix": { "s": "{params.nope}" }, "run": "echo" } } }' \
        'task a: matrix variable s: unknown parameter {params.nope}'
    matrix_error '{ "tasks": { "a": { "matrix": { "s": ["a b"] }, "run": "echo" } } }' \
        'value "a b" may use only letters'
}

test_matrix_dag_collapse_draws_one_node_with_counts_per_state() {
    tutorial_flow
    sl run map@A; assert_rc 0
    sl dag --collapse --ascii; assert_rc 0
    assert_out 'map x2: 1 + 1 o'
    assert_out 'sort x2: 2 o'
    assert_not_out 'map@A'
    sl dag --ascii; assert_out 'map@A'; assert_out 'map@B'
}

test_matrix_example_samples_runs_and_adds_a_sample() {
    cp -r "$OLDPWD/examples/samples" samples && rm -rf samples/.sluice && cd samples && git_repo &&
        commit_all
    sl run; assert_rc 0; assert_out 'ran 5'
    assert_eq "$(cat .sluice/views/*/calls.tsv | tr '\t\n' ': ')" "A:2 B:2 "
    sl run -p samples=A,B,C; assert_rc 0; assert_out 'ran 3, hit 2'
}

# Values end up in task names, $IN_ variables, gather entries and publish paths.
test_matrix_values_that_could_hide_escape_or_overflow_are_located_errors() {
    git_repo
    matrix_error '{ "tasks": { "m": { "matrix": { "s": ["..", "a"] }, "run": "echo >$OUT/x",
  "publish": "out/{matrix.s}/r" }, "g": { "after": ["m"], "run": "ls $IN_m >$OUT/l" } } }' \
        'flow.json:1:14: task m: matrix variable s: value ".." starts with '"'.'"
    [ ! -e r ] && [ ! -e out ] || fail "published outside out/"
    matrix_error '{ "tasks": { "m": { "matrix": { "s": [".hidden"] }, "run": "echo" } } }' \
        'value ".hidden" starts with'
    matrix_error '{ "tasks": { "m": { "matrix": { "s": [""] }, "run": "echo" } } }' \
        'value "" is empty'
    matrix_error '{ "tasks": { "m": { "matrix": { "s": ["caf\u00e9"] }, "run": "echo" } } }' \
        'may use only letters, digits'
    for v in 'a/b' 'a@b' 'a,b' 'a b'; do
        matrix_error '{ "tasks": { "m": { "matrix": { "s": ["'"$v"'"] }, "run": "echo" } } }' \
            "value \"$v\" may use only letters"
    done
    long=$(printf 'x%.0s' $(seq 129))
    matrix_error '{ "tasks": { "m": { "matrix": { "s": ["'"$long"'"] }, "run": "echo" } } }' \
        'is longer than 128 bytes'
    a=$(printf 'a%.0s' $(seq 128)) b=$(printf 'b%.0s' $(seq 128))
    matrix_error '{ "tasks": { "m": { "matrix": { "s": ["'"$a"'"], "t": ["'"$b"'"] }, "run": "echo" } } }' \
        "an instance's values joined would be 257 bytes, more than 255"
    printf '%s\n' '{ "params": { "l": ["A"] }, "tasks": { "m": { "matrix": { "s": "{params.l}" }, "run": "echo" } } }' >flow.json
    sl run -p l=A,..; assert_rc 2; assert_out 'value ".." starts with'
}
