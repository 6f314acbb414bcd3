"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only W1,W3]``.

Prints a table, and writes it to ``benchmarks/results/latest.json`` and
``latest.md`` together with the machine it ran on.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

if __package__ in (None, ""):  # ``python benchmarks/run.py``
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

import convpool  # noqa: E402

from .loops import TASKS  # noqa: E402
from .timing import (copy_floor, extra_memory, interleaved,  # noqa: E402
                     time_once)
from .workloads import torch, workloads  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TASK_DIR = ROOT / "math" / "convolutions_and_pooling"
MiB = 1 << 20


def main(argv=None):
    args = _parse(argv)
    threads = convpool.get_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    machine = _machine(threads)
    scale = 0.1 if args.quick else 1.0
    repeats = args.repeats or (3 if args.quick else 7)
    rows = []
    for load in workloads(scale):
        if args.only and load.name not in args.only:
            continue
        rows.append(_measure(load, repeats, args.loop_images))
        print(_line(rows[-1]), flush=True)
    tasks = [] if args.no_tasks else _tasks(scale, args.loop_images)
    machine["load_after"] = os.getloadavg()
    report = {"machine": machine, "quick": args.quick, "repeats": repeats,
              "workloads": rows, "spec_tasks": tasks}
    _write(report, args.output)


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="a tenth of every batch, 3 runs each (a smoke test; "
                        "the targets are for the full sizes)")
    p.add_argument("--only", type=lambda s: set(s.split(",")),
                   help="comma-separated workload names, e.g. W1,W5")
    p.add_argument("--repeats", type=int, help="timed runs per contender")
    p.add_argument("--loop-images", type=int, default=5000,
                   help="batch subset the two-loop solution is timed on, "
                        "then extrapolated linearly (default 5000)")
    p.add_argument("--no-tasks", action="store_true",
                   help="skip the spec task files row")
    p.add_argument("--output", type=pathlib.Path, default=RESULTS,
                   help="directory for latest.json and latest.md")
    return p.parse_args(argv)


def _measure(load, repeats, loop_images):
    mine, theirs = interleaved([load.run, load.torch_run], repeats)
    out_bytes = int(np.prod(load.out_shape)) * load.out_dtype.itemsize
    floor = copy_floor(load.arrays, load.out_shape, load.out_dtype, repeats)
    row = {
        "name": load.name, "title": load.title,
        "convpool_s": mine, "torch_s": theirs,
        "ratio": None if theirs is None else mine / theirs,
        "target": load.target,
        "gflops": load.flops / mine / 1e9,
        "floor_s": floor, "x_floor": mine / floor,
        "extra_mib": extra_memory(load.run, out_bytes) / MiB,
        "shape": [list(a.shape) for a in load.arrays],
        "dtype": str(load.arrays[0].dtype),
    }
    row["met"] = (None if row["ratio"] is None or load.target is None
                  else row["ratio"] <= load.target)
    if load.floor_target is not None:
        row.update(floor_target=load.floor_target,
                   floor_met=row["x_floor"] <= load.floor_target)
    if load.loops is not None:
        n = load.arrays[0].shape[0]
        sub = min(n, loop_images)
        seconds = time_once(lambda: load.loops(sub)) * n / sub
        row.update(loops_s=seconds, loops_images=sub,
                   loops_speedup=seconds / mine)
        if load.loops_target is not None:
            row.update(loops_target=load.loops_target,
                       loops_met=seconds / mine >= load.loops_target)
    return row


def _tasks(scale, loop_images):
    """The spec's seven task files against the two-loop solution, at the
    spec's example shapes (random data: the datasets are not shipped)."""
    rng = np.random.default_rng(1)
    data = {
        "mnist": rng.random((max(1, int(50000 * scale)), 28, 28)),
        "animals": rng.integers(0, 256, (max(1, int(10000 * scale)), 32, 32,
                                         3), dtype=np.uint8),
    }
    rows = []
    for stem, func, dataset, call, loops in TASKS:
        path = TASK_DIR / f"{stem}.py"
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(stem.replace("-", "_"),
                                                      path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        images = data[dataset]
        mine = interleaved([lambda: call(getattr(module, func), images)],
                           3)[0]
        sub = min(len(images), loop_images)
        theirs = time_once(lambda: loops(images[:sub])) * len(images) / sub
        rows.append({"task": stem, "shape": list(images.shape),
                     "task_s": mine, "loops_s": theirs,
                     "loops_images": sub, "speedup": theirs / mine,
                     "met": theirs / mine >= 10})
        print(f"{stem:32s} {mine:8.4f} s  two loops {theirs:8.3f} s  "
              f"x{theirs / mine:6.1f}", flush=True)
    return rows


def _machine(threads):
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    from convpool.engines._blas import blas_threads
    info = {
        "cpu": model, "cores": os.cpu_count(),
        "convpool_threads": threads, "blas_threads": blas_threads(),
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_before": os.getloadavg(),
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict mode
        info["blas"] = "unknown"
    return info


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


COLUMNS = ["workload", "convpool s", "PyTorch s", "ratio", "target", "met",
           "GFLOP/s", "copy floor s", "x floor", "extra MiB"]


def _cells(r):
    met = {True: "yes", False: "NO", None: "-"}[r["met"]]
    return [f"{r['name']} {r['title']}", _fmt(r["convpool_s"], ".4f"),
            _fmt(r["torch_s"], ".4f"), _fmt(r["ratio"], ".3f"),
            _fmt(r["target"], "<.2f").join(["<= ", ""]) if r["target"]
            else "-", met, _fmt(r["gflops"], ".2f"),
            _fmt(r["floor_s"], ".4f"), _fmt(r["x_floor"], ".2f"),
            _fmt(r["extra_mib"], ".1f")]


def _line(r):
    text = " | ".join(_cells(r))
    if "loops_s" in r:
        text += (f" | two loops {r['loops_s']:.2f} s "
                 f"(x{r['loops_speedup']:.0f})")
    return text


def _markdown(report):
    m = report["machine"]
    lines = [
        "# convpool benchmark" + (" (--quick: batches / 10)"
                                  if report["quick"] else ""),
        "",
        f"{m['cpu']}, {m['cores']} cores; convpool threads "
        f"{m['convpool_threads']}, PyTorch threads {m['torch_threads']}; "
        f"Python {m['python']}, NumPy {m['numpy']} ({m['blas']}), "
        f"PyTorch {m['torch']}; {m['date']}; load average before "
        f"{m['load_before'][0]:.2f}, after {m['load_after'][0]:.2f}.",
        "",
        f"Median of {report['repeats']} interleaved runs after a warm-up. "
        "ratio = convpool / PyTorch time (PyTorch's time includes the "
        "NHWC<->NCHW permutes, which are views). x floor = convpool time / "
        "time to np.copyto the input and output bytes. extra MiB = "
        "tracemalloc peak minus the output.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |"
              for r in report["workloads"]]
    loops = [r for r in report["workloads"] if "loops_s" in r]
    if loops:
        lines += ["", "Two loops over output pixels (the spec's common "
                  "solution), timed on a batch subset and extrapolated "
                  "linearly:", "",
                  "| workload | two loops s | images timed | convpool "
                  "speed-up | target |", "|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {r['loops_s']:.2f} | "
                  f"{r['loops_images']} | {r['loops_speedup']:.0f}x | "
                  + (f">= {r['loops_target']}x: "
                     f"{'yes' if r['loops_met'] else 'NO'} |"
                     if "loops_target" in r else "- |")
                  for r in loops]
    floors = [r for r in report["workloads"] if "floor_target" in r]
    if floors:
        lines += [""] + [
            f"{r['name']}: {r['x_floor']:.2f}x the copy floor (target <= "
            f"{r['floor_target']}x): {'yes' if r['floor_met'] else 'NO'}."
            for r in floors]
    if report["spec_tasks"]:
        lines += ["", "The spec's seven task files (math/convolutions_and_"
                  "pooling) vs the two-loop solution at the spec's example "
                  "shapes (must be >= 10x):", "",
                  "| task | shape | task s | two loops s | speed-up | "
                  ">= 10x |", "|---|---|---|---|---|---|"]
        lines += [f"| {t['task']} | {'x'.join(map(str, t['shape']))} | "
                  f"{t['task_s']:.4f} | {t['loops_s']:.2f} | "
                  f"{t['speedup']:.1f}x | {'yes' if t['met'] else 'NO'} |"
                  for t in report["spec_tasks"]]
    return "\n".join(lines) + "\n"


def _write(report, directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(report, indent=1))
    (directory / "latest.md").write_text(_markdown(report))
    print(f"wrote {directory / 'latest.json'} and {directory / 'latest.md'}")


if __name__ == "__main__":
    main()
