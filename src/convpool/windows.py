"""The one windowing primitive: each window tap as a pair of strided views.

Convolution, both poolings and their gradients are a loop over the taps of
a window.  For tap ``t`` (one index per spatial axis) every output cell
``o`` reads input cell ``o * stride + t * dilation - lo`` along each axis;
the output cells whose source lies inside the input form one rectangular
strided block, and so do their sources.  Working on those two blocks handles
padding without ever building a padded copy of the input: a padded cell is
never chosen by a maximum and adds nothing to a sum, so it is skipped.

Forward ops read ``x[in_slices]`` and write ``y[out_slices]``; backward ops
read ``dy[out_slices]`` and scatter-add into ``dx[in_slices]``.  This module
is the only place that builds strided views (:func:`window_view`), and
they are read-only.
"""

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["axis_span", "axis_taps", "band_pads", "taps", "window_view",
           "with_unit_axis"]


def axis_span(offset, n, out, stride):
    """``(out_slice, in_slice)`` of the output cells ``r < out`` whose source
    ``r * stride + offset`` lies in ``[0, n)``, or None if there are none.

    >>> axis_span(-1, 5, 5, 1)
    (slice(1, 5, None), slice(0, 4, 1))
    """
    first = 0 if offset >= 0 else (stride - 1 - offset) // stride
    if offset > n - 1:
        return None
    last = min(out - 1, (n - 1 - offset) // stride)
    if last < first:
        return None
    start = first * stride + offset
    return (slice(first, last + 1),
            slice(start, start + (last - first) * stride + 1, stride))


def axis_taps(n, k, out, stride, dilation, lo):
    """For each of ``k`` taps along one axis, ``(out_slice, in_slice)``, or
    None.

    ``None`` marks a tap that lands in the padding for every output cell.

    >>> axis_taps(5, 3, 5, 1, 1, 1)[0]
    (slice(1, 5, None), slice(0, 4, 1))
    >>> axis_taps(4, 2, 2, 2, 1, 0)
    [(slice(0, 2, None), slice(0, 3, 2)), (slice(0, 2, None), slice(1, 4, 2))]
    """
    return [axis_span(i * dilation - lo, n, out, stride) for i in range(k)]


def taps(in_shape, window, out_shape, stride, dilation, pads):
    """Yield ``(tap, out_slices, in_slices)`` for every tap of an n-D window
    that reaches the input, in row-major (scan) order.

    ``tap`` is the tap's index tuple; the slices index the spatial axes
    only (prefix them with ``...`` or ``slice(None)`` for batch and
    channel axes).

    >>> [t for t, _, _ in taps((3,), (3,), (3,), (1,), (1,), ((1, 1),))]
    [(0,), (1,), (2,)]
    >>> next(taps((4, 4), (2, 2), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0))))
    ((0, 0), (slice(0, 2, None), slice(0, 2, None)), (slice(0, 3, 2), slice(0, 3, 2)))
    """
    per_axis = [axis_taps(*args, lo) for args, (lo, _) in zip(
        zip(in_shape, window, out_shape, stride, dilation), pads)]
    for tap in itertools.product(*(range(k) for k in window)):
        spans = [axis[i] for axis, i in zip(per_axis, tap)]
        if all(span is not None for span in spans):
            yield (tap, tuple(s[0] for s in spans),
                   tuple(s[1] for s in spans))


def band_pads(pads, r0, stride):
    """Padding seen by output rows ``r0, r0 + 1, ...`` of the same problem.

    Output row ``r0 + r`` reads input row ``(r0 + r) * sh + i * dh - top``,
    so a band starting at ``r0`` is the whole problem with ``top`` lowered
    by ``r0 * sh`` (it may go negative); only the leading pads are used by
    the tap geometry.

    >>> band_pads(((1, 1), (2, 2)), 3, 2)
    ((-5, 1), (2, 2))
    """
    (top, bottom), *rest = pads
    return ((top - r0 * stride, bottom), *rest)


def window_view(x, window, axes, stride=None, dilation=None):
    """Read-only view of every window of ``x`` along ``axes``: the window
    axes are appended at the end (NumPy's ``sliding_window_view``), then
    the window positions are strided and the taps dilated by slicing.

    >>> x = np.arange(6)
    >>> window_view(x, (2,), (0,), stride=(2,))
    array([[0, 1],
           [2, 3],
           [4, 5]])
    >>> window_view(x, (2,), (0,), dilation=(3,))
    array([[0, 3],
           [1, 4],
           [2, 5]])
    """
    n = len(axes)
    stride = stride or (1,) * n
    dilation = dilation or (1,) * n
    extent = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
    view = sliding_window_view(x, extent, axis=axes)
    index = [slice(None)] * x.ndim + [slice(None, None, d) for d in dilation]
    for axis, s in zip(axes, stride):
        index[axis] = slice(None, None, s)
    return view[tuple(index)]


def with_unit_axis(a):
    """``a`` (N, W, C) as (N, 1, W, C): a 1-D batch seen as pictures of
    height 1.

    ``a[:, None]`` gives the new axis stride 0, which engines that step
    between rows by their stride cannot use; here it gets the stride of a
    row in a contiguous stack.  The axis has length 1, so that stride is
    never stepped over; the view is as writeable as ``a``.

    >>> with_unit_axis(np.zeros((2, 5, 3))).strides
    (120, 120, 24, 8)
    """
    row = a.shape[1] * a.strides[1] or a.itemsize
    return np.lib.stride_tricks.as_strided(
        a, (a.shape[0], 1) + a.shape[1:], (a.strides[0], row) + a.strides[1:],
        writeable=a.flags.writeable)
