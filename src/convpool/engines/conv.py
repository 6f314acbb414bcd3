"""Convolution: plan the path (``plan``), cut the work into blocks, run
them on threads.  Engines see NHWC views, HWIO weights and explicit
padding pairs; they know nothing about argument parsing.

A block is several whole images, or a band of output rows of one image
(``row_blocks``), sized so that its scratch stays in cache: extra memory
is bounded by ``threads`` blocks whatever the batch size.  Every engine
gives each output cell the same arithmetic however the blocks fall, so a
result's bits depend neither on ``threads`` nor on how a batch is split.
"""

import numpy as np

from ._blas import one_blas_thread
from ._parallel import block_budget, row_blocks, run_blocks
from ._windows import band_pads
from .base import ConvProblem, write_out
from .plan import ENGINE_CLASSES, ENGINES, check_engine, plan_conv

__all__ = ["ENGINES", "conv_nhwc"]


def conv_nhwc(x, w, out, stride, dilation, pads, groups, bias, engine,
              threads):
    """Cross-correlate ``x`` (N, H, W, C) with ``w`` (KH, KW, C/g, F) into
    ``out`` (N, OH, OW, F), any strides.

    ``w`` and ``bias`` are already in the compute dtype; ``out`` may have
    another (float16 results accumulate in float32 and are cast per
    block).  ``engine`` is one of ``ENGINES``.
    """
    n, _, _, c = x.shape
    oh, ow = out.shape[1:3]
    if out.size == 0:
        return
    if c == 0:
        # No input channel: every output is the empty sum, 0, plus bias.
        with _quiet():
            write_out(np.zeros((), w.dtype), out, bias)
        return
    problem = ConvProblem.of(w, stride, dilation, groups, ow)

    def finite():
        return all_finite(x)
    if engine == "auto":
        engine = plan_conv(problem, finite)[0]
    else:
        check_engine(engine, problem, finite)
    run = ENGINE_CLASSES[engine](w, stride, dilation, groups, bias)

    def work(n0, n1, r0, r1, scratch):
        run.run(x[n0:n1], out[n0:n1, r0:r1],
                band_pads(pads, r0, stride[0]), scratch)

    blocks = row_blocks(n, oh, run.row_bytes(c, ow),
                        block_budget(run.budget(ow), threads), threads)
    with one_blas_thread():
        run_blocks(work, blocks, threads, context=_quiet)


def all_finite(x, chunk=1 << 20):
    """Whether no cell of ``x`` is inf or NaN, a chunk of images at a time
    (bounded memory).  A chunk's sum is finite unless a cell is not or the
    sum overflows; only then are its cells checked one by one."""
    if x.dtype.kind not in "fc":
        return True
    step = max(1, chunk // max(1, x[:1].size))
    with np.errstate(over="ignore", invalid="ignore"):
        for n0 in range(0, len(x), step):
            part = x[n0:n0 + step]
            if not np.isfinite(part.sum()) and not np.isfinite(part).all():
                return False
    return True


def _quiet():
    # inf * 0 and inf - inf give NaN, and a float16 result past 65504
    # gives inf, as in PyTorch, which says nothing; errstate is per
    # thread, so every worker sets it (once, not per block: see
    # ``run_blocks``).
    return np.errstate(invalid="ignore", over="ignore")
