# Helpers for integration scenarios. Each test_* function runs in its own empty
# directory $T (the current directory) with $SLUICE pointing at the binary.
# Tasks record each real execution by appending their name to $RUNS, so tests can
# count executions instead of timing anything.

export RUNS="$T/.runs"
export NO_COLOR=1
unset SLUICE_STORE

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

# A git repository with one commit of whatever is in $T already.
git_repo() {
    git init -q . && git config user.email t@example.com && git config user.name t &&
    git config commit.gpgsign false && echo .runs >>.git/info/exclude
}
commit_all() { git add -A . && git commit -qm "${1:-commit}" >/dev/null; }

# write FILE CONTENT: creates directories as needed.
write() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" >"$1"; }

# sl ARGS...: runs sluice; output in $OUT_TEXT, exit code in $RC.
sl() {
    OUT_TEXT=$("$SLUICE" "$@" 2>&1)
    RC=$?
}

runs_of() { grep -cx "$1" "$RUNS" 2>/dev/null || true; }
total_runs() { [ -f "$RUNS" ] && wc -l <"$RUNS" | tr -d ' ' || echo 0; }
reset_runs() { rm -f "$RUNS"; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"; }
assert_rc() { [ "$RC" = "$1" ] || fail "exit code $RC, expected $1; output:
$OUT_TEXT"; }
assert_out() { case "$OUT_TEXT" in *"$1"*) ;; *) fail "output lacks '$1':
$OUT_TEXT" ;; esac; }
assert_not_out() { case "$OUT_TEXT" in *"$1"*) fail "output has '$1':
$OUT_TEXT" ;; esac; }
assert_runs() { # TASK N
    assert_eq "$(runs_of "$1")" "$2" "executions of $1"
}

# sql QUERY: runs a query on the store's database.
sql() { sqlite3 "${STORE:-.sluice}/sluice.db" "$1"; }

# A chain load -> features -> train -> report with real scripts in a git repo.
# report uses params.title only; train uses params.lr.
chain_flow() {
    git_repo
    write tasks/load.sh 'echo load >>"$RUNS"; echo "a,b" >"$OUT/data.csv"'
    write tasks/features.sh 'echo features >>"$RUNS"; tr a-z A-Z <"$IN_load/data.csv" >"$OUT/f.csv"'
    write tasks/train.sh 'echo train >>"$RUNS"; { cat "$IN_features/f.csv"; echo "lr=$1"; } >"$OUT/model"'
    write tasks/report.sh 'echo report >>"$RUNS"; { echo "# $1"; cat "$IN_train/model"; } >"$OUT/report.md"'
    cat >flow.json <<'JSON'
{
  "name": "chain",
  "params": { "lr": 0.1, "title": "Report" },
  "tasks": {
    "load":     { "run": "sh tasks/load.sh", "code": ["tasks/load.sh"] },
    "features": { "run": "sh tasks/features.sh", "after": ["load"], "code": ["tasks/features.sh"] },
    "train":    { "run": "sh tasks/train.sh {params.lr}", "after": ["features"], "code": ["tasks/train.sh"] },
    "report":   { "run": "sh tasks/report.sh '{params.title}'", "after": ["train"], "code": ["tasks/report.sh"] }
  }
}
JSON
    commit_all "chain"
}

# Two flows in sibling directories that both include flows/prep.json.
subflow_pair() {
    git_repo
    mkdir -p flows a b
    write flows/clean.sh 'echo clean >>"$RUNS"; grep -v bad "$1" >"$OUT/clean.csv"'
    write flows/stats.sh 'echo stats >>"$RUNS"; wc -l <"$IN_clean/clean.csv" >"$OUT/n"'
    write data.csv "$(printf 'a\nbad\nb\n')"
    cat >flows/prep.json <<'JSON'
{ "name": "prep", "params": { "src": "missing.csv" },
  "tasks": {
    "clean": { "run": "sh clean.sh {params.src}", "code": ["clean.sh"], "files": ["{params.src}"] },
    "stats": { "run": "sh stats.sh", "after": ["clean"], "code": ["stats.sh"] }
} }
JSON
    for f in a b; do
        cat >$f/flow.json <<JSON
{ "name": "$f", "params": { "data": "$T/data.csv" },
  "tasks": {
    "prep":   { "flow": "../flows/prep.json", "with": { "src": "{params.data}" } },
    "use_$f": { "run": "echo use_$f >>\"\$RUNS\"; cp \$IN_prep/n \$OUT/", "after": ["prep"] }
} }
JSON
    done
    commit_all
}

# A task "talk" that ran once and printed "the real words", whose stored log was then
# overwritten with "words nobody printed" (its bytes no longer match its name).
tampered_log_flow() {
    git_repo
    echo '{ "tasks": { "talk": { "run": "echo the real words; echo x >$OUT/x" } } }' >flow.json
    commit_all
    sl run; assert_rc 0
    local d f
    d=$(sql "select log_object from task_runs where task = 'talk'")
    f=".sluice/logs/${d:0:2}/${d:2}"
    chmod u+w "$f"; echo "words nobody printed" >"$f"
}

# --- the TUI, driven by key scripts (`sluice tui --script`) ---

# tui [ARGS...] <<script: runs the TUI headless on the script read from stdin;
# its whole output in $TUI_OUT. Fails on a wait that timed out or a bad line.
tui() {
    cat >keys.txt
    TUI_OUT=$("$SLUICE" tui "$@" --script keys.txt 2>&1)
    RC=$?
    case "$TUI_OUT" in *"--- timeout"* | *"--- unknown"* | *"--- failed"*)
        fail "the key script did not go as planned:
$TUI_OUT" ;;
    esac
}

# screen NAME: makes the screen dumped as NAME the text assert_out checks.
screen() {
    OUT_TEXT=$(printf '%s\n' "$TUI_OUT" | sed -n "/^--- screen $1 ---\$/,/^--- end ---\$/p")
    [ -n "$OUT_TEXT" ] || fail "no screen named $1 in:
$TUI_OUT"
}

# assert_line REGEX: some line of $OUT_TEXT matches the extended regex.
assert_line() {
    printf '%s\n' "$OUT_TEXT" | grep -Eq "$1" || fail "no line matches '$1' in:
$OUT_TEXT"
}
