#!/usr/bin/env python3
"""Back propagation over a convolutional layer."""
import numpy as np


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    """Perform back propagation over a convolutional layer.

    The forward pass adds, for every kernel tap (i, j), the strided slice
    A[:, i::sh, j::sw] times W[i, j].  Its gradient runs over the same
    taps: W[i, j] gets that slice times dZ, summed over the images and
    the output pixels, and the slice's cells get dZ times W[i, j]
    transposed (added up where windows overlap).  No loop runs over
    output pixels.

    Parameters
    ----------
    dZ : numpy.ndarray, shape (m, h_new, w_new, c_new)
        Partial derivatives of the loss with respect to the unactivated
        output of the layer.
    A_prev : numpy.ndarray, shape (m, h_prev, w_prev, c_prev)
        The previous layer's output.
    W : numpy.ndarray, shape (kh, kw, c_prev, c_new)
        The kernels.
    b : numpy.ndarray, shape (1, 1, 1, c_new)
        The biases.
    padding : 'same' or 'valid'
        As in conv_forward: 'same' follows TensorFlow's rule for any
        stride (total padding max((ceil(h_prev / sh) - 1) * sh + kh -
        h_prev, 0), total // 2 on top, the rest at the bottom).
    stride : tuple (sh, sw)
        Step between windows along the height and the width.

    Returns
    -------
    dA_prev : numpy.ndarray, shape (m, h_prev, w_prev, c_prev)
        Partial derivatives with respect to the previous layer's output.
    dW : numpy.ndarray, shape (kh, kw, c_prev, c_new)
        Partial derivatives with respect to the kernels.
    db : numpy.ndarray, shape (1, 1, 1, c_new)
        Partial derivatives with respect to the biases.

    Examples
    --------
    >>> A = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> W, b = np.ones((2, 2, 1, 1)), np.zeros((1, 1, 1, 1))
    >>> dA, dW, db = conv_backward(np.ones((1, 2, 2, 1)), A, W, b, 'valid')
    >>> dA[0, :, :, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    >>> dW[:, :, 0, 0].tolist(), db.shape
    ([[8.0, 12.0], [20.0, 24.0]], (1, 1, 1, 1))
    """
    m, h_prev, w_prev, c_prev = A_prev.shape
    _, h_new, w_new, c_new = dZ.shape
    kh, kw, _, _ = W.shape
    sh, sw = stride
    top = bottom = left = right = 0
    if padding == 'same':
        th = max((-(-h_prev // sh) - 1) * sh + kh - h_prev, 0)
        tw = max((-(-w_prev // sw) - 1) * sw + kw - w_prev, 0)
        top, bottom, left, right = th // 2, th - th // 2, tw // 2, tw - tw // 2
    elif padding != 'valid':
        raise ValueError("`padding` must be 'same' or 'valid', "
                         "got {!r}".format(padding))
    A = np.pad(np.asarray(A_prev, dtype=np.float64),
               ((0, 0), (top, bottom), (left, right), (0, 0)))
    dZ = np.asarray(dZ, dtype=np.float64)
    dA = np.zeros(A.shape)
    dW = np.zeros(W.shape)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * h_new, sh)
            cols = slice(j, j + sw * w_new, sw)
            dW[i, j] = np.tensordot(A[:, rows, cols], dZ,
                                    axes=([0, 1, 2], [0, 1, 2]))
            dA[:, rows, cols] += dZ @ W[i, j].T
    db = dZ.sum(axis=(0, 1, 2), keepdims=True)
    return dA[:, top:top + h_prev, left:left + w_prev], dW, db
