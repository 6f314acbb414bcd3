#!/usr/bin/env python3
"""Strided convolution of a batch of grayscale images."""
import numpy as np

# float64 values in the chunk buffer (256 KB): it and the product buffers
# then stay in the CPU's L2 cache.
CHUNK = 2 ** 15


def convolve_grayscale(images, kernel, padding='same', stride=(1, 1)):
    """Perform a convolution on grayscale images.

    Cross-correlation: the kernel is not flipped.

    Why chunks: the loops run over the kh * kw kernel taps, and each tap is
    a pass over the data.  Over the whole batch (50000 MNIST images are
    314 MB in float64) every pass would run at the speed of main memory,
    so the images go through a few dozen at a time, padded and cast into a
    float64 buffer that stays in the CPU cache.  Its zero borders are
    never written, so they are zeroed once.  Tap (i, j) reads the strided
    slice padded[:, i::sh, j::sw] of the chunk.

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
        The convolved images.  Pixels are cast to float64 before any
        arithmetic, so uint8 pixels never wrap around.

    Examples
    --------
    >>> x = np.arange(16).reshape(1, 4, 4)
    >>> convolve_grayscale(x, np.ones((2, 2)), 'valid', (2, 2)).tolist()
    [[[10.0, 18.0], [42.0, 50.0]]]
    """
    images = np.asarray(images)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w = images.shape
    kh, kw = kernel.shape
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
    out = np.empty((m, oh, ow))
    n = max(1, min(m, CHUNK // max(H * W, 1)))     # images per chunk
    padded = np.zeros((n, H, W))
    total, tap = np.empty((n, oh, ow)), np.empty((n, oh, ow))
    for start in range(0, m, n):
        batch = images[start:start + n]
        padded[:len(batch), top:top + h, left:left + w] = batch
        for t in range(kh * kw):
            i, j = divmod(t, kw)
            window = padded[:, i:i + sh * oh:sh, j:j + sw * ow:sw]
            np.multiply(window, kernel[i, j], out=tap if t else total)
            if t:
                total += tap
        out[start:start + n] = total[:len(batch)]
    return out
