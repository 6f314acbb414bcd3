"""A small, readable layer library for training, on convpool's ops.

The teaching edition of a framework: every layer is a short class with
``forward`` and ``backward`` that call ``convpool``'s ops and
:mod:`convpool.grad`; there is no autograd tape.  Data are channels-last.

>>> import numpy as np
>>> from convpool import nn
>>> net = nn.lenet5((16, 16, 1), 10, seed=0)
>>> x, y = np.random.default_rng(0).random((8, 16, 16, 1)), np.arange(8)
>>> loss, acc = net.train_step(x, y, nn.Adam(lr=1e-3))
>>> net.predict(x).shape
(8, 10)
"""

from .init import glorot_uniform, he_normal
from .layers import (AvgPool1D, AvgPool2D, AvgPool3D, Conv, Conv1D, Conv2D,
                     Conv3D, Dense, Dropout, Flatten, Layer, MaxPool1D,
                     MaxPool2D, MaxPool3D, Pool, ReLU, Tanh)
from .lenet import lenet5
from .losses import softmax, softmax_cross_entropy
from .model import Sequential
from .optim import SGD, Adam

__all__ = ["Layer", "Conv", "Conv1D", "Conv2D", "Conv3D", "Pool",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
           "AvgPool3D", "Dense", "ReLU", "Tanh", "Flatten", "Dropout",
           "softmax", "softmax_cross_entropy", "SGD", "Adam", "Sequential",
           "lenet5", "he_normal", "glorot_uniform"]
