"""Dask arrays through the ops that run image by image but whose windows
are no forward convolution's: adaptive pooling, transposed convolution
and the gradients (:mod:`convpool.grad`).

Every task runs the ordinary NumPy op on one batch chunk (and, for the
ops that treat channels one by one, one channel chunk), so the per-image
results are bitwise the NumPy op's on the computed input.  Spatial axes
are rechunked to one chunk, for a reason per op:

- adaptive pooling: a window's span ``[floor(i n / o), ceil((i + 1) n /
  o))`` changes from cell to cell, so no fixed halo serves every chunk;
- ``dx`` of a convolution gradient: an output cell gathers the ``dy``
  cells of every kernel tap that reaches it, a halo of the *input* around
  the output chunk that :func:`convpool.geometry.chunk_halos` (written
  for forward windows) does not give, and ``x`` and ``dy`` would need
  aligned spatial chunks.  (``conv_transpose*d`` itself, whose one input
  is chunked in space, gets exact halos: :mod:`.dask_transpose`);
- pooling gradients: the same, ``dx`` gathering ``dy`` over every
  window that holds a cell (input-side halos, not done yet);
- ``dkernels`` and ``dbias``: sums over all of space;
- ``max_pool*d(..., return_indices=True)`` (the one call of those ops
  that comes here): an index is a flat position in its whole plane.

The channel axis is kept in one chunk for the convolutions (every
filter reads every channel of its group) and for adaptive averages (see
``_Batchwise``); the other ops keep the input's channel chunks.

``dkernels`` and ``dbias`` of a convolution sum over the batch as well:
each task returns its chunk's partial sums, added in a fixed tree (Dask's
``sum``, the same order on every run of the same chunking) in float64
for float16/float32 results, then cast.  They equal the NumPy gradient
within rounding, not bitwise: NumPy adds the batch in other groups.
"""

import inspect

import dask
import dask.array as da
import numpy as np
from dask.base import tokenize

from .. import layouts

__all__ = ["handles", "run"]

_OPERANDS = ("kernels", "bias")


def handles(op):
    """Whether ``op`` goes through this module (else through the halo
    planner of :mod:`convpool.backends.dask`)."""
    return (op.__module__ == "convpool.grad"
            or op.__name__.startswith(("adaptive_", "conv_transpose",
                                       "max_pool")))


def run(op, arguments):
    """Apply ``op`` lazily, batch chunk by batch chunk, to the Dask arrays
    among ``arguments`` (its arguments by name, the op's ``locals()``)."""
    args = _bind(op, arguments)
    data = [n for n in ("x", "dy", "indices") if args.get(n) is not None]
    if args.get("out") is not None:
        raise TypeError("`out` must be None when `x` is a Dask array (store "
                        "the result with dask.array.store or to_zarr), got "
                        "an array")
    for name in _OPERANDS:
        if _is_dask(args.get(name)):
            args[name] = args[name].compute()
    for name in data:
        if _is_dask(args[name]) and any(map(np.isnan, args[name].shape)):
            raise ValueError(
                f"`{name}` must have known chunk sizes, got shape "
                f"{args[name].shape}; call compute_chunk_sizes() first")
    sample = _validate(op, args, data)
    if op.__name__.startswith("conv_transpose") and _split_in_space(args):
        from . import dask_transpose
        rest = {n: v for n, v in args.items() if n not in ("x", "kernels")}
        return dask_transpose.run(op, rest, args["x"],
                                  np.asarray(args["kernels"]), sample)
    if "threads" in args or _takes_keywords(op):
        args["threads"] = args.get("threads") or 1
    return _Batchwise(op, args, data, sample).result()


def _split_in_space(args):
    """Whether ``x`` has a spatial axis in several chunks."""
    x = args["x"]
    fmt = (args["data_format"] or "C").upper()
    return any(len(c) > 1 for a, c in enumerate(x.chunks)
               if a not in (0, fmt.index("C")))


def _is_dask(value):
    return type(value).__module__.partition(".")[0] == "dask"


def _takes_keywords(op):
    return any(p.kind is p.VAR_KEYWORD
               for p in inspect.signature(op).parameters.values())


def _bind(op, arguments):
    """The op's arguments by name with defaults, ``**keywords`` spread."""
    signature = inspect.signature(op)
    given = {}
    for name, p in signature.parameters.items():
        if name not in arguments:
            continue
        if p.kind is p.VAR_KEYWORD:
            given.update(arguments[name])
        else:
            given[name] = arguments[name]
    args = {n: p.default for n, p in signature.parameters.items()
            if p.default is not p.empty}
    args.update(given)
    return args


def _rank(op):
    return int(op.__name__[-2])


def _validate(op, args, data):
    """The op's result on stand-ins of the data: NumPy arrays without
    images, which it checks like the data at no cost.  If it refuses
    them, the refusal is raised again from zero-stride stand-ins of the
    true shapes (no data either; every op checks its arguments before
    computing anything), so the message names the true shapes."""
    batches = {a.shape[0] for a in map(args.get, data)
               if getattr(a, "ndim", 0)}
    try:
        if len(batches) > 1:
            # Images without data would hide the mismatch.
            op(**{**args, **_stand_ins(args, data, empty=False)})
        return op(**{**args, **_stand_ins(args, data, empty=True)})
    except (TypeError, ValueError) as refusal:
        try:
            op(**{**args, **_stand_ins(args, data, empty=False)})
        except type(refusal):
            raise
        raise refusal


def _stand_ins(args, data, empty):
    stand = {}
    for name in data:
        a = args[name]
        if not hasattr(a, "shape"):
            continue
        if empty and a.ndim:
            stand[name] = np.empty((0,) + tuple(a.shape[1:]), a.dtype)
        else:
            stand[name] = np.broadcast_to(np.empty((), a.dtype), a.shape)
    return stand


class _Batchwise:
    """Chunks of the inputs and of the result, and the tasks."""

    def __init__(self, op, args, data, sample):
        self.op, self.args, self.data = op, args, data
        self.sample = sample
        rank = _rank(op)
        fmt = args.get("data_format") or layouts.data_formats(rank)[0]
        self.channel = fmt.upper().index("C")
        # Channel chunks run on their own where a channel's result does
        # not depend on the others: not for convolutions, and not for
        # adaptive averages, whose NumPy means sum in an order that
        # depends on the block's shape (pairwise along its contiguous
        # axis), so a channel cut would change their last bits.
        self.per_channel = not op.__name__.startswith(("conv",
                                                       "adaptive_avg"))
        self.arrays = self._aligned([args.pop(n) for n in data])

    def _aligned(self, arrays):
        """The data as Dask arrays with the lead array's batch (and, for
        per-channel ops, channel) chunks and whole spatial axes."""
        lead = next(a for a in arrays if _is_dask(a))
        chunks = {0: lead.chunks[0]}
        if self.per_channel:
            chunks[self.channel] = lead.chunks[self.channel]
        out = []
        for a in arrays:
            target = tuple(chunks.get(i, -1) for i in range(a.ndim))
            if _is_dask(a):
                out.append(a.rechunk(target))
            else:
                out.append(da.from_array(np.asarray(a), chunks=target))
        return out

    def _call(self):
        return _BlockCall(self.op, self.args, self.data)

    def result(self):
        x = self.arrays[0]
        if isinstance(self.sample, tuple):
            return self._tuple(x)
        return da.map_blocks(self._call(), *self.arrays,
                             chunks=self._chunks(x, self.sample),
                             dtype=self.sample.dtype, meta=self.sample[:0])

    def _chunks(self, x, sample):
        """Output chunks: the input's batch chunks, whole other axes, the
        input's channel chunks for per-channel ops."""
        chunks = [(n,) for n in sample.shape]
        chunks[0] = x.chunks[0]
        if self.per_channel and sample.ndim == x.ndim:
            chunks[self.channel] = x.chunks[self.channel]
        return tuple(chunks)

    def _tuple(self, x):
        """Tuple results (a gradient's ``(dx, dkernels, dbias)``, or
        values and indices): per-image parts concatenated, batch sums
        (``dkernels``, ``dbias``) summed over the chunks."""
        grids = [a.to_delayed(optimize_graph=False) for a in self.arrays]
        call = self._call()
        n_out = len(self.sample)
        parts = {}
        for index in np.ndindex(grids[0].shape):
            blocks = [g[index] for g in grids]
            parts[index] = dask.delayed(call, nout=n_out, pure=True)(
                *blocks)
        results = []
        for k, sample in enumerate(self.sample):
            if self._summed(k):
                results.append(_sum_over_batch(parts, k, sample))
            else:
                results.append(self._assemble(parts, k, sample, x))
        return tuple(results)

    def _summed(self, k):
        """Whether output ``k`` is a sum over the batch."""
        return self.op.__module__ == "convpool.grad" and k > 0

    def _assemble(self, parts, k, sample, x):
        chunks = self._chunks(x, sample)
        grid = np.empty(tuple(len(c) for c in chunks), object)
        for index, part in parts.items():
            shape = tuple(c[i] for c, i in zip(chunks, index))
            grid[index] = da.from_delayed(part[k], shape, sample.dtype,
                                          meta=sample[:0])
        return da.block(grid.tolist())


def _sum_over_batch(parts, k, sample):
    """The chunks' partial sums added in float64 (or the result's dtype
    when wider or not float), then cast to the result's dtype."""
    wide = (np.float64 if sample.dtype.kind == "f" and sample.itemsize < 8
            else sample.dtype)
    terms = [da.from_delayed(p[k], sample.shape, sample.dtype,
                             meta=sample[:0]) for p in parts.values()]
    total = da.stack(terms).sum(axis=0, dtype=wide)
    return total.astype(sample.dtype)


class _BlockCall:
    """The NumPy op with the call's other arguments, on one block of each
    data array."""

    def __init__(self, op, args, data):
        self.op, self.args, self.data = op, args, data

    def __call__(self, *blocks):
        return self.op(**self.args, **dict(zip(self.data, blocks)))

    def __dask_tokenize__(self):
        return (self.op.__module__, self.op.__name__, tokenize(self.args))
