#!/usr/bin/env python3
"""Back propagation over a pooling layer."""
import numpy as np


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode='max'):
    """Perform back propagation over a pooling layer.

    The loops run over the kh * kw cells of the window, never over output
    pixels.  Average pooling gives every cell of a window dA / (kh * kw).
    Max pooling gives the whole of dA to the window's first maximal cell
    in scan order (row by row), as PyTorch and TensorFlow do: a first
    loop finds each window's maximum, a second walks the cells in order
    and hands dA to a cell equal to the maximum while the window has not
    yet been served.  Overlapping windows add up.

    Parameters
    ----------
    dA : numpy.ndarray, shape (m, h_new, w_new, c)
        Partial derivatives of the loss with respect to the pooling
        layer's output.
    A_prev : numpy.ndarray, shape (m, h_prev, w_prev, c)
        The previous layer's output.
    kernel_shape : tuple (kh, kw)
        Height and width of the pooling window.
    stride : tuple (sh, sw)
        Step between windows along the height and the width.
    mode : 'max' or 'avg'
        Max pooling or average pooling.

    Returns
    -------
    numpy.ndarray of float64, shape (m, h_prev, w_prev, c)
        Partial derivatives with respect to the previous layer's output.

    Examples
    --------
    >>> A = np.array([[1.0, 3.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)
    >>> dA = np.full((1, 1, 1, 1), 4.0)
    >>> pool_backward(dA, A, (2, 2), (2, 2))[0, :, :, 0].tolist()
    [[0.0, 4.0], [0.0, 0.0]]
    >>> pool_backward(dA, A, (2, 2), (2, 2), 'avg')[0, :, :, 0].tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    if mode not in ('max', 'avg'):
        raise ValueError(
            "`mode` must be 'max' or 'avg', got {!r}".format(mode))
    _, h_new, w_new, _ = dA.shape
    kh, kw = kernel_shape
    sh, sw = stride
    dA = np.asarray(dA, dtype=np.float64)
    dA_prev = np.zeros(A_prev.shape)

    if mode == 'avg':
        for t in range(kh * kw):
            i, j = divmod(t, kw)
            dA_prev[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw] += \
                dA / (kh * kw)
        return dA_prev
    best = np.full(dA.shape, -np.inf)
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        window = A_prev[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw]
        np.maximum(best, window, out=best)
    unserved = np.ones(dA.shape, dtype=bool)
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        window = A_prev[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw]
        first = unserved & (window == best)
        dA_prev[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw] += \
            np.where(first, dA, 0.0)
        unserved &= ~first
    return dA_prev
