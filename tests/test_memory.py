"""Extra memory is bounded whatever the batch size, and ``out=`` is used.

The engines cut the work into blocks whose scratch stays within a few MiB
per thread, so a call allocates its output plus at most 64 MiB.  Each
check runs one call under ``tracemalloc`` (NumPy reports its buffers to
it) on a batch whose output is a few hundred MB, so any full-batch
temporary (a padded copy, a full im2col matrix, a float64 accumulator)
would show up as hundreds of MB.
"""

import gc
import tracemalloc

import numpy as np
import pytest

import convpool
from convpool.engines import banded

MiB = 1 << 20
LIMIT = 64 * MiB


def peak_extra(fn, out_bytes):
    """tracemalloc peak during ``fn()`` minus the output's bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - out_bytes


@pytest.fixture(scope="module")
def mnist():
    # 50000 grayscale 28x28 images: the spec's first dataset's shape.
    return np.random.default_rng(0).random((50000, 28, 28, 1),
                                           dtype=np.float32)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("engine", ["taps", "axpy", "banded", "im2col"])
def test_conv_grayscale_batch(mnist, engine, threads):
    k = np.ones((3, 3, 1, 1), np.float64)
    out, extra = peak_extra(
        lambda: convpool.conv2d(mnist, k, engine=engine, threads=threads),
        50000 * 26 * 26 * 8)
    assert out.shape == (50000, 26, 26, 1) and out.nbytes > 250 * MiB
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("x_shape, k_shape, padding", [
    ((20000, 28, 28, 1), (5, 5, 1, 6), "same"),     # LeNet-5's conv1
    ((600, 64, 64, 1), (64, 64, 1, 72), "valid")])  # a dense layer
def test_conv_folded_kernel_rows(x_shape, k_shape, padding, threads):
    """One channel, more filters than kernel rows: the banded engine folds
    the kernel rows (a block's folded rows are up to KH times its output
    rows: a kernel as tall as the image took 126 MiB before that was
    counted)."""
    rng = np.random.default_rng(2)
    x = rng.random(x_shape, dtype=np.float32)
    k = rng.standard_normal(k_shape).astype(np.float32)
    assert banded.Banded(k, (1, 1), (1, 1), 1, None).fold
    out_hw = x_shape[1:3] if padding == "same" else (1, 1)
    out, extra = peak_extra(
        lambda: convpool.conv2d(x, k, padding=padding, engine="banded",
                                threads=threads),
        x_shape[0] * out_hw[0] * out_hw[1] * k_shape[3] * 4)
    assert out.shape == (x_shape[0],) + out_hw + (k_shape[3],)
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("engine", ["taps", "banded", "im2col", "planar"])
def test_conv_many_channels(data_format, engine):
    rng = np.random.default_rng(1)
    shape = (512, 32, 32, 8) if data_format == "NHWC" else (512, 8, 32, 32)
    x = rng.random(shape, dtype=np.float32)
    k = rng.standard_normal((3, 3, 8, 16)).astype(np.float32)
    out, extra = peak_extra(
        lambda: convpool.conv2d(x, k, padding="same", engine=engine,
                                data_format=data_format),
        512 * 32 * 32 * 16 * 4)
    assert out.nbytes >= 32 * MiB
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("engine", ["auto", "taps"])
def test_conv_depthwise_big_batch(engine):
    x = np.random.default_rng(2).random((64, 56, 56, 128), dtype=np.float32)
    k = np.random.default_rng(3).standard_normal((3, 3, 1, 128))
    out, extra = peak_extra(
        lambda: convpool.conv2d(x, k.astype(np.float32), padding="same",
                                groups=128, engine=engine),
        x.nbytes)
    assert out.nbytes > 90 * MiB
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_big_batch(data_format, mode):
    # 3x3 stride 1 'same': the output is as big as the input (256 MiB).
    shape = (1024, 64, 64, 16)
    if data_format == "NCHW":
        shape = (1024, 16, 64, 64)
    x = np.random.default_rng(4).random(shape, dtype=np.float32)
    out, extra = peak_extra(
        lambda: convpool.pool2d(x, 3, stride=1, padding="same", mode=mode,
                                data_format=data_format),
        x.nbytes)
    assert out.shape == x.shape and out.nbytes >= 256 * MiB
    assert extra <= LIMIT, extra / MiB


def test_pool_integer_average_big_batch():
    # uint8 in, float64 out: the float64 sums live in per-block scratch.
    x = np.random.default_rng(5).integers(0, 256, (20000, 32, 32, 3),
                                          dtype=np.uint8)
    out, extra = peak_extra(lambda: convpool.avg_pool2d(x, 2),
                            20000 * 16 * 16 * 3 * 8)
    assert out.dtype == np.float64
    assert extra <= LIMIT, extra / MiB


def test_filter2d_huge_picture():
    """One 4096x4096x3 photo: bands of rows, not whole 64 MiB planes."""
    image = np.random.default_rng(6).random((4096, 4096, 3),
                                            dtype=np.float32)
    kernel = np.outer(*[np.array([1, 4, 6, 4, 1], np.float32)] * 2) / 256
    out, extra = peak_extra(lambda: convpool.filter2d(image, kernel),
                            image.nbytes)
    assert out.shape == image.shape
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("engine", ["taps", "im2col"])
def test_conv_out_is_written_and_returned(mnist, engine):
    x = mnist[:20000]
    k = np.full((3, 3, 1, 1), 1.0, np.float32)
    out = np.full((20000, 26, 26, 1), np.nan, np.float32)
    result, extra = peak_extra(
        lambda: convpool.conv2d(x, k, engine=engine, out=out), 0)
    assert result is out
    np.testing.assert_allclose(out[:2], convpool.conv2d(x[:2], k),
                               rtol=1e-6)
    assert not np.isnan(out).any()
    assert extra <= LIMIT, extra / MiB


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_out_is_written_and_returned(mode):
    x = np.random.default_rng(7).random((4096, 32, 32, 3), dtype=np.float32)
    out = np.full((4096, 3, 16, 16), np.nan, np.float32)   # NCHW out
    xc = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    result, extra = peak_extra(
        lambda: convpool.pool2d(xc, 2, mode=mode, data_format="NCHW",
                                out=out), 0)
    assert result is out
    want = convpool.pool2d(x[:3], 2, mode=mode).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out[:3], want, rtol=1e-6)
    assert not np.isnan(out).any()
    assert extra <= LIMIT, extra / MiB
