"""Max and average pooling over image batches."""

import inspect

import numpy as np

from . import _validate as v
from .backends import dask_op, is_dask
from .engines import pool_nhwc, resolve_threads
from .geometry import pair, pool_output_size, resolve_padding

__all__ = ["pool2d", "max_pool2d", "avg_pool2d"]

MODES = ("max", "avg")


def pool2d(x, window, *, stride=None, padding="valid", mode="max",
           ceil_mode=False, count_include_pad=False, data_format="NHWC",
           threads=None, out=None):
    """Max or average pooling of a batch of images, channel by channel.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C) or (N, C, H, W)
        The batch, in ``data_format``.
    window : int or (int, int)
        Window size ``(kh, kw)``.
    stride : int or (int, int), optional
        Step between windows; default (``None``) is the window size.
    padding : str, int, (int, int) or ((int, int), (int, int)), optional
        As in :func:`convpool.conv2d` (``'valid'``, ``'same'``,
        ``'same_lower'``, ``'full'``, int, pair, explicit pairs), smaller
        than the window on every side.  Padded cells are never chosen by a
        maximum (they act as -infinity).
    mode : {'max', 'avg'}, optional
    ceil_mode : bool, optional
        Round the output size up instead of down, as PyTorch does: an extra
        window is kept if it starts inside the input or its leading padding.
    count_include_pad : bool, optional
        Average pooling only: divide by the whole window including padded
        cells (PyTorch's default) instead of by the real cells only
        (TensorFlow's, and the default here).  Cells past the padding added
        by ``ceil_mode`` are never counted, as in PyTorch.
    data_format : {'NHWC', 'NCHW'}, optional
    threads : int, optional
        Threads to split the batch over; default ``convpool.get_threads()``.
    out : ndarray, optional
        Array to write the result into (right shape and dtype, no overlap).

    Returns
    -------
    ndarray, shape (N, OH, OW, C) or (N, C, OH, OW)
        ``OH = (H + top + bottom - kh) // sh + 1`` (rounded up with
        ``ceil_mode``).  Max pooling keeps the dtype of ``x`` and propagates
        NaN; average pooling returns float64 for integer and bool input and
        the input's float dtype otherwise (float16 is summed in float32).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool2d(x, 2)[0, :, :, 0]
    array([[ 5,  7],
           [13, 15]])
    >>> pool2d(x, 2, mode="avg")[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> pool2d(x, 3, stride=2, padding="same", mode="avg")[0, :, :, 0]
    array([[ 5. ,  6.5],
           [11. , 12.5]])
    """
    if is_dask(x):
        return dask_op(pool2d, locals())
    x = v.numeric_array(x, "x")
    mode = v.choose(mode, MODES, "mode")
    data_format = v.choose(data_format, v.DATA_FORMATS, "data_format")
    v.check_ndim(x, 4, "x", f"({', '.join(data_format)})")
    if mode == "max" and x.dtype.kind == "c":
        raise TypeError("`x` must be real for max pooling, got dtype "
                        f"{x.dtype}")
    threads = resolve_threads(threads)
    window = pair(window, "window")
    stride = window if stride is None else pair(stride, "stride")
    xh = v.to_nhwc(x, data_format)
    n, h, w, c = xh.shape
    pads = resolve_padding(padding, (h, w), window, stride)
    v.check_fits((h, w), pads, window, "window")
    v.check_pool_padding(pads, window)
    ceil_mode = v.check_flag(ceil_mode, "ceil_mode")
    count_include_pad = v.check_flag(count_include_pad, "count_include_pad")
    oh = pool_output_size(h, window[0], stride[0], *pads[0], ceil_mode)
    ow = pool_output_size(w, window[1], stride[1], *pads[1], ceil_mode)
    if mode == "max":
        result = dtype = x.dtype
    else:
        result = v.result_dtype(x)
        dtype = v.compute_dtype(x)
    shape = (n, oh, ow, c) if data_format == "NHWC" else (n, c, oh, ow)
    if out is None:
        out = np.empty(shape, result)
    else:
        v.check_out(out, shape, result, [x])
    pool_nhwc(xh, v.to_nhwc(out, data_format), window, stride, pads, mode,
              count_include_pad, dtype, threads)
    return out


def max_pool2d(x, window, **kwargs):
    """Max pooling: :func:`pool2d` with ``mode='max'``.

    >>> import numpy as np
    >>> max_pool2d(np.arange(16).reshape(1, 4, 4, 1), 2, stride=1).shape
    (1, 3, 3, 1)
    """
    return _with_mode(x, window, "max", kwargs)


def avg_pool2d(x, window, **kwargs):
    """Average pooling: :func:`pool2d` with ``mode='avg'``.

    >>> import numpy as np
    >>> x = np.ones((1, 4, 4, 1))
    >>> avg_pool2d(x, 2, padding=1, count_include_pad=True)[0, :, :, 0]
    array([[0.25, 0.5 , 0.25],
           [0.5 , 1.  , 0.5 ],
           [0.25, 0.5 , 0.25]])
    """
    return _with_mode(x, window, "avg", kwargs)


def _without_mode(signature):
    return signature.replace(parameters=[
        p for p in signature.parameters.values() if p.name != "mode"])


max_pool2d.__signature__ = avg_pool2d.__signature__ = _without_mode(
    inspect.signature(pool2d))


def _with_mode(x, window, mode, kwargs):
    if "mode" in kwargs:
        raise TypeError(f"`mode` cannot be given to {mode}_pool2d")
    return pool2d(x, window, mode=mode, **kwargs)
