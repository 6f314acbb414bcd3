"""Which path a call takes, and why: a dry run of the planner.

>>> import numpy as np, convpool
>>> convpool.explain("conv2d", np.ones((8, 56, 56, 64)), np.ones((3, 3, 64, 64)),
...                  padding="same")
'conv2d: banded: one group, 3x3 kernel, 64 channels: banded BLAS products, no window matrix gathered'
"""

from .conv import prepare_conv, prepare_filter
from .engines import explain_conv, explain_pool
from .engines.border import explain_filter
from .engines.conv import all_finite
from .engines.fold import as_2d
from .geometry import ntuple

__all__ = ["explain"]

_CONV = {"conv1d": 1, "conv2d": 2, "conv3d": 3}
_POOL = {f"{kind}pool{rank}d": rank for rank in (1, 2, 3)
         for kind in ("", "max_", "avg_")}


def explain(op, x, arg, **kwargs):
    """Say, in one line, which engine path a call would take and why.

    Nothing is computed: the arguments are validated and the planner is
    asked, as the call itself would ask it (it may look at whether ``x`` is
    all finite).

    Parameters
    ----------
    op : str or callable
        ``'conv1d'``, ``'conv2d'``, ``'conv3d'``, ``'pool1d'`` ...
        ``'max_pool3d'``, ``'avg_pool2d'``, ``'filter2d'``, or the
        function itself.
    x : array_like
        The input the call would get (the picture, for ``filter2d``).
    arg : array_like or int or tuple
        The kernels (convolution), the kernel (``filter2d``) or the window
        (pooling).
    **kwargs
        The call's other keywords.

    Returns
    -------
    str
        ``'<op>: <path>: <reason>'``.

    Examples
    --------
    >>> import numpy as np
    >>> explain("conv1d", np.ones((4, 100, 1)), np.ones((5, 1, 1)))
    'conv1d: 1-D as 2-D of height 1; axpy: one channel and one filter per group, one weight per tap (1x5 kernel): one BLAS axpy per tap'
    >>> explain("max_pool3d", np.ones((1, 4, 4, 4, 2)), 2)
    'max_pool3d: 3-D as a max along depth, then 2-D; separable: max over a 2x2 window: a max pass per window row, then per window column'
    >>> explain("filter2d", np.ones((64, 64, 3)), np.eye(5))[:42]
    'filter2d: tiled: 25 taps (<= 49) as passes'
    """
    name = getattr(op, "__name__", op)
    if name in _CONV:
        return f"{name}: {_explain_conv(_CONV[name], x, arg, kwargs)}"
    if name in _POOL:
        rank = _POOL[name]
        mode = kwargs.get("mode", "avg" if name.startswith("avg") else "max")
        return f"{name}: {_explain_pool(rank, arg, mode, kwargs)}"
    if name == "filter2d":
        return f"{name}: {_explain_filter(x, arg, kwargs)}"
    known = ", ".join(map(repr, list(_CONV) + list(_POOL) + ["filter2d"]))
    raise ValueError(f"`op` must be one of {known}, got {op!r}")


def _explain_conv(rank, x, kernels, kwargs):
    engine = kwargs.pop("engine", "auto")
    for ignored in ("threads", "out"):
        kwargs.pop(ignored, None)
    call = prepare_conv(rank, x, kernels, **kwargs)
    w, stride, dilation, how = as_2d(call.kernels, call.stride,
                                     call.dilation)
    out_width = call.out_shape[-2 if call.data_format.endswith("C") else -1]
    line = explain_conv(w, stride, dilation, call.groups, out_width, engine,
                        finite=lambda: all_finite(call.x))
    return f"{how}; {line}" if how else line


def _explain_filter(image, kernel, kwargs):
    kwargs.pop("threads", None)
    p = prepare_filter(image, kernel, **kwargs)
    return explain_filter(p.planes.shape, p.weights[:, :, 0, 0],
                          p.weights.dtype, p.stride, p.pads, p.engine)


def _explain_pool(rank, window, mode, kwargs):
    window = ntuple(window, rank, "window")
    stride = kwargs.get("stride") or window
    stride = ntuple(stride, rank, "stride")
    dilation = ntuple(kwargs.get("dilation", 1), rank, "dilation")
    if rank == 1:
        how = "1-D as 2-D of height 1; "
        window, stride, dilation = ((1,) + window, (1,) + stride,
                                    (1,) + dilation)
    elif rank == 3:
        how = f"3-D as a {mode} along depth, then 2-D; "
        window, stride, dilation = window[1:], stride[1:], dilation[1:]
    else:
        how = ""
    return how + explain_pool(window, stride, dilation, mode)
