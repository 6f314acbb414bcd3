"""FFT correlation for large kernels (the ``fft`` filter path), overlap-save
in tiles with ``numpy.fft``.

For an input tile of ``Fh x Fw`` cells (padded by the pad mode as usual)
the circular correlation ``irfft2(rfft2(tile) * conj(rfft2(kernel)))`` is
the true correlation on its first ``(Fh - KH + 1) x (Fw - KW + 1)``
outputs; tiles overlap by ``K - 1`` cells.  Each tile and channel is
transformed on its own into per-thread buffers, so memory beyond the
output stays within ``FFT_TILE_BYTES`` per thread plus the kernel's
spectrum, whatever the picture's size.  float32 stays float32
(``numpy.fft`` keeps complex64).

Rounding differs from tap sums: the error of each output is a few
``eps * log2(Fh * Fw)`` times ``sum |window| * max |kernel|`` rather than
of ``sum |window * kernel|`` (see the tests' tolerance).  A tile holding
an inf or NaN would spread it over the whole tile, so such tiles are
computed by the direct engine instead: the result keeps the direct path's
NaN/inf pattern.
"""

import functools
import math

import numpy as np

from ._blas import one_blas_thread
from ._parallel import run_blocks
from ._picture import fill_padded, padded_index, runs
from .conv import conv_nhwc

__all__ = ["filter_fft", "fft_tiles", "fft_cost", "FFT_TILE_BYTES"]

# Per-thread scratch: one real tile and its half spectrum, about
# 2 * Fh * Fw * itemsize.  16 MiB allows 1448^2 float32 / 1024^2 float64.
FFT_TILE_BYTES = 16 << 20
# All threads' tiles together (the kernel spectrum comes on top): keeps the
# 64 MiB bound on machines with many cores by using fewer FFT threads.
FFT_TOTAL_BYTES = 40 << 20
# Cost of a tile transform pair, in units of one output element's tap pass,
# per ``F log2 F`` (``fft_cost``); plus a fixed cost per tile and channel
# (filling the tile, the spectrum product, Python).  Fitted to 2048x2048x3
# float32 timings on 2 threads, kernels 3x3 to 31x31 (noisy: the machine
# was shared): FFT level with banded BLAS at 15x15 to 21x21.
FFT_UNIT = 5.0
TILE_OVERHEAD = 200000


def _good_sizes(limit):
    sizes = sorted(2 ** a * 3 ** b * 5 ** c
                   for a in range(13) for b in range(8) for c in range(6)
                   if 8 <= 2 ** a * 3 ** b * 5 ** c <= limit)
    return sizes


GOOD = _good_sizes(1 << 13)


def fft_tiles(out_hw, window, itemsize):
    """``(Fh, Fw)``, the transform size per tile minimising
    ``fft_cost``, within ``FFT_TILE_BYTES``; None if no tile fits.

    >>> fft_tiles((100, 100), (9, 9), 4)
    (108, 108)
    """
    return _best_tile(tuple(map(int, out_hw)), tuple(map(int, window)),
                      int(itemsize))


@functools.lru_cache(maxsize=256)
def _best_tile(out_hw, window, itemsize):
    # Every (Fh, Fw) pair at once: the planner asks on every call, and a
    # loop over the pairs took 10-40 ms.
    fh = np.array(_axis_sizes(out_hw[0], window[0]), dtype=np.float64)
    fw = np.array(_axis_sizes(out_hw[1], window[1]), dtype=np.float64)
    if not len(fh) or not len(fw):
        return None
    area = fh[:, None] * fw[None, :]
    tiles = (np.ceil(out_hw[0] / (fh - window[0] + 1))[:, None]
             * np.ceil(out_hw[1] / (fw - window[1] + 1))[None, :])
    cost = tiles * (FFT_UNIT * area * np.log2(area) + TILE_OVERHEAD)
    cost[2 * area * itemsize > FFT_TILE_BYTES] = np.inf
    best = np.unravel_index(np.argmin(cost), cost.shape)
    if not np.isfinite(cost[best]):
        return None
    return int(fh[best[0]]), int(fw[best[1]])


def _axis_sizes(out, k):
    # No tile longer than the whole (padded) axis needs.
    need = out + k - 1
    cap = next((g for g in GOOD if g >= need), GOOD[-1])
    return [g for g in GOOD if k < g <= cap]


def _tile_cost(out_hw, window, f):
    tiles = math.prod(-(-o // (fi - k + 1))
                      for o, k, fi in zip(out_hw, window, f))
    fh, fw = f
    return tiles * (FFT_UNIT * fh * fw * math.log2(fh * fw) + TILE_OVERHEAD)


def fft_cost(out_hw, window, itemsize):
    """Estimated cost per channel, in output-element tap passes (a direct
    filter costs ``KH * KW * OH * OW``); inf when no tile fits."""
    f = fft_tiles(out_hw, window, itemsize)
    return math.inf if f is None else _tile_cost(out_hw, window, f)


def filter_fft(planes, kernel, out, pads, mode, threads):
    """Correlate every channel of ``planes`` (H, W, C) with ``kernel``
    (KH, KW, float compute dtype) into ``out`` (OH, OW, C), stride 1, the
    border by ``mode``, by overlap-save FFT tiles."""
    h, w, c = planes.shape
    kh, kw = kernel.shape
    oh, ow = out.shape[:2]
    if oh == 0 or ow == 0:
        return
    dtype = kernel.dtype
    fh, fw = fft_tiles((oh, ow), (kh, kw), dtype.itemsize)
    th, tw = fh - kh + 1, fw - kw + 1
    rows = padded_index(h, *pads[0], mode)
    cols = padded_index(w, *pads[1], mode)
    spectrum = np.conj(np.fft.rfft2(kernel, (fh, fw)))
    blocks = [(r, min(r + th, oh), q, min(q + tw, ow))
              for r in range(0, oh, th) for q in range(0, ow, tw)]
    weights = kernel[:, :, None, None]
    col_runs = {q: runs(cols[q:q + min(q + tw, ow) - q + kw - 1])
                for q in range(0, ow, tw)}

    def work(r0, r1, c0, c1, scratch):
        real = scratch.get("real", (fh, fw), dtype)
        spec = scratch.get("spec", (fh, fw // 2 + 1), spectrum.dtype)
        nr, nc = r1 - r0 + kh - 1, c1 - c0 + kw - 1
        for ch in range(c):
            tile = real[:nr, :nc, None]
            fill_padded(planes[:, :, ch:ch + 1], rows[r0:r0 + nr],
                        col_runs[c0], tile)
            dst = out[r0:r1, c0:c1, ch]
            if not np.isfinite(tile.sum()):
                _direct(tile, weights, dst)
                continue
            real[nr:] = 0
            real[:nr, nc:] = 0
            np.fft.rfft(real, axis=1, out=spec)
            np.fft.fft(spec, axis=0, out=spec)
            spec *= spectrum
            np.fft.ifft(spec, axis=0, out=spec)
            np.fft.irfft(spec, n=fw, axis=1, out=real)
            np.copyto(dst, real[:r1 - r0, :c1 - c0], casting="unsafe")

    workers = max(1, min(threads, FFT_TOTAL_BYTES // (2 * fh * fw
                                                      * dtype.itemsize)))
    with one_blas_thread():
        run_blocks(work, blocks, workers)


def _direct(tile, weights, dst):
    """The direct engine on one padded tile (non-finite input)."""
    out = np.empty(dst.shape + (1,), weights.dtype)
    conv_nhwc(tile[None], weights, out[None], (1, 1), (1, 1),
              ((0, 0), (0, 0)), 1, None, "auto", 1)
    np.copyto(dst, out[:, :, 0], casting="unsafe")
