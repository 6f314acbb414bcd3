"""convpool on Dask at scale: out of core, and against dask-image.

Two measurements (issue 9, section 4):

``outofcore``  writes a Zarr batch of float32 28x28 images of ``--gib``
    GiB, then convolves it with a 3x3 kernel, store to store, on a
    LocalCluster of ``--workers`` processes with ``--memory-limit`` each.
    Reports wall time, MB/s of input, the workers' peak resident memory
    (``ru_maxrss`` of freshly restarted workers), worker restarts, and
    equality with in-memory convpool on sampled chunks.
``dask-image`` filters a ``--size`` x ``--size`` float32 picture chunked
    ``--chunk`` x ``--chunk`` with a 5x5 kernel, constant and wrap borders:
    ``convpool.filter2d`` against ``dask_image.ndfilters.correlate`` on the
    same chunks and the same scheduler; reports the best of ``--repeat``
    wall times, the ratio and the largest difference on sampled chunks.

Examples::

    python -m benchmarks.dask_scale outofcore --gib 0.5 --workers 1 2
    python -m benchmarks.dask_scale dask-image --size 4096 --chunk 2048

Not imported by the tests.  Needs the ``bench-dask`` extra.
"""

import argparse
import contextlib
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGE = (28, 28, 1)
MiB = 1 << 20


def main(argv=None):
    args = _parser().parse_args(argv)
    rows = args.run(args)
    print("\n".join(rows))


def _parser():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dask_scale",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True)
    ooc = sub.add_parser("outofcore", help="Zarr batch, store to store")
    ooc.add_argument("--gib", type=float, default=0.5)
    ooc.add_argument("--workers", type=int, nargs="+", default=[2])
    ooc.add_argument("--memory-limit", default="1.5GiB")
    ooc.add_argument("--images-per-chunk", type=int, default=8192)
    ooc.add_argument("--dir", default=None,
                     help="where the stores go (default: a temporary dir)")
    ooc.add_argument("--samples", type=int, default=4)
    ooc.set_defaults(run=run_outofcore)
    peer = sub.add_parser("dask-image", help="filter2d vs dask-image")
    peer.add_argument("--size", type=int, default=4096)
    peer.add_argument("--chunk", type=int, default=2048)
    peer.add_argument("--repeat", type=int, default=3)
    peer.add_argument("--scheduler", default="threads",
                      help="threads, or a LocalCluster of N processes: "
                           "'processes:N'")
    peer.set_defaults(run=run_vs_dask_image)
    return parser


# ------------------------------------------------------------ out of core

@contextlib.contextmanager
def _cluster(workers, memory_limit, directory):
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                           processes=True, memory_limit=memory_limit,
                           scheduler_port=0, dashboard_address=None,
                           local_directory=str(directory), silence_logs=40)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def write_batch(path, gib, per_chunk):
    """A Zarr batch of random float32 images, about ``gib`` GiB."""
    import dask.array as da
    n = max(1, int(gib * (1 << 30)) // (4 * int(np.prod(IMAGE))))
    chunks = (min(per_chunk, n),) + IMAGE
    batch = da.random.default_rng(0).standard_normal(
        (n,) + IMAGE, chunks=chunks, dtype=np.float32)
    batch.to_zarr(str(path), overwrite=True)
    return n


def _warm_up():
    import convpool.backends.dask  # noqa: F401
    import zarr  # noqa: F401


def _peak_rss(client):
    """Peak resident bytes of each worker process since it started."""
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return client.run(peak)


def convolve_store(source, target, kernel):
    import dask.array as da

    import convpool
    batch = da.from_zarr(str(source))
    result = batch if kernel is None else convpool.conv2d(batch, kernel,
                                                          padding="same")
    result.to_zarr(str(target), overwrite=True)
    return batch.nbytes


def _timed(function, *args):
    t0 = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - t0


def check_samples(source, target, kernel, samples):
    """Largest |difference| between stored output chunks and in-memory
    convpool on the same input chunks (0.0 is bitwise equal)."""
    import zarr

    import convpool
    x, y = zarr.open_array(str(source), mode="r"), zarr.open_array(
        str(target), mode="r")
    step = x.chunks[0]
    every = np.arange(0, x.shape[0], step)
    starts = np.random.default_rng(1).choice(
        every, size=min(samples, len(every)), replace=False)
    worst = 0.0
    for start in starts:
        chunk = x[start:start + step]
        expected = convpool.conv2d(chunk, kernel, padding="same", threads=1)
        worst = max(worst, float(np.abs(y[start:start + step] - expected)
                                 .max()))
    return worst


def run_outofcore(args):
    base = Path(args.dir or tempfile.mkdtemp(prefix="convpool-dask-"))
    base.mkdir(parents=True, exist_ok=True)
    kernel = np.random.default_rng(2).standard_normal(
        (3, 3, 1, 1)).astype(np.float32)
    source = base / "batch.zarr"
    rows = ["| workers | memory limit | input GiB | images | wall s | MB/s "
            "| copy-only s | peak RSS per worker MiB | restarts "
            "| max diff (sampled) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    try:
        with _cluster(max(args.workers), args.memory_limit, base) as client:
            t0 = time.perf_counter()
            n = write_batch(source, args.gib, args.images_per_chunk)
            print(f"wrote {n} images in {time.perf_counter() - t0:.1f} s")
        for workers in args.workers:
            target = base / f"out-{workers}.zarr"
            with _cluster(workers, args.memory_limit, base) as client:
                client.restart()
                # Imports are not the work being measured.
                client.run(_warm_up)
                before = set(client.scheduler_info()["workers"])
                nbytes, wall = _timed(convolve_store, source, target, kernel)
                peaks = _peak_rss(client)
                restarts = len(before - set(client.scheduler_info()
                                            ["workers"]))
                # The same store-to-store pass without convolving: the
                # cost of Zarr reading, compressing and writing alone.
                _, copy = _timed(convolve_store, source, base / "copy.zarr",
                                 None)
            diff = check_samples(source, target, kernel, args.samples)
            rss = ", ".join(f"{p / MiB:.0f}" for p in peaks.values())
            rows.append(
                f"| {workers} | {args.memory_limit} | {nbytes / 2**30:.2f} "
                f"| {n} | {wall:.1f} | {nbytes / MiB / wall:.0f} | "
                f"{copy:.1f} | {rss} | "
                f"{restarts} | {diff:g} |")
            shutil.rmtree(target, ignore_errors=True)
            shutil.rmtree(base / "copy.zarr", ignore_errors=True)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    return rows


# ------------------------------------------------------------ dask-image

def _filters(picture, kernel, mode):
    import dask_image.ndfilters as ndf

    import convpool
    ours = convpool.filter2d(picture, kernel, pad_mode=mode)
    theirs = ndf.correlate(picture, kernel, mode=mode, cval=0.0)
    return {"convpool": ours, "dask-image": theirs}


@contextlib.contextmanager
def _scheduler(spec):
    import dask
    if spec == "threads":
        with dask.config.set(scheduler="threads"):
            yield spec
        return
    workers = int(spec.partition(":")[2] or 2)
    with tempfile.TemporaryDirectory() as directory, \
            _cluster(workers, "auto", directory):
        yield f"LocalCluster({workers} processes)"


def _best_time(array, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        array.sum().compute()
        best = min(best, time.perf_counter() - t0)
    return best


def _max_difference(a, b, samples=3):
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(samples):
        index = tuple(int(rng.integers(n)) for n in a.numblocks)
        worst = max(worst, float(np.abs(a.blocks[index].compute()
                                        - b.blocks[index].compute()).max()))
    return worst


def run_vs_dask_image(args):
    import dask.array as da
    kernel = np.random.default_rng(4).standard_normal((5, 5)).astype(
        np.float32)
    rows = ["| picture | chunks | border | scheduler | convpool s "
            "| dask-image s | ratio | max diff (sampled) |",
            "|---|---|---|---|---|---|---|---|"]
    with _scheduler(args.scheduler) as name:
        picture = da.random.default_rng(5).random(
            (args.size, args.size), chunks=args.chunk,
            dtype=np.float32).persist()
        for mode in ("constant", "wrap"):
            lazy = _filters(picture, kernel, mode)
            times = {k: _best_time(v, args.repeat) for k, v in lazy.items()}
            diff = _max_difference(lazy["convpool"], lazy["dask-image"])
            rows.append(
                f"| {args.size}x{args.size} | {args.chunk}x{args.chunk} | "
                f"{mode} | {name} | {times['convpool']:.2f} | "
                f"{times['dask-image']:.2f} | "
                f"{times['convpool'] / times['dask-image']:.2f}x | "
                f"{diff:.2g} |")
    return rows


if __name__ == "__main__":
    main()
