# The TUI driven by key scripts (`sluice tui --script`), asserting the screen as text,
# and once on a real terminal through tmux.

export LC_ALL=C.UTF-8

# A task that waits for the file `go` before it finishes, so a test can see it running.
slow_flow() {
    git_repo
    write wait.sh 'echo slow >>"$RUNS"; while [ ! -f go ]; do sleep 0.02; done; echo done >"$OUT/x"'
    write after.sh 'echo after >>"$RUNS"; cat "$IN_slow/x" >"$OUT/y"'
    cat >flow.json <<'JSON'
{ "name": "slowflow",
  "tasks": {
    "slow":  { "run": "sh wait.sh", "code": ["wait.sh"] },
    "after": { "run": "sh after.sh", "after": ["slow"], "code": ["after.sh"] }
  }
}
JSON
    commit_all
}

test_tui_opens_the_flow_and_runs_it_all() {
    chain_flow
    tui <<'KEYS'
dump open
keys R
wait-idle
dump ran
keys q
KEYS
    assert_rc 0
    screen open
    assert_out "chain │ 4 pending │ flow.json · store $(pwd -P)/.sluice"
    assert_out "┃ ○ load"
    assert_out "│ ○ report"
    assert_out "R run-all"
    screen ran
    assert_out "chain │ 4 cached │ flow.json"
    assert_line '^run 1 ok in [0-9.]+m?s: 4 ran$'
    assert_out "│ ✓ report"
    assert_eq "$(total_runs)" 4 "tasks run by R"
    sl status; assert_out "4 cached"
}

test_tui_runs_a_flow_in_another_directory() {
    mkdir proj && (cd proj && chain_flow) || fail "setup failed"
    tui proj/flow.json <<'KEYS'
keys R
wait-idle
dump ran
keys q
KEYS
    screen ran
    assert_out "chain │ 4 cached │ proj/flow.json · store $(pwd -P)/proj/.sluice"
    assert_eq "$(total_runs)" 4 "tasks run by R"
}

test_tui_invalidate_downstream_asks_marks_and_undoes() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
keys j
keys I
dump preview
keys n
dump declined
keys I
keys y
dump invalidated
sh "$SLUICE" status >status.txt
keys u
dump undone
keys q
KEYS
    screen preview
    assert_out "invalidate features, train, report? (y/n)"
    assert_eq "$(printf '%s\n' "$OUT_TEXT" | grep -c '╔')" 3 "boxes marked in the preview"
    assert_out "│ ✓ load"
    screen declined
    assert_out "4 cached"
    assert_not_out "╔"
    screen invalidated
    assert_out "1 cached  3 invalidated │"
    assert_out "invalidation 1: 3 invalidated (u undoes it)"
    grep -q "3 invalidated" status.txt || fail "the CLI did not see the invalidation: $(cat status.txt)"
    screen undone
    assert_out "4 cached │"
    assert_out "undid invalidation 1"
    sl status; assert_out "4 cached"
}

test_tui_search_selects_and_help_lists_every_action() {
    chain_flow
    tui <<'KEYS'
size 100 72
keys /
type tra
key Enter
dump found
keys ?
dump help
key Esc
dump closed
keys q
KEYS
    screen found
    assert_out "┃ ○ train"
    assert_out "│ ○ load"
    screen help
    assert_line '^ +I +invalidate-downstream TASK +invalidate it and all downstream$'
    assert_line '^ +u +undo +undo the last edit or invalidation$'
    assert_line '^ +a +add NAME COMMAND\.\.\. +add a task'
    assert_line '^ +set TASK\.FIELD VALUE\.\.\. +set a field'
    assert_line '^ +/ +search +find a task by name$'
    assert_line '^ +f +focus +only its ancestors and descendants \(on a matrix box: all'
    assert_line '^ +q +quit +quit \(asks if a run started here goes or if unsaved\)$'
    assert_line '^ +Esc +back +'
    assert_line '^ +: +command +'

    screen closed
    assert_not_out "invalidate-downstream"
}

test_tui_shows_a_code_edit_as_stale_with_the_reason() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
dump before
sh echo '# tuned' >>tasks/train.sh
wait-text 2 stale 3000
dump after
keys /
type train
key Enter
key Enter
dump detail
keys w
dump why
keys q
KEYS
    screen before
    assert_out "4 cached"
    screen after
    assert_out "2 cached  2 stale"
    screen detail
    assert_out "stale"
    assert_out "tasks/train.sh"
    screen why
    assert_out "code tasks/train.sh changed"
}

test_tui_follows_a_run_started_elsewhere() {
    [ -z "${SLUICE_UNDER_VALGRIND:-}" ] || skip "its 5 s waits are for native speed"
    slow_flow
    tui <<'KEYS'
dump idle
sh "$SLUICE" run >run.out 2>&1 &
wait-text 1 running 5000
dump live
sh touch go
wait-text 2 cached 5000
dump done
keys q
KEYS
    screen idle
    assert_out "2 pending"
    assert_not_out "going"
    screen live
    assert_out "slowflow │ 1 running  1 queued │ ● run 1 going │ flow.json · store /"
    assert_line '[◐◓◑◒] slow'
    assert_out "│ ◌ after"
    screen done
    assert_out "2 cached │"
    assert_line '^run 1 ok in .*: 2 ran$'
}

test_tui_quit_during_a_run_asks_and_cancels_it() {
    slow_flow
    tui <<'KEYS'
keys R
wait-text 1 running 5000
keys q
dump asked
keys n
dump stayed
keys q
keys y
KEYS
    assert_rc 0
    screen asked
    assert_out "a run started here is going: cancel it and quit? (y/n)"
    screen stayed
    assert_out "1 running"
    assert_eq "$(sql 'select status from runs')" cancelled "the run's status"
    touch go
    sl run; assert_rc 0
    assert_runs slow 2
}

test_tui_ctrl_c_quits_like_q() {
    slow_flow
    tui <<'KEYS'
keys a
interrupt
dump closed
interrupt
dump never
KEYS
    assert_rc 0
    screen closed
    assert_out "nothing changed"
    case "$TUI_OUT" in *"--- screen never"*) fail "Ctrl-C did not quit: $TUI_OUT" ;; esac
    tui <<'KEYS'
keys R
wait-text 1 running 5000
interrupt
dump asked
interrupt
dump stayed
interrupt
keys y
KEYS
    assert_rc 0
    screen asked
    assert_out "a run started here is going: cancel it and quit? (y/n)"
    screen stayed
    assert_out "1 running"
    assert_out "nothing done"
    assert_eq "$(sql 'select status from runs')" cancelled "the run's status"
}

test_tui_sigterm_stops_its_run_and_quits_without_asking() {
    slow_flow
    tui <<'KEYS'
keys R
wait-text 1 running 5000
sh kill -TERM $PPID
dump never
KEYS
    assert_rc 0
    case "$TUI_OUT" in *"--- screen never"*) fail "SIGTERM did not quit: $TUI_OUT" ;; esac
    assert_eq "$(sql 'select status from runs')" cancelled "the run's status"
}

test_tui_ctrl_c_on_a_real_terminal_quits_cleanly() {
    command -v tmux >/dev/null || skip "tmux is not installed"
    slow_flow
    local sock="$T/tmux.sock"
    # shellcheck disable=SC2064
    trap "tmux -S '$sock' kill-server 2>/dev/null" EXIT
    for cmd in "" tui; do
        rm -f rc.txt stty.txt # rc.txt comes last: stty.txt is whole once it is there
        tmux -S "$sock" new-session -d -x 100 -y 30 \
            "cd '$T' && LC_ALL=C.UTF-8 '$SLUICE' $cmd; r=\$?; stty -a >stty.txt; echo rc=\$r >rc.txt" ||
            fail "tmux did not start"
        for _ in $(seq 100); do
            tmux -S "$sock" capture-pane -p 2>/dev/null | grep -q "2 pending" && break
            sleep 0.05
        done
        tmux -S "$sock" send-keys C-c
        for _ in $(seq 100); do [ -f rc.txt ] && break; sleep 0.05; done
        assert_eq "$(cat rc.txt 2>/dev/null)" rc=0 "exit status of 'sluice $cmd' after Ctrl-C"
        grep -q ' icanon' stty.txt && grep -q ' echo ' stty.txt ||
            fail "the terminal was not restored: $(cat stty.txt)"
    done
}

test_tui_history_shows_a_past_run_as_it_ended() {
    chain_flow
    sl run; assert_rc 0
    write tasks/report.sh 'echo report >>"$RUNS"; echo changed >"$OUT/report.md"'
    sl run; assert_rc 0
    tui <<'KEYS'
keys H
dump history
key Down
key Enter
dump run1
key Esc
dump now
keys q
KEYS
    screen history
    assert_line '^ +2 +[0-9:]+ +ok +[0-9.]+m?s +1 +1 +0 +0 +0 +[0-9a-f]{7}[+] +report$'
    assert_line '^ +1 +[0-9:]+ +ok +[0-9.]+m?s +4 +0 +0 +0 +0 +[0-9a-f]{7} +report$'
    screen run1
    assert_out "chain │ 4 ran │ run 1 event 14/14 "
    assert_out "as it ended"
    screen now
    assert_not_out "as it ended"
    assert_out "chain │ 4 cached │"
}

test_tui_sub_flow_is_collapsed_and_expands() {
    subflow_pair
    cd a || fail "no flow a"
    tui <<'KEYS'
dump collapsed
keys k+
dump expanded
keys q
KEYS
    screen collapsed
    assert_out "▸ prep (2)"
    assert_not_out "prep/clean"
    screen expanded
    assert_out "prep/clean"
    assert_out "prep/stats"
}

test_tui_ascii_and_a_too_small_terminal() {
    chain_flow
    tui --ascii <<'KEYS'
dump ascii
keys q
KEYS
    screen ascii
    assert_out "| o load"
    assert_out "+-----"
    assert_not_out "╭"
    # issue 17 item 10: only ASCII, the status bar and the footer too
    printf '%s\n' "$OUT_TEXT" | LC_ALL=C grep -n '[^ -~]' && fail "non-ASCII on the --ascii screen"
    assert_out "chain | 4 pending | flow.json - store"
    tui <<'KEYS'
size 20 5
dump tiny
keys q
KEYS
    screen tiny
    assert_out "too small"
    tui <<'KEYS'
size 30 8
dump narrow
keys q
KEYS
    screen narrow
    assert_line '^sluice: the terminal is too$'
    assert_line '^small \(30x8; needs 40x10\)$'
}

test_tui_in_a_real_terminal_with_tmux() {
    command -v tmux >/dev/null || skip "tmux is not installed"
    chain_flow
    local sock="$T/tmux.sock"
    tmux -S "$sock" new-session -d -x 100 -y 30 "cd '$T' && LC_ALL=C.UTF-8 '$SLUICE' tui" ||
        fail "tmux did not start"
    # shellcheck disable=SC2064
    trap "tmux -S '$sock' kill-server 2>/dev/null" EXIT
    wait_pane() { # TEXT
        for _ in $(seq 100); do
            OUT_TEXT=$(tmux -S "$sock" capture-pane -p)
            case "$OUT_TEXT" in *"$1"*) return 0 ;; esac
            sleep 0.05
        done
        fail "the terminal never showed '$1'"
    }
    wait_pane "4 pending"
    tmux -S "$sock" send-keys R
    wait_pane "4 cached"
    assert_out "│ ✓ report"
    tmux -S "$sock" send-keys q
    for _ in $(seq 100); do
        tmux -S "$sock" has-session 2>/dev/null || break
        sleep 0.05
    done
    tmux -S "$sock" has-session 2>/dev/null && fail "q did not quit"
    sl status; assert_out "4 cached"
}

test_tui_focus_and_the_command_line() {
    git_repo
    cat >flow.json <<'JSON'
{ "tasks": {
    "a": { "run": "echo a >$OUT/x" },
    "b": { "run": "echo b >$OUT/x", "after": ["a"] },
    "c": { "run": "echo c >$OUT/x", "after": ["a"] },
    "d": { "run": "echo d >$OUT/x", "after": ["b"] }
} }
JSON
    commit_all
    tui <<'KEYS'
keys /c
key Enter
keys f
dump focused
key Esc
keys :run-a
key Tab
key Enter
wait-idle
dump commanded
keys :nonsense
key Enter
dump unknown
keys q
KEYS
    screen focused
    assert_out "│ focus │"
    assert_out "┃ ○ c"
    assert_out "│ ○ a"
    assert_not_out " b "
    assert_not_out " d "
    screen commanded
    assert_out "4 cached"
    assert_not_out "focus"
    screen unknown
    assert_out 'no action named "nonsense"'
}

test_tui_steps_through_a_past_run_and_replays_it() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
size 130 30
keys H
key Enter
dump end
key Left
key Left
key Left
dump three-back
keys ,
dump four-back
keys p
wait-idle
keys H
dump history
keys q
KEYS
    screen end
    assert_out "chain │ 4 ran │ run 1 event 14/14"
    # Events, last first: finished, report ran, report running, train ran, ...
    screen three-back
    assert_out "1 queued  3 ran │ run 1 event 11/14"
    assert_out ": train ran"
    screen four-back
    assert_out "1 running  1 queued  2 ran │ run 1 event 10/14"
    assert_out ": train running"
    screen history
    assert_line '^ +2 +[0-9:]+ +ok .*report +\(replay of run 1\)$'
    assert_eq "$(sql 'select replay_of from runs where id = 2')" 1 "run 2 replays run 1"
}

test_tui_a_broken_flow_follows_its_fix() {
    git_repo
    echo '{ "tasks": { "a": { "run": "echo a >$OUT/x", "aftr": [] } } }' >flow.json
    tui <<'KEYS'
dump broken
keys r
dump r
sh echo '{ "tasks": { "a": { "run": "echo a >$OUT/x" } } }' >flow.json
wait-text 1 pending 3000
keys q
KEYS
    screen broken
    assert_out 'flow.json: task a: unknown field "aftr" (did you mean "after"?)'
    # its footer names only keys that work there (it offered r run, R run-all...)
    assert_line '^: command  \? help  q quit$'
    screen r
    assert_out "no action on that key here"
}

# What another terminal does to the store shows at once: an invalidation (no run),
# the store deleted, and made anew by a run.
test_tui_follows_invalidations_and_a_new_store_from_elsewhere() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
wait-text 4 cached 5000
sh "$SLUICE" invalidate load --downstream >inv.out 2>&1
wait-text 4 invalidated 5000
dump invalidated
sh rm -rf .sluice
wait-text 4 pending 5000
dump gone
sh "$SLUICE" run >run.out 2>&1
wait-text 4 cached 5000
dump anew
keys q
KEYS
    screen invalidated
    assert_out "4 invalidated"
    screen gone
    assert_out "4 pending"
    screen anew
    assert_out "4 cached"
}

test_tui_past_run_detail_says_why_the_task_ran_then() {
    chain_flow
    sl run; assert_rc 0
    sl run -p lr=0.2; assert_rc 0
    sl run; assert_rc 0 # the present: lr 0.1 again, all cached
    tui <<'KEYS'
size 130 30
keys H
key Down
key Enter
keys /
type train
key Enter
key Enter
dump detail
keys q
KEYS
    screen detail
    assert_out "in run 2: ran"
    assert_out "cause: param lr 0.1 -> 0.2"
}

# Issue 17 items 1-2: h/j/k/l move to the nearest box in that screen direction in
# both layouts (examples/hello: `j` from greet used to skip shout, `h`/`l` did nothing,
# and left-to-right `l` moved down the screen); K/J follow edges; a position line.
test_tui_keys_move_in_screen_directions_in_every_layout() {
    cp -r "$OLDPWD/examples/hello" hello && rm -rf hello/.sluice && cd hello && git_repo && commit_all
    tui <<'KEYS'
size 80 24
keys gj
dump j
keys j
dump jj
keys k
dump k
keys dd
keys g
keys l
dump lr-l
keys l
dump lr-ll
keys h
dump lr-h
keys J
dump lr-J
keys KK
dump lr-KK
keys q
KEYS
    screen j;     assert_out "┃ ○ shout"; assert_out "shout · layer 2/3"
    # issue 17 item 9: at 80 columns the footer still ends with `? help  q quit`
    assert_line '  \? help  q quit +shout · layer 2/3$'
    screen jj;    assert_out "┃ ○ count"; assert_out "count · layer 3/3"
    screen k;     assert_out "┃ ○ shout"
    screen lr-l;  assert_out "┃ ○ shout"
    screen lr-ll; assert_out "┃ ○ count"
    screen lr-h;  assert_out "┃ ○ shout"
    screen lr-J;  assert_out "┃ ○ count"
    screen lr-KK; assert_out "┃ ○ greet"
}

# Issue 17 items 5-6: `q` in the details pane closes it (it quit the TUI); scrolling to
# the end keeps a full page (`L` on a 6-line log showed its last line only, `G` in the
# history left one row with none selected).
test_tui_q_closes_one_level_and_the_end_keeps_a_full_page() {
    git_repo
    cat >flow.json <<'JSON'
{ "name": "lg", "tasks": { "six": { "run": "for i in 1 2 3 4 5 6; do echo line$i; done; echo x >$OUT/x" } } }
JSON
    commit_all
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
        sl run; assert_rc 0; sl invalidate six; assert_rc 0
    done
    sl run; assert_rc 0
    tui <<'KEYS'
size 80 16
key Enter
keys q
dump detail-q
keys fq
dump focus-q
keys L
dump log
keys G
dump log-G
keys q
keys H
keys G
dump history-G
keys kkk
dump history-k
key Esc
keys q
KEYS
    assert_rc 0
    screen detail-q; assert_out "┃ ✓ six"; assert_not_out "details"
    screen focus-q;  assert_out "┃ ✓ six"; assert_not_out "│ focus"
    screen log;      assert_out "line1"; assert_out "line6"
    screen log-G;    assert_out "line1"; assert_out "line6"
    screen history-G
    assert_line '^ +1 +[0-9]'; assert_line '^ +12 +[0-9]'; assert_not_out " 16  "
    screen history-k
    assert_line '^ +1 +[0-9]'; assert_line '^ +12 +[0-9]'
}

# Issue 17 item 3: the selection stays in sight when a pane opens below it (`G Enter`
# at 80x24 put the details pane over the box) and after a direction change; a search
# jump centres the view (it scrolled only just enough: nothing after the match showed).
test_tui_selection_stays_in_sight_and_jumps_centre_it() {
    git_repo
    python3 -c "
import json
t = {}
for i in range(1, 13):
    t['t%d' % i] = {'run': 'echo x >\$OUT/x'}
    if i > 1: t['t%d' % i]['after'] = ['t%d' % (i - 1)]
print(json.dumps({'name': 'ch', 'tasks': t}))" >flow.json
    commit_all
    tui <<'KEYS'
size 80 24
keys G
key Enter
dump pane
key Esc
keys g/
type t7
key Enter
dump search
keys dd
dump direction
keys q
KEYS
    screen pane;      assert_out "┃ ○ t12"; assert_out " details"
    screen search;    assert_out "┃ ○ t7"; assert_out "│ ○ t9 "
    screen direction; assert_out "┃ ○ t7"
}

# A generated 2,000-task flow (bench/gen.py) where t1000 fails, run up to it: 77 cached,
# 1 failed, 1,922 pending.
big_flow_with_a_failure() {
    git_repo
    python3 "$OLDPWD/bench/gen.py" . wide 2000 --only sluice || fail "gen.py failed"
    printf 'echo "boom: bad input" >&2\nexit 3\n' >src/t1000.sh
    commit_all
    sl run t1000
}

# In a big flow the status bar said `1 failed` and the box was off screen, with no way
# to it but the mouse: `t` goes to the next failed task from anywhere, and says which.
test_tui_jumps_to_the_failed_task_of_a_2000_task_flow() {
    big_flow_with_a_failure
    tui <<'KEYS'
size 100 30
keys G
keys t
dump jumped
key Enter
keys t
dump from_details
keys T
keys q
keys G
keys H
keys t
dump from_history
keys G
keys :jump fa
key Tab
dump completed
key Enter
dump by_command
keys q
KEYS
    screen jumped
    assert_out "t1000: 1 of 1 failed"
    assert_line '┃ ✗ t1000 +[┃┣]'
    screen from_details
    assert_out "t1000  ✗ failed"
    assert_out "t1000: 1 of 1 failed"
    screen from_history
    assert_line '┃ ✗ t1000 +[┃┣]'
    assert_not_out "run    started"
    screen completed
    assert_line '^:jump failed$'
    screen by_command
    assert_out "t1000: 1 of 1 failed"
}

# Tab opens a list of every task beside the graph; `s` filters it by state, with
# counts; the graph's selection follows the list's cursor (and Enter opens its details).
test_tui_task_list_filters_by_state_and_follows_the_graph() {
    big_flow_with_a_failure
    tui <<'KEYS'
size 100 30
key Tab
dump list
keys s
dump failed
key Enter
dump details
key Esc
keys s
dump blocked_none_so_pending
key Esc
key Tab
keys G
key Tab
dump synced
key Esc
dump closed
keys q
KEYS
    screen list
    assert_out " tasks 2000 of 2000"
    assert_out "✓77 ○1922 ✗1"
    assert_line '^▸○ t0 +pending'
    assert_line '^/ filter  s state  Tab graph  .*\? help  q Esc close-list +t0 · layer 1/23$'
    screen failed
    assert_out " tasks 1 of 2000 · failed"
    assert_line '^▸✗ t1000 +failed'
    assert_line '┃ ✗ t1000 +[┃┣]'
    screen details
    assert_out "t1000  ✗ failed"
    screen blocked_none_so_pending
    assert_out " tasks 1922 of 2000 · pending"
    screen synced
    assert_line '^▸○ t1999 +pending'
    screen closed
    assert_not_out "tasks 2000 of 2000"
    assert_out "Tab list"
}

# The list's name filter applies as it is typed; Esc drops it, a second Esc closes the list.
test_tui_task_list_filters_names_as_you_type() {
    big_flow_with_a_failure
    tui <<'KEYS'
size 100 30
key Tab
keys /t19
dump typing
keys 9
dump narrower
key Enter
keys j
dump moved
key Esc
dump unfiltered
keys q
dump closed
keys q
KEYS
    screen typing
    assert_out " tasks 111 of 2000 · \"t19\""
    assert_line '^/t19 '
    screen narrower
    assert_out " tasks 11 of 2000 · \"t199\""
    assert_line '^▸✓ t199 +cached'
    screen moved
    assert_line '^▸○ t1990 +pending'
    assert_line 't1990 · layer'
    screen unfiltered
    assert_out " tasks 2000 of 2000"
    assert_line '^▸○ t1990 +pending'
    screen closed
    assert_not_out " tasks 2000 of 2000"
}

# Every view has its own keys, from the one table: in the full-screen history `i` used
# to ask to invalidate the hidden graph's selection, and Esc from a run diff went to
# the graph; the footer showed `r run R run-all` in forms and the history.
test_tui_history_keys_act_on_the_history_and_esc_goes_back_one_level() {
    chain_flow
    sl run; assert_rc 0
    echo '# tuned' >>tasks/train.sh
    sl run; assert_rc 0
    tui <<'KEYS'
keys H
keys i
dump history_i
keys d
dump diff
key Esc
dump back_in_history
keys ?
dump help
key Esc
key Esc
keys a
dump form
key Esc
keys g
dump graph
keys q
KEYS
    screen history_i
    assert_out "no action on that key here (? lists them)"
    assert_not_out "invalidate"
    screen diff
    assert_out "run 1 -> run 2 (Esc closes)"
    screen back_in_history
    assert_line '^ +run +started +status'
    assert_line 'Enter show-run  space mark-run  d diff-runs  p replay-run  .*\? help  q Esc close$'
    screen help
    assert_out "Keys here:"
    assert_line '^ +d +diff-runs +what differs from the marked run'
    assert_line '^ +k Up +up +\[graph\] the nearest task above on screen$'
    screen form
    assert_line '^Enter apply  Esc cancel-form  Down next-field'
    assert_not_out "R run-all"
    screen graph
    assert_line '^Enter detail  Tab list  r run  R run-all'
}

# The `:` line shows its candidates with what each is as you type (`:` Tab, `:re` Tab
# and `:set train.e` Tab used to show nothing), Tab cycles through them, commands take
# a task (`:invalidate tr` said "takes no arguments") and `:run-all -p` one-off
# parameters.
test_tui_command_palette_shows_candidates_and_takes_arguments() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
keys :re
dump re
key Tab
key Tab
dump cycled
key Esc
keys :set train.e
key Tab
dump fields
key Esc
keys :invalidate tr
key Tab
dump task
key Enter
dump asked
keys n
keys :run-all -p lr=0.05
key Enter
wait-idle
dump ran
keys :run -p lr
key Enter
dump refused
keys q
KEYS
    screen re
    assert_line '^ redo +redo the edit undone$'
    assert_line '^ rename +TASK NAME: rename it'
    assert_line '^:re$'
    screen cycled
    assert_line '^▸replay +replay the past run shown'
    assert_line '^:replay$'
    screen fields
    assert_line '^▸train.env$'
    assert_line '^ train.expire$'
    screen task
    assert_line '^:invalidate train$'
    screen asked
    assert_out "invalidate train? (y/n)"
    screen ran
    assert_line '^run 2 ok in .*: 2 ran'
    assert_eq "$(sql "SELECT count(*) FROM runs")" 2 "runs"
    grep -q "lr=0.05" .sluice/views/*/model 2>/dev/null ||
        grep -rqs "lr=0.05" .sluice || fail "the one-off parameter did not reach the task"
    screen refused
    assert_out "a run takes up to 5 -p NAME=VALUE"
    sl status; assert_out "4 cached"
}

# Search selects as you type and counts the matches (it waited for Enter and said
# nothing); Esc goes back to where it began; `/` in the help searches the help (it
# searched the tasks behind it).
test_tui_search_is_incremental_and_slash_in_help_searches_the_help() {
    chain_flow
    tui <<'KEYS'
keys /t
dump t
keys r
dump tr
key Esc
dump escaped
keys /rep
key Enter
dump found
keys ?
keys /mouse
dump help_typing
key Enter
dump help_found
keys q
keys q
KEYS
    screen t
    assert_line '^/t   3 matches$'
    assert_out "┃ ○ features"
    screen tr
    assert_line '^/tr   1 match$'
    assert_out "┃ ○ train"
    screen escaped
    assert_out "┃ ○ load"
    screen found
    assert_out "┃ ○ report"
    screen help_typing
    assert_line '^/mouse   [0-9]+ lines?$'
    screen help_found
    assert_line '^ keys'
    OUT_TEXT=$(printf "%s\n" "$OUT_TEXT" | sed -n 3p) # the first line of the pane
    assert_out "mouse"
}

# The toast of a failed run names the task, its exit code and the line of its log that
# says what went wrong; it and the history count failed and blocked apart (the history
# said `failed 2` where the run said `1 failed 1 blocked`).
test_tui_failed_run_toast_names_the_task_its_exit_code_and_error() {
    chain_flow
    write tasks/train.sh 'echo "epoch 1"; echo "ValueError: bad lr" >&2; echo "bye"; exit 3'
    commit_all
    tui <<'KEYS'
keys R
wait-idle
dump ran
keys H
dump history
key Esc
keys t
dump jumped
keys q
KEYS
    screen ran
    assert_line '^run 1 failed in [0-9.]+m?s: 2 ran 1 failed 1 blocked · train exited 3: ValueError: bad lr \(t goes to it\)$'
    screen history
    assert_line '^ +run +started +status +took +ran +hit +cut +failed +blocked +git'
    assert_line '^ +1 +[0-9:]+ +failed +[0-9.]+m?s +2 +0 +0 +1 +1 '
    screen jumped
    assert_out "train: 1 of 1 failed"
}

# On a past run, ran, hit and cut off look different on every box (ran and hit were
# both a green ✓), the help's legend has every glyph (`·` was missing), and F moves
# the timeline to the moment the first task failed.
test_tui_past_run_marks_ran_hit_cutoff_and_jumps_to_the_failure() {
    chain_flow
    sl run; assert_rc 0
    echo '# tuned' >>tasks/train.sh
    commit_all
    sl run; assert_rc 0
    write tasks/train.sh 'echo "ValueError: bad lr" >&2; exit 3'
    commit_all
    sl run
    tui <<'KEYS'
keys H
keys j
key Enter
dump run2
key Esc
keys H
key Enter
keys F
dump failure
key Esc
keys ?
keys /States
key Enter
dump legend
keys q
keys q
KEYS
    screen run2
    assert_out "┃ · load"
    assert_out "│ ✓ features"
    assert_out "│ ● train"
    assert_out "│ ≡ report"
    screen failure
    assert_out "┃ ✗ train"
    assert_line 'run 3 +event [0-9]+/[0-9]+ .*train failed'
    screen legend
    assert_out "● ran"
    assert_out "· skipped"
    assert_out "≡ cut off"
}

# The toast of an invalidation counts in the status bar's words: it said `820 tasks`
# where the status bar said `822 invalidated` (tasks without a result have none to take
# out).
test_tui_invalidation_toast_agrees_with_the_status_bar() {
    big_flow_with_a_failure
    tui <<'KEYS'
size 200 40
keys /t911
key Enter
keys I
keys y
dump invalidated
keys q
KEYS
    screen invalidated
    local toast bar
    toast=$(printf '%s\n' "$OUT_TEXT" | sed -n 's/^invalidation 1: \([0-9]*\) invalidated; [0-9]* of the [0-9]* had no result to take out (u undoes it)$/\1/p')
    bar=$(printf '%s\n' "$OUT_TEXT" | sed -n 's/.* \([0-9]*\) invalidated .*/\1/p' | head -1)
    [ -n "$toast" ] || fail "no invalidation toast in: $OUT_TEXT"
    assert_eq "$toast" "$bar" "invalidated in the toast and in the status bar"
}

# On a past run the details said `skipped` (the run) where `w` said `invalidated`
# (now), without saying which is which: both now say the state then and now.
test_tui_past_run_details_and_why_say_then_and_now() {
    chain_flow
    sl run; assert_rc 0
    sl invalidate train; assert_rc 0
    tui <<'KEYS'
keys H
key Enter
keys jj
key Enter
dump details
key Esc
keys w
dump why
key Esc
key Esc
keys q
KEYS
    screen details
    assert_out "train  ● ran  (in the run shown; now invalidated)"
    screen why
    assert_out "in run 1: ● ran; now:"
    assert_out "train: ⊗ invalidated"
}

# The log pane, like `sluice log`, never shows a tampered log as the task's output.
test_tui_log_pane_refuses_a_tampered_log() {
    tampered_log_flow
    tui <<'KEYS'
size 100 20
keys L
dump log
keys q q
KEYS
    assert_rc 0
    screen log
    assert_out "is damaged"
    assert_not_out "words nobody printed"
}

# Issue 17: the selected task's in- and out-edges stand out (bold, and coloured where
# there are colours), in every layout and with --ascii; an edge of two other tasks that
# shares cells with them (greet -> count shares greet's stem and count's arrowhead) is
# not lit beyond those cells.
test_tui_selected_tasks_edges_are_highlighted_in_every_layout() {
    cp -r "$OLDPWD/examples/hello" hello && rm -rf hello/.sluice && cd hello && git_repo && commit_all
    tui <<'KEYS'
size 80 24
keys gj
dump-bold down
dump down-all
keys dd
keys gl
dump-bold right
keys q
KEYS
    screen down
    assert_line '^ +╭─────┴$'          # greet's stem, to shout only
    assert_line '^ +▼$'                # the arrowhead into shout; none on the right
    assert_line '^ +╰─────┬$'          # shout -> count
    assert_not_out '│'                 # greet -> count's own column stays plain
    screen down-all
    assert_line '^ +▼ +│$'
    tui --ascii <<'KEYS'
size 80 24
keys dd
keys gl
dump-bold right
keys g
dump-bold greet
keys q
KEYS
    screen right
    assert_line '^ +\+>\| o shout +\+-\+$'
    assert_line '^ +o +-\+ +\+> +o$'   # greet's lead and turn, the arrow into count
    assert_not_out '+---------------------+'   # greet -> count along the bottom
    screen greet
    assert_out '+---------------------+'
}

# Issue 17: handlers say what must be redone (re-read the flow, lay the graph out, or
# only redraw) and the loop does that much: a key that moves nothing does not rebuild
# the details pane (every key did), a reload builds it once (it was built twice), a
# move lays nothing out, and `d` lays the graph out once.
test_tui_keys_redo_only_what_they_ask_for() {
    chain_flow
    sl run; assert_rc 0
    tui <<'KEYS'
key Enter
stats
keys nnN
key PgDn
stats
keys j
stats
keys iy
stats
keys u
stats
keys d
stats
keys q
KEYS
    local s
    s=$(printf '%s\n' "$TUI_OUT" | grep '^--- stats' | sed 's/--- stats: //; s/ ---//')
    assert_eq "$(printf '%s\n' "$s" | sed -n 1p)" "reloads 1 layouts 1 details 1" "Enter"
    assert_eq "$(printf '%s\n' "$s" | sed -n 2p)" "reloads 1 layouts 1 details 1" "n N PgDn"
    assert_eq "$(printf '%s\n' "$s" | sed -n 3p)" "reloads 1 layouts 1 details 2" "a move"
    assert_eq "$(printf '%s\n' "$s" | sed -n 4p)" "reloads 2 layouts 2 details 3" "i y"
    assert_eq "$(printf '%s\n' "$s" | sed -n 5p)" "reloads 3 layouts 3 details 4" "u"
    assert_eq "$(printf '%s\n' "$s" | sed -n 6p)" "reloads 3 layouts 4 details 4" "d"
}

# Issue 17 item 4: the `:` line quotes as a shell does, so a one-off parameter can hold
# spaces (`-p title="A  B"` ran with title `"A` and failed on `B"`); an unclosed quote
# is named, and nothing runs.
test_tui_run_options_take_shell_quoting() {
    chain_flow
    tui <<'KEYS'
keys :run-all -p title="a value  with spaces" -p lr='0.5'
key Enter
wait-idle
dump quoted
keys :run report -p title=it\ is
key Enter
wait-idle
keys :run-all -p title="never closed
key Enter
dump unclosed
keys q
KEYS
    screen unclosed
    assert_out 'unclosed " in "never closed'
    assert_eq "$(sql 'select count(*) from runs')" 2 "runs (the unclosed quote ran nothing)"
    sql 'select params from runs order by id' >params.txt
    OUT_TEXT=$(cat params.txt)
    assert_out '"a value  with spaces"'
    assert_out '"it is"'
    assert_not_out "'0.5'"
}

# Issue 17 item 5: the help wraps its descriptions to the terminal's width (lines were
# cut at its edge: at 80 columns most of the other views' keys lost their ends).
test_tui_help_wraps_to_the_terminal_width() {
    cp -r "$OLDPWD/examples/hello" hello && rm -rf hello/.sluice && cd hello && git_repo && commit_all
    tui <<'KEYS'
size 80 24
keys ?
keys /quoted as in sh)
key Enter
dump run
keys /marked run (or
key Enter
dump elsewhere
keys q
KEYS
    screen run
    assert_line "^ +NAME=VALUE, quoted as in sh\)$"
    screen elsewhere
    assert_line '^ +marked run \(or the one before\)$'
}

# Issue 17 item 3: a long reload (a big flow read again) says how far it got on the last
# line, and q or Esc typed meanwhile stop it and quit, at once (the screen froze until
# the whole flow was read).
many_tasks_flow() {
    git_repo
    python3 - <<'PY'
import json
t = {f"t{i}": {"run": f"echo {i} >$OUT/x", **({"after": [f"t{i % 50}"]} if i >= 50 else {})}
     for i in range(3000)}
json.dump({"name": "many", "tasks": t}, open("flow.json", "w"))
PY
    commit_all
}

test_tui_a_long_reload_shows_progress_and_q_stops_it() {
    many_tasks_flow
    count() { printf '%s\n' "$TUI_OUT" | grep -c -- "$1"; }
    # another key typed meanwhile lets the reload go on, and every step shows
    tui <<'KEYS'
keys :reload
key Enter
during-load x
dump read
keys q
KEYS
    assert_eq "$(count '^--- progress: flow.json: reading (q or Esc: quit) ---$')" 2 "readings"
    assert_eq "$(count 'progress: flow.json: computing keys, 2560 of 3000 tasks')" 2 "key steps"
    assert_eq "$(count 'progress: flow.json: looking up results, 512 of 3000')" 2 "state steps"
    screen read
    assert_out "many │ 3000 pending"
    # q stops it at its next step (a reload's first is the reading) and quits
    tui <<'KEYS'
keys :reload
key Enter
during-load q
dump never
KEYS
    assert_rc 0
    assert_eq "$(count 'progress: flow.json: reading')" 1 "readings (the opening's only)"
    assert_eq "$(count 'computing keys, 0 of')" 1 "first key steps"
    OUT_TEXT=$TUI_OUT; assert_not_out "--- screen never"
    # Esc while the flow is first read: quits before anything is shown
    tui <<'KEYS'
during-load Esc
dump never
KEYS
    assert_rc 0
    assert_eq "$(count 'progress')" 0 "steps shown"
    OUT_TEXT=$TUI_OUT; assert_not_out "--- screen never"
    # and in the middle of its states
    tui <<'KEYS'
keys :reload
key Enter
during-load j
during-load j
during-load j
during-load j
during-load j
during-load j
during-load j
during-load j
during-load j
during-load q
dump never
KEYS
    assert_eq "$(count 'computing keys, 2560 of 3000')" 2 "key steps"
    assert_eq "$(count 'looking up results, 0 of 3000')" 2 "first state steps"
    assert_eq "$(count 'looking up results, 512 of 3000')" 1 "second ones (the reload stopped there)"
    OUT_TEXT=$TUI_OUT; assert_not_out "--- screen never"
}
