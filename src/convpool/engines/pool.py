"""Pooling engine: strided elementwise maximum or sum over the window's
taps, on the same clipped views as convolution (see ``_windows``).

A 2-D window is separable for both reductions, so each block is pooled
along rows first (a pass per tap, whose inner loop is a whole ``W * C``
image row) and then along columns (a pass per tap; at a column stride,
pixels of 64-255 bytes take contiguous shifted passes, ``_shifted_cols``).
The first two taps share one pass where they reach the same cells, so a
2x2/2 window is the pairwise maximum of the two row halves, then of the
two column halves: two passes.
Padding never enters a maximum (so it acts as -infinity) and never enters
a sum; the divisor of an average counts the cells each window covers, with
or without the padded ones.
"""

import numpy as np

from ..geometry import window_counts
from ._parallel import (block_budget, quiet, row_blocks, run_blocks,
                        worth_threads)
from ._windows import axis_taps, band_pads

__all__ = ["pool_nhwc", "PoolPlan", "lowest", "reduce_taps"]

_BUDGET = 1 << 20
# Below this many bytes per pixel, a column pass iterates along the row
# (long strided loops) instead of along the channels (3-float loops).
_SHORT_PIXEL = 64


def lowest(dtype):
    """The value a maximum never picks over a real cell: -inf, or the
    integer minimum, or False."""
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def pool_nhwc(x, out, window, stride, pads, mode, count_include_pad,
              dtype, threads, dilation=(1, 1)):
    """Max or average pool ``x`` (N, H, W, C) into ``out`` (N, OH, OW, C).

    ``dtype`` is the accumulation dtype (the input's own for max); the
    window's taps are ``dilation`` cells apart.
    """
    n, h, w, c = x.shape
    oh, ow = out.shape[1:3]
    if n == 0 or oh == 0 or ow == 0:
        return
    plan = PoolPlan((h, w), (oh, ow), window, stride, pads, mode,
                    count_include_pad, dtype, dilation)

    def work(n0, n1, r0, r1, scratch):
        plan.run(x[n0:n1], out[n0:n1, r0:r1], r0, scratch)

    row_bytes = (w + ow) * c * dtype.itemsize
    threads = worth_threads(n * oh * row_bytes, threads)
    blocks = row_blocks(n, oh, row_bytes,
                        block_budget(_BUDGET, threads, grow=1), threads)
    run_blocks(work, blocks, threads, context=quiet)


class PoolPlan:
    """One 2-D pooling problem's geometry, worked out once; ``run`` pools a
    block (whole images or a band of output rows) in a worker's scratch.
    The 3-D fold runs thousands of small blocks through one plan."""

    def __init__(self, hw, out_hw, window, stride, pads, mode,
                 count_include_pad, dtype, dilation=(1, 1)):
        self.window, self.stride, self.pads = window, stride, pads
        self.dilation, self.dtype = dilation, np.dtype(dtype)
        self.divisor = None
        if mode == "avg":
            counts = np.multiply.outer(*(
                np.array(window_counts(n_, k, o, s, lo, hi,
                                       count_include_pad, d), np.int64)
                for n_, k, o, s, (lo, hi), d in zip(
                    hw, window, out_hw, stride, pads, dilation)))
            self.divisor = _divisor(counts, self.dtype)
        self.reduce = np.maximum if mode == "max" else np.add
        self.start = lowest(self.dtype) if mode == "max" else 0

    def run(self, x, dst, r0, scratch):
        """Pool ``x`` (b, H, W, C) into output rows ``r0 ..`` of ``dst``."""
        b, r1 = len(dst), r0 + dst.shape[1]
        rows = scratch.get("rows", (b, r1 - r0) + x.shape[2:], self.dtype)
        _pool_rows(self.reduce, self.start, x, rows, self.window[0],
                   self.stride[0], self.dilation[0],
                   band_pads(self.pads, r0, self.stride[0])[0][0])
        acc = dst if dst.dtype == self.dtype else scratch.get(
            "acc", dst.shape, self.dtype)
        args = (self.reduce, rows, acc, self.window[1], self.stride[1],
                self.dilation[1], self.pads[1][0])
        if not _shifted_cols(*args, scratch):
            _pool_cols(self.reduce, self.start, *args[1:])
        if self.divisor is not None:
            part = (self.divisor if np.ndim(self.divisor) == 0
                    else self.divisor[r0:r1])
            np.divide(acc, part, out=acc)
        if acc is not dst:
            np.copyto(dst, acc, casting="unsafe")


def _divisor(counts, dtype):
    # One divisor for every window (no padding, or PyTorch's count): a
    # scalar divide is one fast pass.
    if (counts == counts.flat[0]).all():
        return dtype.type(counts.flat[0])
    return counts.astype(dtype)[:, :, None]


def _pool_rows(reduce, start, x, rows, k, stride, dilation, top):
    """``rows[:, r]`` = reduction of input rows ``r * stride + i *
    dilation - top``."""
    taps = axis_taps(x.shape[1], k, rows.shape[1], stride, dilation, top)
    reduce_taps(reduce, start, taps, rows, rows.shape[1],
                lambda ro, ri: (rows[:, ro], x[:, ri]))


def _pool_cols(reduce, start, rows, out, k, stride, dilation, left):
    """``out[:, :, c]``: reduction of ``rows[:, :, c * stride + j *
    dilation - left]``."""
    taps = axis_taps(rows.shape[2], k, out.shape[2], stride, dilation,
                     left)
    if out.shape[3] * out.itemsize >= _SHORT_PIXEL:
        reduce_taps(reduce, start, taps, out, out.shape[2],
                    lambda co, ci: (out[:, :, co], rows[:, :, ci]))
        return
    # Few channels: iterate channel-major (order='C' on a transposed view)
    # so that NumPy's inner loop runs along the row, not over 3 channels.
    reduce_taps(reduce, start, taps, out, out.shape[2],
                lambda co, ci: (out[:, :, co].transpose(3, 0, 1, 2),
                                rows[:, :, ci].transpose(3, 0, 1, 2)),
                order="C")


# Pixels of at least _SHORT_PIXEL and under this many bytes, at a column
# stride of 2 or more, are pooled along columns by ``_shifted_cols``.
_LONG_PIXEL = 256


def _shifted_cols(reduce, rows, out, k, stride, dilation, left, scratch):
    """The column pass as contiguous passes and one gather, where it pays:
    returns False (nothing done) where it does not apply.

    With a column stride, the strided views of ``_pool_cols`` give NumPy
    inner loops of one pixel (C cells).  Instead, tap ``j`` is the whole
    rows buffer shifted by ``j * dilation`` pixels: one contiguous pass
    per tap (the first two fused) reduces every pixel's window, and the
    pixels the stride keeps are then copied out as whole pixels (an item
    of ``C * itemsize`` bytes).  Each kept cell reduces the same taps in
    the same order as ``_pool_cols``, so the bits are the same; the other
    windows (which may run past a row's end) are thrown away.  Measured
    on 32 rows of 64 pixels, 2x2/2, float32: 54 -> 26 us at 16 channels,
    30 -> 23 at 32, 21 -> 19 at 64, 43 -> 37 at 128, 38 -> 41 at 256; whole
    2x2/2 max pools in cache, one thread: 16 channels 0.38 -> 0.31 ms (2-D
    and 3-D), 64 and 128 channels no change.
    """
    b, r, w, c = rows.shape
    ow = out.shape[2]
    item = c * rows.itemsize
    if (stride < 2 or k < 2 or left or not _SHORT_PIXEL <= item < _LONG_PIXEL
            or (ow - 1) * stride + (k - 1) * dilation >= w
            or not rows.flags.c_contiguous or out.dtype != rows.dtype
            or out.strides[3] != out.itemsize):
        return False
    flat = rows.reshape(-1)
    reach = (k - 1) * dilation * c
    n = flat.size - reach
    whole = scratch.get("shifted", (flat.size,), rows.dtype)
    acc = whole[:n]
    reduce(flat[:n], flat[dilation * c:dilation * c + n], out=acc)
    for j in range(2, k):
        shift = j * dilation * c
        reduce(acc, flat[shift:shift + n], out=acc)
    pixels = np.dtype((np.void, item))
    kept = whole.reshape(b, r, w, c).view(pixels)[:, :, :(ow - 1) * stride
                                                  + 1:stride]
    np.copyto(out.view(pixels), kept)
    return True


def reduce_taps(reduce, start, taps, out, length, views, order="K"):
    """Reduce the taps' views into ``out`` along an axis of ``length``.

    Taps combine in their order, the first one copied in (or reduced
    with the second in one pass when both reach the same cells; no fill
    pass where it reaches) and the cells it misses set to ``start``.  Every
    output cell thus sums its taps in the same order however the batch is
    cut into blocks, so results do not depend on the thread count.  Taps
    wholly in the padding (None) contribute nothing.
    """
    taps = [t for t in taps if t is not None]
    if not taps:
        out.fill(start)
        return
    (first, source), rest = taps[0], taps[1:]
    dst, src = views(first, source)
    if rest and rest[0][0] == first:
        # The second tap reaches the same cells: one pass reduces both
        # (as a copy then a reduce would, in the accumulation dtype).
        reduce(src, views(*rest.pop(0))[1], out=dst, order=order,
               dtype=dst.dtype, casting="unsafe")
    else:
        _assign(reduce, dst, src, order)
    for missed in (slice(0, first.start), slice(first.stop, length)):
        if missed.stop > missed.start:
            views(missed, missed)[0].fill(start)
    for span in rest:
        dst, src = views(*span)
        reduce(dst, src, out=dst, order=order, casting="unsafe")


def _assign(reduce, dst, src, order):
    # np.copyto has no ``order``; a ufunc that returns its input keeps the
    # long inner loops of the channel-major iteration.
    if order == "K":
        np.copyto(dst, src, casting="unsafe")
    elif reduce is np.maximum:
        np.maximum(src, src, out=dst, order=order, casting="unsafe")
    else:
        np.positive(src, out=dst, order=order, casting="unsafe")
