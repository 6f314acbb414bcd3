"""Tap-accumulate convolution in NumPy: one multiply-add pass per kernel tap
and input channel.

For tap ``(i, j)`` the whole block's contribution is ``frame[shifted] *
w[i, j]``, added into an accumulator.  Working on flattened phase frames
(see ``_frames``) makes every pass one long contiguous vector operation,
even for one channel, where per-row passes would be 26-element loops.
Runs any problem; fast when channels per group are few.  Every output
cell adds its taps in one fixed order, whatever the blocks.
"""

import numpy as np

from ._frames import block_frames, frame_geometry
from .base import write_out

__all__ = ["Taps"]

BUDGET = 1 << 20


class Taps:
    """The tap-accumulate engine for one call: weights are sorted once,
    then ``run`` is called per block."""

    def __init__(self, w, stride, dilation, groups, bias):
        kh, kw, cg, f = w.shape
        self.window, self.stride, self.dilation = (kh, kw), stride, dilation
        self.groups, self.cg, self.f = groups, cg, f
        self.dtype, self.bias = w.dtype, bias
        wg = w.reshape(kh, kw, cg, groups, f // groups)
        # One (i, j, channel, weights, kind) per product, decided once: a
        # call runs thousands of blocks and per-block Python work holds
        # the GIL the other threads need.
        self.terms = [(i, j, c, wg[i, j, c], _kind(wg[i, j, c]))
                      for i in range(kh) for j in range(kw)
                      for c in range(cg)]

    def geometry(self, out_hw):
        return frame_geometry(self.window, out_hw, self.stride,
                              self.dilation)

    def budget(self, ow):
        return BUDGET

    def row_bytes(self, c, ow):
        """Scratch bytes per output row of a block: frames, accumulator and
        product buffer, each ``Wq`` cells wide."""
        geom = self.geometry((1, ow))
        wq = geom.shape[1]
        return (len(geom.phases) * c + 2 * self.f) * wq * self.dtype.itemsize

    def run(self, x, dst, pads, scratch):
        b, c = x.shape[0], x.shape[3]
        geom = self.geometry(dst.shape[1:3])
        frames = {phase: f.reshape(-1, c) for phase, f in block_frames(
            x, geom, pads, self.dtype, scratch).items()}
        hq, wq = geom.shape
        n = geom.length(b)
        acc = scratch.get("acc", (b * hq * wq, self.f), self.dtype)
        live = acc[:n].reshape(n, self.groups, self.f // self.groups)
        tmp = None
        for k, (i, j, ch, weights, kind) in enumerate(self.terms):
            phase, off = geom.taps[i, j]
            src = frames[phase][off:off + n].reshape(
                n, self.groups, self.cg)[:, :, ch, None]
            if k == 0:
                # The first tap writes the accumulator: no zero-fill.
                if kind == "one":
                    np.copyto(live, src)
                else:
                    np.multiply(src, weights, out=live)
                continue
            if tmp is None and kind == "any":
                tmp = scratch.get("tmp", live.shape, self.dtype)
            _accumulate(src, weights, kind, live, tmp)
        write_out(geom.valid(acc, b), dst, self.bias)


def _kind(weights):
    # Unit weights (box filters, the spec's edge kernels) skip the multiply:
    # x * 1 == x and acc - x == acc + (-1 * x) exactly, so the bits do not
    # change.  Zero weights are multiplied like any other (0 * inf = NaN).
    if weights.size and (weights == 1).all():
        return "one"
    if weights.size and (weights == -1).all():
        return "minus_one"
    return "any"


def _accumulate(src, weights, kind, acc, tmp):
    if kind == "one":
        np.add(acc, src, out=acc)
    elif kind == "minus_one":
        np.subtract(acc, src, out=acc)
    else:
        np.multiply(src, weights, out=tmp)
        np.add(acc, tmp, out=acc)
