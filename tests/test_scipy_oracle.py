"""SciPy as a second oracle: scipy.signal.correlate2d for single-channel
conv2d and scipy.ndimage.correlate for filter2d's border modes.

Conventions, checked by hand before writing these assertions (SciPy 1.17):

* correlate2d(a, k, 'same') keeps a's size and, for even kernels too, puts
  the odd extra padding cell at the END (bottom/right) -- exactly
  TensorFlow's 'same' at stride 1.  This is asserted below for odd and even
  kernels (test_correlate2d_same_convention pins the convention itself so
  that a SciPy change shows up as a failure of that test, not of convpool).
* ndimage.correlate centres a kernel of length k at index k // 2 + origin.
  For odd k with origin 0 that is TensorFlow's 'same'.  For even k, origin
  0 puts the extra cell at the START ('same_lower'); origin -1 puts it at
  the end ('same').
* NumPy pad mode -> ndimage mode: 'reflect' -> 'mirror' (d c b | a b c d),
  'symmetric' -> 'reflect' (b a | a b c d), 'edge' -> 'nearest',
  'wrap' -> 'wrap', 'constant' -> 'constant' with cval 0.  (Checked to
  agree with np.pad even for pads wider than the image.)

All data are float64; tolerance 1e-9 * K * max|image| * max|kernel|.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scipy_signal = pytest.importorskip("scipy.signal")
ndimage = pytest.importorskip("scipy.ndimage")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reference import ref_filter2d, ref_resolve_padding  # noqa: E402

convpool = pytest.importorskip("convpool")

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

NUMPY_TO_NDIMAGE = {"constant": "constant", "reflect": "mirror",
                    "symmetric": "reflect", "edge": "nearest",
                    "wrap": "wrap"}


def tol(img, k):
    return 1e-9 * k.size * np.abs(img).max() * np.abs(k).max() + 1e-300


def assert_close(got, want, img, k, msg=""):
    got = np.asarray(got)
    assert got.shape == want.shape, "%s != %s %s" % (got.shape, want.shape,
                                                     msg)
    err = np.abs(got - want).max() if got.size else 0.0
    assert err <= tol(img, k), "error %g %s" % (err, msg)


def conv_single(img, k, **kw):
    """conv2d on one single-channel image, back to (OH, OW)."""
    y = convpool.conv2d(img[None, :, :, None], k[:, :, None, None], **kw)
    return np.asarray(y)[0, :, :, 0]


def test_correlate2d_same_convention():
    """Pin SciPy's own convention (see module docstring)."""
    img = np.arange(1.0, 6.0)[None, :]            # 1 x 5
    k = np.array([[1.0, 0.0]])                    # picks the left tap
    # TF 'same' for k=2: pads (0, 1) -> output[j] = img[j]
    np.testing.assert_array_equal(
        scipy_signal.correlate2d(img, k, mode="same"), img)
    k = np.array([[0.0, 1.0]])                    # picks the right tap
    np.testing.assert_array_equal(
        scipy_signal.correlate2d(img, k, mode="same"),
        [[2.0, 3.0, 4.0, 5.0, 0.0]])


def test_ndimage_origin_convention():
    img = np.arange(1.0, 6.0)
    k = np.array([1.0, 0.0])
    # origin 0, even k: window of output j is img[j-1], img[j] (same_lower)
    np.testing.assert_array_equal(
        ndimage.correlate(img, k, mode="constant"), [0, 1, 2, 3, 4])
    # origin -1: window is img[j], img[j+1] (TF 'same')
    np.testing.assert_array_equal(
        ndimage.correlate(img, k, mode="constant", origin=-1), img)


@SETTINGS
@given(h=st.integers(1, 9), w=st.integers(1, 9),
       kh=st.integers(1, 5), kw=st.integers(1, 5),
       mode=st.sampled_from(["valid", "full", "same"]),
       engine=st.sampled_from(["auto", "taps", "im2col"]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_conv2d_single_channel_matches_correlate2d(h, w, kh, kw, mode,
                                                   engine, seed):
    if mode == "valid":
        # correlate2d 'valid' needs the kernel to fit (it would swap the
        # arguments otherwise, which flips the result)
        kh, kw = min(kh, h), min(kw, w)
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((h, w))
    k = rng.standard_normal((kh, kw))
    want = scipy_signal.correlate2d(img, k, mode=mode)
    got = conv_single(img, k, padding=mode, engine=engine)
    assert_close(got, want, img, k, "mode=%s" % mode)


@SETTINGS
@given(h=st.integers(1, 9), w=st.integers(1, 9),
       kh=st.integers(0, 3), kw=st.integers(0, 3),
       c=st.sampled_from([None, 1, 3]),
       pad_mode=st.sampled_from(sorted(NUMPY_TO_NDIMAGE)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_filter2d_matches_ndimage_odd_kernels(h, w, kh, kw, c, pad_mode,
                                              seed):
    kh, kw = 2 * kh + 1, 2 * kw + 1            # odd: 1, 3, 5, 7
    rng = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    img = rng.standard_normal(shape)
    k = rng.standard_normal((kh, kw))
    mode = NUMPY_TO_NDIMAGE[pad_mode]
    if c is None:
        want = ndimage.correlate(img, k, mode=mode, cval=0.0)
    else:
        want = np.stack([ndimage.correlate(img[:, :, i], k, mode=mode,
                                           cval=0.0) for i in range(c)],
                        axis=-1)
    got = convpool.filter2d(img, k, pad_mode=pad_mode)
    assert_close(got, want, img, k, "pad_mode=%s" % pad_mode)
    # explicit padding="same" is the default
    got = convpool.filter2d(img, k, padding="same", pad_mode=pad_mode)
    assert_close(got, want, img, k, "pad_mode=%s" % pad_mode)


@SETTINGS
@given(h=st.integers(1, 9), w=st.integers(1, 9),
       kh=st.integers(1, 6), kw=st.integers(1, 6),
       lower=st.booleans(),
       pad_mode=st.sampled_from(sorted(NUMPY_TO_NDIMAGE)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_filter2d_even_kernels_match_ndimage_with_origin(h, w, kh, kw, lower,
                                                         pad_mode, seed):
    """'same': origin -1 on even axes; 'same_lower': origin 0."""
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((h, w))
    k = rng.standard_normal((kh, kw))
    if lower:
        origin = (0, 0)
    else:
        origin = (-1 if kh % 2 == 0 else 0, -1 if kw % 2 == 0 else 0)
    want = ndimage.correlate(img, k, mode=NUMPY_TO_NDIMAGE[pad_mode],
                             cval=0.0, origin=origin)
    got = convpool.filter2d(img, k, pad_mode=pad_mode,
                            padding="same_lower" if lower else "same")
    assert_close(got, want, img, k, "pad_mode=%s" % pad_mode)


@SETTINGS
@given(h=st.integers(1, 8), w=st.integers(1, 8),
       kh=st.integers(1, 4), kw=st.integers(1, 4),
       c=st.sampled_from([None, 2]),
       stride=st.one_of(st.integers(1, 3),
                        st.tuples(st.integers(1, 3), st.integers(1, 3))),
       padding=st.one_of(
           st.sampled_from(["valid", "same", "same_lower", "full"]),
           st.integers(0, 3),
           st.tuples(st.integers(0, 3), st.integers(0, 3)),
           st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                     st.tuples(st.integers(0, 3), st.integers(0, 3)))),
       pad_mode=st.sampled_from(sorted(NUMPY_TO_NDIMAGE)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_filter2d_matches_np_pad_reference(h, w, kh, kw, c, stride, padding,
                                           pad_mode, seed):
    """Every padding form and stride, against np.pad + loops."""
    pads = ref_resolve_padding(padding, (h, w), (kh, kw), stride, 1)
    if h + sum(pads[0]) < kh or w + sum(pads[1]) < kw:
        kh, kw = min(kh, h + sum(pads[0])), min(kw, w + sum(pads[1]))
        pads = ref_resolve_padding(padding, (h, w), (kh, kw), stride, 1)
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((h, w) if c is None else (h, w, c))
    k = rng.standard_normal((kh, kw))
    want = ref_filter2d(img, k, pads, stride, pad_mode)
    got = convpool.filter2d(img, k, padding=padding, stride=stride,
                            pad_mode=pad_mode)
    assert_close(got, want, img, k, "padding=%r pad_mode=%s" % (padding,
                                                                pad_mode))


def test_filter2d_constant_equals_conv2d_and_keeps_input():
    rng = np.random.default_rng(3)
    img = rng.standard_normal((6, 5, 3))
    keep = img.copy()
    k = rng.standard_normal((3, 4))
    got = convpool.filter2d(img, k)
    # depthwise conv2d: every channel its own copy of k
    kk = np.repeat(k[:, :, None, None], 3, axis=3)
    want = convpool.conv2d(img[None], kk, padding="same", groups=3)[0]
    assert_close(got, want, img, k)
    np.testing.assert_array_equal(img, keep)


@pytest.mark.parametrize("pad_mode", sorted(NUMPY_TO_NDIMAGE))
def test_filter2d_integer_image_is_exact_float64(pad_mode):
    """Same dtype rules as conv2d: uint8 * int kernel -> exact float64."""
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, size=(7, 6, 2)).astype(np.uint8)
    k = rng.integers(-128, 128, size=(3, 5)).astype(np.int8)
    got = np.asarray(convpool.filter2d(img, k, pad_mode=pad_mode))
    assert got.dtype == np.float64
    want = np.stack([ndimage.correlate(img[:, :, i].astype(np.float64),
                                       k.astype(np.float64),
                                       mode=NUMPY_TO_NDIMAGE[pad_mode])
                     for i in range(2)], axis=-1)
    np.testing.assert_array_equal(got, want)
    img32, k32 = img.astype(np.float32), k.astype(np.float32)
    assert convpool.filter2d(img32, k32, pad_mode=pad_mode).dtype == \
        np.float32
