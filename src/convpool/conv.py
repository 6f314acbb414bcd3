"""Convolution (cross-correlation) over batches with 1, 2 or 3 spatial axes,
and ``filter2d`` for a single picture.

Each op validates its arguments, resolves the geometry once
(:mod:`convpool.geometry`), and hands canonical views (channels last,
kernels spatial-first) to the engines (:mod:`convpool.engines`).
"""

from typing import NamedTuple

import numpy as np

from . import _validate as v
from . import layouts
from .backends import dask_op, is_dask
from .borders import resolve_pad_mode
from .engines import ENGINES, conv_channels_last, filter_planes, \
    resolve_threads
from .engines.border import FILTER_PATHS, check_filter_path
from .geometry import (dilated_size, ntuple, output_shape, output_size, pair,
                       resolve_padding)

__all__ = ["conv1d", "conv2d", "conv3d", "filter2d", "prepare_conv",
           "prepare_filter"]

# Bytes of padded input gathered at a time for a non-zero padding mode.
_BORDER_BYTES = 16 << 20


class ConvCall(NamedTuple):
    """A convolution with every argument resolved: canonical views and
    tuples, as the engines (and the gradients) take them."""
    x: np.ndarray            # (N, *spatial, C) view of the input
    kernels: np.ndarray      # (*window, C/groups, F), compute dtype
    stride: tuple
    dilation: tuple
    pads: tuple              # one (lo, hi) per spatial axis
    groups: int
    bias: object             # (F,) in the compute dtype, or None
    padding_mode: str        # a NumPy pad mode ('constant' is zeros)
    dtype: np.dtype          # the result's dtype
    out_shape: tuple         # in the caller's data_format
    data_format: str
    kernel_format: str


def prepare_conv(rank, x, kernels, *, stride=1, padding="valid", dilation=1,
                 groups=1, bias=None, padding_mode="zeros", data_format=None,
                 kernel_format=None):
    """Validate a convolution's arguments and resolve its geometry.

    Takes the arguments of :func:`conv1d` / :func:`conv2d` /
    :func:`conv3d` (``rank`` spatial axes; ``None`` formats mean the
    defaults) and returns a :class:`ConvCall`.  Raises the ops' own
    ``ValueError`` / ``TypeError`` messages.

    >>> p = prepare_conv(3, np.ones((2, 4, 5, 6, 3)), np.ones((3, 3, 3, 3, 8)),
    ...                  padding="same", stride=2)
    >>> p.pads, p.out_shape
    (((0, 1), (1, 1), (0, 1)), (2, 2, 3, 3, 8))
    """
    x = v.numeric_array(x, "x")
    kernels = v.numeric_array(kernels, "kernels")
    formats = layouts.data_formats(rank)
    data_format = v.choose(data_format or formats[0], formats, "data_format")
    kformats = layouts.kernel_formats(rank)
    kernel_format = v.choose(kernel_format or kformats[0], kformats,
                             "kernel_format")
    v.check_ndim(x, rank + 2, "x", layouts.describe(data_format))
    v.check_ndim(kernels, rank + 2, "kernels",
                 layouts.describe(kernel_format, kernel=True))
    mode = resolve_pad_mode(padding_mode, "padding_mode")
    xc = layouts.to_canonical_data(x, data_format)
    w = layouts.to_canonical_kernel(kernels, kernel_format)
    spatial, c = xc.shape[1:-1], xc.shape[-1]
    window, (cg, f) = w.shape[:-2], w.shape[-2:]
    if cg == 0 or f == 0:
        raise ValueError(
            f"`kernels` must have at least one input channel and one "
            f"filter, got C/groups={cg} and F={f} (`x` has {c} channels)")
    _check_groups(groups, c, cg, f, kernel_format)
    stride = ntuple(stride, rank, "stride")
    dilation = ntuple(dilation, rank, "dilation")
    if min(window) < 1:
        axes = ", ".join("K" + a for a in layouts.SPATIAL[rank])
        raise ValueError(f"`kernels` must have {axes} >= 1, got "
                         f"{'x'.join(map(str, window))}")
    extent = tuple(map(dilated_size, window, dilation))
    pads = resolve_padding(padding, spatial, window, stride, dilation)
    v.check_fits(spatial, pads, extent, "kernels", "dilated size")
    _check_border(mode, spatial, pads, padding_mode)
    arrays = [x, kernels]
    if bias is not None:
        bias = v.numeric_array(bias, "bias")
        if bias.shape != (f,):
            raise ValueError(
                f"`bias` must have shape ({f},) (one per filter), "
                f"got {bias.shape}")
        arrays.append(bias)
    compute = v.compute_dtype(*arrays)
    out_spatial = output_shape(spatial, window, stride, dilation, pads)
    out_shape = ((len(x),) + out_spatial + (f,) if data_format == formats[0]
                 else (len(x), f) + out_spatial)
    return ConvCall(
        xc, np.ascontiguousarray(w, compute), stride, dilation, pads,
        int(groups), None if bias is None else bias.astype(compute),
        mode, v.result_dtype(*arrays), out_shape,
        data_format, kernel_format)


def _check_groups(groups, c, cg, f, kernel_format):
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"`groups` must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"`groups` must be >= 1, got {groups}")
    if c % groups:
        raise ValueError(
            f"`groups` ({groups}) must divide the input channels ({c})")
    if f % groups:
        raise ValueError(
            f"`groups` ({groups}) must divide the number of filters ({f})")
    if cg * groups != c:
        raise ValueError(
            f"`kernels` ({kernel_format}) must have C/groups = {c} / {groups}"
            f" = {c // groups} input channels to match `x`, got {cg}")


def _check_border(mode, spatial, pads, name):
    # PyTorch's limits: a reflection needs a cell to reflect off, a wrap
    # at most one whole period, any border a cell to copy.
    for n, (lo, hi) in zip(spatial, pads):
        side = max(lo, hi)
        if mode == "constant" or side == 0:
            continue
        if n == 0 or (mode == "reflect" and side >= n) or (
                mode == "wrap" and side > n):
            limit = "smaller than" if mode == "reflect" else "at most"
            raise ValueError(
                f"`padding` {tuple(pads)} must be {limit} the input "
                f"{tuple(spatial)} on every side for "
                f"padding_mode={name!r}")


def _convolve(rank, x, kernels, stride, padding, dilation, groups, bias,
              padding_mode, data_format, kernel_format, engine, threads,
              out):
    p = prepare_conv(rank, x, kernels, stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias,
                     padding_mode=padding_mode, data_format=data_format,
                     kernel_format=kernel_format)
    engine = v.choose(engine, ENGINES, "engine")
    threads = resolve_threads(threads)
    inputs = [a for a in (x, kernels, bias) if isinstance(a, np.ndarray)]
    if out is None:
        out = np.empty(p.out_shape, p.dtype)
    else:
        v.check_out(out, p.out_shape, p.dtype, inputs)
    target = layouts.to_canonical_data(out, p.data_format)
    if p.padding_mode == "constant" or not any(map(any, p.pads)):
        conv_channels_last(p.x, p.kernels, target, p.stride, p.dilation,
                           p.pads, p.groups, p.bias, engine, threads)
        return out
    # Another border: gather padded batch chunks by index maps (no padded
    # copy of the whole batch), then convolve each without padding.
    maps = [np.pad(np.arange(n), lohi, mode=p.padding_mode)
            for n, lohi in zip(p.x.shape[1:-1], p.pads)]
    per_image = p.x.shape[-1] * p.kernels.itemsize * int(
        np.prod([len(m) for m in maps]))
    step = max(1, _BORDER_BYTES // max(1, per_image))
    for n0 in range(0, len(p.x), step):
        chunk = p.x[n0:n0 + step]
        for axis, m in enumerate(maps, start=1):
            chunk = np.take(chunk, m, axis=axis)
        conv_channels_last(chunk, p.kernels, target[n0:n0 + step], p.stride,
                           p.dilation, ((0, 0),) * rank, p.groups, p.bias,
                           engine, threads)
    return out


_CONV_DOC = """{rank}-D convolution of a batch with a bank of kernels.

    Like every deep-learning framework, this is *cross-correlation*: the
    kernel is not flipped, ``y[n, o, f] = sum_{{t, c}} x[n, o * s + t * d -
    lo, c] * k[t, c, f] + bias[f]`` over the window's taps ``t`` and the
    group's channels ``c``, with cells outside the input (the padding) read
    as zero (or as ``padding_mode`` says).

    Parameters
    ----------
    x : array_like, shape {x_shape} or {x_first}
        The batch, in ``data_format``.  Any numeric dtype; any strides.
    kernels : array_like, shape {k_shape} or as ``kernel_format``
        The kernels, in ``kernel_format`` ``'{kf[0]}'`` (TensorFlow, the
        default), ``'{kf[1]}'`` (PyTorch: {k_torch}) or ``'{kf[2]}'`` (the
        from-scratch tutorial's order).
    stride : int or tuple of {rank} int, optional
        Step between windows; default 1.
    padding : str, int, tuple of {rank} int or {rank} (lo, hi) pairs, optional
        ``'valid'`` (default, none), ``'same'`` (TensorFlow's rule: the
        output has ``ceil(in / stride)`` cells per axis; the odd extra
        padding cell goes at the end), ``'same_lower'`` (odd extra at the
        start), ``'full'`` (``(k - 1) * dilation`` on every side), an int for
        every side, one int per axis for both of its sides, or one
        ``(lo, hi)`` pair per axis.
    dilation : int or tuple of {rank} int, optional
        Spacing between kernel taps; default 1.
    groups : int, optional
        Split channels and filters into this many independent groups;
        ``groups=C`` with ``F = C * m`` is a depthwise convolution.
    bias : array_like, shape (F,), optional
        Added to every output position.
    padding_mode : {{'zeros', 'reflect', 'replicate', 'circular'}}, optional
        What the padding holds, with PyTorch's names (``Conv{rank}d``'s
        ``padding_mode``): zeros, a mirror without the edge cell, the edge
        cell, or the opposite side.  NumPy's, SciPy's and OpenCV's names
        are accepted too (:mod:`convpool.borders`), ``'symmetric'`` (a
        mirror with the edge cell) among them.
    data_format : {{'{df[0]}', '{df[1]}'}}, optional
        Layout of ``x`` and of the result.
    kernel_format : {{'{kf[0]}', '{kf[1]}', '{kf[2]}'}}, optional
    engine : str, optional
        How the work is done; every engine gives the same numbers to
        rounding, including NaN where an inf meets a zero, as in PyTorch.
        ``'taps'``: one multiply-add pass per kernel tap over the whole
        block (one input channel and one filter per group: grayscale,
        filters); ``'axpy'``: the same passes through BLAS axpy;
        ``'depthwise'``: one einsum per tap for depthwise kernels;
        ``'banded'``: BLAS products straight from the input, one per kernel
        row (one group, many channels); ``'im2col'``: a gathered window
        matrix times the kernels; ``'planar'``: the same, gathered from
        channel-planar frames (few channels per group).  ``'auto'``
        (default) lets the planner choose from the per-image problem;
        :func:`convpool.explain` says which path it takes and why.
    threads : int, optional
        Threads to split the batch over; default ``convpool.get_threads()``.
        The result's bits do not depend on it.
    out : ndarray, optional
        Array to write the result into; it must have the result's shape and
        dtype and not overlap the inputs.

    Returns
    -------
    ndarray, shape (N, {o_spatial}, F) or (N, F, {o_spatial})
        Along each axis ``o = (n + lo + hi - d * (k - 1) - 1) // s + 1``.
        The dtype is NumPy's result type of ``x``, ``kernels`` and ``bias``
        (``np.result_type``; float16 is accumulated in float32), except that
        all-integer or bool inputs give float64 (exact while sums stay below
        2**53).

    See Also
    --------
    {see_also}
    convpool.geometry.resolve_padding : the padding rules.

    Notes
    -----
    {notes}Memory beyond the result is a few scratch buffers of at most a few
    MiB each, whatever the batch size: no padded copy of the input is made.

    Examples
    --------
    {examples}
    """


def conv1d(x, kernels, *, stride=1, padding="valid", dilation=1, groups=1,
           bias=None, padding_mode="zeros", data_format="NWC",
           kernel_format="WIO", engine="auto", threads=None, out=None):
    if is_dask(x):
        return dask_op(conv1d, locals())
    return _convolve(1, x, kernels, stride, padding, dilation, groups, bias,
                     padding_mode, data_format, kernel_format, engine,
                     threads, out)


def conv2d(x, kernels, *, stride=1, padding="valid", dilation=1, groups=1,
           bias=None, padding_mode="zeros", data_format="NHWC",
           kernel_format="HWIO", engine="auto", threads=None, out=None):
    if is_dask(x):
        return dask_op(conv2d, locals())
    return _convolve(2, x, kernels, stride, padding, dilation, groups, bias,
                     padding_mode, data_format, kernel_format, engine,
                     threads, out)


def conv3d(x, kernels, *, stride=1, padding="valid", dilation=1, groups=1,
           bias=None, padding_mode="zeros", data_format="NDHWC",
           kernel_format="DHWIO", engine="auto", threads=None, out=None):
    if is_dask(x):
        return dask_op(conv3d, locals())
    return _convolve(3, x, kernels, stride, padding, dilation, groups, bias,
                     padding_mode, data_format, kernel_format, engine,
                     threads, out)


conv1d.__doc__ = _CONV_DOC.format(
    rank=1, x_shape="(N, W, C)", x_first="(N, C, W)",
    k_shape="(KW, C/groups, F)", k_torch="(F, C/groups, KW)",
    kf=layouts.kernel_formats(1), df=layouts.data_formats(1), o_spatial="OW",
    see_also="conv2d, conv3d : the same over pictures and volumes.",
    notes="Runs as a 2-D convolution of height 1 (a view).  ",
    examples=""">>> import numpy as np
    >>> x = np.arange(6.0).reshape(1, 6, 1)
    >>> conv1d(x, np.ones((2, 1, 1)))[0, :, 0]
    array([1., 3., 5., 7., 9.])
    >>> conv1d(x, np.ones((3, 1, 1)), padding="same", stride=2).shape
    (1, 3, 1)""")
conv2d.__doc__ = _CONV_DOC.format(
    rank=2, x_shape="(N, H, W, C)", x_first="(N, C, H, W)",
    k_shape="(KH, KW, C/groups, F)", k_torch="(F, C/groups, KH, KW)",
    kf=layouts.kernel_formats(2), df=layouts.data_formats(2),
    o_spatial="OH, OW",
    see_also="conv1d, conv3d : the same over signals and volumes.\n    "
             "filter2d : one picture, one 2-D kernel per channel.",
    notes="",
    examples=""">>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> k = np.ones((2, 2, 1, 1))
    >>> y = conv2d(x, k)
    >>> y.shape
    (1, 3, 3, 1)
    >>> y[0, :, :, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> conv2d(x, k, padding="same", stride=2)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]])""")
conv3d.__doc__ = _CONV_DOC.format(
    rank=3, x_shape="(N, D, H, W, C)", x_first="(N, C, D, H, W)",
    k_shape="(KD, KH, KW, C/groups, F)", k_torch="(F, C/groups, KD, KH, KW)",
    kf=layouts.kernel_formats(3), df=layouts.data_formats(3),
    o_spatial="OD, OH, OW",
    see_also="conv1d, conv2d : the same over signals and pictures.",
    notes="Runs as 2-D convolutions: for a chunk of output depth slices the "
          "input\n    slices each kernel depth tap reads are gathered side by "
          "side along\n    the channel axis, and the kernel's depth taps fold "
          "into its input\n    channels (``convpool.engines.fold``).  ",
    examples=""">>> import numpy as np
    >>> x = np.ones((1, 4, 4, 4, 2))
    >>> y = conv3d(x, np.ones((3, 3, 3, 2, 5)), padding="same")
    >>> y.shape
    (1, 4, 4, 4, 5)
    >>> y[0, :, 0, 0, 0]
    array([16., 24., 24., 16.])""")


class FilterCall(NamedTuple):
    """A ``filter2d`` call with every argument resolved."""
    planes: np.ndarray       # (H, W, C) view of the picture
    weights: np.ndarray      # (KH, KW, 1, 1), compute dtype
    stride: tuple
    pads: tuple              # ((top, bottom), (left, right))
    pad_mode: str            # a NumPy pad mode
    engine: str              # 'auto' or one of FILTER_PATHS
    dtype: np.dtype          # the result's dtype
    out_shape: tuple         # (OH, OW, C)


def prepare_filter(image, kernel, *, padding="same", stride=1,
                   pad_mode="constant", engine="auto"):
    """Validate :func:`filter2d`'s arguments and resolve its geometry;
    returns a :class:`FilterCall`.  A named ``engine`` that cannot run the
    filter raises here, before any work.

    >>> p = prepare_filter(np.ones((5, 6)), np.ones((3, 3)), stride=2)
    >>> p.pads, p.out_shape
    (((1, 1), (0, 1)), (3, 3, 1))
    """
    image = v.numeric_array(image, "image")
    kernel = v.numeric_array(kernel, "kernel")
    v.check_ndim(image, (2, 3), "image", "(H, W) or (H, W, C)")
    v.check_ndim(kernel, 2, "kernel", "(KH, KW)")
    pad_mode = resolve_pad_mode(pad_mode)
    engine = v.choose(engine, ("auto",) + FILTER_PATHS, "engine")
    planes = image if image.ndim == 3 else image[:, :, None]
    h, w, c = planes.shape
    kh, kw = kernel.shape
    stride = pair(stride, "stride")
    pads = resolve_padding(padding, (h, w), (kh, kw), stride)
    v.check_fits((h, w), pads, (kh, kw), "kernel")
    out_hw = (output_size(h, kh, stride[0], 1, *pads[0]),
              output_size(w, kw, stride[1], 1, *pads[1]))
    weights = np.ascontiguousarray(kernel[:, :, None, None],
                                   v.compute_dtype(image, kernel))
    if engine != "auto":
        check_filter_path(engine, weights[:, :, 0, 0], weights.dtype,
                          stride, out_hw, "engine")
    return FilterCall(planes, weights, stride, pads, pad_mode, engine,
                      v.result_dtype(image, kernel), out_hw + (c,))


def filter2d(image, kernel, *, padding="same", stride=1, pad_mode="constant",
             engine="auto", threads=None):
    """Filter one picture with a 2-D kernel, each channel on its own.

    Cross-correlation, as in :func:`conv2d`; borders follow NumPy's
    :func:`numpy.pad` modes.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
    kernel : array_like, shape (KH, KW)
    padding : str, int, (int, int) or ((int, int), (int, int)), optional
        As in :func:`conv2d`; default ``'same'`` (output ``ceil(in /
        stride)`` per axis).
    stride : int or (int, int), optional
    pad_mode : {'constant', 'reflect', 'symmetric', 'edge', 'wrap'}, optional
        How the border is filled: zeros, a mirror without or with the edge
        cell repeated, the edge cell, or the opposite side.
    engine : {'auto', 'direct', 'tiled', 'separable', 'fft'}, optional
        How the work is done; every path gives the same numbers to
        rounding (within ``64 * eps * max|image| * sum|kernel|``).
        ``'direct'``: the convolution engines, the channels as a batch of
        grayscale pictures (tap passes, or banded BLAS products above 100
        taps); ``'tiled'``: every tap one pass over cache-sized bands of
        rows, all channels at once; ``'separable'``: a kernel that is
        ``outer(col, row)`` to the compute dtype's precision as a vertical
        then a horizontal pass, ``KH + KW`` taps; ``'fft'``: overlap-save
        FFT tiles (stride 1).  ``'auto'`` (default) asks the planner,
        which estimates each path's cost in tap passes and takes the
        cheapest: ``direct`` for a 1x1 kernel or one with an inf or NaN
        (only tap sums keep its exact inf/NaN pattern), ``separable``
        whenever the kernel is rank 1 (unless FFT is cheaper, for very
        large kernels), ``tiled`` for other kernels of at most 49 taps,
        and beyond that ``fft`` at stride 1 when its tiles cost less
        (from about 9x9 on large pictures), else ``direct``.
        :func:`convpool.explain` says which path it takes and why.  A
        named path that cannot run the call (``'fft'`` at a stride other
        than 1, ``'separable'`` on a kernel that is not rank 1) raises
        ValueError: there is no fallback.
    threads : int, optional
        Threads to split the picture over; default
        ``convpool.get_threads()``.  The result's bits do not depend on it.

    Returns
    -------
    ndarray, shape (OH, OW) or (OH, OW, C)
        Same dtype rules as :func:`conv2d`.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(9.0).reshape(3, 3)
    >>> filter2d(img, np.ones((3, 3)) / 9, pad_mode="edge").round(2)
    array([[1.33, 2.  , 2.67],
           [3.33, 4.  , 4.67],
           [5.33, 6.  , 6.67]])
    >>> filter2d(img, np.outer([1, 2, 1], [1, 0, -1]), pad_mode="edge",
    ...          engine="separable")
    array([[-4., -8., -4.],
           [-4., -8., -4.],
           [-4., -8., -4.]])
    """
    if is_dask(image):
        return dask_op(filter2d, locals())
    p = prepare_filter(image, kernel, padding=padding, stride=stride,
                       pad_mode=pad_mode, engine=engine)
    threads = resolve_threads(threads)
    result = np.empty(p.out_shape, p.dtype)
    filter_planes(p.planes, p.weights, result, p.stride, p.pads, p.pad_mode,
                  threads, path=None if p.engine == "auto" else p.engine,
                  name="engine")
    return result if np.ndim(image) == 3 else result[:, :, 0]
