"""Kernels over batches for the command: shapes checked up front in the
user's words, borders made in one place, one big picture done in bands so a
progress bar can move.
"""

import os

import numpy as np

from .. import conv2d, filter2d
from ..geometry import output_size, pair, resolve_padding
from .args import padding_text
from .errors import UserError, library_errors
from .progress import chunks

# Above this many multiply-adds one picture is filtered in bands of rows
# with a progress bar: about a second on one core of our machines.
SLOW_MACS = 1e9
# Each band re-reads KH - 1 rows of its neighbour; bands at least this many
# times that tall keep the extra work under about 1/8 (measured: 50 bands
# of a 600-row picture with a 61x61 kernel took 3.6x the time of one call).
BAND_HALO_RATIO = 8


def as_hwio(kernel, channels):
    """A 2-, 3- or 4-D kernel as HWIO weights and the ``groups`` to use."""
    if kernel.ndim == 2:
        # The same 2-D kernel on each channel separately (depthwise).
        return np.repeat(kernel[:, :, None, None], channels, axis=3), channels
    if kernel.shape[2] != channels:
        raise ValueError(
            f"a {kernel.ndim}-D kernel of shape {kernel.shape} needs input "
            f"with {kernel.shape[2]} channels, got {channels}")
    if kernel.ndim == 3:
        return kernel[:, :, :, None], 1
    return kernel, 1


def out_channels(kernel, channels):
    """Channels of the result of ``kernel`` on ``channels`` channels."""
    return channels if kernel.ndim == 2 else (
        1 if kernel.ndim == 3 else kernel.shape[3])


def convolve_with_border(x, kernel, pads, stride, pad_mode):
    """Filter an (N, H, W, C) batch with explicit ``pads`` and a border mode.

    The one place the command makes borders: ``conv2d``'s ``padding_mode``
    gathers bordered chunks of the batch (no padded copy of it), and one
    picture with a 2-D kernel goes through ``filter2d``'s banded borders.
    """
    weights, groups = as_hwio(kernel, x.shape[3])
    if pad_mode == "constant":
        return conv2d(x, weights, stride=stride, padding=pads, groups=groups)
    if kernel.ndim == 2 and len(x) == 1:
        # One picture: filter2d builds the border band by band instead of
        # padding a copy of the whole picture.
        return filter2d(x[0], kernel, padding=pads, stride=stride,
                        pad_mode=pad_mode)[None]
    return conv2d(x, weights, stride=stride, padding=pads, groups=groups,
                  padding_mode=pad_mode)


def apply_kernel(x, kernel, padding, stride, pad_mode):
    """Filter an (N, H, W, C) batch with one 2/3/4-D kernel."""
    stride = pair(stride, "stride")
    pads = resolve_padding(padding, x.shape[1:3], kernel.shape[:2], stride)
    return convolve_with_border(x, kernel, pads, stride, pad_mode)


def _band_rows(x, pads, pad_mode, first, stop):
    """Input rows ``first:stop`` of the row-padded picture, and row pads.

    Only a band is gathered: rows outside the picture come from the border
    mode (NumPy's rule applied to the row numbers), or stay as padding.
    """
    (top, bottom), cols = pads
    h = x.shape[1]
    if pad_mode == "constant":
        lo, hi = max(first - top, 0), min(stop - top, h)
        if lo >= hi:
            return np.zeros((len(x), stop - first) + x.shape[2:],
                            x.dtype), ((0, 0), cols)
        return x[:, lo:hi], ((lo + top - first, stop - top - hi), cols)
    rows = np.pad(np.arange(h), (top, bottom), mode=pad_mode)
    return x[:, rows[first:stop]], ((0, 0), cols)


def bands(out_rows, kh):
    """Bands of output rows: about 50, each tall enough that re-reading
    ``kh - 1`` rows per band stays cheap.

    >>> len(bands(600, 3)), len(bands(600, 61)), len(bands(600, 201))
    (38, 2, 1)
    """
    return chunks(out_rows, least=BAND_HALO_RATIO * (kh - 1))


def apply_kernel_in_bands(x, kernel, padding, stride, pad_mode, progress):
    """:func:`apply_kernel` on one picture, a band of output rows at a time.

    ``progress.update(rows)`` is called after each band.  Equal to
    :func:`apply_kernel`: each band sees exactly the rows (and border) its
    output rows read.
    """
    stride = pair(stride, "stride")
    kh = kernel.shape[0]
    pads = resolve_padding(padding, x.shape[1:3], kernel.shape[:2], stride)
    oh = output_size(x.shape[1], kh, stride[0], 1, *pads[0])
    parts = []
    for rows in bands(oh, kh):
        first = rows.start * stride[0]
        stop = (rows.stop - 1) * stride[0] + kh
        band, band_pads = _band_rows(x, pads, pad_mode, first, stop)
        parts.append(convolve_with_border(band, kernel, band_pads, stride,
                                          pad_mode))
        progress.update(rows.stop - rows.start)
    return np.concatenate(parts, axis=1)


# --- checks before the work, in the command's words -------------------------

def memory_limit():
    """Bytes of physical memory (8 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _gib(nbytes):
    return f"{nbytes / 2 ** 30:.3g} GiB"


def check_window(window_hw, in_hw, pads, padding, option, what):
    """Refuse a kernel or window larger than the padded pictures."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_hw, pads))
    if window_hw[0] > padded[0] or window_hw[1] > padded[1]:
        raise UserError(
            f"argument {option}: {what} is {window_hw[0]}x{window_hw[1]}, "
            f"larger than the {in_hw[0]}x{in_hw[1]} input with --padding "
            f"{padding_text(padding)} ({padded[0]}x{padded[1]}); use a "
            f"smaller one or more --padding")


def check_memory(shape, itemsize, in_hw, padding):
    """Refuse a result larger than this machine's memory, naming the cause."""
    need = int(np.prod(shape, dtype=np.float64)) * itemsize
    if need <= memory_limit():
        return
    out_hw = shape[1:3]
    if not isinstance(padding, str) and out_hw[0] * out_hw[1] > 4 * (
            in_hw[0] * in_hw[1]):
        raise UserError(
            f"argument --padding: {padding_text(padding)} on the "
            f"{in_hw[0]}x{in_hw[1]} input gives {out_hw[0]}x{out_hw[1]} "
            f"results ({_gib(need)} for {shape[0]} pictures), more than "
            f"this machine's {_gib(memory_limit())} of memory")
    raise UserError(
        f"argument INPUT: the result would take {_gib(need)} ({shape}), more "
        f"than this machine's {_gib(memory_limit())} of memory; use a "
        f"smaller batch")


def plan_chain(shape, dtype, kernels, texts, padding, stride):
    """Check a chain of kernels on an (N, H, W, C) batch before the work.

    Returns ``(macs, steps)``: the multiply-adds for one picture, and each
    step's ``(output rows, kernel rows)``.  Raises
    :class:`UserError` naming ``-k/--kernel``, ``--padding``, ``--stride``
    or INPUT, with the picture's size.
    """
    n, h, w, c = shape
    macs, steps = 0.0, []
    itemsize = max(np.dtype(dtype).itemsize, 8)
    for kernel, text in zip(kernels, texts):
        what = f"kernel {text!r}"
        if kernel.ndim > 2 and kernel.shape[2] != c:
            raise UserError(
                f"argument -k/--kernel: {what} of shape {kernel.shape} needs "
                f"pictures with {kernel.shape[2]} channels; they have {c} "
                f"here")
        with library_errors(what):
            stride2 = pair(stride, "stride")
            pads = resolve_padding(padding, (h, w), kernel.shape[:2], stride2)
        check_window(kernel.shape[:2], (h, w), pads, padding, "-k/--kernel",
                     what)
        oh, ow = (output_size(size, k, s, 1, *p) for size, k, s, p in
                  zip((h, w), kernel.shape[:2], stride2, pads))
        f = out_channels(kernel, c)
        macs += oh * ow * f * kernel.shape[0] * kernel.shape[1] * (
            1 if kernel.ndim == 2 else c)
        check_memory((n, oh, ow, f), itemsize, (h, w), padding)
        h, w, c = oh, ow, f
        steps.append((oh, kernel.shape[0]))
    return macs, steps
