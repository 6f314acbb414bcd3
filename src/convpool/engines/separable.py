"""Separable kernels: a (KH, KW) kernel equal to ``outer(col, row)`` is a
vertical pass with ``col`` then a horizontal pass with ``row``, ``KH + KW``
taps instead of ``KH * KW`` (a 5x5 Gaussian: 10 instead of 25; 31x31:
62 instead of 961).

``factorise`` decides whether a kernel is separable: it must be
reproduced by the factors, rounded to the compute dtype, to within
``SEPARABLE_ULPS`` units of the dtype's precision of the kernel's largest
entry.  A kernel that is separable but for a perturbation larger than that
is not, and takes another path.

At stride 1 the vertical pass of a finite picture is one batched BLAS
product per band (``_ColumnPass``) rather than ``KH`` axpy passes.
"""

import numpy as np

from ._blas import grained_matmul
from ._picture import all_finite, padded_index, runs, WeightedPass
from .tiled import BLOCK_ROWS, run_bands, write_rows

__all__ = ["factorise", "filter_separable", "SEPARABLE_ULPS"]

# Rounding the factors to the dtype already costs about 1.5 ulp of an
# entry; 4 leaves room for the kernel's own rounding and nothing more.
SEPARABLE_ULPS = 4


def factorise(kernel, dtype=None):
    """``(col, row)`` in ``dtype`` with ``outer(col, row)`` equal to
    ``kernel`` to the dtype's precision, or None.

    Two candidates are tried: the cross through the largest entry (its
    column, and its row divided by it), which reproduces an exactly
    rank-1 kernel to an ulp even when the singular value is large (a
    201x201 box), then, for kernels the cross nearly reproduces, the
    leading singular pair (SVD).  Kernels with a
    non-finite entry, one row or one column are not factorised.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([1.0, 2.0, 1.0])
    >>> col, row = factorise(np.outer(g, g))
    >>> bool(np.allclose(np.outer(col, row), np.outer(g, g)))
    True
    >>> factorise(np.eye(3)) is None
    True
    """
    k = np.asarray(kernel)
    dtype = np.dtype(dtype or (k.dtype if k.dtype.kind == "f" else "f8"))
    k = k.astype(np.float64)
    if k.ndim != 2 or min(k.shape) < 2 or not np.all(np.isfinite(k)):
        return None
    top = np.max(np.abs(k))
    if top == 0:
        return None
    tol = SEPARABLE_ULPS * np.finfo(dtype).eps * top
    best = None
    for make in (_cross, _svd):
        col, row = make(k)
        col, row = col.astype(dtype), row.astype(dtype)
        err = np.max(np.abs(np.outer(col.astype(np.float64),
                                     row.astype(np.float64)) - k))
        if err <= tol and (best is None or err < best[0]):
            best = (err, col, row)
        if best is not None or err > NEAR_RANK1 * tol:
            # Far from rank 1: the SVD (O(K^3): 0.1 s at 201x201) cannot
            # help.
            break
    return None if best is None else best[1:]


# The cross misses the tolerance by at most this factor on kernels that
# are rank 1 up to rounding (then the SVD's factors are tried too).
NEAR_RANK1 = 1000


def _cross(k):
    p, q = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    return k[:, q], k[p] / k[p, q]


def _svd(k):
    u, s, vt = np.linalg.svd(k, full_matrices=False)
    scale = np.sqrt(s[0])
    return u[:, 0] * scale, vt[0] * scale


def filter_separable(planes, col, row, out, stride, pads, mode, threads):
    """Correlate every channel of ``planes`` (H, W, C) with
    ``outer(col, row)`` into ``out`` (OH, OW, C): per L2-sized band of
    rows, ``KH`` vertical passes then ``KW`` horizontal ones, each one
    contiguous multiply-add over all channels when the stride is 1."""
    dtype = col.dtype
    kh, kw = len(col), len(row)
    sh, sw = stride
    step = WeightedPass(dtype)

    def compute(flat, band, dst, scratch):
        rows, ow, c = dst.shape
        wp = band.shape[1]
        line = wp * c
        vert = scratch.get("vert", (-(-rows // block) * block * line
                                    + (kw - 1) * c,), dtype)
        tmp = scratch.get("tmp", (rows * line,), dtype)
        if columns is not None:
            columns(flat, line, rows, vert)
        elif sh == 1:
            terms = [(col[i], flat[i * line:(i + rows) * line])
                     for i in range(kh)]
            step(vert[:rows * line], terms, tmp)
        else:
            terms = [(col[i], band[i:i + (rows - 1) * sh + 1:sh])
                     for i in range(kh)]
            step(vert[:rows * line].reshape(rows, wp, c), terms, tmp)
        vert[rows * line:] = 0
        if sw == 1:
            # The band is spent: its buffer takes the horizontal result.
            acc = flat[:rows * line]
            terms = [(row[j], vert[j * c:j * c + rows * line])
                     for j in range(kw)]
        else:
            acc = flat[:rows * ow * c].reshape(rows, ow, c)
            v = vert[:rows * line].reshape(rows, wp, c)
            terms = [(row[j], v[:, j:j + (ow - 1) * sw + 1:sw])
                     for j in range(kw)]
        step(acc, terms, tmp)
        write_rows(acc, dst, wp, (sh, sw))
    # One choice for the whole picture, so that the bits do not depend on
    # how it is cut into bands (on ``threads``).
    columns = (_ColumnPass(col) if sh == 1 and all_finite(planes)
               else None)
    block = 1 if columns is None else BLOCK_ROWS
    unpadded = _unpadded(planes, col, row, out, stride, pads, mode, step,
                         columns)
    run_bands(planes, out, (kh, kw), stride, pads, mode, threads, dtype,
              compute, unpadded=unpadded, block=block)


class _ColumnPass:
    """The vertical pass at stride 1 as one batched BLAS product: for
    every block of ``BLOCK_ROWS`` output rows, ``T (M, M + KH - 1) @ rows
    (M + KH - 1, line)``, ``T`` holding ``col`` on its diagonals and
    ``rows`` the input rows read in place.  It reads the input about
    twice and writes once, where ``KH`` axpy passes read and write
    ``KH`` times.  Only for finite pictures (the zeros of ``T`` would
    turn an inf into NaN); every output row takes the same product shape
    and the same row of ``T`` (bands start at multiples of
    ``BLOCK_ROWS``), so the bits do not depend on the bands.
    """

    def __init__(self, col):
        kh = len(col)
        m = BLOCK_ROWS
        self.mat = np.zeros((m, m + kh - 1), col.dtype)
        for r in range(m):
            self.mat[r, r:r + kh] = col

    def rows_read(self, rows):
        """Input rows a call for ``rows`` output rows reads."""
        m, k = self.mat.shape
        return -(-rows // m) * m + k - m

    def __call__(self, src, line, rows, dst):
        """``dst[:rows * line]`` (and up to the next whole block) from
        the flat input rows ``src`` (``rows_read(rows)`` rows of
        ``line`` items)."""
        m, k = self.mat.shape
        nb = -(-rows // m)
        it = src.itemsize
        view = np.lib.stride_tricks.as_strided(
            src, (nb, k, line), (m * line * it, line * it, it),
            writeable=False)
        # Bands may read the picture in place (``line`` its width) or
        # padded (wider): each column's bits must not depend on which.
        grained_matmul(self.mat, view, dst[:nb * m * line].reshape(
            nb, m, line))


def _unpadded(planes, col, row, out, stride, pads, mode, step,
              columns=None):
    """The band filter that reads the picture's rows in place and writes
    the output rows in place, or None when the call does not allow it.

    Needs stride 1, a C-contiguous picture and output in the compute
    dtype, and an output as wide as the picture.  The vertical pass reads
    ``KH`` contiguous runs of the picture; the horizontal pass runs over
    the whole band as one vector, which is right except in the ``KW - 1``
    border columns, where a row's taps run into its neighbour row: those
    are recomputed from a small strip padded by ``mode``.  This saves
    filling a padded band and copying the result out: 2 of 12 passes for
    a 5x5 kernel.
    """
    h, w, c = planes.shape
    kh, kw = len(col), len(row)
    dtype = col.dtype
    left, right = pads[1]
    if (tuple(stride) != (1, 1) or planes.dtype != dtype
            or out.dtype != dtype or not planes.flags.c_contiguous
            or not out.flags.c_contiguous or out.shape[1] != w
            or left + right != kw - 1 or w < 2 * kw):
        return None
    flat = planes.reshape(-1)
    line = w * c
    cols = padded_index(w, left, right, mode)
    edges = [(0, left), (w - right, w)]
    strips = [(q0, q1, runs(cols[q0:q1 + kw - 1])) for q0, q1 in edges
              if q1 > q0]

    def band(r0, r1, s0, scratch):
        rows = r1 - r0
        size = rows * line
        if columns is not None and s0 + columns.rows_read(rows) > h:
            return False    # the products' last block reads past the end
        whole = -(-rows // BLOCK_ROWS) * BLOCK_ROWS * line
        vbuf = scratch.get("vbuf", (left * c + max(size, whole)
                                    + (kw - 1) * c,), dtype)
        vbuf[:left * c] = 0
        vert = vbuf[left * c:left * c + size]
        tmp = scratch.get("tmp", (size,), dtype)
        if columns is not None:
            columns(flat[s0 * line:], line, rows, vbuf[left * c:])
        else:
            step(vert, [(col[i], flat[(s0 + i) * line:(s0 + i + rows)
                                      * line]) for i in range(kh)], tmp)
        vbuf[left * c + size:] = 0
        dst = out[r0:r1]
        step(dst.reshape(-1), [(row[j], vbuf[j * c:j * c + size])
                               for j in range(kw)], tmp)
        v = vert.reshape(rows, w, c)
        for q0, q1, strip_runs in strips:
            _border_strip(v, strip_runs, row, dst[:, q0:q1], step, scratch)
        return True
    return band


def _border_strip(vert, strip_runs, row, dst, step, scratch):
    """The horizontal pass of a few border columns ``dst`` (rows, n, C)
    from their padded strip of the vertical result, run as the padded
    route runs it: one flat contiguous pass per tap (the last ``KW - 1``
    columns of every row garbage), so that the same BLAS calls give the
    same bits whichever route a band takes."""
    rows, n, c = dst.shape
    kw = len(row)
    width = n + kw - 1
    size = rows * width * c
    flat = scratch.get("strip", (size + (kw - 1) * c,), dst.dtype)
    flat[size:] = 0
    strip = flat[:size].reshape(rows, width, c)
    for d0, d1, t0, t1 in strip_runs:
        strip[:, d0:d1] = 0 if t0 < 0 else vert[:, t0:t1]
    acc = scratch.get("sacc", (size,), dst.dtype)
    step(acc, [(row[j], flat[j * c:j * c + size]) for j in range(kw)],
         scratch.get("stmp", (size,), dst.dtype))
    dst[...] = acc.reshape(rows, width, c)[:, :n]
