"""The engine contract: the problem an engine is given, the protocol every
convolution engine implements, the one output writer, and BLAS products of
a fixed height.

An engine is built once per call from the weights (``w`` (KH, KW, C/g, F)
in the compute dtype), ``stride``, ``dilation``, ``groups`` and ``bias``,
then ``run`` once per block of the batch.  Which engine runs, and why, is
decided by :func:`convpool.engines.plan.plan_conv` from a
:class:`ConvProblem`: the per-image problem, never the batch size or the
thread count, so a result's bits do not depend on either.
"""

from typing import NamedTuple, Protocol

import numpy as np

from ._blas import widened

__all__ = ["ConvProblem", "ConvEngine", "write_out", "matmul_rows",
           "product_height"]


class ConvProblem(NamedTuple):
    """What a planner may look at: one image's problem."""

    window: tuple          # (KH, KW)
    channels: int          # input channels per group
    filters: int           # filters per group
    groups: int
    dtype: np.dtype        # compute dtype
    stride: tuple
    dilation: tuple
    out_width: int         # OW
    same_taps: bool        # each tap's weight is one number for all groups

    @classmethod
    def of(cls, w, stride, dilation, groups, out_width):
        kh, kw, cg, f = w.shape
        flat = w.reshape(kh * kw, -1)
        same = bool(flat.size == 0 or (flat == flat[:, :1]).all())
        return cls((kh, kw), cg, f // groups if groups else 0, groups,
                   w.dtype, tuple(stride), tuple(dilation), out_width,
                   same)

    @property
    def taps(self):
        return self.window[0] * self.window[1]


class ConvEngine(Protocol):
    """What every convolution engine implements (one instance per call)."""

    def __init__(self, w, stride, dilation, groups, bias):
        """Prepare the weights once for every block of the call."""

    def budget(self, ow):
        """Scratch bytes one block should use."""

    def row_bytes(self, c, ow):
        """Scratch bytes per output row of a block."""

    def run(self, x, dst, pads, scratch):
        """Write block ``x`` (b, H, W, C) into ``dst`` (b, rows, OW, F);
        ``pads`` are the block's own (``band_pads``); ``scratch`` is the
        worker's ``Scratch``."""


def write_out(result, dst, bias):
    """The one output writer: ``dst = result + bias``, cast to ``dst``'s
    dtype.  A float16 result that overflows becomes inf, as in PyTorch,
    without NumPy's warning (the caller's ``errstate``: see ``conv``)."""
    if bias is None:
        np.copyto(dst, result, casting="unsafe")
        return
    if (result.ndim >= 2 and np.shape(bias) == result.shape[-1:]
            and dst.shape == result.shape and _merges_last(result)
            and _merges_last(dst)):
        # Few filters: with (W, F) as one axis, NumPy's inner loop runs
        # along the whole row instead of over F items (LeNet-5's first
        # layer, F = 6: 2 ms -> 0.3 ms).  Same sums, item by item.
        width = result.shape[-2]
        merged = result.shape[:-2] + (width * result.shape[-1],)
        result = np.reshape(result, merged, copy=False)
        dst = np.reshape(dst, merged, copy=False)
        bias = np.tile(bias, width)
    np.add(result, bias, out=dst, casting="unsafe")


def _merges_last(a):
    """Whether ``a``'s last two axes are one strided run (a view merges
    them)."""
    return a.strides[-2] == a.shape[-1] * a.strides[-1]


# Rows of every BLAS product are a function of the per-image problem.
# OpenBLAS computes a row's bits differently for short products (its
# small-matrix kernels, gemv for one row), but products of one height agree
# bitwise at any offset (measured for 1 to 800 columns, float32 and
# float64, on its SkylakeX kernels).  With every product of a call equally
# tall, however the batch is cut into blocks and the blocks into threads,
# each output cell goes through the same arithmetic.  Where float32
# products do not agree so (OpenBLAS's Haswell and Zen sgemm: probed by
# ``_blas.rows_keep_bits``), float32 products run in float64.
PRODUCT_ROWS = 16
# Each product does at least this many multiply-adds, or per-call overhead
# dominates (W3's 21x15 bands: 0.83 s at 16 rows, 0.46 s at 64-256) ...
_MIN_WORK = 1 << 14
# ... and past this many, OpenBLAS packs the right operand per call, so
# tall products amortise it (measured: 16-row products as fast as one
# tall product up to 576x64 operands, where its small kernels run).
_SMALL_WORK = 1 << 20
_MAX_ROWS = 256


def product_height(k, n):
    """Rows per BLAS product for (rows, ``k``) @ (``k``, ``n``) operands:
    16 to 256, a function of the per-image problem only.

    >>> product_height(192, 64), product_height(21, 15), product_height(1, 1)
    (16, 64, 256)
    """
    work = max(1, k * n)
    if PRODUCT_ROWS * work > _SMALL_WORK:
        return _MAX_ROWS
    rows = PRODUCT_ROWS
    while rows * work < _MIN_WORK and rows < _MAX_ROWS:
        rows *= 2
    return rows


def matmul_rows(a, b, out, scratch, height, column_major=None):
    """``out = a @ b`` over the last two axes, as products of exactly
    ``height`` rows: the tail is zero-padded to ``height`` in scratch.

    ``a`` (..., M, K), ``b`` (..., K, N) broadcasting against ``a``'s
    leading axes, ``out`` (..., M, N); any strides.  ``column_major``
    says whether ``a`` is laid out as the transpose of a C-ordered
    (..., K, M) array; None infers it from ``a``'s strides, which is
    ambiguous when ``a`` has one row.
    """
    wide = widened(a.dtype)
    if wide != a.dtype:
        # This BLAS rounds a float32 row by its place in a product: the
        # same products in float64, each result rounded once.
        res = np.empty(out.shape, wide)
        matmul_rows(a.astype(wide), b.astype(wide), res, scratch, height,
                    column_major)
        np.copyto(out, res, casting="unsafe")
        return
    m = a.shape[-2]
    full = m - m % height
    if full:
        np.matmul(_split_rows(a[..., :full, :], height), b[..., None, :, :],
                  out=_split_rows(out[..., :full, :], height))
    if full < m:
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        k = a.shape[-1]
        if column_major is None:
            column_major = abs(a.strides[-2]) < abs(a.strides[-1])
        if column_major:
            # Keep ``a``'s layout: BLAS rounds a transposed operand's
            # product differently.  (A one-row ``a`` has equal strides,
            # so the engine says which layout its full products use: a
            # block of one short image must round as the same rows do in
            # a block of many.)
            pad = scratch.get("tail_a", lead + (k, height),
                              a.dtype).swapaxes(-1, -2)
        else:
            pad = scratch.get("tail_a", lead + (height, k), a.dtype)
        pad[..., m - full:, :] = 0
        pad[..., :m - full, :] = a[..., full:, :]
        res = scratch.get("tail_out", lead + (height, b.shape[-1]),
                          out.dtype)
        np.matmul(pad, b, out=res)
        out[..., full:, :] = res[..., :m - full, :]


def _split_rows(a, height):
    """(..., M, K) as (..., M / height, height, K): splitting an axis is
    always a view, so writes into the result reach ``a``."""
    shape = a.shape[:-2] + (a.shape[-2] // height, height, a.shape[-1])
    return a.reshape(shape)
