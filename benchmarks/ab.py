"""A/B: convpool from this checkout against another, workload by workload.

``python -m benchmarks --ab /path/to/other/checkout/src [--only W8,W9]
[--repeats 5] [--quick]``.  Two convpool trees cannot share one process
(both are the package ``convpool``), so every timed run is a subprocess
``python -m benchmarks --only W --repeats 1 --peers none`` whose
``PYTHONPATH`` puts one tree's ``src`` first; the two trees alternate,
``--repeats`` rounds per workload, so that a busy neighbour hits both
alike, and which tree goes first alternates too (A B, B A, A B, ...): with
A always first, W11 measured B / A 0.93 one way round and 1.01 the other,
for the same two trees.  Each subprocess builds the same seeded data,
warms up once and reports the median of its own single timed run; the
table gives each tree's median over rounds and B / A.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

__all__ = ["compare"]


def compare(args):
    trees = {"A": ROOT / "src", "B": args.ab.resolve()}
    for label, src in trees.items():
        if not (src / "convpool" / "__init__.py").exists():
            raise SystemExit(f"`--ab` tree {label} has no convpool package "
                             f"under {src}")
    from .workloads import WORKLOADS
    names = [w.name for w in WORKLOADS
             if not args.only or w.name in args.only]
    rounds = args.repeats or 5
    print(f"A = {trees['A']}\nB = {trees['B']}")
    print("| workload | A s | B s | B / A |\n|---|---|---|---|")
    for name in names:
        times = {label: [] for label in trees}
        for r in range(rounds):
            for label in _order(r):
                times[label].append(_one(name, trees[label], args.quick))
        a, b = (statistics.median(times[k]) for k in ("A", "B"))
        print(f"| {name} | {a:.4f} | {b:.4f} | {b / a:.3f} |", flush=True)


def _order(round_):
    """Which tree runs first in a round: A in even rounds, B in odd ones.

    >>> [_order(r) for r in range(3)]
    [('A', 'B'), ('B', 'A'), ('A', 'B')]
    """
    return ("A", "B") if round_ % 2 == 0 else ("B", "A")


def _one(name, src, quick):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(ROOT)]))
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "run.json"
        cmd = [sys.executable, "-m", "benchmarks", "--only", name,
               "--repeats", "1", "--peers", "none", "--no-tasks",
               "--json-only", str(out)] + (["--quick"] if quick else [])
        subprocess.run(cmd, env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())["workloads"][0]["convpool_s"]
