"""Max, average and adaptive pooling over batches with 1, 2 or 3 spatial
axes."""

import numpy as np

from . import _validate as v
from . import layouts
from .backends import dask_op, is_dask
from .engines import pool_channels_last, resolve_threads
from .geometry import (adaptive_windows, dilated_size, ntuple,
                       pool_output_shape, resolve_padding, window_counts)

__all__ = ["pool1d", "pool2d", "pool3d",
           "max_pool1d", "max_pool2d", "max_pool3d",
           "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"]

MODES = ("max", "avg")
# Bytes of input reduced at a time by adaptive pooling.
_ADAPTIVE_BYTES = 16 << 20


def _pool(rank, x, window, stride, padding, dilation, mode, ceil_mode,
          count_include_pad, data_format, threads, out):
    x = v.numeric_array(x, "x")
    mode = v.choose(mode, MODES, "mode")
    formats = layouts.data_formats(rank)
    data_format = v.choose(data_format, formats, "data_format")
    v.check_ndim(x, rank + 2, "x", layouts.describe(data_format))
    if mode == "max" and x.dtype.kind == "c":
        raise TypeError("`x` must be real for max pooling, got dtype "
                        f"{x.dtype}")
    threads = resolve_threads(threads)
    window = ntuple(window, rank, "window")
    stride = window if stride is None else ntuple(stride, rank, "stride")
    dilation = ntuple(dilation, rank, "dilation")
    xc = layouts.to_canonical_data(x, data_format)
    spatial = xc.shape[1:-1]
    extent = tuple(map(dilated_size, window, dilation))
    pads = resolve_padding(padding, spatial, window, stride, dilation)
    _check_empty_axes(spatial, pads)
    v.check_fits(spatial, pads, extent, "window")
    v.check_pool_padding(pads, extent)
    ceil_mode = v.check_flag(ceil_mode, "ceil_mode")
    count_include_pad = v.check_flag(count_include_pad, "count_include_pad")
    out_spatial = pool_output_shape(spatial, window, stride, dilation, pads,
                                    ceil_mode)
    if mode == "avg" and not count_include_pad:
        _check_windows_reach_input(spatial, window, stride, dilation, pads,
                                   out_spatial)
    if mode == "max":
        result = dtype = x.dtype
    else:
        result = v.result_dtype(x)
        dtype = v.compute_dtype(x)
    shape = _shape(len(x), out_spatial, xc.shape[-1], data_format, formats)
    if out is None:
        out = np.empty(shape, result)
    else:
        v.check_out(out, shape, result, [x])
    pool_channels_last(xc, layouts.to_canonical_data(out, data_format),
                       window, stride, dilation, pads, mode,
                       count_include_pad, dtype, threads)
    return out


def _shape(n, spatial, c, data_format, formats):
    if data_format == formats[0]:
        return (n,) + tuple(spatial) + (c,)
    return (n, c) + tuple(spatial)


def _check_empty_axes(spatial, pads):
    # Every window of an empty axis lies wholly in the padding: there is
    # nothing to pool (PyTorch returns -inf or NaN from such windows).
    if 0 in spatial and any(map(any, pads)):
        raise ValueError(
            f"`x` has an empty spatial axis {tuple(spatial)}: there is "
            f"nothing to pool, only padding {tuple(pads)}")


def _check_windows_reach_input(spatial, window, stride, dilation, pads,
                               out_spatial):
    # A dilated window can step over the input and land only on padding;
    # its average over real cells would be 0 / 0.  (Undilated windows
    # always reach the input: the padding is smaller than the window.)
    for axis, (n, k, s, d, (lo, hi), o) in enumerate(
            zip(spatial, window, stride, dilation, pads, out_spatial)):
        if d > 1 and 0 in window_counts(n, k, o, s, lo, hi, False, d):
            raise ValueError(
                f"`dilation` {tuple(dilation)} with `padding` {tuple(pads)} "
                f"leaves an average-pooling window along spatial axis "
                f"{axis} with only padded cells, nothing of `x` to average; "
                f"use less padding or count_include_pad=True")


_POOL_DOC = """Max or average pooling of a {rank}-D batch, channel by channel.

    Parameters
    ----------
    x : array_like, shape {x_shape} or {x_first}
        The batch, in ``data_format``.
    window : int or tuple of {rank} int
        Window size per spatial axis.
    stride : int or tuple of {rank} int, optional
        Step between windows; default (``None``) is the window size.
    padding : str, int, tuple of {rank} int or {rank} (lo, hi) pairs, optional
        As in :func:`convpool.conv{rank}d` (``'valid'``, ``'same'``,
        ``'same_lower'``, ``'full'``, int, per axis, explicit pairs),
        smaller than the (dilated) window on every side.  Padded cells are
        never chosen by a maximum (they act as -infinity).
    dilation : int or tuple of {rank} int, optional
        Spacing between window taps (PyTorch's ``max_pool{rank}d``
        ``dilation``; TensorFlow's ``tf.nn.pool`` ``dilation_rate`` for
        average pooling); default 1.
    mode : {{'max', 'avg'}}, optional
    ceil_mode : bool, optional
        Round the output size up instead of down, as PyTorch does: an extra
        window is kept if it starts inside the input or its leading padding.
    count_include_pad : bool, optional
        Average pooling only: divide by the whole window including padded
        cells (PyTorch's default) instead of by the real cells only
        (TensorFlow's, and the default here).  Cells past the padding added
        by ``ceil_mode`` are never counted, as in PyTorch.  Without it, a
        dilation and padding that leave some window with padded cells only
        (nothing to average) are refused with a ValueError.
    data_format : {{'{df[0]}', '{df[1]}'}}, optional
    threads : int, optional
        Threads to split the batch over; default ``convpool.get_threads()``.
    out : ndarray, optional
        Array to write the result into (right shape and dtype, no overlap).

    Returns
    -------
    ndarray, shape (N, {o_spatial}, C) or (N, C, {o_spatial})
        Along each axis ``o = (n + lo + hi - d * (k - 1) - 1) // s + 1``
        (rounded up with ``ceil_mode``).  Max pooling keeps the dtype of
        ``x`` and propagates NaN; average pooling returns float64 for
        integer and bool input and the input's float dtype otherwise
        (float16 is summed in float32).

    Examples
    --------
    {examples}
    """


def pool1d(x, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NWC", threads=None, out=None):
    if is_dask(x):
        return dask_op(pool1d, locals())
    return _pool(1, x, window, stride, padding, dilation, mode, ceil_mode,
                 count_include_pad, data_format, threads, out)


def pool2d(x, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NHWC", threads=None, out=None):
    if is_dask(x):
        return dask_op(pool2d, locals())
    return _pool(2, x, window, stride, padding, dilation, mode, ceil_mode,
                 count_include_pad, data_format, threads, out)


def pool3d(x, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NDHWC", threads=None, out=None):
    if is_dask(x):
        return dask_op(pool3d, locals())
    return _pool(3, x, window, stride, padding, dilation, mode, ceil_mode,
                 count_include_pad, data_format, threads, out)


pool1d.__doc__ = _POOL_DOC.format(
    rank=1, x_shape="(N, W, C)", x_first="(N, C, W)", o_spatial="OW",
    df=layouts.data_formats(1), examples=""">>> import numpy as np
    >>> x = np.arange(6).reshape(1, 6, 1)
    >>> pool1d(x, 2)[0, :, 0]
    array([1, 3, 5])
    >>> pool1d(x, 2, stride=1, dilation=2, mode="avg")[0, :, 0]
    array([1., 2., 3., 4.])""")
pool2d.__doc__ = _POOL_DOC.format(
    rank=2, x_shape="(N, H, W, C)", x_first="(N, C, H, W)",
    o_spatial="OH, OW", df=layouts.data_formats(2),
    examples=""">>> import numpy as np
    >>> x = np.arange(16).reshape(1, 4, 4, 1)
    >>> pool2d(x, 2)[0, :, :, 0]
    array([[ 5,  7],
           [13, 15]])
    >>> pool2d(x, 2, mode="avg")[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> pool2d(x, 3, stride=2, padding="same", mode="avg")[0, :, :, 0]
    array([[ 5. ,  6.5],
           [11. , 12.5]])""")
pool3d.__doc__ = _POOL_DOC.format(
    rank=3, x_shape="(N, D, H, W, C)", x_first="(N, C, D, H, W)",
    o_spatial="OD, OH, OW", df=layouts.data_formats(3),
    examples=""">>> import numpy as np
    >>> x = np.arange(64).reshape(1, 4, 4, 4, 1)
    >>> pool3d(x, 2)[0, :, :, :, 0]
    array([[[21, 23],
            [29, 31]],
    <BLANKLINE>
           [[53, 55],
            [61, 63]]])""")


def _fixed_mode(pool, mode, rank):
    def op(x, window, **kwargs):
        if is_dask(x) and kwargs.get("return_indices"):
            return dask_op(op, locals())
        if "mode" in kwargs:
            raise TypeError(f"`mode` cannot be given to {mode}_pool{rank}d")
        if mode == "max" and kwargs.pop("return_indices", False):
            from .unpool import max_pool_with_indices
            kwargs.pop("threads", None)
            return max_pool_with_indices(x, window, rank=rank, **kwargs)
        return pool(x, window, mode=mode, **kwargs)
    op.__name__ = op.__qualname__ = f"{mode}_pool{rank}d"
    word = "Max" if mode == "max" else "Average"
    op.__doc__ = (f"{word} pooling: :func:`pool{rank}d` with "
                  f"``mode='{mode}'``; the same keywords."
                  + (" ``return_indices=True`` also returns PyTorch's "
                     "indices (flat positions within each (n, c) plane); "
                     "see :mod:`convpool.unpool`." if mode == "max" else ""))
    return op


max_pool1d = _fixed_mode(pool1d, "max", 1)
max_pool2d = _fixed_mode(pool2d, "max", 2)
max_pool3d = _fixed_mode(pool3d, "max", 3)
avg_pool1d = _fixed_mode(pool1d, "avg", 1)
avg_pool2d = _fixed_mode(pool2d, "avg", 2)
avg_pool3d = _fixed_mode(pool3d, "avg", 3)


def _adaptive(rank, x, output_size, mode, data_format):
    x = v.numeric_array(x, "x")
    formats = layouts.data_formats(rank)
    data_format = v.choose(data_format, formats, "data_format")
    v.check_ndim(x, rank + 2, "x", layouts.describe(data_format))
    if mode == "max" and x.dtype.kind == "c":
        raise TypeError("`x` must be real for max pooling, got dtype "
                        f"{x.dtype}")
    xc = layouts.to_canonical_data(x, data_format)
    spatial = xc.shape[1:-1]
    sizes = _output_sizes(output_size, spatial)
    if 0 in spatial:
        raise ValueError(
            f"`x` has an empty spatial axis {tuple(spatial)}: there is "
            f"nothing to pool")
    dtype = x.dtype if mode == "max" else v.compute_dtype(x)
    result = x.dtype if mode == "max" else v.result_dtype(x)
    out = np.empty(_shape(len(x), sizes, xc.shape[-1], data_format, formats),
                   result)
    target = layouts.to_canonical_data(out, data_format)
    item = max(1, int(np.prod(spatial)) * xc.shape[-1] * dtype.itemsize)
    step = max(1, _ADAPTIVE_BYTES // item)
    for n0 in range(0, len(x), step):
        part = xc[n0:n0 + step]
        for axis, size in enumerate(sizes, start=1):
            part = _adaptive_axis(part, axis, size, mode, dtype)
        target[n0:n0 + step] = part
    return out


def _output_sizes(output_size, spatial):
    """``output_size`` per axis, ``None`` keeping an axis's size."""
    rank = len(spatial)
    items = (tuple(output_size) if isinstance(output_size, (tuple, list))
             else (output_size,) * rank)
    if len(items) != rank:
        raise ValueError(
            f"`output_size` must be an int or a tuple of {rank} ints "
            f"(None keeps an axis), got {output_size!r}")
    filled = tuple(n if s is None else s for s, n in zip(items, spatial))
    return ntuple(filled, rank, "output_size")


def _adaptive_axis(x, axis, size, mode, dtype):
    """Reduce one axis to ``size`` cells over PyTorch's adaptive windows:
    an n-D box's maximum or mean is taken one axis at a time."""
    n = x.shape[axis]
    if size == n:
        return x if x.dtype == dtype else x.astype(dtype)
    reduce = np.max if mode == "max" else np.mean
    shape = list(x.shape)
    shape[axis] = size
    out = np.empty(shape, dtype)
    index = [slice(None)] * x.ndim
    with np.errstate(invalid="ignore", over="ignore"):
        for i, (start, stop) in enumerate(adaptive_windows(n, size)):
            index[axis] = slice(start, stop)
            source = x[tuple(index)]
            index[axis] = i
            out[tuple(index)] = reduce(source, axis=axis, dtype=dtype) \
                if mode == "avg" else reduce(source, axis=axis)
    return out


_ADAPTIVE_DOC = """Adaptive {word} pooling of a {rank}-D batch to a fixed
    output size, as PyTorch's ``adaptive_{mode}_pool{rank}d``.

    Output cell ``i`` of an axis of ``n`` input cells pools the window
    ``[floor(i * n / out), ceil((i + 1) * n / out))``; ``output_size=1``
    is global pooling.

    Parameters
    ----------
    x : array_like, shape {x_shape} or {x_first}
    output_size : int or tuple of {rank} (int or None)
        Output cells per spatial axis; ``None`` keeps an axis's size.
    data_format : {{'{df[0]}', '{df[1]}'}}, optional

    Returns
    -------
    ndarray
        In ``x``'s layout.  {dtype_rule}

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> adaptive_{mode}_pool1d(x, 3)[:, :, 0]
    {example}
    """


def _make_adaptive(rank, mode):
    formats = layouts.data_formats(rank)

    def op(x, output_size, *, data_format=formats[0], return_indices=False):
        if is_dask(x):
            return dask_op(op, locals())
        if return_indices and mode == "max":
            from .unpool import adaptive_max_pool_with_indices
            return adaptive_max_pool_with_indices(
                x, output_size, data_format=data_format, rank=rank)
        return _adaptive(rank, x, output_size, mode, data_format)
    op.__name__ = op.__qualname__ = f"adaptive_{mode}_pool{rank}d"
    op.__doc__ = _ADAPTIVE_DOC.format(
        rank=rank, mode=mode, word="maximum" if mode == "max" else "average",
        df=formats,
        x_shape=layouts.describe(formats[0]),
        x_first=layouts.describe(formats[1]),
        dtype_rule=("The dtype of ``x``; NaN propagates." if mode == "max"
                    else "float64 for integer and bool input, else the "
                         "input's float dtype."),
        example=("array([[1., 3., 4.]])" if mode == "max"
                 else "array([[0.5, 2. , 3.5]])"))
    return op


adaptive_avg_pool1d = _make_adaptive(1, "avg")
adaptive_avg_pool2d = _make_adaptive(2, "avg")
adaptive_avg_pool3d = _make_adaptive(3, "avg")
adaptive_max_pool1d = _make_adaptive(1, "max")
adaptive_max_pool2d = _make_adaptive(2, "max")
adaptive_max_pool3d = _make_adaptive(3, "max")
