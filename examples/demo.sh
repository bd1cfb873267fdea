#!/bin/sh
# make demo: opens the TUI on the churn example (R runs it, ? lists every key).
# Without a terminal (CI, a pipe) it runs the flow twice from the CLI instead and
# shows that the second run is a cache hit.
# The store goes under $XDG_CACHE_HOME (or $SLUICE_STORE), not into the source tree;
# it persists, so a second `make demo` finds the results of the first.
set -e
cd "$(dirname "$0")/churn"
S=../../sluice
SLUICE_STORE=${SLUICE_STORE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/demo-churn}
export SLUICE_STORE
if [ -t 0 ] && [ -t 1 ]; then
    echo "Opening the TUI on examples/churn: R runs the flow, Enter shows a task, ? lists every key, q quits."
    echo "(its store: $SLUICE_STORE; delete it to start afresh)"
    sleep 1
    exec $S tui
fi
before=$($S status | tail -n 1)
if echo "$before" | grep -Eqx '[0-9]+ cached'; then
    echo "== first run: $SLUICE_STORE already has every result, so nothing executes"
else
    echo "== first run ($before): what is not in the store executes"
fi
$S run
echo
echo "== second run: the final result is cached, nothing upstream is even looked at"
$S run
echo
$S status
echo
echo "The store is $SLUICE_STORE (delete it to start afresh). Try:"
echo "  SLUICE_STORE=$SLUICE_STORE ./sluice -C examples/churn tui"
echo "  SLUICE_STORE=$SLUICE_STORE ./sluice -C examples/churn run -p lr=0.05   (re-runs train, evaluate, report)"
