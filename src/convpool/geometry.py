"""Shape arithmetic for n-D windows: pure functions on tuples, no arrays.

Every op resolves its ``stride``, ``dilation``, ``window`` and ``padding``
arguments here, once, at its entry point; everything downstream sees only
explicit ``(lo, hi)`` pairs, one per spatial axis, whatever the rank (1-D
signals, 2-D pictures, 3-D volumes).  The rules follow the convolution
arithmetic of Dumoulin & Visin (arXiv:1603.07285), TensorFlow's definition
of ``'SAME'`` padding and PyTorch's ``ceil_mode`` and adaptive pooling.
"""

import numbers

__all__ = [
    "ntuple",
    "pair",
    "dilated_size",
    "resolve_padding",
    "output_size",
    "output_shape",
    "pool_output_size",
    "pool_output_shape",
    "window_counts",
    "adaptive_windows",
    "adaptive_is_uniform",
    "ceil_div",
    "PADDING_WORDS",
]

PADDING_WORDS = ("valid", "same", "same_lower", "full")


def _what(n):
    if n == 1:
        return "a tuple of 1 int"
    return "a pair of ints" if n == 2 else f"a tuple of {n} ints"


def _as_int(value, name, n):
    # bool is an Integral, but ``stride=True`` is a mistake, not a 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int or {_what(n)}, got {value!r}")
    return int(value)


def ntuple(value, n, name, *, minimum=1):
    """Normalise an int-or-tuple argument to a tuple of ``n`` ints.

    Parameters
    ----------
    value : int or sequence of n ints
        A single number is used for every axis.  Tuples, lists, NumPy
        integers and 1-D NumPy arrays of length ``n`` are accepted.
    n : int
        Number of spatial axes.
    name : str
        The argument's name, used in error messages.
    minimum : int, optional
        Smallest allowed value (default 1).

    Returns
    -------
    tuple of n int

    Examples
    --------
    >>> ntuple(3, 3, "stride")
    (3, 3, 3)
    >>> ntuple([2, 1], 2, "stride")
    (2, 1)
    >>> ntuple((1, 2), 3, "stride")
    Traceback (most recent call last):
    ...
    ValueError: `stride` must be an int or a tuple of 3 ints, got 2 values: (1, 2)
    >>> ntuple(0, 1, "window")
    Traceback (most recent call last):
    ...
    ValueError: `window` must be >= 1, got (0,)
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"`{name}` must be an int or {_what(n)}, got {value!r}")
    if getattr(value, "ndim", None) == 0:     # a 0-d NumPy array
        value = value.item()
    if hasattr(value, "__len__") or hasattr(value, "__iter__"):
        items = tuple(value)
        if len(items) != n:
            raise ValueError(
                f"`{name}` must be an int or {_what(n)}, "
                f"got {len(items)} values: {value!r}")
        result = tuple(_as_int(item, name, n) for item in items)
    else:
        result = (_as_int(value, name, n),) * n
    if min(result) < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {result}")
    return result


def pair(value, name, *, minimum=1):
    """:func:`ntuple` for two axes: ``(height, width)``.

    >>> pair(3, "stride")
    (3, 3)
    >>> pair(0, "stride")
    Traceback (most recent call last):
    ...
    ValueError: `stride` must be >= 1, got (0, 0)
    """
    return ntuple(value, 2, name, minimum=minimum)


def dilated_size(k, dilation):
    """Extent of a ``k``-tap window with taps ``dilation`` apart.

    >>> dilated_size(3, 2)
    5
    """
    return dilation * (k - 1) + 1


def _same_pads(n, k, stride, dilation):
    # TensorFlow's 'SAME': out = ceil(n / stride), and just enough padding
    # for the last window to fit; the odd extra cell goes at the end.
    out = -(-n // stride)
    total = max((out - 1) * stride + dilated_size(k, dilation) - n, 0)
    return total // 2, total - total // 2


def _is_pair_list(items):
    return all(hasattr(p, "__iter__") and not isinstance(p, (str, bytes))
               for p in items)


def resolve_padding(padding, in_shape, window, stride, dilation=None):
    """Turn any ``padding`` into explicit ``(lo, hi)`` pairs, one per axis.

    Parameters
    ----------
    padding : str, int, tuple of n int, or n pairs of int
        ``'valid'`` (none), ``'same'`` (TensorFlow's rule: the output has
        ``ceil(in / stride)`` cells and the odd extra padding cell goes at the
        end), ``'same_lower'`` (the same total, odd extra at the start),
        ``'full'`` (``(k - 1) * dilation`` on both sides), an int for every
        side, one int per axis for both of its sides, or one ``(lo, hi)``
        pair per axis (with one axis, a flat ``(lo, hi)`` pair too).
    in_shape, window, stride, dilation : tuple of n int
        Input size, window size (undilated), stride and dilation (default
        1) per spatial axis.

    Returns
    -------
    tuple of n tuples of 2 int

    Examples
    --------
    >>> resolve_padding("same", (28, 28), (3, 3), (1, 1))
    ((1, 1), (1, 1))
    >>> resolve_padding("same", (5, 6), (2, 2), (1, 1))
    ((0, 1), (0, 1))
    >>> resolve_padding("same_lower", (5, 6), (2, 2), (1, 1))
    ((1, 0), (1, 0))
    >>> resolve_padding((2, 4), (28, 28), (3, 3), (1, 1))
    ((2, 2), (4, 4))
    >>> resolve_padding("full", (4, 4), (3, 2), (1, 1), (2, 1))
    ((4, 4), (1, 1))
    >>> resolve_padding("same", (16,), (4,), (2,))
    ((1, 1),)
    >>> resolve_padding((0, 2), (16,), (4,), (1,))
    ((0, 2),)
    >>> resolve_padding(((0, 1), (1, 0), (2, 2)), (4, 4, 4), (3, 3, 3), 1)
    ((0, 1), (1, 0), (2, 2))
    """
    n = len(in_shape)
    stride = ntuple(stride, n, "stride")
    dilation = ntuple(1 if dilation is None else dilation, n, "dilation")
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return ((0, 0),) * n
        if word in ("same", "same_lower"):
            pads = tuple(_same_pads(*args) for args in
                         zip(in_shape, window, stride, dilation))
            if word == "same_lower":
                pads = tuple((hi, lo) for lo, hi in pads)
            return pads
        if word == "full":
            return tuple((e - 1, e - 1) for e in
                         map(dilated_size, window, dilation))
        sides = "a pair (ph, pw)" if n == 2 else f"a tuple of {n} ints"
        raise ValueError(
            f"`padding` must be one of {', '.join(map(repr, PADDING_WORDS))}, "
            f"an int, {sides} or {n} (lo, hi) pairs; got {padding!r}")
    try:
        items = tuple(padding) if hasattr(padding, "__iter__") else None
    except TypeError:
        items = None
    if items is not None and len(items) == n and _is_pair_list(items):
        return tuple(ntuple(p, 2, "padding", minimum=0) for p in items)
    if n == 1 and items is not None and len(items) == 2:
        # One axis: a flat pair can only be its (lo, hi).
        return (ntuple(items, 2, "padding", minimum=0),)
    if isinstance(padding, (bytes, float)) or padding is None:
        raise TypeError(
            f"`padding` must be a padding word, an int, {_what(n)} or "
            f"{n} (lo, hi) pairs; got {padding!r}")
    return tuple((p, p) for p in ntuple(padding, n, "padding", minimum=0))


def output_size(n, k, stride=1, dilation=1, lo=0, hi=0):
    """Number of window positions along one axis (floor rule).

    ``(n + lo + hi - dilation * (k - 1) - 1) // stride + 1``; zero or less
    means the window does not fit.

    >>> output_size(28, 3, stride=2)
    13
    >>> output_size(28, 3, lo=2, hi=2)
    30
    """
    return (n + lo + hi - dilated_size(k, dilation)) // stride + 1


def output_shape(in_shape, window, stride, dilation, pads):
    """:func:`output_size` for every spatial axis (JAX's
    ``conv_shape_tuple``, spatial part).

    >>> output_shape((28, 28), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1)))
    (14, 14)
    """
    return tuple(output_size(n, k, s, d, lo, hi) for n, k, s, d, (lo, hi)
                 in zip(in_shape, window, stride, dilation, pads))


def pool_output_size(n, k, stride, lo, hi, ceil_mode=False, dilation=1):
    """Window positions for pooling, with PyTorch's ``ceil_mode`` rule.

    With ``ceil_mode`` the division rounds up, but the last window must still
    start inside the input or its leading padding (``(out - 1) * stride <
    n + lo``), as in PyTorch's ``pooling_output_shape``.

    >>> pool_output_size(5, 2, 2, 0, 0)
    2
    >>> pool_output_size(5, 2, 2, 0, 0, ceil_mode=True)
    3
    >>> pool_output_size(4, 2, 2, 0, 0, ceil_mode=True)
    2
    >>> pool_output_size(7, 2, 1, 0, 0, dilation=3)
    4
    """
    span = n + lo + hi - dilated_size(k, dilation)
    if span < 0:
        return 0
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + lo:
        out -= 1
    return out


def pool_output_shape(in_shape, window, stride, dilation, pads,
                      ceil_mode=False):
    """:func:`pool_output_size` for every spatial axis.

    >>> pool_output_shape((5, 4), (2, 2), (2, 2), (1, 1), ((0, 0),) * 2, True)
    (3, 2)
    """
    return tuple(pool_output_size(n, k, s, lo, hi, ceil_mode, d)
                 for n, k, s, d, (lo, hi)
                 in zip(in_shape, window, stride, dilation, pads))


def window_counts(n, k, out, stride, lo, hi, include_pad, dilation=1):
    """Cells each window covers along one axis: inside the input, or inside
    the input and its padding (never past the padding, as in PyTorch).

    Returns a list of ``out`` ints: an average pool's divisor along this
    axis (the divisor of an n-D window is the product over its axes).

    >>> window_counts(5, 3, 3, 2, 1, 1, include_pad=False)
    [2, 3, 2]
    >>> window_counts(5, 3, 3, 2, 1, 1, include_pad=True)
    [3, 3, 3]
    >>> window_counts(6, 2, 2, 2, 0, 0, False, dilation=3)
    [2, 2]
    """
    low, high = (-lo, n + hi) if include_pad else (0, n)
    counts = []
    for i in range(out):
        start = i * stride - lo
        taps = range(start, start + dilation * (k - 1) + 1, dilation)
        counts.append(sum(low <= t < high for t in taps))
    return counts


def adaptive_windows(n, out):
    """PyTorch's adaptive pooling windows along one axis: window ``i``
    spans ``[floor(i * n / out), ceil((i + 1) * n / out))``.

    >>> adaptive_windows(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    >>> adaptive_windows(4, 2)
    [(0, 2), (2, 4)]
    """
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def adaptive_is_uniform(n, out):
    """True when adaptive pooling along this axis is an ordinary pooling
    (every window the same size, evenly spaced): ``n`` divisible by
    ``out``.  Then window = stride = ``n // out``.

    >>> adaptive_is_uniform(8, 4), adaptive_is_uniform(5, 3)
    (True, False)
    """
    return out > 0 and n % out == 0


def ceil_div(a, b):
    """``ceil(a / b)`` for ints, without floats.

    >>> ceil_div(7, 2)
    4
    """
    return -(-a // b)

