"""Borders other than zeros (NumPy's pad modes), one band of rows at a time.

``np.pad(image, ..., mode)`` would copy the whole picture.  The same
border comes from indexing: ``np.pad(np.arange(n), (lo, hi), mode)`` says,
for every padded position along an axis, which input cell it repeats, so a
band of padded rows is ``image[rows[a:b, None], cols]``.  Only one band (a
few MiB) exists at a time, whatever the picture's size.
"""

import numpy as np

from .conv import conv_nhwc

__all__ = ["filter_planes", "padded_bands"]

# Bytes of padded input per band.
BAND_BYTES = 8 << 20


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


def filter_planes(planes, weights, out, stride, pads, mode, threads):
    """Filter every channel of ``planes`` (H, W, C) with one kernel
    ``weights`` (KH, KW, 1, 1) into ``out`` (OH, OW, C), the border filled
    by ``mode``: zeros through the engine's own padding, any other NumPy
    pad mode band by band."""
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
