"""The helper threads and the scratch a thread keeps between calls
(``engines._parallel``): nested calls never share a buffer, an error in a
block reaches the caller after every helper has stopped, a forked child
gets threads of its own, and concurrent callers get the same bits."""

import multiprocessing
import threading

import numpy as np
import pytest

import convpool
from convpool.engines import _parallel


def _buffers_seen(threads):
    seen = []

    def outer(n0, _n1, _r0, _r1, scratch):
        mine = scratch.get("acc", (64,), np.float64)
        mine.fill(n0)

        def inner(*args):
            inner_acc = args[-1].get("acc", (64,), np.float64)
            inner_acc.fill(-1)
            seen.append((mine.ctypes.data, inner_acc.ctypes.data))

        _parallel.run_blocks(inner, [(0, 1, 0, 0)], 1)
        # The nested call wrote its own buffer, not this block's.
        assert (mine == n0).all()

    _parallel.run_blocks(outer, [(i, i + 1, 0, 0) for i in range(6)],
                         threads)
    return seen


@pytest.mark.parametrize("threads", [1, 2])
def test_a_nested_call_gets_its_own_scratch(threads):
    seen = _buffers_seen(threads)
    assert len(seen) == 6
    assert all(outer != inner for outer, inner in seen)


def test_scratch_is_kept_between_calls_up_to_the_limit():
    _parallel._local.stack = []        # what earlier tests kept
    addresses = []

    def grab(size):
        def work(*args):
            addresses.append(args[-1].get("buf", (size,), np.uint8)
                             .ctypes.data)
        _parallel.run_blocks(work, [(0, 1, 0, 0)], 1)

    small = _parallel.KEEP_SCRATCH // 2
    grab(small)
    grab(small)
    assert addresses[0] == addresses[1]          # kept: no fresh pages
    big = _parallel.KEEP_SCRATCH * 2
    grab(big)
    kept = [s for s in _parallel._local.stack[0]._buffers.values()]
    assert sum(b.nbytes for b in kept) == 0      # freed past the limit


def test_memos_do_not_outlive_a_call():
    made = []

    def work(*args):
        args[-1].memo("key", lambda s: made.append(1) or len(made))

    _parallel.run_blocks(work, [(0, 1, 0, 0), (1, 2, 0, 0)], 1)
    _parallel.run_blocks(work, [(0, 1, 0, 0)], 1)
    assert made == [1, 1]       # once per call, not once per process


def test_an_error_in_a_block_stops_the_others_and_reaches_the_caller():
    done = []
    lock = threading.Lock()

    def work(n0, *_):
        if n0 == 3:
            raise ValueError("block 3")
        with lock:
            done.append(n0)

    blocks = [(i, i + 1, 0, 0) for i in range(200)]
    with pytest.raises(ValueError, match="block 3"):
        _parallel.run_blocks(work, blocks, 2)
    assert len(done) < 199       # the rest were not started
    # The helpers are free again: a later call runs every block.
    done.clear()
    _parallel.run_blocks(lambda n0, *_: done.append(n0), blocks[:50], 2)
    assert sorted(done) == list(range(50))


def _child(queue):
    x = np.random.default_rng(0).standard_normal(
        (256, 48, 48, 3)).astype(np.float32)
    k = np.ones((3, 3, 3, 4), np.float32)
    queue.put(convpool.conv2d(x, k, threads=2, engine="im2col").sum())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="no fork on this platform")
def test_a_forked_child_gets_threads_of_its_own():
    x = np.random.default_rng(0).standard_normal(
        (256, 48, 48, 3)).astype(np.float32)
    k = np.ones((3, 3, 3, 4), np.float32)
    expected = convpool.conv2d(x, k, threads=2, engine="im2col").sum()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert got == expected


def test_concurrent_callers_get_the_serial_bits():
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((256, 48, 48, 3)).astype(np.float32)
          for _ in range(4)]
    k = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
    expected = [convpool.conv2d(x, k, threads=1) for x in xs]
    got = [None] * len(xs)

    def call(i):
        got[i] = convpool.conv2d(xs[i], k, threads=2)

    callers = [threading.Thread(target=call, args=(i,))
               for i in range(len(xs))]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)
