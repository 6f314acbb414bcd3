"""Data and kernel layouts for any rank, as letters.

A rank-``r`` batch is channels last (``'NWC'``, ``'NHWC'``, ``'NDHWC'``)
or channels first (``'NCW'``, ...); a kernel array is spatial-then-IO
(``'HWIO'``, TensorFlow), out-in-spatial (``'OIHW'``, PyTorch) or
out-spatial-in (``'OHWI'``).  The gradient code works on channels-last
views and spatial-IO kernels; these helpers give those views (no copies).
"""

SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def data_formats(rank):
    """``(channels_last, channels_first)`` names for ``rank`` spatial axes.

    >>> data_formats(2)
    ('NHWC', 'NCHW')
    """
    sp = SPATIAL[rank]
    return "N" + sp + "C", "NC" + sp


def kernel_formats(rank):
    """Kernel layout names for ``rank``; the first is the canonical one.

    >>> kernel_formats(1)
    ('WIO', 'OIW', 'OWI')
    """
    sp = SPATIAL[rank]
    return sp + "IO", "OI" + sp, "O" + sp + "I"


def to_channels_last(x, data_format):
    """View of ``x`` (in ``data_format``) with channels last."""
    if data_format[-1] == "C":
        return x
    return x.transpose(0, *range(2, x.ndim), 1)


def from_channels_last(x, data_format):
    """Inverse of :func:`to_channels_last` (a view)."""
    if data_format[-1] == "C":
        return x
    return x.transpose(0, x.ndim - 1, *range(1, x.ndim - 1))


def kernel_to_spatial_io(kernels, kernel_format):
    """View of ``kernels`` in (*K, C/groups, F) order."""
    rank = len(kernel_format) - 2
    order = SPATIAL[rank] + "IO"
    return kernels.transpose([kernel_format.index(a) for a in order])


def kernel_from_spatial_io(kernels, kernel_format):
    """Inverse of :func:`kernel_to_spatial_io` (a view)."""
    rank = len(kernel_format) - 2
    order = SPATIAL[rank] + "IO"
    return kernels.transpose([order.index(a) for a in kernel_format])


def channels_last_shape(shape, data_format):
    """The channels-last shape of an array of ``shape`` in ``data_format``.
    """
    if data_format[-1] == "C":
        return tuple(shape)
    return (shape[0], *shape[2:], shape[1])


def shape_in(cl_shape, data_format):
    """The shape in ``data_format`` of a channels-last shape."""
    if data_format[-1] == "C":
        return tuple(cl_shape)
    return (cl_shape[0], cl_shape[-1], *cl_shape[1:-1])
