#!/usr/bin/env python3
"""Writes one synthetic DAG as a sluice flow, a Makefile, a build.ninja, a Snakefile
and a dodo.py, so every tool does exactly the same work.

usage: gen.py DIR SHAPE N [--only sluice]
  SHAPE: wide (layers of equal width, each task reading 2 tasks of the layer above),
         chain (a single deep chain), diamond (repeated fan-out/fan-in diamonds)
Each task N has its own script src/tN.sh (its "code"); it reads its upstream outputs
and writes one small file. Outputs live in out/ for the other tools. When $BENCH_RUNS
is set, each execution appends the task's name to it, so the harness can count what
each tool re-ran.
"""
import argparse
import json
import math
import os


def shape_wide(n):
    width = max(1, int(math.sqrt(n * 4)))
    deps = []
    for i in range(n):
        layer, pos = divmod(i, width)
        if layer == 0:
            deps.append([])
        else:
            base = (layer - 1) * width
            deps.append(sorted({base + pos, base + (pos + 1) % width}))
    return deps


def shape_chain(n):
    return [[] if i == 0 else [i - 1] for i in range(n)]


def shape_diamond(n):
    # blocks of 4: top -> (left, right) -> bottom; each top reads the previous bottom
    deps = []
    for i in range(n):
        k, r = divmod(i, 4)
        top = 4 * k
        if r == 0:
            deps.append([] if k == 0 else [top - 1])
        elif r in (1, 2):
            deps.append([top])
        else:
            deps.append([top + 1, top + 2] if top + 2 < n else [top + 1])
    return deps


def main():
    ap = argparse.ArgumentParser(description="write one synthetic DAG for every tool")
    ap.add_argument("dir")
    ap.add_argument("shape", choices=["wide", "chain", "diamond"])
    ap.add_argument("n", type=int)
    ap.add_argument("--only", choices=["sluice"], help="write just the sluice flow")
    a = ap.parse_args()
    out_dir, shape, n, only_sluice = a.dir, a.shape, a.n, a.only == "sluice"
    deps = {"wide": shape_wide, "chain": shape_chain, "diamond": shape_diamond}[shape](n)
    os.makedirs(os.path.join(out_dir, "src"), exist_ok=True)
    has_down = set(d for ds in deps for d in ds)
    sinks = [i for i in range(n) if i not in has_down]
    for i in range(n):
        with open(os.path.join(out_dir, "src", f"t{i}.sh"), "w") as f:
            f.write(f'# task {i}\nout=$1; shift\n{{ echo t{i}; cat "$@" | wc -c; }} >"$out"\n'
                    f'[ -z "$BENCH_RUNS" ] || echo t{i} >>"$BENCH_RUNS"\n')

    tasks = {}
    for i in range(n):
        ins = " ".join(f"$IN_t{d}/out" for d in deps[i])
        tasks[f"t{i}"] = {"run": f"sh src/t{i}.sh $OUT/out {ins}".rstrip(),
                          "after": [f"t{d}" for d in deps[i]], "code": [f"src/t{i}.sh"]}
    with open(os.path.join(out_dir, "flow.json"), "w") as f:
        json.dump({"name": f"bench-{shape}-{n}", "tasks": tasks}, f, indent=1)
    with open(os.path.join(out_dir, "sinks"), "w") as f:
        f.write("".join(f"t{i}\n" for i in sinks))
    if only_sluice:
        return

    with open(os.path.join(out_dir, "Makefile"), "w") as f:
        # The output directory as an order-only prerequisite, made once, as Makefiles do:
        # each recipe is one command, which make runs without a shell.
        f.write("all: " + " ".join(f"out/t{i}" for i in sinks) + "\n")
        f.write("out:\n\t@mkdir -p out\n")
        for i in range(n):
            ins = " ".join(f"out/t{d}" for d in deps[i])
            f.write(f"out/t{i}: src/t{i}.sh {ins} | out\n\t@sh src/t{i}.sh $@ {ins}\n")

    with open(os.path.join(out_dir, "build.ninja"), "w") as f:
        f.write("rule t\n  command = sh $script $out $ins\n")  # ninja makes out/ itself
        for i in range(n):
            ins = " ".join(f"out/t{d}" for d in deps[i])
            f.write(f"build out/t{i}: t src/t{i}.sh {ins}\n  script = src/t{i}.sh\n  ins = {ins}\n")
        f.write("default " + " ".join(f"out/t{i}" for i in sinks) + "\n")

    # One wildcard rule with an input function, as Snakemake users write many similar
    # tasks (and as dodo.py has one task generator); a rule per task only makes
    # Snakemake spend longer parsing (about twice as long at 2,000 tasks).
    with open(os.path.join(out_dir, "Snakefile"), "w") as f:
        f.write("DEPS = %r\nSINKS = %r\n" % (deps, sinks))
        f.write('wildcard_constraints:\n    i="[0-9]+"\n\n'
                'rule all:\n    input: expand("out/t{i}", i=SINKS)\n\n'
                'rule t:\n'
                '    input: script="src/t{i}.sh", ins=lambda w: ["out/t%d" % d for d in DEPS[int(w.i)]]\n'
                '    output: "out/t{i}"\n'
                '    shell: "sh {input.script} {output} {input.ins}"\n')

    with open(os.path.join(out_dir, "dodo.py"), "w") as f:
        f.write("import os\nos.makedirs('out', exist_ok=True)\n")  # once, not per task
        f.write("DOIT_CONFIG = {'verbosity': 0}\nDEPS = %r\n" % (deps,))
        f.write("def task_t():\n    for i, ds in enumerate(DEPS):\n"
                "        ins = ['out/t%d' % d for d in ds]\n"
                "        yield {'name': str(i), 'file_dep': ['src/t%d.sh' % i] + ins,\n"
                "               'targets': ['out/t%d' % i],\n"
                "               'actions': ['sh src/t%d.sh out/t%d %s' % (i, i, ' '.join(ins))]}\n")


if __name__ == "__main__":
    main()
