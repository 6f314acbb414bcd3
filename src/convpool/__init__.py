"""convpool: framework-exact 2-D convolution and pooling in pure NumPy.

>>> import numpy as np, convpool
>>> x, k = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4))
>>> convpool.conv2d(x, k, padding="same").shape
(2, 5, 5, 4)
"""

from . import grad
from .conv import conv2d, filter2d
from .engines import get_threads, set_threads
from .pool import avg_pool2d, max_pool2d, pool2d
from .transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .unpool import max_unpool1d, max_unpool2d, max_unpool3d

__version__ = "0.1.0"

__all__ = ["conv2d", "filter2d", "pool2d", "max_pool2d", "avg_pool2d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "grad",
           "get_threads", "set_threads", "__version__"]
