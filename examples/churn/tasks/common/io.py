"""Shared helpers for the churn task scripts: usage checks, pickle and JSON I/O."""
import json
import os
import pickle
import sys

PROTOCOL = 4  # fixed so output bytes do not depend on the interpreter default


def args(n, usage):
    """Return sys.argv[1:] if it has exactly n items, else print usage and exit 2."""
    if len(sys.argv) != n + 1:
        sys.stderr.write("usage: %s %s\n" % (os.path.basename(sys.argv[0]), usage))
        sys.exit(2)
    return sys.argv[1:]


def read_pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def write_pickle(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=PROTOCOL)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
