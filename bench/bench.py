#!/usr/bin/env python3
"""sluice's benchmark harness: the same synthetic DAG run by sluice, make, ninja,
Snakemake and doit, in the same session, tools alternating, several repetitions.

usage: bench.py [--quick] [--out RESULTS.md] [--sluice PATH] [--reps N] [--budget S]
                [--wide 100,1000,10000] [--shapes-size 1000] [--depths 100,1000,10000]
                [--memory-size 100000] [--tools sluice,make,...]
                [--sections dags,depths,memory,layout,remote]

Scenarios, on wide DAGs of each --wide size and on a chain and a diamond DAG of
--shapes-size tasks (each reports median and min-max wall time, how many tasks each
tool actually executed, its peak RSS, and sluice's ratio to each peer):
  1 cold run -j2            2 no-op re-run          3 one leaf's code changed
  4 one root's code changed (4a: comment only, 4b: output changes)
  5 final target cached, every intermediate output deleted
  6 sluice status on the largest wide DAG
  7 DAG layout of 2,000 and 10,000 nodes (build/layout-bench, built by `make bench`)
  8 peak RSS (every table; sluice status on --memory-size tasks)
  9 the remote cache (nginx, as in the tests): upload cost on a cold run, a no-op with a
    remote configured, a fresh clone fetching the final results

plus scenario 5 against a no-op on chains of each --depths depth. Every measurement
is repeated at least --reps times (3). A tool whose measurements on one DAG add up to
more than --budget seconds (1800) is not measured further on that DAG, and the report
says so. The report ends with the issue's goals, each marked PASS or FAIL.
Writes a Markdown report (stdout, and --out when every section ran). Wall times are noisy on shared
machines: compare ratios from one run, not absolute numbers across runs.
"""
import argparse
import grp
import os
import platform
import pwd
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TIMEOUT = 900  # one command; a tool that takes longer is stopped and marked


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
    and how many tasks it executed. Stops it (and everything it started) after
    TIMEOUT seconds."""
    if os.path.exists(runs_file):
        os.unlink(runs_file)
    env = dict(os.environ, BENCH_RUNS=runs_file, NO_COLOR="1")
    # stderr to a file: a pipe read only after exit deadlocks chatty tools.
    with tempfile.TemporaryFile() as errf, tempfile.NamedTemporaryFile("r") as rss:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name] + cmd, cwd=cwd,
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=errf, start_new_session=True)
        # Popen.wait(timeout=) polls with sleeps of up to 50 ms, which would round
        # every time up to that step: wait in the kernel, and let a timer do the kill.
        timed_out = []

        def stop():
            timed_out.append(True)
            os.killpg(p.pid, signal.SIGKILL)

        timer = threading.Timer(TIMEOUT, stop)
        timer.start()
        code = p.wait()
        dt = time.perf_counter() - t0
        timer.cancel()
        if timed_out:
            code = "timed out"
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        text = rss.read().strip().splitlines()
        rss_kb = int(text[-1]) if text and text[-1].isdigit() else 0
    ran = 0
    if os.path.exists(runs_file):
        with open(runs_file) as f:
            ran = sum(1 for _ in f)
    ok = code == 0
    if not ok:
        print(f"  ! {' '.join(cmd)} in {cwd}: {code}: {err.strip()[:300]}", file=sys.stderr)
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

    def remove(self):
        for d in self.dirs.values():
            sh(f"chmod -R u+w '{d}'", "/")
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)

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
        os.sync()  # the deletions' writeback is the setup's cost, not the next command's


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def median_s(ms):
    return statistics.median(m.seconds for m in ms) if ms else None


class Report:
    def __init__(self):
        self.lines = []

    def add(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, title, results, tools, skipped):
        """results: tool -> list of Measure; skipped: tool -> why it was not measured."""
        self.add(f"### {title}")
        self.add("")
        self.add("| tool | median | min – max | runs | tasks run | peak RSS | sluice ÷ tool |")
        self.add("|---|---|---|---|---|---|---|")
        med = {t: median_s(ms) for t, ms in results.items() if ms}
        for t in tools:
            ms = results.get(t)
            if not ms:
                self.add(f"| {t} | — ({skipped.get(t, 'not measured')}) | | | | | |")
                continue
            secs = [m.seconds for m in ms]
            failed = "" if all(m.ok for m in ms) else " (failed)"
            if not failed and t in skipped:
                failed = f" (then {skipped[t]})"
            ratio = "" if t == "sluice" or "sluice" not in med else f"{med['sluice'] / med[t]:.2f}×"
            self.add(f"| {t}{failed} | {fmt_s(med[t])} | {fmt_s(min(secs))} – {fmt_s(max(secs))}"
                     f" | {len(ms)} | {ms[-1].ran} | {max(m.rss_kb for m in ms) / 1024:.1f} MiB"
                     f" | {ratio} |")
        self.add("")


class Session:
    """Measures tools on DAGs, alternating, within a time budget per tool and DAG."""

    def __init__(self, a, cmds, root):
        self.a, self.cmds, self.root = a, cmds, root
        self.runs = os.path.join(root, "runs.log")
        self.results = {}  # (shape, n, scenario) -> tool -> [Measure]

    def scenario(self, dag, key, tools, reps, prepare, spent, skipped, cmds=None):
        """Measures one build per repetition after prepare(tool, rep) set the state up."""
        cmds = cmds or self.cmds
        out = {t: [] for t in tools}
        for rep in range(reps):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            for t in order:
                if t in skipped:
                    continue
                prepare(t, rep)
                m = run_measured(cmds[t]["build"], dag.dirs[t], self.runs)
                out[t].append(m)
                spent[t] = spent.get(t, 0) + m.seconds
                if not m.ok:
                    skipped[t] = "failed" if m.seconds < TIMEOUT else f"over {TIMEOUT} s"
                elif spent[t] > self.a.budget:
                    skipped[t] = f"over its budget: {spent[t] / 60:.0f} min on this DAG"
        self.results[(dag.shape, dag.n, key)] = out
        return out


def run_dag(s, r, shape, n, tools, status=False):
    """Every scenario on one DAG, for every tool."""
    a, cmds = s.a, s.cmds
    dag = Dag(s.root, shape, n, tools)
    r.add(f"## {shape.capitalize()} DAG, {n} tasks")
    r.add("")
    spent, skipped = {}, {}
    reps = max(a.reps, 1)
    fast = max(reps, 10 if n <= 1000 else 5)
    leaf, root_task = dag.sinks[-1], "t0"
    scenarios = [
        ("cold", "1. Cold run, -j2", reps, lambda t, rep: dag.clean(t, cmds[t]["clean"])),
        ("noop", "2. No-op re-run", fast, lambda t, rep: None),
        ("leaf", f"3. One leaf's code changed ({leaf})", fast,
         lambda t, rep: dag.edit(t, leaf, f"echo leaf-{rep} >/dev/null")),
        ("root-comment", "4a. One root's code changed, output identical (a comment in t0)",
         max(reps, 5), lambda t, rep: dag.edit(t, root_task, f"# comment {rep}")),
        ("root-output", "4b. One root's code changed, output differs", reps,
         lambda t, rep: dag.edit(t, root_task, f"echo rev-{rep} >>\"$out\"")),
        ("final-cached", "5. Final targets cached, every intermediate output deleted", reps,
         lambda t, rep: dag.drop_intermediates(t)),
    ]
    for key, title, n_reps, prepare in scenarios:
        res = s.scenario(dag, key, tools, n_reps, prepare, spent, skipped)
        r.table(title, res, tools, skipped)
    if status:
        st = {"sluice": {"build": [a.sluice, "status"]}}
        res = s.scenario(dag, "status", ["sluice"], fast, lambda t, rep: None, {}, {}, st)
        r.table(f"6. sluice status, {n} tasks", res, ["sluice"], {})
    dag.remove()


def run_depths(s, r):
    """Scenario 5 against a no-op, sluice alone, on ever deeper chains."""
    a = s.a
    r.add("## Scenario 5 on deep chains: does sluice's time grow with depth?")
    r.add("")
    r.add("A no-op re-run reads the whole flow; with every intermediate output deleted, a "
          "cached final target must cost no more than that, at every depth.")
    r.add("")
    r.add("| depth | no-op (median, min – max) | final cached, intermediates deleted | ÷ no-op | "
          "tasks run | runs |")
    r.add("|---|---|---|---|---|---|")
    run = [a.sluice, "run"]
    for n in a.depths:
        dag = Dag(s.root, "chain", n, ["sluice"])
        d = dag.dirs["sluice"]
        run_measured(s.cmds["sluice"]["build"], d, s.runs)
        reps = max(a.reps, 5)
        # Alternating, so that the machine's drift hits both alike: a no-op on the whole
        # store (put back from a copy each time), then the same with the intermediates
        # deleted.
        store, full = os.path.join(d, ".sluice"), os.path.join(s.root, "full-store")
        shutil.copytree(store, full, symlinks=True)
        noop, final = [], []
        for _ in range(reps):
            sh(f"chmod -R u+w '{store}' && rm -rf '{store}' && cp -a '{full}' '{store}'", d)
            os.sync()
            noop.append(run_measured(run, d, s.runs))
            dag.drop_intermediates("sluice")
            final.append(run_measured(run, d, s.runs))
        sh(f"chmod -R u+w '{full}' && rm -rf '{full}'", d)
        s.results[("chain", n, "depth-noop")] = {"sluice": noop}
        s.results[("chain", n, "depth-final")] = {"sluice": final}
        mn, mf = median_s(noop), median_s(final)
        r.add(f"| {n} | {fmt_s(mn)} ({fmt_s(min(m.seconds for m in noop))} – "
              f"{fmt_s(max(m.seconds for m in noop))}) | {fmt_s(mf)} "
              f"({fmt_s(min(m.seconds for m in final))} – {fmt_s(max(m.seconds for m in final))})"
              f" | {mf / mn:.2f} | {max(m.ran for m in final)} | {reps} |")
        dag.remove()
    r.add("")


def run_memory(s, r):
    a = s.a
    n = a.memory_size
    r.add(f"## Memory: sluice status on {n} tasks")
    r.add("")
    big = os.path.join(s.root, f"wide-{n}")
    subprocess.run([sys.executable, GEN, big, "wide", str(n), "--only", "sluice"], check=True)
    ms = []
    for _ in range(max(a.reps, 1)):
        shutil.rmtree(os.path.join(big, ".sluice"), ignore_errors=True)
        ms.append(run_measured([a.sluice, "status"], big, s.runs))
    s.results[("wide", n, "memory")] = {"sluice": ms}
    peak = max(m.rss_kb for m in ms)
    r.add(f"Peak RSS {peak / 1024:.1f} MiB = {peak * 1024 / 1e6:.1f} MB (the largest of "
          f"{len(ms)} runs), {fmt_s(median_s(ms))} median; each run on a fresh store, so every task is "
          "fingerprinted.")
    r.add("")
    shutil.rmtree(big, ignore_errors=True)


def run_layout(s, r):
    layout_bench = os.path.join(HERE, "..", "build", "layout-bench")
    if not os.path.exists(layout_bench):
        return
    r.add("## 7. DAG layout (the TUI's and `sluice dag`'s), 2,000 and 10,000 nodes")
    r.add("")
    for args in (["2000", "wide"], ["2000", "diamond"], ["10000", "wide"]):
        out = subprocess.run([layout_bench] + args, capture_output=True, text=True)
        r.add("- " + out.stdout.strip())
        if args == ["2000", "wide"]:
            words = out.stdout.split()
            if "median" in words:
                s.results[("wide", 2000, "layout")] = float(words[words.index("median") + 1])
    r.add("")


NGINX_CONF = """daemon off;
user {user} {group};
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {d}/root;
        client_max_body_size 0;
        location / {{ dav_methods PUT; create_full_put_path on; dav_access user:rw all:r; }}
    }}
}}
"""


def nginx_start(root):
    """nginx with WebDAV PUT on 127.0.0.1 (the remote cache the tests use): its URL and
    process, or None without nginx."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        return None, None
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    d = os.path.join(root, "srv")
    for sub in ("root", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        os.chmod(os.path.join(d, sub), 0o777)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port, user=pwd.getpwuid(os.getuid()).pw_name,
                                  group=grp.getgrgid(os.getgid()).gr_name))
    p = subprocess.Popen([nginx, "-c", conf, "-p", d], stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as so:
            if so.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}/bench", p
        time.sleep(0.02)
    p.kill()
    return None, None


def requests_logged(root):
    path = os.path.join(root, "srv", "access.log")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for _ in f)


def run_remote(s, r):
    """The remote cache's cost: a cold run that uploads everything against one without a
    remote, a no-op with a remote configured against one without, and a fresh clone
    getting the final results from the remote against computing them."""
    a, n = s.a, 1000
    r.add(f"## Remote cache (nginx WebDAV on 127.0.0.1), wide DAG of {n} tasks")
    r.add("")
    url, srv = nginx_start(s.root)
    if not url:
        r.add("Not measured: nginx is not installed (apt-get install nginx-light).")
        r.add("")
        return
    dag = Dag(s.root, "wide", n, ["sluice"])
    d = dag.dirs["sluice"]
    base = [a.sluice, "run", "-j", "2"]
    remote_root = os.path.join(s.root, "srv", "root")
    clone = os.path.join(s.root, "clone")
    reps = max(a.reps, 3)
    res = {k: [] for k in ("cold", "cold-upload", "noop", "noop-remote", "clone-fetch")}
    requests, uploaded = [], 0
    try:
        for rep in range(reps):
            for kind in (("cold", "cold-upload") if rep % 2 == 0 else ("cold-upload", "cold")):
                dag.clean("sluice", [".sluice"])
                if kind == "cold-upload":  # uploads everything (then the clone reads it)
                    sh(f"rm -rf '{remote_root}'/*", s.root)
                os.sync()
                cmd = base + (["--remote", url] if kind == "cold-upload" else [])
                res[kind].append(run_measured(cmd, d, s.runs))
            for _ in range(3):  # every hit local: the remote is not asked
                for kind in ("noop", "noop-remote"):
                    before = requests_logged(s.root)
                    cmd = base + (["--remote", url] if kind == "noop-remote" else [])
                    res[kind].append(run_measured(cmd, d, s.runs))
                    if kind == "noop-remote":
                        requests.append(requests_logged(s.root) - before)
            uploaded = sum(len(fs) for _, _, fs in os.walk(remote_root))
            sh(f"rm -rf '{clone}' && git clone -q '{d}' '{clone}'", s.root)
            os.sync()
            res["clone-fetch"].append(run_measured(base + ["--remote", url], clone, s.runs))
    finally:
        srv.terminate()
        srv.wait()
        sh(f"chmod -R u+w '{clone}' 2>/dev/null; rm -rf '{clone}'", s.root)
        dag.remove()
    titles = {"cold": "cold run, no remote", "cold-upload": "cold run, uploading to the remote",
              "noop": "no-op, no remote", "noop-remote": "no-op, remote configured",
              "clone-fetch": "fresh clone, empty store: final results from the remote"}
    r.add("| run | median | min – max | runs | tasks run |")
    r.add("|---|---|---|---|---|")
    for k, ms in res.items():
        secs = [m.seconds for m in ms]
        failed = "" if all(m.ok for m in ms) else " (failed)"
        r.add(f"| {titles[k]}{failed} | {fmt_s(median_s(ms))} | {fmt_s(min(secs))} – "
              f"{fmt_s(max(secs))} | {len(ms)} | {ms[-1].ran} |")
        s.results[("wide", n, "remote-" + k)] = {"sluice": ms}
    s.results[("wide", n, "remote-requests")] = max(requests)
    s.results[("wide", n, "remote-uploaded")] = uploaded
    r.add("")
    r.add(f"Requests a no-op with the remote configured made: {max(requests)} (the most of "
          f"{len(requests)} no-ops); objects on the remote after the last upload: "
          f"{uploaded}.")
    r.add("")


def goals(s):
    """(ok or None for not measured, text) for each goal of the benchmark issue."""
    res = s.results
    out = []

    def med(shape, n, key, tool="sluice"):
        return median_s(res.get((shape, n, key), {}).get(tool))

    def ran(shape, n, key):
        ms = res.get((shape, n, key), {}).get("sluice")
        return max(m.ran for m in ms) if ms else None

    for shape in ("wide", "chain", "diamond"):
        sl, mk = med(shape, 1000, "noop"), med(shape, 1000, "noop", "make")
        out.append((None if sl is None or mk is None else sl <= 2 * mk,
                    f"no-op re-run, {shape} 1,000 tasks: ≤ 2× make — " +
                    (f"sluice {fmt_s(sl)} = {sl / mk:.2f}× make {fmt_s(mk)}" if sl and mk else
                     "not measured")))
    sl, mk = med("wide", 10000, "noop"), med("wide", 10000, "noop", "make")
    out.append((None if sl is None else sl <= 0.3,
                "no-op re-run, wide 10,000 tasks: ≤ 300 ms — " +
                (f"sluice {fmt_s(sl)}" if sl else "not measured")))
    out.append((None if sl is None or mk is None else sl <= 2 * mk,
                "no-op re-run, wide 10,000 tasks: ≤ 2× make — " +
                (f"sluice {fmt_s(sl)} = {sl / mk:.2f}× make {fmt_s(mk)}" if sl and mk else
                 "not measured")))
    for (shape, n, key) in sorted(k for k in res if k[2] == "cold"):
        sl, mk = med(shape, n, "cold"), med(shape, n, "cold", "make")
        if sl is None or mk is None:
            continue
        out.append((sl <= 1.1 * mk, f"cold run -j2, {shape} {n:,} tasks: ≤ 1.1× make -j2 — "
                    f"sluice {fmt_s(sl)} = {sl / mk:.2f}× make {fmt_s(mk)}"))
        if n >= 1000:
            per_task = (sl - mk) / n * 1000
            out.append((per_task <= 1.0, f"engine overhead per task, {shape} {n:,} tasks: ≤ 1 ms"
                        f" — (sluice − make) ÷ tasks = {per_task:.3f} ms"))
    for (shape, n, key) in sorted(k for k in res if k[2] == "final-cached"):
        r5 = ran(shape, n, key)
        if r5 is not None:
            out.append((r5 == 0, f"scenario 5, {shape} {n:,} tasks: sluice runs 0 tasks — ran {r5}"))
    depths = sorted(n for (shape, n, key) in res if key == "depth-final")
    for n in depths:
        r5, fin, noop = ran("chain", n, "depth-final"), med("chain", n, "depth-final"), \
            med("chain", n, "depth-noop")
        out.append((r5 == 0 and fin <= 1.25 * noop,
                    f"scenario 5, chain of depth {n:,}: runs 0 tasks and costs no more than a "
                    f"no-op (≤ 1.25×, for noise) — ran {r5}, {fmt_s(fin)} = {fin / noop:.2f}× "
                    f"the no-op's {fmt_s(noop)}"))
    if not depths:
        out.append((None, "scenario 5 against a no-op at each depth — not measured"))
    mem = [(n, ms["sluice"]) for (shape, n, key), ms in res.items() if key == "memory"]
    for n, ms in mem:
        peak = max(m.rss_kb for m in ms) * 1024 / 1e6  # MB, the goal's unit (not MiB)
        out.append(((peak <= 60) if n >= 100000 else None,
                    f"memory, sluice status on {n:,} tasks: ≤ 60 MB for 100,000 tasks (issue 18) — "
                    f"{peak:.1f} MB ({peak * 1e6 / 2**20:.1f} MiB) peak"))
    up, cold = med("wide", 1000, "remote-cold-upload"), med("wide", 1000, "remote-cold")
    if up and cold:
        objs = res[("wide", 1000, "remote-uploaded")]
        out.append((up <= 1.05 * cold and objs > 0, "cold run uploading to a remote, wide 1,000 "
                    f"tasks: ≤ 1.05× one without (issue 16) — {fmt_s(up)} = {up / cold:.2f}× "
                    f"{fmt_s(cold)}, {objs} files on the remote"))
        nr, nl = med("wide", 1000, "remote-noop-remote"), med("wide", 1000, "remote-noop")
        out.append((nr <= 1.05 * nl, "no-op with a remote configured, wide 1,000 tasks: ≤ 1.05× "
                    f"one without (issue 18) — {fmt_s(nr)} = {nr / nl:.2f}× {fmt_s(nl)}"))
        q = res[("wide", 1000, "remote-requests")]
        out.append((q == 0, f"no-op with a remote configured makes no request — {q}"))
        cf = med("wide", 1000, "remote-clone-fetch")
        ran_clone = max(m.ran for m in res[("wide", 1000, "remote-clone-fetch")]["sluice"])
        out.append((ran_clone == 0 and cf < cold, "fresh clone gets the final results from the "
                    f"remote, running nothing, faster than computing them — ran {ran_clone}, "
                    f"{fmt_s(cf)} = {cf / cold:.2f}× the cold run's {fmt_s(cold)}"))
    lay = res.get(("wide", 2000, "layout"))
    out.append((None if lay is None else lay <= 100,
                "layout of 2,000 nodes: ≤ 100 ms — " +
                (f"{lay:.1f} ms median" if lay is not None else "not measured")))
    return out


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


def sizes(text):
    return [int(x) for x in text.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small sizes only (wide 100 and 1,000; chain and diamond 100)")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("--sluice", default=os.path.join(HERE, "..", "sluice"))
    ap.add_argument("--reps", type=int, default=3, help="repetitions at least (3)")
    ap.add_argument("--budget", type=float, default=1800,
                    help="seconds one tool may spend on one DAG (1800)")
    ap.add_argument("--wide", type=sizes, help="wide DAG sizes (100,1000,10000)")
    ap.add_argument("--shapes-size", type=int, help="chain and diamond DAG size (1000)")
    ap.add_argument("--depths", type=sizes, help="chain depths for scenario 5 (100,1000,10000)")
    ap.add_argument("--memory-size", type=int, default=100000,
                    help="tasks for the memory measurement (100000)")
    ap.add_argument("--sections", type=lambda t: t.split(","),
                    default=["dags", "depths", "memory", "layout", "remote"],
                    help="what to measure (dags,depths,memory,layout,remote)")
    ap.add_argument("--tools", type=lambda t: t.split(","),
                    help="measure only these (sluice,make,ninja,snakemake,doit)")
    a = ap.parse_args()
    a.sluice = os.path.abspath(a.sluice)
    a.wide = a.wide or ([100, 1000] if a.quick else [100, 1000, 10000])
    a.shapes_size = a.shapes_size or (100 if a.quick else 1000)
    a.depths = a.depths or ([100, 1000] if a.quick else [100, 1000, 10000])
    cmds = tool_commands(a.sluice)
    tools = [t for t in cmds if not a.tools or t in a.tools]
    root = tempfile.mkdtemp(prefix="sluice-bench-")
    s = Session(a, cmds, root)
    r = Report()
    r.add("# sluice benchmark results")
    r.add("")
    r.add(f"Run {time.strftime('%Y-%m-%d %H:%M')} with `{' '.join(['bench/run'] + sys.argv[1:])}`"
          f" (tools alternate; times are wall clock; at least {a.reps} runs of everything; "
          f"a tool stops being measured on a DAG after {a.budget / 60:.0f} min on it).")
    r.add("")
    for line in machine():
        r.add(line)
    r.add("- Snakemake gets one wildcard rule with an input function, doit one task "
          "generator; make and ninja one rule per task.")
    r.add("")
    started = time.time()
    try:
        if "dags" in a.sections:
            for n in a.wide:
                run_dag(s, r, "wide", n, tools, status=n == a.wide[-1])
            for shape in ("chain", "diamond"):
                run_dag(s, r, shape, a.shapes_size, tools)
        for section, run in (("depths", run_depths), ("memory", run_memory),
                             ("layout", run_layout), ("remote", run_remote)):
            if section in a.sections:
                run(s, r)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    r.add("## Goals")
    r.add("")
    checked = goals(s)
    for ok, text in checked:
        r.add(f"- {'PASS' if ok else 'FAIL' if ok is not None else 'SKIP'} {text}")
    passed = sum(1 for ok, _ in checked if ok)
    failed = sum(1 for ok, _ in checked if ok is False)
    r.add("")
    r.add(f"{passed} passed, {failed} failed, {len(checked) - passed - failed} not measured; "
          f"the whole benchmark took {(time.time() - started) / 60:.0f} min.")
    if a.out and len(a.sections) < 5:
        print(f"bench: only {','.join(a.sections)} measured: {a.out} left as it was",
              file=sys.stderr)
    elif a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(r.lines) + "\n")


if __name__ == "__main__":
    main()
