"""Property tests: convpool.pool2d / max_pool2d / avg_pool2d against the loop
reference in tests/reference.py (written from the documented contract
only: the README and the public docstrings).

Max pooling only selects values, so it is compared exactly (NaN positions
included).  Average pooling is compared to an exact-sum reference with a
tolerance relative to scale = max|x| (a bound on every window mean):
1e-12 for float64 and integer input (float64 result), 1e-5 for float32 and
(K + 2) * 2**-11 (K = 16 >= cells in a window) for float16, whose result is
rounded to float16 (unit roundoff 2**-11) even if summed more precisely.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import (  # noqa: E402
    is_exact_kind, ref_pool2d, ref_pool_output_size, ref_resolve_padding)

convpool = pytest.importorskip("convpool")

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
FEW = settings(max_examples=50, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])

PAD_WORDS = ("valid", "same", "same_lower", "full")
MAX_DTYPES = (np.float16, np.float32, np.float64, np.int8, np.int16,
              np.int32, np.int64, np.uint8, np.uint16, np.bool_)


def _p2(v):
    return (v, v) if isinstance(v, (int, np.integer)) else tuple(v)


def to_data_format(x_nhwc, fmt):
    return x_nhwc if fmt == "NHWC" else np.transpose(x_nhwc, (0, 3, 1, 2))


def from_data_format(y, fmt):
    y = np.asarray(y)
    return y if fmt == "NHWC" else np.transpose(y, (0, 2, 3, 1))


def every_window_has_input(h, w, window, stride, pads, ceil_mode):
    """The contract leaves windows made only of padding unspecified."""
    kh, kw = _p2(window)
    sh, sw = _p2(window if stride is None else stride)
    for n, k, s, (lo, hi) in ((h, kh, sh, pads[0]), (w, kw, sw, pads[1])):
        out = ref_pool_output_size(n, k, s, lo, hi, ceil_mode)
        if out < 1:
            return False
        for i in range(out):
            start = i * s - lo
            if not any(0 <= p < n for p in range(start, start + k)):
                return False
    return True


def random_array(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "u":
        info = np.iinfo(dtype)
        return rng.integers(0, min(info.max, 1000) + 1,
                            size=shape).astype(dtype)
    if dtype.kind == "i":
        info = np.iinfo(dtype)
        lim = min(info.max, 1000)
        return rng.integers(-lim - 1, lim + 1, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def padding_st(kh, kw):
    """Every padding form, numeric pads < window so that no window is made
    of padding only (a case the contract leaves unspecified)."""
    ph, pw = min(kh - 1, 3), min(kw - 1, 3)
    return st.one_of(
        st.sampled_from(PAD_WORDS),
        st.integers(0, min(ph, pw)),
        st.tuples(st.integers(0, ph), st.integers(0, pw)),
        st.tuples(st.tuples(st.integers(0, ph), st.integers(0, ph)),
                  st.tuples(st.integers(0, pw), st.integers(0, pw))),
    )


@st.composite
def pool_cases(draw):
    n = draw(st.integers(0, 2))
    h, w, c = draw(st.integers(1, 8)), draw(st.integers(1, 8)), \
        draw(st.integers(1, 3))
    window = draw(st.one_of(st.integers(1, 4),
                            st.tuples(st.integers(1, 4), st.integers(1, 4))))
    stride = draw(st.one_of(st.none(), st.integers(1, 3),
                            st.tuples(st.integers(1, 3), st.integers(1, 3))))
    kh, kw = _p2(window)
    padding = draw(padding_st(kh, kw))
    ceil_mode = draw(st.booleans())
    count_include_pad = draw(st.booleans())
    s = _p2(window if stride is None else stride)
    pads = ref_resolve_padding(padding, (h, w), (kh, kw), s, 1)
    assume(every_window_has_input(h, w, window, stride, pads, ceil_mode))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return dict(n=n, h=h, w=w, c=c, window=window, stride=stride,
                padding=padding, pads=pads, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, seed=seed)


def make_x(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    return random_array(rng, (case["n"], case["h"], case["w"], case["c"]),
                        dtype)


def reference_for(case, x, mode):
    return ref_pool2d(x, case["window"], case["stride"], case["pads"], mode,
                      case["ceil_mode"], case["count_include_pad"])


def call_pool(case, x, mode, data_format="NHWC", via="pool2d", **kw):
    args = dict(stride=case["stride"], padding=case["padding"],
                ceil_mode=case["ceil_mode"],
                count_include_pad=case["count_include_pad"],
                data_format=data_format, **kw)
    xf = np.ascontiguousarray(to_data_format(x, data_format))
    if via == "pool2d":
        y = convpool.pool2d(xf, case["window"], mode=mode, **args)
    elif mode == "max":
        y = convpool.max_pool2d(xf, case["window"], **args)
    else:
        y = convpool.avg_pool2d(xf, case["window"], **args)
    return from_data_format(y, data_format)


def assert_avg_close(got, ref, x, msg=""):
    got = np.asarray(got)
    assert got.shape == ref.shape, "shape %s != %s %s" % (got.shape,
                                                          ref.shape, msg)
    if got.size == 0:
        return
    dt = got.dtype
    xa = np.abs(np.asarray(x, dtype=np.float64))
    scale = xa.max() if xa.size else 0.0
    if dt == np.float64:
        tol = 1e-12 * scale
    elif dt == np.float32:
        tol = 1e-5 * scale
    elif dt == np.float16:
        # windows hold at most K = 4 * 4 = 16 cells
        tol = (16 + 2) * 2.0 ** -11 * scale
    else:
        raise AssertionError("unexpected avg dtype %s" % dt)
    err = np.nanmax(np.abs(got.astype(np.float64) - ref))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=msg)
    assert err <= tol, "max error %g > %g %s" % (err, tol, msg)


# ------------------------------------------------------------------ tests

@SETTINGS
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]),
       data_format=st.sampled_from(["NHWC", "NCHW"]),
       via=st.sampled_from(["pool2d", "alias"]))
def test_pool_matches_reference_float64(case, mode, data_format, via):
    x = make_x(case)
    ref = reference_for(case, x, mode)
    got = call_pool(case, x, mode, data_format, via)
    msg = "case=%r mode=%s %s %s" % (case, mode, data_format, via)
    assert got.dtype == np.float64, msg
    if mode == "max":
        assert got.shape == ref.shape, msg
        np.testing.assert_array_equal(got, ref, err_msg=msg)
    else:
        assert_avg_close(got, ref, x, msg)


@SETTINGS
@given(case=pool_cases(), dt=st.sampled_from(MAX_DTYPES))
def test_max_pool_keeps_dtype_and_is_exact(case, dt):
    x = make_x(case, dt)
    ref = reference_for(case, x, "max")
    got = np.asarray(call_pool(case, x, "max"))
    assert got.dtype == np.dtype(dt), "max pooling changed %s to %s" % (
        np.dtype(dt), got.dtype)
    np.testing.assert_array_equal(got, ref, err_msg="case=%r" % (case,))


@SETTINGS
@given(case=pool_cases(),
       dt=st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint16,
                           np.bool_, np.float16, np.float32, np.float64]))
def test_avg_pool_dtypes(case, dt):
    x = make_x(case, dt)
    ref = reference_for(case, x, "avg")
    got = np.asarray(call_pool(case, x, "avg"))
    expect = np.float64 if is_exact_kind(dt) else np.dtype(dt)
    assert got.dtype == expect, "avg of %s gave %s" % (
        np.dtype(dt), got.dtype)
    assert_avg_close(got, ref, x, "case=%r" % (case,))


@SETTINGS
@given(case=pool_cases(), nan_frac=st.sampled_from([0.05, 0.2, 1.0]),
       dt=st.sampled_from([np.float16, np.float32, np.float64]),
       with_inf=st.booleans())
def test_max_pool_propagates_nan(case, nan_frac, dt, with_inf):
    x = make_x(case, dt)
    rng = np.random.default_rng(case["seed"] + 1)
    x[rng.random(x.shape) < nan_frac] = np.nan
    if with_inf:
        x[rng.random(x.shape) < 0.1] = np.inf
        x[rng.random(x.shape) < 0.1] = -np.inf
    ref = reference_for(case, x, "max")
    got = np.asarray(call_pool(case, x, "max"))
    assert got.dtype == np.dtype(dt)
    # assert_array_equal treats NaN == NaN, so NaN positions must agree
    np.testing.assert_array_equal(got, ref, err_msg="case=%r" % (case,))


@SETTINGS
@given(case=pool_cases(),
       dt=st.sampled_from([np.float16, np.float32, np.float64, np.int8,
                           np.int64]))
def test_max_pool_never_picks_padding(case, dt):
    x = make_x(case, dt)
    if np.dtype(dt).kind == "f":
        x = -np.abs(x) - np.asarray(1, dtype=dt)
    else:
        x = np.minimum(x, -1).astype(dt)
        x[x == 0] = -1
    assert (x < 0).all()
    ref = reference_for(case, x, "max")
    got = np.asarray(call_pool(case, x, "max"))
    assert (got < 0).all(), "a padded zero/cell won a max (case=%r)" % (
        case,)
    np.testing.assert_array_equal(got, ref)


@FEW
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]))
def test_stride_none_means_window(case, mode):
    case = dict(case, stride=None)
    kh, kw = _p2(case["window"])
    case["pads"] = ref_resolve_padding(case["padding"], (case["h"],
                                                         case["w"]),
                                       (kh, kw), (kh, kw), 1)
    assume(every_window_has_input(case["h"], case["w"], case["window"],
                                  None, case["pads"], case["ceil_mode"]))
    x = make_x(case)
    a = np.asarray(call_pool(case, x, mode))
    b = np.asarray(call_pool(dict(case, stride=(kh, kw)), x, mode))
    np.testing.assert_array_equal(a, b)
    ref = reference_for(case, x, mode)
    if mode == "max":
        np.testing.assert_array_equal(a, ref)
    else:
        assert_avg_close(a, ref, x)


@FEW
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]),
       data_format=st.sampled_from(["NHWC", "NCHW"]))
def test_pool_non_contiguous_and_negative_stride_views(case, mode,
                                                       data_format):
    x = make_x(case)
    ref = reference_for(case, x, mode)
    xf = to_data_format(x, data_format)
    big = np.zeros((xf.shape[0], xf.shape[1], 2 * xf.shape[2],
                    2 * xf.shape[3]))
    big[:, ::-1, ::2, ::-2] = xf
    xv = big[:, ::-1, ::2, ::-2]
    np.testing.assert_array_equal(xv, xf)
    got = convpool.pool2d(xv, case["window"], stride=case["stride"],
                          padding=case["padding"], mode=mode,
                          ceil_mode=case["ceil_mode"],
                          count_include_pad=case["count_include_pad"],
                          data_format=data_format)
    got = from_data_format(got, data_format)
    if mode == "max":
        np.testing.assert_array_equal(got, ref)
    else:
        assert_avg_close(got, ref, x)


@FEW
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]),
       as_float=st.booleans())
def test_pool_nested_list_input(case, mode, as_float):
    assume(case["n"] >= 1)
    x = make_x(case, np.float64 if as_float else np.int64)
    ref = reference_for(case, x, mode)
    got = np.asarray(convpool.pool2d(
        x.tolist(), case["window"], stride=case["stride"],
        padding=case["padding"], mode=mode, ceil_mode=case["ceil_mode"],
        count_include_pad=case["count_include_pad"]))
    if mode == "max":
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, ref)
    else:
        assert got.dtype == np.float64
        assert_avg_close(got, ref, x)


@FEW
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]),
       dt=st.sampled_from([np.float32, np.int16, np.bool_]),
       data_format=st.sampled_from(["NHWC", "NCHW"]))
def test_pool_never_modifies_inputs(case, mode, dt, data_format):
    x = np.ascontiguousarray(to_data_format(make_x(case, dt), data_format))
    keep = x.copy()
    kw = dict(stride=case["stride"], padding=case["padding"], mode=mode,
              ceil_mode=case["ceil_mode"],
              count_include_pad=case["count_include_pad"],
              data_format=data_format)
    convpool.pool2d(x, case["window"], **kw)
    np.testing.assert_array_equal(x, keep)
    x.setflags(write=False)
    convpool.pool2d(x, case["window"], **kw)


@FEW
@given(case=pool_cases(), mode=st.sampled_from(["max", "avg"]))
def test_pool_threads_and_out(case, mode):
    x = make_x(case)
    ref = reference_for(case, x, mode)
    kw = dict(stride=case["stride"], padding=case["padding"], mode=mode,
              ceil_mode=case["ceil_mode"],
              count_include_pad=case["count_include_pad"])
    a = convpool.pool2d(x, case["window"], threads=1, **kw)
    b = convpool.pool2d(x, case["window"], threads=2, **kw)
    np.testing.assert_array_equal(a, b)
    out = np.full(ref.shape, np.nan)
    res = convpool.pool2d(x, case["window"], out=out, **kw)
    assert res is out or np.shares_memory(res, out)
    if mode == "max":
        np.testing.assert_array_equal(out, ref)
    else:
        assert_avg_close(out, ref, x)


def test_avg_count_include_pad_example():
    x = np.ones((1, 4, 4, 1))
    tf_like = convpool.avg_pool2d(x, 2, padding=1)
    np.testing.assert_array_equal(tf_like, np.ones((1, 3, 3, 1)))
    torch_like = convpool.avg_pool2d(x, 2, padding=1, count_include_pad=True)
    want = np.array([[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])
    np.testing.assert_array_equal(torch_like[0, :, :, 0], want)


def test_avg_of_ints_is_float64_and_exact():
    x = np.array([[1, 2], [3, 5]], dtype=np.uint8).reshape(1, 2, 2, 1)
    y = convpool.avg_pool2d(x, 2)
    assert y.dtype == np.float64 and y[0, 0, 0, 0] == 2.75
    big = np.full((1, 2, 2, 1), 2 ** 62, dtype=np.int64)
    big[0, 0, 0, 0] += 1
    # the sum overflows int64; the mean 2**62 + 0.25 rounds to 2**62
    assert convpool.avg_pool2d(big, 2)[0, 0, 0, 0] == 2.0 ** 62


def test_max_pool_bool():
    x = np.zeros((1, 3, 3, 1), dtype=bool)
    x[0, 2, 2, 0] = True
    y = convpool.max_pool2d(x, 2, stride=1, padding="same")
    assert y.dtype == np.bool_
    np.testing.assert_array_equal(
        y[0, :, :, 0], [[False, False, False], [False, True, True],
                        [False, True, True]])


def test_ceil_mode_last_window_rule():
    # H=5, k=2, s=2, pad 1: ceil((5 + 2 - 2) / 2) + 1 = 4 windows starting
    # at padded 0, 2, 4, 6; the one at 6 starts in the right padding
    # (6 >= H + left pad = 6), so it is dropped: 3, as PyTorch gives.
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    y = convpool.max_pool2d(x, 2, stride=2, padding=1, ceil_mode=True)
    assert y.shape == (1, 3, 3, 1)
    # H=6, k=3, s=2, no pad: floor -> 2, ceil -> 3 (window at 4 hangs over)
    x = np.arange(36.0).reshape(1, 6, 6, 1)
    y = convpool.max_pool2d(x, 3, stride=2, ceil_mode=True)
    assert y.shape == (1, 3, 3, 1)
    assert y[0, 2, 2, 0] == 35.0
    z = convpool.avg_pool2d(x, 3, stride=2, ceil_mode=True,
                            count_include_pad=True)
    # last window covers rows/cols 4..5 only; no padding -> divisor 4
    assert z[0, 2, 2, 0] == np.mean([28, 29, 34, 35])


@pytest.mark.parametrize("dt", [">f8", ">i4", "<f4"])
def test_pool_non_native_byte_order(dt):
    x = np.arange(-20, 16).reshape(1, 6, 6, 1).astype(dt)
    ref = ref_pool2d(x.astype(x.dtype.newbyteorder("=")), 3, 2,
                     ((1, 1), (1, 1)), "max")
    got = convpool.max_pool2d(x, 3, stride=2, padding=1)
    np.testing.assert_array_equal(got, ref)
    ref = ref_pool2d(x.astype(np.float64), 3, 2, ((1, 1), (1, 1)), "avg")
    got = convpool.avg_pool2d(x, 3, stride=2, padding=1)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
