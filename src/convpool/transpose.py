"""Transposed convolution, for every rank: the adjoint of ``conv{r}d``.

``conv_transpose{r}d(x, kernels)`` is the gradient of a convolution with
respect to its input, ``dx`` for ``dy = x``; :mod:`convpool.grad` calls the
same :func:`transposed_conv`.  It is built from forward convolutions, as
JAX builds its VJPs (``_conv_general_dilated_transpose_lhs``): no second
engine exists for backward.

How: along an axis with stride ``s``, the output cells ``i = rho + s * m``
of one phase ``rho`` only receive taps ``t`` with ``t * d = rho + lo``
(mod ``s``), which form an arithmetic progression ``t0, t0 + P, ...``
(``P = s / gcd(s, d)``).  So each phase is a stride-1 forward convolution of
``dy`` with the flipped sub-kernel of those taps (dilation ``d * P / s``),
written straight into the strided slice ``dx[rho::s]``.  There are
``s ** r`` phases and no zeros are inserted: the work is the forward's,
where inserting ``s - 1`` zeros between ``dy`` cells (the textbook
"fractionally strided" convolution, arXiv:1603.07285) would multiply it by
``s ** r``.
"""

import itertools
import math

import numpy as np

from . import layouts
from .backends import dask_op, is_dask
from . import _validate as v
from .geometry import dilated_size, ntuple, resolve_padding

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "transposed_conv"]


def forward_conv(rank):
    """The public ``conv{rank}d`` (looked up late: this module is imported
    by the package that defines it)."""
    import convpool
    return getattr(convpool, f"conv{rank}d")


def from_canonical(a, layout):
    """View in ``layout`` of a channels-last batch or a spatial-IO kernel
    array (the inverse of ``layouts.to_canonical_*``)."""
    return a.transpose(layouts.permutation(_canonical(layout), layout))


def shape_in(shape, layout):
    """The shape in ``layout`` of a channels-last or spatial-IO ``shape``.

    >>> shape_in((2, 5, 6, 3), "NCHW")
    (2, 3, 5, 6)
    """
    return tuple(shape[i] for i in layouts.permutation(_canonical(layout),
                                                       layout))


def _canonical(layout):
    rank = len(layout) - 2
    return (layouts.data_formats(rank) if "N" in layout
            else layouts.kernel_formats(rank))[0]


def transposed_kernel(w, groups):
    """The kernel (*K, F/groups, C) of the transposed convolution, from the
    forward's (*K, C/groups, F): inputs and outputs swap within each
    group."""
    *k, cg, f = w.shape
    w = w.reshape(*k, cg, groups, f // groups)
    w = np.moveaxis(w, -3, -1)                 # (*K, groups, F/g, C/g)
    w = np.moveaxis(w, -3, -2)                 # (*K, F/g, groups, C/g)
    return w.reshape(*k, f // groups, groups * cg)


def phase_plan(n, o_len, k, s, d, lo, rho):
    """How ``dx[rho::s]`` along one axis is a stride-1 convolution of dy.

    Returns ``(taps, dilation, dy_slice, (lo, hi))``: the flipped taps of
    the kernel, the sub-kernel's dilation, the cells of ``dy`` to read and
    the padding around them; or None if no tap reaches this phase.

    >>> phase_plan(8, 4, 3, 2, 1, 1, 0)   # taps 1 reach the even cells
    (slice(1, 0, -2), 1, slice(0, 4, None), (0, 0))
    """
    m = len(range(rho, n, s))
    p = s // math.gcd(s, d)
    t0 = next((t for t in range(min(k, p)) if (rho + lo - t * d) % s == 0),
              None)
    if m == 0 or t0 is None:
        return None
    j = len(range(t0, k, p))
    dil = d * p // s
    plo = (j - 1) * dil - (rho + lo - t0 * d) // s
    phi = m - o_len + (j - 1) * dil - plo
    # Negative padding means dy cells no dx cell of this phase reads.
    start, stop = max(0, -plo), o_len + min(0, phi)
    if stop <= start:
        return None
    last = t0 + (j - 1) * p
    taps = slice(last, t0 - 1 if t0 > 0 else None, -p)
    return taps, dil, slice(start, stop), (max(plo, 0), max(phi, 0))


def transposed_conv(dy, w, out, stride, dilation, lows, groups,
                    engine="auto", threads=None):
    """Write into ``out`` (N, *S, C) the transposed convolution of ``dy``
    (N, *O, F) with the forward kernel ``w`` (*K, C/groups, F).

    All arrays are channels last and of one dtype; ``lows`` is the
    forward's leading padding per axis (the trailing padding only decides
    ``S``, which ``out`` gives).  ``dx[i] = sum over o, t with o * s + t *
    d - lo = i of dy[o] @ w[t].T``.
    """
    rank = dy.ndim - 2
    conv = forward_conv(rank)
    wt = transposed_kernel(w, groups)
    spatial, o_shape, k_shape = out.shape[1:-1], dy.shape[1:-1], w.shape[:-2]
    data_format, kernel_format = (layouts.data_formats(rank)[0],
                                  layouts.kernel_formats(rank)[0])
    for phase in itertools.product(*(range(min(s, n)) for s, n in
                                     zip(stride, spatial))):
        dst = out[(slice(None),) + tuple(slice(r, None, s) for r, s in
                                         zip(phase, stride))]
        plans = [phase_plan(*args) for args in zip(
            spatial, o_shape, k_shape, stride, dilation, lows, phase)]
        if dy.shape[0] == 0 or None in plans:
            dst.fill(0)
            continue
        taps, dils, cells, pads = zip(*plans)
        conv(dy[(slice(None),) + cells], wt[taps], stride=1, dilation=dils,
             padding=pads, groups=groups, data_format=data_format,
             kernel_format=kernel_format, engine=engine, threads=threads,
             out=dst)
    return out


def transpose_geometry(padding, output_padding, in_shape, k_shape, stride,
                       dilation):
    """Output size and forward leading padding of a transposed convolution.

    Explicit padding ``(lo, hi)`` gives PyTorch's size ``(I - 1) * s - lo -
    hi + d * (K - 1) + 1 + output_padding``.  ``'same'`` and
    ``'same_lower'`` give ``I * s`` (TensorFlow), ``'valid'`` gives Keras's
    ``I * s + max(d * (K - 1) + 1 - s, 0)`` and ``'full'`` removes ``d * (K
    - 1)`` cells at each side; a word takes no ``output_padding``.

    >>> transpose_geometry("same", (0, 0), (4, 5), (3, 3), (2, 2), (1, 1))
    ((8, 10), (0, 0))
    >>> transpose_geometry(1, (1, 0), (4, 5), (3, 3), (2, 2), (1, 1))
    ((8, 9), (1, 1))
    """
    ext = tuple(map(dilated_size, k_shape, dilation))
    if isinstance(padding, str):
        word = padding.lower()
        if any(output_padding):
            raise ValueError(
                f"`output_padding` must be 0 with padding {padding!r} (the "
                f"word fixes the output size), got {output_padding}")
        if word in ("same", "same_lower"):
            size = tuple(i * s for i, s in zip(in_shape, stride))
        elif word == "valid":
            size = tuple(i * s + max(e - s, 0)
                         for i, s, e in zip(in_shape, stride, ext))
        elif word == "full":
            size = tuple((i - 1) * s - e + 2
                         for i, s, e in zip(in_shape, stride, ext))
        else:
            resolve_padding(padding, in_shape, k_shape, stride, dilation)
        pads = resolve_padding(word, size, k_shape, stride, dilation)
    else:
        pads = resolve_padding(padding, in_shape, k_shape, stride, dilation)
        size = tuple((i - 1) * s - lo - hi + e + op for i, s, (lo, hi), e, op
                     in zip(in_shape, stride, pads, ext, output_padding))
    return size, tuple(lo for lo, _ in pads)


def conv_transpose(rank, x, kernels, *, stride=1, padding=0,
                   output_padding=0, dilation=1, groups=1, bias=None,
                   data_format=None, kernel_format=None, engine="auto",
                   threads=None):
    """Transposed convolution over ``rank`` spatial axes (see
    :func:`conv_transpose2d`)."""
    cl, cf = layouts.data_formats(rank)
    data_format = v.choose(cl if data_format is None else data_format,
                           (cl, cf), "data_format")
    kformats = layouts.kernel_formats(rank)
    kernel_format = v.choose(kformats[0] if kernel_format is None
                             else kernel_format, kformats, "kernel_format")
    x = v.numeric_array(x, "x")
    kernels = v.numeric_array(kernels, "kernels")
    v.check_ndim(x, rank + 2, "x", f"({', '.join(data_format)})")
    v.check_ndim(kernels, rank + 2, "kernels",
                 f"({', '.join(kernel_format)})")
    stride = ntuple(stride, rank, "stride")
    dilation = ntuple(dilation, rank, "dilation")
    output_padding = ntuple(output_padding, rank, "output_padding",
                            minimum=0)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(
                f"`output_padding` must be smaller than `stride` or "
                f"`dilation` on every axis, got {output_padding} with "
                f"stride {stride} and dilation {dilation}")
    xc = layouts.to_canonical_data(x, data_format)
    w = layouts.to_canonical_kernel(kernels, kernel_format)
    _check_channels(groups, xc.shape[-1], w.shape, kernel_format)
    size, lows = transpose_geometry(padding, output_padding, xc.shape[1:-1],
                                    w.shape[:-2], stride, dilation)
    if min(size) < 1:
        raise ValueError(
            f"`padding` {padding!r} leaves no output: the transposed "
            f"convolution of {xc.shape[1:-1]} cells would have {size}")
    arrays = [x, kernels] + ([] if bias is None else
                             [_check_bias(bias, w.shape[-2] * groups)])
    dtype = v.result_dtype(*arrays)
    shape = (xc.shape[0], *size, w.shape[-2] * groups)
    out = np.empty(shape_in(shape, data_format), dtype)
    out_cl = layouts.to_canonical_data(out, data_format)
    transposed_conv(xc.astype(dtype, copy=False), w.astype(dtype, copy=False),
                    out_cl, stride, dilation, lows, groups, engine, threads)
    if bias is not None:
        out_cl += arrays[-1].astype(dtype)
    return out


def _check_channels(groups, c, w_shape, kernel_format):
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"`groups` must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"`groups` must be >= 1, got {groups}")
    *k, cg, f = w_shape
    if min(k, default=1) < 1:
        raise ValueError(f"`kernels` must have every kernel size >= 1, "
                         f"got {tuple(k)}")
    if f % groups or f != c:
        raise ValueError(
            f"`kernels` ({kernel_format}) must have F = {c} filters (the "
            f"channels of `x`, a multiple of `groups` {groups}), got {f}")


def _check_bias(bias, channels):
    bias = v.numeric_array(bias, "bias")
    if bias.shape != (channels,):
        raise ValueError(f"`bias` must have shape ({channels},) (one per "
                         f"output channel), got {bias.shape}")
    return bias


def conv_transpose2d(x, kernels, *, stride=1, padding=0, output_padding=0,
                     dilation=1, groups=1, bias=None, data_format="NHWC",
                     kernel_format="HWIO", engine="auto", threads=None):
    """2-D transposed convolution: the gradient of :func:`convpool.conv2d`
    with respect to its input.

    Equal to ``torch.nn.functional.conv_transpose2d`` and to
    ``tf.nn.conv2d_transpose``.  The kernel array is the one of the
    convolution being transposed, in the same ``kernel_format``: PyTorch's
    ``conv_transpose2d`` weight (C, F/groups, KH, KW) is that forward
    convolution's ``'OIHW'`` array, TensorFlow's filter its ``'HWIO'``
    array.

    Parameters
    ----------
    x : array_like, shape (N, H, W, F) or (N, F, H, W)
        The batch; its channels are the forward convolution's filters.
    kernels : array_like, shape (KH, KW, C/groups, F) or as ``kernel_format``
        The forward convolution's kernels.
    stride, dilation : int or (int, int), optional
        The forward convolution's; the output grows by about ``stride``.
    padding : int, (int, int), ((int, int), (int, int)) or str, optional
        The forward convolution's padding, removed from the output:
        explicit pairs follow PyTorch (output ``(H - 1) * sh - top -
        bottom + dh * (KH - 1) + 1 + output_padding``); ``'same'`` (and
        ``'same_lower'``) give ``H * sh`` cells, ``'valid'`` ``H * sh +
        max(dh * (KH - 1) + 1 - sh, 0)`` (TensorFlow/Keras), ``'full'``
        ``(H - 1) * sh - dh * (KH - 1) + 1``.
    output_padding : int or (int, int), optional
        Cells added at the end of each axis (explicit padding only), each
        smaller than the stride or the dilation, as in PyTorch.
    groups : int, optional
    bias : array_like, shape (C,), optional
    data_format : {'NHWC', 'NCHW'}, optional
    kernel_format : {'HWIO', 'OIHW', 'OHWI'}, optional
    engine, threads : optional
        Passed to the forward convolutions that do the work.

    Returns
    -------
    ndarray, shape (N, OH, OW, C) or (N, C, OH, OW)
        Dtype as :func:`convpool.conv2d`.

    Notes
    -----
    ``stride ** 2`` stride-1 forward convolutions, one per output phase,
    each with the sub-kernel of the taps that reach it: the forward's work,
    with no zeros inserted between the input's cells.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((1, 2, 2, 1))
    >>> conv_transpose2d(x, np.ones((3, 3, 1, 1)), stride=2)[0, :, :, 0]
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    >>> conv_transpose2d(x, np.ones((3, 3, 1, 1)), stride=2,
    ...                  padding="same").shape
    (1, 4, 4, 1)
    """
    if is_dask(x):
        return dask_op(conv_transpose2d, locals())
    return conv_transpose(
        2, x, kernels, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation, groups=groups,
        bias=bias, data_format=data_format, kernel_format=kernel_format,
        engine=engine, threads=threads)


def conv_transpose1d(x, kernels, *, stride=1, padding=0, output_padding=0,
                     dilation=1, groups=1, bias=None, data_format="NWC",
                     kernel_format="WIO", engine="auto", threads=None):
    """1-D transposed convolution: :func:`conv_transpose2d` over one axis.

    ``x`` (N, W, F) or (N, F, W); ``kernels`` (KW, C/groups, F) or as
    ``kernel_format`` (``'WIO'``, ``'OIW'``, ``'OWI'``).  Equal to
    ``torch.nn.functional.conv_transpose1d``.
    """
    if is_dask(x):
        return dask_op(conv_transpose1d, locals())
    return conv_transpose(
        1, x, kernels, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation, groups=groups,
        bias=bias, data_format=data_format, kernel_format=kernel_format,
        engine=engine, threads=threads)


def conv_transpose3d(x, kernels, *, stride=1, padding=0, output_padding=0,
                     dilation=1, groups=1, bias=None, data_format="NDHWC",
                     kernel_format="DHWIO", engine="auto", threads=None):
    """3-D transposed convolution: :func:`conv_transpose2d` over three axes.

    ``x`` (N, D, H, W, F) or (N, F, D, H, W); ``kernels`` (KD, KH, KW,
    C/groups, F) or as ``kernel_format`` (``'DHWIO'``, ``'OIDHW'``,
    ``'ODHWI'``).  Equal to ``torch.nn.functional.conv_transpose3d``.
    """
    if is_dask(x):
        return dask_op(conv_transpose3d, locals())
    return conv_transpose(
        3, x, kernels, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation, groups=groups,
        bias=bias, data_format=data_format, kernel_format=kernel_format,
        engine=engine, threads=threads)
