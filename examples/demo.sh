#!/bin/sh
# make demo: opens the TUI on the churn example (R runs it, ? lists every key).
# Without a terminal (CI, a pipe) it runs the flow twice from the CLI instead and
# shows that the second run is a cache hit.
set -e
cd "$(dirname "$0")/churn"
S=../../sluice
if [ -t 0 ] && [ -t 1 ]; then
    echo "Opening the TUI on examples/churn: R runs the flow, Enter shows a task, ? lists every key, q quits."
    sleep 1
    exec $S tui
fi
echo "== first run: every task executes"
$S run
echo
echo "== second run: the final result is cached, nothing upstream is even looked at"
$S run
echo
$S status
echo
echo "Try: ./sluice -C examples/churn tui                (the TUI: R runs, ? lists keys)"
echo "     ./sluice -C examples/churn run -p lr=0.05     (re-runs train, evaluate, report)"
