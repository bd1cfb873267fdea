#!/usr/bin/env python3
"""sluice's benchmark harness: the same synthetic DAG run by sluice, make, ninja,
Snakemake and doit, in the same session, tools alternating, several repetitions.

usage: bench.py [--quick] [--out RESULTS.md] [--sluice PATH]

Scenarios (each reports median and min-max wall time, how many tasks each tool
actually executed, and sluice's ratio to each peer):
  1 cold run -j2            2 no-op re-run          3 one leaf's code changed
  4 one root's code changed (4a: comment only, 4b: output changes)
  5 final target cached, every intermediate output deleted
  6 sluice status on 10,000 tasks
  7 DAG layout of 2,000 nodes (build/layout-bench, built by `make bench`)
  8 peak RSS (no-op runs; sluice status on 100,000 tasks)
Writes a Markdown report (stdout and --out). Wall times are noisy on shared
machines: compare ratios from one run, not absolute numbers across runs.
"""
import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TIMEOUT = 900


def tool_commands(sluice):
    return {
        "sluice": {"build": [sluice, "run", "-j", "2"], "clean": [".sluice"]},
        "make": {"build": ["make", "-s", "-j2"], "clean": ["out"]},
        "ninja": {"build": ["ninja", "-j2", "--quiet"], "clean": ["out", ".ninja_log", ".ninja_deps"]},
        "snakemake": {"build": ["snakemake", "-j2", "-q"], "clean": ["out", ".snakemake"]},
        "doit": {"build": [PY, "-m", "doit", "-n", "2"], "clean": ["out", ".doit.db", ".doit.db.db",
                                                                   ".doit.db.dat", ".doit.db.dir",
                                                                   ".doit.db.bak"]},
    }


class Measure:
    def __init__(self, seconds, rss_kb, ran, ok):
        self.seconds, self.rss_kb, self.ran, self.ok = seconds, rss_kb, ran, ok


def run_measured(cmd, cwd, runs_file):
    """Runs cmd; returns wall time, peak RSS of the largest process in its tree (kB, as
    /usr/bin/time reports it: measuring from here would count the forked Python),
    and how many tasks it executed."""
    if os.path.exists(runs_file):
        os.unlink(runs_file)
    env = dict(os.environ, BENCH_RUNS=runs_file, NO_COLOR="1")
    # stderr to a file: a pipe read only after exit deadlocks chatty tools.
    with tempfile.TemporaryFile() as errf, tempfile.NamedTemporaryFile("r") as rss:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name] + cmd, cwd=cwd,
                           env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=errf)
        dt = time.perf_counter() - t0
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        text = rss.read().strip().splitlines()
        rss_kb = int(text[-1]) if text and text[-1].isdigit() else 0
    ran = 0
    if os.path.exists(runs_file):
        with open(runs_file) as f:
            ran = sum(1 for _ in f)
    ok = p.returncode == 0
    if not ok:
        print(f"  ! {' '.join(cmd)} in {cwd} exited {p.returncode}: {err.strip()[:300]}",
              file=sys.stderr)
    return Measure(dt, rss_kb, ran, ok)


def sh(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, shell=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Dag:
    """One generated DAG, copied into a directory per tool."""

    def __init__(self, root, shape, n, tools):
        self.shape, self.n = shape, n
        self.base = os.path.join(root, f"{shape}-{n}")
        subprocess.run([sys.executable, GEN, self.base, shape, str(n)], check=True)
        with open(os.path.join(self.base, "sinks")) as f:
            self.sinks = [line.strip() for line in f if line.strip()]
        self.dirs = {}
        for t in tools:
            d = f"{self.base}.{t}"
            shutil.copytree(self.base, d)
            sh("git init -q . && git add -A && git -c user.email=b@b -c user.name=b "
               "commit -qm dag", d)
            self.dirs[t] = d

    def clean(self, tool, paths):
        for p in paths:
            full = os.path.join(self.dirs[tool], p)
            if os.path.isdir(full):
                sh(f"chmod -R u+w '{full}' && rm -rf '{full}'", self.dirs[tool])
            elif os.path.exists(full):
                os.unlink(full)

    def edit(self, tool, task, line):
        with open(os.path.join(self.dirs[tool], "src", f"{task}.sh"), "a") as f:
            f.write(line + "\n")

    def drop_intermediates(self, tool):
        """Deletes every output but the sinks'."""
        d = self.dirs[tool]
        if tool != "sluice":
            sinks = set(self.sinks)
            for name in os.listdir(os.path.join(d, "out")):
                if name not in sinks:
                    os.unlink(os.path.join(d, "out", name))
            return
        store = os.path.join(d, ".sluice")
        db = sqlite3.connect(os.path.join(store, "sluice.db"))
        marks = ",".join("?" * len(self.sinks))
        keep = {r[0] for r in db.execute(
            f"select digest from entries where task in ({marks})", self.sinks)}
        keep_objects = set()
        drop = []
        for digest, manifest in db.execute("select digest, manifest from outputs"):
            objs = [ln.split()[1] + (".x" if ln[0] == "x" else "")
                    for ln in manifest.splitlines()[1:] if ln[:1] in "fx"]
            if digest in keep:
                keep_objects.update(objs)
            else:
                drop.append((digest, objs))
        db.close()
        for digest, objs in drop:
            view = os.path.join(store, "views", digest)
            if os.path.isdir(view):
                sh(f"chmod -R u+w '{view}' && rm -rf '{view}'", d)
            for o in objs:
                if o not in keep_objects:
                    path = os.path.join(store, "objects", o[:2], o[2:])
                    if os.path.exists(path):
                        os.unlink(path)


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


class Report:
    def __init__(self):
        self.lines = []

    def add(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, title, results, tools, note=""):
        """results: tool -> list of Measure."""
        self.add(f"### {title}")
        if note:
            self.add(note)
        self.add("")
        self.add("| tool | median | min – max | tasks run | peak RSS | sluice ÷ tool |")
        self.add("|---|---|---|---|---|---|")
        med = {t: statistics.median(m.seconds for m in ms) for t, ms in results.items() if ms}
        for t in tools:
            ms = results.get(t)
            if not ms:
                self.add(f"| {t} | — | — | — | — | — |")
                continue
            secs = [m.seconds for m in ms]
            failed = "" if all(m.ok for m in ms) else " (failed)"
            ratio = "" if t == "sluice" or "sluice" not in med else f"{med['sluice'] / med[t]:.2f}×"
            self.add(f"| {t}{failed} | {fmt_s(med[t])} | {fmt_s(min(secs))} – {fmt_s(max(secs))}"
                     f" | {ms[-1].ran} | {max(m.rss_kb for m in ms) / 1024:.1f} MB | {ratio} |")
        self.add("")
        return med


def alternate(tools, reps, fn):
    """Runs fn(tool, rep) for every tool, rotating the order each repetition."""
    out = {t: [] for t in tools}
    for rep in range(reps):
        order = tools[rep % len(tools):] + tools[:rep % len(tools)]
        for t in order:
            m = fn(t, rep)
            if m is not None:
                out[t].append(m)
    return out


def scenario_runs(rep_, dag, tools, cmds, reps, prepare):
    """Measures one build per repetition after prepare(tool, rep) set the state up."""
    runs = os.path.join(rep_, "runs.log")

    def one(t, rep):
        prepare(t, rep)
        return run_measured(cmds[t]["build"], dag.dirs[t], runs)

    return alternate(tools, reps, one)


def machine():
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    fs = subprocess.run(["df", "-T", tempfile.gettempdir()], capture_output=True,
                        text=True).stdout.splitlines()[-1].split()[1]

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            return (out.stdout or out.stderr).splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not found"

    return [f"- {os.cpu_count()} cores, {cpu}; Linux {platform.release()}; temp dir on {fs}",
            f"- {version(['make', '--version'])}; ninja {version(['ninja', '--version'])}; "
            f"snakemake {version(['snakemake', '--version'])}; "
            f"doit {version([PY, '-m', 'doit', '--version'])}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("--sluice", default=os.path.join(HERE, "..", "sluice"))
    a = ap.parse_args()
    sluice = os.path.abspath(a.sluice)
    cmds = tool_commands(sluice)
    all_tools = list(cmds)
    fast_tools = ["sluice", "make", "ninja"]
    root = tempfile.mkdtemp(prefix="sluice-bench-")
    rep_dir = root
    r = Report()
    r.add("# sluice benchmark results")
    r.add("")
    r.add(f"Run {time.strftime('%Y-%m-%d %H:%M')} with `bench/run{' --quick' if a.quick else ''}`"
          " (tools alternate; times are wall clock).")
    r.add("")
    for line in machine():
        r.add(line)
    r.add("")
    sizes = [100, 1000] if a.quick else [100, 1000, 10000]
    summary = {}
    try:
        for n in sizes:
            tools = all_tools if n <= 1000 else fast_tools
            reps_cold = 1 if n >= 10000 or a.quick else 3
            reps_fast = 3 if a.quick else (5 if n >= 10000 else 10)
            dag = Dag(root, "wide", n, tools)
            r.add(f"## Wide DAG, {n} tasks" +
                  ("" if tools == all_tools else " (Snakemake and doit: too slow at this size)"))
            r.add("")

            def cold(t, rep):
                dag.clean(t, cmds[t]["clean"])
            res = scenario_runs(rep_dir, dag, tools, cmds, reps_cold, cold)
            summary[("cold", n)] = r.table("1. Cold run, -j2", res, tools)
            res = scenario_runs(rep_dir, dag, tools, cmds, reps_fast, lambda t, rep: None)
            summary[("noop", n)] = r.table("2. No-op re-run", res, tools)
            leaf, root_task = dag.sinks[-1], "t0"
            res = scenario_runs(rep_dir, dag, tools, cmds, reps_fast,
                                lambda t, rep: dag.edit(t, leaf, f"echo leaf-{rep} >/dev/null"))
            r.table(f"3. One leaf's code changed ({leaf})", res, tools)
            res = scenario_runs(rep_dir, dag, tools, cmds, min(reps_fast, 5),
                                lambda t, rep: dag.edit(t, root_task, f"# comment {rep}"))
            summary[("root-comment", n)] = r.table(
                "4a. One root's code changed, output identical (a comment in t0)", res, tools)
            res = scenario_runs(rep_dir, dag, tools, cmds, min(reps_fast, 3),
                                lambda t, rep: dag.edit(t, root_task, f"echo rev-{rep} >>\"$out\""))
            r.table("4b. One root's code changed, output differs", res, tools)
            res = scenario_runs(rep_dir, dag, tools, cmds, min(reps_fast, 3),
                                lambda t, rep: dag.drop_intermediates(t))
            r.table("5. Final targets cached, every intermediate output deleted", res, tools)
            if n == sizes[-1]:
                res = scenario_runs(rep_dir, dag, ["sluice"],
                                    {"sluice": {"build": [sluice, "status"]}}, reps_fast,
                                    lambda t, rep: None)
                summary[("status", n)] = r.table(f"6. sluice status, {n} tasks", res, ["sluice"])
            for t in tools:
                shutil.rmtree(dag.dirs[t], ignore_errors=True)

        for shape in ("chain", "diamond"):
            n = 100 if a.quick else 1000
            dag = Dag(root, shape, n, all_tools)
            r.add(f"## {shape.capitalize()} DAG, {n} tasks")
            r.add("")
            res = scenario_runs(rep_dir, dag, all_tools, cmds, 1 if a.quick else 3,
                                lambda t, rep: dag.clean(t, cmds[t]["clean"]))
            summary[(f"cold-{shape}", n)] = r.table("1. Cold run, -j2", res, all_tools)
            res = scenario_runs(rep_dir, dag, all_tools, cmds, 3 if a.quick else 10,
                                lambda t, rep: None)
            summary[(f"noop-{shape}", n)] = r.table("2. No-op re-run", res, all_tools)
            for t in all_tools:
                shutil.rmtree(dag.dirs[t], ignore_errors=True)

        r.add("## Scenario 5 on a deep chain: does sluice's time grow with depth?")
        r.add("")
        r.add("| depth | no-op | final cached, intermediates deleted | tasks run |")
        r.add("|---|---|---|---|")
        for n in ([100, 1000] if a.quick else [100, 1000, 10000]):
            dag = Dag(root, "chain", n, ["sluice"])
            d = dag.dirs["sluice"]
            runs = os.path.join(rep_dir, "runs.log")
            run_measured(cmds["sluice"]["build"], d, runs)
            noop = statistics.median(run_measured([sluice, "run"], d, runs).seconds
                                     for _ in range(5))
            ms = []
            for _ in range(3):
                dag.drop_intermediates("sluice")
                ms.append(run_measured([sluice, "run"], d, runs))
            r.add(f"| {n} | {fmt_s(noop)} | {fmt_s(statistics.median(m.seconds for m in ms))} "
                  f"| {ms[-1].ran} |")
            shutil.rmtree(d, ignore_errors=True)
        r.add("")

        r.add("## Memory: sluice status on 100,000 tasks")
        r.add("")
        big = os.path.join(root, "wide-100000")
        subprocess.run([sys.executable, GEN, big, "wide", "100000", "--only", "sluice"], check=True)
        m = run_measured([sluice, "status"], big, os.path.join(rep_dir, "runs.log"))
        r.add(f"Peak RSS {m.rss_kb / 1024:.1f} MB, {fmt_s(m.seconds)} (first status, nothing "
              "cached: every task fingerprinted).")
        r.add("")
        layout_bench = os.path.join(HERE, "..", "build", "layout-bench")
        if os.path.exists(layout_bench):
            r.add("## 7. DAG layout (the TUI's and `sluice dag`'s), 2,000 and 10,000 nodes")
            r.add("")
            for args in (["2000", "wide"], ["2000", "diamond"], ["10000", "wide"]):
                out = subprocess.run([layout_bench] + args, capture_output=True, text=True)
                r.add("- " + out.stdout.strip())
            r.add("")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    r.add("## Goals")
    r.add("")
    for (what, n), med in sorted(summary.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if what.split("-")[0] in ("noop", "cold") and "make" in med:
            r.add(f"- {what} {n}: sluice {fmt_s(med['sluice'])} = "
                  f"{med['sluice'] / med['make']:.2f}× make")
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(r.lines) + "\n")


if __name__ == "__main__":
    main()
