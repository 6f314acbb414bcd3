"""Scaling values to 8-bit pixels, so that a picture never lies.

Ranges are taken over finite values only.  A pixel with a NaN or an infinity
in any channel is drawn in :data:`NONFINITE_RGB` (magenta, a colour no grey
picture has), and the command warns how many there were.

========================  ====================================================
``clip``                  the input's nominal range (:func:`nominal_range`)
                          to black-white, values outside clipped
``minmax``                the picture's minimum black, its maximum white
``minmax-robust``         the 0.5th percentile black, the 99.5th white
``signed``                0 mid-grey, the largest \\|value\\| white (positive)
                          or black (negative)
``signed-robust``         0 mid-grey, the 99.5th percentile of \\|value\\|
                          white or black; the strongest 0.5% saturate
========================  ====================================================
"""

import numpy as np

SCALE_NOTES = """\
how a picture output shows the values (--scale, default auto):
  clip           the input's nominal range maps to black-white, values
                 outside are clipped.  The range is 0-1 for floats within
                 [0, 1] (and bool), 0-255 for uint8 and 0-65535 for uint16
                 pictures, otherwise the input's own finite minimum-maximum
  minmax         each picture's minimum is black, its maximum white
  minmax-robust  the 0.5th percentile black, the 99.5th white, so a few
                 extreme pixels do not grey out the rest
  signed         0 is mid-grey (128); the largest |value| is white if
                 positive, black if negative
  signed-robust  as signed, with the 99.5th percentile of |value| as the
                 full scale; the strongest 0.5% saturate
  Ranges use finite values only, over all channels of a picture together
  (colours keep their balance).  A pixel holding NaN or infinity is drawn
  magenta (255, 0, 255) and a warning on stderr gives their count.
"""

SCALES = ("auto", "clip", "minmax", "minmax-robust", "signed",
          "signed-robust")
ROBUST_PERCENTILE = 99.5
NONFINITE_RGB = (255, 0, 255)


def nominal_range(arr):
    """The range the values are meant to span, for ``--scale clip``.

    0-1 for bool and for floats within [0, 1]; 0-255 for uint8 and 0-65535
    for uint16 pictures; otherwise the finite values' own range.

    >>> nominal_range(np.array([0.2, 0.9])), nominal_range(np.uint8([3]))
    ((0.0, 1.0), (0.0, 255.0))
    >>> nominal_range(np.array([0.0, 3.0, np.inf]))
    (0.0, 3.0)
    """
    if arr.dtype == np.bool_:
        return 0.0, 1.0
    if arr.dtype.kind == "u" and arr.dtype.itemsize <= 2:
        return 0.0, float(np.iinfo(arr.dtype).max)
    if arr.dtype.kind in "iu":
        lo, hi = float(arr.min()), float(arr.max())
    else:
        finite = np.isfinite(arr)
        lo = float(np.min(arr, where=finite, initial=np.inf))
        hi = float(np.max(arr, where=finite, initial=-np.inf))
        if lo > hi:                                # nothing finite
            return 0.0, 1.0
    if arr.dtype.kind == "f" and lo >= 0 and hi <= 1:
        return 0.0, 1.0
    return lo, hi if hi > lo else lo + 1.0


def display_range(finite, scale, value_range=(0.0, 255.0)):
    """``(lo, hi)`` mapped to black and white, from the finite values.

    >>> display_range(np.array([-2.0, 0.0, 1.0]), "signed")
    (-2.0, 2.0)
    >>> display_range(np.arange(1001.0), "minmax-robust")
    (5.0, 995.0)
    """
    tail = 100.0 - ROBUST_PERCENTILE
    if scale == "clip":
        return tuple(map(float, value_range))
    if finite.size == 0:
        return (-1.0, 1.0) if scale.startswith("signed") else (0.0, 1.0)
    if scale == "minmax":
        return float(finite.min()), float(finite.max())
    if scale == "minmax-robust":
        lo, hi = np.percentile(finite, [tail, ROBUST_PERCENTILE])
        return (float(lo), float(hi)) if hi > lo else display_range(
            finite, "minmax")
    magnitude = np.abs(finite)
    if scale == "signed":
        m = float(magnitude.max())
    elif scale == "signed-robust":
        # Mostly-flat results have a zero percentile: use the maximum then.
        m = float(np.percentile(magnitude, ROBUST_PERCENTILE))
        m = m if m > 0 else float(magnitude.max())
    else:
        raise ValueError(f"`scale` must be one of {SCALES[1:]}, got {scale!r}")
    return -m, m


def to_uint8(image, scale, value_range=(0.0, 255.0)):
    """Map one picture's finite values to 0-255 for display.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
    scale : {'clip', 'minmax', 'minmax-robust', 'signed', 'signed-robust'}
        See the module's table.  Ranges are taken over all channels
        together, so colours keep their balance.
    value_range : (float, float)
        The nominal range ``clip`` maps to black-white.

    Returns
    -------
    ndarray of uint8, the shape of ``image``
        Non-finite values become 0 here; :func:`to_display` marks them.

    Examples
    --------
    >>> to_uint8(np.array([[-2.0, 0.0, 1.0]]), "signed")
    array([[  0, 128, 191]], dtype=uint8)
    >>> to_uint8(np.array([[-2.0, 0.0, 1.0, np.inf]]), "minmax")
    array([[  0, 170, 255,   0]], dtype=uint8)
    """
    v = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(v)
    lo, hi = display_range(v[finite], scale, value_range)
    if hi > lo:
        unit = (np.where(finite, v, lo) - lo) / (hi - lo)
    else:   # one value: mid-grey for signed pictures, black otherwise
        unit = np.full(v.shape, 0.5 if scale.startswith("signed") else 0.0)
    unit = np.where(finite, np.clip(unit, 0.0, 1.0), 0.0)
    return np.rint(unit * 255.0).astype(np.uint8)


def nonfinite_pixels(image):
    """Mask (H, W) of pixels with a NaN or infinity in any channel."""
    return ~np.isfinite(image).all(axis=-1)


def to_display(image, scale, value_range=(0.0, 255.0)):
    """An (H, W, C) picture as 8-bit pixels, non-finite pixels in magenta.

    Returns ``(pixels, count)``: pixels (H, W, C), or (H, W, 3) when a pixel
    had to be marked, and the number of marked pixels.

    >>> pixels, count = to_display(np.array([[[0.0], [np.nan]]]), "minmax")
    >>> count, pixels.tolist()
    (1, [[[0, 0, 0], [255, 0, 255]]])
    """
    pixels = to_uint8(image, scale, value_range)
    bad = nonfinite_pixels(image)
    count = int(bad.sum())
    if count and pixels.shape[2] in (1, 3):
        pixels = np.repeat(pixels, 3 // pixels.shape[2], axis=2)
        pixels[bad] = NONFINITE_RGB
    return pixels, count


def as_rgb(pixels):
    """Grey (H, W, 1) pixels as (H, W, 3); others unchanged."""
    return np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels


def kernel_sums(kernel):
    """Sum of the weights feeding each output channel."""
    if kernel.ndim == 4:
        return kernel.sum(axis=(0, 1, 2))
    return np.array([kernel.sum()])


def auto_scale(kernels):
    """The ``--scale auto`` choice for these kernels' results.

    ``signed-robust`` when a kernel's entries sum to 0 (edges), ``clip``
    when every kernel sums to 1 (blurs keep the input's range),
    ``minmax-robust`` otherwise.

    >>> auto_scale([np.array([[1.0, -1.0]])]), auto_scale([np.ones((2, 2))])
    ('signed-robust', 'minmax-robust')
    """
    sums = [kernel_sums(k) for k in kernels]
    if any(np.allclose(s, 0.0, atol=1e-9) for s in sums):
        return "signed-robust"
    if all(np.allclose(s, 1.0) for s in sums):
        return "clip"
    return "minmax-robust"
