"""im2col for few channels: gather the window matrix from channel-planar
frames, where every row of the matrix is one contiguous slice.

With 3 channels a window row of the NHWC input is 9 numbers, and gathering
the ``(positions, KH * KW * C)`` matrix costs one short copy per window
row (17 ns per output pixel measured on 32x32x3 images).  Here the block
is first copied into planar frames ``(C, b * Hq * Wq)`` (see ``_frames``:
each tap is then a flat shift), and row ``(i, j, c)`` of the transposed
matrix is ``plane_c[shift_ij : shift_ij + n]``: ``KH * KW * C`` long
contiguous copies per block.  The product ``matrix.T @ kernels`` gives
the output on the frame's grid, from which the valid cells are copied.
"""

import numpy as np

from ..windows import window_view
from ._frames import frame_geometry, fill_frame
from .base import matmul_rows, product_height, write_out

__all__ = ["Planar"]

BUDGET = 1 << 20


class Planar:
    """The planar im2col engine for one call; ``run`` is called per
    block."""

    def __init__(self, w, stride, dilation, groups, bias):
        kh, kw, cg, f = w.shape
        self.window, self.stride, self.dilation = (kh, kw), stride, dilation
        self.groups, self.cg, self.f = groups, cg, f
        self.dtype, self.bias = w.dtype, bias
        m = f // groups
        self.kernels = np.ascontiguousarray(
            w.reshape(kh * kw * cg, groups, m).transpose(1, 0, 2))
        self.height = product_height(kh * kw * cg, m)

    def budget(self, ow):
        return BUDGET

    def geometry(self, out_hw):
        return frame_geometry(self.window, out_hw, self.stride,
                              self.dilation)

    def row_bytes(self, c, ow):
        """Scratch bytes per output row: planar frames, the window matrix
        and the product, on the frame's ``Wq``-wide grid."""
        geom = self.geometry((1, ow))
        kh, kw = self.window
        cells = len(geom.phases) * c + kh * kw * c + self.f
        return cells * geom.shape[1] * self.dtype.itemsize

    def run(self, x, dst, pads, scratch):
        """Write the convolution of block ``x`` (b, H, W, C) into ``dst``
        (b, rows, OW, F); ``pads`` are the block's own (``band_pads``)."""
        b, c = x.shape[0], x.shape[3]
        geom = self.geometry(dst.shape[1:3])
        hq, wq = geom.shape
        n = geom.length(b)
        planes = {}
        for phase in geom.phases:
            frame = scratch.get(("planes", phase), (c, b, hq, wq),
                                self.dtype)
            fill_frame(frame.transpose(1, 2, 3, 0), x, geom, phase, pads)
            planes[phase] = frame.reshape(c, -1)
        groups, k, m = self.kernels.shape
        cols = scratch.get("cols", (groups, k, n), self.dtype)
        taps = cols.reshape((groups,) + self.window + (self.cg, n))
        for phase, (rows, cols_) in geom.grids.items():
            # Row (i, j, ch) of each group's matrix is one contiguous slice
            # of a plane; one strided view covers a phase's taps.
            part = taps[:, rows[0], cols_[0]]
            np.copyto(part, _tap_rows(planes[phase], geom, rows, cols_,
                                      part.shape))
        res = scratch.get("res", (b * hq * wq, groups, m), self.dtype)
        matmul_rows(cols.transpose(0, 2, 1), self.kernels,
                    res[:n].transpose(1, 0, 2), scratch, self.height,
                    column_major=True)
        write_out(geom.valid(res.reshape(-1, self.f), b), dst, self.bias)


def _tap_rows(planes, geom, rows, cols, shape):
    """View (groups, taps_i, taps_j, C/groups, n) of the shifted planes:
    tap (a, b) of a phase starts ``(qi + a * di) * Wq + qj + b * dj``
    into every plane."""
    (_, qi, di), (_, qj, dj) = rows, cols
    wq = geom.shape[1]
    groups, ti, tj, cg, n = shape
    start = planes.reshape(groups, cg, -1)[:, :, qi * wq + qj:]
    view = window_view(start, (ti, tj, n), (2, 2, 2),
                       dilation=(di * wq, dj, 1))
    return view[:, :, 0].transpose(0, 2, 3, 1, 4)
