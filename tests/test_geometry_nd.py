"""convpool.geometry on n-tuples against the loop reference's rules
(tests/reference.py) and plain counting."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nd_cases import ntuple as to_tuple
from nd_cases import padding_forms
from reference import (
    ref_adaptive_windows, ref_pool_output_size, ref_resolve_padding)

geometry = pytest.importorskip("convpool.geometry")

SETTINGS = settings(max_examples=100, deadline=None)
RANKS = st.integers(1, 3)


@SETTINGS
@given(r=RANKS, data=st.data())
def test_ntuple(r, data):
    v = data.draw(st.one_of(st.integers(1, 9),
                            st.tuples(*[st.integers(1, 9)] * r),
                            st.lists(st.integers(1, 9), min_size=r,
                                     max_size=r)))
    got = geometry.ntuple(v, r, "stride")
    assert got == to_tuple(v, r) and all(type(a) is int for a in got)
    assert geometry.ntuple(np.int64(3), r, "stride") == (3,) * r
    if r == 2:
        assert geometry.pair(v, "stride") == got


@SETTINGS
@given(k=st.integers(1, 9), d=st.integers(1, 5))
def test_dilated_size(k, d):
    assert geometry.dilated_size(k, d) == len(range(0, d * (k - 1) + 1))


@st.composite
def shapes(draw, r=None):
    r = draw(RANKS) if r is None else r
    return dict(
        r=r, spatial=tuple(draw(st.integers(1, 12)) for _ in range(r)),
        window=tuple(draw(st.integers(1, 5)) for _ in range(r)),
        stride=tuple(draw(st.integers(1, 4)) for _ in range(r)),
        dilation=tuple(draw(st.integers(1, 3)) for _ in range(r)))


@SETTINGS
@given(case=shapes(), data=st.data())
def test_resolve_padding_every_form(case, data):
    padding = data.draw(padding_forms(case["r"], 4))
    got = geometry.resolve_padding(padding, case["spatial"], case["window"],
                                   case["stride"], case["dilation"])
    want = ref_resolve_padding(padding, case["spatial"], case["window"],
                               case["stride"], case["dilation"])
    assert tuple(tuple(int(v) for v in p) for p in got) == want


@SETTINGS
@given(case=shapes(), data=st.data())
def test_output_shape_counts_window_positions(case, data):
    pads = ref_resolve_padding(data.draw(padding_forms(case["r"], 4)),
                               case["spatial"], case["window"],
                               case["stride"], case["dilation"])
    want = []
    for n, k, s, d, (lo, hi) in zip(case["spatial"], case["window"],
                                    case["stride"], case["dilation"], pads):
        # count the starts whose last tap still lies in the padded input
        count = sum(1 for start in range(0, n + lo + hi, s)
                    if start + d * (k - 1) < n + lo + hi)
        want.append(count)
        if count:
            assert geometry.output_size(n, k, s, d, lo, hi) == count
    if min(want) > 0:
        assert tuple(geometry.output_shape(
            case["spatial"], case["window"], case["stride"],
            case["dilation"], pads)) == tuple(want)


@SETTINGS
@given(case=shapes(), ceil_mode=st.booleans(), data=st.data())
def test_pool_output_shape(case, ceil_mode, data):
    extents = [(k - 1) * d + 1 for k, d in zip(case["window"],
                                               case["dilation"])]
    pads = tuple((data.draw(st.integers(0, e - 1)),
                  data.draw(st.integers(0, e - 1))) for e in extents)
    want = tuple(ref_pool_output_size(n, k, s, lo, hi, ceil_mode, d)
                 for n, k, s, d, (lo, hi) in zip(
                     case["spatial"], case["window"], case["stride"],
                     case["dilation"], pads))
    for a, w in enumerate(want):
        (lo, hi) = pads[a]
        if w > 0:
            assert geometry.pool_output_size(
                case["spatial"][a], case["window"][a], case["stride"][a],
                lo, hi, ceil_mode, case["dilation"][a]) == w
    if min(want) > 0:
        assert tuple(geometry.pool_output_shape(
            case["spatial"], case["window"], case["stride"],
            case["dilation"], pads, ceil_mode)) == want


@SETTINGS
@given(n=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4),
       d=st.integers(1, 3), ceil_mode=st.booleans(),
       include_pad=st.booleans(), data=st.data())
def test_window_counts(n, k, s, d, ceil_mode, include_pad, data):
    e = (k - 1) * d + 1
    lo, hi = data.draw(st.integers(0, e - 1)), data.draw(st.integers(0, e - 1))
    out = ref_pool_output_size(n, k, s, lo, hi, ceil_mode, d)
    if out < 1:
        return
    want = []
    for i in range(out):
        taps = [i * s - lo + t * d for t in range(k)]
        limit = (-lo, n + hi) if include_pad else (0, n)
        want.append(sum(1 for p in taps if limit[0] <= p < limit[1]))
    got = geometry.window_counts(n, k, out, s, lo, hi, include_pad, d)
    np.testing.assert_array_equal(np.asarray(got), want)


@SETTINGS
@given(n=st.integers(1, 30), out=st.integers(1, 35))
def test_adaptive_windows(n, out):
    got = [tuple(int(v) for v in w) for w in
           geometry.adaptive_windows(n, out)]
    assert got == ref_adaptive_windows(n, out)
    # PyTorch's rule in its own words: start = floor(i * n / out),
    # end = ceil((i + 1) * n / out); every cell is covered
    covered = set()
    for start, stop in got:
        assert 0 <= start < stop <= n
        covered.update(range(start, stop))
    assert covered == set(range(n))
