#!/bin/sh
# count: a small report comparing both upstream outputs
{
    echo "greetings: $(wc -l <"$IN_greet/greetings.txt")"
    echo "shouted:   $(wc -l <"$IN_shout/shouted.txt")"
    head -n 1 "$IN_shout/shouted.txt"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
