#!/usr/bin/env python3
"""Strided convolution of a batch of grayscale images."""
import numpy as np


def convolve_grayscale(images, kernel, padding='same', stride=(1, 1)):
    """Perform a convolution on grayscale images.

    Cross-correlation: the kernel is not flipped.  The loops run over the
    kernel taps, each one a multiply-add over a strided slice of the whole
    padded batch, never over output pixels.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w)
        m grayscale images, h pixels high and w pixels wide.
    kernel : numpy.ndarray, shape (kh, kw)
        The kernel.
    padding : 'same', 'valid' or tuple (ph, pw)
        'valid' adds no padding; (ph, pw) adds ph rows of zeros above and
        below and pw columns left and right.  'same' follows TensorFlow's
        rule for any stride: the output has ceil(h / sh) rows, the padding
        is total = max((ceil(h / sh) - 1) * sh + kh - h, 0) rows, total // 2
        on top and the rest at the bottom (likewise for the width).  At
        stride 1 with an odd kernel that is kh // 2 on both sides.
    stride : tuple (sh, sw)
        Step between windows along the height and the width.

    Returns
    -------
    numpy.ndarray of float64, shape (m, (h + 2*ph - kh) // sh + 1, ...)
        The convolved images (inputs are cast to float64 first).

    Examples
    --------
    >>> x = np.arange(16).reshape(1, 4, 4)
    >>> convolve_grayscale(x, np.ones((2, 2)), 'valid', (2, 2)).tolist()
    [[[10.0, 18.0], [42.0, 50.0]]]
    """
    images = np.asarray(images, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
    sh, sw = stride
    if not isinstance(padding, str):
        pads = ((padding[0],) * 2, (padding[1],) * 2)
    elif padding == 'same':
        th = max((-(-h // sh) - 1) * sh + kh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    elif padding == 'valid':
        pads = ((0, 0), (0, 0))
    else:
        raise ValueError("`padding` must be 'same', 'valid' or (ph, pw), "
                         "got {!r}".format(padding))
    padded = np.pad(images, ((0, 0),) + pads)
    oh = (padded.shape[1] - kh) // sh + 1
    ow = (padded.shape[2] - kw) // sw + 1
    out = np.zeros((m, oh, ow))
    # One scratch buffer for every tap: a fresh batch-sized temporary per
    # tap nearly doubles the time at the spec's sizes.
    tap = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            window = padded[:, i:i + sh * oh:sh, j:j + sw * ow:sw]
            np.multiply(window, kernel[i, j], out=tap)
            out += tap
    return out
