#!/usr/bin/env python3
"""Convolution of a batch of grayscale images with custom zero padding."""
import numpy as np


def convolve_grayscale_padding(images, kernel, padding):
    """Perform a convolution on grayscale images with custom padding.

    Cross-correlation: the kernel is not flipped.  The loops run over the
    kernel taps, never over output pixels.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.
    padding : tuple (ph, pw)
        Rows of zeros added above and below, columns added left and right.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h + 2*ph - kh + 1, w + 2*pw - kw + 1)
        The convolved images (inputs are cast to float64 first).

    Examples
    --------
    >>> x = np.ones((1, 2, 2))
    >>> convolve_grayscale_padding(x, np.ones((2, 2)), (1, 0)).tolist()
    [[[2.0], [4.0], [2.0]]]
    """
    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    ph, pw = padding
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw)))
    m, h, w = padded.shape
    kh, kw = kernel.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.zeros((m, oh, ow))
    # One scratch buffer for every tap: a fresh batch-sized temporary per
    # tap nearly doubles the time at the spec's sizes.
    tap = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            np.multiply(padded[:, i:i + oh, j:j + ow], kernel[i, j], out=tap)
            out += tap
    return out
