"""Array checks shared by every op, and their error messages.

Messages name the argument in backticks and say what was expected and what
was given, in NumPy's style.
"""

import numpy as np

def numeric_array(value, name):
    """``np.asarray(value)``, refusing strings, objects, other non-numbers."""
    if getattr(value, "requires_grad", False):   # a PyTorch tensor in a graph
        raise TypeError(
            f"`{name}` is a tensor that requires grad; pass "
            f"`{name}.detach()` (or `.detach().numpy()`)")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"`{name}` must be a numeric array; {exc}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"`{name}` must be a numeric array, got dtype {arr.dtype}")
    return arr


def check_ndim(arr, ndim, name, layout):
    """Raise unless ``arr.ndim`` is one of ``ndim`` (an int or a tuple)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        raise ValueError(
            f"`{name}` must have {' or '.join(map(str, allowed))} dimensions "
            f"{layout}, got {arr.ndim} with shape {arr.shape}")


def check_flag(value, name):
    """A bool argument: True, False, or a NumPy bool; nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {value!r}")
    return bool(value)


def check_pool_padding(pads, extent):
    """Every window must hold a real cell: padding smaller than the
    (dilated) window on every side (TensorFlow's and PyTorch's pooling
    refuse more too)."""
    for (lo, hi), k in zip(pads, extent):
        if max(lo, hi) >= k:
            raise ValueError(
                f"`padding` {tuple(pads)} must be smaller than `window` "
                f"{tuple(extent)} on every side for pooling, so that no "
                f"window lies wholly in the padding")


def choose(value, options, name):
    """Return the option ``value`` names (case-insensitively), else raise."""
    for option in options:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    raise ValueError(
        f"`{name}` must be one of {', '.join(map(repr, options))}, "
        f"got {value!r}")


def result_dtype(*arrays):
    """The dtype returned to the caller: NumPy's result type of the inputs,
    except that integer and bool results are float64 (a uint8 image of 200s
    times a kernel of -1s gives -1800, not a wrapped value)."""
    dtype = np.result_type(*arrays)
    return np.dtype(np.float64) if dtype.kind in "biu" else dtype


def compute_dtype(*arrays):
    """The dtype arithmetic happens in: ``result_dtype``, but float16
    accumulates in float32."""
    dtype = result_dtype(*arrays)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def check_out(out, shape, dtype, inputs):
    """Check a caller's ``out=`` array: shape, dtype, writable, no overlap."""
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"`out` must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(
            f"`out` must have shape {tuple(shape)} and dtype {dtype}, "
            f"got shape {out.shape} and dtype {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("`out` must be writeable")
    if any(np.shares_memory(out, a) for a in inputs):
        raise ValueError("`out` must not share memory with the inputs")
    return out


def _x(shape):
    return "x".join(map(str, shape))


def check_fits(in_shape, pads, extent, name, what="size"):
    """Raise unless a window spanning ``extent`` fits the input padded by
    ``pads``, along every spatial axis."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_shape, pads))
    if any(e > p for e, p in zip(extent, padded)):
        raise ValueError(
            f"`{name}` ({what} {_x(extent)}) is larger than the padded "
            f"input ({_x(in_shape)} padded by {tuple(pads)} to "
            f"{_x(padded)})")
