"""Zero-bordered, stride-free frames of a batch block, so that every kernel
tap becomes one flat offset.

With stride ``s``, tap ``i`` of output row ``r`` reads padded row
``r * s + i * d``.  Writing ``i * d = q * s + p`` splits the taps into
``s`` phases: in the phase-``p`` frame ``F_p[r'] = padded[r' * s + p]`` the
tap reads row ``r + q``, a plain shift.  Frames share one shape
``(Hq, Wq) = (rows + qmax, cols + qmax)``, so in the flattened frame
``(b * Hq * Wq, C)`` a tap is the contiguous slice starting at
``q_row * Wq + q_col`` and a whole tap pass is one long vector operation;
output cell ``(r, c)`` sits at flat position ``r * Wq + c`` and the other
positions are scratch.  Only frames are padded, one block at a time: the
batch itself is never copied.
"""

import functools
import math

import numpy as np

from ._windows import axis_span

__all__ = ["FrameGeometry", "frame_geometry", "all_finite", "fill_frame",
           "block_frames",
           "frame_view"]


class FrameGeometry:
    """Where each tap of a ``window`` sits in the phase frames of a block
    with ``out_hw`` output cells."""

    def __init__(self, window, out_hw, stride, dilation):
        self.stride, self.window = stride, window
        qmax = [(k - 1) * d // s for k, d, s in zip(window, dilation, stride)]
        self.shape = (out_hw[0] + qmax[0], out_hw[1] + qmax[1])
        self.out_hw = out_hw
        wq = self.shape[1]
        self.taps = {}  # (i, j) -> (phase, flat offset)
        for i in range(window[0]):
            qi, p = divmod(i * dilation[0], stride[0])
            for j in range(window[1]):
                qj, q = divmod(j * dilation[1], stride[1])
                self.taps[i, j] = (p, q), qi * wq + qj
        self.phases = sorted({phase for phase, _ in self.taps.values()})
        rows = _grid(window[0], stride[0], dilation[0])
        cols = _grid(window[1], stride[1], dilation[1])
        # phase -> ((taps, first shift, shift step) for rows, for columns):
        # the taps of one phase are evenly spaced, so one strided view of
        # the frame holds them all.
        self.grids = {(p, q): (rows[p], cols[q]) for p in rows for q in cols}

    def length(self, b):
        """Flat positions a tap pass must cover for ``b`` frames: up to the
        last output cell of the last frame."""
        (hq, wq), (rows, cols) = self.shape, self.out_hw
        return (b - 1) * hq * wq + (rows - 1) * wq + cols

    def valid(self, flat, b):
        """The output cells inside a flat ``(b * Hq * Wq, ...)`` array."""
        hq, wq = self.shape
        return flat.reshape((b, hq, wq) + flat.shape[1:])[
            :, :self.out_hw[0], :self.out_hw[1]]


@functools.lru_cache(maxsize=16)
def frame_geometry(window, out_hw, stride, dilation):
    """The ``FrameGeometry`` for these tuples, built once: a call runs
    thousands of blocks of a few shapes, and the geometry never changes."""
    return FrameGeometry(window, out_hw, stride, dilation)


def all_finite(frames):
    """Whether no cell of these frames is inf or NaN.  One sum per frame
    tells: it is finite unless a cell is not (or the sum overflows, and
    then the caller merely takes its slower, exact route)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return all(np.isfinite(frame.sum()) for frame in frames)


def _grid(k, stride, dilation):
    """Taps of one axis by phase ``i * d % s``: (slice of tap indices,
    first frame shift, shift step)."""
    taps_step = stride // math.gcd(dilation, stride)
    shift_step = dilation // math.gcd(dilation, stride)
    grid = {}
    for i in range(k):
        q, p = divmod(i * dilation, stride)
        if p not in grid:
            grid[p] = (slice(i, k, taps_step), q, shift_step)
    return grid


def _spans(x, geom, phase, pads):
    (top, _), (left, _) = pads
    rows = axis_span(phase[0] - top, x.shape[1], geom.shape[0],
                     geom.stride[0])
    cols = axis_span(phase[1] - left, x.shape[2], geom.shape[1],
                     geom.stride[1])
    return rows, cols


def frame_view(x, geom, phase, pads, dtype):
    """The frame as a view of ``x`` when it needs no padding, striding or
    cast (a valid, stride-1 block of whole rows), else None."""
    rows, cols = _spans(x, geom, phase, pads)
    if x.dtype != dtype or rows is None or cols is None:
        return None
    (ro, ri), (co, ci) = rows, cols
    hq, wq = geom.shape
    whole = (ro == slice(0, hq) and co == slice(0, wq) and wq == x.shape[2]
             and ri.step == 1 and ci.step == 1)
    if not whole or (x.shape[0] > 1 and hq != x.shape[1]):
        return None
    view = x[:, ri]
    return view if view.flags.c_contiguous else None


def fill_frame(frame, x, geom, phase, pads):
    """Copy ``x``'s cells of one phase into ``frame`` (b, Hq, Wq, C), zeros
    where the frame reads padding."""
    rows, cols = _spans(x, geom, phase, pads)
    if rows is None or cols is None:
        frame.fill(0)
        return frame
    (ro, ri), (co, ci) = rows, cols
    frame[:, :ro.start] = 0
    frame[:, ro.stop:] = 0
    frame[:, ro, :co.start] = 0
    frame[:, ro, co.stop:] = 0
    frame[:, ro, co] = x[:, ri, ci]
    return frame


def block_frames(x, geom, pads, dtype, scratch, name="frame"):
    """(b, Hq, Wq, C) frames of block ``x``, one per phase the taps use:
    views of ``x`` where possible, else filled into this worker's scratch."""
    b, c = x.shape[0], x.shape[3]
    hq, wq = geom.shape
    frames = {}
    for phase in geom.phases:
        view = frame_view(x, geom, phase, pads, dtype)
        if view is None:
            view = fill_frame(scratch.get((name, phase), (b, hq, wq, c),
                                          dtype), x, geom, phase, pads)
        frames[phase] = view
    return frames
