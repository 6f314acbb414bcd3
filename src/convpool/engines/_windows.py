"""The one windowing primitive: each window tap as a pair of strided views.

Convolution and both poolings are a loop over the taps of a window.  For tap
``(i, j)`` every output cell ``(r, c)`` reads input cell
``(r * sh + i * dh - top, c * sw + j * dw - left)``; the cells of the output
whose source falls inside the input form one rectangular strided block, and
so do their sources.  Working on those two blocks handles padding without
ever building a padded copy of the input: a padded cell is never chosen by
a maximum and adds nothing to a sum, so pooling simply skips it, and the
im2col gather writes zeros for it.  (Engines that want a flat, shiftable
image build small padded frames per block from the same spans:
``_frames``.)
"""

__all__ = ["axis_span", "axis_taps", "band_pads"]


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


def band_pads(pads, r0, stride):
    """Padding seen by output rows ``r0, r0 + 1, ...`` of the same problem.

    Output row ``r0 + r`` reads input row ``(r0 + r) * sh + i * dh - top``,
    so a band starting at ``r0`` is the whole problem with ``top`` lowered
    by ``r0 * sh`` (it may go negative); only ``top`` and ``left`` are used
    by the tap geometry.

    >>> band_pads(((1, 1), (2, 2)), 3, 2)
    ((-5, 1), (2, 2))
    """
    (top, bottom), cols = pads
    return (top - r0 * stride, bottom), cols
