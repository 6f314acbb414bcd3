"""How the work is done: chunked, threaded loops over window taps.

Nothing here parses arguments; the ops in ``convpool.conv`` and
``convpool.pool`` hand over validated NHWC views and explicit padding.
"""

from ._parallel import get_threads, resolve_threads, set_threads
from .conv import ENGINES, conv_nhwc
from .pool import pool_nhwc

__all__ = ["ENGINES", "conv_nhwc", "pool_nhwc", "get_threads",
           "set_threads", "resolve_threads"]
