#!/usr/bin/env python3
"""Valid convolution of a batch of grayscale images."""
import numpy as np


def convolve_grayscale_valid(images, kernel):
    """Perform a valid convolution (no padding) on grayscale images.

    Like the course's reference, this is cross-correlation: the kernel is
    not flipped.  The loops run over the kh * kw kernel taps, each one a
    multiply-add over a shifted slice of the whole batch, never over
    output pixels.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h - kh + 1, w - kw + 1)
        The convolved images.  Inputs are cast to float64 first, so uint8
        pixels never wrap around.

    Examples
    --------
    >>> x = np.arange(16).reshape(1, 4, 4)
    >>> convolve_grayscale_valid(x, np.ones((3, 3))).tolist()
    [[[45.0, 54.0], [81.0, 90.0]]]
    """
    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((m, oh, ow))
    # One scratch buffer for every tap: a fresh batch-sized temporary per
    # tap nearly doubles the time at the spec's sizes.
    tap = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            np.multiply(images[:, i:i + oh, j:j + ow], kernel[i, j], out=tap)
            out += tap
    return out
