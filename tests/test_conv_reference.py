"""Property tests: convpool.conv2d against the loop reference.

The reference (tests/reference.py) was written from the documented contract
alone (the README and the public docstrings).  Shapes are kept tiny so
the whole file runs in a few seconds.

Tolerances are stated relative to ``scale`` = (number of products summed)
* max|x| * max|w| + max|bias|, an upper bound of sum |x * w| + |bias| for
every output element, so cancellation in the sum cannot cause spurious
failures:

* float64: 1e-9 * scale (any summation order loses at most about
  K * 2**-53 * scale, many orders of magnitude less).
* float32: 1e-4 * scale (K * 2**-24 is below 1e-5 for our K <= 100).
* float16: max(1e-2, (K + 2) * 2**-11) * scale + K * 2**-24.  The first
  term is the textbook worst-case bound for recursive summation of K
  products in float16 (unit roundoff 2**-11, Higham's gamma_K) in case the
  library accumulates in float16; one float16 rounding of an exact result is
  already 2**-11 ~ 5e-4 relative, so 1e-4 would be unattainable.  The
  second term covers products that underflow into float16 subnormals
  (absolute spacing 2**-24).
* integer / bool inputs: the contract says they are computed exactly in
  float64; with our small values every exact sum is representable, so the
  comparison is exact equality.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import (  # noqa: E402
    is_exact_kind, ref_conv2d, ref_resolve_padding, ref_same_pads)

convpool = pytest.importorskip("convpool")

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=50, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])

PAD_WORDS = ("valid", "same", "same_lower", "full")
FLOATS = (np.float16, np.float32, np.float64)
INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
        np.bool_)


# conv2d's docstring lists every engine path
ENGINES = ("auto", "taps", "im2col")


# ---------------------------------------------------------------- helpers

def to_data_format(x_nhwc, fmt):
    return x_nhwc if fmt == "NHWC" else np.transpose(x_nhwc, (0, 3, 1, 2))


def from_data_format(y, fmt):
    y = np.asarray(y)
    return y if fmt == "NHWC" else np.transpose(y, (0, 2, 3, 1))


def to_kernel_format(w_hwio, fmt):
    if fmt == "HWIO":
        return w_hwio
    if fmt == "OIHW":
        return np.transpose(w_hwio, (3, 2, 0, 1))
    if fmt == "OHWI":
        return np.transpose(w_hwio, (3, 0, 1, 2))
    raise ValueError(fmt)


def tolerance(result_dtype, nterms, scale):
    dt = np.dtype(result_dtype)
    if dt == np.float64:
        return 1e-9 * scale + 1e-300
    if dt == np.float32:
        return 1e-4 * scale + 1e-30
    if dt == np.float16:
        return (max(1e-2, (nterms + 2) * 2.0 ** -11) * scale
                + nterms * 2.0 ** -24)
    raise AssertionError("unexpected result dtype %s" % dt)


def assert_conv_close(got_nhwc, ref, x, w, bias, result_dtype, msg=""):
    got_nhwc = np.asarray(got_nhwc)
    assert got_nhwc.shape == ref.shape, (
        "shape %s != reference %s %s" % (got_nhwc.shape, ref.shape, msg))
    if got_nhwc.size == 0:
        return
    exact = is_exact_kind(np.asarray(x).dtype) and is_exact_kind(
        np.asarray(w).dtype)
    if exact:
        np.testing.assert_array_equal(got_nhwc, ref, err_msg=msg)
        return
    kh, kw, cg, _ = np.asarray(w).shape
    nterms = kh * kw * cg
    xa = np.abs(np.asarray(x, dtype=np.float64))
    wa = np.abs(np.asarray(w, dtype=np.float64))
    scale = nterms * (xa.max() if xa.size else 0.0) * wa.max()
    if bias is not None:
        scale += np.abs(np.asarray(bias, dtype=np.float64)).max()
    tol = tolerance(result_dtype, nterms, scale)
    err = np.abs(got_nhwc.astype(np.float64) - ref).max()
    assert np.all(np.isfinite(got_nhwc)), "non-finite output %s" % msg
    assert err <= tol, "max error %g > tolerance %g %s" % (err, tol, msg)


def random_array(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    # whole range of 8-bit types (uint8 200 * -1 must not wrap), up to
    # +-1000 otherwise: every exact sum stays far below 2**53
    if dtype.kind == "u":
        hi = min(np.iinfo(dtype).max, 1000)
        return rng.integers(0, hi + 1, size=shape).astype(dtype)
    if dtype.kind == "i":
        hi = min(np.iinfo(dtype).max, 1000)
        return rng.integers(-hi - 1, hi + 1, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


padding_st = st.one_of(
    st.sampled_from(PAD_WORDS),
    st.integers(0, 3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
              st.tuples(st.integers(0, 3), st.integers(0, 3))),
)

int_or_pair = st.one_of(
    st.integers(1, 3),
    st.tuples(st.integers(1, 3), st.integers(1, 3)))


def _lo_input(padding, ekh, axis):
    """Smallest input length for which the kernel fits the padded input."""
    if isinstance(padding, str):
        return ekh if padding == "valid" else 1
    if isinstance(padding, int):
        lo_pad = 2 * padding
    elif isinstance(padding[0], tuple):
        lo_pad = sum(padding[axis])
    else:
        lo_pad = 2 * padding[axis]
    return max(1, ekh - lo_pad)


def _p2(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@st.composite
def conv_cases(draw, max_hw_extra=4):
    """A random valid conv2d configuration (NHWC / HWIO geometry)."""
    depthwise = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    cg = 1 if depthwise else draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    c, f = groups * cg, groups * fg
    n = draw(st.integers(0, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(int_or_pair)
    dilation = draw(int_or_pair)
    padding = draw(padding_st)
    (dh, dw) = _p2(dilation)
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    lo_h, lo_w = _lo_input(padding, ekh, 0), _lo_input(padding, ekw, 1)
    h = draw(st.integers(lo_h, lo_h + max_hw_extra))
    w = draw(st.integers(lo_w, lo_w + max_hw_extra))
    use_bias = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return dict(n=n, h=h, w=w, c=c, f=f, kh=kh, kw=kw, groups=groups,
                stride=stride, dilation=dilation, padding=padding,
                use_bias=use_bias, seed=seed)


def make_inputs(case, xdtype=np.float64, wdtype=None, bdtype=None):
    rng = np.random.default_rng(case["seed"])
    wdtype = xdtype if wdtype is None else wdtype
    bdtype = xdtype if bdtype is None else bdtype
    x = random_array(rng, (case["n"], case["h"], case["w"], case["c"]),
                     xdtype)
    wk = random_array(rng, (case["kh"], case["kw"],
                            case["c"] // case["groups"], case["f"]), wdtype)
    b = random_array(rng, (case["f"],), bdtype) if case["use_bias"] else None
    return x, wk, b


def reference_for(case, x, wk, b):
    pads = ref_resolve_padding(case["padding"], (case["h"], case["w"]),
                               (case["kh"], case["kw"]), case["stride"],
                               case["dilation"])
    return ref_conv2d(x, wk, case["stride"], pads, case["dilation"],
                      case["groups"], b)


def call_conv(case, x, wk, b, data_format="NHWC", kernel_format="HWIO",
              **kw):
    y = convpool.conv2d(
        np.ascontiguousarray(to_data_format(x, data_format)),
        np.ascontiguousarray(to_kernel_format(wk, kernel_format)),
        stride=case["stride"], padding=case["padding"],
        dilation=case["dilation"], groups=case["groups"], bias=b,
        data_format=data_format, kernel_format=kernel_format, **kw)
    return from_data_format(y, data_format)


# ------------------------------------------------------------------ tests

@SETTINGS
@given(case=conv_cases(),
       data_format=st.sampled_from(["NHWC", "NCHW"]),
       kernel_format=st.sampled_from(["HWIO", "OIHW", "OHWI"]))
def test_conv2d_matches_reference_float64(case, data_format, kernel_format):
    x, wk, b = make_inputs(case)
    ref = reference_for(case, x, wk, b)
    got = call_conv(case, x, wk, b, data_format, kernel_format)
    assert got.dtype == np.float64
    assert_conv_close(got, ref, x, wk, b, np.float64,
                      "case=%r %s %s" % (case, data_format, kernel_format))


@SETTINGS
@given(case=conv_cases(), xdt=st.sampled_from(FLOATS),
       wdt=st.sampled_from(FLOATS))
def test_conv2d_float_dtypes(case, xdt, wdt):
    expect = np.result_type(xdt, wdt)
    x, wk, b = make_inputs(case, xdt, wdt, expect)
    ref = reference_for(case, x, wk, b)
    got = np.asarray(call_conv(case, x, wk, b))
    assert got.dtype == expect, "dtype %s, expected %s" % (got.dtype, expect)
    assert_conv_close(got, ref, x, wk, b, expect, "case=%r" % (case,))


@SETTINGS
@given(case=conv_cases(), xdt=st.sampled_from(INTS),
       wdt=st.sampled_from(INTS))
def test_conv2d_integer_and_bool_inputs_are_exact_float64(case, xdt, wdt):
    x, wk, _ = make_inputs(case, xdt, wdt)
    case = dict(case, use_bias=False)
    ref = reference_for(case, x, wk, None)
    got = np.asarray(call_conv(case, x, wk, None))
    assert got.dtype == np.float64, "int/bool inputs must give float64"
    np.testing.assert_array_equal(got, ref, err_msg="case=%r" % (case,))


def test_uint8_does_not_wrap():
    x = np.full((1, 3, 3, 1), 200, dtype=np.uint8)
    k = -np.ones((3, 3, 1, 1), dtype=np.int64)
    y = convpool.conv2d(x, k)
    assert y.dtype == np.float64
    assert y.shape == (1, 1, 1, 1)
    assert y[0, 0, 0, 0] == -1800.0
    k8 = -np.ones((3, 3, 1, 1), dtype=np.int8)
    assert convpool.conv2d(x, k8)[0, 0, 0, 0] == -1800.0


def test_int_large_values_exact():
    # 2**40-sized products: exact in float64, wrong in float32 / int32.
    x = np.full((1, 2, 2, 1), 2 ** 20 + 1, dtype=np.int64)
    k = np.full((2, 2, 1, 1), 2 ** 20 - 1, dtype=np.int64)
    y = convpool.conv2d(x, k)
    assert y.dtype == np.float64
    assert y[0, 0, 0, 0] == 4.0 * (2 ** 40 - 1)


@SETTINGS
@given(n=st.integers(0, 2), extra=st.tuples(st.integers(0, 3),
                                            st.integers(0, 3)),
       k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pads=st.tuples(st.integers(0, 2), st.integers(0, 2),
                      st.integers(0, 2), st.integers(0, 2)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_kernel_as_large_as_padded_input(n, extra, k, d, pads, seed):
    """Effective kernel == padded input: a single output pixel (any stride);
    one cell smaller input: empty is not asked, so only check the == case."""
    t, b, lft, r = pads
    ekh, ekw = (k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1
    h, w = ekh - t - b, ekw - lft - r
    assume(h >= 1 and w >= 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, 2))
    wk = rng.standard_normal((k[0], k[1], 2, 3))
    for stride in (1, 2, (3, 1)):
        got = convpool.conv2d(x, wk, stride=stride,
                              padding=((t, b), (lft, r)), dilation=d)
        ref = ref_conv2d(x, wk, stride, ((t, b), (lft, r)), d)
        assert ref.shape == (n, 1, 1, 3)
        assert_conv_close(got, ref, x, wk, None, np.float64)


@FEW
@given(case=conv_cases(max_hw_extra=3),
       data_format=st.sampled_from(["NHWC", "NCHW"]),
       kernel_format=st.sampled_from(["HWIO", "OIHW", "OHWI"]))
def test_conv2d_non_contiguous_and_negative_stride_views(
        case, data_format, kernel_format):
    x, wk, b = make_inputs(case)
    ref = reference_for(case, x, wk, b)
    xf = to_data_format(x, data_format)
    # embed xf in a larger buffer and view it back with negative and
    # non-unit strides
    big = np.zeros((xf.shape[0], xf.shape[1], 2 * xf.shape[2],
                    2 * xf.shape[3]))
    big[:, ::-1, ::2, ::-2] = xf
    xv = big[:, ::-1, ::2, ::-2]
    np.testing.assert_array_equal(xv, xf)
    wf = to_kernel_format(wk, kernel_format)
    wbig = np.zeros(wf.shape[:3] + (2 * wf.shape[3],))
    wbig[..., ::-2] = wf
    wv = wbig[..., ::-2]
    np.testing.assert_array_equal(wv, wf)
    bv = None if b is None else np.repeat(b, 2)[::-2][::-1]
    if b is not None:
        np.testing.assert_array_equal(bv, b)
    got = convpool.conv2d(
        xv, wv, stride=case["stride"],
        padding=case["padding"], dilation=case["dilation"],
        groups=case["groups"], bias=bv, data_format=data_format,
        kernel_format=kernel_format)
    assert_conv_close(from_data_format(got, data_format), ref, x, wk, b,
                      np.float64, "case=%r" % (case,))


def test_conv2d_reversed_view_explicit():
    rng = np.random.default_rng(7)
    base = rng.standard_normal((2, 7, 9, 3))
    x = base[:, ::-1, ::2]                   # as in the brief
    assert not x.flags.c_contiguous
    wk = rng.standard_normal((3, 2, 3, 4))[::-1]
    got = convpool.conv2d(x, wk, padding="same", stride=(2, 1))
    pads = ref_resolve_padding("same", x.shape[1:3], (3, 2), (2, 1))
    ref = ref_conv2d(np.ascontiguousarray(x), np.ascontiguousarray(wk),
                     (2, 1), pads)
    assert_conv_close(got, ref, x, wk, None, np.float64)


@FEW
@given(case=conv_cases(max_hw_extra=3),
       as_float=st.booleans())
def test_conv2d_nested_list_inputs(case, as_float):
    # [] carries no inner dimensions, so nested lists need N >= 1
    assume(case["n"] >= 1)
    dt = np.float64 if as_float else np.int64
    x, wk, b = make_inputs(case, dt)
    ref = reference_for(case, x, wk, b)
    got = convpool.conv2d(
        x.tolist(), wk.tolist(), stride=case["stride"],
        padding=case["padding"], dilation=case["dilation"],
        groups=case["groups"], bias=None if b is None else b.tolist())
    got = np.asarray(got)
    assert got.dtype == np.float64
    assert_conv_close(got, ref, x, wk, b, np.float64, "case=%r" % (case,))


@FEW
@given(case=conv_cases(max_hw_extra=3),
       dt=st.sampled_from([np.float64, np.float32, np.int16, np.uint8]))
def test_conv2d_every_engine_agrees(case, dt):
    x, wk, b = make_inputs(case, dt, dt, dt)
    ref = reference_for(case, x, wk, b)
    results = {}
    for engine in ENGINES:
        got = np.asarray(call_conv(case, x, wk, b, engine=engine))
        assert_conv_close(got, ref, x, wk, b, got.dtype,
                          "engine=%s case=%r" % (engine, case))
        results[engine] = got
    dts = {e: r.dtype for e, r in results.items()}
    assert len(set(dts.values())) == 1, "engines disagree on dtype %r" % dts


@FEW
@given(case=conv_cases(max_hw_extra=3))
def test_conv2d_threads_do_not_change_result(case):
    x, wk, b = make_inputs(case)
    one = np.asarray(call_conv(case, x, wk, b, threads=1))
    two = np.asarray(call_conv(case, x, wk, b, threads=2))
    ref = reference_for(case, x, wk, b)
    assert_conv_close(one, ref, x, wk, b, np.float64)
    assert_conv_close(two, ref, x, wk, b, np.float64)


@FEW
@given(case=conv_cases(max_hw_extra=3),
       dt=st.sampled_from([np.float64, np.float32, np.uint8, np.bool_]),
       data_format=st.sampled_from(["NHWC", "NCHW"]),
       kernel_format=st.sampled_from(["HWIO", "OIHW", "OHWI"]))
def test_conv2d_never_modifies_inputs(case, dt, data_format, kernel_format):
    x, wk, b = make_inputs(case, dt, dt, dt)
    xf = np.ascontiguousarray(to_data_format(x, data_format))
    wf = np.ascontiguousarray(to_kernel_format(wk, kernel_format))
    copies = [xf.copy(), wf.copy(), None if b is None else b.copy()]
    kw = dict(stride=case["stride"], padding=case["padding"],
              dilation=case["dilation"], groups=case["groups"],
              data_format=data_format, kernel_format=kernel_format)
    for engine in ENGINES:
        convpool.conv2d(xf, wf, bias=b, engine=engine, **kw)
        np.testing.assert_array_equal(xf, copies[0])
        np.testing.assert_array_equal(wf, copies[1])
        if b is not None:
            np.testing.assert_array_equal(b, copies[2])
    # read-only inputs must be accepted (the library must not write to them)
    for a in (xf, wf, b):
        if a is not None:
            a.setflags(write=False)
    for engine in ENGINES:
        convpool.conv2d(xf, wf, bias=b, engine=engine, **kw)


@pytest.mark.parametrize("padding", ["valid", "same", "same_lower", "full",
                                     1, (0, 2), ((1, 0), (2, 3))])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_conv2d_empty_batch(padding, data_format):
    x = np.zeros((0, 5, 6, 4)) if data_format == "NHWC" else np.zeros(
        (0, 4, 5, 6))
    wk = np.ones((3, 2, 2, 6))
    y = convpool.conv2d(x, wk, padding=padding, groups=2, stride=(2, 1),
                        data_format=data_format)
    pads = ref_resolve_padding(padding, (5, 6), (3, 2), (2, 1), 1)
    ref = ref_conv2d(np.zeros((0, 5, 6, 4)), wk, (2, 1), pads, 1, 2)
    assert from_data_format(y, data_format).shape == ref.shape


@pytest.mark.parametrize("n,k,s,d", [(n, k, s, d) for n in range(1, 9)
                                     for k in range(1, 5)
                                     for s in range(1, 4)
                                     for d in range(1, 3)])
def test_same_padding_output_size_is_ceil(n, k, s, d):
    """'same' gives ceil(n / s) outputs and the TF split of the pad, seen
    through the output of an impulse response."""
    before, after = ref_same_pads(n, k, s, d)
    assert (n + before + after - ((k - 1) * d + 1)) // s + 1 == -(-n // s)
    x = np.arange(1, n + 1, dtype=np.float64).reshape(1, n, 1, 1)
    wk = np.zeros((k, 1, 1, 1))
    wk[0, 0, 0, 0] = 1.0          # picks the first tap: shows the top pad
    y = convpool.conv2d(x, wk, padding="same", stride=(s, 1),
                        dilation=(d, 1))
    ref = ref_conv2d(x, wk, (s, 1), ((before, after), (0, 0)), (d, 1))
    assert y.shape == ref.shape == (1, -(-n // s), 1, 1)
    np.testing.assert_array_equal(y, ref)
    y = convpool.conv2d(x, wk, padding="same_lower", stride=(s, 1),
                        dilation=(d, 1))
    ref = ref_conv2d(x, wk, (s, 1), ((after, before), (0, 0)), (d, 1))
    np.testing.assert_array_equal(y, ref)


def test_geometry_resolve_padding_agrees():
    geometry = pytest.importorskip("convpool.geometry")
    forms = list(PAD_WORDS) + [0, 2, (1, 3), ((0, 1), (2, 0))]
    for padding in forms:
        for in_hw in [(1, 1), (5, 8), (7, 4)]:
            for k in [(1, 1), (2, 3), (4, 4)]:
                for s in [(1, 1), (2, 2), (3, 1)]:
                    for d in [(1, 1), (2, 1)]:
                        got = geometry.resolve_padding(padding, in_hw, k, s,
                                                       d)
                        want = ref_resolve_padding(padding, in_hw, k, s, d)
                        got = tuple(tuple(int(v) for v in p) for p in got)
                        assert got == want, (padding, in_hw, k, s, d)


def test_invalid_engine_rejected():
    with pytest.raises(ValueError):
        convpool.conv2d(np.zeros((1, 3, 3, 1)), np.zeros((1, 1, 1, 1)),
                        engine="no-such-engine")


def test_engines_listed_in_docstring():
    doc = convpool.conv2d.__doc__ or ""
    for engine in ENGINES:
        assert "'%s'" % engine in doc, engine


@FEW
@given(case=conv_cases(max_hw_extra=3), engine=st.sampled_from(ENGINES))
def test_conv2d_out_argument(case, engine):
    x, wk, b = make_inputs(case)
    ref = reference_for(case, x, wk, b)
    out = np.full(ref.shape, np.nan)
    res = convpool.conv2d(
        x, wk, stride=case["stride"], padding=case["padding"],
        dilation=case["dilation"], groups=case["groups"], bias=b,
        engine=engine, out=out)
    assert res is out or np.shares_memory(res, out)
    assert_conv_close(out, ref, x, wk, b, np.float64)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("xdt,wdt", [(">f8", ">f8"), (">i2", "<i8"),
                                     ("<f4", ">f4")])
def test_conv2d_non_native_byte_order(engine, xdt, wdt):
    rng = np.random.default_rng(11)
    x = rng.integers(-9, 10, size=(2, 5, 6, 3)).astype(xdt)
    wk = rng.integers(-9, 10, size=(3, 2, 3, 2)).astype(wdt)
    got = convpool.conv2d(x, wk, padding="same", stride=(1, 2),
                          engine=engine)
    pads = ref_resolve_padding("same", (5, 6), (3, 2), (1, 2))
    ref = ref_conv2d(x.astype(np.int64), wk.astype(np.int64), (1, 2), pads)
    # small integers: exact in every float type involved
    np.testing.assert_array_equal(got, ref)
