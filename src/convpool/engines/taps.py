"""Tap-accumulate convolution: one multiply-add pass per kernel tap.

For tap ``(i, j)`` the whole block's contribution is ``frame[shifted] *
w[i, j]``, added into an accumulator.  Working on flattened phase frames
(see ``_frames``) makes every pass one long contiguous vector operation,
even for one channel, where per-row passes would be 26-element loops.
Best when channels per group are few (grayscale, depthwise): the cost is
``KH * KW * C/groups`` passes over the block.
"""

import numpy as np

from ._blas import axpy_kernel
from ._frames import all_finite, fill_frame, frame_geometry, frame_view
from .depthwise import Depthwise

__all__ = ["Taps"]


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
        self.has_zero = any(kind == "zero" for *_, kind in self.terms)
        # axpy needs the shifted frame and the accumulator to be the same
        # contiguous vector: one input channel and one filter per group.
        self.axpy = (axpy_kernel(self.dtype) if cg == 1 and f == groups
                     else None)
        # One filter per input channel with weights varying by channel:
        # one einsum per block beats a multiply and an add per tap.
        scalar = all(kind != "any" for *_, kind in self.terms)
        self.depthwise = (Depthwise(w)
                          if cg == 1 and f == groups > 1 and not scalar
                          else None)
        # Every tap but the first one scalar weight (no zero: those need the
        # inf/NaN check) and axpy at hand: ``_run_direct``'s short loop.
        self.plain_axpy = (self.axpy is not None and self.depthwise is None
                           and not self.has_zero
                           and all(kind == "scalar"
                                   for *_, kind in self.terms[1:]))
        self._plans = {}

    def geometry(self, out_hw):
        return frame_geometry(self.window, out_hw, self.stride,
                              self.dilation)

    def row_bytes(self, c, ow):
        """Scratch bytes per output row of a block: frames, accumulator and
        product buffer, each ``Wq`` cells wide."""
        geom = self.geometry((1, ow))
        wq = geom.shape[1]
        return (len(geom.phases) * c + 2 * self.f) * wq * self.dtype.itemsize

    def run(self, x, dst, pads, scratch):
        """Write the convolution of block ``x`` (b, H, W, C) into ``dst``
        (b, rows, OW, F); ``pads`` are the block's own (``band_pads``)."""
        if self.plain_axpy and self._run_direct(x, dst, pads, scratch):
            return
        b = x.shape[0]
        geom = self.geometry(dst.shape[1:3])
        frames = self._frames(x, geom, pads, scratch)
        if self.depthwise is not None:
            self.depthwise.run(frames, geom, dst, self.bias, scratch,
                               self.dtype)
            return
        c = x.shape[3]
        frames = {phase: f.reshape(-1, c) for phase, f in frames.items()}
        hq, wq = geom.shape
        n = geom.length(b)
        acc = scratch.get("acc", (b * hq * wq, self.f), self.dtype)
        live = acc[:n].reshape(n, self.groups, self.f // self.groups)
        # A zero tap adds nothing only if no inf or NaN meets it (0 * inf
        # is NaN, as in PyTorch).
        skip_zeros = self.has_zero and all_finite(frames.values())
        fused = self._fused(frames, live)
        tmp = None
        first = True
        for (phase, off), c, weights, kind, value in self._plan(geom):
            if kind == "zero" and skip_zeros:
                continue
            if not first and kind == "scalar" and fused is not None:
                fused(phase, off, value)
                continue
            src = frames[phase][off:off + n].reshape(
                n, self.groups, self.cg)[:, :, c, None]
            if first:
                _scale(src, weights, kind, live)
                first = False
                continue
            if tmp is None and kind not in ("one", "minus_one"):
                tmp = scratch.get("tmp", live.shape, self.dtype)
            _accumulate(src, weights, kind, live, tmp)
        if first:
            live.fill(0)
        self._write(geom.valid(acc, b), dst)

    def _write(self, valid, dst):
        if self.bias is None:
            np.copyto(dst, valid, casting="unsafe")
        else:
            np.add(valid, self.bias, out=dst, casting="unsafe")

    def _run_direct(self, x, dst, pads, scratch):
        """``plain_axpy`` blocks (grayscale, filter2d) whose frames are all
        views of ``x`` (valid stride-1 blocks: W1): the first tap scales,
        every other one is one axpy at a fixed byte offset from ``x``'s
        data.  Returns False, doing nothing, when a frame must be filled.

        Everything but the calls themselves is worked out once per block
        shape (``_direct_plan``) and per worker (``Scratch.memo``): on
        several threads every Python step between two GIL-releasing calls
        can hold up the other thread, and W1 runs hundreds of blocks."""
        key = (x.shape, x.strides, x.dtype, dst.shape[1:3], pads[0][0],
               pads[1][0])
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._direct_plan(x, dst, pads)
        if not plan:
            return False
        rows, first, size, weights, kind, steps, make = plan
        live, y, valid = scratch.memo(("taps", key), make)
        src = x[:, rows].reshape(-1)[first:first + size]
        _scale(src.reshape(live.shape), weights, kind, live)
        base, kernel = x.ctypes.data, self.axpy
        for offset, weight in steps:
            kernel(size, weight, base + offset, y)
        self._write(valid, dst)
        return True

    def _direct_plan(self, x, dst, pads):
        """For ``_run_direct``: the first tap's frame rows of ``x``, start
        and size in that flattened frame, weights and kind; (byte offset
        from ``x``'s data, weight) per axpy; and ``make(scratch)`` giving
        a worker's (accumulator, its address, its valid cells).  False
        when some frame is not a view of ``x``.  The offsets depend only
        on shapes and strides, which the plan's key holds."""
        b, c = x.shape[0], x.shape[3]
        geom = self.geometry(dst.shape[1:3])
        hq, wq = geom.shape
        offsets = {}
        for phase in geom.phases:
            view = frame_view(x, geom, phase, pads, self.dtype)
            if view is None:
                return False
            offsets[phase] = view.ctypes.data - x.ctypes.data
        plan = self._plan(geom)
        (phase, off), _, weights, kind, _ = plan[0]
        top = offsets[phase] // x.strides[1]
        n = geom.length(b)
        step = c * self.dtype.itemsize
        steps = [(offsets[p] + o * step, value)
                 for (p, o), _, _, _, value in plan[1:]]
        live_shape = (n, self.groups, self.f // self.groups)

        def make(scratch):
            acc = scratch.get("acc", (b * hq * wq, self.f), self.dtype)
            live = acc[:n].reshape(live_shape)
            return live, live.ctypes.data, geom.valid(acc, b)
        return (slice(top, top + hq), off * c, n * c, weights, kind, steps,
                make)

    def _fused(self, frames, live):
        """``add(phase, offset, weight)``: ``live += weight * shifted frame``
        in one BLAS axpy pass, when the data are contiguous (one input
        channel per group); else None."""
        if self.axpy is None or not live.flags.c_contiguous or not all(
                f.flags.c_contiguous for f in frames.values()):
            return None
        # One weight for every channel (grayscale, filter2d's planes): the
        # frame slice and the accumulator are one contiguous vector each.
        size, step = live.size, self.groups * self.dtype.itemsize
        starts = {phase: f.ctypes.data for phase, f in frames.items()}
        dst, kernel = live.ctypes.data, self.axpy

        def add(phase, off, weight):
            kernel(size, weight, starts[phase] + off * step, dst)
        return add

    def _plan(self, geom):
        """The terms with their frame (phase, offset) and first weight as a
        Python number, per block geometry: the per-block loop only reads."""
        plan = self._plans.get(geom.out_hw)
        if plan is None:
            plan = self._plans[geom.out_hw] = [
                (geom.taps[i, j], c, weights, kind, weights.flat[0].item())
                for i, j, c, weights, kind in self.terms]
        return plan

    def _frames(self, x, geom, pads, scratch):
        """(b, Hq, Wq, C) frames, one per phase the taps use."""
        b, c = x.shape[0], x.shape[3]
        hq, wq = geom.shape
        frames = {}
        for phase in geom.phases:
            view = frame_view(x, geom, phase, pads, self.dtype)
            if view is None:
                frame = scratch.get(("frame", phase), (b, hq, wq, c),
                                    self.dtype)
                view = fill_frame(frame, x, geom, phase, pads)
            frames[phase] = view
        return frames


def _kind(weights):
    # Unit weights (box filters, the spec's edge kernels) skip the multiply:
    # x * 1 == x exactly, so the numbers do not change.
    if not weights.any():
        return "zero"
    if (weights == 1).all():
        return "one"
    if (weights == -1).all():
        return "minus_one"
    if (weights == weights.flat[0]).all():
        return "scalar"
    return "any"


def _scale(src, weights, kind, out):
    # The first tap writes the accumulator: no zero-fill, no extra pass.
    if kind == "one":
        np.copyto(out, src)
    else:
        np.multiply(src, weights, out=out)


def _accumulate(src, weights, kind, acc, tmp):
    if kind == "one":
        np.add(acc, src, out=acc)
    elif kind == "minus_one":
        np.subtract(acc, src, out=acc)
    else:
        np.multiply(src, weights, out=tmp)
        np.add(acc, tmp, out=acc)
