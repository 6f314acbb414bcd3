#!/usr/bin/env python3
"""Forward propagation over a convolutional layer."""
import numpy as np


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    """Perform forward propagation over a convolutional layer.

    Cross-correlation, as in every framework: the kernels are not flipped.
    The loops run over the kh * kw kernel taps, never over output pixels:
    tap (i, j) multiplies the strided slice A[:, i::sh, j::sw] of every
    image, shape (m, h_new, w_new, c_prev), by the tap's weights W[i, j],
    shape (c_prev, c_new), in one matrix product.

    Parameters
    ----------
    A_prev : numpy.ndarray, shape (m, h_prev, w_prev, c_prev)
        The previous layer's output.
    W : numpy.ndarray, shape (kh, kw, c_prev, c_new)
        The kernels.
    b : numpy.ndarray, shape (1, 1, 1, c_new)
        The biases.
    activation : callable
        The activation function, applied to the whole result.
    padding : 'same' or 'valid'
        'same' follows TensorFlow's rule for any stride: the output has
        ceil(h_prev / sh) rows, the padding is total = max((ceil(h_prev /
        sh) - 1) * sh + kh - h_prev, 0) rows, total // 2 on top and the
        rest at the bottom (likewise for the width).  'valid' pads nothing.
    stride : tuple (sh, sw)
        Step between windows along the height and the width.

    Returns
    -------
    numpy.ndarray, shape (m, h_new, w_new, c_new)
        activation(A_prev * W + b), in float64.

    Examples
    --------
    >>> A = np.ones((1, 3, 3, 1))
    >>> W = np.ones((2, 2, 1, 1))
    >>> b = np.full((1, 1, 1, 1), -1.0)
    >>> conv_forward(A, W, b, np.tanh, 'valid').shape
    (1, 2, 2, 1)
    >>> conv_forward(A, W, b, lambda z: z, 'same')[0, :, :, 0].tolist()
    [[3.0, 3.0, 1.0], [3.0, 3.0, 1.0], [1.0, 1.0, 0.0]]
    """
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
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
    h_new = (A.shape[1] - kh) // sh + 1
    w_new = (A.shape[2] - kw) // sw + 1
    Z = np.zeros((m, h_new, w_new, c_new))
    for i in range(kh):
        for j in range(kw):
            window = A[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw]
            Z += window @ W[i, j]
    return activation(Z + b)
