#!/usr/bin/env python3
"""Same convolution of a batch of grayscale images."""
import numpy as np


def convolve_grayscale_same(images, kernel):
    """Perform a same convolution on grayscale images.

    The images are padded with zeros so that the output has the input's
    size, following TensorFlow's 'SAME' rule: kh - 1 rows of padding in
    all, (kh - 1) // 2 on top and kh // 2 at the bottom (the odd extra row
    goes at the end), and likewise for the width.  For an odd kernel that
    is kh // 2 on both sides.  Cross-correlation: the kernel is not
    flipped.  The loops run over the kernel taps, never over output pixels.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h, w)
        The convolved images (inputs are cast to float64 first).

    Examples
    --------
    >>> x = np.arange(9).reshape(1, 3, 3)
    >>> convolve_grayscale_same(x, np.ones((3, 3))).tolist()
    [[[8.0, 15.0, 12.0], [21.0, 36.0, 27.0], [20.0, 33.0, 24.0]]]
    """
    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
    padded = np.pad(images, ((0, 0), ((kh - 1) // 2, kh // 2),
                             ((kw - 1) // 2, kw // 2)))
    out = np.zeros((m, h, w))
    # One scratch buffer for every tap: a fresh batch-sized temporary per
    # tap nearly doubles the time at the spec's sizes.
    tap = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            np.multiply(padded[:, i:i + h, j:j + w], kernel[i, j], out=tap)
            out += tap
    return out
