"""The one windowing primitive: each window tap as a pair of strided views.

Convolution and both poolings are a loop over the taps of a window.  For tap
``(i, j)`` every output cell ``(r, c)`` reads input cell
``(r * sh + i * dh - top, c * sw + j * dw - left)``; the cells of the output
whose source falls inside the input form one rectangular strided block, and
so do their sources.  Working on those two blocks handles padding without
ever building a padded copy of the input: a padded cell contributes nothing
to a sum and is never chosen by a maximum, so it is simply skipped.
"""

__all__ = ["axis_taps", "window_taps"]


def _axis_tap(offset, n, out, stride):
    # Output cells r with 0 <= r * stride + offset <= n - 1.
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
    """For each of ``k`` taps along one axis, ``(out_slice, in_slice)`` or None.

    ``None`` marks a tap that lands in the padding for every output cell.

    >>> axis_taps(5, 3, 5, 1, 1, 1)[0]
    (slice(1, 5, None), slice(0, 4, 1))
    >>> axis_taps(4, 2, 2, 2, 1, 0)
    [(slice(0, 2, None), slice(0, 3, 2)), (slice(0, 2, None), slice(1, 4, 2))]
    """
    return [_axis_tap(i * dilation - lo, n, out, stride) for i in range(k)]


def window_taps(in_hw, window_hw, out_hw, stride, dilation, pads):
    """Yield ``(i, j, out_rows, out_cols, in_rows, in_cols)`` for every tap
    that touches the input; taps entirely in the padding are left out.
    """
    rows = axis_taps(in_hw[0], window_hw[0], out_hw[0], stride[0],
                     dilation[0], pads[0][0])
    cols = axis_taps(in_hw[1], window_hw[1], out_hw[1], stride[1],
                     dilation[1], pads[1][0])
    for i, r in enumerate(rows):
        if r is None:
            continue
        for j, c in enumerate(cols):
            if c is not None:
                yield i, j, r[0], c[0], r[1], c[1]
