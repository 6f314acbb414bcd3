"""Dask arrays in, lazy Dask arrays out, through the NumPy ops.

Every output chunk is one Dask task that runs the ordinary NumPy op on the
input cells its windows read:

- the batch axis (and, for pooling and ``filter2d``, the channel axis) is
  split as the input is: a task reads exactly one input chunk, no copy, as
  ``map_blocks`` would -- the result is bitwise the NumPy one;
- a spatial axis split into chunks gets output chunks that follow the
  input's (:func:`convpool.geometry.aligned_chunks`: a boundary that is no
  stride step moves to the next one, so each output cell is computed once,
  by one task), and each task reads its own cells plus the halo its windows
  need (:func:`convpool.geometry.chunk_halos`), gathered from the
  neighbouring input chunks, with the padding of the whole problem given to
  the op only where the array really ends;
- the channel axis of a convolution is never split (rechunked to one
  chunk: every filter reads every channel of its group).

``filter2d``'s pad modes other than zeros (``'reflect'``, ``'wrap'``, ...)
are built once around the whole array, lazily, by indexing its true
borders (``np.pad`` of the indices, as the NumPy op does), then filtered
without padding.  Arguments are validated at call time by the NumPy op
itself on a zero-size stand-in of the input (same spatial shape, no data),
so messages are the NumPy ones and no chunk is computed.  Inside a task the
op runs on one thread unless the call gave ``threads`` (and the engines
hold BLAS at one thread), so Dask's workers do not oversubscribe the
cores.
"""

import bisect
import inspect
import itertools

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

import convpool

from .. import layouts
from ..borders import resolve_pad_mode
from ..geometry import (aligned_chunks, chunk_halos, clamp_chunks, ntuple,
                        resolve_padding)
from . import dask_batch, is_dask

__all__ = ["conv", "pool", "filter2d", "run"]

# Array arguments other than the input: computed first if they are Dask
# arrays, then stored once in the graph.
_OPERANDS = ("kernels", "bias", "kernel")


def conv(x, kernels, *, chunks=None, **kwargs):
    """Lazy :func:`convpool.conv2d` (or ``conv1d``/``conv3d``, by the rank
    of ``x``) of a Dask array.

    Parameters
    ----------
    x : dask.array.Array, shape (N, *spatial, C) or (N, C, *spatial)
    kernels : array_like
        NumPy (a Dask array is computed once, first).
    chunks : tuple, dict or str, optional
        Chunks of the result, as for ``dask.array.rechunk``; the filter
        axis stays one chunk.  Default: the input's, moved to stride steps.
    **kwargs
        The NumPy op's keywords (``stride``, ``padding``, ...).

    Returns
    -------
    dask.array.Array
        Equal to the NumPy op on ``x.compute()``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> x = da.ones((2, 8, 8, 1), chunks=(1, 4, 4, 1))
    >>> y = conv(x, np.ones((3, 3, 1, 1)), padding="same")
    >>> y.chunks
    ((1, 1), (4, 4), (4, 4), (1,))
    >>> y.compute()[0, :3, :3, 0]
    array([[4., 6., 6.],
           [6., 9., 9.],
           [6., 9., 9.]])
    """
    return run(_op_for("conv", x), dict(x=x, kernels=kernels, **kwargs),
               chunks)


def pool(x, window, *, chunks=None, **kwargs):
    """Lazy :func:`convpool.pool2d` (or ``pool1d``/``pool3d``) of a Dask
    array; ``chunks`` as in :func:`conv`.

    >>> import numpy as np, dask.array as da
    >>> x = da.from_array(np.arange(36.0).reshape(1, 6, 6, 1), chunks=3)
    >>> pool(x, 2, mode="avg").compute()[0, :, :, 0]
    array([[ 3.5,  5.5,  7.5],
           [15.5, 17.5, 19.5],
           [27.5, 29.5, 31.5]])
    """
    return run(_op_for("pool", x), dict(x=x, window=window, **kwargs),
               chunks)


def filter2d(image, kernel, *, chunks=None, **kwargs):
    """Lazy :func:`convpool.filter2d` of a Dask picture (H, W) or (H, W, C);
    every ``pad_mode`` is applied at the picture's true borders.

    >>> import numpy as np, dask.array as da
    >>> img = da.from_array(np.arange(16.0).reshape(4, 4), chunks=2)
    >>> filter2d(img, np.ones((1, 3)), pad_mode="wrap").compute()
    array([[ 4.,  3.,  6.,  5.],
           [16., 15., 18., 17.],
           [28., 27., 30., 29.],
           [40., 39., 42., 41.]])
    """
    return run(convpool.filter2d, dict(image=image, kernel=kernel, **kwargs),
               chunks)


def _op_for(kind, x):
    ranks = [r for r in (1, 2, 3) if hasattr(convpool, f"{kind}{r}d")]
    ndim = getattr(x, "ndim", None)
    if ndim is None or ndim - 2 not in ranks:
        dims = " or ".join(str(r + 2) for r in ranks)
        raise ValueError(
            f"`x` must have {dims} dimensions (batch, spatial axes, "
            f"channels), got {ndim} with shape {getattr(x, 'shape', None)}")
    return getattr(convpool, f"{kind}{ndim - 2}d")


def run(op, arguments, chunks=None):
    """Apply the NumPy op ``op`` lazily to the Dask array among
    ``arguments`` (a dict of its arguments by name); see the module notes.
    """
    if dask_batch.handles(op):
        return dask_batch.run(op, arguments)
    key = "image" if op.__name__ == "filter2d" else "x"
    x = arguments[key]
    if not is_dask(x):
        x = da.asarray(x)
    if any(np.isnan(n) for n in x.shape):
        raise ValueError(f"`{key}` must have known chunk sizes, got shape "
                         f"{x.shape}; call compute_chunk_sizes() first")
    if arguments.get("out") is not None:
        raise TypeError(f"`out` must be None when `{key}` is a Dask array "
                        "(store the result with dask.array.store or "
                        "to_zarr), got an array")
    arguments = dict(arguments)
    for name in _OPERANDS:
        if is_dask(arguments.get(name)):
            arguments[name] = arguments[name].compute()
    sample = op(**{**arguments, key: _stand_in(x, op)})
    bound = inspect.signature(op).bind(**arguments)
    bound.apply_defaults()
    plan = _Plan(op, dict(bound.arguments), key, x, sample)
    return plan.array(chunks)


def _stand_in(x, op):
    """A NumPy array the op validates like ``x`` at no cost: zero images
    (zero channels for ``filter2d``) of the same spatial shape, or, when
    the rank is wrong, a zero-stride array of x's shape, refused at once."""
    if op.__name__ == "filter2d":
        right, shape = x.ndim in (2, 3), x.shape[:2] + (0,)
    else:
        right = x.ndim == int(op.__name__[-2]) + 2
        shape = (0,) + x.shape[1:]
    if not right:
        return np.broadcast_to(np.empty((), x.dtype), x.shape)
    return np.empty(shape, x.dtype)


class _Plan:
    """Output chunks and, per output chunk, the input cells it reads."""

    def __init__(self, op, args, key, x, sample):
        self.op = op
        self.filter = op.__name__ == "filter2d"
        self.conv = op.__name__.startswith("conv")
        self.letters = self._letters(args, x)
        self.operands = {n: np.asarray(args.pop(n)) for n in _OPERANDS
                         if args.get(n) is not None}
        del args[key]
        args.pop("out", None)
        self.out_shape = self._out_shape(x, sample)
        self.dtype = sample.dtype
        axes = self.spatial_axes
        window, stride, dilation = self._window(args, x)
        sizes = tuple(x.shape[a] for a in axes)
        pads = resolve_padding(args["padding"], sizes, window, stride,
                               dilation)
        self.axis_geometry = {a: (w, s, d, p) for a, w, s, d, p in
                              zip(axes, window, stride, dilation, pads)}
        self.default_chunks = self._default_chunks(x)
        border = self._border(args)
        if border != "constant" and any(map(any, pads)):
            x = _pad_borders(x, pads, border, axes)
            self.axis_geometry = {a: (w, s, d, (0, 0)) for a, (w, s, d, _)
                                  in self.axis_geometry.items()}
        if self.conv and len(x.chunks[self.letters.index("C")]) > 1:
            x = x.rechunk({self.letters.index("C"): -1})
        self.x = x
        self.call = _BlockCall(op, args, list(self.operands))

    @staticmethod
    def _letters(args, x):
        if "data_format" not in args:
            return "HWC"[:x.ndim]
        formats = layouts.data_formats(x.ndim - 2)
        return (args["data_format"] or formats[0]).upper()

    def _border(self, args):
        """The NumPy pad mode of the border.  A border other than zeros is
        built here around the whole array, and the blocks get none."""
        name = "pad_mode" if self.filter else "padding_mode"
        if name not in args:
            return "constant"
        mode = resolve_pad_mode(args[name], name)
        args[name] = "constant" if self.filter else "zeros"
        return mode

    @property
    def spatial_axes(self):
        return [i for i, c in enumerate(self.letters) if c not in "NC"]

    def _out_shape(self, x, sample):
        if self.filter:
            return sample.shape[:2] + x.shape[2:]
        return (x.shape[0],) + sample.shape[1:]

    def _window(self, args, x):
        rank = len(self.spatial_axes)
        if self.filter:
            window = self.operands["kernel"].shape
        elif self.conv:
            kernels = self.operands["kernels"]
            kernel_format = (args["kernel_format"]
                             or layouts.kernel_formats(rank)[0]).upper()
            window = tuple(n for n, c in zip(kernels.shape, kernel_format)
                           if c not in "IO")
        else:
            window = ntuple(args["window"], rank, "window")
        stride = args.get("stride")
        stride = window if stride is None else ntuple(stride, rank, "stride")
        dilation = ntuple(args.get("dilation", 1), rank, "dilation")
        return window, stride, dilation

    def _default_chunks(self, x):
        chunks = []
        for axis, letter in enumerate(self.letters):
            if axis in self.axis_geometry:
                w, s, d, (lo, hi) = self.axis_geometry[axis]
                chunks.append(aligned_chunks(x.chunks[axis],
                                             self.out_shape[axis],
                                             w, s, d, lo, hi))
            elif letter == "C" and self.conv:
                chunks.append((self.out_shape[axis],))
            else:
                chunks.append(x.chunks[axis])
        return tuple(chunks)

    def _target_chunks(self, chunks):
        if chunks is None:
            return self.default_chunks
        if isinstance(chunks, dict):
            chunks = tuple(chunks.get(a, c) for a, c in
                           enumerate(self.default_chunks))
        target = da.core.normalize_chunks(chunks, self.out_shape,
                                          dtype=self.dtype)
        if self.conv:
            axis = self.letters.index("C")
            if len(target[axis]) > 1:
                raise ValueError(
                    f"`chunks` must keep the filter axis (axis {axis}) in one"
                    f" chunk, got {target[axis]}")
        return target

    def _work_chunks(self, target):
        """Target chunks with spatial chunks that read only padding merged."""
        work = list(target)
        for axis, (w, s, d, (lo, hi)) in self.axis_geometry.items():
            work[axis] = clamp_chunks(target[axis], self.x.shape[axis], w, s,
                                      d, lo, hi)
        return tuple(work)

    def _regions(self, axis, out_chunks):
        """Per output chunk: ((start, stop), pads or None) along ``axis``."""
        if axis in self.axis_geometry:
            w, s, d, (lo, hi) = self.axis_geometry[axis]
            return chunk_halos(out_chunks, self.x.shape[axis], w, s, d, lo, hi)
        if self.conv and self.letters[axis] == "C":
            return (((0, self.x.shape[axis]), None),)
        bounds = np.cumsum((0,) + out_chunks).tolist()
        return tuple(((a, b), None) for a, b in zip(bounds, bounds[1:]))

    def array(self, chunks):
        """The lazy result: one task per output chunk."""
        target = self._target_chunks(chunks)
        work = self._work_chunks(target)
        regions = [self._regions(a, c) for a, c in enumerate(work)]
        name = f"{self.op.__name__}-" + tokenize(
            self.x.name, self.call, self.operands, work)
        layer = {f"{name}-{n}": v for n, v in self.operands.items()}
        operand_keys = list(layer)
        offsets = [np.cumsum((0,) + c).tolist() for c in self.x.chunks]
        for index in itertools.product(*(range(len(c)) for c in work)):
            picked = [regions[a][i] for a, i in enumerate(index)]
            layer[(name,) + index] = self._task(picked, offsets, operand_keys)
        graph = HighLevelGraph.from_collections(name, layer,
                                                dependencies=[self.x])
        meta = np.empty((0,) * len(work), self.dtype)
        result = da.Array(graph, name, work, meta=meta)
        return result if work == target else result.rechunk(target)

    def _task(self, picked, offsets, operand_keys):
        """The task of one output chunk: the input chunks it reads, where
        each piece goes in the gathered block, and the block's padding."""
        pieces = [_pieces(off, *span) for off, (span, _) in
                  zip(offsets, picked)]
        placements, keys = [], []
        for combo in itertools.product(*pieces):
            keys.append((self.x.name,) + tuple(p[0] for p in combo))
            placements.append((tuple(p[1] for p in combo),
                               tuple(p[2] for p in combo)))
        shape = tuple(b - a for (a, b), _ in picked)
        pads = tuple(p for _, p in picked if p is not None)
        return (_compute_block, self.call, pads, shape, self.x.dtype,
                tuple(placements), operand_keys, keys)


def _pieces(offsets, start, stop):
    """Input chunks overlapping ``[start, stop)`` along one axis whose
    chunks start at ``offsets``: (chunk index, slice in the chunk, slice in
    the gathered block)."""
    found = []
    first = max(bisect.bisect_right(offsets, start) - 1, 0)
    for i in range(first, len(offsets) - 1):
        a, b = offsets[i], offsets[i + 1]
        if a >= stop:
            break
        lo, hi = max(start, a), min(stop, b)
        if lo < hi:
            found.append((i, slice(lo - a, hi - a),
                          slice(lo - start, hi - start)))
    return found


def _pad_borders(x, pads, mode, axes):
    """``x`` with NumPy's ``mode`` padding around its true borders, lazily:
    the padded cells are ``x`` indexed by ``np.pad`` of its indices."""
    for axis, (lo, hi) in zip(axes, pads):
        n = x.shape[axis]
        index = np.pad(np.arange(n), (lo, hi), mode=mode)
        take = (slice(None),) * axis
        parts = [x[take + (index[:lo],)]] if lo else []
        parts.append(x)
        if hi:
            parts.append(x[take + (index[n + lo:],)])
        x = da.concatenate(parts, axis=axis) if len(parts) > 1 else x
    return x


def _compute_block(call, pads, shape, dtype, placements, operands, chunks):
    """One task: gather the block from its input chunks (no copy when it is
    one whole chunk) and run the op on it."""
    if len(chunks) == 1 and chunks[0][placements[0][0]].shape == shape:
        block = chunks[0][placements[0][0]]
    else:
        block = np.empty(shape, dtype)
        for (source, target), chunk in zip(placements, chunks):
            block[target] = chunk[source]
    return call(block, pads, operands)


class _BlockCall:
    """The NumPy op with the call's arguments, padding given per block."""

    def __init__(self, op, args, operand_names):
        self.op, self.args = op, args
        self.names = operand_names
        if "threads" in inspect.signature(op).parameters:
            args["threads"] = args.get("threads") or 1

    def __call__(self, block, pads, operands):
        args = {**self.args, **dict(zip(self.names, operands)),
                "padding": pads}
        return self.op(block, **args)

    def __dask_tokenize__(self):
        return (self.op.__name__, repr(sorted(self.args.items())))
