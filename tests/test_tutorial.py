"""The tutorial's API: its names, layouts and what its README says they do."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convpool import tutorial
from convpool.tutorial import (conv_step, convolution_operation_2D_Image,
                               convolution_operation_3D_Image,
                               convolution_operation_batch_3D_images,
                               max_pool_batch_3D_images)


def loop_conv2d(image, kernel, stride, pad):
    """The tutorial's own loop, with its int((h - kh + 2p) / s) + 1 sizes."""
    padded = np.pad(image, [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2))
    kh, kw = kernel.shape[:2]
    oh = (image.shape[0] - kh + 2 * pad) // stride + 1
    ow = (image.shape[1] - kw + 2 * pad) // stride + 1
    out = np.zeros((oh, ow))
    for r in range(oh):
        for c in range(ow):
            patch = padded[r * stride:r * stride + kh, c * stride:c * stride + kw]
            out[r, c] = np.sum(patch * kernel)
    return out


geometry = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4),
                     st.integers(1, 4), st.integers(1, 3), st.integers(0, 2))


def test_conv_step_is_sum_of_products():
    patch = np.arange(9.0).reshape(3, 3)
    assert conv_step(patch, np.eye(3)) == 0 + 4 + 8
    with pytest.raises(ValueError, match="`image_patch` and `kernel` must have the same shape"):
        conv_step(patch, np.eye(2))


@settings(max_examples=40, deadline=None)
@given(g=geometry, seed=st.integers(0, 2**32 - 1))
def test_2d_image_matches_the_tutorial_loop(g, seed):
    h, w, kh, kw, s, p = g
    if kh > h + 2 * p or kw > w + 2 * p:
        return
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    np.testing.assert_allclose(convolution_operation_2D_Image(image, kernel, s, p),
                               loop_conv2d(image, kernel, s, p), rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(g=geometry, c=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_3d_image_sums_channels_into_one_map(g, c, seed):
    h, w, kh, kw, s, p = g
    if kh > h + 2 * p or kw > w + 2 * p:
        return
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal((h, w, c)), rng.standard_normal((kh, kw, c))
    got = convolution_operation_3D_Image(image, kernel, s, p)
    assert got.ndim == 2
    np.testing.assert_allclose(got, loop_conv2d(image, kernel, s, p), rtol=1e-10, atol=1e-12)


def test_batch_uses_filters_first_kernels_and_returns_nhwc():
    rng = np.random.default_rng(1)
    batch = rng.standard_normal((4, 9, 9, 3)).astype(np.float32)
    kernels = rng.standard_normal((8, 5, 5, 3)).astype(np.float32)
    got = convolution_operation_batch_3D_images(batch, kernels, stride=1, pad=2)
    assert got.shape == (4, 9, 9, 8) and got.dtype == np.float32
    for b in range(4):
        for f in range(8):
            np.testing.assert_allclose(got[b, :, :, f],
                                       loop_conv2d(batch[b], kernels[f], 1, 2),
                                       rtol=1e-4, atol=1e-4)


def test_max_pool_returns_window_maxima_not_zeros():
    rng = np.random.default_rng(2)
    batch = rng.standard_normal((3, 6, 7, 2))
    got = max_pool_batch_3D_images(batch, 2, 2)
    assert got.shape == (3, 3, 3, 2)
    expected = batch[:, :6, :6].reshape(3, 3, 2, 3, 2, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(got, expected)
    assert np.all(got != 0)


@pytest.mark.parametrize("call, match", [
    (lambda: convolution_operation_2D_Image(np.ones((3, 3, 1)), np.ones((2, 2)), 1, 0),
     r"`input_image` must have 2 dimensions \(H, W\), got 3"),
    (lambda: convolution_operation_3D_Image(np.ones((3, 3, 2)), np.ones((2, 2)), 1, 0),
     r"`kernel` must have 3 dimensions \(KH, KW, C\), got 2"),
    (lambda: convolution_operation_batch_3D_images(np.ones((3, 3, 2)), np.ones((1, 2, 2, 2)), 1, 0),
     r"`input_images_batch` must have 4 dimensions \(B, H, W, C\), got 3"),
    (lambda: convolution_operation_batch_3D_images(np.ones((1, 3, 3, 2)), np.ones((2, 2, 2)), 1, 0),
     r"`kernel` must have 4 dimensions \(filters, KH, KW, C\), got 3"),
    (lambda: max_pool_batch_3D_images(np.ones((3, 3)), 2, 2),
     r"`input_images_batch` must have 4 dimensions \(B, H, W, C\), got 2"),
    (lambda: convolution_operation_2D_Image(np.ones((3, 3)), np.ones((2, 2)), 0, 0),
     r"`stride` must be >= 1, got \(0, 0\)"),
])
def test_mistakes_name_the_tutorial_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- errors in the tutorial's own words (issue 11 item 8) --------------------

@pytest.mark.parametrize("call, match", [
    (lambda: tutorial.convolution_operation_batch_3D_images(
        np.ones((2, 5, 5, 3)), np.ones((4, 3, 3, 2)), 1, 0),
     r"^`kernel` \(filters, KH, KW, C\) must have C = 3 channels to match "
     r"`input_images_batch` \(B, H, W, C\), got 2$"),
    (lambda: tutorial.convolution_operation_3D_Image(
        np.ones((5, 5, 3)), np.ones((3, 3, 2)), 1, 0),
     r"^`kernel` \(KH, KW, C\) must have C = 3 channels to match "
     r"`input_image` \(H, W, C\), got 2$"),
    (lambda: tutorial.convolution_operation_batch_3D_images(
        np.ones((2, 5, 5, 3)), np.ones((4, 7, 7, 3)), 1, 0),
     r"^`kernel` .*7x7.* is larger than the padded input"),
    (lambda: tutorial.convolution_operation_2D_Image(
        np.ones((5, 5)), np.ones((7, 7)), 1, 0),
     r"^`kernel` .*7x7.* is larger than the padded input"),
    (lambda: tutorial.max_pool_batch_3D_images(np.ones((2, 5, 5, 3)), 7, 1),
     r"^`filter_size` .*7x7.* is larger than the padded input"),
])
def test_tutorial_errors_use_the_tutorials_argument_names(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    for core_name in ("`kernels`", "`x`", "`window`", "`padding`", "groups"):
        assert core_name not in str(info.value)


# --- tensors that require grad (issue 11 item 9) -----------------------------

def test_a_tensor_that_requires_grad_asks_for_detach():
    torch = pytest.importorskip("torch")
    import convpool
    x = torch.ones((1, 4, 4, 1), dtype=torch.float64, requires_grad=True)
    k = np.ones((2, 2, 1, 1))
    with pytest.raises(TypeError, match=r"`x` is a tensor that requires "
                       r"grad; pass `x.detach\(\)`"):
        convpool.conv2d(x, k)
    with pytest.raises(TypeError, match=r"`input_images_batch` is a tensor "
                       r"that requires grad"):
        tutorial.max_pool_batch_3D_images(x, 2, 2)
    # Detached, it is an ordinary array-like.
    assert convpool.conv2d(x.detach(), k).shape == (1, 3, 3, 1)
