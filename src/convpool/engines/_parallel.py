"""Blocks of work, threads, and per-thread scratch.

A call's output is cut into blocks: several whole images, or a band of
output rows of one image.  Blocks are sized so that each one's scratch
stays small (about 1-2 MiB): this bounds the extra memory of any call,
whatever the batch size, and keeps each pass over a block in cache.
NumPy's ufuncs and BLAS release the GIL, so blocks run in parallel on a
thread pool, each worker reusing its own scratch buffers.
"""

import contextlib
import math
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["get_threads", "set_threads", "resolve_threads", "chunk_length",
           "block_budget", "row_blocks", "run_blocks", "Scratch", "quiet",
           "worth_threads", "THREADED_BYTES"]

_threads = None


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_threads():
    """Number of threads convpool uses when a call does not say."""
    return _threads or _available_cores()


def set_threads(n):
    """Set the default thread count for every op; ``None`` means all cores."""
    global _threads
    _threads = None if n is None else resolve_threads(n)


def resolve_threads(threads):
    """Validate a ``threads`` argument; ``None`` means the global default."""
    if threads is None:
        return get_threads()
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"`threads` must be an int >= 1, got {threads!r}")
    if threads < 1:
        raise ValueError(f"`threads` must be an int >= 1, got {threads!r}")
    return int(threads)


def chunk_length(n, bytes_per_item, budget, threads):
    """Items per chunk: at most ``budget`` bytes each, at least one chunk a
    thread when the batch is big enough, never fewer than one item."""
    by_budget = max(1, budget // max(1, bytes_per_item))
    by_threads = max(1, -(-n // threads))
    return min(by_budget, by_threads)


# Extra memory of a call is at most threads * block budget; keep it well
# under the 64 MiB the library promises, whatever the core count.
MAX_SCRATCH = 48 << 20


def block_budget(budget, threads, grow=2):
    """Scratch bytes per block for a call on ``threads`` threads.

    Every NumPy call in a block releases the GIL and must take it back;
    with several threads busy each hand-over can wait for another thread,
    so threaded convolutions use blocks ``grow`` times bigger (half as
    many calls).  Measured on 2 threads: 17-23% faster for grayscale, RGB
    and depthwise convolutions, no change for pooling.  The total stays
    under ``MAX_SCRATCH``.
    """
    if threads > 1:
        budget *= grow
    return max(1 << 16, min(budget, MAX_SCRATCH // threads))


# A call with less work than this (its blocks' scratch, or the bytes it
# reads where there is no block scratch) runs on one thread.  Starting a
# thread costs about 0.25 ms here, and two threads trading the GIL between
# many short NumPy calls lose more than the second core gives (LeNet-5's
# layers at batch 128, one thread vs two: 2x2 max pool 0.93 vs 1.61 ms,
# 5x5x6x16 conv 2.06 vs 2.44 ms; at batch 384, 5.2 MiB, two threads win).
# Threads never change a result's bits.
THREADED_BYTES = 4 << 20


def worth_threads(total_bytes, threads):
    """``threads``, or 1 for a call of less than ``THREADED_BYTES``.

    >>> worth_threads(1 << 20, 2), worth_threads(64 << 20, 2)
    (1, 2)
    """
    return threads if total_bytes >= THREADED_BYTES else 1


def row_blocks(n, rows, row_bytes, budget, threads):
    """Split ``n`` images of ``rows`` output rows into work blocks.

    Returns ``(n0, n1, r0, r1)`` tuples: several whole images per block
    while one image's scratch (``rows * row_bytes``) fits ``budget``,
    otherwise one image per block cut into bands of rows, so that one huge
    picture is tiled too.  A lone image is banded when that gives idle
    threads work.
    """
    image_bytes = rows * row_bytes
    if image_bytes <= budget and (n >= threads or rows < 2 * threads):
        length = chunk_length(n, image_bytes, budget, threads)
        return [(s, min(s + length, n), 0, rows) for s in range(0, n, length)]
    band = max(1, min(budget // max(1, row_bytes), -(-rows * n // threads)))
    return [(i, i + 1, r, min(r + band, rows))
            for i in range(n) for r in range(0, rows, band)]


class Scratch:
    """One worker's reusable buffers.

    Blocks of one call have the same shapes, so each worker allocates its
    accumulators and frames once: fresh pages from the OS cost a page fault
    each, as much as a whole tap pass.
    """

    def __init__(self):
        self._buffers = {}
        self._memo = {}

    def get(self, name, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype``."""
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            buf = self._buffers[name] = np.empty(size, np.uint8)
        return buf[:size].view(dtype).reshape(shape)

    def memo(self, key, make):
        """``make(self)``, computed once per worker and ``key``: views of
        this worker's buffers that every block of a shape reuses.  Buffers
        only grow, and a view keeps its own buffer alive, so a memo stays
        valid (if stale) after a later ``get`` reallocates.  Memos of
        different keys may view the same buffer: a block writes every cell
        of them it reads."""
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = make(self)
        return value


def quiet():
    """The workers' ``np.errstate``: inf * 0 and inf - inf give NaN, an
    average over +inf and -inf is NaN, and a float16 result past 65504 is
    inf, as in PyTorch, which says nothing.  errstate is per thread, so
    every worker enters it (once, not per block: see ``run_blocks``)."""
    return np.errstate(invalid="ignore", over="ignore")


def run_blocks(work, blocks, threads, context=None):
    """Call ``work(n0, n1, r0, r1, scratch)`` for every block on up to
    ``threads`` workers, each pulling the next block and owning a
    ``Scratch``.

    ``context()``, if given, makes a context manager that each worker
    enters once around all its blocks: per-thread settings such as
    ``np.errstate``.  Entering it per block instead cost W1 (hundreds of
    blocks, 2 threads) 7% of its time: every Python step between two
    GIL-releasing calls delays the other thread's hand-back."""
    todo = iter(blocks)
    lock = threading.Lock()

    def worker():
        scratch = Scratch()
        with context() if context is not None else contextlib.nullcontext():
            while True:
                with lock:
                    block = next(todo, None)
                if block is None:
                    return
                work(*block, scratch)

    workers = min(threads, len(blocks))
    if workers <= 1:
        worker()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result()
