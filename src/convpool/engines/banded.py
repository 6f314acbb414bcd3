"""Convolution as banded matrix products: BLAS reads the frame in place.

Along a row, ``T`` neighbouring outputs read ``(T - 1) * sw + (KW - 1) *
dw + 1`` neighbouring input pixels, so with one frame row as a vector the
``T * F`` outputs are that vector times one banded (Toeplitz) matrix per
kernel row ``i``.  The same band serves every tile of ``T`` columns and
every row, so a block is ``KH`` batched BLAS products of the frame's rows
(every ``sh``-th row from row ``i * dh``: a strided view) with no window
matrix gathered at all: BLAS packs its operands from the frame itself.

``T`` is chosen so that the product has about ``_TILE_COLUMNS`` columns:
with many filters ``T = 1`` and the band is the kernel row itself (no
wasted flops); with few, the band's zeros waste ``(T - 1) * sw / KW`` of
the flops, which BLAS still runs far faster than NumPy gathers small
windows.  Measured against gathering the window matrix: 1.3-1.7x faster
on one thread, and it scales with threads as BLAS does.

The band's zeros meet every input pixel, and ``0 * inf`` is NaN: when
the band has such zeros (``T > 1`` or dilated columns, see
``has_structural_zeros``) the engine runs only on finite inputs; the
planner sends the others to a gathering engine, which multiplies each
pixel only by its own weights, as PyTorch does.
"""

import numpy as np

from ..windows import window_view
from ._frames import FrameGeometry, fill_frame
from .base import matmul_rows, product_height, write_out

__all__ = ["Banded", "tile_width", "has_structural_zeros"]

# Columns of each product (T * F): BLAS wants a dozen or more, wider
# tiles waste more flops in the band (measured best 12-16 on RGB).
_TILE_COLUMNS = 16


class Banded:
    """The banded engine for one call (one group); ``run`` per block."""

    def __init__(self, w, stride, dilation, groups, bias):
        self.w, self.stride, self.dilation = w, stride, dilation
        self.f, self.dtype, self.bias = w.shape[3], w.dtype, bias
        self._layouts = {}
        self._bands = {}

    def layout(self, out_hw):
        """(T, tiles, frame geometry) for a block of ``out_hw`` outputs.

        The frame is the stride-1 padded input the block reads, widened so
        that the last tile fits and heightened to a multiple of ``sh`` so
        that output rows of consecutive images are evenly spaced."""
        if out_hw not in self._layouts:
            kh, kw = self.w.shape[:2]
            (sh, sw), (dh, dw) = self.stride, self.dilation
            rows, ow = out_hw
            t = tile_width(ow, self.f)
            tiles = -(-ow // t)
            hq = -(-((rows - 1) * sh + (kh - 1) * dh + 1) // sh) * sh
            wq = (tiles * t - 1) * sw + (kw - 1) * dw + 1
            geom = FrameGeometry((kh, kw), (hq - (kh - 1) * dh,
                                            wq - (kw - 1) * dw),
                                 (1, 1), self.dilation)
            self._layouts[out_hw] = t, tiles, geom
        return self._layouts[out_hw]

    def budget(self, ow):
        """Scratch bytes per block.  With one pixel per tile (many
        filters) BLAS's packed operands and the partial sums compete for
        cache past about 512 KiB (measured on 32 and 64 channels); with
        several (few filters) the products are small and fewer, bigger
        blocks win (measured on RGB)."""
        t = self.layout((1, ow))[0]
        return 1 << 19 if t == 1 else 1 << 20

    def row_bytes(self, c, ow):
        """Scratch bytes per output row: frame rows, product, partial sum."""
        t, tiles, geom = self.layout((1, ow))
        per_out_row = self.stride[0] * geom.shape[1] * c
        return (per_out_row + 2 * tiles * t * self.f) * self.dtype.itemsize

    def band(self, t):
        """(KH, span * C, T * F): kernel row ``i`` as a banded matrix."""
        if t not in self._bands:
            kh, kw, c, f = self.w.shape
            sw, dw = self.stride[1], self.dilation[1]
            span = (t - 1) * sw + (kw - 1) * dw + 1
            band = np.zeros((kh, span, c, t, f), self.dtype)
            for col in range(t):
                for j in range(kw):
                    band[:, col * sw + j * dw, :, col] = self.w[:, j]
            self._bands[t] = band.reshape(kh, span * c, t * f)
        return self._bands[t]

    def height(self, band, c, ow):
        """Rows per BLAS product: ``product_height``, but no more than the
        output rows of a band on one thread.  When an image is cut into
        bands (wide layers: W5's 56x56x64 gives 12-row bands), each
        band's product is then whole instead of a zero-padded 16-row tail
        copied in and out (measured W5, 2 threads: 0.132 -> 0.098 s; 0.106
        before fixed heights).  The height comes from the one-thread
        budget, a function of the per-image problem; threads only give
        bands more rows, so the height, and the bits, do not depend on
        them."""
        rows = max(1, self.budget(ow) // self.row_bytes(c, ow))
        return min(product_height(band.shape[1], band.shape[2]), rows)

    def run(self, x, dst, pads, scratch):
        """Write the convolution of block ``x`` (b, H, W, C) into ``dst``
        (b, rows, OW, F); ``pads`` are the block's own (``band_pads``)."""
        b, c = x.shape[0], x.shape[3]
        t, tiles, geom = self.layout(dst.shape[1:3])
        band = self.band(t)
        height = self.height(band, c, dst.shape[2])
        out_rows = geom.shape[0] // self.stride[0]  # per image, evenly spaced
        # Product rows: the block's, rounded up to whole products over
        # the frame's zero rows (no tail product to pad: ``matmul_rows``).
        m = -(-((b - 1) * out_rows + dst.shape[1]) // height) * height
        frame, windows = scratch.memo(
            ("banded", b, m, geom.shape, c, t, band.shape, self.stride),
            lambda s: self._frame(s, b, geom, c, t, band, m))
        images = b * geom.shape[0]
        fill_frame(frame[:images].reshape((b,) + geom.shape + (c,)), x,
                   geom, (0, 0), pads)
        # Zero rows pad the last product.  Every block zeroes them: blocks
        # of other shapes share the buffer (results from these rows are
        # thrown away, but they stay zero, and finite).
        frame[images:] = 0
        width = tiles * t * self.f
        acc = scratch.get("acc", (max(m, b * out_rows), width), self.dtype)
        part = scratch.get("part", (m, width), self.dtype)
        sh, dh = self.stride[0], self.dilation[0]
        for i in range(band.shape[0]):
            a = windows[i * dh::sh][:m, :tiles].transpose(1, 0, 2)
            out = acc[:m] if i == 0 else part
            matmul_rows(a, band[i], out.reshape(m, tiles, -1).transpose(
                1, 0, 2), scratch, height)
            if i:
                np.add(acc[:m], part, out=acc[:m])
        valid = acc[:b * out_rows].reshape(b, out_rows, tiles * t, self.f)[
            :, :dst.shape[1], :dst.shape[2]]
        write_out(valid, dst, self.bias)

    def _frame(self, scratch, b, geom, c, t, band, m):
        """This worker's frame for blocks of ``b`` images, as (rows, Wq *
        C), and its tiles: tile n of output row r is the band's span of
        frame row r * sh + i * dh, from pixel n * T * sw on.

        The frame is filled even when the block is a plain view of the
        caller's rows (valid, stride 1): the products read each row once
        per tile and kernel row, in short strided runs, and from a frame
        just written they find it in cache (W3, 2 threads: 0.100 ->
        0.075 s; a view was read from memory ``tiles * KH`` times)."""
        hq, wq = geom.shape
        (sh, sw), dh = self.stride, self.dilation[0]
        rows = max(b * hq, (m - 1) * sh + (self.w.shape[0] - 1) * dh + 1)
        frame = scratch.get("frame", (rows, wq * c), self.dtype)
        windows = window_view(frame, (band.shape[1],), (1,),
                              stride=(t * sw * c,))
        return frame, windows


def tile_width(ow, f):
    """``T``, output pixels per tile: about ``_TILE_COLUMNS`` product
    columns (``T * F``), and evenly many tiles per row."""
    tiles = max(1, round(ow * f / _TILE_COLUMNS))
    return -(-ow // min(tiles, ow))


def has_structural_zeros(problem):
    """Whether the band holds zeros that are not kernel weights (several
    pixels per tile, or dilated columns): those meet every input pixel."""
    return (tile_width(problem.out_width, problem.filters) > 1
            or problem.dilation[1] > 1)
