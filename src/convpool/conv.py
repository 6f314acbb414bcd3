"""2-D convolution (cross-correlation) over image batches, and ``filter2d``
for a single picture.

Each op validates, resolves geometry once (``convpool.geometry``), picks an
engine and runs it (``convpool.engines``).
"""

import numpy as np

from . import _validate as v
from .backends import dask_op, is_dask
from .engines import ENGINES, conv_nhwc, filter_planes, resolve_threads
from .geometry import dilated_size, output_size, pair, resolve_padding

__all__ = ["conv2d", "filter2d"]

PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def conv2d(x, kernels, *, stride=1, padding="valid", dilation=1, groups=1,
           bias=None, data_format="NHWC", kernel_format="HWIO",
           engine="auto", threads=None, out=None):
    """2-D convolution of a batch of images with a bank of kernels.

    Like every deep-learning framework, this is *cross-correlation*: the
    kernel is not flipped, ``y[n, r, c, f] = sum_{i, j, ch} x[n, r * sh +
    i * dh - top, c * sw + j * dw - left, ch] * k[i, j, ch, f] + bias[f]``,
    with cells outside the input (the padding) read as zero.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C) or (N, C, H, W)
        The batch, in ``data_format``.  Any numeric dtype; any strides.
    kernels : array_like, shape (KH, KW, C/groups, F) or as ``kernel_format``
        The kernels, in ``kernel_format`` ``'HWIO'`` (TensorFlow, the
        default), ``'OIHW'`` (PyTorch: (F, C/groups, KH, KW)) or ``'OHWI'``
        (the from-scratch tutorial: (F, KH, KW, C/groups)).
    stride : int or (int, int), optional
        Step between windows, ``(sh, sw)``; default 1.
    padding : str, int, (int, int) or ((int, int), (int, int)), optional
        ``'valid'`` (default, none), ``'same'`` (TensorFlow's rule: the
        output has ``ceil(in / stride)`` cells per axis; the odd extra
        padding cell goes at the end), ``'same_lower'`` (odd extra at the
        start), ``'full'`` (``(k - 1) * dilation`` on every side), an int for
        every side, ``(ph, pw)`` for both sides of each axis, or
        ``((top, bottom), (left, right))``.  Padding is zeros.
    dilation : int or (int, int), optional
        Spacing between kernel taps; default 1.
    groups : int, optional
        Split channels and filters into this many independent groups;
        ``groups=C`` with ``F = C * m`` is a depthwise convolution.
    bias : array_like, shape (F,), optional
        Added to every output position.
    data_format : {'NHWC', 'NCHW'}, optional
        Layout of ``x`` and of the result.
    kernel_format : {'HWIO', 'OIHW', 'OHWI'}, optional
    engine : {'auto', 'taps', 'im2col'}, optional
        How the work is done; every engine gives the same numbers to
        rounding (including NaN where an inf meets a zero, as in PyTorch).
        ``'taps'`` adds one shifted, weighted copy of the input per kernel
        tap (fast with one input channel and one filter per group:
        grayscale, depthwise); ``'im2col'`` feeds BLAS matrix products,
        banded straight from the input or from gathered windows (fast with
        many channels).  ``'auto'`` picks ``'taps'`` for one channel and
        one filter per group (grayscale kernels up to 100 taps), else
        ``'im2col'``.
    threads : int, optional
        Threads to split the batch over; default ``convpool.get_threads()``.
    out : ndarray, optional
        Array to write the result into; it must have the result's shape and
        dtype and not overlap the inputs.

    Returns
    -------
    ndarray, shape (N, OH, OW, F) or (N, F, OH, OW)
        ``OH = (H + top + bottom - dh * (KH - 1) - 1) // sh + 1``, likewise
        ``OW``.  The dtype is NumPy's result type of ``x``, ``kernels`` and
        ``bias`` (``np.result_type``; float16 is accumulated in float32),
        except that all-integer or bool inputs give float64 (exact while
        sums stay below 2**53).

    See Also
    --------
    filter2d : one picture, one 2-D kernel per channel, NumPy's pad modes.
    convpool.geometry.resolve_padding : the padding rules.

    Notes
    -----
    Memory beyond the result is a few scratch buffers per thread of at most
    a few MiB each, whatever the batch size: no padded copy of the input is
    made and windows are gathered per batch chunk.

    Examples
    --------
    >>> import numpy as np
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
           [42., 50.]])
    """
    if is_dask(x):
        return dask_op(conv2d, locals())
    x = v.numeric_array(x, "x")
    kernels = v.numeric_array(kernels, "kernels")
    data_format = v.choose(data_format, v.DATA_FORMATS, "data_format")
    kernel_format = v.choose(kernel_format, tuple(v.KERNEL_FORMATS),
                             "kernel_format")
    engine = v.choose(engine, ENGINES, "engine")
    v.check_ndim(x, 4, "x", f"({', '.join(data_format)})")
    v.check_ndim(kernels, 4, "kernels",
                 f"({', '.join(_KERNEL_AXES[kernel_format])})")
    threads = resolve_threads(threads)
    xh = v.to_nhwc(x, data_format)
    w = v.kernel_to_hwio(kernels, kernel_format)
    n, h, wd, c = xh.shape
    kh, kw, cg, f = w.shape
    _check_groups(groups, c, cg, f, kernel_format)
    stride = pair(stride, "stride")
    dilation = pair(dilation, "dilation")
    if min(kh, kw) < 1:
        raise ValueError(f"`kernels` must have KH, KW >= 1, got {kh}x{kw}")
    extent = (dilated_size(kh, dilation[0]), dilated_size(kw, dilation[1]))
    pads = resolve_padding(padding, (h, wd), (kh, kw), stride, dilation)
    v.check_fits((h, wd), pads, extent, "kernels", "dilated size")
    arrays = [x, kernels]
    if bias is not None:
        bias = v.numeric_array(bias, "bias")
        if bias.shape != (f,):
            raise ValueError(
                f"`bias` must have shape ({f},) (one per filter), "
                f"got {bias.shape}")
        arrays.append(bias)
    dtype = v.compute_dtype(*arrays)
    oh = output_size(h, kh, stride[0], dilation[0], *pads[0])
    ow = output_size(wd, kw, stride[1], dilation[1], *pads[1])
    shape = (n, oh, ow, f) if data_format == "NHWC" else (n, f, oh, ow)
    result = v.result_dtype(*arrays)
    if out is None:
        out = np.empty(shape, result)
    else:
        v.check_out(out, shape, result, arrays)
    weights = np.ascontiguousarray(w, dtype)
    bias = None if bias is None else bias.astype(dtype)
    conv_nhwc(xh, weights, v.to_nhwc(out, data_format), stride, dilation,
              pads, groups, bias, engine, threads)
    return out


_KERNEL_AXES = {"HWIO": ("KH", "KW", "C/groups", "F"),
                "OIHW": ("F", "C/groups", "KH", "KW"),
                "OHWI": ("F", "KH", "KW", "C/groups")}


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


def filter2d(image, kernel, *, padding="same", stride=1, pad_mode="constant"):
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
    """
    if is_dask(image):
        return dask_op(filter2d, locals())
    image = v.numeric_array(image, "image")
    kernel = v.numeric_array(kernel, "kernel")
    v.check_ndim(image, (2, 3), "image", "(H, W) or (H, W, C)")
    v.check_ndim(kernel, 2, "kernel", "(KH, KW)")
    pad_mode = v.choose(pad_mode, PAD_MODES, "pad_mode")
    planes = image if image.ndim == 3 else image[:, :, None]
    h, w, c = planes.shape
    kh, kw = kernel.shape
    stride = pair(stride, "stride")
    pads = resolve_padding(padding, (h, w), (kh, kw), stride)
    v.check_fits((h, w), pads, (kh, kw), "kernel")
    result = np.empty((output_size(h, kh, stride[0], 1, *pads[0]),
                       output_size(w, kw, stride[1], 1, *pads[1]), c),
                      v.result_dtype(image, kernel))
    weights = np.ascontiguousarray(kernel[:, :, None, None],
                                   v.compute_dtype(image, kernel))
    filter_planes(planes, weights, result, stride, pads, pad_mode,
                  resolve_threads(None))
    return result if image.ndim == 3 else result[:, :, 0]
