"""Small calls run on one thread (``THREADED_BYTES``): starting threads and
trading the GIL cost more than a second core gives.  Big calls still use
the threads they are given, and neither changes a bit."""

import numpy as np
import pytest

import convpool
from convpool.engines import _parallel


@pytest.fixture
def pools(monkeypatch):
    """The worker counts of every thread pool a call starts."""
    started = []
    real = _parallel.ThreadPoolExecutor

    def spy(max_workers):
        started.append(max_workers)
        return real(max_workers=max_workers)

    monkeypatch.setattr(_parallel, "ThreadPoolExecutor", spy)
    return started


SMALL = [
    ("conv", lambda x: convpool.conv2d(x, np.ones((5, 5, 6, 16),
                                                  np.float32))),
    ("pool", lambda x: convpool.max_pool2d(x, 2)),
    ("pool indices", lambda x: convpool.max_pool2d(
        x, 2, return_indices=True)),
    ("grad", lambda x: convpool.grad.conv2d(
        x, np.ones((5, 5, 6, 16), np.float32),
        np.ones((len(x), 24, 24, 16), np.float32))),
]


@pytest.mark.parametrize("name, call", SMALL, ids=[s[0] for s in SMALL])
def test_small_calls_start_no_threads(pools, name, call):
    x = np.random.default_rng(0).standard_normal(
        (16, 28, 28, 6)).astype(np.float32)
    convpool.set_threads(2)
    try:
        call(x)
    finally:
        convpool.set_threads(None)
    assert pools == []


def test_big_calls_use_their_threads_with_the_same_bits(pools):
    x = np.random.default_rng(1).standard_normal(
        (256, 28, 28, 6)).astype(np.float32)
    k = np.random.default_rng(2).standard_normal(
        (5, 5, 6, 16)).astype(np.float32)
    assert x.nbytes >= _parallel.THREADED_BYTES
    two = convpool.conv2d(x, k, threads=2)
    assert pools and max(pools) == 2
    np.testing.assert_array_equal(convpool.conv2d(x, k, threads=1), two)
    np.testing.assert_array_equal(
        np.concatenate([convpool.conv2d(x[:16], k, threads=2),
                        convpool.conv2d(x[16:], k, threads=2)]), two)


def test_worth_threads_threshold():
    limit = _parallel.THREADED_BYTES
    assert _parallel.worth_threads(limit - 1, 8) == 1
    assert _parallel.worth_threads(limit, 8) == 8
    assert _parallel.worth_threads(0, 1) == 1
