"""Max pooling with indices, and max unpooling, for every rank.

An index is PyTorch's: the flat position of the chosen cell within its
``(n, c)`` spatial plane (row-major over the spatial axes).  Unpooling
scatters values to those positions; the gradient of max pooling is the
same scatter of ``dy`` with the forward's indices, adding where windows
overlap (:func:`scatter_planes` does both).
"""

import itertools
import math

import numpy as np

from . import layouts
from . import _validate as v
from .engines import resolve_threads
from .engines._parallel import run_blocks, worth_threads
from .geometry import adaptive_windows, ntuple, resolve_padding
from .transpose import from_canonical, shape_in
from .windows import taps as window_taps

# Channels below which the argmax works channel-major: with fewer, NumPy's
# inner loops would run over a pixel's few channels.  Measured, 2x2/2 max
# pools with indices, medians of 40 interleaved runs: channel-major is
# faster at 1-4 channels (3: 1.12-1.27x), pixel-major at 6 and more
# (128x28x28x6 float32: 2.94 -> 2.43 ms; 12 channels 4.38 -> 3.05 ms;
# float64, 6 channels 3.64 -> 3.16 ms).
FEW_CHANNELS = 6

__all__ = ["max_pool_with_indices", "adaptive_max_pool_with_indices",
           "max_unpool1d", "max_unpool2d", "max_unpool3d"]


def forward_pool(rank):
    """The public ``pool{rank}d`` (looked up late, as ``forward_conv``)."""
    import convpool
    return getattr(convpool, f"pool{rank}d")


def pool_indices(x, window, stride, dilation, pads, ceil_mode):
    """Max pool channels-last ``x`` (N, *S, C): ``(values, indices)``, both
    (N, *O, C), ``indices`` int64 positions in each ``(n, c)`` plane.

    PyTorch's rule (its CPU kernel keeps the first real cell of a window,
    then takes any later cell with ``val > max || isnan(val)``): ties go to
    the first maximum in scan order, and a window holding NaN to its last
    NaN.  The maxima come from the forward op (its fast engine); then one
    pass per tap, in scan order, marks each window's first cell equal to
    its maximum.  Only windows whose maximum is NaN need a second pass.
    """
    rank = x.ndim - 2
    values = forward_pool(rank)(
        x, window, stride=stride, padding=pads, ceil_mode=ceil_mode,
        dilation=dilation, data_format=layouts.data_formats(rank)[0],
        mode="max")
    spatial, out_spatial = x.shape[1:-1], values.shape[1:-1]
    plane_strides = [math.prod(spatial[a + 1:]) for a in range(rank)]
    # With few channels, work channel-major (C, N, *S) so that NumPy's
    # inner loops run along a row rather than over 3 channels.
    short = x.shape[-1] < FEW_CHANNELS
    lead = (slice(None),) * (2 if short else 1)
    xv, vv = (np.moveaxis(a, -1, 0) if short else a for a in (x, values))
    taps = [(int(np.dot(tap, np.multiply(dilation, plane_strides))),
             lead + out_sl, lead + in_sl)
            for tap, out_sl, in_sl in window_taps(
                spatial, window, out_spatial, stride, dilation, pads)]
    # Each window's tap number first, in the smallest integer type (a
    # quarter to an eighth of the memory traffic of int64 offsets), then
    # the tap's offset in the plane, looked up once.
    code_type = np.min_scalar_type(max(len(taps) - 1, 0))
    codes = np.zeros(vv.shape, code_type)
    found = np.zeros(vv.shape, bool)
    for t, (_, out_sl, in_sl) in enumerate(taps):
        # The window's first hit: a cell equal to the maximum where none
        # was found before (bool ``>`` is "and not"); bool and small
        # integer passes, no masked copy (4x slower here).
        hit = np.equal(xv[in_sl], vv[out_sl], order="C")
        if t:
            first = np.greater(hit, found[out_sl])
            codes[out_sl] += first.view(np.uint8).astype(code_type,
                                                         copy=False) * (
                code_type.type(t))
        np.logical_or(found[out_sl], hit, out=found[out_sl])
    if values.dtype.kind in "fc" and np.isnan(values).any():
        for t, (_, out_sl, in_sl) in enumerate(taps):
            np.copyto(codes[out_sl], t, where=np.isnan(xv[in_sl], order="C"))
    offsets = np.array([offset for offset, _, _ in taps],
                       np.int64).take(codes)
    # Plus the position of each window's first cell (it may be padding).
    for a, (s, (lo, _)) in enumerate(zip(stride, pads)):
        starts = (np.arange(out_spatial[a]) * s - lo) * plane_strides[a]
        offsets += starts.reshape([-1] + [1] * (rank - a - short))
    if short:
        offsets = np.ascontiguousarray(np.moveaxis(offsets, 0, -1))
    return values, offsets


def scatter_planes(values, indices, out, channels_last, accumulate,
                   threads=None):
    """``out[n, c].flat[indices[n, c, o]] = values[n, c, o]`` (or ``+=``
    with ``accumulate``), for channels-last ``values`` and ``indices`` (N,
    *O, C) and a zeroed C-contiguous ``out``, channels last or first.

    Assignment with repeated indices keeps the last in row-major order of
    ``values`` (as PyTorch's CPU ``max_unpool``); ``accumulate`` adds them
    (the max-pool gradient where windows overlap).  An index outside its
    plane raises a ValueError naming ``indices``.

    The work goes in batch chunks of about ``SCATTER_CHUNK`` bytes of
    indices: each chunk's flat targets stay in cache between being
    computed and used (measured 0.10 s instead of 0.16 s for 10000x16x16x3
    indices, one thread).  Chunks own whole images, whose cells no other
    chunk touches, so neither the chunking nor the threads change a bit.
    """
    n, c = values.shape[0], values.shape[-1]
    plane = out.size // max(n * c, 1)
    per_image = max(1, indices[:1].size * 8)
    step = max(1, SCATTER_CHUNK // per_image)
    blocks = [(n0, min(n0 + step, n), 0, 0) for n0 in range(0, n, step)]
    lanes = _lane_offsets(values.shape, plane, channels_last)
    flat = out.reshape(n, out.size // n if n else 0)

    def chunk(n0, n1, _r0, _r1, _scratch):
        idx = indices[n0:n1]
        if idx.size and (idx.min() < 0 or idx.max() >= plane):
            bad = idx[(idx < 0) | (idx >= plane)].flat[0]
            raise ValueError(
                f"`indices` must lie in [0, {plane}) (flat positions in a "
                f"plane of the output), got {bad}")
        target = np.multiply(idx, c if channels_last else 1, dtype=np.int64)
        target += lanes[:n1 - n0]
        dst, src = flat[n0:n1].reshape(-1), values[n0:n1].reshape(-1)
        if accumulate:
            np.add.at(dst, target.reshape(-1), src)
        else:
            dst[target.reshape(-1)] = src

    run_blocks(chunk, blocks, worth_threads(indices.nbytes,
                                            resolve_threads(threads)))
    return out


# Bytes of int64 indices per batch chunk of a scatter (see scatter_planes).
SCATTER_CHUNK = 1 << 20


def _lane_offsets(shape, plane, channels_last):
    """Where each ``(n, c)`` plane starts in a chunk's flat output, shaped to
    broadcast against indices of ``shape`` (N, *O, C)."""
    n, c = shape[0], shape[-1]
    ones = [1] * (len(shape) - 2)
    images = np.arange(n).reshape([n] + ones + [1]) * (plane * c)
    if channels_last:     # memory order (n, *S, c): (n * P + i) * C + c
        return images + np.arange(c)
    return images + np.arange(c) * plane


def pool_geometry(rank, x, window, stride, padding, dilation):
    """Resolved ``(window, stride, dilation, pads)`` of a pooling call whose
    arguments the forward op has already checked."""
    window = ntuple(window, rank, "window")
    stride = window if stride is None else ntuple(stride, rank, "stride")
    dilation = ntuple(dilation, rank, "dilation")
    pads = resolve_padding(padding, x.shape[1:-1], window, stride, dilation)
    return window, stride, dilation, pads


def pool_keywords(stride, padding, dilation, ceil_mode, data_format):
    """The forward pooling keywords shared by the index and gradient
    functions."""
    return dict(stride=stride, padding=padding, dilation=dilation,
                ceil_mode=ceil_mode, data_format=data_format)


def max_pool_with_indices(x, window, *, stride=None, padding="valid",
                          dilation=1, ceil_mode=False, data_format=None,
                          rank=None):
    """Max pooling that also returns where each maximum came from.

    Parameters
    ----------
    x : array_like, shape (N, *S, C) or (N, C, *S)
    window, stride, padding, dilation, ceil_mode, data_format
        As in :func:`convpool.max_pool2d` (and its 1-D and 3-D kin).
    rank : {1, 2, 3}, optional
        Spatial axes; default ``x.ndim - 2``.

    Returns
    -------
    values : ndarray, the forward's result (dtype of ``x``)
    indices : ndarray of int64, same shape
        PyTorch's convention: the flat position of the chosen cell within
        its ``(n, c)`` plane of ``x``.  Ties go to the first maximum in
        window scan order, NaN counts as maximal (the last NaN wins), as
        in ``torch.nn.functional.max_pool2d(..., return_indices=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 3, 3, 0], [2, 0, 1, 5]]).reshape(1, 2, 4, 1)
    >>> values, indices = max_pool_with_indices(x, 2)
    >>> values[0, :, :, 0], indices[0, :, :, 0]
    (array([[3, 5]]), array([[1, 7]]))
    """
    x = v.numeric_array(x, "x")
    rank = _rank(x, rank)
    cl, cf = layouts.data_formats(rank)
    data_format = cl if data_format is None else data_format
    forward_pool(rank)(           # checks every argument, as the forward
        x[:0] if x.ndim else x, window, mode="max",
        **pool_keywords(stride, padding, dilation, ceil_mode, data_format))
    data_format = v.choose(data_format, (cl, cf), "data_format")
    xc = layouts.to_canonical_data(x, data_format)
    window, stride, dilation, pads = pool_geometry(rank, xc, window, stride,
                                                   padding, dilation)
    values, indices = pool_indices(xc, window, stride, dilation, pads,
                                   ceil_mode)
    return (np.ascontiguousarray(from_canonical(values, data_format)),
            np.ascontiguousarray(from_canonical(indices, data_format)))


def adaptive_max_pool_with_indices(x, output_size, *, data_format=None,
                                   rank=None):
    """Adaptive max pooling that also returns where each maximum came from.

    Parameters
    ----------
    x : array_like, shape (N, *S, C) or (N, C, *S)
    output_size, data_format
        As in :func:`convpool.adaptive_max_pool2d` (and its kin).
    rank : {1, 2, 3}, optional
        Spatial axes; default ``x.ndim - 2``.

    Returns
    -------
    values, indices : ndarray
        As :func:`max_pool_with_indices`; equal to PyTorch's
        ``adaptive_max_pool2d(..., return_indices=True)``, ties and NaN
        included.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 3, 3, 0, 5]]).reshape(1, 1, 5, 1)
    >>> values, indices = adaptive_max_pool_with_indices(x, (1, 3))
    >>> values[0, 0, :, 0], indices[0, 0, :, 0]
    (array([3, 3, 5]), array([1, 1, 4]))
    """
    x = v.numeric_array(x, "x")
    rank = _rank(x, rank)
    cl, cf = layouts.data_formats(rank)
    data_format = cl if data_format is None else data_format
    import convpool
    values = getattr(convpool, f"adaptive_max_pool{rank}d")(
        x, output_size, data_format=data_format)
    data_format = v.choose(data_format, (cl, cf), "data_format")
    xc = layouts.to_canonical_data(x, data_format)
    vc = layouts.to_canonical_data(values, data_format)
    spatial, out_spatial = xc.shape[1:-1], vc.shape[1:-1]
    windows = [np.array(adaptive_windows(n, o)) for n, o in
               zip(spatial, out_spatial)]
    offsets = np.zeros(vc.shape, np.int64)
    taps = list(itertools.product(*(range(int((w[:, 1] - w[:, 0]).max()))
                                    for w in windows)))
    gathers = [_adaptive_tap(xc, windows, tap) for tap in taps]
    for cells, flat, real in reversed(gathers):
        np.copyto(offsets, flat, where=(cells == vc) & real)
    if vc.dtype.kind in "fc" and np.isnan(vc).any():
        for cells, flat, real in gathers:
            np.copyto(offsets, flat, where=np.isnan(cells) & real)
    return values, np.ascontiguousarray(from_canonical(offsets, data_format))


def _adaptive_tap(x, windows, tap):
    """Tap ``tap`` of every adaptive window of channels-last ``x``: the
    cells (N, *O, C), their in-plane positions and whether they are inside
    their window (windows differ in size)."""
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    index, flat, real = [slice(None)], 0, True
    for a, (w, t) in enumerate(zip(windows, tap)):
        shape = [1] * rank
        shape[a] = -1
        cell = np.minimum(w[:, 0] + t, w[:, 1] - 1).reshape(shape)
        index.append(cell)
        flat = flat + cell * math.prod(spatial[a + 1:])
        real = real & (w[:, 0] + t < w[:, 1]).reshape(shape)
    return x[tuple(index)], flat[..., None], real[..., None]


def _rank(x, rank):
    rank = x.ndim - 2 if rank is None else rank
    if rank not in layouts.SPATIAL:
        raise ValueError(f"`rank` must be 1, 2 or 3, got {rank}")
    return rank


def max_unpool(rank, x, indices, window, *, stride=None, padding=0,
               output_size=None, data_format=None):
    """Max unpooling over ``rank`` spatial axes (see :func:`max_unpool2d`).
    """
    cl, cf = layouts.data_formats(rank)
    data_format = v.choose(cl if data_format is None else data_format,
                           (cl, cf), "data_format")
    x = v.numeric_array(x, "x")
    indices = np.asarray(indices)
    v.check_ndim(x, rank + 2, "x", f"({', '.join(data_format)})")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"`indices` must be an integer array, got dtype "
                        f"{indices.dtype}")
    if indices.shape != x.shape:
        raise ValueError(f"`indices` must have the shape of `x` "
                         f"{x.shape}, got {indices.shape}")
    window = ntuple(window, rank, "window")
    stride = window if stride is None else ntuple(stride, rank, "stride")
    padding = ntuple(padding, rank, "padding", minimum=0)
    xc = layouts.to_canonical_data(x, data_format)
    size = unpool_size(xc.shape[1:-1], window, stride, padding, output_size)
    plane = math.prod(size)
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        raise ValueError(
            f"`indices` must lie in [0, {plane}) (flat positions in an "
            f"output plane of {size}), got values from {indices.min()} to "
            f"{indices.max()}")
    shape = (xc.shape[0], *size, xc.shape[-1])
    out = np.zeros(shape_in(shape, data_format), x.dtype)
    scatter_planes(xc, layouts.to_canonical_data(indices, data_format), out,
                   data_format == cl, accumulate=False)
    return out


def unpool_size(in_spatial, window, stride, padding, output_size):
    """PyTorch's ``_unpool_output_size``: ``(I - 1) * s - 2 * p + k``, or
    ``output_size`` (its last ``rank`` entries) if strictly within one
    stride of that."""
    default = tuple((i - 1) * s - 2 * p + k for i, s, p, k in
                    zip(in_spatial, stride, padding, window))
    if output_size is None:
        size = default
    else:
        size = tuple(int(n) for n in output_size)
        if len(size) == len(default) + 2:
            size = size[2:]
        if len(size) != len(default) or not all(
                d - s < n < d + s for n, d, s in zip(size, default, stride)):
            raise ValueError(
                f"`output_size` must be {len(default)} sizes, each within "
                f"one stride {stride} of {default}, got {output_size!r}")
    if min(size) < 1:
        raise ValueError(f"`padding` {padding} leaves an empty output "
                         f"{size}")
    return size


def max_unpool2d(x, indices, window, *, stride=None, padding=0,
                 output_size=None, data_format="NHWC"):
    """Undo max pooling: put each value back where its maximum came from.

    Equal to ``torch.nn.functional.max_unpool2d``: every other cell is
    zero; where indices repeat, the last value in row-major order wins.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C) or (N, C, H, W)
        Pooled values.
    indices : array_like of int, shape of ``x``
        Flat positions in each ``(n, c)`` output plane, as returned by
        :func:`max_pool_with_indices`.
    window, stride, padding : int or (int, int)
        The pooling's (``stride`` defaults to the window).
    output_size : sequence of int, optional
        (OH, OW) or (N, C, OH, OW); default ``(H - 1) * sh - 2 * ph + kh``
        per axis.
    data_format : {'NHWC', 'NCHW'}, optional

    Returns
    -------
    ndarray, shape (N, OH, OW, C) or (N, C, OH, OW), dtype of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1., 3., 3., 0.], [2., 0., 1., 5.]]).reshape(1, 2, 4, 1)
    >>> values, indices = max_pool_with_indices(x, 2)
    >>> max_unpool2d(values, indices, 2)[0, :, :, 0]
    array([[0., 3., 0., 0.],
           [0., 0., 0., 5.]])
    """
    return max_unpool(2, x, indices, window, stride=stride, padding=padding,
                      output_size=output_size, data_format=data_format)


def max_unpool1d(x, indices, window, *, stride=None, padding=0,
                 output_size=None, data_format="NWC"):
    """Max unpooling over one axis, as :func:`max_unpool2d` (``x`` (N, W,
    C) or (N, C, W)); equal to ``torch.nn.functional.max_unpool1d``."""
    return max_unpool(1, x, indices, window, stride=stride, padding=padding,
                      output_size=output_size, data_format=data_format)


def max_unpool3d(x, indices, window, *, stride=None, padding=0,
                 output_size=None, data_format="NDHWC"):
    """Max unpooling over three axes, as :func:`max_unpool2d` (``x`` (N, D,
    H, W, C) or (N, C, D, H, W)); equal to
    ``torch.nn.functional.max_unpool3d``."""
    return max_unpool(3, x, indices, window, stride=stride, padding=padding,
                      output_size=output_size, data_format=data_format)
