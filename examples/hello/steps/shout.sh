#!/bin/sh
# shout: upper-cases the greetings from $IN_greet into $OUT/shouted.txt
tr '[:lower:]' '[:upper:]' <"$IN_greet/greetings.txt" >"$OUT/shouted.txt"
