"""TensorFlow as an independent oracle for the N-D ops: tf.nn.conv1d /
conv3d / convolution, max_pool1d / 3d, avg_pool1d / 3d ('SAME' and
'VALID' with strides) and tf.nn.pool with dilation_rate.

TensorFlow is too heavy for CI, so this module is skipped without it.  To
run it, use a separate environment (see tests/test_tf_oracle.py), e.g.::

    python -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu pytest hypothesis
    PYTHONPATH=src /tmp/tfenv/bin/python -m pytest tests/test_tf_oracle_nd.py

What TensorFlow 2.21's CPU build offers, and so what is compared:
* conv1d (NWC / WIO) in float64, with strides, dilations (both at once)
  and groups (C = groups * kernel in-channels);
* conv3d in float64 without dilation or groups (its CPU kernel refuses
  both in float64); dilated 3-D convolution through tf.nn.convolution
  (stride 1), also float64;
* 3-D pooling in float32 only (MaxPool3D / AvgPool3D have no float64 CPU
  kernel), 1-D pooling in float64;
* tf.nn.pool refuses 'SAME' with dilation_rate > 1, so dilated pooling is
  compared with 'VALID' (and stride 1, which dilation requires).
Like tests/test_tf_oracle.py, every array goes to TF as a tf.Tensor.

Tolerances are per element, relative to the magnitude (the same op on |x|
and |w|, plus |b|): 1e-9 in float64, 1e-4 in float32; max pooling is
exact.  convpool also runs channels first and with the other kernel
formats, its result transposed back.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import convpool  # noqa: E402
from nd_cases import (  # noqa: E402
    data_formats, from_data_format, kernel_formats, to_data_format,
    to_kernel_format)

T = tf.convert_to_tensor

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])

DTYPES = (np.float64, np.float32)
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
AVG_RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
SEEDS = st.integers(0, 2 ** 32 - 1)


def assert_close(got, want, magnitude, rtol, msg=""):
    """|got - want| <= rtol * magnitude, elementwise."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, "shape %s != TF %s %s" % (
        got.shape, want.shape, msg)
    if got.size == 0:
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = rtol * np.asarray(magnitude, np.float64) + 1e-30
    bad = err > bound
    assert not bad.any(), "max error %g (bound %g) at %s %s" % (
        err.max(), bound.ravel()[np.argmax(err)],
        np.argwhere(bad)[0].tolist(), msg)


def convpool_conv(r, x, w, layout, **kw):
    """convpool.conv<r>d with data/kernel formats picked by ``layout``
    (0: channels last / spatial-IO, 1: channels first / OI-spatial,
    2: channels last / O-spatial-I); channels-last result."""
    df = data_formats(r)[1 if layout == 1 else 0]
    kf = kernel_formats(r)[layout]
    y = getattr(convpool, "conv%dd" % r)(
        to_data_format(x, df), to_kernel_format(w, kf), data_format=df,
        kernel_format=kf, **kw)
    return from_data_format(y, df)


def convpool_pool(name, r, x, window, channels_first, **kw):
    df = data_formats(r)[int(channels_first)]
    y = getattr(convpool, "%s%dd" % (name, r))(
        to_data_format(x, df), window, data_format=df, **kw)
    return from_data_format(y, df)


# ------------------------------------------------------------ convolution

@st.composite
def conv_cases(draw, r, groups=True, dilation=True, stride=True):
    kmax, extra = {1: (5, 7), 3: (3, 3)}[r]
    g = draw(st.integers(1, 3)) if groups else 1
    cg, fg = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, kmax)) for _ in range(r))
    s = tuple(draw(st.integers(1, 3)) if stride else 1 for _ in range(r))
    d = tuple(draw(st.integers(1, 2)) if dilation else 1 for _ in range(r))
    padding = draw(st.sampled_from(["VALID", "SAME"]))
    spatial = tuple(
        draw(st.integers((ki - 1) * di + 1 if padding == "VALID" else 1,
                         (ki - 1) * di + 1 + extra))
        for ki, di in zip(k, d))
    return dict(n=draw(st.integers(1, 2)), c=g * cg, f=g * fg, groups=g,
                spatial=spatial, window=k, stride=s, dilation=d,
                padding=padding, bias=draw(st.booleans()), seed=draw(SEEDS))


def conv_data(case, dtype):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"],) + case["spatial"] + (case["c"],))
    w = rng.standard_normal(case["window"] + (case["c"] // case["groups"],
                                              case["f"]))
    b = rng.standard_normal(case["f"]) if case["bias"] else None
    return (x.astype(dtype), w.astype(dtype),
            None if b is None else b.astype(dtype))


def with_bias(tf_op, x, w, b):
    """tf_op's result in float64 plus the bias, and the magnitude (the op
    on |x| and |w|, plus |b|)."""
    f64 = np.float64
    y = tf_op(T(x.astype(f64)), T(w.astype(f64))).numpy()
    mag = tf_op(T(np.abs(x).astype(f64)), T(np.abs(w).astype(f64))).numpy()
    if b is not None:
        y = y + b.astype(f64)
        mag = mag + np.abs(b).astype(f64)
    return y, mag


def check_conv(r, case, dtype, layout, tf_op):
    x, w, b = conv_data(case, dtype)
    want, mag = with_bias(tf_op, x, w, b)
    got = convpool_conv(r, x, w, layout, stride=case["stride"],
                        padding=case["padding"].lower(),
                        dilation=case["dilation"], groups=case["groups"],
                        bias=b)
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, mag, RTOL[np.dtype(dtype)],
                 "case=%r layout=%d" % (case, layout))


@SETTINGS
@given(case=conv_cases(1), dtype=st.sampled_from(DTYPES),
       layout=st.sampled_from([0, 1, 2]))
def test_conv1d_matches_tf_nn_conv1d(case, dtype, layout):
    check_conv(1, case, dtype, layout, lambda x, w: tf.nn.conv1d(
        x, w, case["stride"][0], case["padding"],
        dilations=case["dilation"][0]))


def same_pad_total_is_negative(case):
    """TF's raw 'SAME' total (out - 1) * s + k - n, before clamping at 0."""
    return case["padding"] == "SAME" and any(
        (-(-n // s) - 1) * s + k - n < 0 for n, k, s in zip(
            case["spatial"], case["window"], case["stride"]))


@SETTINGS
@given(case=conv_cases(3, groups=False, dilation=False),
       dtype=st.sampled_from(DTYPES), layout=st.sampled_from([0, 1, 2]))
def test_conv3d_matches_tf_nn_conv3d(case, dtype, layout):
    """TF 2.21's float64 Conv3D CPU kernel shifts the window by one cell
    when 'SAME' needs no padding and the stride exceeds the kernel (its
    unclamped pad total is negative): a (1, 1, 1, 3, 1) input, 1x1x1
    kernel, strides (1, 1, 3) gives x[1] * w instead of x[0] * w, while its
    float32 kernel, NumPy and PyTorch give x[0] * w.  Those cases are left
    out of the comparison."""
    assume(not same_pad_total_is_negative(case))
    check_conv(3, case, dtype, layout, lambda x, w: tf.nn.conv3d(
        x, w, (1,) + case["stride"] + (1,), case["padding"]))


@SETTINGS
@given(case=conv_cases(3, groups=False, stride=False),
       dtype=st.sampled_from(DTYPES), layout=st.sampled_from([0, 1, 2]))
def test_dilated_conv3d_matches_tf_nn_convolution(case, dtype, layout):
    check_conv(3, case, dtype, layout, lambda x, w: tf.nn.convolution(
        x, w, strides=1, padding=case["padding"],
        dilations=case["dilation"]))


# ---------------------------------------------------------------- pooling

@st.composite
def pool_cases(draw, r, dilation=False):
    kmax, nmax = {1: (5, 12), 2: (3, 7), 3: (3, 5)}[r]
    k = tuple(draw(st.integers(1, kmax)) for _ in range(r))
    if dilation:     # tf.nn.pool: dilation needs stride 1 and 'VALID'
        d = tuple(draw(st.integers(1, 3)) for _ in range(r))
        stride, padding = (1,) * r, "VALID"
    else:            # strides include stride > window
        d = (1,) * r
        stride = draw(st.one_of(st.none(),
                                st.tuples(*[st.integers(1, 5)] * r)))
        padding = draw(st.sampled_from(["VALID", "SAME"]))
    spatial = tuple(
        draw(st.integers((ki - 1) * di + 1 if padding == "VALID" else 1,
                         max(nmax, (ki - 1) * di + 1)))
        for ki, di in zip(k, d))
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)),
                spatial=spatial, window=k, stride=stride, dilation=d,
                padding=padding, seed=draw(SEEDS))


def pool_data(case, dtype):
    rng = np.random.default_rng(case["seed"])
    return rng.standard_normal((case["n"],) + case["spatial"]
                               + (case["c"],)).astype(dtype)


# TF's CPU build: 1-D pooling in float64 and float32, 3-D in float32 only
POOL_DTYPES = {1: DTYPES, 2: DTYPES, 3: (np.float32,)}


@pytest.mark.parametrize("r", (1, 3))
@pytest.mark.parametrize("mode", ["max", "avg"])
@SETTINGS
@given(data=st.data())
def test_pool_matches_tf_nn_pool_ops(r, mode, data):
    """tf.nn.max_pool1d / 3d, avg_pool1d / 3d; 'SAME' averages divide by
    the real cells, convpool's default count_include_pad=False."""
    case = data.draw(pool_cases(r), "case")
    dtype = data.draw(st.sampled_from(POOL_DTYPES[r]), "dtype")
    channels_first = data.draw(st.booleans(), "channels first")
    x = pool_data(case, dtype)
    k = case["window"]
    s = k if case["stride"] is None else case["stride"]
    tf_op = getattr(tf.nn, "%s_pool%dd" % (mode, r))
    want = tf_op(T(x), k, s, case["padding"]).numpy()
    assert want.dtype == dtype
    got = np.asarray(convpool_pool(
        "%s_pool" % mode, r, x, k, channels_first, stride=case["stride"],
        padding=case["padding"].lower()))
    assert got.dtype == dtype
    msg = "case=%r" % (case,)
    if mode == "max":
        assert got.shape == want.shape, msg
        np.testing.assert_array_equal(got, want, err_msg=msg)
    else:
        mag = tf_op(T(np.abs(x)), k, s, case["padding"]).numpy()
        assert_close(got, want, mag, AVG_RTOL[np.dtype(dtype)], msg)


@pytest.mark.parametrize("r", (1, 2, 3))
@pytest.mark.parametrize("mode", ["max", "avg"])
@SETTINGS
@given(data=st.data())
def test_dilated_pool_matches_tf_nn_pool(r, mode, data):
    """tf.nn.pool(..., dilations=...) with 'VALID' (TF refuses 'SAME'
    with dilation > 1)."""
    case = data.draw(pool_cases(r, dilation=True), "case")
    dtype = data.draw(st.sampled_from(POOL_DTYPES[r]), "dtype")
    channels_first = data.draw(st.booleans(), "channels first")
    x = pool_data(case, dtype)
    k, d = case["window"], case["dilation"]

    def tf_pool(a):
        return tf.nn.pool(T(a), k, mode.upper(), strides=(1,) * r,
                          padding="VALID", dilations=d).numpy()
    want = tf_pool(x)
    got = np.asarray(convpool_pool("pool", r, x, k, channels_first,
                                   stride=1, dilation=d, mode=mode))
    assert got.dtype == dtype
    msg = "case=%r" % (case,)
    if mode == "max":
        assert got.shape == want.shape, msg
        np.testing.assert_array_equal(got, want, err_msg=msg)
    else:
        assert_close(got, want, tf_pool(np.abs(x)),
                     AVG_RTOL[np.dtype(dtype)], msg)
