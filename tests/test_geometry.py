"""Shape arithmetic: padding rules and output sizes, on their own."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from convpool.geometry import (dilated_size, output_size, pair,
                               pool_output_size, resolve_padding)

sizes = st.integers(1, 64)
small = st.integers(1, 7)


@pytest.mark.parametrize("value, expected", [
    (3, (3, 3)), ((2, 1), (2, 1)), ([4, 5], (4, 5)),
    (np.int64(2), (2, 2)), (np.array([1, 3]), (1, 3)),
])
def test_pair_accepts_ints_pairs_and_numpy_integers(value, expected):
    assert pair(value, "stride") == expected


@pytest.mark.parametrize("value, error, match", [
    (0, ValueError, r"`stride` must be >= 1, got \(0, 0\)"),
    ((1, 0), ValueError, r"`stride` must be >= 1, got \(1, 0\)"),
    ((1, 2, 3), ValueError, r"`stride` must be an int or a pair of ints, got 3 values"),
    (1.5, TypeError, r"`stride` must be an int or a pair of ints, got 1.5"),
    (True, TypeError, r"`stride` must be an int or a pair"),
    ("2", TypeError, r"`stride` must be an int or a pair"),
])
def test_pair_rejects(value, error, match):
    with pytest.raises(error, match=match):
        pair(value, "stride")


@given(n=sizes, k=small, s=small, d=st.integers(1, 4))
def test_same_gives_ceil_of_input_over_stride(n, k, s, d):
    (lo, hi), _ = resolve_padding("same", (n, n), (k, k), (s, s), (d, d))
    assert 0 <= hi - lo <= 1          # the odd extra goes at the end
    assert output_size(n, k, s, d, lo, hi) == math.ceil(n / s)
    # the padding is the least that lets the last window fit
    assert lo + hi == max((math.ceil(n / s) - 1) * s + dilated_size(k, d) - n, 0)


@given(n=sizes, k=small, s=small, d=st.integers(1, 4))
def test_same_lower_mirrors_same(n, k, s, d):
    same = resolve_padding("same", (n, 1), (k, 1), (s, 1), (d, 1))[0]
    lower = resolve_padding("same_lower", (n, 1), (k, 1), (s, 1), (d, 1))[0]
    assert lower == same[::-1]


@given(n=sizes, k=st.integers(1, 7).filter(lambda k: k % 2))
def test_same_equals_half_kernel_for_odd_kernels_at_stride_1(n, k):
    # The agreed case: TensorFlow, PyTorch 'same' and kh // 2 on both sides.
    assert resolve_padding("same", (n, n), (k, k), (1, 1)) == ((k // 2,) * 2,) * 2


def test_same_for_even_kernels_puts_extra_at_the_end():
    # TensorFlow and PyTorch (stride 1) both pad (0, 1) for a 2-tap kernel.
    assert resolve_padding("same", (5, 5), (2, 4), (1, 1)) == ((0, 1), (1, 2))


def test_full_and_explicit_forms():
    assert resolve_padding("full", (5, 5), (3, 2), (1, 1), (2, 1)) == ((4, 4), (1, 1))
    assert resolve_padding(1, (5, 5), (3, 3), (1, 1)) == ((1, 1), (1, 1))
    assert resolve_padding((2, 4), (5, 5), (3, 3), (1, 1)) == ((2, 2), (4, 4))
    assert resolve_padding(((0, 1), (2, 3)), (5, 5), (3, 3), (1, 1)) == ((0, 1), (2, 3))
    assert resolve_padding("VALID", (5, 5), (3, 3), (1, 1)) == ((0, 0), (0, 0))


@pytest.mark.parametrize("padding, error, match", [
    ("half", ValueError, r"`padding` must be one of 'valid', 'same', 'same_lower', 'full'.*got 'half'"),
    (-1, ValueError, r"`padding` must be >= 0, got \(-1, -1\)"),
    (((0, -1), (0, 0)), ValueError, r"`padding` must be >= 0, got \(0, -1\)"),
    (1.0, TypeError, r"`padding` must be"),
    (None, TypeError, r"`padding` must be"),
    ((1, 2, 3), ValueError, r"`padding` must be an int or a pair of ints, got 3 values"),
])
def test_resolve_padding_rejects(padding, error, match):
    with pytest.raises(error, match=match):
        resolve_padding(padding, (5, 5), (3, 3), (1, 1))


@given(n=sizes, k=small, s=small, lo=st.integers(0, 3), hi=st.integers(0, 3))
def test_output_size_counts_window_positions(n, k, s, lo, hi):
    positions = [p for p in range(-lo, n + hi, s) if p + k <= n + hi]
    assert max(output_size(n, k, s, 1, lo, hi), 0) == len(positions)


@given(n=sizes, k=small, s=small, p=st.integers(0, 3), ceil=st.booleans())
def test_pool_output_size_matches_pytorch_formula(n, k, s, p, ceil):
    if n + 2 * p < k:
        return
    # torch/nn/.../Pool.h: pooling_output_shape_pad_lr
    rounding = s - 1 if ceil else 0
    out = (n + 2 * p - k + rounding) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    assert pool_output_size(n, k, s, p, p, ceil) == out
