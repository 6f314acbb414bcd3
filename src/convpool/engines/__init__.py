"""How the work is done: blocks of the batch, on threads, each through one
engine.

``conv``       picks the convolution engine and runs the blocks
``taps``       one pass per kernel tap (BLAS axpy; ``depthwise`` einsum)
``banded``     banded BLAS products straight from the frame
``im2col``     gathered window matrix from NHWC rows, one BLAS product
``planar``     gathered window matrix from channel-planar frames
``pool``       separable max / sum over window taps
``fold``       1-D and 3-D problems folded onto the 2-D engines
``border``     filter2d's NumPy pad modes, band by band
``_windows``   tap geometry: which output cells read which input cells
``_frames``    zero-bordered, stride-free frames of a block
``_parallel``  blocks, threads, per-thread scratch
``_blas``      NumPy's OpenBLAS via ctypes: thread limit and axpy

Nothing here parses arguments; the ops in ``convpool.conv`` and
``convpool.pool`` hand over validated NHWC views and explicit padding.
"""

from ._parallel import get_threads, resolve_threads, set_threads
from .border import filter_planes
from .conv import ENGINES, conv_nhwc
from .pool import pool_nhwc
from .fold import conv_channels_last, pool_channels_last

__all__ = ["ENGINES", "conv_nhwc", "conv_channels_last", "pool_channels_last", "filter_planes", "pool_nhwc", "get_threads",
           "set_threads", "resolve_threads"]
