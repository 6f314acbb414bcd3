"""Batch chunking and threads.

NumPy's ufuncs and matmul release the GIL, so independent batch chunks run
in parallel on a thread pool.  Chunks are sized so that each one's working
set stays small: this bounds the extra memory of any call, whatever the
batch size, and keeps the per-tap passes in cache.
"""

import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["get_threads", "set_threads", "resolve_threads", "run_chunks",
           "chunk_length"]

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
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"`threads` must be an int >= 1, got {threads!r}")
    return threads


def chunk_length(n, bytes_per_item, budget, threads):
    """Items per chunk: at most ``budget`` bytes each, at least one chunk a
    thread when the batch is big enough, never fewer than one item."""
    by_budget = max(1, budget // max(1, bytes_per_item))
    by_threads = max(1, -(-n // threads))
    return min(by_budget, by_threads)


def run_chunks(work, n, length, threads):
    """Call ``work(start, stop)`` over ``range(n)`` in chunks of ``length``."""
    bounds = [(s, min(s + length, n)) for s in range(0, n, length)]
    if threads == 1 or len(bounds) <= 1:
        for start, stop in bounds:
            work(start, stop)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(bounds))) as pool:
        for future in [pool.submit(work, s, e) for s, e in bounds]:
            future.result()
