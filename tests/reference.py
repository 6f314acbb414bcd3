"""Slow, obviously-correct loop references for convpool's public API.

Written from the documented contract only (the README and the public
docstrings), never from the library's code, so that the tests comparing
against it are an independent check.

Everything here loops over output cells in plain Python and works either in
exact arithmetic (Python ints in object arrays, for integer/bool inputs) or
in float64 with ``math.fsum`` (correctly rounded sums of float64 products),
so the reference is never the less accurate side of a comparison.

Every function works for any number r of spatial axes (1, 2 and 3 are
tested).  Layouts: activations are channels last, (N, *spatial, C);
kernels are spatial then in/out, (*window, C/groups, F); padding is always
explicit, r ``(lo, hi)`` pairs.  The tests convert to and from the other
layouts and padding forms.  The 2-D names of the first version
(``ref_conv2d``, ``ref_pool2d``, ...) are kept as thin wrappers.
"""

import itertools
import math

import numpy as np

__all__ = [
    "ref_same_pads",
    "ref_resolve_padding",
    "ref_conv",
    "ref_conv2d",
    "ref_pool",
    "ref_pool2d",
    "ref_pool_output_size",
    "ref_adaptive_windows",
    "ref_adaptive_pool",
    "ref_filter2d",
    "is_exact_kind",
]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular", "symmetric")


def is_exact_kind(dtype):
    """True for the dtypes the contract computes exactly (ints, bool)."""
    return np.dtype(dtype).kind in "biu"


def _ntuple(v, r):
    if isinstance(v, (tuple, list)):
        assert len(v) == r, (v, r)
        return tuple(int(a) for a in v)
    return (int(v),) * r


def _pair(v):
    return _ntuple(v, 2)


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


def ref_resolve_padding(padding, in_shape, k_shape, stride=1, dilation=1):
    """Every padding form of the contract -> r (lo, hi) pairs.

    r = len(in_shape).  Forms: 'valid', 'same' (odd extra cell at the end),
    'same_lower' (at the start), 'full' (d * (k - 1) on each side), an int,
    an r-tuple (both sides of each axis) or r (lo, hi) pairs; in 1-D a
    flat (lo, hi) pair too (README).
    """
    r = len(in_shape)
    strides, dils = _ntuple(stride, r), _ntuple(dilation, r)
    axes = list(zip(in_shape, k_shape, strides, dils))
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * r
        if padding == "same":
            return tuple(ref_same_pads(*a) for a in axes)
        if padding == "same_lower":
            return tuple(ref_same_pads(*a)[::-1] for a in axes)
        if padding == "full":
            return tuple(((k - 1) * d, (k - 1) * d) for _, k, _, d in axes)
        raise ValueError(padding)
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * r
    if r == 1 and len(padding) == 2 and not isinstance(
            padding[0], (tuple, list)):
        return ((int(padding[0]), int(padding[1])),)   # 1-D: flat (lo, hi)
    assert len(padding) == r, (padding, r)
    return tuple((int(p[0]), int(p[1])) if isinstance(p, (tuple, list))
                 else (int(p), int(p)) for p in padding)


def _as_work(a, exact):
    a = np.asarray(a)
    if exact:
        return a.astype(np.int64).astype(object)
    return a.astype(np.float64)


def _source_index(p, n, padding_mode):
    """The input cell a padded position p reads, or None for a zero.

    PyTorch's padding modes: 'reflect' mirrors without repeating the edge
    (pad < n), 'replicate' repeats the edge, 'circular' wraps around; and
    NumPy's 'symmetric', a mirror that repeats the edge (pad <= n)."""
    if 0 <= p < n:
        return p
    if padding_mode == "zeros":
        return None
    if padding_mode == "replicate":
        return min(max(p, 0), n - 1)
    if padding_mode == "circular":
        return p % n
    if padding_mode == "reflect":
        q = -p if p < 0 else 2 * (n - 1) - p
        assert 0 <= q < n, "reflect pad must be smaller than the input"
        return q
    if padding_mode == "symmetric":     # NumPy's: the edge cell repeated
        q = -p - 1 if p < 0 else 2 * n - 1 - p
        assert 0 <= q < n, "symmetric pad must not exceed the input"
        return q
    raise ValueError(padding_mode)


def _padded(x, pads, padding_mode, zero):
    """x (N, *spatial, C) padded by ``pads`` with the given mode."""
    spatial = x.shape[1:-1]
    src = [[_source_index(p, n, padding_mode) for p in range(-lo, n + hi)]
           for n, (lo, hi) in zip(spatial, pads)]
    out_shape = (x.shape[0],) + tuple(len(s) for s in src) + (x.shape[-1],)
    xp = np.empty(out_shape, dtype=x.dtype)
    for cell in itertools.product(*[range(len(s)) for s in src]):
        where = tuple(s[i] for s, i in zip(src, cell))
        if None in where:
            xp[(slice(None),) + cell] = zero
        else:
            xp[(slice(None),) + cell] = x[(slice(None),) + where]
    return xp


def _conv_out_size(n, k, s, d):
    """Output length of a 'valid' correlation over an n-long (padded)
    axis; 0 when the dilated kernel does not fit."""
    span = n - (d * (k - 1) + 1)
    return span // s + 1 if span >= 0 else 0


def ref_conv(x, w, stride=1, pads=None, dilation=1, groups=1, bias=None,
             padding_mode="zeros"):
    """Cross-correlation of channels-last ``x`` with ``w``; float64 result.

    x: (N, *spatial, C); w: (*window, C/groups, F); pads: r (lo, hi).
    out[n, o, f] = bias[f] + sum_{taps t, c < Cg}
        xpad[n, o * s + t * d, g * Cg + c] * w[t, c, f]
    with g = f // (F // groups), Cg = C // groups, xpad the input padded
    with ``padding_mode`` (zeros, reflect, replicate, circular or
    symmetric).
    """
    x = np.asarray(x)
    w = np.asarray(w)
    r = x.ndim - 2
    assert w.ndim == r + 2, "kernel rank does not match"
    exact = is_exact_kind(x.dtype) and is_exact_kind(w.dtype)
    if bias is not None:
        bias = np.asarray(bias)
        exact = exact and is_exact_kind(bias.dtype)
    c = x.shape[-1]
    window, cg, f = w.shape[:r], w.shape[r], w.shape[r + 1]
    assert c == cg * groups and f % groups == 0, "bad group shapes"
    strides, dils = _ntuple(stride, r), _ntuple(dilation, r)
    pads = ((0, 0),) * r if pads is None else tuple(pads)
    xw = _as_work(x, exact)
    ww = _as_work(w, exact)
    bw = None if bias is None else _as_work(bias, exact).reshape(f)
    xp = _padded(xw, pads, padding_mode, 0 if exact else 0.0)
    out_sp = tuple(_conv_out_size(n, k, s, d) for n, k, s, d in
                   zip(xp.shape[1:-1], window, strides, dils))
    fg = f // groups
    out = np.zeros((x.shape[0],) + out_sp + (f,), dtype=np.float64)
    for n in range(x.shape[0]):
        for o in itertools.product(*[range(m) for m in out_sp]):
            # the window's cells: per axis o*s + t*d for every tap t
            rows = [[oi * s + t * d for t in range(k)]
                    for oi, s, d, k in zip(o, strides, dils, window)]
            patch = xp[n][np.ix_(*rows, range(c))]     # (*window, C)
            for ff in range(f):
                g = ff // fg
                terms = list((patch[..., g * cg:(g + 1) * cg]
                              * ww[..., ff]).ravel())
                if bw is not None:
                    terms.append(bw[ff])
                if exact:
                    out[(n,) + o + (ff,)] = float(sum(terms))
                else:
                    out[(n,) + o + (ff,)] = math.fsum(terms)
    return out


def ref_conv2d(x, w, stride=1, padding=((0, 0), (0, 0)), dilation=1,
               groups=1, bias=None, padding_mode="zeros"):
    """2-D name of ``ref_conv``: NHWC ``x``, HWIO ``w``, explicit pads
    ((top, bottom), (left, right))."""
    return ref_conv(x, w, stride, padding, dilation, groups, bias,
                    padding_mode)


def ref_pool_output_size(n, k, s, lo, hi, ceil_mode=False, d=1):
    """Pooling output length on one axis (PyTorch's rule for ceil_mode),
    for a window of k taps d apart."""
    span = n + lo + hi - (d * (k - 1) + 1)
    if span < 0:
        return 0
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    # the last window must start inside the input or its left padding
    if (out - 1) * s >= n + lo:
        out -= 1
    return out


def _max_of(cells):
    """Maximum of ``cells`` in order; the first NaN wins (NaN propagates)."""
    best = cells[0]
    for v in cells[1:]:
        if v != v:  # NaN
            return v
        if best == best and v > best:
            best = v
    return best


def _mean_of(cells, divisor, exact):
    if exact:
        return sum(int(v) for v in cells) / divisor
    return math.fsum(float(v) for v in cells) / divisor


def ref_pool(x, window, stride=None, pads=None, mode="max",
             ceil_mode=False, count_include_pad=False, dilation=1):
    """Max / average pooling of channels-last ``x`` (N, *spatial, C).

    A window's taps on one axis sit at i * s - lo + t * d, t < k.
    Max: maximum over the taps that lie inside the input (padding is -inf,
    never chosen); NaN propagates; keeps x's dtype.
    Avg: float64 mean.  Numerator = sum of in-input taps.  Divisor = number
    of in-input taps (count_include_pad=False) or number of taps inside the
    padded extent [-lo, n + hi) (count_include_pad=True, PyTorch; taps of a
    ceil_mode window hanging past the padding never count).
    Raises AssertionError for a window containing no input cell (the
    contract refuses or leaves that case unspecified).
    """
    x = np.asarray(x)
    r = x.ndim - 2
    ks = _ntuple(window, r)
    strides = ks if stride is None else _ntuple(stride, r)
    dils = _ntuple(dilation, r)
    pads = ((0, 0),) * r if pads is None else tuple(pads)
    spatial = x.shape[1:-1]
    per_axis = []       # per axis, per output index: (real taps, padded)
    for n, k, s, d, (lo, hi) in zip(spatial, ks, strides, dils, pads):
        m = ref_pool_output_size(n, k, s, lo, hi, ceil_mode, d)
        taps = [[i * s - lo + t * d for t in range(k)] for i in range(m)]
        per_axis.append([([p for p in tp if 0 <= p < n],
                          [p for p in tp if -lo <= p < n + hi])
                         for tp in taps])
    out_sp = tuple(len(a) for a in per_axis)
    if mode == "max":
        out = np.zeros((x.shape[0],) + out_sp + (x.shape[-1],), x.dtype)
    elif mode == "avg":
        out = np.zeros((x.shape[0],) + out_sp + (x.shape[-1],), np.float64)
    else:
        raise ValueError(mode)
    exact = is_exact_kind(x.dtype)
    for o in itertools.product(*[range(m) for m in out_sp]):
        real = [per_axis[a][i][0] for a, i in enumerate(o)]
        padded = [per_axis[a][i][1] for a, i in enumerate(o)]
        assert all(real), "window holds no input cell (unspecified)"
        cells_at = list(itertools.product(*real))
        for n in range(x.shape[0]):
            for cc in range(x.shape[-1]):
                cells = [x[(n,) + p + (cc,)] for p in cells_at]
                if mode == "max":
                    out[(n,) + o + (cc,)] = _max_of(cells)
                else:
                    div = (math.prod(len(p) for p in padded)
                           if count_include_pad else len(cells))
                    out[(n,) + o + (cc,)] = _mean_of(cells, div, exact)
    return out


def ref_pool2d(x, window, stride=None, padding=((0, 0), (0, 0)), mode="max",
               ceil_mode=False, count_include_pad=False, dilation=1):
    """2-D name of ``ref_pool``: NHWC ``x``, explicit pads."""
    return ref_pool(x, window, stride, padding, mode, ceil_mode,
                    count_include_pad, dilation)


def ref_adaptive_windows(n, out):
    """PyTorch's adaptive window i: [floor(i * n / out),
    ceil((i + 1) * n / out))."""
    return [(i * n // out, -(-((i + 1) * n) // out)) for i in range(out)]


def ref_adaptive_pool(x, output_size, mode="avg"):
    """Adaptive max / average pooling of channels-last ``x``.

    ``output_size``: an int (every axis) or an r-tuple whose None entries
    keep that axis.  Max keeps x's dtype; avg is a float64 mean.
    """
    x = np.asarray(x)
    r = x.ndim - 2
    spatial = x.shape[1:-1]
    if isinstance(output_size, (tuple, list)):
        sizes = tuple(n if o is None else int(o)
                      for n, o in zip(spatial, output_size))
        assert len(output_size) == r
    else:
        sizes = (int(output_size),) * r
    wins = [ref_adaptive_windows(n, o) for n, o in zip(spatial, sizes)]
    dtype = x.dtype if mode == "max" else np.float64
    out = np.zeros((x.shape[0],) + sizes + (x.shape[-1],), dtype)
    exact = is_exact_kind(x.dtype)
    for o in itertools.product(*[range(m) for m in sizes]):
        ranges = [range(*wins[a][i]) for a, i in enumerate(o)]
        cells_at = list(itertools.product(*ranges))
        for n in range(x.shape[0]):
            for cc in range(x.shape[-1]):
                cells = [x[(n,) + p + (cc,)] for p in cells_at]
                if mode == "max":
                    out[(n,) + o + (cc,)] = _max_of(cells)
                elif mode == "avg":
                    out[(n,) + o + (cc,)] = _mean_of(cells, len(cells),
                                                     exact)
                else:
                    raise ValueError(mode)
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
