#!/usr/bin/env bash
# make screenshots: runs the TUI on a fresh copy of examples/churn in tmux, captures
# the screen with its colours at a few moments and renders each capture to a PNG
# (tmux capture-pane -e -> ansi2html.py -> headless Chromium). Needs tmux, chromium and
# fonts-dejavu-core (installed when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SLUICE=$ROOT/sluice
OUT=$ROOT/screenshots
COLS=100 ROWS=32

need=""
for p in tmux chromium fonts-dejavu-core; do dpkg -s $p >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "screenshots: needs$need: sudo apt-get install -y$need" >&2; exit 1
    fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-shots.XXXXXX")
SOCK=$WORK/tmux.sock
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r examples/churn "$WORK/churn"
rm -rf "$WORK/churn/.sluice" "$WORK/churn/results"
cd "$WORK/churn"
git init -q . && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm churn

tmux -S "$SOCK" new-session -d -x $COLS -y $ROWS \
    "LC_ALL=C.UTF-8 TERM=xterm-256color '$SLUICE' tui"
keys() { tmux -S "$SOCK" send-keys "$@"; }
screen() { tmux -S "$SOCK" capture-pane -p -N "$@"; }
wait_for() { # extended regex, seconds
    for _ in $(seq $((${2:-30} * 20))); do
        screen | grep -Eq "$1" && return 0
        sleep 0.05
    done
    echo "screenshots: the TUI never showed /$1/:" >&2; screen >&2; exit 1
}

# shot NAME: the current screen as screenshots/NAME.png.
shot() {
    sleep 0.2
    screen -e | python3 "$OUT/ansi2html.py" >"$WORK/$1.html"
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1.5 \
        --window-size=$((COLS * 9 + 30)),$((ROWS * 17 + 24)) \
        --screenshot="$OUT/$1.png" "file://$WORK/$1.html" >/dev/null 2>&1
    echo "screenshots/$1.png"
}

wait_for "7 pending"
shot 1-open
keys R
wait_for "[◐◓◑◒] (train|baseline)"
shot 2-running
wait_for "7 cached" 120
shot 3-done
echo "# a stronger baseline" >>tasks/baseline.py
wait_for "stale"
keys / b a s e l i n e Enter w
wait_for "code tasks/baseline.py changed"
shot 4-stale-why
keys Escape
tmux -S "$SOCK" resize-window -y 62 # the graph keys of the help at once
keys '?'
wait_for "q +quit"
ROWS=62 shot 5-help
keys Escape
tmux -S "$SOCK" resize-window -y $ROWS
keys R
wait_for "run 2 ok" 120
keys H
wait_for "run +started"
shot 6-history
keys Down Enter
wait_for "event [0-9]+/[0-9]+"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do keys Left; done
wait_for "event [0-9]+/[0-9]+ \\+"
shot 7-timeline
keys Escape / t r a i n Enter
keys a
wait_for "add a task"
keys c a l i b r a t e Down
keys '{params.python} tasks/calibrate.py $IN_train $OUT'
wait_for "calibrate"
shot 8-add-task
keys Escape Tab / a Enter
wait_for "tasks [0-9]+ of [0-9]+"
shot 9-list
keys Escape Escape q

# A matrix flow (examples/samples, with only map@A run so far): its matrix
# tasks as one box each, with their instances per state.
cp -r "$ROOT/examples/samples" "$WORK/samples"
rm -rf "$WORK/samples/.sluice"
cd "$WORK/samples"
git init -q . && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm samples
"$SLUICE" run map@A >/dev/null
tmux -S "$SOCK" kill-server 2>/dev/null || true
tmux -S "$SOCK" new-session -d -x $COLS -y $ROWS \
    "LC_ALL=C.UTF-8 TERM=xterm-256color '$SLUICE' tui"
wait_for "map ×2"
keys '+'
wait_for "map@B"
keys '-'
wait_for "map ×2"
shot 10-matrix
keys q

