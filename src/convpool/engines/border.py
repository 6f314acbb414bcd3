"""filter2d's paths for one picture, and borders other than zeros (NumPy's
pad modes) without a padded copy of the picture.

``np.pad(image, ..., mode)`` would copy the whole picture.  The same
border comes from indexing: ``np.pad(np.arange(n), (lo, hi), mode)`` says,
for every padded position along an axis, which input cell it repeats, so a
band of padded rows is ``image[rows[a:b, None], cols]``.  Only one band (a
few MiB) exists at a time, whatever the picture's size.

Paths (``plan_filter`` picks one and says why; ``filter_planes(...,
path=)`` forces one):

``direct``     the convolution engines (``conv_nhwc``): channels as a batch
               of grayscale pictures, tap passes or banded BLAS
``tiled``      every tap one pass over an L2-sized band, all channels at
               once (``tiled.py``)
``separable``  a rank-1 kernel as a vertical then a horizontal pass,
               ``KH + KW`` taps (``separable.py``)
``fft``        overlap-save FFT tiles (``fft.py``), stride 1
"""

import math

import numpy as np

from .conv import conv_nhwc
from .fft import FFT_TILE_BYTES, fft_cost, fft_tiles, filter_fft
from .separable import SEPARABLE_ULPS, factorise, filter_separable
from .tiled import filter_tiled

__all__ = ["filter_planes", "padded_bands", "plan_filter", "FILTER_PATHS",
           "filter_refusal", "explain_filter"]

FILTER_PATHS = ("direct", "tiled", "separable", "fft")

# Bytes of padded input per band.
BAND_BYTES = 8 << 20
# Kernels up to this many taps go to ``tiled`` when not separable; larger
# ones to the direct engine (or FFT).  Measured (noisy, shared machine) on
# 4096x4096x3 float32 5x5: tiled 0.13 s, direct 0.16-0.21 s; 2048x2048x3
# 9x9: direct 0.09-0.25 s, tiled 0.15-0.33 s.
TILED_MAX_TAPS = 49
# The direct engine's cost in tap passes: a pass per tap up to its own
# BLAS threshold (``MAX_GRAY_TAPS``), each dearer than a tiled one (one
# channel per pass, 1.2-1.6x measured at 5x5), then banded BLAS products,
# about 0.1 pass per tap plus a fixed 20 (15x15 to 31x31).
DIRECT_TAP = 1.3
DIRECT_BLAS_TAPS = 100
BLAS_TAP, BLAS_FIXED = 0.1, 20
# Fixed passes of a banded path besides its taps: filling the band and
# writing the output.
BAND_PASSES = 2


def plan_filter(image_shape, kernel, dtype, stride=(1, 1), pads=None):
    """Which path filters a picture fastest, and why.

    Parameters
    ----------
    image_shape : tuple, (H, W) or (H, W, C)
    kernel : ndarray, shape (KH, KW)
    dtype : dtype
        The compute dtype (``float32`` or ``float64``).
    stride : (int, int), optional
    pads : ((int, int), (int, int)), optional
        Explicit padding; default TensorFlow's ``'same'``.

    Returns
    -------
    (str, str)
        The path, one of ``FILTER_PATHS``, and the reason in words,
        ``'<path>: ...'``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256
    >>> plan_filter((512, 512, 3), g, np.float32)[0]
    'separable'
    >>> plan_filter((512, 512, 3), np.eye(5), np.float32)[0]
    'tiled'
    """
    kernel = np.asarray(kernel)
    kh, kw = kernel.shape
    taps = kh * kw
    dtype = np.dtype(dtype)
    out_hw = _out_hw(image_shape[:2], (kh, kw), stride, pads)
    if not np.all(np.isfinite(kernel)):
        return "direct", ("direct: the kernel has an inf or NaN: only tap "
                          "sums keep the exact inf/NaN pattern")
    if taps == 1:
        return "direct", "direct: one tap: a single scaling pass"
    costs = {"direct": (DIRECT_TAP * taps + BAND_PASSES
                        if taps <= DIRECT_BLAS_TAPS
                        else BLAS_FIXED + BLAS_TAP * taps)}
    if taps <= TILED_MAX_TAPS:
        costs["tiled"] = taps + BAND_PASSES
    factors = factorise(kernel, dtype)
    if factors is not None:
        costs["separable"] = kh + kw + BAND_PASSES
    if tuple(stride) == (1, 1) and dtype.kind == "f":
        costs["fft"] = (fft_cost(out_hw, (kh, kw), dtype.itemsize)
                        / max(1, math.prod(out_hw)))
    path = min(costs, key=costs.get)
    return path, _reason(path, (kh, kw), dtype, costs)


def _reason(path, window, dtype, costs):
    kh, kw = window
    taps = kh * kw
    rank1 = "separable" in costs
    sep = (f"rank 1 to {dtype.name} precision: {kh} + {kw} taps instead "
           f"of {taps}" if rank1 else f"not rank 1 to {dtype.name} precision")
    fft = costs.get("fft")
    fft_text = ("FFT tiles need a stride of 1 and a float dtype"
                if fft is None else
                f"FFT tiles cost about {fft:.0f} tap passes")
    if path == "separable":
        return f"separable: the kernel is {sep}; {fft_text}"
    if path == "fft":
        other = min(v for k, v in costs.items() if k != "fft")
        return (f"fft: {fft_text} against {other:.0f} for the best tap "
                f"path; the kernel is {sep}")
    if path == "tiled":
        return (f"tiled: {taps} taps (<= {TILED_MAX_TAPS}) as passes over "
                f"cache-sized bands; the kernel is {sep}; {fft_text}")
    how = ("one pass per tap" if taps <= DIRECT_BLAS_TAPS
           else "banded BLAS products")
    return (f"direct: {taps} taps as {how}; the kernel is {sep}; "
            f"{fft_text}")


def _out_hw(hw, window, stride, pads):
    if pads is None:
        return tuple(-(-n // s) for n, s in zip(hw, stride))
    return tuple((n + lo + hi - k) // s + 1
                 for n, (lo, hi), k, s in zip(hw, pads, window, stride))


def padded_bands(image, pads, mode, k, stride, out_rows):
    """Yield ``(r0, r1, band)``: output rows ``r0:r1`` and the padded input
    rows they read, ``band`` of shape (rows, W + left + right, C).

    ``image`` is (H, W, C); ``pads`` is ``((top, bottom), (left, right))``;
    ``k`` and ``stride`` are the window's height and vertical stride.
    """
    h, w, c = image.shape
    rows = np.pad(np.arange(h), pads[0], mode=mode)
    cols = np.pad(np.arange(w), pads[1], mode=mode)
    row_bytes = max(1, len(cols) * c * image.itemsize * stride)
    per_band = max(1, BAND_BYTES // row_bytes)
    for r0 in range(0, out_rows, per_band):
        r1 = min(r0 + per_band, out_rows)
        needed = rows[r0 * stride:(r1 - 1) * stride + k]
        yield r0, r1, image[needed[:, None], cols]


def filter_refusal(path, kernel, dtype, stride, out_hw):
    """Why ``path`` cannot filter with ``kernel`` (KH, KW) at ``stride``
    into an (OH, OW) output in ``dtype``, or None if it can.

    >>> import numpy as np
    >>> filter_refusal("fft", np.ones((3, 3)), np.float64, (2, 1), (4, 8))
    'it needs stride (1, 1), got (2, 1)'
    >>> filter_refusal("separable", np.ones((3, 3)), np.float64, (1, 1),
    ...                (4, 8)) is None
    True
    """
    kernel = np.asarray(kernel)
    dtype = np.dtype(dtype)
    if path == "separable":
        if min(kernel.shape) < 2:
            return (f"a {kernel.shape[0]}x{kernel.shape[1]} kernel is one "
                    "pass already (use 'tiled')")
        if not np.all(np.isfinite(kernel)):
            return "the kernel has an inf or NaN"
        if factorise(kernel, dtype) is None:
            return (f"the kernel is not rank 1 to {dtype.name} precision "
                    f"(no outer(col, row) within {SEPARABLE_ULPS} ulps of "
                    "its largest entry)")
    elif path == "fft":
        if tuple(stride) != (1, 1):
            return f"it needs stride (1, 1), got {tuple(stride)}"
        if dtype.kind != "f":
            return f"it needs a float dtype, got {dtype}"
        if not np.all(np.isfinite(kernel)):
            return ("the kernel has an inf or NaN, which its spectrum "
                    "would spread over every output")
        if fft_tiles(out_hw, kernel.shape, dtype.itemsize) is None:
            return (f"no FFT tile for a {kernel.shape[0]}x{kernel.shape[1]}"
                    f" kernel fits in {FFT_TILE_BYTES >> 20} MiB")
    return None


def check_filter_path(path, kernel, dtype, stride, out_hw, name="path"):
    """Raise ValueError (naming the argument ``name``) if ``path`` is not
    a filter path or cannot run this filter."""
    if path not in FILTER_PATHS:
        raise ValueError(f"`{name}` must be one of "
                         f"{', '.join(map(repr, FILTER_PATHS))}, "
                         f"got {path!r}")
    why = filter_refusal(path, kernel, dtype, stride, out_hw)
    if why is not None:
        raise ValueError(f"`{name}` {path!r} cannot run this filter: {why}")


def explain_filter(image_shape, kernel, dtype, stride, pads, engine="auto"):
    """One line: the path ``filter2d`` takes and why.

    >>> import numpy as np
    >>> explain_filter((64, 64, 3), np.eye(3), np.float32, (1, 1),
    ...                ((1, 1), (1, 1)), engine="fft")
    'fft: chosen by `engine`'
    """
    if engine != "auto":
        check_filter_path(engine, kernel, dtype, stride,
                          _out_hw(image_shape[:2], np.shape(kernel), stride,
                                  pads), "engine")
        return f"{engine}: chosen by `engine`"
    return plan_filter(image_shape, kernel, dtype, stride, pads)[1]


def filter_planes(planes, weights, out, stride, pads, mode, threads, *,
                  path=None, name="path"):
    """Filter every channel of ``planes`` (H, W, C) with one kernel
    ``weights`` (KH, KW, 1, 1) into ``out`` (OH, OW, C), the border filled
    by ``mode``.

    ``path`` (one of ``FILTER_PATHS``) forces a path; by default
    ``plan_filter`` picks it.  A forced path that cannot run the filter
    (``filter_refusal``) raises ValueError naming the argument ``name``;
    there is no fallback.  Every path gives the same numbers to rounding.
    """
    kernel = weights[:, :, 0, 0]
    if path is None:
        path = plan_filter(planes.shape, kernel, weights.dtype, stride,
                           pads)[0]
    else:
        check_filter_path(path, kernel, weights.dtype, stride,
                          out.shape[:2], name)
    if out.size == 0:
        return
    if path == "direct":
        _filter_direct(planes, weights, out, stride, pads, mode, threads)
    elif path == "tiled":
        filter_tiled(planes, kernel, out, stride, pads, mode, threads)
    elif path == "separable":
        factors = factorise(kernel, weights.dtype)
        filter_separable(planes, *factors, out, stride, pads, mode, threads)
    else:
        filter_fft(planes, kernel, out, pads, mode, threads)


def _filter_direct(planes, weights, out, stride, pads, mode, threads):
    if mode == "constant" or not any(map(any, pads)):
        conv_nhwc(_as_batch(planes), weights, _as_batch(out), stride, (1, 1),
                  pads, 1, None, "auto", threads)
        return
    for r0, r1, band in padded_bands(planes, pads, mode, weights.shape[0],
                                     stride[0], len(out)):
        conv_nhwc(_as_batch(band), weights, _as_batch(out[r0:r1]), stride,
                  (1, 1), ((0, 0), (0, 0)), 1, None, "auto", threads)


def _as_batch(planes):
    """(H, W, C) as a (C, H, W, 1) batch of one-channel pictures (a view):
    the channels become the batch, each filtered by the same kernel."""
    return planes.transpose(2, 0, 1)[:, :, :, None]
