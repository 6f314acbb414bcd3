"""Convolution as banded matrix products: BLAS reads the frame in place.

Along a row, ``T`` neighbouring outputs read ``(T - 1) * sw + (KW - 1) *
dw + 1`` neighbouring input pixels, so with one frame row as a vector the
``T * F`` outputs are that vector times one banded (Toeplitz) matrix per
kernel row ``i``.  The same band serves every tile of ``T`` columns and
every row, so a block is ``KH`` batched BLAS products of the frame's rows
(every ``sh``-th row from row ``i * dh``: a strided view) with no window
matrix gathered at all: BLAS packs its operands from the frame itself.

With one input channel and more filters than kernel rows, a kernel row's
band is only ``span`` deep and the ``KH`` products are short products plus
``KH - 1`` passes adding up ``T * F`` columns.  There the block's frame
rows are first folded: row ``r`` of the folded frame holds, pixel by
pixel, the ``KH`` frame rows that output row ``r`` reads (``(Wq, KH)``:
the kernel rows become channels), and one product of depth ``span * KH``
does the whole kernel, reading each window in place as before.  The fold
is ``KH`` copies of the block into every ``KH``-th item, so it pays when
the filters (the columns whose adds it saves) outnumber the kernel rows
(the copies it makes).  Measured, engine='banded', one channel, 'same',
medians of 10 interleaved runs (folded / not, ms):

==============================  ======================
128x28x28, 5x5x1x6 (LeNet-5)     3.2 / 3.8 (0.85)
64x64x64, 5x5x1x8                7.7 / 8.8 (0.87)
64x64x64, 3x3x1x16               7.1 / 17.8 (0.40)
64x64x64, 7x7x1x32               29.7 / 59.9 (0.50)
32x128x128, 11x11x1x16           59.7 / 71.6 (0.83)
64x64x64, 5x5x1x5                6.7 / 6.1 (1.10)
64x64x64, 7x7x1x6                12.0 / 8.8 (1.36)
32x128x128, 11x11x1x8            37.4 / 33.0 (1.14)
16x256x256, 15x15x1x1            20.2 / 11.4 (1.78)
==============================  ======================

With several channels the copies cost more than they save (6 channels,
5x5x6x16: 1.9 -> 3.0 ms; 3x3x3x3 on 32x32x3: 17 -> 48 ms), so those
are not folded.

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

__all__ = ["Banded", "folds", "tile_width", "has_structural_zeros"]

# Columns of each product (T * F): BLAS wants a dozen or more, wider
# tiles waste more flops in the band (measured best 12-16 on RGB).
_TILE_COLUMNS = 16


class Banded:
    """The banded engine for one call (one group); ``run`` per block."""

    def __init__(self, w, stride, dilation, groups, bias):
        self.w, self.stride, self.dilation = w, stride, dilation
        self.f, self.dtype, self.bias = w.shape[3], w.dtype, bias
        # Fold the kernel rows into one product (module docstring).
        self.fold = folds(w.shape)
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
        """Scratch bytes per output row: frame rows, product and partial
        sum; or, folded, frame rows, folded rows and product.

        A block of ``R`` output rows of an image holds ``(R - 1) * sh +
        E`` frame rows (``E = (KH - 1) * dh + 1``) and, folded, ``R - 1 +
        ceil(E / sh)`` folded rows of ``KH`` frame rows each.  Folded
        blocks count the worst case (``R = 1``) for every row: with a
        kernel nearly as tall as the image, the folded rows are up to
        ``KH`` times the output rows, and counting ``sh`` frame rows per
        output row let a dense layer written as a 64x64 convolution use
        126 MiB."""
        t, tiles, geom = self.layout((1, ow))
        wq, sh = geom.shape[1], self.stride[0]
        width = tiles * t * self.f
        if not self.fold:
            return (sh * wq * c + 2 * width) * self.dtype.itemsize
        kh, dh = self.w.shape[0], self.dilation[0]
        extent = (kh - 1) * dh + 1
        frame = max(sh, extent) * wq * c
        folded = -(-extent // sh) * kh * wq * c
        return (frame + folded + width) * self.dtype.itemsize

    def band(self, t):
        """(KH, span * C, T * F): kernel row ``i`` as a banded matrix; or,
        folded, (1, span * KH * C, T * F), rows in the folded frame's
        (pixel, kernel row, channel) order."""
        if t not in self._bands:
            kh, kw, c, f = self.w.shape
            sw, dw = self.stride[1], self.dilation[1]
            span = (t - 1) * sw + (kw - 1) * dw + 1
            band = np.zeros((span, kh, c, t, f), self.dtype)
            for col in range(t):
                for j in range(kw):
                    band[col * sw + j * dw, :, :, col] = self.w[:, j]
            if self.fold:
                band = band.reshape(1, span * kh * c, t * f)
            else:
                band = band.transpose(1, 0, 2, 3, 4).reshape(
                    kh, span * c, t * f)
            self._bands[t] = np.ascontiguousarray(band)
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
        frame, folded, windows = scratch.memo(
            ("banded", b, m, geom.shape, c, t, band.shape, self.stride),
            lambda s: self._frame(s, b, geom, c, t, m))
        images = b * geom.shape[0]
        fill_frame(frame[:images].reshape((b,) + geom.shape + (c,)), x,
                   geom, (0, 0), pads)
        # Zero rows pad the last product.  Every block zeroes them: blocks
        # of other shapes share the buffer (results from these rows are
        # thrown away, but they stay zero, and finite).
        frame[images:] = 0
        width = tiles * t * self.f
        acc = scratch.get("acc", (max(m, b * out_rows), width), self.dtype)
        sh, dh = self.stride[0], self.dilation[0]
        if self.fold:
            # Folded row r: the KH frame rows that output row r reads.
            for i in range(self.w.shape[0]):
                np.copyto(folded[:, :, i], frame[i * dh::sh][:m].reshape(
                    folded[:, :, i].shape))
            matmul_rows(windows[:m, :tiles].transpose(1, 0, 2), band[0],
                        acc[:m].reshape(m, tiles, -1).transpose(1, 0, 2),
                        scratch, height)
        else:
            part = scratch.get("part", (m, width), self.dtype)
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

    def _frame(self, scratch, b, geom, c, t, m):
        """This worker's frame for blocks of ``b`` images, as (rows, Wq *
        C), the folded frame (``m``, Wq, KH, C) or None, and the tiles: tile
        n of output row r is the band's span of frame row r * sh + i * dh,
        from pixel n * T * sw on; folded, the span of folded row r (all KH
        kernel rows at once).

        The frame is filled even when the block is a plain view of the
        caller's rows (valid, stride 1): the products read each row once
        per tile and kernel row, in short strided runs, and from a frame
        just written they find it in cache (W3, 2 threads: 0.100 ->
        0.075 s; a view was read from memory ``tiles * KH`` times)."""
        hq, wq = geom.shape
        kh, kw = self.w.shape[:2]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        span = (t - 1) * sw + (kw - 1) * dw + 1
        rows = max(b * hq, (m - 1) * sh + (kh - 1) * dh + 1)
        frame = scratch.get("frame", (rows, wq * c), self.dtype)
        if not self.fold:
            return frame, None, window_view(frame, (span * c,), (1,),
                                            stride=(t * sw * c,))
        folded = scratch.get("folded", (m, wq, kh, c), self.dtype)
        return frame, folded, window_view(
            folded.reshape(m, -1), (span * kh * c,), (1,),
            stride=(t * sw * kh * c,))


def folds(shape):
    """Whether kernels of ``shape`` (KH, KW, C, F) fold their rows into
    one product: one input channel, more filters than kernel rows (see
    the module docstring)."""
    kh, _, c, f = shape
    return 1 < kh < f and c == 1


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
