"""Vector-Jacobian products of the forward ops, for every rank.

``grad.conv{r}d(x, kernels, dy, **keywords)`` returns ``(dx, dkernels,
dbias)`` and ``grad.pool{r}d(x, dy, window, **keywords)`` returns ``dx``:
the gradients of ``sum(forward(...) * dy)``, exact as in PyTorch's
autograd, for every keyword of the forward op.  Each is written once for
any number of spatial axes; the named functions are thin wrappers.

As JAX builds its VJPs (``_conv_general_dilated_transpose_lhs`` and
``_rhs``), the gradients are built from the forward's pieces, with no
second slow path:

- ``dx`` of a convolution is a transposed convolution of ``dy``
  (:func:`convpool.transpose.transposed_conv`, shared with
  ``conv_transpose{r}d``);
- ``dkernels`` is a correlation of ``x`` with ``dy``, computed as one BLAS
  product per kernel tap over the tap's strided views (as a forward
  convolution it would have a kernel the size of the image and a tiny
  output, 3-10x slower: see :func:`kernel_grad`);
- the pooling gradients scatter ``dy`` over the window taps: average
  pooling adds ``dy / divisor`` to every real cell of a window, max
  pooling is the unpooling of ``dy`` with the forward's argmax indices
  (:mod:`convpool.unpool`).
"""

import functools

import numpy as np

from . import layouts
from .backends import dask_op, is_dask
from . import _validate as v
from .borders import resolve_pad_mode
from .engines import resolve_threads
from .engines._blas import one_blas_thread
from .engines._parallel import run_blocks, worth_threads
from .geometry import ntuple, resolve_padding, window_counts
from .transpose import forward_conv, from_canonical, transposed_conv
from .unpool import (forward_pool, pool_geometry, pool_indices,
                     pool_keywords, scatter_planes)
from .windows import taps as window_taps

__all__ = ["conv1d", "conv2d", "conv3d", "pool1d", "pool2d", "pool3d"]


def conv(rank, x, kernels, dy, *, stride=1, padding="valid", dilation=1,
         groups=1, bias=None, data_format=None, kernel_format=None,
         engine="auto", threads=None, need_dx=True, **more):
    """Gradients of ``conv{rank}d`` (see :func:`conv2d`); with ``need_dx``
    false, ``dx`` is None and not computed (a network's first layer)."""
    cl, cf = layouts.data_formats(rank)
    kformats = layouts.kernel_formats(rank)
    data_format = cl if data_format is None else data_format
    kernel_format = kformats[0] if kernel_format is None else kernel_format
    keywords = dict(stride=stride, padding=padding, dilation=dilation,
                    groups=groups, data_format=data_format,
                    kernel_format=kernel_format, **more)
    x = v.numeric_array(x, "x")
    kernels = v.numeric_array(kernels, "kernels")
    # The forward op on an empty batch checks every argument, with its own
    # messages, and gives the output's shape.
    probe = forward_conv(rank)(x[:0] if x.ndim else x, kernels, bias=bias,
                               **keywords)
    data_format = v.choose(data_format, (cl, cf), "data_format")
    kernel_format = v.choose(kernel_format, kformats, "kernel_format")
    dy = _check_dy(dy, (len(x),) + probe.shape[1:])
    dtype = v.result_dtype(*[a for a in (x, kernels, bias, dy)
                             if a is not None])
    xc = layouts.to_canonical_data(x, data_format).astype(dtype, copy=False)
    w = layouts.to_canonical_kernel(kernels, kernel_format).astype(
        dtype, copy=False)
    dyc = layouts.to_canonical_data(dy, data_format).astype(dtype, copy=False)
    stride = ntuple(stride, rank, "stride")
    dilation = ntuple(dilation, rank, "dilation")
    pads = resolve_padding(padding, xc.shape[1:-1], w.shape[:-2], stride,
                           dilation)
    mode = resolve_pad_mode(more.get("padding_mode", "zeros"),
                            "padding_mode")
    dx = np.empty(x.shape, dtype) if need_dx else None
    dxc = layouts.to_canonical_data(dx, data_format) if need_dx else None
    if not need_dx:
        if mode != "constant":
            xc = np.pad(xc, ((0, 0), *pads, (0, 0)), mode)
            pads = ((0, 0),) * rank
    elif mode == "constant":
        transposed_conv(dyc, w, dxc, stride, dilation,
                        [lo for lo, _ in pads], groups, engine, threads)
    else:
        # PyTorch pads with the mode, then convolves without padding: the
        # gradient of the padded input folds back onto the cells copied.
        padded = np.pad(xc, ((0, 0), *pads, (0, 0)), mode)
        dpadded = np.empty(padded.shape, dtype)
        transposed_conv(dyc, w, dpadded, stride, dilation, [0] * rank,
                        groups, engine, threads)
        dxc[...] = fold_padding(dpadded, xc.shape[1:-1], pads, mode)
        xc, pads = padded, ((0, 0),) * rank
    dk = kernel_grad(xc, dyc, w.shape[:-2], stride, dilation, pads, groups,
                     threads)
    dk = np.ascontiguousarray(from_canonical(dk, kernel_format),
                              dtype)
    return dx, dk, bias_grad(dyc).astype(dtype)


# Rows of dy per BLAS product of ``bias_grad``: its vector of ones and a
# chunk copied to the compute dtype stay small (bounded extra memory).
BIAS_ROWS = 1 << 15


def bias_grad(dy):
    """``dy`` (N, *O, F) summed over all but its last axis, in the compute
    dtype.  With few filters (2 <= F < 16), NumPy's sum over the leading
    axes of a (cells, F) array runs an inner loop of F items per cell
    (LeNet-5's first layer: 1.5 ms of a 7 ms gradient); there it is a BLAS
    product of a vector of ones with each chunk of about ``BIAS_ROWS``
    rows (0.2 ms), on one BLAS thread, in chunks fixed by the shapes, so
    the bits depend on neither ``threads`` nor BLAS's threads."""
    work = v.compute_dtype(dy)
    n, f = len(dy), dy.shape[-1]
    if work.kind != "f" or not 2 <= f < 16 or not dy.size:
        return dy.sum(axis=tuple(range(dy.ndim - 1)), dtype=work)
    step = max(1, BIAS_ROWS * f // max(1, dy[:1].size))
    total = np.zeros(f, work)
    ones = np.ones(min(n, step) * (dy[:1].size // f), work)
    with one_blas_thread():
        for n0 in range(0, n, step):
            rows = dy[n0:n0 + step].reshape(-1, f).astype(work, copy=False)
            total += ones[:len(rows)] @ rows
    return total


def fold_padding(g, spatial, pads, mode):
    """The adjoint of ``numpy.pad(x, pads, mode)``: the gradient
    ``g`` of the padded channels-last array, with each padded cell's share
    added to the cell it was copied from.

    >>> fold_padding(np.ones((1, 5, 1)), (3,), ((1, 1),), "reflect")[0, :, 0]
    array([1., 3., 1.])
    """
    for axis, (n, (lo, hi)) in enumerate(zip(spatial, pads), start=1):
        source = np.pad(np.arange(n), (lo, hi), mode)
        folded = np.take(g, range(lo, lo + n), axis=axis)
        inner = np.moveaxis(folded, axis, 0)
        border = [j for j in range(len(source)) if not lo <= j < lo + n]
        for j in border:
            inner[source[j]] += np.take(g, j, axis=axis)
        g = folded
    return g


# Bytes of x and dy per batch chunk of the per-tap kernel gradient: each
# tap's slices are copied into contiguous matrices for BLAS, and chunks of
# about 1 MiB kept those copies in cache (measured 1.0-1.6x faster than
# 4-16 MiB chunks on W1 and W5, single runs on a noisy machine).
DK_BUDGET = 1 << 20
# Bytes of the padded x and dy per batch chunk of the stride-1 kernel
# gradient (groups == 1): BLAS reads both in place, so bigger chunks only
# mean longer products.
FLAT_BUDGET = 4 << 20
# The batch's chunks are summed in this many fixed lanes (chunk i in lane
# i % LANES, each lane in order, the lanes in order), whatever the
# threads: the bits do not depend on ``threads``.
LANES = 8
# With one or two channels and several filters, a tap's product is a
# matrix-vector one bound by reading ``dy``; stacking the taps makes one
# GEMM (measured, one thread: LeNet-5's first layer, C=1, F=6, 5x5, 0.89
# -> 0.27 ms a chunk; C=2, F=8, 5x5, 1.03 -> 0.60 ms; no gain at C=3-6 or
# with one filter, where it lost: 0.15 -> 0.23 ms).
STACK_MAX_CHANNELS, STACK_MIN_FILTERS = 2, 4
STACK_BYTES = 2 << 20


def kernel_grad(x, dy, k_shape, stride, dilation, pads, groups,
                threads=None):
    """``dk[t, c, f] = sum_{n, o} x[n, o * s + t * d - lo, c] * dy[n, o, f]``
    for channels-last ``x`` (N, *S, C) and ``dy`` (N, *O, F); returns (*K,
    C/groups, F) in the compute dtype.

    This correlation of ``x`` with ``dy`` is a forward convolution with
    batch and channels swapped and ``dy`` as a kernel of the output's size
    (JAX's ``_conv_general_dilated_transpose_rhs``); but that convolution
    has a huge kernel and a tiny output, which the forward engines are not
    built for: it measured 1.5 s for W5's gradient on 16 images and 59 ms
    for W1's on 5000.  So it is a sum of BLAS products, one per kernel
    tap, ``dk[t] += x_t.T @ dy`` with ``x_t`` the cells tap ``t`` reads.

    At stride 1 (groups 1) no ``x_t`` is copied: the chunk's ``x`` is
    padded and ``dy`` zero-extended to the padded grid, both flattened to
    (cells, channels); then the cells tap ``t`` reads are the rows of
    ``x`` from the tap's flat offset on, one contiguous matrix that BLAS
    reads in place (the extra cells of ``dy`` are zero, so the rows that
    wrap around add nothing).  Otherwise each tap's strided views of ``x``
    and ``dy`` are copied into matrices.  The chunks are fixed by size and
    summed in fixed lanes (``LANES``), so the bits do not depend on
    ``threads``.
    """
    n, c, f = x.shape[0], x.shape[-1], dy.shape[-1]
    work = v.compute_dtype(x, dy)
    taps = [(np.ravel_multi_index(tap, k_shape), (slice(None),) + out_sl,
             (slice(None),) + in_sl)
            for tap, out_sl, in_sl in window_taps(
                x.shape[1:-1], k_shape, dy.shape[1:-1], stride, dilation,
                pads)]
    n_taps = int(np.prod(k_shape))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads))
    per_image = int(np.prod(padded)) * (c + f) * work.itemsize
    # A single image bigger than a few budgets goes tap by tap (as a big
    # chunk would, its padded copy would be extra memory).
    flat = (groups == 1 and set(stride) == {1}
            and per_image <= 4 * FLAT_BUDGET)
    if flat:
        chunk = max(1, FLAT_BUDGET // per_image)
    else:
        per_image = max(dy[:1].size * (1 + c / f) * work.itemsize, 1)
        chunk = max(1, int(DK_BUDGET // per_image))
    # At least LANES chunks when the batch allows (a training batch gives
    # both cores work); the split depends on the shapes only.
    chunk = max(1, min(chunk, -(-n // LANES)))
    starts = list(range(0, n, chunk))
    lanes = min(LANES, len(starts))
    partials = [None] * lanes

    def lane(i, _n1, _r0, _r1, scratch):
        acc = np.zeros((n_taps, groups, c // groups, f // groups), work)
        for b0 in starts[i::lanes]:
            b1 = min(b0 + chunk, n)
            if flat:
                _add_flat(acc, x[b0:b1], dy[b0:b1], k_shape, dilation,
                          pads, work, scratch)
            else:
                _add_taps(acc, x[b0:b1], dy[b0:b1], taps, groups, work)
        partials[i] = acc

    blocks = [(i, 0, 0, 0) for i in range(lanes)]
    workers = max(1, min(worth_threads(x.nbytes + dy.nbytes,
                                       resolve_threads(threads)), lanes))
    # One BLAS thread per worker, even with one worker: with OpenBLAS's
    # own threads W5's kernel gradient on 16 images took 4.7 s instead of
    # 0.27 s on the shared, loaded 2-core machine, and LeNet-5's first
    # layer 50-140 ms instead of 10 ms.
    with one_blas_thread():
        run_blocks(lane, blocks, workers)
    dk = partials[0] if partials else np.zeros(
        (n_taps, groups, c // groups, f // groups), work)
    for part in partials[1:]:
        dk += part
    # (taps, groups, C/g, F/g) -> (*K, C/g, F), filters group-major.
    return dk.transpose(0, 2, 1, 3).reshape(*k_shape, c // groups, f)


def _add_flat(acc, x, dy, k_shape, dilation, pads, work, scratch):
    """``acc[t, 0] += x_t.T @ dy`` at stride 1, with ``x_t`` a contiguous
    row range of the padded, flattened chunk (see :func:`kernel_grad`)."""
    b, c, f = x.shape[0], x.shape[-1], dy.shape[-1]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads))
    xp = scratch.memo(("x", b, padded, c, work.str),
                      lambda _: np.zeros((b, *padded, c), work))
    dye = scratch.memo(("dy", b, padded, f, work.str),
                       lambda _: np.zeros((b, *padded, f), work))
    # Only the interiors change from chunk to chunk; the borders stay 0.
    xp[(slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in
                              zip(x.shape[1:-1], pads))] = x
    dye[(slice(None),) + tuple(slice(0, o) for o in dy.shape[1:-1])] = dy
    rows_x, rows_dy = xp.reshape(-1, c), dye.reshape(-1, f)
    steps = [d * int(np.prod(padded[a + 1:])) for a, d in
             enumerate(dilation)]
    reach = int(np.dot(np.subtract(k_shape, 1), steps))
    m = len(rows_x) - reach
    offsets = _tap_offsets(tuple(k_shape), tuple(steps))
    if c <= STACK_MAX_CHANNELS and f >= STACK_MIN_FILTERS:
        _add_stacked(acc, rows_x, rows_dy, offsets, m, scratch)
        return
    for t, offset in enumerate(offsets):
        acc[t, 0] += rows_x[offset:offset + m].T @ rows_dy[:m]


@functools.lru_cache(maxsize=64)
def _tap_offsets(k_shape, steps):
    """Each kernel tap's flat offset in the padded grid (the same for every
    chunk of a call: worked out once, not per chunk)."""
    return [int(np.dot(tap, steps)) for tap in np.ndindex(*k_shape)]


def _add_stacked(acc, rows_x, rows_dy, offsets, m, scratch):
    """``acc[t, 0] += x_t.T @ dy`` for every tap as one product: the taps'
    rows of ``x`` stacked into a (taps * C, rows) matrix, in pieces of at
    most ``STACK_BYTES``, so ``dy`` is read once instead of once a tap."""
    c = rows_x.shape[1]
    n_taps = len(offsets)
    step = max(1, STACK_BYTES // (n_taps * c * rows_x.itemsize))
    columns = rows_x.T
    for r0 in range(0, m, step):
        r1 = min(r0 + step, m)
        cols = scratch.get("stack", (n_taps * c, r1 - r0), rows_x.dtype)
        for t, offset in enumerate(offsets):
            cols[t * c:(t + 1) * c] = columns[:, offset + r0:offset + r1]
        acc[:, 0] += (cols @ rows_dy[r0:r1]).reshape(n_taps, c, -1)


def _add_taps(acc, x, dy, taps, groups, work):
    """``acc[t] += x[in_slices].T @ dy[out_slices]`` per tap and group."""
    cg, fg = x.shape[-1] // groups, dy.shape[-1] // groups
    for t, out_sl, in_sl in taps:
        cols = x[in_sl].reshape(-1, groups, cg).astype(work, copy=False)
        rows = dy[out_sl].reshape(-1, groups, fg).astype(work, copy=False)
        if groups == 1:        # a plain GEMM: measured 2x the batched one
            acc[t, 0] += cols[:, 0].T @ rows[:, 0]
        else:
            acc[t] += cols.transpose(1, 2, 0) @ rows.transpose(1, 0, 2)


def _check_dy(dy, shape):
    dy = v.numeric_array(dy, "dy")
    if dy.shape != tuple(shape):
        raise ValueError(f"`dy` must have the forward output's shape "
                         f"{tuple(shape)}, got {dy.shape}")
    return dy


def conv2d(x, kernels, dy, *, stride=1, padding="valid", dilation=1,
           groups=1, bias=None, data_format="NHWC", kernel_format="HWIO",
           **keywords):
    """Gradients of :func:`convpool.conv2d`: ``(dx, dkernels, dbias)``.

    The vector-Jacobian product of ``y = conv2d(x, kernels, bias=bias,
    **keywords)`` with ``dy``: ``dx = d sum(y * dy) / dx`` and likewise
    for the kernels and the bias, as ``torch.autograd`` computes them.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C) or (N, C, H, W)
    kernels : array_like, shape (KH, KW, C/groups, F) or as ``kernel_format``
    dy : array_like, shape (N, OH, OW, F) or (N, F, OH, OW)
        The gradient of the loss with respect to the forward's output, in
        its shape and layout.
    stride, padding, dilation, groups, bias, data_format, kernel_format
        As in :func:`convpool.conv2d`, with the same meanings; ``bias``
        only takes part in the dtype.
    **keywords
        The forward's other keywords (``engine``, ``threads``, ...).

    Returns
    -------
    dx : ndarray, shape and layout of ``x``
    dkernels : ndarray, shape and layout of ``kernels``
    dbias : ndarray, shape (F,)
        ``dy`` summed over the batch and space.
        All three have the forward's dtype (``np.result_type`` of the
        inputs and ``dy``; integers give float64).

    Notes
    -----
    ``dx`` is :func:`convpool.conv_transpose2d` of ``dy`` (forward
    convolutions, the forward's engines and threads); ``dkernels`` is one
    BLAS product per kernel tap and batch chunk, which at stride 1 reads
    the padded chunk in place (:func:`kernel_grad`).  The chunks depend on
    the shapes only and are summed in a fixed order: the bits do not
    depend on ``threads``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> dx, dk, db = conv2d(x, np.ones((2, 2, 1, 1)), np.ones((1, 2, 2, 1)))
    >>> dx[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> dk[:, :, 0, 0], db
    (array([[ 8., 12.],
           [20., 24.]]), array([4.]))
    """
    if is_dask(x) or is_dask(dy):
        return dask_op(conv2d, locals())
    return conv(2, x, kernels, dy, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=bias,
                data_format=data_format, kernel_format=kernel_format,
                **keywords)


def conv1d(x, kernels, dy, *, stride=1, padding="valid", dilation=1,
           groups=1, bias=None, data_format="NWC", kernel_format="WIO",
           **keywords):
    """Gradients of :func:`convpool.conv1d`, as :func:`conv2d` for one
    spatial axis: ``x`` (N, W, C) or (N, C, W), ``kernels`` (KW, C/groups,
    F) or as ``kernel_format``."""
    if is_dask(x) or is_dask(dy):
        return dask_op(conv1d, locals())
    return conv(1, x, kernels, dy, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=bias,
                data_format=data_format, kernel_format=kernel_format,
                **keywords)


def conv3d(x, kernels, dy, *, stride=1, padding="valid", dilation=1,
           groups=1, bias=None, data_format="NDHWC", kernel_format="DHWIO",
           **keywords):
    """Gradients of :func:`convpool.conv3d`, as :func:`conv2d` for three
    spatial axes: ``x`` (N, D, H, W, C) or (N, C, D, H, W), ``kernels`` (KD,
    KH, KW, C/groups, F) or as ``kernel_format``."""
    if is_dask(x) or is_dask(dy):
        return dask_op(conv3d, locals())
    return conv(3, x, kernels, dy, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=bias,
                data_format=data_format, kernel_format=kernel_format,
                **keywords)


def pool(rank, x, dy, window, *, stride=None, padding="valid", dilation=1,
         mode="max", ceil_mode=False, count_include_pad=False,
         data_format=None, indices=None, threads=None, **more):
    """Gradient of ``pool{rank}d`` (see :func:`pool2d`)."""
    cl, cf = layouts.data_formats(rank)
    data_format = cl if data_format is None else data_format
    x = v.numeric_array(x, "x")
    keywords = pool_keywords(stride, padding, dilation, ceil_mode,
                             data_format)
    probe = forward_pool(rank)(x[:0] if x.ndim else x, window, mode=mode,
                               count_include_pad=count_include_pad,
                               threads=threads, **keywords, **more)
    data_format = v.choose(data_format, (cl, cf), "data_format")
    mode = v.choose(mode, ("max", "avg"), "mode")
    dy = _check_dy(dy, (len(x),) + probe.shape[1:])
    if indices is not None:
        indices = _check_indices(indices, dy.shape, mode)
    dtype = v.result_dtype(x, dy)
    xc = layouts.to_canonical_data(x, data_format)
    dyc = layouts.to_canonical_data(dy, data_format)
    dyc = dyc.astype(dtype, copy=False)
    window, stride, dilation, pads = pool_geometry(rank, xc, window, stride,
                                                   padding, dilation)
    dx = np.zeros(x.shape, dtype)
    dxc = layouts.to_canonical_data(dx, data_format)
    if mode == "max":
        # Where windows overlap, a cell may be the maximum of several.
        overlap = any(s < (k - 1) * d + 1
                      for k, s, d in zip(window, stride, dilation))
        if indices is not None:
            return scatter_planes(
                dyc, layouts.to_canonical_data(indices, data_format), dx,
                data_format == cl, accumulate=overlap, threads=threads)
    # Batch chunks bound the scratch (indices, masks) whatever the batch.
    step = max(1, POOL_CHUNK // max(1, xc[:1].nbytes))
    for n0 in range(0, len(x), step):
        part = slice(n0, n0 + step)
        if mode == "max":
            _, found = pool_indices(xc[part], window, stride, dilation,
                                    pads, ceil_mode)
            scatter_planes(dyc[part], found, dx[part], data_format == cl,
                           accumulate=overlap, threads=threads)
        else:
            _avg_grad(dyc[part], dxc[part], window, stride, dilation, pads,
                      count_include_pad)
    return dx


def _check_indices(indices, shape, mode):
    """The forward's ``indices``: integers in the shape of ``dy``."""
    if mode != "max":
        raise ValueError(f"`indices` is for max pooling only, got "
                         f"mode={mode!r}")
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"`indices` must be an integer array (the forward's "
                        f"return_indices=True), got dtype {indices.dtype}")
    if indices.shape != tuple(shape):
        raise ValueError(f"`indices` must have the shape of `dy` "
                         f"{tuple(shape)}, got {indices.shape}")
    return indices


# Bytes of x per batch chunk of a pooling gradient.
POOL_CHUNK = 8 << 20


def _avg_grad(dy, dx, window, stride, dilation, pads, include_pad):
    """Every window adds ``dy / divisor`` to each of its real cells of the
    zeroed channels-last ``dx``."""
    work = v.compute_dtype(dx)
    divisor = np.ones((), work)
    for n, k, o, s, (lo, hi), d in zip(dx.shape[1:-1], window,
                                       dy.shape[1:-1], stride, pads,
                                       dilation):
        counts = window_counts(n, k, o, s, lo, hi, include_pad, d)
        divisor = np.multiply.outer(divisor, np.array(counts, work))
    share = dy / divisor[..., None]
    acc = dx if dx.dtype == work else np.zeros(dx.shape, work)
    for _, out_sl, in_sl in window_taps(dx.shape[1:-1], window,
                                        dy.shape[1:-1], stride, dilation,
                                        pads):
        acc[(slice(None),) + in_sl] += share[(slice(None),) + out_sl]
    if acc is not dx:
        dx[...] = acc


def pool2d(x, dy, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NHWC", indices=None, **keywords):
    """Gradient of :func:`convpool.pool2d` with respect to ``x``.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C) or (N, C, H, W)
    dy : array_like, shape (N, OH, OW, C) or (N, C, OH, OW)
        The gradient with respect to the forward's output.
    window, stride, padding, dilation, mode, ceil_mode, count_include_pad,
    data_format
        As in :func:`convpool.pool2d`.
    indices : array_like of int, shape of ``dy``, optional
        Max pooling only: the indices the forward returned
        (``convpool.max_pool2d(..., return_indices=True)``, or PyTorch's,
        in the layout of ``dy``): ``dy`` is scattered there, with no
        second pass over ``x`` to find the maxima.  Default: found again
        from ``x``.  Each must lie in its ``(n, c)`` plane of ``x``.
    **keywords
        The forward's other keywords (``threads``).

    Returns
    -------
    ndarray, shape and layout of ``x``
        Dtype ``np.result_type(x, dy)``; integers give float64.

    Notes
    -----
    PyTorch's rules.  Max: the whole ``dy`` of a window goes to its first
    maximal cell in window scan order (a NaN counts as maximal; of several
    NaN the last), overlapping windows add up and padded cells get
    nothing: this is :func:`convpool.max_unpool2d` of ``dy`` with
    the forward's indices (given, or found again), adding repeats; the
    scatter is one flat assignment per batch chunk (``np.add.at`` where
    windows overlap).  Average: each window spreads ``dy / divisor`` over
    its real cells, the divisor following ``count_include_pad`` as
    forward.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1., 3., 3., 0.], [2., 0., 1., 5.]]).reshape(1, 2, 4, 1)
    >>> pool2d(x, np.ones((1, 1, 3, 1)), 2, stride=1)[0, :, :, 0]
    array([[0., 2., 0., 0.],
           [0., 0., 0., 1.]])
    >>> pool2d(x, np.ones((1, 1, 2, 1)), 2, mode="avg")[0, :, :, 0]
    array([[0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25]])

    With the forward's indices, as a training loop keeps them:

    >>> import convpool
    >>> y, indices = convpool.max_pool2d(x, 2, return_indices=True)
    >>> indices[0, :, :, 0]
    array([[1, 7]])
    >>> pool2d(x, np.ones_like(y), 2, indices=indices)[0, :, :, 0]
    array([[0., 1., 0., 0.],
           [0., 0., 0., 1.]])
    """
    if is_dask(x) or is_dask(dy):
        return dask_op(pool2d, locals())
    return pool(2, x, dy, window, stride=stride, padding=padding,
                dilation=dilation, mode=mode, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, data_format=data_format,
                indices=indices, **keywords)


def pool1d(x, dy, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NWC", indices=None, **keywords):
    """Gradient of :func:`convpool.pool1d`, as :func:`pool2d` for one axis:
    ``x`` (N, W, C) or (N, C, W); ``indices`` from
    ``convpool.max_pool1d(..., return_indices=True)``.

    >>> import convpool
    >>> x = np.array([3., 1., 2., 5.]).reshape(1, 4, 1)
    >>> y, indices = convpool.max_pool1d(x, 2, return_indices=True)
    >>> pool1d(x, np.ones_like(y), 2, indices=indices)[0, :, 0]
    array([1., 0., 0., 1.])
    """
    if is_dask(x) or is_dask(dy):
        return dask_op(pool1d, locals())
    return pool(1, x, dy, window, stride=stride, padding=padding,
                dilation=dilation, mode=mode, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, data_format=data_format,
                indices=indices, **keywords)


def pool3d(x, dy, window, *, stride=None, padding="valid", dilation=1,
           mode="max", ceil_mode=False, count_include_pad=False,
           data_format="NDHWC", indices=None, **keywords):
    """Gradient of :func:`convpool.pool3d`, as :func:`pool2d` for three
    axes: ``x`` (N, D, H, W, C) or (N, C, D, H, W); ``indices`` from
    ``convpool.max_pool3d(..., return_indices=True)``."""
    if is_dask(x) or is_dask(dy):
        return dask_op(pool3d, locals())
    return pool(3, x, dy, window, stride=stride, padding=padding,
                dilation=dilation, mode=mode, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, data_format=data_format,
                indices=indices, **keywords)
