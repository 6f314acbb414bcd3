#!/usr/bin/env python3
"""Same convolution of a batch of grayscale images."""
import numpy as np

# float64 values in one chunk buffer (256 KB): the three buffers of a chunk
# then stay in the CPU's L2 cache.
CHUNK = 2 ** 15


def convolve_grayscale_same(images, kernel):
    """Perform a same convolution on grayscale images.

    The images are padded with zeros so that the output has the input's
    size, following TensorFlow's 'SAME' rule: kh - 1 rows of padding in
    all, (kh - 1) // 2 on top and kh // 2 at the bottom (the odd extra row
    goes at the end), and likewise for the width.  For an odd kernel that
    is kh // 2 on both sides.  Cross-correlation: the kernel is not
    flipped.

    Why chunks: the loops run over the kh * kw kernel taps, and each tap is
    a pass over the data.  Over the whole batch (50000 MNIST images are
    314 MB in float64) every pass would run at the speed of main memory,
    so the images go through a few dozen at a time, padded and cast into a
    float64 buffer that stays in the CPU cache.  Its zero borders are
    never written, so they are zeroed once.

    Why flat: in that buffer the padded images lie end to end, so moving a
    window one row down is moving W values along (W the padded width).
    Tap (i, j) is the whole chunk shifted by i * W + j: one multiply-add
    over a contiguous run of memory.  Windows that run off a padded
    image's right or bottom edge give garbage, which is dropped when the
    chunk is copied out.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h, w)
        The convolved images.  Pixels are cast to float64 before any
        arithmetic, so uint8 pixels never wrap around.

    Examples
    --------
    >>> x = np.arange(9).reshape(1, 3, 3)
    >>> convolve_grayscale_same(x, np.ones((3, 3))).tolist()
    [[[8.0, 15.0, 12.0], [21.0, 36.0, 27.0], [20.0, 33.0, 24.0]]]
    """
    images = np.asarray(images)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    H, W = h + kh - 1, w + kw - 1                   # padded size
    out = np.empty((m, h, w))
    n = max(1, min(m, CHUNK // (H * W)))            # images per chunk
    size = n * H * W
    # The padded chunk, flat, then room for the furthest tap's shift.
    flat = np.zeros(size + (kh - 1) * W + kw - 1)
    chunk = flat[:size].reshape(n, H, W)
    total, tap = np.empty(size), np.empty(size)
    for start in range(0, m, n):
        batch = images[start:start + n]
        chunk[:len(batch), top:top + h, left:left + w] = batch
        np.multiply(flat[:size], kernel[0, 0], out=total)
        for t in range(1, kh * kw):
            i, j = divmod(t, kw)
            shift = i * W + j
            np.multiply(flat[shift:shift + size], kernel[i, j], out=tap)
            total += tap
        out[start:start + n] = total.reshape(n, H, W)[:len(batch), :h, :w]
    return out
