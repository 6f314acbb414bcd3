"""convpool: framework-exact convolution and pooling in pure NumPy, over
batches with 1, 2 or 3 spatial axes.

>>> import numpy as np, convpool
>>> x, k = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4))
>>> convpool.conv2d(x, k, padding="same").shape
(2, 5, 5, 4)
>>> convpool.kernels.names()[:3]
['identity', 'box', 'gaussian']
"""

import importlib

from .conv import conv1d, conv2d, conv3d, filter2d
from ._explain import explain
from .engines import get_threads, set_threads
from .pool import (adaptive_avg_pool1d, adaptive_avg_pool2d,
                   adaptive_avg_pool3d, adaptive_max_pool1d,
                   adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d,
                   avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d,
                   pool1d, pool2d, pool3d)

__version__ = "0.2.0"

__all__ = ["conv1d", "conv2d", "conv3d", "filter2d",
           "pool1d", "pool2d", "pool3d",
           "max_pool1d", "max_pool2d", "max_pool3d",
           "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "explain", "get_threads", "set_threads", "__version__"]

# Submodules reachable as attributes (``convpool.kernels.names()``),
# imported on first use so that ``import convpool`` stays light.
_SUBMODULES = ("geometry", "layouts", "windows", "kernels", "tutorial",
               "engines", "grad", "nn", "cli")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
