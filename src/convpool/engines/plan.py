"""Which engine runs, and why: one function for convolution, one for
pooling.

``plan_conv`` looks only at the per-image problem (a ``ConvProblem``:
kernel size, channels and filters per group, groups, dtype, strides,
dilation, output width, the weights' pattern) and, for the banded path,
at whether the input is all finite.  Never at the batch size or the
thread count: a result's bits must not depend on those.

Paths (``engine=``):

``taps``       NumPy multiply-add per kernel tap and input channel; runs
               anything, best for one channel per group.
``axpy``       one BLAS axpy per tap: one input channel and one filter per
               group, one weight per tap shared by all groups
               (grayscale, filter2d).
``depthwise``  one einsum per block: one input channel and one filter per
               group, weights differing by group.
``banded``     banded BLAS products straight from the frame: one group.
``im2col``     gathered window matrix from NHWC window rows, BLAS product.
``planar``     gathered window matrix from channel-planar frames, BLAS
               product; for short window rows.
"""

from ._blas import axpy_available
from .axpy import Axpy
from .banded import Banded, has_structural_zeros
from .base import ConvProblem
from .depthwise import Depthwise
from .im2col import Im2col
from .planar import Planar
from .taps import Taps

__all__ = ["ENGINES", "PATHS", "ENGINE_CLASSES", "plan_conv", "plan_pool",
           "check_engine", "explain_conv", "explain_pool"]

ENGINE_CLASSES = {"taps": Taps, "axpy": Axpy, "depthwise": Depthwise,
                  "banded": Banded, "im2col": Im2col, "planar": Planar}
PATHS = tuple(ENGINE_CLASSES)
ENGINES = ("auto",) + PATHS

# Kernel taps beyond which one-channel convolution (groups=1) goes to BLAS:
# banded products measured level with tap passes at 7x7 to 9x9, 2.5x
# faster at 15x15 and 4x at 31x31 (grayscale 256x256).
MAX_GRAY_TAPS = 100
# Window-row bytes (KW * C/groups * itemsize) below which the window
# matrix is gathered from planar frames: measured faster up to 8 float32
# channels with 3x3 kernels, even at 16.
PLANAR_BELOW = 128


def _finite(finite):
    return finite() if callable(finite) else bool(finite)


def refusal(path, problem, finite=True):
    """Why ``path`` cannot run ``problem``, or None if it can."""
    one_each = problem.channels == 1 and problem.filters == 1
    if path == "axpy":
        if not one_each:
            return ("it needs one input channel and one filter per group, "
                    f"got {problem.channels} and {problem.filters}")
        if not problem.same_taps:
            return "it needs one weight per tap shared by every group"
        if not axpy_available(problem.dtype):
            return f"no BLAS axpy is loaded for {problem.dtype}"
    elif path == "depthwise" and not one_each:
        return ("it needs one input channel and one filter per group, got "
                f"{problem.channels} and {problem.filters}")
    elif path == "banded":
        if problem.groups != 1:
            return f"it needs one group, got {problem.groups}"
        if has_structural_zeros(problem) and not _finite(finite):
            return ("the input has inf or NaN, which the band's structural "
                    "zeros would turn into NaN")
    return None


def check_engine(engine, problem, finite=True):
    """Raise ValueError if the named ``engine`` cannot run ``problem``."""
    why = refusal(engine, problem, finite)
    if why is not None:
        raise ValueError(f"`engine` {engine!r} cannot run this "
                         f"convolution: {why}")


def plan_conv(problem, finite=True):
    """``(path, reason)`` for ``engine='auto'``.

    ``finite`` is a bool or a function returning whether the input is all
    finite; it is asked only when the choice depends on it.
    """
    p = problem
    kernel = f"{p.window[0]}x{p.window[1]}"
    if p.channels == 1 and p.filters == 1 and (
            p.groups > 1 or p.taps <= MAX_GRAY_TAPS):
        if p.groups > 1 and not p.same_taps:
            return "depthwise", (
                f"one channel and one filter per group ({p.groups} groups)"
                ", weights differing by group: one einsum per block")
        if refusal("axpy", p) is None:
            return "axpy", (
                f"one channel and one filter per group, one weight per "
                f"tap ({kernel} kernel): one BLAS axpy per tap")
        return "taps", (
            f"one channel and one filter per group ({kernel} kernel), but "
            f"axpy cannot run: {refusal('axpy', p)}; NumPy tap passes")
    # Banded products of a one-row kernel (a 1-D problem) are short and
    # measured 10x slower than a gathered window matrix.
    if p.groups == 1 and p.taps > 1 and p.window[0] > 1:
        why = refusal("banded", p, finite)
        if why is None:
            return "banded", (
                f"one group, {kernel} kernel, {_count(p.channels, 'channel')}"
                ": banded BLAS products, no window matrix gathered")
        lead = f"banded cannot run ({why}); "
    else:
        lead = ("1x1 kernel: " if p.taps == 1 else
                f"{p.groups} groups of {_count(p.channels, 'channel')}: ")
    row = p.window[1] * p.channels * p.dtype.itemsize
    if row < PLANAR_BELOW:
        return "planar", lead + (
            f"window rows of {row} bytes: gather from planar frames for "
            "BLAS products")
    return "im2col", lead + (
        f"window rows of {row} bytes: gather the window matrix for BLAS "
        "products")


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def plan_pool(window, stride, dilation, mode):
    """``(path, reason)`` for pooling: there is one path, separable
    reductions (rows, then columns), whatever the problem."""
    return "separable", (
        f"{mode} over a {window[0]}x{window[1]} window: a {mode} pass per "
        "window row, then per window column")


def explain_conv(w, stride, dilation, groups, out_width, engine="auto",
                 finite=True):
    """One line: the path a convolution takes and why.

    ``w`` (KH, KW, C/g, F) in the compute dtype.

    >>> import numpy as np
    >>> line = explain_conv(np.ones((3, 3, 64, 64)), (1, 1), (1, 1), 1, 56)
    >>> line.split(": ")[0]
    'banded'
    >>> explain_conv(np.ones((3, 3, 64, 64)), (1, 1), (1, 1), 1, 56,
    ...              engine="im2col")
    'im2col: chosen by `engine`'
    """
    problem = ConvProblem.of(w, stride, dilation, groups, out_width)
    if engine != "auto":
        check_engine(engine, problem, finite)
        return f"{engine}: chosen by `engine`"
    path, reason = plan_conv(problem, finite)
    return f"{path}: {reason}"


def explain_pool(window, stride, dilation, mode):
    """One line: the path a pooling takes and why.

    >>> explain_pool((2, 2), (2, 2), (1, 1), "max")[:34]
    'separable: max over a 2x2 window: '
    """
    path, reason = plan_pool(window, stride, dilation, mode)
    return f"{path}: {reason}"
