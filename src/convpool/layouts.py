"""Data and kernel layouts as strings of letters.

A layout names its axes: ``'NHWC'`` is batch, height, width, channels;
``'OIDHW'`` is output filters, input channels, depth, height, width.  The
ops work channels-last (``N`` + spatial + ``C``) with kernels spatial-first
(spatial + ``IO``); every permutation is derived from the letters here,
never written out in a table.
"""

__all__ = ["SPATIAL", "data_formats", "kernel_formats", "permutation",
           "to_canonical_data", "to_canonical_kernel", "describe"]

# The spatial letters of each rank, outermost first.
SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def data_formats(rank):
    """Accepted data layouts, the default (channels last) first.

    >>> data_formats(3)
    ('NDHWC', 'NCDHW')
    """
    s = SPATIAL[rank]
    return ("N" + s + "C", "NC" + s)


def kernel_formats(rank):
    """Accepted kernel layouts, the default (TensorFlow's) first: spatial
    then in/out, PyTorch's out/in then spatial, the tutorial's out, spatial,
    in.

    >>> kernel_formats(1)
    ('WIO', 'OIW', 'OWI')
    """
    s = SPATIAL[rank]
    return (s + "IO", "OI" + s, "O" + s + "I")


def permutation(source, target):
    """Axes of ``source`` in ``target``'s order, for ``ndarray.transpose``.

    >>> permutation("NCHW", "NHWC")
    (0, 2, 3, 1)
    >>> permutation("OIHW", "HWIO")
    (2, 3, 1, 0)
    """
    return tuple(source.index(letter) for letter in target)


def to_canonical_data(x, data_format):
    """View of a batch in channels-last order, ``N`` + spatial + ``C``
    (no copy)."""
    rank = len(data_format) - 2
    return x.transpose(permutation(data_format, data_formats(rank)[0]))


def to_canonical_kernel(kernels, kernel_format):
    """View of a kernel array in spatial + ``IO`` order (no copy)."""
    rank = len(kernel_format) - 2
    return kernels.transpose(
        permutation(kernel_format, kernel_formats(rank)[0]))


_AXIS_NAMES = {"N": "N", "C": "C", "I": "C/groups", "O": "F"}


def describe(layout, kernel=False):
    """The axes of a layout for messages: ``(N, H, W, C)`` or, for kernels,
    ``(KH, KW, C/groups, F)``.

    >>> describe("NCDHW")
    '(N, C, D, H, W)'
    >>> describe("OIHW", kernel=True)
    '(F, C/groups, KH, KW)'
    """
    names = [_AXIS_NAMES.get(a, ("K" + a) if kernel else a) for a in layout]
    return "(" + ", ".join(names) + ")"
