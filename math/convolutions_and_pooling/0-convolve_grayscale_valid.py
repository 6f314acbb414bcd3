#!/usr/bin/env python3
"""Valid convolution of a batch of grayscale images."""
import numpy as np

# float64 values in one chunk buffer (256 KB): the three buffers of a chunk
# then stay in the CPU's L2 cache.
CHUNK = 2 ** 15


def convolve_grayscale_valid(images, kernel):
    """Perform a valid convolution (no padding) on grayscale images.

    Like the course's reference, this is cross-correlation: the kernel is
    not flipped.

    Why chunks: the loops run over the kh * kw kernel taps, and each tap is
    a pass over the data.  Over the whole batch (50000 MNIST images are
    314 MB in float64) every pass would run at the speed of main memory,
    so the images go through a few dozen at a time, copied into a float64
    buffer that stays in the CPU cache.

    Why flat: in that buffer the images lie end to end, so moving a window
    one row down is moving w values along.  Tap (i, j) is the whole chunk
    shifted by i * w + j: one multiply-add over a contiguous run of memory.
    Windows that run off an image's right or bottom edge give garbage,
    which is dropped when the chunk is copied out.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h - kh + 1, w - kw + 1)
        The convolved images.  Pixels are cast to float64 before any
        arithmetic, so uint8 pixels never wrap around.

    Examples
    --------
    >>> x = np.arange(16).reshape(1, 4, 4)
    >>> convolve_grayscale_valid(x, np.ones((3, 3))).tolist()
    [[[45.0, 54.0], [81.0, 90.0]]]
    """
    images = np.asarray(images)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.empty((m, oh, ow))
    n = max(1, min(m, CHUNK // max(h * w, 1)))     # images per chunk
    size = n * h * w
    # The chunk, flat, then room for the furthest tap's shift.
    flat = np.zeros(size + (kh - 1) * w + kw - 1)
    chunk = flat[:size].reshape(n, h, w)
    total, tap = np.empty(size), np.empty(size)
    for start in range(0, m, n):
        batch = images[start:start + n]
        chunk[:len(batch)] = batch                  # cast to float64
        np.multiply(flat[:size], kernel[0, 0], out=total)
        for t in range(1, kh * kw):
            i, j = divmod(t, kw)
            shift = i * w + j
            np.multiply(flat[shift:shift + size], kernel[i, j], out=tap)
            total += tap
        out[start:start + n] = total.reshape(n, h, w)[:len(batch), :oh, :ow]
    return out
