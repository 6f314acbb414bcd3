#!/usr/bin/env python3
"""Convolution of a batch of multi-channel images with several kernels."""
import numpy as np


def convolve(images, kernels, padding='same', stride=(1, 1)):
    """Perform a convolution on images using multiple kernels.

    Cross-correlation: the kernels are not flipped.  The loops run over the
    kernel taps; each tap is one matrix product of a strided slice of the
    whole padded batch, (m, oh, ow, c), with that tap's weights, (c, nc).

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w, c)
        m images, h pixels high, w pixels wide, with c channels.
    kernels : numpy.ndarray, shape (kh, kw, c, nc)
        nc kernels.
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
    numpy.ndarray of float64, shape (m, (h + 2*ph - kh) // sh + 1, ..., nc)
        The convolved images, one channel per kernel (inputs are cast to
        float64 first, so uint8 pixels never wrap around).

    Examples
    --------
    >>> x = np.ones((1, 3, 3, 2))
    >>> k = np.stack([np.ones((2, 2, 2)), -np.ones((2, 2, 2))], axis=-1)
    >>> convolve(x, k, 'valid', (2, 2)).tolist()
    [[[[8.0, -8.0]]]]
    """
    images = np.asarray(images, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    m, h, w, c = images.shape
    kh, kw, _, nc = kernels.shape
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
    padded = np.pad(images, ((0, 0),) + pads + ((0, 0),))
    oh = (padded.shape[1] - kh) // sh + 1
    ow = (padded.shape[2] - kw) // sw + 1
    out = np.zeros((m, oh, ow, nc))
    # One scratch buffer for every tap: a fresh batch-sized temporary per
    # tap nearly doubles the time at the spec's sizes.
    tap = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            window = padded[:, i:i + sh * oh:sh, j:j + sw * ow:sw]
            np.matmul(window, kernels[i, j], out=tap)
            out += tap
    return out
