"""``conv_transpose{r}d`` of a Dask array chunked in space, with exact
halos.

Along an axis with stride ``s``, dilated kernel size ``e`` and forward
leading padding ``lo`` (:func:`convpool.transpose.transpose_geometry`),
input cell ``i`` reaches output cells ``i * s - lo`` to ``i * s - lo + e -
1``.  So output chunk ``[o0, o1)`` reads exactly the input cells ``i0 =
ceil((o0 + lo - e + 1) / s)`` to ``i1 = floor((o1 - 1 + lo) / s) + 1``
(clipped to the input): :func:`input_span`.  Each task transposes that
piece without padding, whose output starts at cell ``i0 * s - lo``, and
keeps the cells of its chunk; cells no input reaches are zero (plus the
bias).  Every output cell sums all its taps in one task: no sum across
chunks.  Output chunks follow the input's, scaled by the stride.
"""

import itertools

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .. import layouts
from ..geometry import dilated_size, ntuple
from ..transpose import transpose_geometry

__all__ = ["input_span", "run"]


def input_span(o0, o1, n, s, e, lo):
    """The input cells ``[i0, i1)`` that reach output cells ``[o0, o1)``
    of a transposed convolution, and the output cell where the piece's
    unpadded result starts.

    >>> input_span(4, 8, 5, 2, 3, 0)   # stride 2, 3 taps: i -> 2i..2i+2
    (1, 4, 2)
    """
    i0 = max(0, -(-(o0 + lo - e + 1) // s))
    i1 = min(n, (o1 - 1 + lo) // s + 1)
    return i0, max(i0, i1), i0 * s - lo


def run(op, args, x, kernels, sample):
    """Lazy ``op`` (a ``conv_transpose{r}d``) of the Dask array ``x``
    chunked in space; ``args`` its other arguments (bias included),
    ``sample`` its result on no images (dtype, output shape)."""
    rank = int(op.__name__[-2])
    fmt = (args["data_format"] or layouts.data_formats(rank)[0]).upper()
    kfmt = (args["kernel_format"] or layouts.kernel_formats(rank)[0]).upper()
    channel = fmt.index("C")
    x = x.rechunk({channel: -1})
    spatial = [a for a in range(x.ndim) if a not in (0, channel)]
    w = layouts.to_canonical_kernel(kernels, kfmt)
    stride = ntuple(args["stride"], rank, "stride")
    dilation = ntuple(args["dilation"], rank, "dilation")
    output_padding = ntuple(args["output_padding"], rank, "output_padding",
                            minimum=0)
    sizes, lows = transpose_geometry(
        args["padding"], output_padding, [x.shape[a] for a in spatial],
        w.shape[:-2], stride, dilation)
    dtype = sample.dtype
    chunks = list(x.chunks)
    chunks[channel] = (sample.shape[channel],)
    geometry = {}
    for a, size, s, k, d, lo in zip(spatial, sizes, stride, w.shape[:-2],
                                    dilation, lows):
        chunks[a] = _scaled(x.chunks[a], s, size)
        geometry[a] = (x.shape[a], s, dilated_size(k, d), lo)
    call = _PieceCall(op, {**args, "padding": 0, "output_padding": 0,
                           "bias": None, "threads": args.get("threads") or 1},
                      kernels, args.get("bias"), channel, dtype)
    return _graph(x, tuple(chunks), geometry, call, dtype)


def _scaled(in_chunks, s, size):
    """Output chunks whose boundaries are the input's times the stride,
    the last one reaching ``size``."""
    bounds = [min(b * s, size) for b in np.cumsum((0,) + in_chunks)[:-1]]
    bounds = sorted(set(bounds)) + [size]
    return tuple(b - a for a, b in zip(bounds, bounds[1:]) if b > a)


def _graph(x, chunks, geometry, call, dtype):
    name = "conv-transpose-" + tokenize(x.name, call, chunks)
    offsets = [np.cumsum((0,) + c).tolist() for c in x.chunks]
    out_offsets = [np.cumsum((0,) + c).tolist() for c in chunks]
    layer = {}
    for index in itertools.product(*(range(len(c)) for c in chunks)):
        spans, places = [], []
        for a, i in enumerate(index):
            o0, o1 = out_offsets[a][i], out_offsets[a][i + 1]
            if a in geometry:
                i0, i1, start = input_span(o0, o1, *geometry[a])
                spans.append((i0, i1))
                places.append((o0 - start, o1 - start))
            else:
                spans.append((o0, o1) if a == 0 else (0, x.shape[a]))
                places.append(None)
        layer[(name,) + index] = _task(x, offsets, spans, places, call,
                                       dtype)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
    return da.Array(graph, name, chunks, meta=np.empty((0,) * x.ndim,
                                                       dtype))


def _task(x, offsets, spans, places, call, dtype):
    pieces = [_pieces(off, a, b) for off, (a, b) in zip(offsets, spans)]
    keys, placements = [], []
    for combo in itertools.product(*pieces):
        keys.append((x.name,) + tuple(p[0] for p in combo))
        placements.append((tuple(p[1] for p in combo),
                           tuple(p[2] for p in combo)))
    shape = tuple(b - a for a, b in spans)
    return (_compute, call, shape, x.dtype, tuple(placements), tuple(places),
            keys)


def _pieces(offsets, start, stop):
    """(chunk index, slice in the chunk, slice in the block) of the input
    chunks overlapping ``[start, stop)``."""
    found = []
    for i in range(len(offsets) - 1):
        a, b = offsets[i], offsets[i + 1]
        lo, hi = max(start, a), min(stop, b)
        if lo < hi:
            found.append((i, slice(lo - a, hi - a),
                          slice(lo - start, hi - start)))
    return found


def _compute(call, shape, dtype, placements, places, chunks):
    block = np.empty(shape, dtype)
    for (source, target), chunk in zip(placements, chunks):
        block[target] = chunk[source]
    return call(block, places)


class _PieceCall:
    """Transpose one input piece without padding; keep the chunk's cells
    (``places``: per spatial axis, the chunk's span in the piece's
    output), zeros where no input reaches; add the bias."""

    def __init__(self, op, args, kernels, bias, channel, dtype):
        self.op, self.args, self.kernels = op, args, kernels
        self.bias, self.channel, self.dtype = bias, channel, dtype

    def __call__(self, piece, places):
        shape = [n if p is None else p[1] - p[0]
                 for n, p in zip(piece.shape, places)]
        shape[self.channel] = None
        out = None
        if all(n > 0 for n in piece.shape if n is not None):
            full = self.op(piece.astype(self.dtype, copy=False),
                           self.kernels.astype(self.dtype, copy=False),
                           **self.args)
            shape[self.channel] = full.shape[self.channel]
            out = np.zeros(shape, self.dtype)
            src, dst = [], []
            for n, p, m in zip(out.shape, places, full.shape):
                if p is None:
                    src.append(slice(None))
                    dst.append(slice(None))
                    continue
                a, b = max(p[0], 0), min(p[1], m)
                src.append(slice(a, max(a, b)))
                dst.append(slice(a - p[0], a - p[0] + max(0, b - a)))
            out[tuple(dst)] = full[tuple(src)]
        else:
            shape[self.channel] = self._channels()
            out = np.zeros(shape, self.dtype)
        if self.bias is not None:
            view = np.moveaxis(out, self.channel, -1)
            view += np.asarray(self.bias).astype(self.dtype)
        return out

    def _channels(self):
        kfmt = self.args["kernel_format"]
        rank = self.kernels.ndim - 2
        kfmt = (kfmt or layouts.kernel_formats(rank)[0]).upper()
        return self.kernels.shape[kfmt.index("I")] * self.args["groups"]

    def __dask_tokenize__(self):
        return (self.op.__name__, tokenize(self.args, self.kernels,
                                           self.bias))
