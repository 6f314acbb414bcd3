"""Extra memory stays within 64 MiB beyond the output for every rank,
whatever the batch size (issue 7, section 4), in the style of
tests/test_memory.py: one call under ``tracemalloc`` (NumPy reports its
buffers to it) on a batch whose input or output is 128-256 MiB, so any
full-batch temporary (a padded copy, a full im2col matrix, a float64
accumulator, a transposed copy of channels-first data) shows up as far
more than 64 MiB.
"""

import numpy as np
import pytest

import convpool

# One measuring helper for every rank: the 2-D memory tests'.
from test_memory import LIMIT, MiB, peak_extra


def float32_batch(shape, seed):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def check(fn, out_bytes, least_out=None):
    out, extra = peak_extra(fn, out_bytes)
    assert out.nbytes == out_bytes, (out.shape, out.dtype)
    if least_out is not None:
        assert out.nbytes >= least_out
    assert extra <= LIMIT, "%.1f MiB extra" % (extra / MiB)
    return out


@pytest.mark.parametrize("engine", ["auto", "taps", "im2col"])
@pytest.mark.parametrize("channels_first", [False, True])
def test_conv1d_big_batch(engine, channels_first):
    # 4096 signals of 2048 samples, 4 channels: 128 MiB in, 256 MiB out
    shape = (4096, 4, 2048) if channels_first else (4096, 2048, 4)
    x = float32_batch(shape, 1)
    # taps loops over kernel taps: fewer of them keep the test short
    k = np.random.default_rng(2).standard_normal(
        (3 if engine == "taps" else 9, 4, 8)).astype(np.float32)
    fmt = "NCW" if channels_first else "NWC"
    check(lambda: convpool.conv1d(x, k, padding="same", engine=engine,
                                  data_format=fmt),
          4096 * 2048 * 8 * 4, 256 * MiB)


@pytest.mark.parametrize("engine", ["auto", "taps", "im2col"])
def test_conv3d_big_batch(engine):
    # 128 volumes 16x32x32x8: 64 MiB in, 128 MiB out; a padded copy of the
    # input alone would be 81 MiB, a full im2col matrix 1.7 GiB
    x = float32_batch((128, 16, 32, 32, 8), 3)
    window = (1, 2, 2) if engine == "taps" else (3, 3, 3)
    k = np.random.default_rng(4).standard_normal(window + (8, 16)).astype(
        np.float32)
    check(lambda: convpool.conv3d(x, k, padding="same", engine=engine),
          128 * 16 * 32 * 32 * 16 * 4, 128 * MiB)


def test_conv3d_depthwise_big_batch():
    x = float32_batch((128, 16, 32, 32, 16), 5)
    k = np.random.default_rng(6).standard_normal((3, 3, 3, 1, 16)).astype(
        np.float32)
    check(lambda: convpool.conv3d(x, k, padding="same", groups=16),
          x.nbytes, 128 * MiB)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("channels_first", [False, True])
def test_pool3d_big_batch(mode, channels_first):
    # 3x3x3 stride 1 'same': the output is as big as the input (128 MiB)
    shape = (256, 16, 32, 32, 8)
    if channels_first:
        shape = (256, 8, 16, 32, 32)
    x = float32_batch(shape, 7)
    check(lambda: convpool.pool3d(x, 3, stride=1, padding="same", mode=mode,
                                  data_format="NCDHW" if channels_first
                                  else "NDHWC"),
          x.nbytes, 128 * MiB)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool3d_dilated_and_ceil_mode(mode):
    x = float32_batch((256, 16, 32, 32, 8), 8)
    out = convpool.pool3d(x[:1], 2, stride=2, dilation=2, padding=1,
                          ceil_mode=True, mode=mode)
    check(lambda: convpool.pool3d(x, 2, stride=2, dilation=2, padding=1,
                                  ceil_mode=True, mode=mode),
          256 * out.nbytes)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool1d_big_batch(mode):
    x = float32_batch((8192, 4096, 2), 9)        # 256 MiB
    check(lambda: convpool.pool1d(x, 5, stride=1, padding="same",
                                  mode=mode),
          x.nbytes, 256 * MiB)


def test_integer_avg_pool3d_big_batch():
    # uint8 in, float64 out: the float64 sums live in per-block scratch
    x = np.random.default_rng(10).integers(0, 256, (512, 16, 32, 32, 4),
                                           dtype=np.uint8)
    check(lambda: convpool.avg_pool3d(x, 2), 512 * 8 * 16 * 16 * 4 * 8)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_adaptive_pool3d_global_big_batch(mode):
    # 256 MiB in, a few KiB out: no full-size temporary may appear
    x = float32_batch((512, 16, 32, 32, 8), 11)
    fn = getattr(convpool, "adaptive_%s_pool3d" % mode)
    out = check(lambda: fn(x, 1), 512 * 8 * 4)
    np.testing.assert_allclose(
        out[:2, 0, 0, 0],
        getattr(x[:2], "max" if mode == "max" else "mean")(axis=(1, 2, 3)),
        rtol=1e-5)


def test_conv3d_out_is_written_and_returned():
    x = float32_batch((128, 16, 32, 32, 8), 12)
    k = np.full((3, 3, 3, 8, 8), 0.01, np.float32)
    out = np.full((128, 14, 30, 30, 8), np.nan, np.float32)
    result, extra = peak_extra(lambda: convpool.conv3d(x, k, out=out), 0)
    assert result is out
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out[:2], convpool.conv3d(x[:2], k),
                               rtol=1e-6)
    assert extra <= LIMIT, "%.1f MiB extra" % (extra / MiB)


@pytest.mark.parametrize("threads", [2, 4])
def test_conv3d_strided_gathers_count_in_the_bound(threads):
    """Each worker's gathered rows count in its block: with stride 4 in H
    and W a block of few output rows reads many input rows (two slices of
    512x512x32 float32, a 1x1x1 kernel, im2col)."""
    x = float32_batch((1, 2, 512, 512, 32), 7)
    k = np.ones((1, 1, 1, 32, 32), np.float32)
    y = check(lambda: convpool.conv3d(x, k, stride=(1, 4, 4),
                                      threads=threads),
              1 * 2 * 128 * 128 * 32 * 4)
    np.testing.assert_allclose(y, convpool.conv2d(
        x.reshape(2, 512, 512, 32), k[0], stride=4).reshape(y.shape),
        rtol=1e-6)
