#!/usr/bin/env python3
"""Forward propagation over a pooling layer."""
import numpy as np


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode='max'):
    """Perform forward propagation over a pooling layer.

    No padding.  The loop runs over the kh * kw cells of the window, never
    over output pixels: cell (i, j) folds the strided slice
    A_prev[:, i::sh, j::sw] of every image into the running maximum
    (np.maximum, so NaN propagates) or the running sum.

    Parameters
    ----------
    A_prev : numpy.ndarray, shape (m, h_prev, w_prev, c_prev)
        The previous layer's output.
    kernel_shape : tuple (kh, kw)
        Height and width of the pooling window.
    stride : tuple (sh, sw)
        Step between windows along the height and the width.
    mode : 'max' or 'avg'
        Max pooling or average pooling.

    Returns
    -------
    numpy.ndarray of float64, shape (m, (h_prev - kh) // sh + 1, ...,
    c_prev)
        The pooled output.

    Examples
    --------
    >>> A = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool_forward(A, (2, 2), (2, 2))[..., 0].tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
    >>> pool_forward(A, (2, 2), (2, 2), 'avg')[..., 0].tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    if mode not in ('max', 'avg'):
        raise ValueError(
            "`mode` must be 'max' or 'avg', got {!r}".format(mode))
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw = kernel_shape
    sh, sw = stride
    h_new, w_new = (h_prev - kh) // sh + 1, (w_prev - kw) // sw + 1
    fold = np.maximum if mode == 'max' else np.add
    A = None
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        window = A_prev[:, i:i + sh * h_new:sh, j:j + sw * w_new:sw]
        if A is None:
            A = np.array(window, dtype=np.float64)
        else:
            fold(A, window, out=A)
    return A if mode == 'max' else A / (kh * kw)
