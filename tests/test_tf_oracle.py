"""TensorFlow / Keras as an independent oracle for conv2d, pooling and the
tutorial.

TensorFlow is too heavy for CI, so this module is skipped without it.  To run
it, use a separate environment, e.g.::

    python -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu pytest hypothesis
    /tmp/tfenv/bin/pip install -e .
    /tmp/tfenv/bin/python -m pytest tests/test_tf_oracle.py -p no:cacheprovider

TensorFlow on CPU only supports NHWC for convolution and pooling, so TF always
runs in NHWC/HWIO; convpool is also run in NCHW/OIHW and NHWC/OHWI and its
result transposed back.

Tolerances are per output element, relative to the magnitude sum (the same
op applied to |x| and |w|, plus |b|): 1e-9 in float64, 1e-4 in float32.
Max pooling must be exactly equal.

Every array goes to tf.nn.* as a tf.Tensor (``T``): in TF 2.21 eager mode
``tf.nn.max_pool2d`` given a NumPy float64 array after a float32 call
silently returns float32 (the input is converted with the dtype of the
previous call), which would turn exact float64 comparisons into float32 ones.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import convpool  # noqa: E402
from convpool import tutorial  # noqa: E402

keras = tf.keras
T = tf.convert_to_tensor

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])

ENGINES = ("auto", "taps", "im2col")
LAYOUTS = ("NHWC/HWIO", "NCHW/OIHW", "NHWC/OHWI")
DTYPES = (np.float64, np.float32)
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
SEEDS = st.integers(0, 2 ** 32 - 1)


# ---------------------------------------------------------------- helpers

def assert_close(got, want, magnitude, dtype, msg=""):
    """|got - want| <= rtol * magnitude, elementwise."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, "shape %s != TF %s %s" % (
        got.shape, want.shape, msg)
    if got.size == 0:
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = RTOL[np.dtype(dtype)] * np.asarray(magnitude, np.float64) + 1e-30
    bad = err > bound
    assert not bad.any(), "max error %g (bound %g) at %s %s" % (
        err.max(), bound.ravel()[np.argmax(err)],
        np.argwhere(bad)[0].tolist(), msg)


def tf_padding(padding):
    """convpool padding -> tf.nn padding argument."""
    if isinstance(padding, str):
        return padding.upper()
    (t, b), (l_, r) = padding
    return [[0, 0], [t, b], [l_, r], [0, 0]]


def tf_conv(x, w, stride, padding, dilation, b=None):
    """tf.nn.conv2d (NHWC / HWIO), computed in float64 and returned in the
    inputs' dtype; groups are implied by C = groups * w.shape[2].

    TF 2.21's float32 CPU kernel returns uninitialised memory for some tiny
    strided cases (a (2, 2, 3, 1) batch, a 1x2 kernel, strides (1, 2),
    'VALID': the second output column is 0 or -1e8 or -2e32 from run to
    run, while its float64 kernel, NumPy and PyTorch agree), so the oracle
    is TF's float64 kernel."""
    f64 = np.float64
    y = tf.nn.conv2d(T(x.astype(f64)), T(w.astype(f64)), strides=stride,
                     padding=tf_padding(padding), dilations=dilation)
    if b is not None:
        y = tf.nn.bias_add(y, T(b.astype(f64)))
    return y.numpy().astype(x.dtype)


def conv_magnitude(x, w, stride, padding, dilation, b=None):
    y = tf_conv(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64),
                stride, padding, dilation)
    return y if b is None else y + np.abs(b).astype(np.float64)


def convpool_conv(x, w_hwio, layout, **kw):
    """Run convpool.conv2d in the given layout; return NHWC."""
    if layout == "NHWC/HWIO":
        return convpool.conv2d(x, w_hwio, **kw)
    if layout == "NCHW/OIHW":
        y = convpool.conv2d(np.transpose(x, (0, 3, 1, 2)),
                            np.transpose(w_hwio, (3, 2, 0, 1)),
                            data_format="NCHW", kernel_format="OIHW", **kw)
        return np.transpose(y, (0, 2, 3, 1))
    return convpool.conv2d(x, np.transpose(w_hwio, (3, 0, 1, 2)),
                           kernel_format="OHWI", **kw)


# ------------------------------------------------------ tf.nn.conv2d


def _draw_padding(draw, kind, kh, kw, dilation):
    """convpool's padding for a TF padding kind, and the smallest H and W
    the dilated kernel fits in with it ('SAME' always fits)."""
    if kind == "explicit":
        q = [draw(st.integers(0, 3)) for _ in range(4)]
        padding = ((q[0], q[1]), (q[2], q[3]))
        pad_h, pad_w = q[0] + q[1], q[2] + q[3]
    else:
        padding = kind.lower()
        pad_h = pad_w = 10 ** 6 if kind == "SAME" else 0
    ekh, ekw = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    return padding, max(1, ekh - pad_h), max(1, ekw - pad_w)


@st.composite
def conv_cases(draw, allow_stride_with_dilation=False, keras_like=False):
    groups = draw(st.integers(1, 3))
    cg, fg = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if not allow_stride_with_dilation and max(dilation) > 1:
        stride = (1, 1)   # TF / Keras: dilation > 1 needs stride 1
    kinds = ["VALID", "SAME"] if keras_like else ["VALID", "SAME", "explicit"]
    kind = draw(st.sampled_from(kinds))
    padding, lo_h, lo_w = _draw_padding(draw, kind, kh, kw, dilation)
    h = draw(st.integers(lo_h, lo_h + 5))
    w = draw(st.integers(lo_w, lo_w + 5))
    return dict(n=draw(st.integers(1, 2)), h=h, w=w, c=groups * cg,
                f=groups * fg, groups=groups, kh=kh, kw=kw, stride=stride,
                dilation=dilation, padding=padding,
                bias=draw(st.booleans()), seed=draw(SEEDS))


def make_conv_data(case, dtype):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"],
                             case["c"])).astype(dtype)
    w = rng.standard_normal((case["kh"], case["kw"],
                             case["c"] // case["groups"],
                             case["f"])).astype(dtype)
    b = (rng.standard_normal(case["f"]).astype(dtype) if case["bias"]
         else None)
    return x, w, b


@SETTINGS
@given(case=conv_cases(), dtype=st.sampled_from(DTYPES),
       layout=st.sampled_from(LAYOUTS), engine=st.sampled_from(ENGINES))
def test_conv2d_matches_tf_nn_conv2d(case, dtype, layout, engine):
    """'SAME' / 'VALID' / explicit [[0,0],[t,b],[l,r],[0,0]], strides,
    dilations, groups (C = groups * kernel in-channels), bias_add."""
    x, w, b = make_conv_data(case, dtype)
    s, d, p = case["stride"], case["dilation"], case["padding"]
    want = tf_conv(x, w, s, p, d, b)
    assert want.dtype == dtype
    got = convpool_conv(x, w, layout, stride=s, padding=p, dilation=d,
                        groups=case["groups"], bias=b, engine=engine)
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, conv_magnitude(x, w, s, p, d, b), dtype,
                 "case=%r %s %s" % (case, layout, engine))


@SETTINGS
@given(case=conv_cases(allow_stride_with_dilation=True),
       dtype=st.sampled_from(DTYPES), engine=st.sampled_from(ENGINES))
def test_conv2d_stride_and_dilation_together_match_tf_nn_conv2d(
        case, dtype, engine):
    """TF's documentation says dilation > 1 needs stride 1 (and Keras
    Conv2D refuses it), but TF's CPU Conv2D kernel accepts both; where it
    does, it must agree with convpool."""
    x, w, b = make_conv_data(case, dtype)
    s, d, p = case["stride"], case["dilation"], case["padding"]
    want = tf_conv(x, w, s, p, d, b)
    got = convpool.conv2d(x, w, stride=s, padding=p, dilation=d,
                          groups=case["groups"], bias=b, engine=engine)
    assert_close(got, want, conv_magnitude(x, w, s, p, d, b), dtype,
                 "case=%r %s" % (case, engine))


# ------------------------------------------------- keras.layers.Conv2D

@SETTINGS
@given(case=conv_cases(keras_like=True), dtype=st.sampled_from(DTYPES),
       layout=st.sampled_from(LAYOUTS))
def test_conv2d_matches_keras_Conv2D(case, dtype, layout):
    """Conv2D(filters, kernel_size, strides, padding, dilation_rate,
    groups, use_bias) with its weights set to ours."""
    x, w, b = make_conv_data(case, dtype)
    layer = keras.layers.Conv2D(
        case["f"], (case["kh"], case["kw"]), strides=case["stride"],
        padding=case["padding"], dilation_rate=case["dilation"],
        groups=case["groups"], use_bias=case["bias"],
        dtype=np.dtype(dtype).name)
    layer.build(x.shape)
    layer.set_weights([w] if b is None else [w, b])
    want = np.asarray(layer(x))
    assert want.dtype == dtype
    got = convpool_conv(x, w, layout, stride=case["stride"],
                        padding=case["padding"], dilation=case["dilation"],
                        groups=case["groups"], bias=b)
    mag = conv_magnitude(x, w, case["stride"], case["padding"],
                         case["dilation"], b)
    assert_close(got, want, mag, dtype, "case=%r %s" % (case, layout))


# ------------------------------------------------------ depthwise

def depthwise_to_convpool(dw):
    """TF depthwise kernel (kh, kw, C, m) -> convpool HWIO (kh, kw, 1, C*m)
    for groups=C.  TF's output channel for input channel c and multiplier
    j is c*m + j; convpool's filter f belongs to group f // m, so the same
    index f = c*m + j, which is a row-major reshape of the last two axes
    (checked against TF itself in test_depthwise_channel_order)."""
    kh, kw, c, m = dw.shape
    return dw.reshape(kh, kw, 1, c * m)


def test_depthwise_channel_order():
    """Before relying on it: TF's depthwise output channel c*m + j is input
    channel c convolved with dw[:, :, c, j] (checked with tf.nn.conv2d)."""
    rng = np.random.default_rng(7)
    c, m = 3, 2
    x = rng.standard_normal((2, 6, 5, c))
    dw = rng.standard_normal((3, 2, c, m))
    y = tf.nn.depthwise_conv2d(T(x), T(dw), [1, 1, 1, 1], "VALID").numpy()
    assert y.shape[-1] == c * m
    for ci in range(c):
        for j in range(m):
            one = tf.nn.conv2d(T(x[..., ci:ci + 1]),
                               T(dw[:, :, ci:ci + 1, j:j + 1]),
                               1, "VALID").numpy()[..., 0]
            np.testing.assert_allclose(y[..., ci * m + j], one, rtol=1e-12,
                                       atol=1e-12)
    got = convpool.conv2d(x, depthwise_to_convpool(dw), groups=c)
    np.testing.assert_allclose(got, y, rtol=1e-12, atol=1e-12)


@st.composite
def depthwise_cases(draw, keras_layer=False):
    c, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if keras_layer:
        # Keras decomposes stride > 1 together with dilation > 1 itself
        # (then strides may differ); otherwise it calls
        # tf.nn.depthwise_conv2d, which needs equal strides
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        s = draw(st.integers(1, 3))
        stride = (s, s)
        if max(dilation) > 1:
            stride = (s, draw(st.integers(1, 3)))
        kind = draw(st.sampled_from(["VALID", "SAME"]))
    else:
        # tf.nn.depthwise_conv2d: equal row/column strides only, and
        # dilation > 1 needs stride 1
        s = draw(st.integers(1, 3))
        stride = (s, s)
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        if max(dilation) > 1:
            stride = (1, 1)
        kind = draw(st.sampled_from(["VALID", "SAME", "explicit"]))
    padding, lo_h, lo_w = _draw_padding(draw, kind, kh, kw, dilation)
    return dict(n=draw(st.integers(1, 2)), c=c, m=m, kh=kh, kw=kw,
                h=draw(st.integers(lo_h, lo_h + 5)),
                w=draw(st.integers(lo_w, lo_w + 5)),
                stride=stride, dilation=dilation, padding=padding,
                bias=draw(st.booleans()), seed=draw(SEEDS))


def make_depthwise_data(case, dtype):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"],
                             case["c"])).astype(dtype)
    dw = rng.standard_normal((case["kh"], case["kw"], case["c"],
                              case["m"])).astype(dtype)
    b = (rng.standard_normal(case["c"] * case["m"]).astype(dtype)
         if case["bias"] else None)
    return x, dw, b


@SETTINGS
@given(case=depthwise_cases(), dtype=st.sampled_from(DTYPES),
       layout=st.sampled_from(LAYOUTS), engine=st.sampled_from(ENGINES))
def test_groups_equal_channels_matches_tf_depthwise_conv2d(case, dtype,
                                                           layout, engine):
    x, dw, b = make_depthwise_data(case, dtype)
    s, d, p = case["stride"], case["dilation"], case["padding"]
    want = tf.nn.depthwise_conv2d(T(x), T(dw), [1, s[0], s[1], 1],
                                  tf_padding(p), dilations=d)
    if b is not None:
        want = tf.nn.bias_add(want, T(b))
    want = want.numpy()
    assert want.dtype == dtype
    w = depthwise_to_convpool(dw)
    got = convpool_conv(x, w, layout, stride=s, padding=p, dilation=d,
                        groups=case["c"], bias=b, engine=engine)
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, conv_magnitude(x, w, s, p, d, b), dtype,
                 "case=%r %s %s" % (case, layout, engine))


@SETTINGS
@given(case=depthwise_cases(keras_layer=True), dtype=st.sampled_from(DTYPES))
def test_groups_equal_channels_matches_keras_DepthwiseConv2D(case, dtype):
    x, dw, b = make_depthwise_data(case, dtype)
    s, d, p = case["stride"], case["dilation"], case["padding"]
    layer = keras.layers.DepthwiseConv2D(
        (case["kh"], case["kw"]), strides=s, padding=p,
        depth_multiplier=case["m"], dilation_rate=d,
        use_bias=case["bias"], dtype=np.dtype(dtype).name)
    layer.build(x.shape)
    layer.set_weights([dw] if b is None else [dw, b])
    want = np.asarray(layer(x))
    assert want.dtype == dtype
    w = depthwise_to_convpool(dw)
    got = convpool.conv2d(x, w, stride=s, padding=p, dilation=d,
                          groups=case["c"], bias=b)
    # magnitude: tf.nn.conv2d of |x| and |w| with groups=C (its CPU kernel
    # takes stride with dilation, see the stride-and-dilation test above)
    mag = conv_magnitude(x, w, s, p, d, b)
    assert_close(got, want, mag, dtype, "case=%r" % (case,))


# -------------------------------------------------------------- pooling

@st.composite
def pool_cases(draw, explicit=False):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # strides include stride > window
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 5),
                                                 st.integers(1, 5))))
    kinds = ["VALID", "SAME"] + (["explicit"] if explicit else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "explicit":
        # TF: every pad must be smaller than the window
        q = [draw(st.integers(0, kh - 1)), draw(st.integers(0, kh - 1)),
             draw(st.integers(0, kw - 1)), draw(st.integers(0, kw - 1))]
        padding = ((q[0], q[1]), (q[2], q[3]))
        lo_h, lo_w = max(1, kh - q[0] - q[1]), max(1, kw - q[2] - q[3])
    else:
        padding = kind.lower()
        lo_h, lo_w = (kh, kw) if kind == "VALID" else (1, 1)
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)),
                h=draw(st.integers(lo_h, lo_h + 7)),
                w=draw(st.integers(lo_w, lo_w + 7)),
                window=(kh, kw), stride=stride, padding=padding,
                seed=draw(SEEDS))


def pool_data(case, dtype):
    rng = np.random.default_rng(case["seed"])
    return rng.standard_normal((case["n"], case["h"], case["w"],
                                case["c"])).astype(dtype)


def convpool_pool(fn, x, window, data_format, **kw):
    if data_format == "NHWC":
        return fn(x, window, **kw)
    y = fn(np.transpose(x, (0, 3, 1, 2)), window, data_format="NCHW", **kw)
    return np.transpose(y, (0, 2, 3, 1))


@SETTINGS
@given(case=pool_cases(explicit=True), dtype=st.sampled_from(DTYPES),
       data_format=st.sampled_from(["NHWC", "NCHW"]))
def test_max_pool2d_matches_tf_nn_max_pool2d(case, dtype, data_format):
    x = pool_data(case, dtype)
    k = case["window"]
    s = k if case["stride"] is None else case["stride"]
    want = tf.nn.max_pool2d(T(x), k, s, tf_padding(case["padding"])).numpy()
    assert want.dtype == dtype
    got = convpool_pool(convpool.max_pool2d, x, k, data_format,
                        stride=case["stride"], padding=case["padding"])
    got = np.asarray(got)
    assert got.dtype == dtype
    assert got.shape == want.shape, "case=%r" % (case,)
    np.testing.assert_array_equal(got, want, err_msg="case=%r" % (case,))


@SETTINGS
@given(case=pool_cases(), dtype=st.sampled_from(DTYPES),
       data_format=st.sampled_from(["NHWC", "NCHW"]))
def test_avg_pool2d_matches_tf_nn_avg_pool2d(case, dtype, data_format):
    """TF's 'SAME' average divides by the real cells only, which is
    convpool's default count_include_pad=False.  (tf.nn.avg_pool2d takes
    no explicit padding list.)"""
    x = pool_data(case, dtype)
    k = case["window"]
    s = k if case["stride"] is None else case["stride"]
    p = tf_padding(case["padding"])
    want = tf.nn.avg_pool2d(T(x), k, s, p).numpy()
    assert want.dtype == dtype
    mag = tf.nn.avg_pool2d(T(np.abs(x).astype(np.float64)), k, s, p).numpy()
    got = convpool_pool(convpool.avg_pool2d, x, k, data_format,
                        stride=case["stride"], padding=case["padding"])
    assert np.asarray(got).dtype == dtype
    assert_close(got, want, mag, dtype, "case=%r" % (case,))


@SETTINGS
@given(case=pool_cases(), dtype=st.sampled_from(DTYPES),
       mode=st.sampled_from(["max", "avg"]))
def test_pool2d_matches_keras_pooling_layers(case, dtype, mode):
    """keras.layers.MaxPool2D / AveragePooling2D(pool_size, strides,
    padding); strides=None means the window in both libraries."""
    x = pool_data(case, dtype)
    k = case["window"]
    cls = keras.layers.MaxPool2D if mode == "max" else \
        keras.layers.AveragePooling2D
    layer = cls(pool_size=k, strides=case["stride"],
                padding=case["padding"], dtype=np.dtype(dtype).name)
    want = np.asarray(layer(x))
    assert want.dtype == dtype
    got = np.asarray(convpool.pool2d(x, k, stride=case["stride"],
                                     padding=case["padding"], mode=mode))
    assert got.dtype == dtype
    if mode == "max":
        assert got.shape == want.shape, "case=%r" % (case,)
        np.testing.assert_array_equal(got, want, err_msg="case=%r" % (case,))
    else:
        s = k if case["stride"] is None else case["stride"]
        mag = tf.nn.avg_pool2d(T(np.abs(x).astype(np.float64)), k, s,
                               tf_padding(case["padding"])).numpy()
        assert_close(got, want, mag, dtype, "case=%r" % (case,))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_nan_windows_differ_from_tf_by_contract(dtype):
    """Not a mismatch to fix: convpool's contract propagates NaN (as
    PyTorch does); TensorFlow's CPU MaxPool may skip a NaN depending on its
    position (here it returns the max of the other cells; see also
    tensorflow/tensorflow#125965), so only windows without NaN are
    compared."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 4, 1)).astype(dtype)
    x[0, 1, 1, 0] = np.nan
    want = tf.nn.max_pool2d(T(x), 2, 2, "VALID").numpy()
    got = convpool.max_pool2d(x, 2)
    assert np.isnan(got[0, 0, 0, 0])
    assert not np.isnan(got.ravel()[1:]).any()
    np.testing.assert_array_equal(got.ravel()[1:], want.ravel()[1:])


# ------------------------------------------------- notebook and tutorial

@pytest.mark.parametrize("dtype", DTYPES)
def test_notebook_keras_conv_then_maxpool(dtype):
    """The notebook: Conv2D(2, (2, 2), use_bias=False) on a (1, 4, 4, 3)
    image, then MaxPool2D((2, 2), strides=(2, 2)) on its (1, 3, 3, 2)
    feature maps, with the layer's own (Glorot) kernel."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    image = rng.standard_normal((1, 4, 4, 3)).astype(dtype)
    conv = keras.layers.Conv2D(2, (2, 2), use_bias=False,
                               dtype=np.dtype(dtype).name)
    fmaps = np.asarray(conv(image))
    kernel = conv.get_weights()[0]
    assert kernel.shape == (2, 2, 3, 2) and fmaps.shape == (1, 3, 3, 2)
    got = convpool.conv2d(image, kernel)
    assert got.dtype == dtype
    assert_close(got, fmaps, conv_magnitude(image, kernel, 1, "valid", 1),
                 dtype)
    pool = keras.layers.MaxPool2D((2, 2), strides=(2, 2),
                                  dtype=np.dtype(dtype).name)
    want = np.asarray(pool(fmaps))
    assert want.shape == (1, 1, 1, 2)
    np.testing.assert_array_equal(convpool.max_pool2d(fmaps, (2, 2),
                                                      stride=(2, 2)), want)
    np.testing.assert_array_equal(
        tutorial.max_pool_batch_3D_images(fmaps, 2, 2), want)
    # the whole pipeline from convpool's own feature maps
    np.testing.assert_allclose(convpool.max_pool2d(got, 2), want,
                               rtol=RTOL[np.dtype(dtype)] * 10,
                               atol=RTOL[np.dtype(dtype)] * 10)


def test_tutorial_batch_conv_matches_keras_Conv2D():
    """The tutorial: 4 random 9x9x3 images, 8 kernels (8, 5, 5, 3) in
    float32, Conv2D(8, 5, padding='same', use_bias=False) with the kernels
    transposed to HWIO equals convolution_operation_batch_3D_images(images,
    kernels, 1, 2)."""
    rng = np.random.default_rng(2024)
    images = rng.standard_normal((4, 9, 9, 3)).astype(np.float32)
    kernels = rng.standard_normal((8, 5, 5, 3)).astype(np.float32)
    layer = keras.layers.Conv2D(8, 5, padding="same", use_bias=False)
    layer.build(images.shape)
    hwio = np.transpose(kernels, (1, 2, 3, 0))
    layer.set_weights([hwio])
    want = np.asarray(layer(images))
    got = tutorial.convolution_operation_batch_3D_images(images, kernels,
                                                         1, 2)
    got = np.asarray(got)
    assert got.shape == want.shape == (4, 9, 9, 8)
    assert got.dtype == np.float32
    assert_close(got, want, conv_magnitude(images, hwio, 1, "same", 1),
                 np.float32)
