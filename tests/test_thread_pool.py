"""The process-wide pool of worker threads behind ``threads=``."""

import multiprocessing
import threading

import numpy as np
import pytest

import convpool
from convpool.engines import _parallel


def convpool_threads():
    return {t for t in threading.enumerate()
            if t.name.startswith("convpool")}


def test_calls_reuse_the_pool_threads():
    x = np.random.default_rng(0).standard_normal((40, 20, 20, 3))
    w = np.ones((3, 3, 3, 2))
    first = convpool.conv2d(x, w, threads=2)
    before = convpool_threads()
    assert 1 <= len(before) <= _parallel._pool_state["size"]
    for _ in range(5):
        np.testing.assert_array_equal(convpool.conv2d(x, w, threads=2),
                                      first)
    assert convpool_threads() == before


def test_nested_calls_run_inline_without_deadlock():
    """A block that itself asks for threads runs its blocks on its own
    thread: no pool thread waits for another."""
    out = np.zeros((4, 6), int)
    seen = set()

    def inner(n0, n1, r0, r1, scratch, row):
        seen.add(threading.current_thread().name)
        out[row, n0:n1] = n0 + 1

    def outer(n0, n1, r0, r1, scratch):
        for row in range(n0, n1):
            _parallel.run_blocks(
                lambda *a, row=row: inner(*a, row=row),
                [(i, i + 1, 0, 0) for i in range(6)], 2)
    done = threading.Event()

    def call():
        _parallel.run_blocks(outer, [(i, i + 1, 0, 0) for i in range(4)], 2)
        done.set()
    runner = threading.Thread(target=call, daemon=True)
    runner.start()
    assert done.wait(30), "nested run_blocks deadlocked"
    np.testing.assert_array_equal(out, np.tile(np.arange(1, 7), (4, 1)))
    assert all(name.startswith("convpool") for name in seen)


def test_an_error_in_a_block_reaches_the_caller():
    def work(n0, n1, r0, r1, scratch):
        if n0 == 3:
            raise RuntimeError("block 3")
    with pytest.raises(RuntimeError, match="block 3"):
        _parallel.run_blocks(work, [(i, i + 1, 0, 0) for i in range(6)], 2)


def _child(queue):
    x = np.arange(2 * 9 * 9 * 2, dtype=float).reshape(2, 9, 9, 2)
    queue.put(convpool.conv2d(x, np.ones((3, 3, 2, 1)), threads=2).sum())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="no fork on this platform")
def test_a_forked_process_starts_its_own_pool():
    """Threads do not survive a fork: a child of a process whose pool is
    running gets a new pool instead of waiting forever on the old one."""
    x = np.arange(2 * 9 * 9 * 2, dtype=float).reshape(2, 9, 9, 2)
    want = convpool.conv2d(x, np.ones((3, 3, 2, 1)), threads=2).sum()
    assert convpool_threads()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == want
