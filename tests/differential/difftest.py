#!/usr/bin/env python3
"""Differential tester for sluice (see README.md next to this file).

From a seed it generates random flows and random sequences of steps (edits, param and
file changes, live-source changes, invalidations, gc, damage to the store, kill -9,
concurrent runs, git commits). After every step it runs `sluice run` on a long-lived
store and compares every target's bytes and every published path with an oracle: a
from-scratch run of the same work tree in a fresh store. It counts the tasks each step
executed against the ones that had to run, and on a wrong output or a failed run it
shrinks the step list (ddmin) to a short reproducer.

  difftest.py --sluice ./sluice [--seed S] [--cases N | --steps-total N | --time SEC]
              [--skip CLASS,...] [--only CLASS,...] [--replay-case C --steps i,j,k]

Exit status: 0 when nothing was wrong, 1 on a wrong output or a failed run, 2 on a
usage error or a problem of the tester itself.
"""
import argparse
import difflib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

# Step classes. KNOWN maps the classes that exercise a known, not yet fixed sluice
# defect to that defect; `--skip known` skips them all.
# "ephemeral" is a feature of the flows rather than a step: without it no task (and no
# sub-flow task) is keep: none; the random draws stay the same, so a seed gives the
# same flow and steps otherwise.
CLASSES = ["ephemeral", "noop", "cosmetic", "code", "param", "bigparam", "file", "live", "invalidate",
           "undo", "gc", "gcmax", "corrupt", "delete", "plant", "kill", "concurrent",
           "racegc", "commit", "unpublish", "matrix", "matrixval"]
KNOWN = {}
WEIGHTS = {"ephemeral": 0, "noop": 2, "cosmetic": 6, "code": 6, "param": 6, "bigparam": 3, "file": 5,
           "live": 2, "invalidate": 5, "undo": 2, "gc": 3, "gcmax": 2, "corrupt": 2,
           "delete": 2, "plant": 2, "kill": 3, "concurrent": 3, "racegc": 3, "commit": 4,
           "unpublish": 2, "matrix": 0, "matrixval": 0}
# Classes after which re-runs are not judged (bytes may be legitimately gone).
DESTRUCTIVE = {"gcmax", "corrupt", "delete", "kill", "plant"}

BIG_PAIRS = [("9007199254740990", "9007199254740992"), ("9007199254740992", "9007199254740993"),
             ("0.3", "0.30000000000000004"), ("123456789012345678", "123456789012345680"),
             ("1e16", "10000000000000001"), ("0.1", "0.10000000000000001")]
SMALL_VALUES = ["0", "1", "-1", "2", "3.5", "-0.25", "1e3", "42", "7", "100", "0.5", "1e-7",
                "65536", "-17"]
LIVE_EXPIRE = 1.0  # seconds; tasks reading the live source expire after this


class TesterError(Exception):
    pass


# --------------------------------------------------------------------------- generation

def gen_flow(rng, max_tasks, allowed=None):
    """A random flow: a dict describing tasks, params, files and sub-flows."""
    n = rng.randint(3, max(3, max_tasks))
    nparams = rng.randint(1, 4)
    params = {}
    for i in range(nparams):
        params["p%d" % i] = rng.choice(SMALL_VALUES)
    big = "pbig"
    params[big] = BIG_PAIRS[rng.randrange(len(BIG_PAIRS))][0]
    subflows = []
    if n >= 5 and rng.random() < 0.6:
        subflows.append({"name": "s0", "tasks": ["a", "b"] if rng.random() < 0.5 else ["a", "b", "c"]})
    tasks = []
    live_done = False
    for i in range(n):
        name = "t%d" % i
        t = {"name": name, "kind": "task", "after": [], "params": [], "files": [],
             "keep": "all", "expire": None, "volatile": False, "publish": None,
             "live": False, "salt": 0, "comment": 0, "inline": False, "outs": rng.randint(1, 2),
             "exec": rng.random() < 0.2}
        if i > 0:
            k = rng.choice([1, 1, 1, 2, 2, 3])
            t["after"] = sorted(set(rng.sample(range(i), min(k, i))))
            t["after"] = ["t%d" % j for j in t["after"]]
        t["params"] = sorted(set(rng.sample(sorted(params), rng.randint(0, min(2, len(params))))))
        if rng.random() < 0.35:
            t["files"] = ["data/%s.txt" % name]
        r = rng.random()
        if i < n - 1 and r < 0.2 and (allowed is None or "ephemeral" in allowed):
            t["keep"] = "none"
        if not live_done and i < n - 1 and (i == 0 or rng.random() < 0.3):
            t["live"] = True
            live_done = True
            if rng.random() < 0.7:
                t["expire"] = "1s"
            else:
                t["volatile"] = True
        elif rng.random() < 0.1:
            t["expire"] = rng.choice(["1h", "30d", "90s"])
        elif rng.random() < 0.05:
            t["volatile"] = True
        if rng.random() < 0.3:
            t["publish"] = rng.choice(["pub/{task}", "pub/{task}-{key:8}", "pub/{params.p0}/{task}/",
                                       "pub/{task}.d/"])
        if rng.random() < 0.1 and not t["live"] and not t["files"]:
            t["inline"] = True
        tasks.append(t)
    # Sub-flow nodes replace some tasks' roles: a node after some task, read by others.
    for sf in subflows:
        for inc in range(rng.randint(1, 2)):
            node = {"name": "sub%d" % inc, "kind": "sub", "flow": sf["name"],
                    "with": rng.choice(["{params.p0}", "lit%d" % rng.randint(0, 2)]),
                    "after": []}
            tasks.insert(rng.randint(1, len(tasks) - 1), node)
    # A sub-flow node can not have after (it takes only flow and with); tasks after it.
    names = [t["name"] for t in tasks]
    for idx, t in enumerate(tasks):
        if t["kind"] == "task":
            earlier = names[:idx]
            t["after"] = [a for a in t["after"] if a in earlier]
            subs = [s for s in earlier if s.startswith("sub")]
            if subs and rng.random() < 0.6:
                t["after"] = sorted(set(t["after"] + [rng.choice(subs)]))
    return {"params": params, "tasks": tasks, "subflows": subflows}


def gen_step(rng, flow, allowed):
    """One step: a class and its actions, as absolute changes (so any subset replays)."""
    classes = [c for c in CLASSES if c in allowed and WEIGHTS[c]]
    weights = [WEIGHTS[c] for c in classes]
    cls = rng.choices(classes, weights)[0]
    plain = [t for t in flow["tasks"] if t["kind"] == "task"]
    names = [t["name"] for t in flow["tasks"]]
    st = {"cls": cls}
    if cls in ("cosmetic", "code"):
        t = rng.choice(plain)
        st["task"] = t["name"]
        st["value"] = rng.randint(1, 5)
        if flow["subflows"] and rng.random() < 0.25:
            sf = flow["subflows"][0]
            st["task"] = "%s/%s" % (sf["name"], rng.choice(sf["tasks"]))
    elif cls == "param":
        p = rng.choice(sorted(k for k in flow["params"] if k != "pbig"))
        st.update(param=p, value=rng.choice(SMALL_VALUES), where=rng.choice(["file", "cli", "file"]))
    elif cls == "bigparam":
        pair = BIG_PAIRS[rng.randrange(len(BIG_PAIRS))]
        st.update(param="pbig", value=rng.choice(pair), where=rng.choice(["file", "cli"]))
    elif cls == "file":
        with_files = [t for t in plain if t["files"]]
        t = rng.choice(with_files or plain)
        st.update(task=t["name"], value=rng.randint(0, 6))
    elif cls == "live":
        st["value"] = rng.randint(0, 1 << 30)
    elif cls == "invalidate":
        st.update(task=rng.choice(names), mode=rng.choice(["", "--downstream", "--upstream"]))
    elif cls == "gc":
        st["keep_runs"] = rng.choice([None, 1, 3])
    elif cls == "gcmax":
        st["size"] = rng.choice(["1", "200", "1K", "4K"])
    elif cls in ("corrupt", "delete", "plant"):
        st["pick"] = rng.randrange(1 << 30)
        st["how"] = rng.choice(["flip", "truncate", "append"]) if cls == "corrupt" else \
            rng.choice(["object", "view", "object"])
        if cls == "plant":
            st["edit"] = rng.randrange(1 << 30)
    elif cls == "kill":
        st["delay"] = round(rng.uniform(0.0, 0.25), 3)
        st["edit"] = rng.choice(plain)["name"]
        st["value"] = rng.randint(6, 1 << 20)
    elif cls == "concurrent":
        st["edit"] = rng.choice(plain)["name"]
        st["value"] = rng.randint(6, 1 << 20)
        st["delay"] = round(rng.uniform(0.0, 0.05), 3)
    elif cls == "racegc":
        st["delay"] = round(rng.uniform(0.0, 0.08), 3)
        st["gc_first"] = rng.random() < 0.5
        st["max_size"] = rng.choice([None, "1"])
        st["edit"] = rng.choice(plain)["name"]
        st["value"] = rng.randint(6, 1 << 20)
    elif cls == "unpublish":
        st["pick"] = rng.randrange(1 << 30)
    return st


def gen_case(seed, nsteps, max_tasks, allowed):
    rng = random.Random(seed)
    flow = gen_flow(rng, max_tasks, allowed)
    flow["ephemeral"] = "ephemeral" in allowed
    steps = [gen_step(rng, flow, allowed) for _ in range(nsteps)]
    if "matrix" in allowed:
        gen_matrix(random.Random(seed * 7919 + 17), flow, steps)
    return flow, steps


MATRIX_VALUES = ["A", "B", "C", "D"]


def gen_matrix(mrng, flow, steps):
    """Matrix tasks from their own random stream (a seed's base flow stays the same): m0
    over {params.plist} after a task, m1 paired with it, g0 gathering every m0 instance;
    some steps become `matrixval` (a value added, removed or the list reordered)."""
    flow["params"]["plist"] = json.dumps(mrng.sample(MATRIX_VALUES, mrng.randint(1, 3)))
    up = mrng.choice([t["name"] for t in flow["tasks"] if t["kind"] == "task"])
    base = {"kind": "matrix", "files": [], "keep": "all", "expire": None, "volatile": False,
            "publish": None, "live": False, "inline": False, "exec": False, "params": []}
    flow["tasks"].append(dict(base, name="m0", after=[up], outs=mrng.randint(1, 2)))
    flow["tasks"].append(dict(base, name="m1", after=["m0"], outs=1))
    flow["tasks"].append(dict(base, name="g0", kind="gather", after=["m0"], outs=1))
    # Two variables, paired with m0 on s; a partial gather of its k=x instances.
    flow["tasks"].append(dict(base, name="m2", after=["m0"], outs=1, ks=["x", "y"]))
    flow["tasks"].append(dict(base, name="g1", kind="gather", after=["m2@*,x"], outs=1))
    # A matrix sub-flow node (ms@V/a, ms@V/b) and a gather of its inner task and output.
    flow["tasks"].append({"name": "ms", "kind": "msub", "after": []})
    flow["tasks"].append(dict(base, name="g2", kind="gather", after=["ms/a", "ms"], outs=1))
    for i in range(len(steps)):
        r = mrng.random()
        if r < 0.2:
            steps[i] = {"cls": "matrixval",
                        "value": json.dumps(mrng.sample(MATRIX_VALUES, mrng.randint(1, 4)))}
        elif r < 0.3:
            steps[i] = {"cls": mrng.choice(["code", "cosmetic"]),
                        "task": mrng.choice(["m0", "m2", "g1", "ms/a", "ms/b"]),
                        "value": mrng.randint(1, 5)}


# --------------------------------------------------------------------------- the project

SCRIPT = r"""# task {tid}
set -e
echo "{tid} $*" >>"$RUNS"
{{
  echo "task {tid} salt {salt}"
  for a in "$@"; do echo "arg [$a]"; done
{body}
}} >"$OUT/out.txt"
{extra}
"""


def in_var(name):
    return "IN_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def read_inputs_sh(vars_, follow=False):
    # A gather's input holds one entry per instance (followed: they may be links).
    find = "find -L . -type f" if follow else "find . -type f -o -type l"
    lines = []
    for v in vars_:
        lines.append('  echo "== %%s"; (cd "$%%s" && %s | LC_ALL=C sort | '
                     'while read -r f; do echo "-- $f"; cat "$f"; done)' % find % (v, v))
    return "\n".join(lines)


class Project:
    """The work tree of a case: flow.json, scripts, data, sub-flows, the live source."""

    def __init__(self, root, flow, live_path):
        self.root = root
        self.flow = flow
        self.live_path = live_path
        self.cli_params = {}
        self.code_state = {}   # task id -> (salt, comment)
        self.file_state = {}   # task name -> value
        self.params = dict(flow["params"])

    def path(self, *p):
        return os.path.join(self.root, *p)

    def write(self, rel, text, mode=None):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.exists(p):
            os.chmod(p, 0o644)
        with open(p, "w") as f:
            f.write(text)
        if mode:
            os.chmod(p, mode)

    def script(self, tid, after_vars, files, live, salt, comment, outs, exe, args_note="",
               follow=False):
        body = [read_inputs_sh(after_vars, follow)]
        for f in files:
            body.append('  echo "== file %s"; cat "%s"' % (f, f))
        if live:
            body.append('  echo "== live"; cat "%s"' % live)
        extra = []
        if outs > 1:
            extra.append('mkdir -p "$OUT/d"; echo "second {tid} {salt}" >"$OUT/d/two"'
                         .format(tid=tid, salt=salt))
        if exe:
            extra.append('printf "#!/bin/sh\\necho {tid}\\n" >"$OUT/run.sh"; chmod +x "$OUT/run.sh"'
                         .format(tid=tid))
        text = SCRIPT.format(tid=tid, salt=salt, body="\n".join(b for b in body if b),
                             extra="\n".join(extra))
        text += "".join("# cosmetic comment %d\n" % i for i in range(comment))
        return text

    def task_entry(self, t):
        if t["kind"] == "msub":
            return {"flow": "flows/ms.json", "matrix": {"s": "{params.plist}"},
                    "with": {"v": "{matrix.s}"}}
        if t["kind"] in ("matrix", "gather"):
            margs = ""
            if t["kind"] == "matrix":
                margs = " '{matrix.s}'" + (" '{matrix.u}'" if t.get("ks") else "")
            e = {"run": "sh code/%s.sh%s" % (t["name"], margs),
                 "code": ["code/%s.sh" % t["name"]], "after": t["after"]}
            if t["kind"] == "matrix":
                e["matrix"] = {"s": "{params.plist}"}
                if t.get("ks"):
                    e["matrix"]["u"] = t["ks"]  # after s in sorted keys: names are m2@S,U
            return e
        if t["kind"] == "sub":
            return {"flow": "flows/%s.json" % t["flow"], "with": {"v": t["with"]}}
        e = {}
        args = " ".join("'{params.%s}'" % p for p in t["params"])
        vars_ = [in_var(a) for a in t["after"]]
        if t["inline"]:
            salt, _ = self.code_state.get(t["name"], (0, 0))
            e["run"] = ('echo "%s $*" >>"$RUNS"; { echo inline %s salt %d %s; %s } >"$OUT/out.txt"'
                        % (t["name"], t["name"], salt, args.replace("'", ""),
                           read_inputs_sh(vars_).strip() + ";" if vars_ else ""))
        else:
            e["run"] = ("sh code/%s.sh %s" % (t["name"], args)).strip()
            e["code"] = ["code/%s.sh" % t["name"]]
        if t["after"]:
            e["after"] = t["after"]
        if t["files"]:
            e["files"] = t["files"]
        if t["keep"] != "all":
            e["keep"] = t["keep"]
        if t["expire"]:
            e["expire"] = t["expire"]
        if t["volatile"]:
            e["volatile"] = True
        if t["publish"]:
            e["publish"] = t["publish"]
        return e

    def render_flow(self):
        # Numbers are written as they are typed, so the flow file holds the exact text.
        parts = []
        for k, v in self.params.items():
            parts.append('    "%s": %s' % (k, v))
        tasks = []
        for t in self.flow["tasks"]:
            tasks.append('    "%s": %s' % (t["name"], json.dumps(self.task_entry(t), sort_keys=True)))
        return ('{\n  "name": "difftest",\n  "params": {\n%s\n  },\n  "tasks": {\n%s\n  }\n}\n'
                % (",\n".join(parts), ",\n".join(tasks)))

    def render_script(self, t):
        salt, comment = self.code_state.get(t["name"], (0, 0))
        return self.script(t["name"], [in_var(a) for a in t["after"]], t["files"],
                           self.live_path if t["live"] else None, salt, comment, t["outs"], t["exec"],
                           follow=t["kind"] == "gather")

    def render_subflow(self, sf):
        tasks = {}
        prev = None
        for i, name in enumerate(sf["tasks"]):
            e = {"run": "sh %s_%s.sh '{params.v}'" % (sf["name"], name),
                 "code": ["%s_%s.sh" % (sf["name"], name)]}
            if prev:
                e["after"] = [prev]
            if i == 0 and len(sf["tasks"]) > 2 and self.flow.get("ephemeral", True):
                e["keep"] = "none"
            tasks[name] = e
            prev = name
        return json.dumps({"name": sf["name"], "params": {"v": "x"}, "tasks": tasks},
                          indent=2, sort_keys=True) + "\n"

    def render_msub_script(self, name):
        tid = "ms/%s" % name
        salt, comment = self.code_state.get(tid, (0, 0))
        return self.script(tid, [in_var("a")] if name == "b" else [], [], None, salt, comment, 1,
                           False)

    def render_sub_script(self, sf, name):
        tid = "%s/%s" % (sf["name"], name)
        salt, comment = self.code_state.get(tid, (0, 0))
        i = sf["tasks"].index(name)
        vars_ = [in_var(sf["tasks"][i - 1])] if i > 0 else []
        return self.script(tid, vars_, [], None, salt, comment, 1, False)

    def write_all(self):
        self.write("flow.json", self.render_flow())
        for t in self.flow["tasks"]:
            if t["kind"] in ("matrix", "gather"):
                self.write("code/%s.sh" % t["name"], self.render_script(t))
            if t["kind"] == "msub":
                self.write("flows/ms.json", json.dumps(
                    {"name": "ms", "params": {"v": "x"},
                     "tasks": {"a": {"run": "sh ms_a.sh '{params.v}'", "code": ["ms_a.sh"]},
                               "b": {"run": "sh ms_b.sh '{params.v}'", "code": ["ms_b.sh"],
                                     "after": ["a"]}}}, indent=2, sort_keys=True) + "\n")
                for n in ("a", "b"):
                    self.write("flows/ms_%s.sh" % n, self.render_msub_script(n))
            if t["kind"] == "task":
                if not t["inline"]:
                    self.write("code/%s.sh" % t["name"], self.render_script(t))
                for f in t["files"]:
                    self.write(f, "data for %s: %d\n" % (t["name"], self.file_state.get(t["name"], 0)))
        for sf in self.flow["subflows"]:
            self.write("flows/%s.json" % sf["name"], self.render_subflow(sf))
            for name in sf["tasks"]:
                self.write("flows/%s_%s.sh" % (sf["name"], name), self.render_sub_script(sf, name))

    def content_key(self):
        """A digest of everything a from-scratch run depends on (work tree, -p, live)."""
        h = hashlib.sha256()
        for dirpath, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in (".git", ".sluice", "pub"))
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                h.update(os.path.relpath(p, self.root).encode() + b"\0")
                with open(p, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
        h.update(json.dumps(self.cli_params, sort_keys=True).encode())
        with open(self.live_path, "rb") as fh:
            h.update(fh.read())
        return h.hexdigest()


# --------------------------------------------------------------------------- bytes

def tree_digest(path):
    """Content digest of a file or directory tree (paths, exec bits, bytes), or None."""
    if not os.path.lexists(path):
        return None
    h = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return "file:" + hashlib.sha256(f.read()).hexdigest()
    entries = []
    for dirpath, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, path)
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                data = ("unreadable: %s" % e).encode()
            entries.append((rel, os.access(p, os.X_OK) and not os.path.isdir(p), data))
    for rel, x, data in sorted(entries):
        h.update(rel.encode() + b"\0" + (b"x" if x else b"-") + hashlib.sha256(data).digest())
    return "tree:" + h.hexdigest()


def tree_text(path, limit=20000):
    """The tree's contents as text, for a mismatch report."""
    if not os.path.lexists(path):
        return "(missing)"
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return f.read(limit).decode(errors="replace")
    out = []
    for dirpath, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            try:
                with open(p, "rb") as fh:
                    out.append("[%s]\n%s" % (os.path.relpath(p, path),
                                             fh.read(limit).decode(errors="replace")))
            except OSError as e:
                out.append("[%s] %s" % (os.path.relpath(p, path), e))
    return "\n".join(out)[:limit]


def short_diff(want, got, lines=14):
    d = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "fresh run", "sluice",
                                  n=1, lineterm=""))
    if len(d) > lines:
        d = d[:lines] + ["... (%d more diff lines)" % (len(d) - lines)]
    return "\n".join("      " + x for x in d)


# --------------------------------------------------------------------------- running

class Case:
    """One case: a flow, its steps, a long-lived store, and the oracle's answers."""

    def __init__(self, args, seed, flow, steps, workdir, verbose=False):
        self.args = args
        self.seed = seed
        self.flow = flow
        self.steps = steps
        self.work = workdir
        self.verbose = verbose
        self.proj_dir = os.path.join(workdir, "proj")
        self.live_path = os.path.join(workdir, "live", "source.txt")
        self.runs_log = os.path.join(workdir, "runs.log")
        self.oracle_log = os.path.join(workdir, "oracle-runs.log")
        self.proj = Project(self.proj_dir, flow, self.live_path)
        self.oracle_cache = {}
        self.report = []          # findings
        self.stats = {"steps": 0, "runs": 0, "executed": 0, "needed": 0, "excused": 0,
                      "unneeded": 0, "wrong": 0, "failed": 0}
        self.seen_ck = {}         # content key -> time it was last computed
        self.epoch = 0            # bumped when the store loses bytes
        self.ck_epoch = {}
        self.excused_ck = {}      # content key -> reason a re-run is fine
        self.lie = False          # --inject lie
        self.cur_step = -1
        self.allowed = allowed_classes(args)
        self.param_reported = set()
        self.env = dict(os.environ, NO_COLOR="1", RUNS=self.runs_log)
        self.env.pop("SLUICE_STORE", None)
        self.env.pop("SLUICE_TEST_HOOK", None)

    # -- plumbing
    def sluice(self, *argv, cwd=None, env=None, timeout=120):
        cmd = [self.args.sluice] + list(argv)
        p = subprocess.run(cmd, cwd=cwd or self.proj_dir, env=env or self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")

    def popen(self, *argv):
        return subprocess.Popen([self.args.sluice] + list(argv), cwd=self.proj_dir, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def git(self, *argv):
        subprocess.run(["git"] + list(argv), cwd=self.proj_dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pflags(self):
        out = []
        for k, v in sorted(self.proj.cli_params.items()):
            out += ["-p", "%s=%s" % (k, v)]
        return out

    def dropped(self, digest):
        """Whether sluice's database says gc removed this output's bytes."""
        db = sqlite3.connect(os.path.join(self.store(), "sluice.db"))
        try:
            row = db.execute("select dropped from outputs where digest = ?", (digest,)).fetchone()
        finally:
            db.close()
        return bool(row and row[0])

    def store(self):
        return os.path.join(self.proj_dir, ".sluice")

    def db_query(self, store, q):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(store, "sluice.db"), uri=True,
                              timeout=10)
        try:
            return con.execute(q).fetchall()
        finally:
            con.close()

    def runs_lines(self):
        try:
            with open(self.runs_log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    # -- setup
    def setup(self):
        os.makedirs(os.path.dirname(self.live_path), exist_ok=True)
        with open(self.live_path, "w") as f:
            f.write("live 0\n")
        os.makedirs(self.proj_dir)
        self.proj.write_all()
        self.git("init", "-q", ".")
        self.git("config", "user.email", "d@example.com")
        self.git("config", "user.name", "difftest")
        self.git("config", "commit.gpgsign", "false")
        with open(os.path.join(self.proj_dir, ".git", "info", "exclude"), "a") as f:
            f.write(".sluice\npub\n")
        self.git("add", "-A", ".")
        self.git("commit", "-qm", "initial")

    # -- the oracle
    def oracle(self):
        key = self.proj.content_key()
        if key in self.oracle_cache:
            return self.oracle_cache[key]
        odir = tempfile.mkdtemp(prefix="oracle-", dir=self.work)
        oproj = os.path.join(odir, "proj")
        shutil.copytree(self.proj_dir, oproj, symlinks=True,
                        ignore=shutil.ignore_patterns(".sluice", "pub", ".git"))
        env = dict(self.env, RUNS=self.oracle_log)
        names = [inst[0] for inst in self.instances()]
        rc, out = self.sluice("run", *names, *self.pflags(), cwd=oproj, env=env)
        if rc != 0:
            raise TesterError("oracle run failed (%d): %s" % (rc, out))
        rc, out = self.sluice("show", "last", "--json", cwd=oproj, env=env)
        show = json.loads(out)
        res = {"tasks": {}, "pubs": {}, "text": {}}
        for t in show["tasks"]:
            d = t.get("output_digest")
            v = os.path.join(oproj, ".sluice", "views", d) if d else None
            res["tasks"][t["name"]] = tree_digest(v) if v else None
            res["text"][t["name"]] = tree_text(v) if v else "(none)"
        for path, task in self.db_query(os.path.join(oproj, ".sluice"),
                                        "select path, task from publications"):
            rel = os.path.relpath(path, oproj)
            res["pubs"][rel] = (tree_digest(path), task)
        res["cks"] = self.content_keys(res)
        res["param_errors"] = self.param_text_errors(res)
        self.oracle_cache[key] = res
        shutil.rmtree(odir, ignore_errors=True)
        if os.path.exists(odir):
            subprocess.run(["chmod", "-R", "u+w", odir])
            shutil.rmtree(odir, ignore_errors=True)
        return res

    def param_text_errors(self, res):
        """Parameters must reach the command exactly as written (PRODUCT.md 3): each
        script prints its arguments, so the fresh run's bytes show what it was given."""
        errs = []
        for t in self.flow["tasks"]:
            if t["kind"] != "task" or t["inline"] or not t["params"]:
                continue
            text = res["text"].get(t["name"], "")
            got = [l[5:-1] for l in text.splitlines() if l.startswith("arg [") and l.endswith("]")]
            want = [str(self.proj.cli_params.get(p, self.proj.params[p])) for p in t["params"]]
            if got[:len(want)] != want:
                errs.append("task %s: parameters written as %s reached the command as %s"
                            % (t["name"], want, got[:len(want)]))
        return errs

    def instances(self):
        """(sluice name, execution id, static description, upstream names, task) per task."""
        out = []
        names = {t["name"]: t for t in self.flow["tasks"]}
        sfs = {sf["name"]: sf for sf in self.flow["subflows"]}

        def param(p):
            return str(self.proj.cli_params.get(p, self.proj.params[p]))

        def resolve_up(a):
            t = names[a]
            if t["kind"] == "sub":
                return "%s/%s" % (a, sfs[t["flow"]]["tasks"][-1])
            return a
        plist = json.loads(param("plist")) if "plist" in self.proj.params else []
        for t in self.flow["tasks"]:
            if t["kind"] in ("matrix", "gather"):
                desc = [t["name"], json.dumps(self.proj.task_entry(t), sort_keys=True),
                        self.proj.render_script(t)]
                if t["kind"] == "gather":
                    ups = []
                    for a in t["after"]:
                        ups += {"m0": ["m0@%s" % v for v in sorted(plist)],
                                "m2@*,x": ["m2@%s,x" % v for v in sorted(plist)],
                                "ms/a": ["ms@%s/a" % v for v in sorted(plist)],
                                "ms": ["ms@%s/b" % v for v in sorted(plist)]}[a]
                    out.append((t["name"], t["name"], desc, ups, dict(t, args="")))
                    continue
                for v in plist:
                    ups = [resolve_up(a) if a != "m0" else "m0@" + v for a in t["after"]]
                    for k in t.get("ks") or [None]:
                        inst = v if k is None else "%s,%s" % (v, k)
                        out.append(("%s@%s" % (t["name"], inst), t["name"], desc + [inst], ups,
                                    dict(t, args=v if k is None else "%s %s" % (v, k))))
                continue
            if t["kind"] == "msub":
                for v in plist:
                    for i, n in enumerate(("a", "b")):
                        out.append(("ms@%s/%s" % (v, n), "ms/" + n,
                                    ["ms/" + n, v, self.proj.render_msub_script(n)],
                                    ["ms@%s/a" % v] if i else [],
                                    {"keep": "all", "expire": None, "volatile": False,
                                     "live": False, "args": v}))
                continue
            if t["kind"] == "sub":
                sf = sfs[t["flow"]]
                v = t["with"].replace("{params.p0}", param("p0"))
                for i, n in enumerate(sf["tasks"]):
                    tid = "%s/%s" % (sf["name"], n)
                    desc = [tid, v, self.proj.render_sub_script(sf, n)]
                    ups = ["%s/%s" % (t["name"], sf["tasks"][i - 1])] if i > 0 else []
                    out.append(("%s/%s" % (t["name"], n), tid, desc, ups,
                                {"keep": "none" if i == 0 and len(sf["tasks"]) > 2
                                 and self.flow.get("ephemeral", True) else "all",
                                 "expire": None, "volatile": False, "live": False, "args": v}))
            else:
                desc = [t["name"], [param(p) for p in t["params"]],
                        json.dumps(self.proj.task_entry(t), sort_keys=True)]
                if not t["inline"]:
                    desc.append(self.proj.render_script(t))
                for f in t["files"]:
                    with open(self.proj.path(f)) as fh:
                        desc.append(fh.read())
                if t["live"]:
                    with open(self.live_path) as fh:
                        desc.append(fh.read())
                out.append((t["name"], t["name"], desc, [resolve_up(a) for a in t["after"]], t))
        return out

    def content_keys(self, res):
        """Each task's content key: its own inputs and its upstreams' oracle bytes."""
        cks = {}
        for name, tid, desc, ups, t in self.instances():
            h = hashlib.sha256(json.dumps(desc).encode())
            for u in ups:
                h.update(str(res["tasks"].get(u)).encode())
            cks[name] = (tid, h.hexdigest(), t)
        return cks

    # -- steps
    def apply(self, st):
        """Applies a step's changes; returns how the run is done."""
        cls = st["cls"]
        p = self.proj
        if cls in ("cosmetic", "code"):
            salt, comment = p.code_state.get(st["task"], (0, 0))
            if cls == "cosmetic":
                comment = st["value"]
            else:
                salt = st["value"]
            p.code_state[st["task"]] = (salt, comment)
            p.write_all()
        elif cls in ("param", "bigparam"):
            if st["where"] == "cli":
                p.cli_params[st["param"]] = st["value"]
            else:
                p.cli_params.pop(st["param"], None)
                p.params[st["param"]] = st["value"]
                p.write_all()
        elif cls == "matrixval":
            p.cli_params.pop("plist", None)
            p.params["plist"] = st["value"]
            p.write_all()
        elif cls == "file":
            p.file_state[st["task"]] = st["value"]
            p.write_all()
        elif cls == "live":
            with open(self.live_path, "w") as f:
                f.write("live %d\n" % st["value"])
            # The rule (README): the live source changes only together with the clock
            # passing every expiry of a task that reads it.
            time.sleep(LIVE_EXPIRE + 0.3)
        elif cls == "invalidate":
            argv = ["invalidate", st["task"]] + ([st["mode"]] if st["mode"] else [])
            # invalidate takes no -p: it works on the flow file's parameters
            rc, out = self.sluice(*argv)
            if rc != 0 and "no " not in out and "nothing" not in out:
                self.finding("failed", st, "sluice %s exited %d: %s" % (" ".join(argv), rc, out))
            self.note_invalidation(st)
        elif cls == "undo":
            rows = []
            if os.path.exists(os.path.join(self.store(), "sluice.db")):
                rows = self.db_query(self.store(),
                                     "select id from invalidations where undone is null order by id desc")
            if rows:
                rc, out = self.sluice("invalidate", "--undo", str(rows[0][0]))
                if rc != 0:
                    self.finding("failed", st, "invalidate --undo exited %d: %s" % (rc, out))
        elif cls == "gc":
            argv = ["gc"] + (["--keep-runs", str(st["keep_runs"])] if st["keep_runs"] else [])
            rc, out = self.sluice(*argv)
            if rc != 0:
                self.finding("failed", st, "sluice gc exited %d: %s" % (rc, out))
        elif cls == "gcmax":
            rc, out = self.sluice("gc", "--max-size", st["size"])
            if rc != 0:
                self.finding("failed", st, "sluice gc --max-size exited %d: %s" % (rc, out))
        elif cls in ("corrupt", "delete", "plant"):
            self.damage(st)
        elif cls == "commit":
            self.git("add", "-A", ".")
            self.git("commit", "-qm", "step", "--allow-empty")
        elif cls == "unpublish":
            pubs = sorted(os.listdir(self.proj.path("pub"))) if os.path.isdir(self.proj.path("pub")) else []
            if pubs:
                victim = self.proj.path("pub", pubs[st["pick"] % len(pubs)])
                subprocess.run(["chmod", "-R", "u+w", victim])
                if os.path.isdir(victim) and not os.path.islink(victim):
                    shutil.rmtree(victim)
                else:
                    os.unlink(victim)
        elif cls in ("kill", "concurrent", "racegc"):
            salt, comment = p.code_state.get(st["edit"], (0, 0))
            p.code_state[st["edit"]] = (st["value"], comment)
            p.write_all()

    def note_invalidation(self, st):
        res = self.oracle()
        cks = res["cks"]
        names = [n for n in cks]
        sel = [n for n in names if n == st["task"] or n.startswith(st["task"] + "/")]
        down = self.closure(sel, up=False) if st["mode"] == "--downstream" else set()
        up = self.closure(sel, up=True) if st["mode"] == "--upstream" else set()
        for n in set(sel) | down | up:
            self.excused_ck[cks[n][1]] = "invalidated"

    def closure(self, sel, up):
        edges = {name: ups for name, tid, desc, ups, t in self.instances()}
        # a sub-flow node's name stands for its output task
        out = set()
        todo = list(sel)
        while todo:
            n = todo.pop()
            nxt = edges.get(n, []) if up else [m for m, ups in edges.items() if n in ups]
            for m in nxt:
                if m not in out:
                    out.add(m)
                    todo.append(m)
        return out

    def damage(self, st):
        store = self.store()
        cls = st["cls"]
        if cls == "plant" or st.get("how") == "view":
            base = os.path.join(store, "views")
            items = sorted(os.listdir(base)) if os.path.isdir(base) else []
            if not items:
                return
            v = os.path.join(base, items[st["pick"] % len(items)])
            os.chmod(v, 0o755)
            if cls == "plant":
                with open(os.path.join(v, "planted.txt"), "w") as f:
                    f.write("planted\n")
                os.chmod(v, 0o555)
                # Something downstream must run to read it: a real edit of a task.
                plain = [t for t in self.flow["tasks"] if t["kind"] == "task"]
                t = plain[st["edit"] % len(plain)]
                salt, comment = self.proj.code_state.get(t["name"], (0, 0))
                self.proj.code_state[t["name"]] = (1000 + st["edit"] % 1000, comment)
                self.proj.write_all()
            else:
                subprocess.run(["chmod", "-R", "u+w", v])
                shutil.rmtree(v)
            return
        objs = []
        base = os.path.join(store, "objects")
        for dirpath, dirs, files in os.walk(base):
            dirs.sort()
            objs += [os.path.join(dirpath, f) for f in sorted(files)]
        if not objs:
            return
        o = objs[st["pick"] % len(objs)]
        if cls == "delete":
            os.unlink(o)
            return
        mode = os.stat(o).st_mode
        os.chmod(o, 0o644)
        with open(o, "rb") as f:
            data = f.read()
        if st["how"] == "flip" and data:
            data = bytes([data[0] ^ 0x20]) + data[1:]
        elif st["how"] == "truncate":
            data = data[: len(data) // 2]
        else:
            data += b"x"
        with open(o, "wb") as f:
            f.write(data)
        os.chmod(o, mode & 0o7777)

    def latest_runs(self, n):
        if not os.path.exists(os.path.join(self.store(), "sluice.db")):
            return []
        return [r[0] for r in self.db_query(self.store(),
                                            "select id from runs order by id desc limit %d" % n)]

    def run_once(self):
        return self.sluice("run", *self.pflags())

    def do_runs(self, st):
        """The step's run(s) on the long-lived store: [(rc, output, run id)]."""
        cls = st["cls"]
        before = set(self.latest_runs(5))
        results = []
        if cls == "kill":
            p = self.popen("run", *self.pflags())
            time.sleep(st["delay"])
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
            rc, out = self.run_once()
            results.append((rc, out))
        elif cls == "concurrent":
            a = self.popen("run", *self.pflags())
            time.sleep(st["delay"])
            b = self.popen("run", *self.pflags())
            for p in (a, b):
                out = p.communicate(timeout=120)[0].decode(errors="replace")
                results.append((p.returncode, out))
        elif cls == "racegc":
            gc_argv = ["gc"] + (["--max-size", st["max_size"]] if st["max_size"] else [])
            first, second = (gc_argv, ["run"] + self.pflags())
            if not st["gc_first"]:
                first, second = second, first
            a = self.popen(*first)
            time.sleep(st["delay"])
            b = self.popen(*second)
            outs = {}
            for argv, p in ((first, a), (second, b)):
                outs[argv[0]] = (p.communicate(timeout=120)[0].decode(errors="replace"), p.returncode)
            results.append((outs["run"][1], outs["run"][0]))
        else:
            results.append(self.run_once())
        ids = [i for i in self.latest_runs(5) if i not in before]
        return results, sorted(ids)

    def compare(self, st, run_id, res):
        rc, out = self.sluice("show", str(run_id), "--json")
        if rc != 0:
            self.finding("failed", st, "sluice show %s exited %d: %s" % (run_id, rc, out))
            return
        show = json.loads(out)
        targets = show["run"]["targets"]
        by = {t["name"]: t for t in show["tasks"]}
        self.reached |= set(by)
        for name in targets:
            t = by.get(name)
            if t is None or not t.get("output_digest"):
                self.finding("failed", st, "run %s: target %s has no output" % (run_id, name))
                continue
            v = os.path.join(self.store(), "views", t["output_digest"])
            if st["cls"] == "racegc" and not os.path.isdir(v) and self.dropped(t["output_digest"]):
                continue  # a gc that ran after the run took the bytes: no lie, nothing to read
            if self.lie and os.path.isfile(os.path.join(v, "out.txt")):
                # --inject lie: the store serves other bytes once, as a lying cache would
                self.lie = False
                f = os.path.join(v, "out.txt")
                os.chmod(f, 0o644)
                with open(f, "a") as fh:
                    fh.write("a lie\n")
            got = tree_digest(v)
            want = res["tasks"].get(name)
            if got != want:
                self.finding("wrong", st, "run %s: target %s (%s) differs from a fresh run:\n%s"
                             % (run_id, name, t["decision"],
                                short_diff(res["text"].get(name, ""), tree_text(v))))

    def compare_pubs(self, st, res, reached):
        names = {t["name"]: t for t in self.flow["tasks"]}
        for rel, (want, task) in sorted(res["pubs"].items()):
            t = names.get(task, {})
            if task not in reached and t.get("expire") == "1s":
                # README "What is kept": a publication of a task the run does not reach
                # is put right from its entry, but "an expired output is left alone".
                continue
            got = tree_digest(self.proj.path(rel))
            if got != want:
                self.finding("wrong", st, "published %s differs from a fresh run (%s)"
                             % (rel, "missing" if got is None else "other bytes"))

    def finding(self, kind, st, text):
        self.stats["wrong" if kind == "wrong" else "failed"] += 1
        self.report.append({"kind": kind, "step": self.cur_step, "cls": st["cls"], "text": text})
        if self.verbose:
            print("  %s at step %d (%s): %s" % (kind.upper(), self.cur_step, st["cls"], text))

    def account(self, st, lines, res):
        """Executions vs. what was needed; re-runs without an excuse are listed."""
        cks = res["cks"]
        by_tid = {}
        for name, (tid, ck, t) in cks.items():
            by_tid.setdefault(tid, []).append((name, ck, t))
        now = time.time()
        judged = st["cls"] not in DESTRUCTIVE
        done_now = set()
        for line in lines:
            tid = line.split(" ", 1)[0]
            cands = by_tid.get(tid, [])
            if not cands:
                continue  # an execution of an older version (killed run, stale)
            self.stats["executed"] += 1
            # Includes of one sub-flow share the script: their arguments (the value of
            # `with`) tell them apart; then prefer the instance whose key is new.
            args_ = line.split(" ", 1)[1] if " " in line else ""
            cands = sorted(cands, key=lambda c: (c[2].get("args") not in (None, args_),
                                                 c[1] in self.seen_ck or c[1] in done_now))
            name, ck, t = cands[0]
            if ck not in self.seen_ck and ck not in done_now:
                self.stats["needed"] += 1
            elif ck in done_now and st["cls"] != "kill" and not t.get("volatile"):
                self.unneeded(st, name, "executed twice in one step")
            else:
                why = self.excuse(ck, t, now, st)
                if why or not judged:
                    self.stats["excused"] += 1
                else:
                    self.unneeded(st, name, "same inputs as an earlier run, nothing lost since")
            done_now.add(ck)
            self.excused_ck.pop(ck, None)
        for ck in done_now:
            self.seen_ck[ck] = now
            self.ck_epoch[ck] = self.epoch
        if not judged:
            self.epoch += 1

    def excuse(self, ck, t, now, st):
        if t.get("volatile"):
            return "volatile"
        if ck in self.excused_ck:
            return self.excused_ck[ck]
        if self.ck_epoch.get(ck, 0) != self.epoch:
            return "store lost bytes since"
        if t.get("keep") == "none":
            return "not kept"
        if self.expiry(t) is not None and now - self.seen_ck.get(ck, now) >= self.expiry(t) - 1.0:
            return "expired"
        if self.inherits_expiry(t):
            return "upstream expired"
        if st["cls"] in ("racegc",):
            return "raced gc"
        return None

    def expiry(self, t):
        e = t.get("expire")
        if not e:
            return None
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[e[-1]]
        return float(e[:-1]) * unit

    def inherits_expiry(self, t):
        # Lenient: anything downstream of a task with a short expiry may re-run.
        if t.get("kind") != "task":
            return False
        names = {x["name"]: x for x in self.flow["tasks"]}
        todo, seen = list(t["after"]), set()
        while todo:
            a = todo.pop()
            if a in seen:
                continue
            seen.add(a)
            u = names[a]
            if u["kind"] == "task":
                if u.get("expire") == "1s" or u.get("keep") == "none":
                    return True
                todo += u["after"]
        return False

    def unneeded(self, st, name, why):
        self.stats["unneeded"] += 1
        self.report.append({"kind": "unneeded", "step": self.cur_step, "cls": st["cls"],
                            "text": "task %s re-ran: %s" % (name, why)})

    def step(self, i, st):
        self.stats["steps"] += 1
        self.cur_step = i
        if self.verbose:
            print(" step %d: %s" % (i, json.dumps(st, sort_keys=True)))
        self.apply(st)
        n0 = len(self.runs_lines())
        results, ids = self.do_runs(st)
        lines = self.runs_lines()[n0:]
        self.stats["runs"] += len(results)
        res = self.oracle()
        for rc, out in results:
            if rc != 0:
                lines = out.splitlines()
                # Every failed task's line (with its reason), then the end of the output.
                bad = [l for l in lines[:-12] if "\u2717" in l or "error" in l]
                self.finding("failed", st, "sluice run exited %d:\n    %s"
                             % (rc, "\n    ".join(bad + lines[-12:])))
        ok_ids = ids[-len(results):] if results else []
        self.reached = set()
        for run_id in ok_ids:
            self.compare(st, run_id, res)
        self.compare_pubs(st, res, self.reached)
        if "bigparam" in self.allowed:
            for e in res["param_errors"]:
                if e in self.param_reported:
                    continue
                self.param_reported.add(e)
                self.finding("wrong", dict(st, cls="bigparam"), e)
        self.account(st, lines, res)


def run_case(args, seed, steps_subset=None, verbose=False, inject=None, deadline=None):
    allowed = allowed_classes(args)
    flow, steps = gen_case(seed, args.steps, args.max_tasks, allowed)
    work = tempfile.mkdtemp(prefix="difftest-%d-" % seed, dir=args.tmp)
    case = Case(args, seed, flow, steps, work, verbose)
    try:
        case.setup()
        case.step(-1, {"cls": "noop"})  # the first run, checked like every step
        idx = range(len(steps)) if steps_subset is None else steps_subset
        for i in idx:
            st = steps[i]
            case.lie = inject == "lie" and i == idx[0]
            case.step(i, st)
            if deadline is not None and time.time() >= deadline:
                break  # --time is up: the flow ends here
            if case.report and args.stop_early and any(r["kind"] != "unneeded" for r in case.report):
                break
    finally:
        subprocess.run(["chmod", "-R", "u+w", work], stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return case, steps


def bad(case, kinds=("wrong", "failed")):
    return [r for r in case.report if r["kind"] in kinds]


def signature(r):
    return (r["kind"], r["cls"])


def shrink(args, seed, steps_idx, sig, deadline):
    """ddmin over the step indices: the shortest list that still shows `sig`."""
    def fails(sub):
        if time.time() > deadline:
            return False
        for _ in range(2):  # timing-dependent steps: try twice
            c, _ = run_case(args, seed, sub)
            if any(signature(r) == sig for r in bad(c)):
                return True
        return False
    cur = list(steps_idx)
    n = 2
    while len(cur) >= 2 and time.time() < deadline:
        chunk = max(1, len(cur) // n)
        subsets = [cur[i:i + chunk] for i in range(0, len(cur), chunk)]
        reduced = False
        for s in subsets:
            comp = [x for x in cur if x not in s]
            if comp and fails(comp):
                cur, n, reduced = comp, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(cur):
                break
            n = min(len(cur), n * 2)
    return cur


def allowed_classes(args):
    allowed = set(CLASSES)
    if args.only:
        allowed = set(args.only.split(","))
    if args.skip:
        for c in args.skip.split(","):
            if c == "known":
                allowed -= set(KNOWN)
            else:
                allowed.discard(c)
    bad_ = allowed - set(CLASSES)
    if bad_:
        raise SystemExit("difftest: unknown step class %s (classes: %s)" % (", ".join(sorted(bad_)),
                                                                           ", ".join(CLASSES)))
    allowed.add("noop")
    if not getattr(args, "matrix", False):
        allowed -= {"matrix", "matrixval"}
    else:
        allowed |= {"matrix", "matrixval"}
    return allowed


def main():
    ap = argparse.ArgumentParser(description="differential tester for sluice")
    ap.add_argument("--sluice", default=os.environ.get("SLUICE", "./sluice"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--cases", type=int, default=None, help="number of flows (default: 1)")
    ap.add_argument("--steps", type=int, default=20, help="steps per flow")
    ap.add_argument("--steps-total", type=int, default=None, help="run flows until N steps")
    ap.add_argument("--time", type=float, default=None, help="run flows for SEC seconds")
    ap.add_argument("--max-tasks", type=int, default=12)
    ap.add_argument("--skip", default="", help="step classes to leave out; 'known' = %s"
                    % ",".join(sorted(KNOWN)))
    ap.add_argument("--only", default="")
    ap.add_argument("--replay", default=None, help="CASESEED: replay one flow (with --only-steps)")
    ap.add_argument("--only-steps", default=None, help="comma-separated step indices")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--shrink-time", type=float, default=120)
    ap.add_argument("--stop-early", action="store_true", help="stop a flow at its first wrong output")
    ap.add_argument("--keep", action="store_true", help="keep work directories")
    ap.add_argument("--tmp", default=None, help="where work directories go (default: /dev/shm)")
    ap.add_argument("--inject", default=None, choices=["lie"],
                    help="after the first step's run, change a target's bytes in the store (as a "
                    "lying cache would): proves the comparison can fail")
    ap.add_argument("--perf-fails", action="store_true", help="unneeded re-runs fail too")
    ap.add_argument("--lies-only", action="store_true",
                    help="only wrong outputs fail the pass; failed runs are reported")
    ap.add_argument("--matrix", action="store_true",
                    help="add matrix tasks, a gather and matrixval steps (their own random stream)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.sluice = os.path.abspath(args.sluice)
    if args.tmp is None and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        args.tmp = "/dev/shm"  # tmpfs: fsync costs nothing, and steps are 3-5x faster
    if not os.access(args.sluice, os.X_OK):
        raise SystemExit("difftest: no sluice binary at %s" % args.sluice)

    if args.replay is not None:
        seed = int(args.replay)
        subset = None
        if args.only_steps is not None:
            subset = [int(x) for x in args.only_steps.split(",") if x.strip() not in ("", "none")]
        case, steps = run_case(args, seed, subset, verbose=True, inject=args.inject)
        print_summary([case])
        return 1 if bad(case) else 0

    base = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print("difftest: seed=%d skip=%s sluice=%s" % (base, args.skip or "-", args.sluice), flush=True)
    start = time.time()
    cases = []
    ncases = args.cases or 1
    j = 0
    while True:
        if args.time is not None:
            if time.time() - start >= args.time:
                break
        elif args.steps_total is not None:
            if sum(c.stats["steps"] for c in cases) >= args.steps_total:
                break
        elif j >= ncases:
            break
        seed = base * 1000 + j
        case, steps = run_case(args, seed, verbose=args.verbose, inject=args.inject if j == 0 else None,
                               deadline=None if args.time is None else start + args.time)
        cases.append(case)
        s = case.stats
        print("case %d seed=%d: %d tasks, %d steps, executed %d (needed %d, excused %d, unneeded %d),"
              " wrong %d, failed %d" % (j, seed, len(case.proj.flow["tasks"]), s["steps"], s["executed"],
                                        s["needed"], s["excused"], s["unneeded"], s["wrong"], s["failed"]),
              flush=True)
        for r in case.report:
            if True:
                print("  %s at step %d (%s): %s" % (r["kind"], r["step"], r["cls"], r["text"]))
        problems = bad(case)
        if problems and not args.no_shrink:
            for sig in sorted({signature(r) for r in problems}):
                first = min(r["step"] for r in problems if signature(r) == sig)
                idx = [] if first < 0 else shrink(args, seed, list(range(first + 1)), sig,
                                                  time.time() + args.shrink_time)
                print("  REPRODUCER %s/%s: seed=%d steps=%s" % (sig[0], sig[1], seed, idx))
                print("    %s" % " ".join(s["cls"] for s in [steps[i] for i in idx]))
                print("    rerun: python3 %s --sluice %s --replay %d --only-steps %s --steps %d"
                      " --max-tasks %d --only %s" % (
                          os.path.relpath(__file__), os.path.relpath(args.sluice), seed,
                          ",".join(map(str, idx)) or "none", args.steps, args.max_tasks,
                          ",".join(c for c in CLASSES if c in allowed_classes(args))), flush=True)
        j += 1
    print_summary(cases, time.time() - start, base)
    failing = any(bad(c, ("wrong",) if args.lies_only else ("wrong", "failed")) for c in cases)
    if args.perf_fails and any(c.stats["unneeded"] for c in cases):
        failing = True
    return 1 if failing else 0


def print_summary(cases, elapsed=None, base=None):
    tot = {}
    for c in cases:
        for k, v in c.stats.items():
            tot[k] = tot.get(k, 0) + v
    unneeded = {}
    for c in cases:
        for r in c.report:
            if r["kind"] == "unneeded":
                unneeded[r["cls"]] = unneeded.get(r["cls"], 0) + 1
    print("difftest%s: %d flows, %d steps, %d runs; tasks executed %d (needed %d, excused re-runs %d,"
          " unneeded re-runs %d); wrong outputs %d, failed runs %d%s" % (
              "" if base is None else " seed=%d" % base, len(cases), tot.get("steps", 0),
              tot.get("runs", 0), tot.get("executed", 0), tot.get("needed", 0), tot.get("excused", 0),
              tot.get("unneeded", 0), tot.get("wrong", 0), tot.get("failed", 0),
              "" if elapsed is None else " in %.0fs" % elapsed))
    if unneeded:
        print("  unneeded re-runs by step class: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(unneeded.items())))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TesterError as e:
        print("difftest: %s" % e, file=sys.stderr)
        sys.exit(2)
