"""PyTorch as an independent oracle for the N-D ops: conv1d / conv3d,
max_pool1d / 3d (with dilation), avg_pool1d / 3d (with ceil_mode and
count_include_pad), adaptive_avg / max_pool1d / 2d / 3d, and conv's
padding_mode against torch.nn.Conv{1,2,3}d(padding_mode=...).

PyTorch only knows symmetric padding (plus 'same' for stride 1), so
asymmetric padding is applied with F.pad first.  PyTorch runs channels
first (NC..., OI...); convpool also runs channels last and its result is
transposed back.  Tolerances: 1e-9 (float64) and 1e-4 (float32) relative
to K * max|x| * max|w| + max|b| for convolution, 1e-12 / 1e-5 relative to
max|x| for averages; max pooling is exact.

The last tests check tests/reference.py itself against PyTorch (guarding
the guard) for the N-D features.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nd_cases import (
    ENGINES, data_formats, engine_result, every_window_has_input,
    kernel_formats, op)
from reference import ref_adaptive_pool, ref_conv, ref_pool

torch = pytest.importorskip("torch")
F = torch.nn.functional
convpool = pytest.importorskip("convpool")

torch.set_num_threads(1)

SOME = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])
FEW = settings(max_examples=15, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])

RANKS = (1, 2, 3)
DTYPES = (np.float64, np.float32)
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
AVG_RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
TORCH_MODES = ("zeros", "reflect", "replicate", "circular")
SEEDS = st.integers(0, 2 ** 32 - 1)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def first_to_last(a):
    """NC... -> N...C"""
    return np.moveaxis(np.asarray(a), 1, -1)


def last_to_first(a):
    return np.moveaxis(np.asarray(a), -1, 1)


def torch_pad_arg(pads):
    """r (lo, hi) pairs -> F.pad's last-axis-first flat tuple."""
    return tuple(v for lo_hi in reversed(pads) for v in lo_hi)


def assert_close(got, want, scale, rtol, msg=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, "%s != %s %s" % (got.shape, want.shape,
                                                     msg)
    if got.size == 0:
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    assert err <= rtol * scale + 1e-300, "error %g > %g %s" % (
        err, rtol * scale, msg)


def conv_scale(x, w_oi, b):
    k = math.prod(w_oi.shape[1:])
    s = k * np.abs(x).max() * np.abs(w_oi).max()
    return s + (0.0 if b is None else np.abs(b).max())


def run_layout(fn, x_first, w_oi, r, layout, **kw):
    """convpool fn in 'first' (NC.../OI...), 'last' (N...C/...IO) or
    'ohwi' (N...C/O...I) layouts; result channels first."""
    df_last, df_first = data_formats(r)
    kf_io, kf_oi, kf_o_i = kernel_formats(r)
    if layout == "first":
        return fn(x_first, w_oi, data_format=df_first, kernel_format=kf_oi,
                  **kw)
    if layout == "last":
        w = np.moveaxis(w_oi, (0, 1), (-1, -2))
        return last_to_first(fn(first_to_last(x_first), w, **kw))
    w = np.moveaxis(w_oi, 1, -1)
    return last_to_first(fn(first_to_last(x_first), w,
                            data_format=df_last, kernel_format=kf_o_i, **kw))


# ------------------------------------------------------------ convolution

SIZES = {1: (5, 7), 2: (3, 4), 3: (3, 3)}     # largest kernel, extra input


@st.composite
def torch_conv_cases(draw, r, kinds=("valid", "int", "tuple", "same",
                                     "explicit")):
    kmax, extra = SIZES[r]
    groups = draw(st.integers(1, 3))
    cg, fg = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, kmax)) for _ in range(r))
    s = tuple(draw(st.integers(1, 3)) for _ in range(r))
    d = tuple(draw(st.integers(1, 2)) for _ in range(r))
    kind = draw(st.sampled_from(kinds))
    if kind == "same":
        s = (1,) * r      # torch's padding='same' needs stride 1
        pads, padding = None, "same"
    elif kind == "valid":
        pads, padding = ((0, 0),) * r, "valid"
    elif kind == "int":
        p = draw(st.integers(0, 3))
        pads, padding = ((p, p),) * r, p
    elif kind == "tuple":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(r))
        pads = tuple((p, p) for p in padding)
    else:
        pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3)))
                     for _ in range(r))
        padding = pads
    spatial = []
    for a in range(r):
        ext = (k[a] - 1) * d[a] + 1
        lo = 1 if pads is None else max(1, ext - sum(pads[a]))
        spatial.append(draw(st.integers(lo, lo + extra)))
    return dict(r=r, n=draw(st.integers(1, 2)), c=groups * cg,
                f=groups * fg, groups=groups, spatial=tuple(spatial),
                window=k, stride=s, dilation=d, kind=kind, padding=padding,
                pads=pads, bias=draw(st.booleans()), seed=draw(SEEDS))


def conv_arrays(case, dtype):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["spatial"])
    w = rng.standard_normal((case["f"], case["c"] // case["groups"])
                            + case["window"])
    b = rng.standard_normal(case["f"]) if case["bias"] else None
    return (x.astype(dtype), w.astype(dtype),
            None if b is None else b.astype(dtype))


def torch_conv(case, x, w, b):
    """torch.nn.functional.conv<r>d, channels first."""
    xt = t(x)
    kind = case["kind"]
    if kind == "explicit":
        xt, pad = F.pad(xt, torch_pad_arg(case["pads"])), 0
    elif kind == "valid":
        pad = 0
    else:
        pad = case["padding"]
    conv = getattr(F, "conv%dd" % case["r"])
    return conv(xt, t(w), None if b is None else t(b), stride=case["stride"],
                padding=pad, dilation=case["dilation"],
                groups=case["groups"]).numpy()


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("r", (1, 3))
@SOME
@given(data=st.data())
def test_conv_matches_torch(r, data):
    case = data.draw(torch_conv_cases(r), "case")
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    layout = data.draw(st.sampled_from(["first", "last", "o_i"]), "layout")
    x, w, b = conv_arrays(case, dtype)
    want = torch_conv(case, x, w, b)
    got = run_layout(op(convpool, "conv", r), x, w, r, layout,
                     stride=case["stride"], padding=case["padding"],
                     dilation=case["dilation"], groups=case["groups"],
                     bias=b)
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, conv_scale(x, w, b), RTOL[np.dtype(dtype)],
                 "case=%r %s" % (case, layout))


@pytest.mark.parametrize("r", RANKS)
@SOME
@given(data=st.data())
def test_conv_padding_mode_matches_torch_module(r, data):
    """torch.nn.Conv<r>d(padding_mode=...) with symmetric padding (the
    padding PyTorch's modules take), against convpool's padding_mode."""
    case = data.draw(torch_conv_cases(r, kinds=("int", "tuple")), "case")
    mode = data.draw(st.sampled_from(TORCH_MODES), "padding_mode")
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    pads = case["pads"]
    if mode == "reflect":
        assume(all(lo < n for (lo, _), n in zip(pads, case["spatial"])))
    if mode == "circular":
        assume(all(lo <= n for (lo, _), n in zip(pads, case["spatial"])))
    x, w, b = conv_arrays(case, dtype)
    cls = getattr(torch.nn, "Conv%dd" % r)
    layer = cls(case["c"], case["f"], case["window"], stride=case["stride"],
                padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"], bias=b is not None,
                padding_mode=mode).to(torch.float64 if dtype == np.float64
                                      else torch.float32)
    with torch.no_grad():
        layer.weight.copy_(t(w))
        if b is not None:
            layer.bias.copy_(t(b))
        want = layer(t(x)).numpy()
    layout = data.draw(st.sampled_from(["first", "last"]), "layout")
    got = run_layout(op(convpool, "conv", r), x, w, r, layout,
                     stride=case["stride"], padding=case["padding"],
                     dilation=case["dilation"], groups=case["groups"],
                     bias=b, padding_mode=mode)
    assert_close(got, want, conv_scale(x, w, b), RTOL[np.dtype(dtype)],
                 "case=%r %s %s" % (case, mode, layout))


# ---------------------------------------------------------------- pooling

POOL_SIZES = {1: (5, 12), 2: (3, 7), 3: (3, 5)}   # largest window, input


@st.composite
def torch_pool_cases(draw, r, dilation=True):
    kmax, nmax = POOL_SIZES[r]
    k = tuple(draw(st.integers(1, kmax)) for _ in range(r))
    stride = draw(st.one_of(st.none(),
                            st.tuples(*[st.integers(1, 3)] * r)))
    d = (tuple(draw(st.integers(1, 3)) for _ in range(r)) if dilation
         else (1,) * r)
    # torch: padding at most half the (dilated, for max) window
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    spatial = []
    for ki, di, pi in zip(k, d, p):
        ext = (ki - 1) * di + 1
        # torch's avg_pool3d refuses an input shorter than the window
        least = max(1, ext - 2 * pi, ki if r == 3 else 1)
        spatial.append(draw(st.integers(least, max(nmax, ext))))
    ceil_mode = draw(st.booleans())
    # a dilated window can skip over a short input and hold only padding:
    # PyTorch gives -inf there, the contract leaves it open (see
    # tests/test_errors_nd.py); keep such cases out of the comparison
    assume(every_window_has_input(
        spatial, k, k if stride is None else stride, d,
        [(pi, pi) for pi in p], ceil_mode))
    return dict(r=r, n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)),
                spatial=tuple(spatial), window=k, stride=stride,
                dilation=d, padding=p, ceil_mode=ceil_mode,
                count_include_pad=draw(st.booleans()), seed=draw(SEEDS))


def pool_input(case, dtype, nan=False):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"]) + case["spatial"])
    if nan:
        x[rng.random(x.shape) < 0.15] = np.nan
    return x.astype(dtype)


def run_pool(fn, x_first, r, channels_first, *args, **kw):
    """convpool pooling in either layout; result channels first."""
    df_last, df_first = data_formats(r)
    if channels_first:
        return np.asarray(fn(x_first, *args, data_format=df_first, **kw))
    return last_to_first(fn(first_to_last(x_first), *args,
                            data_format=df_last, **kw))


@pytest.mark.parametrize("r", RANKS)
@SOME
@given(data=st.data())
def test_max_pool_with_dilation_matches_torch(r, data):
    case = data.draw(torch_pool_cases(r), "case")
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    x = pool_input(case, dtype, nan=data.draw(st.booleans(), "nan"))
    stride = case["window"] if case["stride"] is None else case["stride"]
    want = getattr(F, "max_pool%dd" % r)(
        t(x), case["window"], stride, case["padding"],
        dilation=case["dilation"], ceil_mode=case["ceil_mode"]).numpy()
    got = run_pool(op(convpool, "max_pool", r), x, r,
                   data.draw(st.booleans(), "channels first"),
                   case["window"], stride=case["stride"],
                   padding=case["padding"], dilation=case["dilation"],
                   ceil_mode=case["ceil_mode"])
    assert got.dtype == dtype
    assert got.shape == want.shape, "case=%r" % (case,)
    np.testing.assert_array_equal(got, want, err_msg="case=%r" % (case,))


@pytest.mark.parametrize("r", RANKS)
@SOME
@given(data=st.data())
def test_avg_pool_matches_torch(r, data):
    case = data.draw(torch_pool_cases(r, dilation=False), "case")
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    x = pool_input(case, dtype)
    stride = case["window"] if case["stride"] is None else case["stride"]
    want = getattr(F, "avg_pool%dd" % r)(
        t(x), case["window"], stride, case["padding"],
        ceil_mode=case["ceil_mode"],
        count_include_pad=case["count_include_pad"]).numpy()
    got = run_pool(op(convpool, "avg_pool", r), x, r,
                   data.draw(st.booleans(), "channels first"),
                   case["window"], stride=case["stride"],
                   padding=case["padding"], ceil_mode=case["ceil_mode"],
                   count_include_pad=case["count_include_pad"])
    assert got.dtype == dtype
    assert_close(got, want, np.abs(x).max(), AVG_RTOL[np.dtype(dtype)],
                 "case=%r" % (case,))


@st.composite
def adaptive_cases(draw, r):
    spatial = tuple(draw(st.integers(1, (12, 8, 5)[r - 1]))
                    for _ in range(r))
    form = draw(st.sampled_from(["int", "tuple", "none"]))
    if form == "int":
        size = draw(st.integers(1, min(spatial) + 3))
    else:
        size = tuple(draw(st.one_of(st.integers(1, n + 3), st.none()))
                     if form == "none" else draw(st.integers(1, n + 3))
                     for n in spatial)
    return dict(r=r, n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)),
                spatial=spatial, output_size=size, seed=draw(SEEDS))


@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("mode", ["avg", "max"])
@SOME
@given(data=st.data())
def test_adaptive_pool_matches_torch(r, mode, data):
    case = data.draw(adaptive_cases(r), "case")
    dtype = data.draw(st.sampled_from(DTYPES), "dtype")
    x = pool_input(case, dtype, nan=mode == "max" and data.draw(
        st.booleans(), "nan"))
    size = case["output_size"]
    # torch.nn.functional's 1-D forms take an int only; None keeps the axis
    tsize = size[0] if r == 1 and isinstance(size, tuple) else size
    if tsize is None:
        tsize = case["spatial"][0]
    want = getattr(F, "adaptive_%s_pool%dd" % (mode, r))(t(x), tsize)
    if mode == "max":
        want = want[0] if isinstance(want, tuple) else want
    want = want.numpy()
    got = run_pool(op(convpool, "adaptive_%s_pool" % mode, r), x, r,
                   data.draw(st.booleans(), "channels first"), size)
    assert got.dtype == dtype
    msg = "case=%r" % (case,)
    if mode == "max":
        assert got.shape == want.shape, msg
        np.testing.assert_array_equal(got, want, err_msg=msg)
    else:
        assert_close(got, want, np.abs(x).max(), AVG_RTOL[np.dtype(dtype)],
                     msg)


# ------------------------------------ the reference itself against torch

@pytest.mark.parametrize("r", RANKS)
@FEW
@given(data=st.data())
def test_reference_conv_agrees_with_torch(r, data):
    case = data.draw(torch_conv_cases(r, kinds=("valid", "tuple",
                                                "explicit")), "case")
    x, w, b = conv_arrays(case, np.float64)
    want = torch_conv(case, x, w, b)
    ref = last_to_first(ref_conv(first_to_last(x),
                                 np.moveaxis(w, (0, 1), (-1, -2)),
                                 case["stride"], case["pads"],
                                 case["dilation"], case["groups"], b))
    assert_close(ref, want, conv_scale(x, w, b), 1e-12)


@pytest.mark.parametrize("r", RANKS)
@FEW
@given(data=st.data())
def test_reference_padding_modes_agree_with_torch(r, data):
    case = data.draw(torch_conv_cases(r, kinds=("int", "tuple")), "case")
    mode = data.draw(st.sampled_from(TORCH_MODES[1:]), "padding_mode")
    assume(all(lo < n for (lo, _), n in zip(case["pads"], case["spatial"])))
    x, w, b = conv_arrays(case, np.float64)
    pad_mode = {"reflect": "reflect", "replicate": "replicate",
                "circular": "circular"}[mode]
    xt = F.pad(t(x), torch_pad_arg(case["pads"]), mode=pad_mode)
    want = getattr(F, "conv%dd" % r)(
        xt, t(w), None if b is None else t(b), stride=case["stride"],
        dilation=case["dilation"], groups=case["groups"]).numpy()
    ref = last_to_first(ref_conv(first_to_last(x),
                                 np.moveaxis(w, (0, 1), (-1, -2)),
                                 case["stride"], case["pads"],
                                 case["dilation"], case["groups"], b,
                                 padding_mode=mode))
    assert_close(ref, want, conv_scale(x, w, b), 1e-12)


@pytest.mark.parametrize("r", RANKS)
@FEW
@given(data=st.data())
def test_reference_pool_agrees_with_torch(r, data):
    case = data.draw(torch_pool_cases(r), "case")
    x = pool_input(case, np.float64)
    xl = first_to_last(x)
    stride = case["window"] if case["stride"] is None else case["stride"]
    pads = tuple((p, p) for p in case["padding"])
    want = getattr(F, "max_pool%dd" % r)(
        t(x), case["window"], stride, case["padding"],
        dilation=case["dilation"], ceil_mode=case["ceil_mode"]).numpy()
    ref = ref_pool(xl, case["window"], stride, pads, "max",
                   case["ceil_mode"], dilation=case["dilation"])
    np.testing.assert_array_equal(last_to_first(ref), want)
    want = getattr(F, "avg_pool%dd" % r)(
        t(x), case["window"], stride, case["padding"],
        ceil_mode=case["ceil_mode"],
        count_include_pad=case["count_include_pad"]).numpy()
    ref = ref_pool(xl, case["window"], stride, pads, "avg",
                   case["ceil_mode"], case["count_include_pad"])
    np.testing.assert_allclose(last_to_first(ref), want, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("r", RANKS)
@FEW
@given(data=st.data())
def test_reference_adaptive_agrees_with_torch(r, data):
    case = data.draw(adaptive_cases(r), "case")
    assume(r > 1 or not isinstance(case["output_size"], tuple))
    x = pool_input(case, np.float64)
    for mode in ("avg", "max"):
        want = getattr(F, "adaptive_%s_pool%dd" % (mode, r))(
            t(x), case["output_size"])
        want = (want[0] if isinstance(want, tuple) else want).numpy()
        ref = last_to_first(ref_adaptive_pool(first_to_last(x),
                                              case["output_size"], mode))
        np.testing.assert_allclose(ref, want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------ non-finite values

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("r", (1, 3))
@SOME
@given(data=st.data())
def test_conv_non_finite_values_match_torch(r, data):
    """NaN / inf follow IEEE arithmetic on the zero-padded input, as in
    torch: NaN * 0 = NaN and inf * 0 = NaN, zero taps and padded cells
    under an inf weight included."""
    case = data.draw(torch_conv_cases(r), "case")
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), "value")
    where = data.draw(st.sampled_from(["x", "kernel", "both"]), "where")
    x, w, _ = conv_arrays(case, np.float64)
    rng = np.random.default_rng(case["seed"] + 1)
    w[rng.random(w.shape) < 0.3] = 0.0
    if where in ("x", "both"):
        x[rng.random(x.shape) < 0.1] = bad
    if where in ("kernel", "both"):
        w[rng.random(w.shape) < 0.1] = bad
    engine = data.draw(st.sampled_from(("auto",) + ENGINES), "engine")
    want = torch_conv(case, x, w, None)
    got = engine_result(lambda **e: run_layout(
        op(convpool, "conv", r), x, w, r, "first", stride=case["stride"],
        padding=case["padding"], dilation=case["dilation"],
        groups=case["groups"], **e), engine)
    if got is None:
        return
    got = np.asarray(got)
    assert got.shape == want.shape
    msg = "case=%r engine=%s" % (case, engine)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), msg)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want), msg)
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    finite = np.isfinite(want)
    if finite.any():
        scale = conv_scale(np.where(np.isfinite(x), x, 0),
                           np.where(np.isfinite(w), w, 0), None)
        err = np.abs(got[finite] - want[finite]).max()
        assert err <= 1e-9 * scale + 1e-300, msg
