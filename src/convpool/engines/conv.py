"""Convolution: pick an engine, cut the work into blocks, run them on
threads.  Engines see NHWC views, HWIO weights and explicit padding pairs;
they know nothing about argument parsing.

``taps``   one multiply-add pass per kernel tap over flattened frames
           (``taps.py``: BLAS axpy for grayscale and filter2d, one einsum
           for depthwise); best for one input channel and one filter per
           group.
``im2col`` BLAS products: banded products straight from the frame for one
           group (``banded.py``); else gather each block's windows into a
           matrix, from NHWC window rows (``im2col.py``) or from
           channel-planar frames when a window row is only a few numbers
           (``planar.py``).

A block is several whole images, or a band of output rows of one image
(``row_blocks``), sized so that its scratch stays in cache: extra memory
is bounded by ``threads`` blocks whatever the batch size.
"""

import numpy as np

from ._blas import one_blas_thread
from ._parallel import block_budget, row_blocks, run_blocks
from ._windows import band_pads
from .banded import Banded
from .im2col import Im2col
from .planar import Planar
from .taps import Taps

__all__ = ["ENGINES", "conv_nhwc", "pick_engine"]

ENGINES = ("auto", "taps", "im2col")

# Scratch bytes per block (doubled on several threads: ``block_budget``).
# Tap passes run fastest on 32-128 K elements (L2-resident, call overhead
# amortised); BLAS keeps its speed while a gathered window matrix is a few
# MiB.  The banded engine states its own (``Banded.budget``).
BUDGETS = {"taps": 1 << 20, "im2col": 1 << 21, "planar": 1 << 20}
USE_BANDED = True
# Window-row bytes (KW * C/groups * itemsize) below which the im2col
# matrix is gathered from planar frames: measured faster up to 8 float32
# channels with 3x3 kernels, even at 16.
PLANAR_BELOW = 128
ENGINE_CLASSES = {"taps": Taps, "im2col": Im2col, "planar": Planar,
                  "banded": Banded}


# Kernel taps beyond which one-channel convolution (groups=1) goes to BLAS:
# banded products measured level with tap passes at 7x7 to 9x9, 2.5x
# faster at 15x15 and 4x at 31x31 (grayscale 256x256).
MAX_GRAY_TAPS = 100


def pick_engine(c_group, f_group, groups, taps):
    """Tap passes for one input channel and one filter per group (grayscale,
    depthwise, filter2d): there each tap is one long vector operation.
    With more, a tap pass broadcasts over a few filters in NumPy's innermost
    loop, and gathering for BLAS measured 2-15x faster even at 3 channels
    and 1 filter.  Large grayscale kernels go to BLAS too."""
    if c_group == 1 and f_group == 1 and (groups > 1 or taps <= MAX_GRAY_TAPS):
        return "taps"
    return "im2col"


def pick_im2col(groups, c_group, kh, kw, itemsize):
    """How to feed BLAS.  One group: banded products straight from the
    frame (no gather; 1.3-1.7x faster than gathering, measured from 3 to
    64 channels), except 1x1 kernels, whose window matrix is the input
    itself.  Several groups: gather the window matrix, from planar frames
    while a window row of the NHWC input is too short a copy to be worth
    one NumPy inner loop."""
    if groups == 1 and kh * kw > 1 and USE_BANDED:
        return "banded"
    if c_group * kw * itemsize < PLANAR_BELOW:
        return "planar"
    return "im2col"


def conv_nhwc(x, w, out, stride, dilation, pads, groups, bias, engine,
              threads):
    """Cross-correlate ``x`` (N, H, W, C) with ``w`` (KH, KW, C/g, F) into
    ``out`` (N, OH, OW, F), any strides.

    ``w`` and ``bias`` are already in the compute dtype; ``out`` may have
    another (float16 results accumulate in float32 and are cast per block).
    """
    n, _, _, c = x.shape
    kh, kw, cg, f = w.shape
    oh, ow = out.shape[1:3]
    if n == 0 or oh == 0 or ow == 0:
        return
    if engine == "auto":
        engine = pick_engine(cg, f // groups, groups, kh * kw)
    if engine == "im2col":
        engine = pick_im2col(groups, cg, kh, kw, w.dtype.itemsize)
    run = ENGINE_CLASSES[engine](w, stride, dilation, groups, bias)

    def work(n0, n1, r0, r1, scratch):
        run.run(x[n0:n1], out[n0:n1, r0:r1],
                band_pads(pads, r0, stride[0]), scratch)

    def quiet():
        # inf * 0 and inf - inf give NaN, as in PyTorch, which says nothing;
        # errstate is per thread, so every worker sets it (once, not per
        # block: see ``run_blocks``).
        return np.errstate(invalid="ignore")

    budget = run.budget(ow) if engine == "banded" else BUDGETS[engine]
    blocks = row_blocks(n, oh, run.row_bytes(c, ow),
                        block_budget(budget, threads), threads)
    with one_blas_thread(threads > 1):
        run_blocks(work, blocks, threads, context=quiet)
