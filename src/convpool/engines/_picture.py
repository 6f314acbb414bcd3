"""Shared pieces of the single-picture filter paths (``tiled``,
``separable``, ``fft``): which input cell every padded position repeats,
filling a padded band or tile of the picture into scratch, and one
weighted pass ``dst (+)= w * src``.

A picture is (H, W, C) with interleaved channels.  The paths treat a
padded band of rows as one flat vector, so that every kernel tap is one
contiguous multiply-add over all channels at once (offset ``j * C`` for
column tap ``j``): no de-interleaving, no per-row calls.
"""

import numpy as np

from ._blas import axpy_function

__all__ = ["padded_index", "fill_padded", "runs", "WeightedPass",
           "band_rows", "all_finite"]


def padded_index(n, lo, hi, mode):
    """For each of the ``lo + n + hi`` padded positions along an axis, the
    input cell it repeats (``np.pad``'s rule), or -1 for a zero
    (``mode='constant'``)."""
    if mode == "constant":
        idx = np.arange(-lo, n + hi)
        idx[(idx < 0) | (idx >= n)] = -1
        return idx
    return np.pad(np.arange(n), (lo, hi), mode=mode)


def fill_padded(planes, rows, cols, dst):
    """Write padded rows ``rows`` and columns ``cols`` of ``planes`` (H, W,
    C) into ``dst`` (len(rows), len(cols), C), casting to ``dst``'s dtype.

    ``rows`` and ``cols`` are index arrays from ``padded_index``, or their
    ``runs`` (computed once per call for the columns).  Runs of
    consecutive input cells are copied by slicing (the interior is one
    run), the border a run at a time: nothing the size of the picture is
    allocated.
    """
    col_runs = cols if isinstance(cols, list) else runs(cols)
    row_runs = rows if isinstance(rows, list) else runs(rows)
    for d0, d1, s0, s1 in row_runs:
        target = dst[d0:d1]
        if s0 < 0:
            target[...] = 0
            continue
        src = planes[s0:s1]
        for e0, e1, t0, t1 in col_runs:
            if t0 < 0:
                target[:, e0:e1] = 0
            else:
                target[:, e0:e1] = src[:, t0:t1]


def runs(idx):
    """Split an index array into ``(d0, d1, s0, s1)`` runs: positions
    ``d0:d1`` read input cells ``s0:s1`` (consecutive, ascending), or are
    zeros (``s0 = s1 = -1``).  Border runs are short; the interior is one."""
    idx = np.asarray(idx)
    if len(idx) == 0:
        return []
    zero = idx < 0
    cont = (((idx[1:] == idx[:-1] + 1) & ~zero[:-1])
            | (zero[1:] & zero[:-1]))
    starts = np.concatenate(([0], np.nonzero(~cont)[0] + 1))
    ends = np.concatenate((starts[1:], [len(idx)]))
    return [(int(a), int(b), -1, -1) if zero[a] else
            (int(a), int(b), int(idx[a]), int(idx[b - 1]) + 1)
            for a, b in zip(starts, ends)]


# Output rows per band at least this many times the ``reach - 1`` rows
# each band re-reads from its neighbour.
OVERLAP_SHARE = 4


def band_rows(out_rows, row_bytes, reach, threads, budget, block=1):
    """Output row bands ``(r0, r1)``: each band's padded input (``row_bytes``
    per row, ``reach - 1`` extra rows) near ``budget`` bytes, but at least
    ``4 * (reach - 1)`` output rows so the overlap stays a small share, and
    at least one band per thread.  Every band but the last has a multiple
    of ``block`` rows."""
    per = max(1, budget // max(1, row_bytes) - (reach - 1))
    per = max(per, OVERLAP_SHARE * (reach - 1), 1)
    per = min(per, max(1, -(-out_rows // threads)))
    per = -(-per // block) * block
    return [(r, min(r + per, out_rows)) for r in range(0, out_rows, per)]


class WeightedPass:
    """``dst = sum_t w_t * src_t``: the first term scales, the others add.

    Contiguous same-dtype float terms with a non-zero weight go through
    BLAS axpy (one pass instead of a multiply and an add); the rest through
    NumPy with a scratch product.  Zero weights are multiplied, not
    skipped, so that ``0 * inf`` is NaN as in the direct path.
    """

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.axpy = axpy_function(self.dtype)

    def __call__(self, dst, terms, tmp):
        first = True
        for w, src in terms:
            w = self.dtype.type(w)
            if first:
                np.multiply(src, w, out=dst)
                first = False
            elif (self.axpy is not None and w != 0
                  and dst.flags.c_contiguous and src.flags.c_contiguous
                  and src.dtype == self.dtype):
                self.axpy(dst.size, float(w), src.ctypes.data,
                          dst.ctypes.data)
            else:
                t = tmp[:dst.size].reshape(dst.shape)
                np.multiply(src, w, out=t)
                np.add(dst, t, out=dst)


# Bytes of picture checked at a time by ``all_finite``.
FINITE_CHUNK_BYTES = 1 << 20


def all_finite(planes):
    """True if ``planes`` (H, W, C) holds no inf or NaN; a chunk of rows at
    a time (no picture-sized mask), by its sum first (one fast pass; a sum
    that overflows is checked cell by cell).

    >>> all_finite(np.ones((4, 4, 1))), all_finite(np.full((4, 4, 1), np.nan))
    (True, False)
    """
    step = max(1, FINITE_CHUNK_BYTES // max(1, planes[:1].nbytes))
    for r in range(0, len(planes), step):
        chunk = planes[r:r + step]
        if not np.isfinite(chunk.sum()) and not np.isfinite(chunk).all():
            return False
    return True
