"""The pooling engine reduces a window's first two taps in one pass where
both reach the same cells (``engines.pool.reduce_taps``, which the 3-D
depth pass shares).  These tests pin what that pass must keep, bit for
bit: the accumulation dtype (a float16 average adds in float32 from its
first add on, an integer one in float64) and the order (depth, then rows,
then columns; the taps of each axis in scan order)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convpool


def _wide_values(rng, shape, dtype):
    """Values over many binades, so that a sum rounded to a narrower type
    than the accumulator's would show in the last bits."""
    scale = 2.0 ** rng.integers(-12, 12, size=shape)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _pairs(a, axis):
    """Sum or max partner views: cells 0, 2, 4 ... and 1, 3, 5 ... of
    ``axis``."""
    even = [slice(None)] * a.ndim
    odd = [slice(None)] * a.ndim
    even[axis], odd[axis] = slice(0, None, 2), slice(1, None, 2)
    return a[tuple(even)], a[tuple(odd)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1),
       dtype=st.sampled_from([np.float16, np.int8, np.int32]),
       n=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5),
       c=st.sampled_from([1, 3, 16]))
def test_average_2x2_adds_in_the_accumulation_dtype(seed, dtype, n, h, w,
                                                    c):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = _wide_values(rng, (n, 2 * h, 2 * w, c), dtype)
        acc = np.float32
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, (n, 2 * h, 2 * w, c),
                         dtype=dtype, endpoint=True)
        acc = np.float64
    wide = x.astype(acc)
    rows = np.add(*_pairs(wide, 1))
    out_type = dtype if np.dtype(dtype).kind == "f" else np.float64
    expected = (np.add(*_pairs(rows, 2)) / acc(4)).astype(out_type)
    got = convpool.avg_pool2d(x, 2)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]),
       n=st.integers(1, 2), d=st.integers(1, 3), h=st.integers(1, 4),
       c=st.sampled_from([1, 3, 16]))
def test_max_2x2x2_reduces_depth_then_rows_then_columns(seed, dtype, n, d,
                                                        h, c):
    rng = np.random.default_rng(seed)
    x = _wide_values(rng, (n, 2 * d, 2 * h, 2 * h, c), dtype)
    # NaN, inf and signed zeros in some cells.
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype)
    where = rng.random(x.shape) < 0.2
    x[where] = rng.choice(special, where.sum())
    before = x.copy()
    expected = np.maximum(*_pairs(x, 1))
    expected = np.maximum(*_pairs(expected, 2))
    expected = np.maximum(*_pairs(expected, 3))
    got = convpool.max_pool3d(x, 2)
    np.testing.assert_array_equal(got.view(np.uint8),
                                  expected.view(np.uint8))
    np.testing.assert_array_equal(x.view(np.uint8), before.view(np.uint8))


@pytest.mark.parametrize("window, stride, padding", [
    (3, 2, 1), (3, 1, "same"), (2, 1, 0), ((3, 2), (2, 1), ((1, 1), (0, 1)))])
def test_max_with_taps_of_unequal_reach_keeps_its_bits(window, stride,
                                                       padding):
    # Padded windows: the first two taps reach different cells, so the
    # pair is not fused there; the threads never change a bit.
    rng = np.random.default_rng(3)
    x = _wide_values(rng, (256, 31, 29, 5), np.float32)   # > 4 MiB
    one = convpool.max_pool2d(x, window, stride=stride, padding=padding,
                              threads=1)
    two = convpool.max_pool2d(x, window, stride=stride, padding=padding,
                              threads=2)
    np.testing.assert_array_equal(one.view(np.uint32), two.view(np.uint32))
    ref = convpool.max_pool2d(x.astype(np.float64), window, stride=stride,
                              padding=padding)
    np.testing.assert_array_equal(one, ref.astype(np.float32))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]),
       c=st.sampled_from([4, 8, 16, 24, 40]), k=st.integers(2, 3),
       s=st.integers(2, 3), d=st.integers(1, 2), w=st.integers(1, 19),
       h=st.integers(1, 7), mode=st.sampled_from(["max", "avg"]),
       pad=st.sampled_from([0, 1]))
def test_shifted_column_pass_gives_the_strided_passes_bits(
        seed, dtype, c, k, s, d, w, h, mode, pad):
    # Pixels of 64-255 bytes at a column stride of 2 or more take
    # ``_shifted_cols`` (contiguous passes, then the kept pixels copied
    # out); with it turned off, the strided views of ``_pool_cols``.
    from convpool.engines import pool as engine
    rng = np.random.default_rng(seed)
    x = _wide_values(rng, (2, h + 2, w + (k - 1) * d, c), dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    call = (lambda: convpool.pool2d(x, (2, k), stride=(1, s), mode=mode,
                                    padding=pad, dilation=(1, d)))
    shifted = call()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(engine, "_LONG_PIXEL", 0)
        strided = call()
    np.testing.assert_array_equal(shifted.view(np.uint8),
                                  strided.view(np.uint8))
    # And the path is taken where it should be.
    taken = []
    real = engine._shifted_cols
    with pytest.MonkeyPatch.context() as m:
        m.setattr(engine, "_shifted_cols",
                  lambda *a: taken.append(real(*a)) or taken[-1])
        call()
    # The pass works in the accumulation dtype: float32 for a float16
    # average.
    acc = np.float32 if (mode, dtype) == ("avg", np.float16) else dtype
    item = c * np.dtype(acc).itemsize
    expected = 64 <= item < 256 and pad == 0
    assert taken and all(t == expected for t in taken)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_tied_zeros_keep_the_last_while_indices_keep_the_first(rank):
    """The README's conventions row: of tied -0.0 and +0.0, float32 max
    pooling's passes keep the last (NumPy's float32 maximum returns its
    second operand on a tie; its float16 one, the first), where PyTorch
    keeps the first in scan order; the argmax of ``return_indices``
    follows PyTorch."""
    x = np.zeros((1,) + (2,) * rank + (1,), np.float32)
    x.flat[0] = -0.0
    values, indices = getattr(convpool, f"max_pool{rank}d")(
        x, 2, return_indices=True)
    assert values.shape == (1,) + (1,) * rank + (1,)
    assert values.item() == 0.0 and not np.signbit(values.item())
    assert indices.item() == 0
    torch = pytest.importorskip("torch")
    pool = getattr(torch.nn.functional, f"max_pool{rank}d")
    t = pool(torch.from_numpy(np.moveaxis(x, -1, 1).copy()), 2)
    assert bool(torch.signbit(t).item())
