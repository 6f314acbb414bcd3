"""How things are timed: medians of interleaved runs, the memory floor, and
the extra memory a call allocates."""

import gc
import statistics
import time
import tracemalloc

import numpy as np

__all__ = ["interleaved", "copy_floor", "extra_memory", "time_once"]


def time_once(fn):
    """Wall time of one call; the result is dropped before returning."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# Seconds to wait before each timed call.  PyTorch's OpenMP workers keep
# spinning for a while after a parallel region; measured, convpool's W1 took
# 0.153 s right after a torch call and 0.124 s after a 0.3 s pause.  The
# pause lets the previous contender's threads go idle, whoever it was.
SETTLE = 0.25


def interleaved(fns, repeats, warmup=1, settle=SETTLE):
    """Median wall time of each function.

    After ``warmup`` calls each, the functions run in turn, ``repeats``
    rounds, so that a noisy neighbour or a frequency change hits every
    contender alike; each timed call starts ``settle`` seconds after the
    previous one ends.  ``None`` entries are skipped.
    """
    live = [f for f in fns if f is not None]
    for fn in live:
        for _ in range(warmup):
            fn()
    times = {id(fn): [] for fn in live}
    for _ in range(repeats):
        for fn in live:
            time.sleep(settle)
            times[id(fn)].append(time_once(fn))
    return [None if f is None else statistics.median(times[id(f)])
            for f in fns]


def copy_floor(arrays, outputs, repeats):
    """Median time of ``np.copyto`` of every input and of arrays shaped
    like every output into preallocated buffers: reading and writing those
    bytes once is a floor no convolution can beat."""
    sources = list(arrays) + [np.ones(a.shape, a.dtype) for a in outputs]
    targets = [np.empty_like(a) for a in sources]

    def copy():
        for dst, src in zip(targets, sources):
            np.copyto(dst, src)
    return interleaved([copy], repeats)[0]


def extra_memory(fn, out_bytes):
    """Peak bytes NumPy allocated during ``fn()`` beyond its output."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return max(0, peak - out_bytes)
