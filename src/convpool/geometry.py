"""Shape arithmetic for 2-D windows: pure functions on tuples, no arrays.

Every op resolves its ``stride``, ``dilation``, ``window`` and ``padding``
arguments here, once, at its entry point; everything downstream sees only
explicit ``((top, bottom), (left, right))`` pairs.  The rules follow the
convolution arithmetic of Dumoulin & Visin (arXiv:1603.07285) and
TensorFlow's definition of ``'SAME'`` padding.
"""

import numbers

__all__ = [
    "pair",
    "dilated_size",
    "resolve_padding",
    "output_size",
    "pool_output_size",
    "PADDING_WORDS",
]

PADDING_WORDS = ("valid", "same", "same_lower", "full")


def _as_int(value, name):
    # bool is an Integral, but ``stride=True`` is a mistake, not a 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int or a pair of ints, got {value!r}")
    return int(value)


def pair(value, name, *, minimum=1):
    """Normalise an int-or-pair argument to a ``(height, width)`` tuple.

    Parameters
    ----------
    value : int or sequence of 2 ints
        A single number is used for both axes.  Tuples, lists, NumPy integers
        and 1-D NumPy arrays of length 2 are accepted.
    name : str
        The argument's name, used in error messages.
    minimum : int, optional
        Smallest allowed value (default 1).

    Returns
    -------
    tuple of 2 int

    Examples
    --------
    >>> pair(3, "stride")
    (3, 3)
    >>> pair([2, 1], "stride")
    (2, 1)
    >>> pair(0, "stride")
    Traceback (most recent call last):
    ...
    ValueError: `stride` must be >= 1, got (0, 0)
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"`{name}` must be an int or a pair of ints, got {value!r}")
    if getattr(value, "ndim", None) == 0:     # a 0-d NumPy array
        value = value.item()
    if hasattr(value, "__len__") or hasattr(value, "__iter__"):
        items = tuple(value)
        if len(items) != 2:
            raise ValueError(
                f"`{name}` must be an int or a pair of ints, "
                f"got {len(items)} values: {value!r}")
        result = (_as_int(items[0], name), _as_int(items[1], name))
    else:
        v = _as_int(value, name)
        result = (v, v)
    if min(result) < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {result}")
    return result


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


def resolve_padding(padding, in_hw, window_hw, stride, dilation=(1, 1)):
    """Turn any ``padding`` into explicit ``((top, bottom), (left, right))``.

    Parameters
    ----------
    padding : str, int, pair of int, or pair of pairs of int
        ``'valid'`` (none), ``'same'`` (TensorFlow's rule: the output has
        ``ceil(in / stride)`` cells and the odd extra padding cell goes at the
        end), ``'same_lower'`` (the same total, odd extra at the start),
        ``'full'`` (``(k - 1) * dilation`` on both sides), an int for every
        side, ``(ph, pw)`` for both sides of each axis, or
        ``((top, bottom), (left, right))``.
    in_hw, window_hw, stride, dilation : tuple of 2 int
        Input size, window size (undilated), stride and dilation.

    Returns
    -------
    tuple of 2 tuples of 2 int

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
    """
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return (0, 0), (0, 0)
        if word in ("same", "same_lower"):
            pads = tuple(_same_pads(*args) for args in
                         zip(in_hw, window_hw, stride, dilation))
            if word == "same_lower":
                pads = tuple((hi, lo) for lo, hi in pads)
            return pads
        if word == "full":
            return tuple((e - 1, e - 1) for e in
                         map(dilated_size, window_hw, dilation))
        raise ValueError(
            f"`padding` must be one of {', '.join(map(repr, PADDING_WORDS))}, "
            f"an int, a pair (ph, pw) or ((top, bottom), (left, right)); "
            f"got {padding!r}")
    try:
        items = tuple(padding) if hasattr(padding, "__iter__") else None
    except TypeError:
        items = None
    if items is not None and len(items) == 2 and all(
            hasattr(p, "__iter__") and not isinstance(p, str) for p in items):
        pads = tuple(pair(p, "padding", minimum=0) for p in items)
    elif isinstance(padding, (bytes, float)) or padding is None:
        raise TypeError(
            f"`padding` must be a padding word, an int, a pair (ph, pw) or "
            f"((top, bottom), (left, right)); got {padding!r}")
    else:
        ph, pw = pair(padding, "padding", minimum=0)
        pads = ((ph, ph), (pw, pw))
    return pads


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


def pool_output_size(n, k, stride, lo, hi, ceil_mode=False):
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
    """
    span = n + lo + hi - k
    if span < 0:
        return 0
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + lo:
        out -= 1
    return out
