#!/bin/sh
# greet NAME TIMES: writes NAME greetings, one per line, to $OUT/greetings.txt
i=0
while [ "$i" -lt "$2" ]; do
    echo "hello, $1 ($i)"
    i=$((i + 1))
done >"$OUT/greetings.txt"
echo "greeted $1 $2 times"
