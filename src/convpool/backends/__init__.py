"""Arrays from other libraries, handed to a backend that runs the NumPy ops
on them piece by piece.

Only :mod:`convpool.backends.dask` exists so far.  Detection never imports
the other library: a core op asks :func:`is_dask` about its input's type,
and the backend module (which imports Dask) is loaded only when a Dask
array really arrives.  Each public op starts with the two-line hook::

    if is_dask(x):
        return dask_op(conv2d, locals())
"""

__all__ = ["is_dask", "dask_op"]


def is_dask(value):
    """True for a Dask collection, judged by its type's module (no import).

    >>> import numpy as np
    >>> is_dask(np.ones(3)), is_dask([1, 2])
    (False, False)
    """
    return type(value).__module__.partition(".")[0] == "dask"


def dask_op(op, arguments):
    """Run the NumPy op ``op`` lazily over a Dask array: ``arguments`` are
    its arguments by name (the op's ``locals()`` at entry)."""
    from . import dask
    return dask.run(op, arguments)
