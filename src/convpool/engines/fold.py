"""1-D and 3-D problems folded onto the tuned 2-D engines.

* A 1-D problem is a 2-D one with height 1: a view, nothing copied.
* A 3-D convolution gathers, for each output depth slice, the input depth
  slices that each kernel depth tap reads, side by side along the channel
  axis (group by group, so grouped and depthwise kernels keep their
  structure); the kernel's depth taps fold the same way into its input
  channels.  What is left is a 2-D convolution with ``KD * C`` channels
  over the (image, output depth) slices, whose products run in the 2-D
  engines and write straight into the output: no accumulation pass, no
  second rounding.  Each worker gathers just the block it runs (a band of
  output rows of a few slices), counted in its scratch; where the path
  depends on the input being finite, chunks of at most ``GATHER_BYTES``
  are gathered and handed to the threaded 2-D call instead.
* 3-D pooling is separable: reduce along depth over the window's depth
  taps into a cache-sized block, then pool the block in 2-D.

Gathers and depth blocks are bounded whatever the batch size, so the memory
bound of the 2-D engines holds for every rank.
"""

import numpy as np

from ..geometry import window_counts
from ..windows import axis_taps, with_unit_axis
from ._blas import one_blas_thread
from ._parallel import (block_budget, quiet, row_blocks, run_blocks,
                        worth_threads)
from .base import ConvProblem
from .conv import conv_nhwc
from .plan import ENGINE_CLASSES, plan_conv, refusal
from .pool import PoolPlan, lowest, pool_nhwc, reduce_taps

__all__ = ["conv_channels_last", "pool_channels_last", "fold_depth", "as_2d",
           "GATHER_BYTES"]

GATHER_BYTES = 16 << 20
# Bytes of one signal's input handed to the 2-D engines at a time.
SIGNAL_BYTES = 4 << 20


def conv_channels_last(x, w, out, stride, dilation, pads, groups, bias,
                       engine, threads):
    """Cross-correlate ``x`` (N, *spatial, C) with ``w`` (*window, C/g, F)
    into ``out`` (N, *out_spatial, F), for 1, 2 or 3 spatial axes."""
    rank = x.ndim - 2
    if rank == 2:
        conv_nhwc(x, w, out, stride, dilation, pads, groups, bias, engine,
                  threads)
    elif rank == 1:
        for xs, os, p in _signal_pieces(x, out, w.shape[0], stride[0],
                                        dilation[0], pads[0]):
            conv_nhwc(with_unit_axis(xs), w[None], with_unit_axis(os),
                      (1,) + stride, (1,) + dilation, ((0, 0), p), groups,
                      bias, engine, threads)
    else:
        _conv_by_depth(x, w, out, stride, dilation, pads, groups, bias,
                       engine, threads)


def _signal_pieces(x, out, k, stride, dilation, pads):
    """Cut long 1-D signals into runs of output cells, each with the input
    cells it reads and the padding it sees: ``(x_piece, out_piece,
    (lo, hi))``.  The 2-D engines split a picture into bands of rows; a
    signal is one row, so it is split here instead.  The run length comes
    from the per-signal problem only."""
    n, length = x.shape[:2]
    extent = dilation * (k - 1) + 1
    per_cell = max(1, x.shape[2] * x.itemsize * stride)
    run = max(1, SIGNAL_BYTES // per_cell)
    lo = pads[0]
    for o0 in range(0, max(out.shape[1], 1), run):
        o1 = min(o0 + run, out.shape[1])
        start, stop = o0 * stride - lo, (o1 - 1) * stride + extent - lo
        a, b = max(start, 0), min(stop, length)
        # A ceil_mode window may reach past the padding; the piece's
        # padding stops where the signal's does (average pooling's
        # divisor never counts beyond it).
        yield x[:, a:b], out[:, o0:o1], (a - start, min(stop - b, pads[1]))


def _depth_chunks(n, od, item_bytes, merged, budget=None):
    """``(n0, n1, d0, d1)`` blocks of (image, output depth) of at most
    ``budget`` (``GATHER_BYTES``) gathered bytes: whole images when the
    output's (image, depth) axes merge into one view, else depth runs of
    one image.  Sizes come from the per-image problem only, never from N
    or threads."""
    budget = GATHER_BYTES if budget is None else budget
    per = max(1, budget // max(1, item_bytes))
    if merged and per >= od:
        step = per // od
        for n0 in range(0, n, step):
            yield n0, min(n0 + step, n), 0, od
        return
    for i in range(n):
        for d0 in range(0, od, per):
            yield i, i + 1, d0, min(d0 + per, od)


def _merges(a):
    """True if axes 0 and 1 of ``a`` merge into one strided axis."""
    return a.shape[0] <= 1 or a.strides[0] == a.shape[1] * a.strides[1]


def fold_depth(w):
    """A 3-D kernel (KD, KH, KW, C/g, F) as the 2-D kernel (KH, KW,
    KD * C/g, F) that convolves the depth-gathered input: each group's
    folded channels run depth tap outermost, as the gather lays them."""
    kd, kh, kw, cg, f = w.shape
    return np.ascontiguousarray(
        w.transpose(1, 2, 0, 3, 4).reshape(kh, kw, kd * cg, f))


def as_2d(w, stride, dilation):
    """The 2-D problem the engines see for a kernel of any rank:
    ``(kernel, stride, dilation, how)``, ``how`` a few words on the fold."""
    rank = w.ndim - 2
    if rank == 1:
        return (w[None], (1,) + tuple(stride), (1,) + tuple(dilation),
                "1-D as 2-D of height 1")
    if rank == 3:
        return (fold_depth(w), tuple(stride[1:]), tuple(dilation[1:]),
                f"3-D as 2-D with the {w.shape[0]} depth taps gathered into "
                "the channels")
    return w, tuple(stride), tuple(dilation), ""


def _conv_by_depth(x, w, out, stride, dilation, pads, groups, bias, engine,
                   threads):
    """A 3-D convolution as 2-D blocks whose ``KD * C`` channels are the
    input's depth slices gathered side by side.

    When the path does not depend on whether the input is finite, each
    worker gathers just the block it runs (a band of output rows of a
    few depth slices, cache-sized) into its scratch and runs the engine
    on it: the gather runs on the threads and the engine reads it from
    cache (W11, 2 threads: 0.38 -> 0.26 s against a 16 MiB gather before
    every threaded 2-D call).  Otherwise the 2-D call judges each
    gathered slice's finiteness, as for 2-D images
    (``_conv_by_depth_chunks``)."""
    w2 = fold_depth(w)
    problem = ConvProblem.of(w2, stride[1:], dilation[1:], groups,
                             out.shape[3])
    path = plan_conv(problem, True)[0] if engine == "auto" else engine
    if (refusal(path, problem, False) is not None or not _merges(out)
            or out.size == 0 or x.shape[2] == 0 or x.shape[4] == 0):
        _conv_by_depth_chunks(x, w.shape[0], w2, out, stride, dilation,
                              pads, groups, bias, engine, threads)
        return
    n, d, h, wd, c = x.shape
    kd, kh = w.shape[:2]
    od, oh, ow = out.shape[1:4]
    depth_taps = axis_taps(d, kd, od, stride[0], dilation[0], pads[0][0])
    (sh, dh), pads2 = (stride[1], dilation[1]), pads[1:]
    run = ENGINE_CLASSES[path](w2, stride[1:], dilation[1:], groups, bias)
    flat_out = out.reshape((n * od,) + out.shape[2:])
    # Scratch per output row: the engine's, and the gathered input rows;
    # the budget grows with the gather, so that a block has as many rows
    # as the engine would give it in 2-D (W11's blocks are unchanged), and
    # stays under ``MAX_SCRATCH``.
    engine_rows = run.row_bytes(kd * c, ow)
    row_bytes = engine_rows + sh * wd * kd * c * w.dtype.itemsize
    budget = run.budget(ow) * row_bytes // max(1, engine_rows)
    threads = worth_threads(n * od * oh * row_bytes, threads)

    def work(i0, i1, r0, r1, scratch):
        top = pads2[0][0] - r0 * sh   # band_pads: output row r0 is row 0
        a = min(max(0, -top), h - 1)
        stop = min(h, max(a + 1, (r1 - r0 - 1) * sh + (kh - 1) * dh + 1
                          - top))
        buf = scratch.get("depth gather", (i1 - i0, stop - a, wd, groups,
                                           kd, c // groups), w.dtype)
        _gather_depth(x, depth_taps, stride[0], od, i0, i1, a, stop, buf)
        run.run(buf.reshape(i1 - i0, stop - a, wd, kd * c),
                flat_out[i0:i1, r0:r1],
                ((top + a, pads2[0][1]),) + tuple(pads2[1:]), scratch)

    blocks = row_blocks(n * od, oh, row_bytes,
                        block_budget(budget, threads), threads)
    with one_blas_thread():
        run_blocks(work, blocks, threads, context=quiet)


def _gather_depth(x, depth_taps, stride, od, i0, i1, a, stop, buf):
    """Fill ``buf`` (b, rows, W, groups, KD, C/g) with rows ``[a, stop)`` of
    the input depth slices each depth tap reads for output slices
    ``i0 .. i1`` (slice ``i`` is image ``i // od``, depth ``i % od``);
    zeros where a tap reads the depth padding."""
    i = i0
    while i < i1:
        image, d0 = divmod(i, od)
        d1 = min(od, d0 + i1 - i)
        seg = buf[i - i0:i - i0 + d1 - d0]
        for t, span in enumerate(depth_taps):
            o_sl, i_sl = (None, None) if span is None else _clip(
                span, stride, d0, d1)
            if o_sl is None:
                seg[..., t, :] = 0
                continue
            seg[:o_sl.start, ..., t, :] = 0
            seg[o_sl.stop:, ..., t, :] = 0
            seg[o_sl, ..., t, :] = x[image, i_sl, a:stop].reshape(
                seg[o_sl, ..., t, :].shape)
        i += d1 - d0


def _conv_by_depth_chunks(x, kd, w2, out, stride, dilation, pads, groups,
                          bias, engine, threads):
    """The depth slices gathered in chunks of ``GATHER_BYTES``, each one
    threaded 2-D call."""
    n, d, h, wd, c = x.shape
    od = out.shape[1]
    depth_taps = axis_taps(d, kd, od, stride[0], dilation[0], pads[0][0])
    item_bytes = h * wd * kd * c * w2.dtype.itemsize
    for n0, n1, d0, d1 in _depth_chunks(n, od, item_bytes, _merges(out)):
        # A chunk is whole images or a depth run of one: the output
        # slices n0 * od + d0 .. (n1 - 1) * od + d1, one after another.
        i0, i1 = n0 * od + d0, (n1 - 1) * od + d1
        buf = np.empty((i1 - i0, h, wd, groups, kd, c // groups),
                       w2.dtype)
        _gather_depth(x, depth_taps, stride[0], od, i0, i1, 0, h, buf)
        block = out[n0:n1, d0:d1]
        conv_nhwc(buf.reshape(-1, h, wd, kd * c), w2,
                  block.reshape((-1,) + block.shape[2:]), stride[1:],
                  dilation[1:], pads[1:], groups, bias, engine, threads)


def _clip(span, stride, d0, d1):
    """The part of a tap's ``(out_slice, in_slice)`` with output index in
    ``[d0, d1)``, as slices relative to ``d0`` and into the input."""
    o, i = span
    lo, hi = max(o.start, d0), min(o.stop, d1)
    if lo >= hi:
        return None, None
    first = i.start + (lo - o.start) * stride
    return (slice(lo - d0, hi - d0),
            slice(first, first + (hi - lo - 1) * stride + 1, stride))


def pool_channels_last(x, out, window, stride, dilation, pads, mode,
                       count_include_pad, dtype, threads):
    """Max or average pool ``x`` (N, *spatial, C) into ``out``, for 1, 2 or
    3 spatial axes."""
    rank = x.ndim - 2
    if rank == 2:
        pool_nhwc(x, out, window, stride, pads, mode, count_include_pad,
                  dtype, threads, dilation=dilation)
    elif rank == 1:
        for xs, os, p in _signal_pieces(x, out, window[0], stride[0],
                                        dilation[0], pads[0]):
            pool_nhwc(with_unit_axis(xs), with_unit_axis(os), (1,) + window,
                      (1,) + stride, ((0, 0), p), mode, count_include_pad,
                      dtype, threads, dilation=(1,) + dilation)
    else:
        _pool_by_depth(x, out, window, stride, dilation, pads, mode,
                       count_include_pad, dtype, threads)


# Bytes of depth-reduced planes per pooling block: the block is pooled in
# 2-D while it is still in cache.
POOL_DEPTH_BYTES = 1 << 20


def _pool_by_depth(x, out, window, stride, dilation, pads, mode,
                   count_include_pad, dtype, threads):
    """3-D pooling as a max or sum along depth into a cache-sized block,
    then the 2-D pool of that block; blocks run on the threads (each
    pooled on one), or one after another with the 2-D pool threaded when
    there are too few.  The blocks come from the per-image problem and
    every cell is reduced in the same order, so the bits do not depend on
    ``threads``."""
    n, d, h, wd, c = x.shape
    od = out.shape[1]
    depth_taps = axis_taps(d, window[0], od, stride[0], dilation[0],
                           pads[0][0])
    if mode == "avg":
        counts = np.asarray(window_counts(
            d, window[0], od, stride[0], *pads[0], count_include_pad,
            dilation[0]), dtype)
    item_bytes = h * wd * c * np.dtype(dtype).itemsize
    blocks = list(_depth_chunks(n, od, item_bytes, _merges(out),
                                POOL_DEPTH_BYTES))
    counts = counts if mode == "avg" else None

    def banded(threads):
        # The 2-D pool of planes over the budget, in bands of rows.
        return lambda src, dst: pool_nhwc(
            src, dst, window[1:], stride[1:], pads[1:], mode,
            count_include_pad, dtype, threads, dilation=dilation[1:])

    if len(blocks) < threads:
        # Too few depth blocks to share: one at a time, each 2-D pool
        # threaded.
        for n0, n1, d0, d1 in blocks:
            buf = np.empty((n1 - n0, d1 - d0, h, wd, c), dtype)
            _depth_block(x, out, buf, n0, n1, d0, d1, depth_taps, stride,
                         mode, counts, banded(threads))
        return
    plan = PoolPlan((h, wd), out.shape[2:4], window[1:], stride[1:],
                    pads[1:], mode, count_include_pad, dtype, dilation[1:])

    def work(n0, n1, d0, d1, scratch):
        buf = scratch.get("depth", (n1 - n0, d1 - d0, h, wd, c), dtype)
        whole = buf.nbytes <= POOL_DEPTH_BYTES     # else one big slice
        _depth_block(x, out, buf, n0, n1, d0, d1, depth_taps, stride, mode,
                     counts, (lambda src, dst: plan.run(src, dst, 0, scratch))
                     if whole else banded(1))

    run_blocks(work, blocks, worth_threads(x.nbytes, threads),
               context=quiet)


def _depth_block(x, out, buf, n0, n1, d0, d1, depth_taps, stride, mode,
                 counts, pool2d):
    """Reduce depths ``[d0, d1)`` of images ``[n0, n1)`` into ``buf``, then
    ``pool2d(planes, out_planes)`` them into ``out``."""
    _reduce_depth(x[n0:n1], depth_taps, stride[0], d0, d1, mode, buf)
    block = out[n0:n1, d0:d1]
    pool2d(buf.reshape((-1,) + buf.shape[2:]),
           block.reshape((-1,) + block.shape[2:]))
    if counts is not None:
        # The 2-D pass divided by the (H, W) counts; the depth count
        # finishes the divisor of each 3-D window.
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            block /= counts[d0:d1, None, None, None].astype(block.dtype)


def _reduce_depth(x, depth_taps, stride, d0, d1, mode, buf):
    """Max or sum over the window's depth taps into ``buf``, for output
    depths ``[d0, d1)`` of every image in ``x``.  A maximum is the 2-D
    engine's tap reduction along depth (``reduce_taps``: the first two
    taps that reach every output depth in one pass, cells no tap reaches
    at the lowest value); a sum starts from 0, so that a sum of -0.0
    cells is 0.0 as everywhere else."""
    spans = [span for span in (_clip(t, stride, d0, d1)
                               for t in depth_taps if t is not None)
             if span[0] is not None]
    if mode == "max":
        reduce_taps(np.maximum, lowest(buf.dtype), spans, buf, d1 - d0,
                    lambda o_sl, i_sl: (buf[:, o_sl], x[:, i_sl]))
        return buf
    buf.fill(0)
    with np.errstate(invalid="ignore", over="ignore"):
        for o_sl, i_sl in spans:
            np.add(buf[:, o_sl], x[:, i_sl], out=buf[:, o_sl],
                   casting="unsafe")
    return buf
