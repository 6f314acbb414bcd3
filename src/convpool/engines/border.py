"""Borders other than zeros (NumPy's pad modes), one band of rows at a time.

``np.pad(image, ..., mode)`` would copy the whole picture.  The same
border comes from indexing: ``np.pad(np.arange(n), (lo, hi), mode)`` says,
for every padded position along an axis, which input cell it repeats, so a
band of padded rows is ``image[rows[a:b, None], cols]``.  Only one band (a
few MiB) exists at a time, whatever the picture's size.
"""

import numpy as np

__all__ = ["padded_bands"]

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
