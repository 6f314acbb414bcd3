#!/usr/bin/env python3
"""Convolution of a batch of multi-channel images with several kernels."""
import numpy as np

# float64 values in the chunk buffer (256 KB): it and the two result
# buffers then stay in the CPU's L2 cache.
CHUNK = 2 ** 15


def convolve(images, kernels, padding='same', stride=(1, 1)):
    """Perform a convolution on images using multiple kernels.

    Cross-correlation: the kernels are not flipped.

    Why chunks: the loops run over the kh * kw kernel taps, and each tap is
    a pass over the data.  Over the whole batch every pass would run at
    the speed of main memory, so the images go through a few dozen at a
    time, padded and cast into a float64 buffer that stays in the CPU
    cache.  Tap (i, j) is one matrix product: the strided slice
    padded[:, i::sh, j::sw], shape (n, oh, ow, c), times the tap's
    weights kernels[i, j], shape (c, nc).

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
        The convolved images, one channel per kernel.  Pixels are cast to
        float64 before any arithmetic, so uint8 pixels never wrap around.

    Examples
    --------
    >>> x = np.ones((1, 3, 3, 2))
    >>> k = np.stack([np.ones((2, 2, 2)), -np.ones((2, 2, 2))], axis=-1)
    >>> convolve(x, k, 'valid', (2, 2)).tolist()
    [[[[8.0, -8.0]]]]
    """
    images = np.asarray(images)
    kernels = np.asarray(kernels, dtype=np.float64)
    m, h, w, c = images.shape
    kh, kw, _, nc = kernels.shape
    sh, sw = stride
    if not isinstance(padding, str):
        top = bottom = padding[0]
        left = right = padding[1]
    elif padding == 'same':
        th = max((-(-h // sh) - 1) * sh + kh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        top, bottom, left, right = th // 2, th - th // 2, tw // 2, tw - tw // 2
    elif padding == 'valid':
        top = bottom = left = right = 0
    else:
        raise ValueError("`padding` must be 'same', 'valid' or (ph, pw), "
                         "got {!r}".format(padding))
    H, W = h + top + bottom, w + left + right       # padded size
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.empty((m, oh, ow, nc))
    n = max(1, min(m, CHUNK // max(H * W * max(c, nc), 1)))  # per chunk
    padded = np.zeros((n, H, W, c))
    total, tap = np.empty((n, oh, ow, nc)), np.empty((n, oh, ow, nc))
    for start in range(0, m, n):
        batch = images[start:start + n]
        padded[:len(batch), top:top + h, left:left + w] = batch
        total.fill(0)
        for i in range(kh):
            for j in range(kw):
                window = padded[:, i:i + sh * oh:sh, j:j + sw * ow:sw]
                np.matmul(window, kernels[i, j], out=tap)
                total += tap
        out[start:start + n] = total[:len(batch)]
    return out
