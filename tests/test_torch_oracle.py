"""PyTorch as an independent oracle for conv2d, pooling and the tutorial.

PyTorch only knows symmetric integer padding (plus 'same' for stride 1), so
asymmetric padding is applied with F.pad first.  TensorFlow cannot be
installed here, so Keras' padding='same' is emulated: TensorFlow's pads are
computed explicitly with the formula from TensorFlow's documentation
("pad_along = max(k - s, 0) if in % s == 0 else max(k - in % s, 0); the
extra cell goes at the end"), applied with F.pad (zeros for convolution,
-inf for max pooling; average pooling divides by the count of real cells,
which is what TensorFlow does), then the unpadded torch op is run.

Tolerances are relative to scale = K * max|x| * max|w| + max|b| (an upper
bound of sum |x * w| + |b|): 1e-9 in float64, 1e-4 in float32.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import ref_conv2d, ref_pool2d  # noqa: E402

convpool = pytest.importorskip("convpool")

torch.set_num_threads(1)

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
FEW = settings(max_examples=30, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])

ENGINES = ("auto", "taps", "im2col")


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def nchw_to_nhwc(a):
    return np.transpose(np.asarray(a), (0, 2, 3, 1))


def nhwc_to_nchw(a):
    return np.transpose(np.asarray(a), (0, 3, 1, 2))


def tf_same_pads(n, k, s, d=1):
    """TensorFlow documentation's 'SAME' rule (written independently of
    tests/reference.py's ceil-based form)."""
    k = (k - 1) * d + 1
    pad = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
    return pad // 2, pad - pad // 2


def assert_close(got, want, scale, dtype, msg="", rtol=None):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, "%s != %s %s" % (got.shape, want.shape,
                                                     msg)
    if got.size == 0:
        return
    if rtol is None:
        rtol = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}[
            np.dtype(dtype)]
    err = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    assert err <= rtol * scale + 1e-300, "error %g > %g %s" % (
        err, rtol * scale, msg)


def scale_of(x, w, b):
    k = np.prod(w.shape[1:])  # OIHW: C/groups * KH * KW products
    s = k * np.abs(x).max() * np.abs(w).max()
    return s + (0.0 if b is None else np.abs(b).max())


# ---------------------------------------------------------- convolution

@st.composite
def torch_conv_cases(draw):
    groups = draw(st.integers(1, 3))
    cg = draw(st.integers(1, 3))
    fg = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["valid", "int", "pair", "same",
                                 "explicit"]))
    if kind == "same":
        sh = sw = 1       # torch's padding='same' requires stride 1
    if kind == "valid":
        pads, padding = ((0, 0), (0, 0)), "valid"
    elif kind == "int":
        p = draw(st.integers(0, 3))
        pads, padding = ((p, p), (p, p)), p
    elif kind == "pair":
        ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        pads, padding = ((ph, ph), (pw, pw)), (ph, pw)
    elif kind == "same":
        pads, padding = None, "same"
    else:
        q = [draw(st.integers(0, 3)) for _ in range(4)]
        pads = ((q[0], q[1]), (q[2], q[3]))
        padding = pads
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    lo_h = 1 if pads is None else max(1, ekh - sum(pads[0]))
    lo_w = 1 if pads is None else max(1, ekw - sum(pads[1]))
    h = draw(st.integers(lo_h, lo_h + 5))
    w = draw(st.integers(lo_w, lo_w + 5))
    return dict(n=n, c=groups * cg, f=groups * fg, groups=groups, h=h, w=w,
                kh=kh, kw=kw, stride=(sh, sw), dilation=(dh, dw), kind=kind,
                padding=padding, pads=pads,
                bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


def torch_conv(case, x_nchw, w_oihw, b):
    """The oracle: torch.nn.functional.conv2d in NCHW/OIHW."""
    xt, wt = t(x_nchw), t(w_oihw)
    bt = None if b is None else t(b)
    kind = case["kind"]
    if kind == "valid":
        pad = 0
    elif kind == "int":
        pad = case["padding"]
    elif kind == "pair":
        pad = tuple(case["padding"])
    elif kind == "same":
        pad = "same"
    else:
        (top, bot), (lft, rgt) = case["pads"]
        xt = F.pad(xt, (lft, rgt, top, bot))
        pad = 0
    y = F.conv2d(xt, wt, bt, stride=case["stride"], padding=pad,
                 dilation=case["dilation"], groups=case["groups"])
    return y.numpy()


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@SETTINGS
@given(case=torch_conv_cases(),
       dtype=st.sampled_from([np.float64, np.float32]),
       layout=st.sampled_from(["NCHW/OIHW", "NHWC/HWIO", "NHWC/OHWI"]),
       engine=st.sampled_from(ENGINES))
def test_conv2d_matches_torch(case, dtype, layout, engine):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"],
                             case["w"])).astype(dtype)
    wk = rng.standard_normal((case["f"], case["c"] // case["groups"],
                              case["kh"], case["kw"])).astype(dtype)
    b = rng.standard_normal(case["f"]).astype(dtype) if case["bias"] \
        else None
    want = torch_conv(case, x, wk, b)
    kw = dict(stride=case["stride"], padding=case["padding"],
              dilation=case["dilation"], groups=case["groups"], bias=b,
              engine=engine)
    if layout == "NCHW/OIHW":
        got = convpool.conv2d(x, wk, data_format="NCHW",
                              kernel_format="OIHW", **kw)
    elif layout == "NHWC/HWIO":
        got = nhwc_to_nchw(convpool.conv2d(
            nchw_to_nhwc(x), np.transpose(wk, (2, 3, 1, 0)), **kw))
    else:
        got = nhwc_to_nchw(convpool.conv2d(
            nchw_to_nhwc(x), np.transpose(wk, (0, 2, 3, 1)),
            kernel_format="OHWI", **kw))
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, scale_of(x, wk, b), dtype,
                 "case=%r %s %s" % (case, layout, engine))


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3),
       hw=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       lower=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_conv2d_same_matches_emulated_keras(n, c, f, hw, k, s, d, lower,
                                            seed):
    """Keras Conv2D(padding='same', strides=s, dilation_rate=d) emulated
    with TensorFlow's documented pads + F.pad + unpadded F.conv2d.
    'same_lower' is the same with the odd cell moved to the start."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, hw[0], hw[1]))
    wk = rng.standard_normal((f, c, k[0], k[1]))
    (top, bot) = tf_same_pads(hw[0], k[0], s[0], d[0])
    (lft, rgt) = tf_same_pads(hw[1], k[1], s[1], d[1])
    if lower:
        top, bot, lft, rgt = bot, top, rgt, lft
    want = F.conv2d(F.pad(t(x), (lft, rgt, top, bot)), t(wk), stride=s,
                    dilation=d).numpy()
    assert want.shape[2:] == (-(-hw[0] // s[0]), -(-hw[1] // s[1]))
    got = convpool.conv2d(x, wk, stride=s, dilation=d,
                          padding="same_lower" if lower else "same",
                          data_format="NCHW", kernel_format="OIHW")
    assert_close(got, want, scale_of(x, wk, None), np.float64)


# -------------------------------------------------------------- pooling

@st.composite
def torch_pool_cases(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(
        st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    # torch: padding at most half the window
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 9))
    w = draw(st.integers(max(1, kw - 2 * pw), 9))
    return dict(n=n, c=c, h=h, w=w, window=(kh, kw), stride=stride,
                padding=(ph, pw), ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


@SETTINGS
@given(case=torch_pool_cases(),
       dtype=st.sampled_from([np.float64, np.float32]),
       data_format=st.sampled_from(["NCHW", "NHWC"]),
       nan=st.booleans())
def test_max_pool2d_matches_torch(case, dtype, data_format, nan):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"],
                             case["w"])).astype(dtype)
    if nan:
        x[rng.random(x.shape) < 0.15] = np.nan
    stride = case["window"] if case["stride"] is None else case["stride"]
    want = F.max_pool2d(t(x), case["window"], stride, case["padding"],
                        ceil_mode=case["ceil_mode"]).numpy()
    kw = dict(stride=case["stride"], padding=case["padding"],
              ceil_mode=case["ceil_mode"], data_format=data_format)
    if data_format == "NCHW":
        got = convpool.max_pool2d(x, case["window"], **kw)
    else:
        got = nhwc_to_nchw(convpool.max_pool2d(nchw_to_nhwc(x),
                                               case["window"], **kw))
    got = np.asarray(got)
    assert got.dtype == dtype
    assert got.shape == want.shape, "case=%r" % (case,)
    np.testing.assert_array_equal(got, want, err_msg="case=%r" % (case,))


@SETTINGS
@given(case=torch_pool_cases(),
       dtype=st.sampled_from([np.float64, np.float32]),
       data_format=st.sampled_from(["NCHW", "NHWC"]))
def test_avg_pool2d_matches_torch(case, dtype, data_format):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"],
                             case["w"])).astype(dtype)
    stride = case["window"] if case["stride"] is None else case["stride"]
    want = F.avg_pool2d(t(x), case["window"], stride, case["padding"],
                        ceil_mode=case["ceil_mode"],
                        count_include_pad=case["count_include_pad"]).numpy()
    kw = dict(stride=case["stride"], padding=case["padding"],
              ceil_mode=case["ceil_mode"],
              count_include_pad=case["count_include_pad"],
              data_format=data_format)
    if data_format == "NCHW":
        got = convpool.avg_pool2d(x, case["window"], **kw)
    else:
        got = nhwc_to_nchw(convpool.avg_pool2d(nchw_to_nhwc(x),
                                               case["window"], **kw))
    assert np.asarray(got).dtype == dtype
    # a window mean is bounded by max|x|
    assert_close(got, want, np.abs(x).max(), dtype, "case=%r" % (case,),
                 rtol={np.float64: 1e-12, np.float32: 1e-5}[dtype])


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 2),
       hw=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       s=st.one_of(st.none(), st.tuples(st.integers(1, 3),
                                        st.integers(1, 3))),
       seed=st.integers(0, 2 ** 32 - 1))
def test_pool_same_matches_emulated_keras(n, c, hw, k, s, seed):
    """Keras MaxPooling2D / AveragePooling2D(padding='same'): TensorFlow's
    pads, -inf for max, and the average over real cells only (the
    default count_include_pad=False here)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, hw[0], hw[1]))
    st_ = k if s is None else s
    top, bot = tf_same_pads(hw[0], k[0], st_[0])
    lft, rgt = tf_same_pads(hw[1], k[1], st_[1])
    pad = (lft, rgt, top, bot)
    want_max = F.max_pool2d(F.pad(t(x), pad, value=-np.inf), k,
                            st_).numpy()
    sums = F.avg_pool2d(F.pad(t(x), pad), k, st_)
    counts = F.avg_pool2d(F.pad(torch.ones_like(t(x)), pad), k, st_)
    want_avg = (sums / counts).numpy()
    got_max = convpool.max_pool2d(x, k, stride=s, padding="same",
                                  data_format="NCHW")
    np.testing.assert_array_equal(got_max, want_max)
    got_avg = convpool.avg_pool2d(x, k, stride=s, padding="same",
                                  data_format="NCHW")
    assert_close(got_avg, want_avg, np.abs(x).max(), np.float64,
                 rtol=1e-12)


# ------------------------------------------------- non-finite values

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("engine", ENGINES)
@SETTINGS
@given(case=torch_conv_cases(),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       where=st.sampled_from(["x", "kernel", "both"]),
       zero_frac=st.sampled_from([0.0, 0.3, 1.0]))
def test_conv2d_non_finite_values_match_torch(case, engine, bad, where,
                                              zero_frac):
    """NaN / inf follow IEEE arithmetic on the padded input, as in torch
    (and in tests/reference.py): NaN * 0 = NaN and inf * 0 = NaN, also for
    zero kernel taps and for padded (zero) cells under an inf weight.  The
    conv2d docstring also promises every engine gives the same numbers."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    wk = rng.standard_normal((case["f"], case["c"] // case["groups"],
                              case["kh"], case["kw"]))
    wk[rng.random(wk.shape) < zero_frac] = 0.0
    if where in ("x", "both"):
        x[rng.random(x.shape) < 0.1] = bad
    if where in ("kernel", "both"):
        wk[rng.random(wk.shape) < 0.1] = bad
    want = torch_conv(case, x, wk, None)
    got = np.asarray(convpool.conv2d(
        x, wk, stride=case["stride"], padding=case["padding"],
        dilation=case["dilation"], groups=case["groups"],
        data_format="NCHW", kernel_format="OIHW", engine=engine))
    assert got.shape == want.shape
    np.testing.assert_array_equal(
        np.isnan(got), np.isnan(want),
        err_msg="LIBRARY BUG? engine=%r: NaN pattern differs from torch "
                "(IEEE NaN*0 / inf*0 lost; case=%r)" % (engine, case))
    fin = np.isfinite(want)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    if fin.any():
        scale = scale_of(np.where(np.isfinite(x), x, 0),
                         np.where(np.isfinite(wk), wk, 0), None)
        assert np.abs(got[fin] - want[fin]).max() <= 1e-9 * scale + 1e-300


# --------------------------------------- big batches: chunks and threads

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n,h,w,c,f,k,groups,threads", [
    (33, 24, 20, 8, 16, 3, 1, 2),
    (7, 31, 17, 6, 6, 5, 6, 2),
    (3, 40, 40, 4, 8, 3, 2, 5),
    (1, 64, 48, 16, 4, 2, 1, 2),
])
def test_large_batches_match_torch(n, h, w, c, f, k, groups, threads,
                                   engine):
    """Big enough to exceed the library's few-MiB scratch buffers, so the
    batch is cut into several chunks and threads (threads > N too)."""
    rng = np.random.default_rng(n * 1000 + h)
    x = rng.standard_normal((n, h, w, c))
    wk = rng.standard_normal((k, k, c // groups, f))
    b = rng.standard_normal(f)
    for stride, padding, tpad in ((1, "same", None), (2, 1, 1)):
        got = convpool.conv2d(x, wk, stride=stride, padding=padding,
                              groups=groups, bias=b, engine=engine,
                              threads=threads)
        xt = t(nhwc_to_nchw(x))
        if tpad is None:
            (a, bb), (l_, r_) = (tf_same_pads(h, k, 1), tf_same_pads(w, k, 1))
            xt, tpad = F.pad(xt, (l_, r_, a, bb)), 0
        want = F.conv2d(xt, t(np.transpose(wk, (3, 2, 0, 1))), t(b),
                        stride=stride, padding=tpad, groups=groups).numpy()
        assert_close(nhwc_to_nchw(got), want, scale_of(x, wk.T, b),
                     np.float64)
    xt = t(nhwc_to_nchw(x))
    for ceil_mode in (False, True):
        got = convpool.max_pool2d(x, 3, stride=2, padding=1,
                                  ceil_mode=ceil_mode, threads=threads)
        want = F.max_pool2d(xt, 3, 2, 1, ceil_mode=ceil_mode).numpy()
        np.testing.assert_array_equal(nhwc_to_nchw(got), want)
        got = convpool.avg_pool2d(x, 3, stride=2, padding=1,
                                  ceil_mode=ceil_mode, threads=threads,
                                  count_include_pad=True)
        want = F.avg_pool2d(xt, 3, 2, 1, ceil_mode=ceil_mode).numpy()
        assert_close(nhwc_to_nchw(got), want, np.abs(x).max(), np.float64,
                     rtol=1e-12)


# -------------------------------------- the reference itself vs. torch

@FEW
@given(case=torch_conv_cases())
def test_reference_conv_agrees_with_torch(case):
    """Guards the guard: tests/reference.py against torch."""
    assume(case["kind"] != "same")
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    wk = rng.standard_normal((case["f"], case["c"] // case["groups"],
                              case["kh"], case["kw"]))
    b = rng.standard_normal(case["f"]) if case["bias"] else None
    want = torch_conv(case, x, wk, b)
    ref = nhwc_to_nchw(ref_conv2d(nchw_to_nhwc(x),
                                  np.transpose(wk, (2, 3, 1, 0)),
                                  case["stride"], case["pads"],
                                  case["dilation"], case["groups"], b))
    assert_close(ref, want, scale_of(x, wk, b), np.float64)


@FEW
@given(case=torch_pool_cases())
def test_reference_pool_agrees_with_torch(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    stride = case["window"] if case["stride"] is None else case["stride"]
    ph, pw = case["padding"]
    pads = ((ph, ph), (pw, pw))
    xn = nchw_to_nhwc(x)
    want = F.max_pool2d(t(x), case["window"], stride, case["padding"],
                        ceil_mode=case["ceil_mode"]).numpy()
    ref = nhwc_to_nchw(ref_pool2d(xn, case["window"], stride, pads, "max",
                                  case["ceil_mode"]))
    np.testing.assert_array_equal(ref, want)
    want = F.avg_pool2d(t(x), case["window"], stride, case["padding"],
                        ceil_mode=case["ceil_mode"],
                        count_include_pad=case["count_include_pad"]).numpy()
    ref = nhwc_to_nchw(ref_pool2d(xn, case["window"], stride, pads, "avg",
                                  case["ceil_mode"],
                                  case["count_include_pad"]))
    np.testing.assert_allclose(ref, want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------- tutorial

def test_tutorial_batch_conv_matches_torch_conv2d_layer():
    """The tutorial's check: 4 random 9x9x3 images, 8 kernels 5x5x3 in
    (filters, kh, kw, c) layout, stride 1, pad 2, against
    torch.nn.Conv2d(3, 8, 5, padding=2, bias=False)."""
    tutorial = pytest.importorskip("convpool.tutorial")
    rng = np.random.default_rng(2024)
    images = rng.standard_normal((4, 9, 9, 3))
    kernels = rng.standard_normal((8, 5, 5, 3))
    got = tutorial.convolution_operation_batch_3D_images(images, kernels,
                                                         1, 2)
    layer = torch.nn.Conv2d(3, 8, 5, padding=2, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(t(np.transpose(kernels, (0, 3, 1, 2))))
        want = layer(t(np.transpose(images, (0, 3, 1, 2)))).numpy()
    want = np.transpose(want, (0, 2, 3, 1))
    assert np.asarray(got).shape == (4, 9, 9, 8)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # and the library's main entry point agrees with the tutorial
    lib = convpool.conv2d(images, kernels, padding=2, kernel_format="OHWI")
    np.testing.assert_allclose(lib, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (3, 2), (2, 0)])
def test_tutorial_single_image_functions_match_torch(stride, pad):
    tutorial = pytest.importorskip("convpool.tutorial")
    rng = np.random.default_rng(stride * 10 + pad)
    img2 = rng.standard_normal((7, 8))
    k2 = rng.standard_normal((3, 2))
    want2 = F.conv2d(t(img2)[None, None], t(k2)[None, None], stride=stride,
                     padding=pad).numpy()[0, 0]
    got2 = tutorial.convolution_operation_2D_Image(img2, k2, stride, pad)
    np.testing.assert_allclose(got2, want2, rtol=1e-9, atol=1e-9)
    img3 = rng.standard_normal((7, 8, 3))
    k3 = rng.standard_normal((3, 2, 3))
    want3 = F.conv2d(t(np.transpose(img3, (2, 0, 1)))[None],
                     t(np.transpose(k3, (2, 0, 1)))[None], stride=stride,
                     padding=pad).numpy()[0, 0]
    got3 = tutorial.convolution_operation_3D_Image(img3, k3, stride, pad)
    np.testing.assert_allclose(got3, want3, rtol=1e-9, atol=1e-9)
    patch = rng.standard_normal((3, 2, 3))
    assert abs(tutorial.conv_step(patch, k3) - np.sum(patch * k3)) < 1e-12


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 1), (3, 2), (2, 3)])
def test_tutorial_max_pool_matches_torch(size, stride):
    tutorial = pytest.importorskip("convpool.tutorial")
    rng = np.random.default_rng(size * 10 + stride)
    x = rng.standard_normal((3, 8, 7, 2))
    want = F.max_pool2d(t(np.transpose(x, (0, 3, 1, 2))), size,
                        stride).numpy()
    got = tutorial.max_pool_batch_3D_images(x, size, stride)
    np.testing.assert_array_equal(got, np.transpose(want, (0, 2, 3, 1)))
