"""Convolution engines.  They see NHWC views, HWIO weights and explicit
padding pairs; they know nothing about argument parsing.

``taps``   shift-and-add: for each kernel tap (and input channel of a group),
           multiply a strided view of the input by the tap's weights and add
           it to the output.  Best for few channels per group (grayscale,
           depthwise).
``im2col`` for each batch chunk, gather the windows into a matrix of
           (positions, KH * KW * C/groups) and do one BLAS matmul per group.
           Best when channels are many.
Both skip taps that fall entirely in the padding and read borders through
clipped views (see ``_windows``), so no padded copy of the input is made.
"""

import numpy as np

from ._parallel import chunk_length, run_chunks
from ._windows import window_taps

__all__ = ["ENGINES", "conv_nhwc", "pick_engine"]

ENGINES = ("auto", "taps", "im2col")

# Bytes of scratch per chunk; the number of threads times this bounds the
# extra memory of a call.  Small enough for taps to stay in L2-ish cache.
_TAPS_BUDGET = 1 << 21
_IM2COL_BUDGET = 1 << 23


def pick_engine(c_group, f_group):
    """Shift-and-add while a tap is a handful of passes over the output."""
    return "taps" if c_group * f_group <= 4 or c_group == 1 else "im2col"


def conv_nhwc(x, w, out, stride, dilation, pads, groups, bias, engine,
              threads):
    """Cross-correlate ``x`` (N, H, W, C) with ``w`` (KH, KW, C/g, F) into
    ``out`` (N, OH, OW, F), any strides.

    ``w`` and ``bias`` are already in the compute dtype; ``out`` may have
    another (float16 results accumulate in float32 and are cast per chunk).
    """
    n, h, wd, _ = x.shape
    kh, kw, cg, f = w.shape
    oh, ow = out.shape[1:3]
    m = f // groups
    if engine == "auto":
        engine = pick_engine(cg, m)
    dtype = w.dtype
    taps = list(window_taps((h, wd), (kh, kw), (oh, ow), stride, dilation,
                            pads))
    if engine == "taps":
        run = _taps_chunk
        per_item = 2 * oh * ow * f * dtype.itemsize
        budget = _TAPS_BUDGET
    else:
        run = _im2col_chunk
        per_item = oh * ow * (kh * kw * cg * groups + f) * dtype.itemsize
        budget = _IM2COL_BUDGET

    def work(start, stop):
        dst = out[start:stop]
        acc = dst if dst.dtype == dtype else np.empty(dst.shape, dtype)
        run(x[start:stop], w, acc, taps, groups)
        if bias is not None:
            acc += bias
        if acc is not dst:
            dst[...] = acc

    length = chunk_length(n, per_item, budget, threads)
    run_chunks(work, n, length, threads)


def _taps_chunk(x, w, acc, taps, groups):
    b = x.shape[0]
    kh, kw, cg, f = w.shape
    m = f // groups
    x5 = x.reshape(x.shape[:3] + (groups, cg))
    acc5 = acc.reshape(acc.shape[:3] + (groups, m))
    w5 = w.reshape(kh, kw, cg, groups, m)
    acc.fill(0)
    tmp = np.empty(acc5.shape, acc.dtype)
    for i, j, ro, co, ri, ci in taps:
        dst = acc5[:, ro, co]
        for c in range(cg):
            weights = w5[i, j, c]
            if not weights.any():
                continue
            part = tmp[:b, :dst.shape[1], :dst.shape[2]]
            np.multiply(x5[:, ri, ci, :, c, None], weights, out=part)
            np.add(dst, part, out=dst)


def _im2col_chunk(x, w, acc, taps, groups):
    b = x.shape[0]
    kh, kw, cg, f = w.shape
    m = f // groups
    oh, ow = acc.shape[1:3]
    # cols[g, b, r, c, i, j, ch]: group-major so each group's matrix is
    # contiguous for matmul.
    cols = np.zeros((groups, b, oh, ow, kh, kw, cg), w.dtype)
    x5 = x.reshape(x.shape[:3] + (groups, cg))
    for i, j, ro, co, ri, ci in taps:
        cols[:, :, ro, co, i, j, :] = x5[:, ri, ci].transpose(3, 0, 1, 2, 4)
    k = kh * kw * cg
    cols = cols.reshape(groups, b * oh * ow, k)
    wg = w.reshape(kh, kw, cg, groups, m).transpose(3, 0, 1, 2, 4)
    wg = wg.reshape(groups, k, m)
    if groups == 1 and acc.flags.c_contiguous:
        np.matmul(cols[0], wg[0], out=acc.reshape(-1, f))
        return
    res = np.matmul(cols, wg)                      # (g, P, m)
    acc.reshape(b * oh * ow, groups, m)[...] = res.transpose(1, 0, 2)
