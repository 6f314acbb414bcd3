"""How the work is done: blocks of the batch, on threads, each through one
engine.

``plan``       which engine runs, and why (``plan_conv``, ``plan_pool``)
``base``       the engine contract: problem, protocol, output writer,
               fixed-height BLAS products
``conv``       plans a convolution and runs its blocks
``taps``       NumPy multiply-add per kernel tap
``axpy``       one BLAS axpy per kernel tap (grayscale, filter2d)
``depthwise``  one einsum per block (one channel and filter per group)
``banded``     banded BLAS products straight from the frame
``im2col``     gathered window matrix from NHWC rows, BLAS products
``planar``     gathered window matrix from channel-planar frames
``pool``       separable max / sum over window taps
``fold``       1-D and 3-D problems folded onto the 2-D engines
``border``     filter2d's NumPy pad modes, band by band
``_windows``   tap geometry, from :mod:`convpool.windows`
``_frames``    zero-bordered, stride-free frames of a block
``_parallel``  blocks, threads, per-thread scratch
``_blas``      BLAS through threadpoolctl: thread limit and axpy

Nothing here parses arguments; the ops in ``convpool.conv`` and
``convpool.pool`` hand over validated NHWC views and explicit padding.
"""

from ._parallel import get_threads, resolve_threads, set_threads
from .border import filter_planes
from .conv import conv_nhwc
from .fold import conv_channels_last, pool_channels_last
from .plan import (ENGINES, explain_conv, explain_pool, plan_conv,
                   plan_pool)
from .pool import pool_nhwc

__all__ = ["ENGINES", "conv_nhwc", "conv_channels_last", "filter_planes",
           "pool_nhwc", "pool_channels_last", "get_threads", "set_threads",
           "resolve_threads", "plan_conv", "plan_pool", "explain_conv",
           "explain_pool"]
