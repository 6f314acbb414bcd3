"""Shared helpers for the N-D tests: layouts by their letters, random
arrays, tolerances and hypothesis strategies for conv and pool cases of
any rank r (1, 2 or 3 spatial axes).

Canonical layout of every helper here (and of tests/reference.py):
activations channels last (N, *spatial, C), kernels spatial then in/out
(*window, C/groups, F).  Formats are converted by their letters, as the
documented contract names them: data formats 'NWC'/'NHWC'/'NDHWC' and
'NCW'/'NCHW'/'NCDHW'; kernel formats 'WIO'/'HWIO'/'DHWIO',
'OIW'/'OIHW'/'OIDHW' and 'OWI'/'OHWI'/'ODHWI'.
"""

import math
import os
import sys

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import (  # noqa: E402
    is_exact_kind, ref_pool_output_size, ref_resolve_padding)

SPATIAL = {1: "W", 2: "HW", 3: "DHW"}
PAD_WORDS = ("valid", "same", "same_lower", "full")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular", "symmetric")
FLOATS = (np.float16, np.float32, np.float64)
INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
        np.bool_)
# conv's engine names in the N-D contract (besides 'auto')
ENGINES = ("taps", "axpy", "depthwise", "banded", "im2col", "planar")


# ---------------------------------------------------------------- layouts

def data_formats(r):
    """(channels last, channels first) for rank r."""
    return ("N" + SPATIAL[r] + "C", "NC" + SPATIAL[r])


def kernel_formats(r):
    """(spatial-IO, OI-spatial, O-spatial-I) for rank r."""
    s = SPATIAL[r]
    return (s + "IO", "OI" + s, "O" + s + "I")


def _permute(a, src, dst):
    return np.transpose(a, [src.index(ch) for ch in dst])


def to_data_format(x_last, fmt):
    """Channels-last x -> layout ``fmt``."""
    r = np.ndim(x_last) - 2
    return _permute(np.asarray(x_last), data_formats(r)[0], fmt)


def from_data_format(y, fmt):
    """y in layout ``fmt`` -> channels last."""
    r = np.ndim(y) - 2
    return _permute(np.asarray(y), fmt, data_formats(r)[0])


def to_kernel_format(w, fmt):
    """Spatial-IO kernel -> layout ``fmt``."""
    r = np.ndim(w) - 2
    return _permute(np.asarray(w), kernel_formats(r)[0], fmt)


def op(convpool, name, r):
    """convpool.<name><r>d, e.g. op(convpool, 'max_pool', 3)."""
    return getattr(convpool, "%s%dd" % (name, r))


def engine_result(fn, engine):
    """fn(engine=engine), or None when the library says that engine does
    not apply to this problem (a ValueError naming `engine` and it)."""
    try:
        return fn(engine=engine)
    except ValueError as e:
        msg = str(e)
        # an engine of the contract is never an unknown name
        assert ("`engine`" in msg and repr(engine) in msg
                and "must be one of" not in msg), (
            "ValueError for engine=%r does not say the engine does not "
            "apply: %s" % (engine, msg))
        return None


# ----------------------------------------------------------------- arrays

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


def strided_view(a):
    """The same values as ``a`` through a view with reversed and non-unit
    strides on every axis but the first."""
    a = np.asarray(a)
    big = np.zeros((a.shape[0],) + tuple(2 * n for n in a.shape[1:]),
                   a.dtype)
    index = (slice(None),) + tuple(
        slice(None, None, -2) if i % 2 else slice(None, None, 2)
        for i in range(a.ndim - 1))
    big[index] = a
    v = big[index]
    assert not v.flags.c_contiguous or v.size <= 1
    np.testing.assert_array_equal(v, a)
    return v


def reversed_view(a):
    """The same values as ``a`` through a negatively strided view."""
    a = np.asarray(a)
    flipped = np.ascontiguousarray(a[..., ::-1])
    v = flipped[..., ::-1]
    np.testing.assert_array_equal(v, a)
    return v


# ------------------------------------------------------------- tolerances

def tolerance(result_dtype, nterms, scale):
    """See tests/test_conv_reference.py for the derivation."""
    dt = np.dtype(result_dtype)
    if dt == np.float64:
        return 1e-9 * scale + 1e-300
    if dt == np.float32:
        return 1e-4 * scale + 1e-30
    if dt == np.float16:
        return (max(1e-2, (nterms + 2) * 2.0 ** -11) * scale
                + nterms * 2.0 ** -24)
    raise AssertionError("unexpected result dtype %s" % dt)


def assert_conv_close(got, ref, x, w, bias, result_dtype, msg=""):
    """got (channels last) against the exact reference, with a tolerance
    relative to K * max|x| * max|w| + max|bias| (K products per cell)."""
    got = np.asarray(got)
    assert got.shape == ref.shape, (
        "shape %s != reference %s %s" % (got.shape, ref.shape, msg))
    if got.size == 0:
        return
    if is_exact_kind(np.asarray(x).dtype) and is_exact_kind(
            np.asarray(w).dtype) and (
            bias is None or is_exact_kind(np.asarray(bias).dtype)):
        np.testing.assert_array_equal(got, ref, err_msg=msg)
        return
    w = np.asarray(w)
    nterms = math.prod(w.shape[:-1])
    xa = np.abs(np.asarray(x, dtype=np.float64))
    wa = np.abs(w.astype(np.float64))
    scale = nterms * (xa.max() if xa.size else 0.0) * (
        wa.max() if wa.size else 0.0)
    if bias is not None:
        scale += np.abs(np.asarray(bias, dtype=np.float64)).max()
    tol = tolerance(result_dtype, nterms, scale)
    assert np.all(np.isfinite(got)), "non-finite output %s" % msg
    err = np.abs(got.astype(np.float64) - ref).max()
    assert err <= tol, "max error %g > tolerance %g %s" % (err, tol, msg)


def assert_avg_close(got, ref, x, window_cells, msg=""):
    """Average pooling: tolerance relative to max|x| (a bound of every
    mean); float16 rounds once per result and sums in float32 or better."""
    got = np.asarray(got)
    assert got.shape == ref.shape, "shape %s != %s %s" % (got.shape,
                                                          ref.shape, msg)
    if got.size == 0:
        return
    xa = np.abs(np.asarray(x, dtype=np.float64))
    scale = xa.max() if xa.size else 0.0
    tol = {np.dtype(np.float64): 1e-12 * scale,
           np.dtype(np.float32): 1e-5 * scale,
           np.dtype(np.float16): (window_cells + 2) * 2.0 ** -11 * scale}[
               got.dtype]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=msg)
    err = np.nanmax(np.abs(got.astype(np.float64) - ref), initial=0.0)
    assert err <= tol, "max error %g > %g %s" % (err, tol, msg)


# ------------------------------------------------------------- strategies

def int_or_tuple(r, lo, hi):
    """An int or an r-tuple of ints in [lo, hi]."""
    return st.one_of(st.integers(lo, hi),
                     st.tuples(*[st.integers(lo, hi)] * r))


def padding_forms(r, most):
    """Every padding form with numeric pads <= ``most`` (in 1-D also a
    flat (lo, hi) pair, as the README allows)."""
    pair = st.tuples(st.integers(0, most), st.integers(0, most))
    forms = [st.sampled_from(PAD_WORDS), st.integers(0, most),
             st.tuples(*[st.integers(0, most)] * r), st.tuples(*[pair] * r)]
    return st.one_of(*forms + ([pair] if r == 1 else []))


def ntuple(v, r):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * r


def _min_input(padding, extent, axis, r):
    """Smallest input length for which a dilated kernel of ``extent``
    fits the padded input."""
    if isinstance(padding, str):
        return extent if padding == "valid" else 1
    if isinstance(padding, int):
        pad = 2 * padding
    elif r == 1 and len(padding) == 2:      # 1-D flat (lo, hi)
        pad = sum(padding)
    elif isinstance(padding[axis], tuple):
        pad = sum(padding[axis])
    else:
        pad = 2 * padding[axis]
    return max(1, extent - pad)


# per rank: (largest kernel side, most extra input cells, largest N)
CONV_SIZES = {1: (5, 6, 3), 2: (3, 3, 2), 3: (3, 2, 2)}


@st.composite
def conv_cases(draw, r, padding_modes=("zeros",), max_n=None):
    """A random valid conv configuration of rank r (channels-last)."""
    kmax, extra, nmax = CONV_SIZES[r]
    nmax = nmax if max_n is None else max_n
    depthwise = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    cg = 1 if depthwise else draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    window = tuple(draw(st.integers(1, kmax)) for _ in range(r))
    stride = draw(int_or_tuple(r, 1, 3))
    dilation = draw(int_or_tuple(r, 1, 2))
    padding = draw(padding_forms(r, 3))
    mode = draw(st.sampled_from(padding_modes))
    dils = ntuple(dilation, r)
    spatial = []
    for a in range(r):
        lo = _min_input(padding, (window[a] - 1) * dils[a] + 1, a, r)
        spatial.append(draw(st.integers(lo, lo + extra)))
    pads = ref_resolve_padding(padding, spatial, window, stride, dilation)
    if mode == "reflect":       # PyTorch: reflect pads < input length
        assume(all(max(p) < n for p, n in zip(pads, spatial)))
    if mode in ("circular", "symmetric"):   # pads <= input length
        assume(all(max(p) <= n for p, n in zip(pads, spatial)))
    return dict(r=r, n=draw(st.integers(0, nmax)), spatial=tuple(spatial),
                c=groups * cg, f=groups * fg, window=window, groups=groups,
                stride=stride, dilation=dilation, padding=padding,
                pads=pads, padding_mode=mode, use_bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


def make_conv_inputs(case, xdtype=np.float64, wdtype=None, bdtype=None):
    """x (N, *spatial, C), w (*window, C/groups, F), bias or None."""
    rng = np.random.default_rng(case["seed"])
    wdtype = xdtype if wdtype is None else wdtype
    bdtype = xdtype if bdtype is None else bdtype
    x = random_array(rng, (case["n"],) + case["spatial"] + (case["c"],),
                     xdtype)
    w = random_array(rng, case["window"] + (case["c"] // case["groups"],
                                            case["f"]), wdtype)
    b = random_array(rng, (case["f"],), bdtype) if case["use_bias"] else None
    return x, w, b


def conv_kwargs(case):
    """The keyword arguments of convpool.conv<r>d for ``case``; the
    default padding_mode is left out so that 'zeros' is tested as a
    default too."""
    kw = dict(stride=case["stride"], padding=case["padding"],
              dilation=case["dilation"], groups=case["groups"])
    if case["padding_mode"] != "zeros":
        kw["padding_mode"] = case["padding_mode"]
    return kw


def every_window_has_input(spatial, window, stride, dilation, pads,
                           ceil_mode):
    """Windows made only of padding are refused or unspecified."""
    for n, k, s, d, (lo, hi) in zip(spatial, window, stride, dilation,
                                    pads):
        out = ref_pool_output_size(n, k, s, lo, hi, ceil_mode, d)
        if out < 1:
            return False
        for i in range(out):
            if not any(0 <= i * s - lo + t * d < n for t in range(k)):
                return False
    return True


# per rank: (largest window side, largest input side, largest N)
POOL_SIZES = {1: (5, 10, 3), 2: (3, 6, 2), 3: (3, 5, 2)}


@st.composite
def pool_cases(draw, r, dilated=None):
    """A random valid pooling configuration of rank r: every padding side
    smaller than the dilated window extent, every window holding at least
    one input cell."""
    kmax, nmax_side, nmax = POOL_SIZES[r]
    window = draw(int_or_tuple(r, 1, kmax))
    stride = draw(st.one_of(st.none(), int_or_tuple(r, 1, 3)))
    if dilated is None:
        dilation = draw(st.one_of(st.just(1), int_or_tuple(r, 1, 3)))
    elif dilated:
        dilation = draw(int_or_tuple(r, 1, 3))
        assume(max(ntuple(dilation, r)) > 1)
    else:
        dilation = 1
    ks, ds = ntuple(window, r), ntuple(dilation, r)
    ss = ks if stride is None else ntuple(stride, r)
    extents = [(k - 1) * d + 1 for k, d in zip(ks, ds)]
    padding = draw(padding_forms(r, min(extents) - 1) if min(extents) > 1
                   else st.sampled_from(PAD_WORDS + (0,)))
    spatial = tuple(draw(st.integers(1, nmax_side)) for _ in range(r))
    pads = ref_resolve_padding(padding, spatial, ks, ss, ds)
    assume(all(max(p) < e for p, e in zip(pads, extents)))
    ceil_mode = draw(st.booleans())
    assume(every_window_has_input(spatial, ks, ss, ds, pads, ceil_mode))
    return dict(r=r, n=draw(st.integers(0, nmax)), spatial=spatial,
                c=draw(st.integers(1, 3)), window=window, stride=stride,
                dilation=dilation, padding=padding, pads=pads,
                ceil_mode=ceil_mode,
                count_include_pad=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


def pool_kwargs(case):
    kw = dict(stride=case["stride"], padding=case["padding"],
              ceil_mode=case["ceil_mode"],
              count_include_pad=case["count_include_pad"])
    if case["dilation"] != 1:
        kw["dilation"] = case["dilation"]
    return kw


def make_pool_input(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    return random_array(rng, (case["n"],) + case["spatial"] + (case["c"],),
                        dtype)
