"""Property tests: convpool's 1-D and 3-D ops (and the N-D additions to
2-D: padding modes, dilated and adaptive pooling) against the loop
reference in tests/reference.py, written from the documented contract only
(the README and the public docstrings).

Tolerances are those of tests/test_conv_reference.py (relative to
K * max|x| * max|w| + max|bias|) and tests/test_pool_reference.py
(relative to max|x| for averages; max pooling is exact).  Shapes are tiny
and example counts modest so that the file runs in well under a minute.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nd_cases import (
    ENGINES, FLOATS, INTS, PAD_WORDS, PADDING_MODES, assert_avg_close,
    assert_conv_close, conv_cases, conv_kwargs, data_formats, engine_result,
    from_data_format, kernel_formats, make_conv_inputs, make_pool_input,
    ntuple, op, pool_cases, pool_kwargs, random_array, reversed_view,
    strided_view, to_data_format, to_kernel_format)
from reference import (
    is_exact_kind, ref_adaptive_pool, ref_conv, ref_pool,
    ref_resolve_padding)

convpool = pytest.importorskip("convpool")

SOME = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])
FEW = settings(max_examples=12, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])

NEW_RANKS = (1, 3)
ALL_RANKS = (1, 2, 3)
MAX_DTYPES = FLOATS + INTS


# ---------------------------------------------------------------- helpers

def conv_reference(case, x, w, b):
    return ref_conv(x, w, case["stride"], case["pads"], case["dilation"],
                    case["groups"], b, case["padding_mode"])


def call_conv(case, x, w, b, data_format=None, kernel_format=None, **kw):
    """convpool.conv<r>d in the given layouts; result channels last."""
    r = case["r"]
    df = data_format or data_formats(r)[0]
    kf = kernel_format or kernel_formats(r)[0]
    y = op(convpool, "conv", r)(
        np.ascontiguousarray(to_data_format(x, df)),
        np.ascontiguousarray(to_kernel_format(w, kf)), bias=b,
        data_format=df, kernel_format=kf, **conv_kwargs(case), **kw)
    return from_data_format(y, df)


def pool_reference(case, x, mode):
    return ref_pool(x, case["window"], case["stride"], case["pads"], mode,
                    case["ceil_mode"], case["count_include_pad"],
                    case["dilation"])


def call_pool(case, x, mode, data_format=None, via="pool", **kw):
    """pool<r>d(mode=...) or the max_/avg_ alias; result channels last."""
    r = case["r"]
    df = data_format or data_formats(r)[0]
    xf = np.ascontiguousarray(to_data_format(x, df))
    args = dict(pool_kwargs(case), data_format=df, **kw)
    if via == "pool":
        y = op(convpool, "pool", r)(xf, case["window"], mode=mode, **args)
    else:
        y = op(convpool, mode + "_pool", r)(xf, case["window"], **args)
    return from_data_format(y, df)


def window_cells(case):
    return math.prod(ntuple(case["window"], case["r"]))


def check_pool(case, got, ref, x, mode, msg):
    if mode == "max":
        assert got.shape == ref.shape, msg
        np.testing.assert_array_equal(got, ref, err_msg=msg)
    else:
        assert_avg_close(got, ref, x, window_cells(case), msg)


# ------------------------------------------------------------ convolution

@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_conv_matches_reference_float64(r, data):
    case = data.draw(conv_cases(r), "case")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    kf = data.draw(st.sampled_from(kernel_formats(r)), "kernel_format")
    x, w, b = make_conv_inputs(case)
    got = call_conv(case, x, w, b, df, kf)
    assert got.dtype == np.float64
    assert_conv_close(got, conv_reference(case, x, w, b), x, w, b,
                      np.float64, "case=%r %s %s" % (case, df, kf))


@pytest.mark.parametrize("r", ALL_RANKS)
@SOME
@given(data=st.data())
def test_conv_padding_modes(r, data):
    """PyTorch's padding_mode: zeros, reflect, replicate, circular."""
    case = data.draw(conv_cases(r, padding_modes=PADDING_MODES), "case")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    engine = data.draw(st.sampled_from(("auto",) + ENGINES), "engine")
    x, w, b = make_conv_inputs(case)
    got = engine_result(lambda **e: call_conv(case, x, w, b, df, **e),
                        engine)
    if got is not None:
        assert_conv_close(got, conv_reference(case, x, w, b), x, w, b,
                          np.float64, "case=%r %s %s" % (case, df, engine))


# other libraries' names for the same borders (conv's docstring and
# convpool.borders): each must give the bits of the PyTorch name
BORDER_ALIASES = {"zeros": ("constant", "grid-constant"),
                  "reflect": ("mirror", "BORDER_REFLECT_101"),
                  "replicate": ("edge", "nearest", "BORDER_REPLICATE"),
                  "circular": ("wrap", "grid-wrap", "BORDER_WRAP"),
                  "symmetric": ("grid-mirror", "BORDER_REFLECT")}


@pytest.mark.parametrize("mode", sorted(BORDER_ALIASES))
def test_padding_mode_aliases(mode):
    rng = np.random.default_rng(3)
    for r in ALL_RANKS:
        x = rng.standard_normal((2,) + (5, 4, 3)[:r] + (2,))
        w = rng.standard_normal((3,) * r + (2, 3))
        conv = op(convpool, "conv", r)
        want = conv(x, w, padding=2, padding_mode=mode)
        ref = ref_conv(x, w, 1, ((2, 2),) * r, padding_mode=mode)
        assert_conv_close(want, ref, x, w, None, np.float64, mode)
        for alias in BORDER_ALIASES[mode]:
            np.testing.assert_array_equal(
                conv(x, w, padding=2, padding_mode=alias), want, alias)


@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_conv_float_dtypes(r, data):
    case = data.draw(conv_cases(r), "case")
    xdt = data.draw(st.sampled_from(FLOATS), "x dtype")
    wdt = data.draw(st.sampled_from(FLOATS), "w dtype")
    expect = np.result_type(xdt, wdt)
    x, w, b = make_conv_inputs(case, xdt, wdt, expect)
    got = np.asarray(call_conv(case, x, w, b))
    assert got.dtype == expect, "dtype %s, expected %s" % (got.dtype, expect)
    assert_conv_close(got, conv_reference(case, x, w, b), x, w, b, expect,
                      "case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_conv_integer_and_bool_inputs_are_exact_float64(r, data):
    case = data.draw(conv_cases(r), "case")
    xdt = data.draw(st.sampled_from(INTS), "x dtype")
    wdt = data.draw(st.sampled_from(INTS), "w dtype")
    bdt = data.draw(st.sampled_from(INTS), "bias dtype")
    x, w, b = make_conv_inputs(case, xdt, wdt, bdt)
    got = np.asarray(call_conv(case, x, w, b))
    assert got.dtype == np.float64, "int/bool inputs must give float64"
    np.testing.assert_array_equal(got, conv_reference(case, x, w, b),
                                  err_msg="case=%r" % (case,))


@pytest.mark.parametrize("r", ALL_RANKS)
@SOME
@given(data=st.data())
def test_conv_float16_accumulates_in_float32(r, data):
    """float16 products are exact in float32 (11 + 11 significant bits),
    so a float32 sum is off by at most K * 2**-24 * scale and the final
    rounding to float16 by half an ulp (2**-11 relative, 2**-25 absolute
    for subnormals).  A float16 accumulator would be far worse."""
    case = data.draw(conv_cases(r), "case")
    x, w, b = make_conv_inputs(case, np.float16)
    ref = conv_reference(case, x, w, b)
    got = np.asarray(call_conv(case, x, w, b)).astype(np.float64)
    if got.size == 0:
        return
    nterms = math.prod(w.shape[:-1]) + 1
    scale = (np.abs(x.astype(np.float64)).max(initial=0)
             * np.abs(w.astype(np.float64)).max(initial=0) * nterms
             + (0 if b is None else np.abs(b.astype(np.float64)).max()))
    tol = (2.0 ** -11 * np.abs(ref) + 2 * nterms * 2.0 ** -24 * scale
           + 2.0 ** -25)
    bad = np.abs(got - ref) > tol
    assert not bad.any(), "case=%r: %d cells off, max error %g" % (
        case, bad.sum(), np.abs(got - ref).max())


@pytest.mark.parametrize("r", NEW_RANKS)
def test_uint8_does_not_wrap(r):
    x = np.full((1,) + (3,) * r + (1,), 200, dtype=np.uint8)
    for k in (-np.ones((3,) * r + (1, 1), np.int64),
              -np.ones((3,) * r + (1, 1), np.int8)):
        y = op(convpool, "conv", r)(x, k)
        assert y.dtype == np.float64
        assert y.shape == (1,) + (1,) * r + (1,)
        assert y.ravel()[0] == -200.0 * 3 ** r


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_conv_kernel_as_large_as_padded_input(r, data):
    """Dilated kernel == padded input: one output cell, whatever the
    stride; 1x1 kernels and even kernels come from the same draw."""
    k = data.draw(st.tuples(*[st.integers(1, 4)] * r), "window")
    d = data.draw(st.tuples(*[st.integers(1, 2)] * r), "dilation")
    pads = data.draw(st.tuples(*[st.tuples(st.integers(0, 2),
                                           st.integers(0, 2))] * r), "pads")
    spatial = tuple((ki - 1) * di + 1 - lo - hi
                    for ki, di, (lo, hi) in zip(k, d, pads))
    assume(min(spatial) >= 1)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal((2,) + spatial + (2,))
    w = rng.standard_normal(k + (2, 3))
    for stride in (1, 2, (3,) + (1,) * (r - 1)):
        got = op(convpool, "conv", r)(x, w, stride=stride, padding=pads,
                                      dilation=d)
        ref = ref_conv(x, w, stride, pads, d)
        assert ref.shape == (2,) + (1,) * r + (3,)
        assert_conv_close(got, ref, x, w, None, np.float64)


@pytest.mark.parametrize("r", NEW_RANKS)
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("padding", ["same", "same_lower", "full"])
def test_conv_1x1_and_even_kernels(r, k, padding):
    rng = np.random.default_rng(k)
    x = rng.standard_normal((2,) + (5,) * r + (3,))
    w = rng.standard_normal((k,) * r + (3, 2))
    stride = (2,) + (1,) * (r - 1)
    got = op(convpool, "conv", r)(x, w, stride=stride, padding=padding)
    pads = ref_resolve_padding(padding, (5,) * r, (k,) * r, stride)
    assert_conv_close(got, ref_conv(x, w, stride, pads), x, w, None,
                      np.float64)


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_conv_strided_and_reversed_views(r, data):
    case = data.draw(conv_cases(r), "case")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    kf = data.draw(st.sampled_from(kernel_formats(r)), "kernel_format")
    view = data.draw(st.sampled_from([strided_view, reversed_view]), "view")
    x, w, b = make_conv_inputs(case)
    ref = conv_reference(case, x, w, b)
    xv = view(np.ascontiguousarray(to_data_format(x, df)))
    wv = view(np.ascontiguousarray(to_kernel_format(w, kf)))
    bv = None if b is None else reversed_view(b)
    got = op(convpool, "conv", r)(xv, wv, bias=bv, data_format=df,
                                  kernel_format=kf, **conv_kwargs(case))
    assert_conv_close(from_data_format(got, df), ref, x, w, b, np.float64,
                      "case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_conv_nested_list_inputs(r, data):
    case = data.draw(conv_cases(r), "case")
    assume(case["n"] >= 1)    # [] carries no inner dimensions
    dt = data.draw(st.sampled_from([np.float64, np.int64]), "dtype")
    x, w, b = make_conv_inputs(case, dt)
    got = np.asarray(op(convpool, "conv", r)(
        x.tolist(), w.tolist(), bias=None if b is None else b.tolist(),
        **conv_kwargs(case)))
    assert got.dtype == np.float64
    assert_conv_close(got, conv_reference(case, x, w, b), x, w, b,
                      np.float64, "case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_conv_never_modifies_inputs(r, data):
    case = data.draw(conv_cases(r, padding_modes=PADDING_MODES), "case")
    dt = data.draw(st.sampled_from([np.float64, np.float32, np.uint8,
                                    np.bool_]), "dtype")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    kf = data.draw(st.sampled_from(kernel_formats(r)), "kernel_format")
    x, w, b = make_conv_inputs(case, dt)
    xf = np.ascontiguousarray(to_data_format(x, df))
    wf = np.ascontiguousarray(to_kernel_format(w, kf))
    keep = [a.copy() for a in (xf, wf, b) if a is not None]
    kw = dict(conv_kwargs(case), data_format=df, kernel_format=kf, bias=b)
    conv = op(convpool, "conv", r)
    for engine in ("auto",) + ENGINES:
        engine_result(lambda **e: conv(xf, wf, **kw, **e), engine)
        for a, k in zip([a for a in (xf, wf, b) if a is not None], keep):
            np.testing.assert_array_equal(a, k)
    # read-only inputs must be accepted (the library must not write them)
    for a in (xf, wf, b):
        if a is not None:
            a.setflags(write=False)
    for engine in ("auto",) + ENGINES:
        engine_result(lambda **e: conv(xf, wf, **kw, **e), engine)


@pytest.mark.parametrize("r", NEW_RANKS)
@pytest.mark.parametrize("padding", list(PAD_WORDS) + [1, "tuple", "pairs"])
@pytest.mark.parametrize("channels_first", [False, True])
def test_conv_empty_batch(r, padding, channels_first):
    if padding == "tuple":
        padding = tuple(range(r))
    elif padding == "pairs":
        padding = tuple((a, 2 - a) for a in range(r))
    spatial = (5, 6, 4)[:r]
    x = np.zeros((0,) + spatial + (4,))
    w = np.ones((3, 2, 2)[:r] + (2, 6))
    stride = (2, 1, 3)[:r]
    df = data_formats(r)[int(channels_first)]
    y = op(convpool, "conv", r)(to_data_format(x, df), w, padding=padding,
                                groups=2, stride=stride, data_format=df)
    pads = ref_resolve_padding(padding, spatial, w.shape[:r], stride)
    ref = ref_conv(x, w, stride, pads, 1, 2)
    assert from_data_format(y, df).shape == ref.shape


@pytest.mark.parametrize("r", ALL_RANKS)
@FEW
@given(data=st.data())
def test_conv_every_engine_agrees_with_reference(r, data):
    """Every engine named in the contract, picked through engine=."""
    case = data.draw(conv_cases(r), "case")
    dt = data.draw(st.sampled_from([np.float64, np.float32, np.int16]),
                   "dtype")
    x, w, b = make_conv_inputs(case, dt)
    ref = conv_reference(case, x, w, b)
    ran = []
    for engine in ("auto",) + ENGINES:
        got = engine_result(lambda **e: call_conv(case, x, w, b, **e),
                            engine)
        if got is None:
            continue
        ran.append(engine)
        assert_conv_close(got, ref, x, w, b, np.asarray(got).dtype,
                          "engine=%s case=%r" % (engine, case))
        assert got.dtype == (np.float64 if is_exact_kind(dt) else dt)
    assert "auto" in ran and len(ran) >= 2, ran


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_conv_out_argument(r, data):
    case = data.draw(conv_cases(r), "case")
    x, w, b = make_conv_inputs(case)
    ref = conv_reference(case, x, w, b)
    out = np.full(ref.shape, np.nan)
    res = op(convpool, "conv", r)(x, w, bias=b, out=out, **conv_kwargs(case))
    assert res is out or np.shares_memory(res, out)
    assert_conv_close(out, ref, x, w, b, np.float64, "case=%r" % (case,))


# ---------------------------------------------------------------- pooling

@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_pool_matches_reference_float64(r, data):
    case = data.draw(pool_cases(r), "case")
    mode = data.draw(st.sampled_from(["max", "avg"]), "mode")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    via = data.draw(st.sampled_from(["pool", "alias"]), "via")
    x = make_pool_input(case)
    got = call_pool(case, x, mode, df, via)
    assert got.dtype == np.float64
    check_pool(case, got, pool_reference(case, x, mode), x, mode,
               "case=%r %s %s %s" % (case, mode, df, via))


@pytest.mark.parametrize("r", ALL_RANKS)
@SOME
@given(data=st.data())
def test_dilated_pooling(r, data):
    case = data.draw(pool_cases(r, dilated=True), "case")
    mode = data.draw(st.sampled_from(["max", "avg"]), "mode")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    x = make_pool_input(case)
    got = call_pool(case, x, mode, df)
    check_pool(case, got, pool_reference(case, x, mode), x, mode,
               "case=%r %s %s" % (case, mode, df))


@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_max_pool_keeps_dtype_and_is_exact(r, data):
    case = data.draw(pool_cases(r), "case")
    dt = data.draw(st.sampled_from(MAX_DTYPES), "dtype")
    x = make_pool_input(case, dt)
    got = np.asarray(call_pool(case, x, "max"))
    assert got.dtype == np.dtype(dt)
    np.testing.assert_array_equal(got, pool_reference(case, x, "max"),
                                  err_msg="case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@SOME
@given(data=st.data())
def test_avg_pool_dtypes(r, data):
    case = data.draw(pool_cases(r), "case")
    dt = data.draw(st.sampled_from(MAX_DTYPES), "dtype")
    x = make_pool_input(case, dt)
    got = np.asarray(call_pool(case, x, "avg"))
    expect = np.float64 if is_exact_kind(dt) else np.dtype(dt)
    assert got.dtype == expect, "avg of %s gave %s" % (np.dtype(dt),
                                                       got.dtype)
    assert_avg_close(got, pool_reference(case, x, "avg"), x,
                     window_cells(case), "case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_max_pool_propagates_nan_and_never_picks_padding(r, data):
    case = data.draw(pool_cases(r), "case")
    dt = data.draw(st.sampled_from(FLOATS), "dtype")
    x = -np.abs(make_pool_input(case, dt)) - np.asarray(1, dt)
    rng = np.random.default_rng(case["seed"] + 1)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[rng.random(x.shape) < 0.1] = -np.inf
    ref = pool_reference(case, x, "max")
    got = np.asarray(call_pool(case, x, "max"))
    assert got.dtype == np.dtype(dt)
    assert not (got >= 0).any(), "a padded cell won a max"
    np.testing.assert_array_equal(got, ref, err_msg="case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_pool_views_lists_and_inputs_unchanged(r, data):
    case = data.draw(pool_cases(r), "case")
    mode = data.draw(st.sampled_from(["max", "avg"]), "mode")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    x = make_pool_input(case)
    ref = pool_reference(case, x, mode)
    xf = np.ascontiguousarray(to_data_format(x, df))
    keep = xf.copy()
    pool = op(convpool, "pool", r)
    kw = dict(pool_kwargs(case), mode=mode, data_format=df)
    for xin in (strided_view(xf), reversed_view(xf), xf):
        got = from_data_format(pool(xin, case["window"], **kw), df)
        check_pool(case, got, ref, x, mode, "case=%r" % (case,))
    if case["n"] >= 1:
        got = from_data_format(pool(xf.tolist(), case["window"], **kw), df)
        check_pool(case, got, ref, x, mode, "case=%r" % (case,))
    np.testing.assert_array_equal(xf, keep)
    xf.setflags(write=False)
    pool(xf, case["window"], **kw)


@pytest.mark.parametrize("r", NEW_RANKS)
@FEW
@given(data=st.data())
def test_pool_threads_and_out(r, data):
    case = data.draw(pool_cases(r), "case")
    mode = data.draw(st.sampled_from(["max", "avg"]), "mode")
    x = make_pool_input(case)
    ref = pool_reference(case, x, mode)
    pool = op(convpool, "pool", r)
    kw = dict(pool_kwargs(case), mode=mode)
    a = pool(x, case["window"], threads=1, **kw)
    b = pool(x, case["window"], threads=2, **kw)
    np.testing.assert_array_equal(a, b)
    out = np.full(ref.shape, np.nan)
    res = pool(x, case["window"], out=out, **kw)
    assert res is out or np.shares_memory(res, out)
    check_pool(case, out, ref, x, mode, "case=%r" % (case,))


@pytest.mark.parametrize("r", NEW_RANKS)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_stride_none_means_window_and_empty_batch(r, mode):
    x = np.random.default_rng(r).standard_normal((2,) + (7, 5, 6)[:r] + (2,))
    pool = op(convpool, "pool", r)
    window = (2, 3, 2)[:r]
    a = pool(x, window, mode=mode, padding="same")
    b = pool(x, window, stride=window, mode=mode, padding="same")
    np.testing.assert_array_equal(a, b)
    e = pool(x[:0], window, mode=mode, padding="same")
    assert e.shape == (0,) + a.shape[1:]


# ------------------------------------------------------- adaptive pooling

@st.composite
def adaptive_cases(draw, r):
    spatial = tuple(draw(st.integers(1, (9, 6, 4)[r - 1]))
                    for _ in range(r))
    form = draw(st.sampled_from(["int", "tuple", "none"]))
    if form == "int":
        size = draw(st.integers(1, min(spatial) + 2))
    else:
        size = tuple(draw(st.integers(1, n + 2)) for n in spatial)
        if form == "none":
            keep = draw(st.integers(0, r - 1))
            size = tuple(None if a == keep else s
                         for a, s in enumerate(size))
    return dict(r=r, n=draw(st.integers(0, 2)), spatial=spatial,
                c=draw(st.integers(1, 3)), output_size=size,
                seed=draw(st.integers(0, 2 ** 32 - 1)))


@pytest.mark.parametrize("r", ALL_RANKS)
@SOME
@given(data=st.data())
def test_adaptive_pooling_matches_reference(r, data):
    case = data.draw(adaptive_cases(r), "case")
    mode = data.draw(st.sampled_from(["max", "avg"]), "mode")
    df = data.draw(st.sampled_from(data_formats(r)), "data_format")
    dt = data.draw(st.sampled_from([np.float64, np.float32, np.int16,
                                    np.uint8, np.bool_]), "dtype")
    rng = np.random.default_rng(case["seed"])
    x = random_array(rng, (case["n"],) + case["spatial"] + (case["c"],), dt)
    ref = ref_adaptive_pool(x, case["output_size"], mode)
    fn = op(convpool, "adaptive_%s_pool" % mode, r)
    got = from_data_format(
        fn(to_data_format(x, df), case["output_size"], data_format=df), df)
    msg = "case=%r %s %s %s" % (case, mode, df, np.dtype(dt))
    if mode == "max":
        assert got.dtype == np.dtype(dt), msg
        assert got.shape == ref.shape, msg
        np.testing.assert_array_equal(got, ref, err_msg=msg)
    else:
        expect = np.float64 if is_exact_kind(dt) else np.dtype(dt)
        assert got.dtype == expect, msg
        assert_avg_close(got, ref, x, max(case["spatial"]) ** r, msg)


@pytest.mark.parametrize("r", ALL_RANKS)
def test_adaptive_global_pooling(r):
    """output_size 1: the global mean / max of every channel (ResNet)."""
    x = np.random.default_rng(r).standard_normal((3,) + (5, 4, 3)[:r]
                                                 + (4,))
    axes = tuple(range(1, r + 1))
    got = op(convpool, "adaptive_avg_pool", r)(x, 1)
    np.testing.assert_allclose(got, x.mean(axis=axes, keepdims=True),
                               rtol=1e-12, atol=1e-15)
    got = op(convpool, "adaptive_max_pool", r)(x, 1)
    np.testing.assert_array_equal(got, x.max(axis=axes, keepdims=True))


@pytest.mark.parametrize("r", ALL_RANKS)
def test_engines_listed_in_docstring(r):
    doc = op(convpool, "conv", r).__doc__ or ""
    for engine in ("auto",) + ENGINES:
        assert "'%s'" % engine in doc, engine
