"""Cache-tiled tap passes for one picture (the ``tiled`` filter path), and
the band driver the ``separable`` path shares.

The output is cut into bands of rows.  Each band's padded input (any
NumPy pad mode) is filled into a per-thread scratch buffer of about
``BAND_BYTES``, small enough to stay in L2, and every kernel tap is then
one contiguous multiply-add over the band, all channels at once: with
interleaved channels, tap ``(i, j)`` of a flat band is the slice starting
at ``(i * Wp + j) * C``.  The picture is read once and the output written
once, whatever the number of taps.

At stride 1 a finite picture goes faster as BLAS products
(``_ColumnProducts``): per kernel column, one batched product of a small
banded matrix with blocks of 4 band rows read in place, ``KW`` products
instead of ``KH * KW`` passes (W13, 4096x4096x3 float32 random 5x5 on 2
threads: 283 -> 200 ms, interleaved medians on a noisy shared machine).
"""

import numpy as np

from ._blas import one_blas_thread
from ._parallel import quiet, run_blocks
from ._picture import (all_finite, band_rows, fill_padded, padded_index,
                       runs, WeightedPass)

__all__ = ["filter_tiled", "run_bands", "BAND_BYTES"]

# Padded input bytes per band.  Measured on 4096x4096x3 float32 5x5, 2
# threads (min of 4, shared machine): separable 94 / 100 / 64 / 64 / 88 ms
# and tiled 200 / 160 / 107 / 114 / 212 ms at 256 KiB / 1 / 2 / 4 / 8 MiB.
# Smaller bands lose more to per-call overhead and to the two threads
# handing the GIL back and forth than they gain from L2 (1 MiB a core).
BAND_BYTES = 2 << 20


def run_bands(planes, out, window, stride, pads, mode, threads, dtype,
              compute, budget=BAND_BYTES, unpadded=None, block=1):
    """Fill each band's padded input and hand it to ``compute(flat, band,
    dst, scratch)``.

    ``unpadded(r0, r1, s0, scratch)``, if given, is tried first on bands
    whose input rows are the picture's own rows ``s0:`` (no top or bottom
    border): it filters the band straight from the picture, skipping the
    fill, and returns False when it cannot.

    ``band`` is (rows, Wp, C) in ``dtype``; ``flat`` is the same memory as
    one vector followed by ``(KW - 1) * C`` zeros, so that every tap slice
    of length ``out_rows * Wp * C`` stays inside it, and by ``block - 1``
    rows of zeros; ``dst`` is the band's output rows of ``out``.  Bands
    start at multiples of ``block`` output rows.
    """
    h, w, c = planes.shape
    kh, kw = window
    sh, sw = stride
    oh, ow = out.shape[:2]
    rows = padded_index(h, *pads[0], mode)
    cols = padded_index(w, *pads[1], mode)[:(ow - 1) * sw + kw]
    wp = len(cols)
    cols = runs(cols)
    row_bytes = wp * c * np.dtype(dtype).itemsize * sh
    blocks = [(r0, r1, 0, 0)
              for r0, r1 in band_rows(oh, row_bytes, kh, threads, budget,
                                      block)]

    def work(r0, r1, _c0, _c1, scratch):
        n_in = (r1 - r0 - 1) * sh + kh
        if unpadded is not None:
            own = rows[r0 * sh:r0 * sh + n_in]
            if (own[0] >= 0 and own[-1] - own[0] == n_in - 1
                    and np.all(np.diff(own) == 1)
                    and unpadded(r0, r1, int(own[0]), scratch)):
                return
        size = n_in * wp * c
        flat = scratch.get("band", (size + (kw - 1) * c
                                    + (block - 1) * wp * c,), dtype)
        band = flat[:size].reshape(n_in, wp, c)
        fill_padded(planes, rows[r0 * sh:r0 * sh + n_in], cols, band)
        flat[size:] = 0
        compute(flat, band, out[r0:r1], scratch)

    if oh == 0 or ow == 0:
        return
    # One BLAS thread even for a single convpool thread: OpenBLAS threads
    # its axpy above some length, and a pass over an L2-sized band split
    # across cores measured 10-70x slower (50M float32 in 32K-128K calls,
    # shared machine) than on one.
    with one_blas_thread():
        run_blocks(work, blocks, threads, context=quiet)


def tap_views(flat, band, window, stride, out_hw, skip=()):
    """``(tap weight index, source)`` for every tap, as a flat slice of
    ``out_rows * Wp * C`` (stride 1: one contiguous pass, the last
    ``KW - 1`` columns of every row garbage) or a strided (rows, OW, C)
    view."""
    kh, kw = window
    sh, sw = stride
    rows, ow = out_hw
    n_in, wp, c = band.shape
    views = []
    for i in range(kh):
        for j in range(kw):
            if (i, j) in skip:
                continue
            if stride == (1, 1):
                start = (i * wp + j) * c
                views.append(((i, j), flat[start:start + rows * wp * c]))
            else:
                views.append(((i, j), band[i:i + (rows - 1) * sh + 1:sh,
                                           j:j + (ow - 1) * sw + 1:sw]))
    return views


def write_rows(acc, dst, wp, stride):
    """Copy the valid columns of an accumulator into the output rows."""
    rows, ow, c = dst.shape
    if stride[1] == 1 and acc.ndim == 1:
        acc = acc[:rows * wp * c].reshape(rows, wp, c)[:, :ow]
    np.copyto(dst, acc, casting="unsafe")


def filter_tiled(planes, kernel, out, stride, pads, mode, threads):
    """Correlate every channel of ``planes`` (H, W, C) with ``kernel``
    (KH, KW, compute dtype) into ``out`` (OH, OW, C), the border by
    ``mode``: every tap one pass over an L2-sized band."""
    dtype = kernel.dtype
    step = WeightedPass(dtype)
    zeros = {(i, j) for i, j in zip(*np.nonzero(kernel == 0))}
    # One choice for the whole picture, so that the bits do not depend on
    # how it is cut into bands (on ``threads``).
    products = (_ColumnProducts(kernel) if tuple(stride) == (1, 1)
                and all_finite(planes) else None)

    def compute(flat, band, dst, scratch):
        rows, ow, c = dst.shape
        wp = band.shape[1]
        if products is not None:
            products(flat, wp, dst, scratch)
            return
        # A zero tap adds nothing unless an inf or NaN meets it.
        skip = zeros if zeros and np.isfinite(band.sum()) else ()
        views = tap_views(flat, band, kernel.shape, stride, (rows, ow), skip)
        shape = ((rows * wp * c,) if stride == (1, 1) else (rows, ow, c))
        acc = scratch.get("acc", shape, dtype)
        if not views:
            acc[...] = 0
        tmp = scratch.get("tmp", (acc.size,), dtype)
        step(acc, [(kernel[ij], src) for ij, src in views], tmp)
        write_rows(acc, dst, wp, stride)
    run_bands(planes, out, kernel.shape, stride, pads, mode, threads, dtype,
              compute, block=BLOCK_ROWS if products is not None else 1)


# Output rows per block of the column products: 4 measured fastest (one
# 4096x4096x3 float32 band of 160 rows, 5x5 kernel, one thread, shared
# machine: 2 / 4 / 8 rows 18 / 14 / 31 ms, 25 axpy passes 28 ms).
BLOCK_ROWS = 4


class _ColumnProducts:
    """Stride-1 tiled filtering as one batched BLAS product per kernel
    column ``j``: for every block of ``BLOCK_ROWS`` output rows,
    ``T_j (M, M + KH - 1) @ rows (M + KH - 1, OW * C)``, ``T_j`` holding
    column ``j`` of the kernel on its diagonals, ``rows`` the band's rows
    read in place (a strided view starting ``j * C`` items in).  Each
    product reads the band about twice and writes once, where ``KH``
    axpy passes read it ``KH`` times and read and write the output ``KH``
    times.  The zeros of ``T_j`` add exact zeros to finite sums (a
    picture with an inf or NaN takes the tap passes); every output is the same
    sequence of operations whichever block or band holds it, so the bits
    do not depend on ``threads``.
    """

    def __init__(self, kernel):
        self.kernel = kernel
        self.mats = {}

    def _matrices(self, m):
        if m not in self.mats:
            kh, kw = self.kernel.shape
            mats = np.zeros((kw, m, m + kh - 1), self.kernel.dtype)
            for r in range(m):
                mats[:, r, r:r + kh] = self.kernel.T
            self.mats[m] = mats
        return self.mats[m]

    def __call__(self, flat, wp, dst, scratch):
        rows, ow, c = dst.shape
        kh, kw = self.kernel.shape
        dtype = self.kernel.dtype
        it = dtype.itemsize
        line = wp * c
        m = BLOCK_ROWS
        nb = -(-rows // m)
        # Whole blocks only (the band has m - 1 zero rows beyond its
        # end): one product shape, hence the same bits, for every output.
        in_place = (nb * m == rows and dst.flags.c_contiguous
                    and dst.dtype == dtype)
        target = (dst.reshape(nb, m, ow * c) if in_place else
                  scratch.get("acc", (nb, m, ow * c), dtype))
        tmp = scratch.get("prod", (nb, m, ow * c), dtype)
        mats = self._matrices(m)
        for j in range(kw):
            src = np.lib.stride_tricks.as_strided(
                flat[j * c:], (nb, m + kh - 1, ow * c),
                (m * line * it, line * it, it), writeable=False)
            np.matmul(mats[j], src, out=target if j == 0 else tmp)
            if j:
                np.add(target, tmp, out=target)
        if not in_place:
            np.copyto(dst, target.reshape(nb * m, ow, c)[:rows],
                      casting="unsafe")
