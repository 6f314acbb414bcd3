"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only W1,W3]``.

Times convpool against every installed peer (PyTorch, JAX, OpenCV, SciPy),
interleaved in one process, prints a table, and writes it to
``benchmarks/results/latest.json`` and ``latest.md`` together with the
machine it ran on.  ``--ab OTHER_SRC`` instead compares two convpool
trees (``benchmarks/ab.py``).
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TASK_DIR = ROOT / "math" / "convolutions_and_pooling"
MiB = 1 << 20
PEER_NAMES = ("PyTorch", "JAX", "OpenCV", "SciPy")
PEER_LIMIT_X = 10


def main(argv=None):
    args = _parse(argv)
    if args.ab is not None:
        from .ab import compare
        compare(args)
        return
    # Peers first: JAX reads its thread flags when it is imported.
    import convpool
    threads = args.threads or convpool.get_threads()
    convpool.set_threads(threads)
    from . import peers as peer_mod
    peers = peer_mod.setup(threads, None if args.peers is None
                           else set(args.peers))
    from .workloads import WORKLOADS
    machine = _machine(threads, peer_mod.versions())
    scale = 0.1 if args.quick else 1.0
    repeats = args.repeats or (3 if args.quick else 7)
    rows = []
    for load in WORKLOADS:
        if args.only and load.name not in args.only:
            continue
        rows.append(_measure(load, peers, scale,
                             args.repeats or load.repeats or repeats,
                             args.loop_images, args.peer_limit))
        print(_line(rows[-1]), flush=True)
    tasks = [] if args.no_tasks else _tasks(scale, args.loop_images)
    machine["load_after"] = os.getloadavg()
    report = {"machine": machine, "quick": args.quick, "repeats": repeats,
              "peers": sorted(peers), "workloads": rows,
              "spec_tasks": tasks}
    if args.json_only:
        args.json_only.write_text(json.dumps(report))
        return
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
    p.add_argument("--threads", type=int,
                   help="threads for convpool and every peer (default: "
                        "convpool.get_threads(), every core)")
    p.add_argument("--peers", type=lambda s: s.split(","),
                   help="comma-separated peers to time (default: every "
                        "installed one of " + ", ".join(PEER_NAMES) + ")")
    p.add_argument("--peer-limit", type=float, default=10.0,
                   help="leave out a peer whose warm-up call takes longer "
                        "than this many seconds (default 10) and than "
                        f"{PEER_LIMIT_X} times convpool's first call")
    p.add_argument("--loop-images", type=int, default=5000,
                   help="batch subset the two-loop solution is timed on, "
                        "then extrapolated linearly (default 5000)")
    p.add_argument("--no-tasks", action="store_true",
                   help="skip the spec task files row")
    p.add_argument("--output", type=pathlib.Path, default=RESULTS,
                   help="directory for latest.json and latest.md")
    p.add_argument("--ab", type=pathlib.Path, metavar="OTHER_SRC",
                   help="A/B: time convpool from this tree's src against "
                        "OTHER_SRC (another checkout's src directory), "
                        "alternating subprocesses per workload")
    p.add_argument("--json-only", type=pathlib.Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _measure(load, peers, scale, repeats, loop_images, peer_limit):
    from .timing import copy_floor, extra_memory, interleaved, time_once
    from .workloads import OPS, flops
    arrays = load.make(scale, np.random.default_rng(0))

    def mine():
        return OPS[load.kind](arrays, load.options)
    mine_first, out = _call(mine)
    calls = _peer_calls(load, peers, arrays)
    limit = max(peer_limit, PEER_LIMIT_X * mine_first)
    slow, errors, wrong = _warm_up_and_check(load, peers, arrays, out,
                                             calls, limit)
    contenders = [("convpool", "", mine, None)] + [
        c for c in calls
        if c[0] not in slow and _key(c[0], c[1]) not in wrong]
    times = interleaved([fn for _, _, fn, _ in contenders], repeats,
                        warmup=0)
    mine_s = times[0]
    peer_s, variant = {}, {}
    for (name, label, _, _), t in zip(contenders[1:], times[1:]):
        if name not in peer_s or t < peer_s[name]:
            peer_s[name], variant[name] = t, label
    best = min(peer_s, key=peer_s.get) if peer_s else None
    outputs = _arrays(out)
    floor = copy_floor(arrays, outputs, repeats)
    out_bytes = sum(a.nbytes for a in outputs)
    row = {
        "name": load.name, "title": load.title, "kind": load.kind,
        "repeats": repeats,
        "convpool_s": mine_s, "peers_s": {n: peer_s.get(n)
                                          for n in PEER_NAMES},
        "peer_variant": variant, "best_peer": best,
        "peers_too_slow_s": slow,
        "best_peer_s": peer_s.get(best),
        "ratio": None if best is None else mine_s / peer_s[best],
        "target": load.target,
        "gflops": flops(load, arrays, out) / mine_s / 1e9,
        "floor_s": floor, "x_floor": mine_s / floor,
        "extra_mib": extra_memory(mine, out_bytes) / MiB,
        "check_error": errors, "peers_wrong": wrong,
        "shape": [list(a.shape) for a in arrays],
        "dtype": str(arrays[0].dtype),
        "path": _path(load, arrays),
    }
    row["met"] = (None if row["ratio"] is None or load.target is None
                  else row["ratio"] <= load.target)
    if load.seconds is not None:
        row.update(seconds_target=load.seconds,
                   seconds_met=mine_s < load.seconds)
        if row["met"] is None:
            row["met"] = row["seconds_met"]
    if load.floor_target is not None:
        row.update(floor_target=load.floor_target,
                   floor_met=row["x_floor"] <= load.floor_target)
    if load.loops:
        from .loops import convolve_grayscale
        x, k = arrays
        n = x.shape[0]
        sub = min(n, loop_images)
        seconds = time_once(lambda: convolve_grayscale(
            x[:sub, :, :, 0], k[:, :, 0, 0])) * n / sub
        row.update(loops_s=seconds, loops_images=sub,
                   loops_speedup=seconds / mine_s)
        if load.loops_target is not None:
            row.update(loops_target=load.loops_target,
                       loops_met=seconds / mine_s >= load.loops_target)
    return row


def _peer_calls(load, peers, arrays):
    """``[(peer, label, call, check options or None), ...]``."""
    calls = []
    for name, adapter in peers.items():
        if load.peers is None or name in load.peers:
            calls += [(name, *entry, None)[:4]
                      for entry in adapter(load, arrays)]
    return calls


def _key(name, label):
    return f"{name} {label}".strip()


def _warm_up_and_check(load, peers, arrays, out, calls, limit):
    """``(slow, errors, wrong)``: the peers too slow to time, each peer
    variant's difference from convpool, and the variants beyond the
    tolerance (reported here, left out of the timing)."""
    slow, errors = _warm_up(load, arrays, out, calls, limit)
    checked = arrays
    if load.check_on is not None:
        checked = load.check_on(arrays)
        errors = _check_apart(load, peers, checked)
    wrong = {k: e for k, e in errors.items() if e > _tolerance(checked)}
    for key, error in wrong.items():
        print(f"{load.name}: {key}'s result differs from convpool's by "
              f"{error:.3g} of its largest value; not timed", flush=True)
    return slow, errors, wrong


def _warm_up(load, arrays, out, calls, limit):
    """Call each peer once (JAX compiles here).  Returns ``(slow,
    errors)``: the peers whose call took more than ``limit`` seconds
    (left out; the cell says how long), and each variant's difference
    from convpool's result ``out`` (unless the workload is checked apart,
    ``check_on``)."""
    from .workloads import OPS
    slow, errors = {}, {}
    for name, label, fn, check in calls:
        seconds, result = _call(fn)
        if seconds > limit:
            slow[name] = seconds
        elif load.check_on is None:
            ours = out if check is None else OPS[load.kind](arrays, check)
            errors[_key(name, label)] = _difference(ours, result)
        del result
    return slow, errors


def _check_apart(load, peers, checked):
    """Each peer variant's difference from convpool on the arrays
    ``checked`` (``load.check_on`` of the timed ones)."""
    from .workloads import OPS
    ours = OPS[load.kind](checked, load.options)
    errors = {}
    for name, label, fn, check in _peer_calls(load, peers, checked):
        mine = ours if check is None else OPS[load.kind](checked, check)
        errors[_key(name, label)] = _difference(mine, fn())
    return errors


def _call(fn):
    """``(seconds, result)`` of one call."""
    import gc
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _arrays(result):
    """A result (an array, device array, or tuple/list of them) as a list
    of NumPy arrays."""
    if isinstance(result, (tuple, list)):
        return [np.asarray(a) for a in result]
    return [np.asarray(result)]


def _difference(ours, theirs):
    """Largest difference between two results, as a share of the largest
    magnitude in ours; a peer may return fewer arrays (a gradient without
    dbias): the ones it returns are compared."""
    ours, theirs = _arrays(ours), _arrays(theirs)
    worst = 0.0
    for a, b in zip(ours, theirs):
        if a.shape != b.shape:
            return float("inf")
        scale = max(float(np.max(np.abs(a), initial=0.0)), 1e-30)
        diff = np.max(np.abs(a.astype(np.float64) - b), initial=0.0)
        worst = max(worst, float(diff) / scale)
    return worst


def _tolerance(arrays):
    """How far a peer's result may be from convpool's, as a share of the
    largest value: the issues' 1e-9 (float64) and 1e-4 (float32)."""
    return 1e-9 if arrays[0].dtype == np.float64 else 1e-4


def _path(load, arrays):
    """filter2d's planned path and reason, when this tree has a planner."""
    if load.kind != "filter":
        return None
    try:
        from convpool.engines.border import plan_filter
    except ImportError:
        return None
    image, k = arrays
    # The reason starts with the path's name.
    return plan_filter(image.shape, k, np.result_type(image, k))[1]


def _tasks(scale, loop_images):
    """The spec's seven task files against the two-loop solution, at the
    spec's example shapes (random data: the datasets are not shipped)."""
    from .loops import TASKS
    from .timing import interleaved, time_once
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


def _machine(threads, peer_versions):
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    import convpool
    try:
        from convpool.engines._blas import blas_threads
        blas_n = blas_threads()
    except ImportError:
        blas_n = None
    info = {
        "cpu": model, "cores": os.cpu_count(),
        "convpool": str(pathlib.Path(convpool.__file__).parent),
        "convpool_threads": threads, "blas_threads": blas_n,
        "python": platform.python_version(), "numpy": np.__version__,
        "peers": peer_versions, "threads": threads,
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


COLUMNS = (["workload", "convpool s"] + [f"{p} s" for p in PEER_NAMES]
           + ["fastest peer", "ratio", "target", "met", "GFLOP/s",
              "copy floor s", "x floor", "extra MiB"])


def _target(r):
    if r.get("seconds_target") is not None:
        return f"< {r['seconds_target']:g} s"
    return "-" if r["target"] is None else f"<= {r['target']:.2f}"


def _cells(r):
    met = {True: "yes", False: "NO", None: "-"}[r["met"]]
    return ([f"{r['name']} {r['title']}", _fmt(r["convpool_s"], ".4f")]
            + [_peer_cell(r, p) for p in PEER_NAMES]
            + [r["best_peer"] or "-", _fmt(r["ratio"], ".3f"), _target(r),
               met, _fmt(r["gflops"], ".2f"), _fmt(r["floor_s"], ".4f"),
               _fmt(r["x_floor"], ".2f"), _fmt(r["extra_mib"], ".1f")])


def _peer_cell(r, peer):
    slow = r.get("peers_too_slow_s", {}).get(peer)
    if slow is not None:
        return f"(> {slow:.3g} s)"
    wrong = [k for k in r.get("peers_wrong", {}) if k.split()[0] == peer]
    if wrong and r["peers_s"].get(peer) is None:
        return "(wrong result)"
    return _fmt(r["peers_s"].get(peer), ".4f")


def _line(r):
    text = " | ".join(_cells(r))
    if "loops_s" in r:
        text += (f" | two loops {r['loops_s']:.2f} s "
                 f"(x{r['loops_speedup']:.0f})")
    return text


def _markdown(report):
    m = report["machine"]
    peers = ", ".join(f"{k} {v}" for k, v in m["peers"].items()) or "none"
    lines = [
        "# convpool benchmark" + (" (--quick: batches / 10)"
                                  if report["quick"] else ""),
        "",
        f"{m['cpu']}, {m['cores']} cores; {m['threads']} threads for "
        f"convpool and every peer; Python {m['python']}, NumPy "
        f"{m['numpy']} ({m['blas']}); peers: {peers}; {m['date']}; load "
        f"average before {m['load_before'][0]:.2f}, after "
        f"{m['load_after'][0]:.2f}.",
        "",
        f"Median of {report['repeats']} interleaved runs after a warm-up"
        + _other_repeats(report) + ". "
        "A peer's time is its faster variant (PyTorch: contiguous "
        "channels-first tensors or the channels-last view); its warm-up "
        "result was checked against convpool's (JSON: check_error); an "
        "empty cell: not installed, not applicable or a wrong result. "
        "ratio = convpool / fastest peer. x floor = convpool time / time "
        "to np.copyto the input and output bytes. extra MiB = tracemalloc "
        "peak minus the output.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |"
              for r in report["workloads"]]
    paths = [r for r in report["workloads"] if r.get("path")]
    if paths:
        lines += ["", "filter2d's planned paths:", ""]
        lines += [f"- {r['name']}: {r['path']}" for r in paths]
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


def _other_repeats(report):
    other = [f"{r['name']}: {r['repeats']}" for r in report["workloads"]
             if r.get("repeats", report["repeats"]) != report["repeats"]]
    return f" ({', '.join(other)})" if other else ""


def _write(report, directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.json").write_text(json.dumps(report, indent=1))
    (directory / "latest.md").write_text(_markdown(report))
    print(f"wrote {directory / 'latest.json'} and {directory / 'latest.md'}")


if __name__ == "__main__":
    main()
