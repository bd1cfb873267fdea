#!/bin/sh
# make demo: runs the churn example twice; the second run is a cache hit.
set -e
cd "$(dirname "$0")/churn"
S=../../sluice
echo "== first run: every task executes"
$S run
echo
echo "== second run: the final result is cached, nothing upstream is even looked at"
$S run
echo
$S status
echo
echo "Try: $S -C examples/churn run -p lr=0.2     (re-runs train, evaluate, report)"
echo "     $S -C examples/churn status --json"
