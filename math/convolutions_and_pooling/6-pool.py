#!/usr/bin/env python3
"""Max and average pooling of a batch of multi-channel images."""
import numpy as np


def pool(images, kernel_shape, stride, mode='max'):
    """Perform pooling on images.

    No padding.  The loops run over the kh * kw positions inside the
    window: each one folds a strided slice of the whole batch into the
    running maximum (np.maximum, so NaN propagates) or the running sum.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w, c)
        m images, h pixels high, w pixels wide, with c channels.
    kernel_shape : tuple (kh, kw)
        Height and width of the pooling window.
    stride : tuple (sh, sw)
        Step between windows along the height and the width.
    mode : 'max' or 'avg'
        Max pooling or average pooling.

    Returns
    -------
    numpy.ndarray of float64, shape (m, (h - kh) // sh + 1, ..., c)
        The pooled images (inputs are cast to float64 first).

    Examples
    --------
    >>> x = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool(x, (2, 2), (2, 2))[..., 0].tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
    >>> pool(x, (2, 2), (2, 2), mode='avg')[..., 0].tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    if mode not in ('max', 'avg'):
        raise ValueError(
            "`mode` must be 'max' or 'avg', got {!r}".format(mode))
    images = np.asarray(images, dtype=np.float64)
    m, h, w, c = images.shape
    kh, kw = kernel_shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    fold = np.maximum if mode == 'max' else np.add
    out = np.full((m, oh, ow, c), -np.inf if mode == 'max' else 0.0)
    for i in range(kh):
        for j in range(kw):
            fold(out, images[:, i:i + sh * oh:sh, j:j + sw * ow:sw], out=out)
    if mode == 'avg':
        out /= kh * kw
    return out
