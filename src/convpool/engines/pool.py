"""Pooling engine: a strided elementwise maximum or sum over the window's
taps, on the same clipped views as convolution (see ``_windows``).

Padding never enters a maximum (so it acts as -infinity) and never enters a
sum; the divisor of an average counts the cells each window covers, with or
without the padded ones.
"""

import numpy as np

from ._parallel import chunk_length, run_chunks
from ._windows import window_taps

__all__ = ["pool_nhwc", "window_counts", "lowest"]

_BUDGET = 1 << 21


def lowest(dtype):
    """The value a maximum never picks over a real cell: -inf, or the
    integer minimum, or False."""
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def window_counts(n, k, out, stride, lo, hi, include_pad):
    """Cells each window covers along one axis: inside the input, or inside
    the input and its padding (never past the padding, as in PyTorch)."""
    starts = np.arange(out) * stride - lo
    low, high = (-lo, n + hi) if include_pad else (0, n)
    return np.minimum(starts + k, high) - np.maximum(starts, low)


def pool_nhwc(x, out, window, stride, pads, mode, count_include_pad,
              dtype, threads):
    """Max or average pool ``x`` (N, H, W, C) into ``out`` (N, OH, OW, C).

    ``dtype`` is the accumulation dtype (the input's own for max).
    """
    n, h, w, c = x.shape
    oh, ow = out.shape[1:3]
    taps = list(window_taps((h, w), window, (oh, ow), stride, (1, 1), pads))
    if mode == "avg":
        counts = np.multiply.outer(
            window_counts(h, window[0], oh, stride[0], *pads[0],
                          count_include_pad),
            window_counts(w, window[1], ow, stride[1], *pads[1],
                          count_include_pad))
        divisor = counts.astype(dtype)[:, :, None]
    combine = np.maximum if mode == "max" else np.add
    start_value = lowest(dtype) if mode == "max" else 0

    def work(start, stop):
        dst = out[start:stop]
        acc = dst if dst.dtype == dtype else np.empty(dst.shape, dtype)
        acc.fill(start_value)
        src = x[start:stop]
        for _, _, ro, co, ri, ci in taps:
            view = acc[:, ro, co]
            combine(view, src[:, ri, ci], out=view)
        if mode == "avg":
            np.divide(acc, divisor, out=acc)
        if acc is not dst:
            dst[...] = acc

    per_item = oh * ow * c * dtype.itemsize
    run_chunks(work, n, chunk_length(n, per_item, _BUDGET, threads), threads)
