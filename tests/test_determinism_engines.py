"""A result has the same bits whatever ``threads`` is and however the batch
is cut (issue 7, section 3): every engine path, threads 1 and 2, the whole
batch against the batch computed in pieces, float32 and float64.

The planner never looks at the batch size or the thread count, and every
BLAS product has one fixed height (a short tail product would round its
rows differently), so each output cell goes through the same arithmetic
wherever its image falls in a block.
"""

import warnings

import numpy as np
import pytest

import convpool
from convpool.engines.plan import PATHS

# (C, F, groups, kernel, stride, dilation, padding): problems every path
# named in ``runs`` can run.
PROBLEMS = {
    "gray": (1, 1, 1, (3, 3), 1, 1, "valid"),
    "gray_strided": (1, 1, 1, (3, 2), (2, 1), (1, 2), "same"),
    "depthwise": (6, 6, 6, (3, 3), 1, 1, "same"),
    "rgb": (3, 4, 1, (3, 3), 1, 1, "valid"),
    "wide": (16, 8, 1, (3, 3), (1, 2), 1, "same"),
    "grouped": (8, 6, 2, (2, 3), 2, (2, 1), 1),
}
ONE_EACH = {"gray", "gray_strided", "depthwise"}


def runs():
    for name, problem in PROBLEMS.items():
        for path in ("auto",) + PATHS:
            if path in ("axpy", "depthwise") and name not in ONE_EACH:
                continue
            if path == "axpy" and name == "depthwise":
                continue     # weights differ by group
            if path == "banded" and problem[2] != 1:
                continue
            yield name, path


def conv(x, w, problem, engine, threads):
    c, f, groups, window, stride, dilation, padding = problem
    return convpool.conv2d(x, w, stride=stride, dilation=dilation,
                           padding=padding, groups=groups, engine=engine,
                           threads=threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, path", list(runs()))
def test_same_bits_for_any_threads_and_batch_cut(name, path, dtype):
    problem = PROBLEMS[name]
    c, f, groups, window = problem[:4]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((100, 13, 12, c)).astype(dtype)
    w = rng.standard_normal(window + (c // groups, f)).astype(dtype)
    whole = conv(x, w, problem, path, 1)
    np.testing.assert_array_equal(conv(x, w, problem, path, 2), whole)
    for n in (1, 7, 33):
        # Pieces alternate between one thread and two.
        pieces = np.concatenate([conv(x[i:i + n], w, problem, path,
                                      1 + (i // n) % 2)
                                 for i in range(0, 100, n)])
        np.testing.assert_array_equal(pieces, whole, err_msg=f"n={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_same_bits_for_any_threads_and_batch_cut(mode, dtype):
    x = np.random.default_rng(3).standard_normal((100, 13, 12, 3))
    x = x.astype(dtype)

    def pool(part, threads):
        return convpool.pool2d(part, 3, stride=2, padding="same", mode=mode,
                               threads=threads)
    whole = pool(x, 1)
    np.testing.assert_array_equal(pool(x, 2), whole)
    for n in (1, 7, 33):
        pieces = np.concatenate([pool(x[i:i + n], 2)
                                 for i in range(0, 100, n)])
        np.testing.assert_array_equal(pieces, whole)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_banded_bands_of_one_image_same_bits(dtype):
    """A wide layer (W5's 56x56x64) is cut into bands of rows inside each
    image; the band's product height is fixed by the one-thread budget,
    so threads 1-3 and any batch cut give the same bits."""
    rng = np.random.default_rng(1)
    x = rng.random((3, 56, 56, 64)).astype(dtype)
    k = rng.standard_normal((3, 3, 64, 64)).astype(dtype)

    def conv(part, threads):
        return convpool.conv2d(part, k, padding="same", engine="banded",
                               threads=threads)
    whole = conv(x, 1)
    for threads in (2, 3):
        np.testing.assert_array_equal(conv(x, threads), whole)
    np.testing.assert_array_equal(
        np.concatenate([conv(x[:1], 2), conv(x[1:], 1)]), whole)


@pytest.mark.parametrize("threads", [1, 2])
def test_banded_products_reading_into_the_next_images(threads):
    """A block's last banded product runs whole over the next images'
    rows of the caller's array (their results thrown away): images after
    the finite run holding inf and NaN change nothing, not a bit, and no
    warning is raised."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal((60, 32, 32, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 3)).astype(np.float32)
    assert "banded" in convpool.explain("conv2d", x, w)
    clean = convpool.conv2d(x[:30], w, threads=threads)
    x[30:] = np.inf
    x[45:, ::3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The finite images run banded, the others another path.
        full = convpool.conv2d(x, w, threads=threads)
    np.testing.assert_array_equal(full[:30], clean)
    assert np.isfinite(full[:30]).all()
    want = convpool.conv2d(x[:30].astype(np.float64), w.astype(np.float64),
                           engine="taps")
    np.testing.assert_allclose(clean, want, rtol=1e-4, atol=1e-4)
