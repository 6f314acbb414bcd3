"""Slow, obviously-correct loop references for convpool's public API.

Written from docs/API_CONTRACT.md only (never from the library's code), so
that the tests comparing against it are an independent check.

Everything here loops over output pixels in plain Python and works either in
exact arithmetic (Python ints in object arrays, for integer/bool inputs) or
in float64 with ``math.fsum`` (correctly rounded sums of float64 products),
so the reference is never the less accurate side of a comparison.

Layouts: activations are NHWC, kernels HWIO, padding is always explicit
``((top, bottom), (left, right))``; the tests convert to/from the other
layouts and padding forms.
"""

import math

import numpy as np

__all__ = [
    "ref_same_pads",
    "ref_resolve_padding",
    "ref_conv2d",
    "ref_pool2d",
    "ref_pool_output_size",
    "ref_filter2d",
    "is_exact_kind",
]


def is_exact_kind(dtype):
    """True for the dtypes the contract computes exactly (ints, bool)."""
    return np.dtype(dtype).kind in "biu"


def _pair(v):
    if isinstance(v, (tuple, list)):
        a, b = v
        return int(a), int(b)
    return int(v), int(v)


def ref_same_pads(n, k, s=1, d=1):
    """TensorFlow 'SAME' pads (before, after) for one spatial axis.

    out = ceil(n / s);
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0);
    before = total // 2, after = total - before.
    """
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    before = total // 2
    return before, total - before


def ref_resolve_padding(padding, in_hw, k_hw, stride=1, dilation=1):
    """Every padding form of the contract -> ((top, bottom), (left, right))."""
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    (h, w), (kh, kw) = in_hw, k_hw
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            return ref_same_pads(h, kh, sh, dh), ref_same_pads(w, kw, sw, dw)
        if padding == "same_lower":
            (a, b), (c, d) = (ref_same_pads(h, kh, sh, dh),
                              ref_same_pads(w, kw, sw, dw))
            return (b, a), (d, c)  # the odd extra cell goes to the start
        if padding == "full":
            ph, pw = (kh - 1) * dh, (kw - 1) * dw
            return (ph, ph), (pw, pw)
        raise ValueError(padding)
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        return (p, p), (p, p)
    a, b = padding
    if isinstance(a, (tuple, list)):
        return (int(a[0]), int(a[1])), (int(b[0]), int(b[1]))
    return (int(a), int(a)), (int(b), int(b))


def _as_work(a, exact):
    a = np.asarray(a)
    if exact:
        return a.astype(np.int64).astype(object)
    return a.astype(np.float64)


def ref_conv2d(x, w, stride=1, padding=((0, 0), (0, 0)), dilation=1,
               groups=1, bias=None):
    """Cross-correlation of NHWC ``x`` with HWIO ``w``; float64 result.

    out[n, i, j, f] = bias[f] + sum_{ky, kx, c}
        xpad[n, i*sh + ky*dh, j*sw + kx*dw, g*Cg + c] * w[ky, kx, c, f]
    with g = f // (F // groups) and Cg = C // groups.
    """
    x = np.asarray(x)
    w = np.asarray(w)
    exact = is_exact_kind(x.dtype) and is_exact_kind(w.dtype)
    if bias is not None:
        bias = np.asarray(bias)
        exact = exact and is_exact_kind(bias.dtype)
    n_, h, wd, c = x.shape
    kh, kw, cg, f = w.shape
    assert c == cg * groups and f % groups == 0, "bad group shapes"
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    (t, b), (lft, r) = padding
    xw = _as_work(x, exact)
    ww = _as_work(w, exact)
    bw = None if bias is None else _as_work(bias, exact).reshape(f)
    xp = np.pad(xw, ((0, 0), (t, b), (lft, r), (0, 0)), mode="constant",
                constant_values=0)
    hp, wp = xp.shape[1], xp.shape[2]
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    oh = (hp - ekh) // sh + 1 if hp >= ekh else 0
    ow = (wp - ekw) // sw + 1 if wp >= ekw else 0
    fg = f // groups
    out = np.zeros((n_, oh, ow, f), dtype=np.float64)
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                for ff in range(f):
                    g = ff // fg
                    terms = []
                    for ky in range(kh):
                        for kx in range(kw):
                            for cc in range(cg):
                                terms.append(
                                    xp[n, i * sh + ky * dh, j * sw + kx * dw,
                                       g * cg + cc] * ww[ky, kx, cc, ff])
                    if bw is not None:
                        terms.append(bw[ff])
                    if exact:
                        out[n, i, j, ff] = float(sum(terms))
                    else:
                        out[n, i, j, ff] = math.fsum(terms)
    return out


def ref_pool_output_size(n, k, s, lo, hi, ceil_mode=False):
    """Pooling output length on one axis (PyTorch's rule for ceil_mode)."""
    span = n + lo + hi - k
    if span < 0:
        return 0
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    # the last window must start inside the input or its left padding
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


def _window_rows(start, k, lo_limit, hi_limit):
    return [p for p in range(start, start + k) if lo_limit <= p < hi_limit]


def ref_pool2d(x, window, stride=None, padding=((0, 0), (0, 0)), mode="max",
               ceil_mode=False, count_include_pad=False):
    """Max / average pooling of NHWC ``x``.

    Max: maximum over the window's cells that lie inside the input (padding
    is -inf, never chosen); NaN propagates; keeps x's dtype.
    Avg: float64 mean.  Numerator = sum of in-input cells.  Divisor = number
    of in-input cells (count_include_pad=False) or number of cells inside
    the padded extent [-lo, n + hi) (count_include_pad=True, PyTorch; cells
    of a ceil_mode window hanging past the right padding never count).
    Raises AssertionError for a window containing no input cell (the
    contract leaves that case unspecified).
    """
    x = np.asarray(x)
    n_, h, w, c = x.shape
    kh, kw = _pair(window)
    sh, sw = _pair(window if stride is None else stride)
    (t, b), (lft, r) = padding
    oh = ref_pool_output_size(h, kh, sh, t, b, ceil_mode)
    ow = ref_pool_output_size(w, kw, sw, lft, r, ceil_mode)
    if mode == "max":
        out = np.zeros((n_, oh, ow, c), dtype=x.dtype)
    elif mode == "avg":
        out = np.zeros((n_, oh, ow, c), dtype=np.float64)
    else:
        raise ValueError(mode)
    for i in range(oh):
        y0 = i * sh - t
        rows = _window_rows(y0, kh, 0, h)
        rows_pad = _window_rows(y0, kh, -t, h + b)
        for j in range(ow):
            x0 = j * sw - lft
            cols = _window_rows(x0, kw, 0, w)
            cols_pad = _window_rows(x0, kw, -lft, w + r)
            assert rows and cols, "window holds no input cell (unspecified)"
            for n in range(n_):
                for cc in range(c):
                    cells = [x[n, y, xx, cc] for y in rows for xx in cols]
                    if mode == "max":
                        best = cells[0]
                        for v in cells[1:]:
                            if v != v:  # NaN
                                best = v
                                break
                            if best == best and v > best:
                                best = v
                        out[n, i, j, cc] = best
                    else:
                        vals = [float(v) for v in cells]
                        if count_include_pad:
                            div = len(rows_pad) * len(cols_pad)
                        else:
                            div = len(cells)
                        if is_exact_kind(x.dtype):
                            s = sum(int(v) for v in cells)
                            out[n, i, j, cc] = s / div
                        else:
                            out[n, i, j, cc] = math.fsum(vals) / div
    return out


def ref_filter2d(image, kernel, padding=((0, 0), (0, 0)), stride=1,
                 pad_mode="constant"):
    """Correlate every channel of (H, W) or (H, W, C) ``image`` with the 2-D
    ``kernel`` after ``np.pad(..., mode=pad_mode)``; float64 result."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    squeeze = image.ndim == 2
    if squeeze:
        image = image[:, :, None]
    sh, sw = _pair(stride)
    (t, b), (lft, r) = padding
    kw_ = {"constant_values": 0} if pad_mode == "constant" else {}
    xp = np.pad(image, ((t, b), (lft, r), (0, 0)), mode=pad_mode, **kw_)
    kh, kw = kernel.shape
    oh = (xp.shape[0] - kh) // sh + 1 if xp.shape[0] >= kh else 0
    ow = (xp.shape[1] - kw) // sw + 1 if xp.shape[1] >= kw else 0
    out = np.zeros((oh, ow, image.shape[2]))
    for i in range(oh):
        for j in range(ow):
            for c in range(image.shape[2]):
                patch = xp[i * sh:i * sh + kh, j * sw:j * sw + kw, c]
                out[i, j, c] = math.fsum((patch * kernel).ravel())
    return out[:, :, 0] if squeeze else out
