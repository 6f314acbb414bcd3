#!/usr/bin/env python3
"""Convolution of a batch of multi-channel images with one kernel."""
import numpy as np

# float64 values in the chunk buffer (256 KB): it and the kh * kw planes
# then stay in the CPU's L2 cache (for a 3x3 kernel).
CHUNK = 2 ** 15


def convolve_channels(images, kernel, padding='same', stride=(1, 1)):
    """Perform a convolution on images with channels.

    Cross-correlation: the kernel is not flipped.

    Why chunks: over the whole batch every pass would run at the speed of
    main memory, so the images go through a few at a time, padded and
    cast into a float64 buffer that stays in the CPU cache.  Its zero
    borders are never written, so they are zeroed once.

    How: the buffer holds one flat row per channel, the padded images end
    to end, so moving a window one row down is moving W values along (W
    the padded width).  One matrix product of the kernel, as a
    (kh * kw, c) matrix, with the buffer sums the channels for every tap
    at every position: plane t = (i, j) is what that tap adds to each
    window.  Adding the planes, each shifted by i * W + j, gives every
    window's sum.  Windows that run off a padded image's right or bottom
    edge give garbage, dropped when the chunk is copied out; so are the
    positions a stride skips.

    Parameters
    ----------
    images : numpy.ndarray, shape (m, h, w, c)
        m images, h pixels high, w pixels wide, with c channels.
    kernel : numpy.ndarray, shape (kh, kw, c)
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
        The convolved images, one channel.  Pixels are cast to float64
        before any arithmetic, so uint8 pixels never wrap around.

    Examples
    --------
    >>> x = np.ones((1, 3, 3, 2))
    >>> convolve_channels(x, np.ones((2, 2, 2)), 'valid').tolist()
    [[[8.0, 8.0], [8.0, 8.0]]]
    """
    images = np.asarray(images)
    kernel = np.asarray(kernel, dtype=np.float64)
    m, h, w, c = images.shape
    kh, kw, _ = kernel.shape
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
    n = max(1, min(m, CHUNK // max(H * W * c, 1)))  # images per chunk
    size = n * H * W
    # Channel by channel, the padded chunk, flat, then room for the
    # furthest tap's shift.
    flat = np.zeros((c, size + (kh - 1) * W + kw - 1))
    chunk = flat[:, :size].reshape(c, n, H, W)
    mix = kernel.reshape(kh * kw, c)
    planes = np.empty((kh * kw, flat.shape[1]))
    total = planes[0, :size]            # tap (0, 0) needs no shift
    for start in range(0, m, n):
        batch = images[start:start + n]
        chunk[:, :len(batch), top:top + h, left:left + w] = \
            batch.transpose(3, 0, 1, 2)
        np.matmul(mix, flat, out=planes)
        for t in range(1, kh * kw):
            i, j = divmod(t, kw)
            shift = i * W + j
            total += planes[t, shift:shift + size]
        out[start:start + n] = total.reshape(n, H, W)[
            :len(batch), :sh * oh:sh, :sw * ow:sw]
    return out
