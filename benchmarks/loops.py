"""The spec's common solution: loops over output pixels.

This is how most submissions to the "Convolutions and Pooling" project are
written (the spec's hint for task 3 says "loop over i and j"): for every
output pixel, multiply the window of the whole batch by the kernel and sum.
Each loop body is vectorised over the batch, so the cost is
``OH * OW`` (times ``nc`` for task 5) small NumPy calls.  It is kept here,
never in the library, as the baseline the task files must beat.
"""

import numpy as np

from convpool.kernels import (CHANNELS_KERNEL, MULTI_KERNELS,
                              VERTICAL_EDGE)

__all__ = ["TASKS"]


def _pads(h, w, kh, kw, padding, sh=1, sw=1):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        # The usual submission: ((h - 1) * sh + kh - h) // 2 + 1 ...;
        # for odd kernels at stride 1 every variant gives kh // 2.
        return kh // 2, kw // 2
    return padding


def convolve_grayscale(images, kernel, padding="valid", stride=(1, 1)):
    """Tasks 0-3: grayscale batch (m, h, w), kernel (kh, kw)."""
    m, h, w = images.shape
    kh, kw = kernel.shape
    sh, sw = stride
    ph, pw = _pads(h, w, kh, kw, padding, sh, sw)
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    out = np.zeros((m, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, i, j] = np.sum(window * kernel, axis=(1, 2))
    return out


def convolve_channels(images, kernel, padding="valid", stride=(1, 1)):
    """Task 4: batch (m, h, w, c), kernel (kh, kw, c), one output channel."""
    m, h, w, c = images.shape
    kh, kw, _ = kernel.shape
    sh, sw = stride
    ph, pw = _pads(h, w, kh, kw, padding, sh, sw)
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    out = np.zeros((m, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, i, j] = np.sum(window * kernel, axis=(1, 2, 3))
    return out


def convolve(images, kernels, padding="valid", stride=(1, 1)):
    """Task 5: kernels (kh, kw, c, nc); the spec allows a third loop."""
    m, h, w, c = images.shape
    kh, kw, _, nc = kernels.shape
    sh, sw = stride
    ph, pw = _pads(h, w, kh, kw, padding, sh, sw)
    padded = np.pad(images, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    out = np.zeros((m, oh, ow, nc))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            for k in range(nc):
                out[:, i, j, k] = np.sum(window * kernels[..., k],
                                         axis=(1, 2, 3))
    return out


def pool(images, kernel_shape, stride, mode="max"):
    """Task 6: batch (m, h, w, c), valid pooling."""
    m, h, w, c = images.shape
    kh, kw = kernel_shape
    sh, sw = stride
    oh = (h - kh) // sh + 1
    ow = (w - kw) // sw + 1
    out = np.zeros((m, oh, ow, c))
    reduce = np.max if mode == "max" else np.mean
    for i in range(oh):
        for j in range(ow):
            window = images[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, i, j] = reduce(window, axis=(1, 2))
    return out


# The spec's seven tasks: (file, function name, two-loop baseline, call).
# ``call(fn, images)`` applies a task function to the example's arguments.
TASKS = [
    ("0-convolve_grayscale_valid", "convolve_grayscale_valid", "mnist",
     lambda f, x: f(x, VERTICAL_EDGE),
     lambda x: convolve_grayscale(x, VERTICAL_EDGE)),
    ("1-convolve_grayscale_same", "convolve_grayscale_same", "mnist",
     lambda f, x: f(x, VERTICAL_EDGE),
     lambda x: convolve_grayscale(x, VERTICAL_EDGE, "same")),
    ("2-convolve_grayscale_padding", "convolve_grayscale_padding", "mnist",
     lambda f, x: f(x, VERTICAL_EDGE, (2, 4)),
     lambda x: convolve_grayscale(x, VERTICAL_EDGE, (2, 4))),
    ("3-convolve_grayscale", "convolve_grayscale", "mnist",
     lambda f, x: f(x, VERTICAL_EDGE, padding="valid", stride=(2, 2)),
     lambda x: convolve_grayscale(x, VERTICAL_EDGE, "valid", (2, 2))),
    ("4-convolve_channels", "convolve_channels", "animals",
     lambda f, x: f(x, CHANNELS_KERNEL, padding="valid"),
     lambda x: convolve_channels(x, CHANNELS_KERNEL, "valid")),
    ("5-convolve", "convolve", "animals",
     lambda f, x: f(x, MULTI_KERNELS, padding="valid"),
     lambda x: convolve(x, MULTI_KERNELS, "valid")),
    ("6-pool", "pool", "animals",
     lambda f, x: f(x, (2, 2), (2, 2), mode="avg"),
     lambda x: pool(x, (2, 2), (2, 2), "avg")),
]
