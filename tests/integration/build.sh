# Building flows in the TUI: `:` commands, forms, validation, undo, saving. Every test
# drives `sluice tui --script` and then checks the saved file with the CLI.

export LC_ALL=C.UTF-8

# edges [FLOW]: "task<-up1,up2" per task, as `sluice status --json` sees the flow
# (which proves the file is valid).
edges() {
    sl -f "${1:-flow.json}" status --json
    [ "$RC" = 0 ] || fail "the saved flow is not valid: $OUT_TEXT"
    printf '%s' "$OUT_TEXT" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tasks"]:
    print(t["name"] + "<-" + ",".join(t["after"]))' | tr '\n' ' '
}

# Three scripts, each recording its execution and passing data down.
three_scripts() {
    git_repo
    write tasks/load.sh 'echo load >>"$RUNS"; echo "a,b" >"$OUT/data.csv"'
    write tasks/features.sh 'echo features >>"$RUNS"; tr a-z A-Z <"$IN_load/data.csv" >"$OUT/f.csv"'
    write tasks/report.sh 'echo report >>"$RUNS"; { echo "# $1"; cat "$IN_features/f.csv"; } >"$OUT/r.md"'
    commit_all "scripts"
}

test_build_a_three_task_flow_from_an_empty_file_with_commands() {
    three_scripts
    tui -f new.json <<'KEYS'
dump asked
keys y
dump empty
keys :add load sh tasks/load.sh
key Enter
keys :set load.code tasks/lo
key Tab
key Enter
keys :add features sh tasks/features.sh
key Enter
keys :set features.code tasks/features.sh
key Enter
keys :connect load features
key Enter
keys :param title Weekly
key Enter
dump param
keys :add report sh tasks/report.sh '{params.title}'
key Enter
keys :set report.code tasks/report.sh
key Enter
keys :connect features report
key Enter
dump built
keys :save
key Enter
dump saved
keys q
KEYS
    assert_rc 0
    screen asked
    assert_out "new.json does not exist: create it? (y/n)"
    screen empty
    assert_out "No tasks yet."
    assert_out "created new.json"
    screen built
    assert_out "3 pending │ unsaved │ new.json"
    assert_out "report now comes after features"
    screen param
    assert_out "param title = Weekly"
    screen saved
    assert_out "saved new.json"
    assert_not_out "unsaved"
    assert_eq "$(edges new.json)" "load<- features<-load report<-features " "edges"
    grep -q '"code": \["tasks/load.sh"\]' new.json || fail "Tab did not complete the path: $(cat new.json)"
    sl -f new.json run; assert_rc 0
    assert_eq "$(total_runs)" 3 "tasks run"
    grep -rqx "# Weekly" .sluice/views || fail "the parameter did not reach the report"
}

test_build_a_three_task_flow_with_the_forms() {
    three_scripts
    tui -f flow.json <<'KEYS'
keys y
keys a
dump form
type load
key Down
type sh tasks/load.sh
key Down
type tasks/lo
key Tab
key Enter
dump added
keys a
dump prefilled
type features
key Down
type sh tasks/features.sh
key Down
type tasks/features.sh
key Enter
keys a
type report
key Down
type sh tasks/report.sh x
key Enter
keys s
dump saved
keys q
KEYS
    assert_rc 0
    screen form
    assert_out "add a task: Enter adds it"
    assert_out "a task needs a name"
    screen added
    assert_out "added load"
    assert_out "1 pending │ unsaved"
    screen prefilled
    assert_line '^ after +load$'
    screen saved
    assert_out "saved flow.json"
    assert_eq "$(edges)" "load<- features<-load report<-features " "edges"
    grep -q '"code": \["tasks/load.sh"\]' flow.json || fail "Tab did not complete the path: $(cat flow.json)"
    sl run; assert_rc 0
    assert_eq "$(total_runs)" 3 "tasks run"
}

test_editing_a_command_turns_it_and_downstream_stale_before_saving() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
keys /features
key Enter
keys e
dump form
key End
type  --fast
key Enter
dump edited
sh "$SLUICE" status >before-save.txt
keys R
dump run-asks
keys y
wait-idle
dump ran
keys q
KEYS
    screen form
    assert_line '^ command +sh tasks/features.sh$'
    screen edited
    assert_out "1 cached  3 stale │ unsaved"
    assert_out "changed features"
    grep -q "4 cached" before-save.txt || fail "the CLI saw an unsaved edit: $(cat before-save.txt)"
    screen run-asks
    assert_out "flow.json has unsaved edits: save them and run? (y/n)"
    screen ran
    assert_out "4 cached │ flow.json"
    grep -q '"run": "sh tasks/features.sh --fast"' flow.json || fail "not saved: $(cat flow.json)"
    # features ran again; its output is the same bytes, so train and report were cut off
    assert_eq "$(runs_of load) $(runs_of features) $(runs_of train) $(runs_of report)" "1 2 1 1" \
        "executions"
}

test_rename_updates_after_lists_and_in_variables() {
    git_repo
    cat >flow.json <<'JSON'
{
  "tasks": {
    "load": { "run": "echo data >$OUT/x" },
    "use": { "run": "cat $IN_load/x ${IN_load}/x >$OUT/y; echo \"$IN_loader\" >>$OUT/y",
             "after": ["load"], "env": { "SRC": "$IN_load" } },
    "also": { "run": "cp $IN_load/x $OUT/", "after": ["load"] }
  }
}
JSON
    commit_all
    tui <<'KEYS'
keys :rename lo
key Tab
type  fetch-data
key Enter
dump renamed
keys :save
key Enter
keys q
KEYS
    screen renamed
    assert_out "renamed load to fetch-data"
    assert_out "fetch-data"
    grep -q '"run": "cat $IN_fetch_data/x ${IN_fetch_data}/x >$OUT/y; echo \\"$IN_loader\\" >>$OUT/y"' flow.json ||
        fail "run not renamed: $(cat flow.json)"
    grep -q '"SRC": "$IN_fetch_data"' flow.json || fail "env not renamed: $(cat flow.json)"
    assert_eq "$(edges)" "fetch-data<- use<-fetch-data also<-fetch-data " "edges"
    sl run; assert_rc 0
    assert_eq "$(cat .sluice/views/*/y 2>/dev/null | head -2 | tr '\n' ' ')" "data data " "what use read"
}

test_a_connect_that_would_make_a_cycle_is_refused_naming_it() {
    chain_flow
    cp flow.json before.json
    tui <<'KEYS'
keys :connect report load
key Enter
dump command
keys /report
key Enter
keys c
dump picking
keys g
key Enter
dump key
keys q
KEYS
    screen command
    assert_out "flow.json: cycle: load -> features -> train -> report -> load"
    assert_not_out "unsaved"
    screen picking
    assert_out "connect: select the task that comes after report, then Enter"
    assert_eq "$(printf '%s\n' "$OUT_TEXT" | grep -c '╔')" 1 "the upstream is marked"
    screen key
    assert_out "flow.json: cycle: load -> features -> train -> report -> load"
    cmp -s flow.json before.json || fail "the flow file changed"
}

test_undo_and_redo_edits_and_invalidations_in_order() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
keys :set train.run sh tasks/train.sh 0.5
key Enter
dump set
keys g
keys iy
dump invalidated
keys u
dump undo1
keys u
dump undo2
key ^R
dump redo
keys :undo
key Enter
keys :redo
key Enter
keys :redo
key Enter
dump nothing
keys s
keys q
KEYS
    screen set
    assert_out "2 cached  2 stale │ unsaved"
    screen invalidated
    assert_out "2 stale  2 invalidated │ unsaved"
    screen undo1
    assert_out "undid invalidation 1"
    assert_out "2 cached  2 stale │ unsaved"
    screen undo2
    assert_out "undid set train.run (^R redoes it)"
    assert_out "4 cached │ flow.json"
    screen redo
    assert_out "redid set train.run"
    assert_out "2 stale │ unsaved"
    screen nothing
    assert_out "nothing to redo"
    grep -q '"run": "sh tasks/train.sh 0.5"' flow.json || fail "the redone edit was not saved"
}

test_a_flow_saved_without_edits_is_byte_identical() {
    git_repo
    cat >flow.json <<'JSON'
{ "name": "rt", "description": "round trip", "params": { "n": 3, "f": 0.25, "on": true },
  "tasks": { "a": { "run": "echo {params.n} >$OUT/x", "x-note": { "by": "me" } },
             "b": { "run": "cat $IN_a/x >$OUT/y", "after": ["a"], "env": { "K": "v w" },
                    "expire": "24h", "keep": "none", "description": "second" } },
  "x-team": ["ml", 1] }
JSON
    commit_all
    tui <<'KEYS'
keys :set a.run echo {params.n} {params.f} >$OUT/x
key Enter
keys :save
key Enter
keys q
KEYS
    cp flow.json written.json
    grep -q '"description": "round trip"' flow.json || fail "description lost: $(cat flow.json)"
    grep -q '"x-team": \["ml", 1\]' flow.json || fail "x-team lost: $(cat flow.json)"
    assert_eq "$(sed -n 2,3p flow.json | tr -d ' \n')" '"name":"rt","description":"roundtrip",' "order"
    tui <<'KEYS'
keys :save
key Enter
dump unchanged
keys :save copy.json
key Enter
dump saved-as
keys q
KEYS
    screen unchanged
    assert_out "no unsaved edits: flow.json stays as it is"
    cmp flow.json written.json || fail "saving without edits changed the file"
    cmp copy.json written.json || fail "save as wrote other bytes"
    screen saved-as
    assert_out "saved copy.json"
    assert_out "│ copy.json · store"
    sl status; assert_rc 0
}

test_an_invalid_edit_shows_the_cli_message_and_is_not_applied() {
    chain_flow
    cp flow.json before.json
    tui <<'KEYS'
keys :set train.expire 3x
key Enter
dump command
keys /train
key Enter
keys e
key Down
key Down
key Down
key Down
key Down
key Down
type 3x
dump typing
key Enter
dump refused
key Esc
dump cancelled
keys :unset train.run
key Enter
dump unset
keys q
KEYS
    sed 's/"code": \["tasks\/train.sh"\] }/"code": ["tasks\/train.sh"], "expire": "3x" }/' before.json >flow.json
    sl status; assert_rc 2
    local cli=$OUT_TEXT
    case "$cli" in *'"expire" must be a duration'*) ;; *) fail "unexpected CLI message: $cli" ;; esac
    cli=${cli#sluice: }
    screen command
    assert_out "$cli"
    assert_not_out "unsaved"
    screen typing
    assert_line '^ expire +3x$'
    assert_out "$cli"
    screen refused
    assert_out "$cli"
    assert_out "edit train: Enter applies"
    screen cancelled
    assert_out "nothing changed"
    assert_not_out "unsaved"
    screen unset
    assert_out 'flow.json: task train: missing "run" (the command to execute)'
}

test_remove_asks_and_refuses_while_others_come_after() {
    chain_flow
    tui <<'KEYS'
keys g
keys x
dump refused
keys /report
key Enter
keys x
dump asked
keys y
dump removed
keys :rm! load
key Enter
dump forced
keys :save
key Enter
keys q
KEYS
    screen refused
    assert_out "flow.json: task load: features comes after it (:rm! load removes it anyway)"
    screen asked
    assert_out "remove report from flow.json? (y/n)"
    assert_eq "$(printf '%s\n' "$OUT_TEXT" | grep -c '╔')" 1 "the task is marked"
    screen removed
    assert_out "removed report"
    assert_not_out "○ report"
    screen forced
    assert_out "removed load"
    assert_eq "$(edges)" "features<- train<-features " "edges"
}

test_E_edits_the_first_code_file_and_the_task_turns_stale() {
    chain_flow
    sl run; assert_rc 0
    write editor.sh 'echo "# tuned" >>"$1"; pwd >editor-cwd'
    EDITOR="sh $T/editor.sh" tui <<'KEYS'
keys /train
key Enter
keys E
dump edited
keys q
KEYS
    screen edited
    assert_out "edited tasks/train.sh"
    assert_out "2 cached  2 stale"
    assert_eq "$(tail -n 1 tasks/train.sh)" "# tuned" "the file the editor got"
    assert_eq "$(cat editor-cwd)" "$T" "the editor's directory"
}

test_quit_asks_about_unsaved_edits_and_save_about_changes_on_disk() {
    chain_flow
    tui <<'KEYS'
keys :param lr 0.3
key Enter
keys q
dump quit
keys n
sh sed -i 's/Report/Changed/' flow.json
wait-text changed on disk 3000
dump conflict
keys s
dump overwrite
keys y
keys q
KEYS
    screen quit
    assert_out "flow.json has unsaved edits: quit without saving them? (y/n; s saves)"
    screen conflict
    assert_out "unsaved (changed on disk)"
    screen overwrite
    assert_out "flow.json changed on disk since it was read: overwrite it? (y/n)"
    grep -q '"lr": 0.3' flow.json || fail "not saved: $(cat flow.json)"
    grep -q '"title": "Report"' flow.json || fail "the edit on disk should have been overwritten"
}

test_an_unchanged_flow_follows_edits_made_on_disk() {
    chain_flow
    tui <<'KEYS'
sh sed -i -e 's/"chain"/"chained"/' -e 's/"after": \["train"\]/"after": ["features"]/' flow.json
wait-text chained │ 3000
keys :connect train report
key Enter
dump connected
keys q
keys y
KEYS
    screen connected
    assert_out "report now comes after train"
    assert_not_out "changed on disk"
}

test_command_line_completion_of_actions_tasks_and_fields() {
    chain_flow
    tui <<'KEYS'
keys :sa
key Tab
dump verb
key Esc
keys :set tr
key Tab
keys exp
key Tab
dump field
keys 2h
key Enter
keys :set train.expire 
key Tab
dump value
key Esc
keys :connect f
key Tab
dump task
key Esc
keys q
keys y
KEYS
    screen verb
    assert_line '^:save$'
    screen field
    assert_line '^:set train\.expire$'
    screen value
    assert_line '^:set train\.expire 2h$'
    screen task
    assert_line '^:connect features$'
}
