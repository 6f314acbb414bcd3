"""im2col convolution: gather a block's windows into a matrix, then one BLAS
matmul per group.

Row ``(n, r, c)`` of the matrix holds window ``(r, c)`` of image ``n`` as
``KH * KW * C/groups`` numbers, so the product with the ``(KH * KW *
C/groups, F/groups)`` kernel matrix is the block's output.  BLAS does
``2 * K * F`` flops per gathered number.  Used for grouped convolutions
with several channels per group (one group goes to ``banded``, which needs
no gather) and for 1x1 kernels, whose matrix is the input itself.  Blocks
are sized (by the caller) so that the matrix stays in cache; no padded copy
of the input is made: cells of a window that fall in the padding are zeros
written straight into the matrix.
"""

import numpy as np

from ..windows import window_view
from ._windows import axis_taps
from .base import matmul_rows, product_height, write_out

__all__ = ["Im2col"]

BUDGET = 1 << 21


class Im2col:
    """The im2col engine for one call; ``run`` is called per block."""

    def __init__(self, w, stride, dilation, groups, bias):
        kh, kw, cg, f = w.shape
        self.window, self.stride, self.dilation = (kh, kw), stride, dilation
        self.groups, self.f, self.dtype, self.bias = groups, f, w.dtype, bias
        k, m = kh * kw * cg, f // groups
        self.kernels = np.ascontiguousarray(
            w.reshape(k, groups, m).transpose(1, 0, 2))
        self.height = product_height(k, m)

    def budget(self, ow):
        return BUDGET

    def row_bytes(self, c, ow):
        """Scratch bytes per output row: the window matrix and product."""
        kh, kw = self.window
        return ow * (kh * kw * c + self.f) * self.dtype.itemsize

    def run(self, x, dst, pads, scratch):
        """Write the convolution of block ``x`` (b, H, W, C) into ``dst``
        (b, rows, OW, F); ``pads`` are the block's own (``band_pads``)."""
        b, rows, ow = dst.shape[:3]
        groups, k, m = self.kernels.shape
        cols = self._as_matrix(x, rows, ow, pads)
        if cols is None:
            shape = ((groups, b, rows, ow) + self.window
                     + (x.shape[3] // groups,))
            cols = _gather(x, self.window, (rows, ow), pads, self.stride,
                           self.dilation, groups,
                           scratch.get("cols", shape, self.dtype))
        if (groups == 1 and dst.flags.c_contiguous
                and dst.dtype == self.dtype):
            # Straight into the output: no product buffer, no copy.
            matmul_rows(cols, self.kernels, dst.reshape(1, -1, m), scratch,
                        self.height)
            if self.bias is not None:
                write_out(dst, dst, self.bias)
            return
        res = scratch.get("res", (groups, b * rows * ow, m), self.dtype)
        matmul_rows(cols, self.kernels, res, scratch, self.height)
        res = res.transpose(1, 0, 2).reshape(b, rows, ow, self.f)
        write_out(res, dst, self.bias)

    def _as_matrix(self, x, rows, ow, pads):
        """A 1x1, stride-1, unpadded block's window matrix is its input:
        the (1, b * rows * W, C) view, when contiguous; else None."""
        (top, _), (left, _) = pads
        b, h, w, c = x.shape
        if (self.window != (1, 1) or self.stride != (1, 1)
                or self.groups != 1 or x.dtype != self.dtype or top > 0
                or left != 0 or ow != w or rows - top > h
                or (b > 1 and rows != h)):
            return None
        view = x[:, -top:rows - top]
        if not view.flags.c_contiguous:
            return None
        return view.reshape(1, -1, c)


def _gather(x, window, out_hw, pads, stride, dilation, groups, cols):
    """Fill ``cols`` (groups, b, rows, OW, KH, KW, C/groups) with the
    windows; return it as (groups, b * rows * OW, KH * KW * C/groups)."""
    b, h, wd, c = x.shape
    (kh, kw), (rows, ow) = window, out_hw
    cg = c // groups
    xg = x.reshape(b, h, wd, groups, cg).transpose(3, 0, 1, 2, 4)
    row_taps = axis_taps(h, kh, rows, stride[0], dilation[0], pads[0][0])
    runs = _window_runs(x, kw, stride[1], dilation[1], groups)
    left = pads[1][0]
    # Output columns whose whole window row lies inside the input.
    c0 = min(ow, left) if runs is not None else ow
    c1 = max(c0, min(ow, wd - kw + 1 + left)) if runs is not None else ow
    for i, rt in enumerate(row_taps):
        row = cols[:, :, :, :, i]
        if rt is None:
            row.fill(0)
            continue
        ro, ri = rt
        row[:, :, :ro.start] = 0
        row[:, :, ro.stop:] = 0
        if c1 > c0:
            # One copy of KW * C contiguous numbers per window row instead
            # of KW copies of C: 5x fewer inner loops for a 5x5 kernel.
            row[0, :, ro, c0:c1] = runs[:, ri, c0 - left:c1 - left]
        for lo, hi in ((0, c0), (c1, ow)):
            if hi > lo:
                _fill_taps(row[:, :, ro, lo:hi], xg[:, :, ri], kw,
                           stride[1], dilation[1], left - lo * stride[1])
    return cols.reshape(groups, b * rows * ow, kh * kw * cg)


def _window_runs(x, kw, stride, dilation, groups):
    """``runs[n, y, s]``: the KW pixels starting at column ``s`` of row
    ``y`` as one (KW, C) block, a view; None unless those are contiguous
    (stride and dilation 1, one group, channels contiguous)."""
    b, h, wd, c = x.shape
    item = x.itemsize
    if (stride != 1 or dilation != 1 or groups != 1 or wd < kw
            or x.strides[3] != item or x.strides[2] != c * item):
        return None
    return window_view(x, (kw,), (2,)).transpose(0, 1, 2, 4, 3)


def _fill_taps(row, xg, kw, stride, dilation, left):
    """Tap by tap: ``row`` (g, b, rows, cols, KW, C/g) from ``xg`` (g, b,
    rows, W, C/g), zeros where a tap reads padding."""
    cols = row.shape[3]
    for j, ct in enumerate(axis_taps(xg.shape[3], kw, cols, stride,
                                     dilation, left)):
        tap = row[:, :, :, :, j]
        if ct is None:
            tap.fill(0)
            continue
        co, ci = ct
        tap[:, :, :, :co.start] = 0
        tap[:, :, :, co.stop:] = 0
        tap[:, :, :, co] = xg[:, :, :, ci]
