#!/usr/bin/env python3
"""Max and average pooling of a batch of multi-channel images."""
import numpy as np

# float64 values in the chunk buffer (256 KB): it stays in the CPU's L2
# cache.
CHUNK = 2 ** 15


def pool(images, kernel_shape, stride, mode='max'):
    """Perform pooling on images.

    No padding.  The loops run over the kh * kw cells of the window: each
    one folds a strided slice of the images into the running maximum
    (np.maximum, so NaN propagates) or the running sum.

    Why chunks: over the whole batch every pass would run at the speed of
    main memory, so the images go through a few dozen at a time, into a
    float64 buffer that stays in the CPU cache.

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
        The pooled images (sums are taken in float64, so uint8 pixels
        never wrap around).

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
    images = np.asarray(images)
    m, h, w, c = images.shape
    kh, kw = kernel_shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    fold = np.maximum if mode == 'max' else np.add
    out = np.empty((m, oh, ow, c))
    n = max(1, min(m, CHUNK // max(oh * ow * c, 1)))    # images per chunk
    total = np.empty((n, oh, ow, c))
    for start in range(0, m, n):
        batch = images[start:start + n]
        part = total[:len(batch)]
        for t in range(kh * kw):
            i, j = divmod(t, kw)
            window = batch[:, i:i + sh * oh:sh, j:j + sw * ow:sw]
            if t:
                fold(part, window, out=part)
            else:
                part[...] = window                  # cast to float64
        if mode == 'avg':
            part /= kh * kw
        out[start:start + n] = part
    return out
