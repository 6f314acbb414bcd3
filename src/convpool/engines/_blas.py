"""BLAS through threadpoolctl: the thread limit, and axpy from the same
library handle.  The one module that hands raw addresses to BLAS.

Threads.  OpenBLAS starts its own thread pool for every large product.
convpool already splits the work over its own threads, and each product
fanning out again oversubscribes the cores (measured on 2 cores: chunked
products 1.3-2x slower with 2 BLAS threads per call; W1's axpy passes 18x
slower).  ``one_blas_thread()`` holds BLAS at one thread for the duration
of a call, whatever ``threads`` is, so that a result never depends on how
BLAS split a product either.

axpy.  ``y += a * x`` in one pass.  NumPy has no fused multiply-add, so a
tap with one scalar weight costs it two passes (multiply into a buffer,
then add); BLAS reads ``x`` and ``y`` once (measured 1.3-1.9x faster on
W1).  The function comes from the library threadpoolctl found, with the
symbol affixes threadpoolctl itself resolved: nothing is guessed.  When
no OpenBLAS is loaded, ``axpy_available`` is False and the planner does
not offer the 'axpy' path.

Same bits wherever an item falls.  A result must not depend on how a
batch is cut or on ``threads``, so an item must get the same arithmetic at
the head, middle or tail of any call.  BLAS does not promise that: on
Haswell and Zen cores OpenBLAS runs whole groups of 32 float32 (16
float64) items with fused multiply-adds and the rest of a call with a
multiply and an add, so the last items of a call round differently.  The
first use of a dtype measures that group (``grain``): the smallest count
such that calls of whole groups, at any offset, give every item the bits
of one long call.  ``axpy_function`` then runs the whole groups in place
and a call's last partial group padded out to one whole group in a small
buffer.  Where no group up to 128 items is enough, axpy is not offered.
"""

import contextlib
import ctypes
import os
import threading

import numpy as np

__all__ = ["one_blas_thread", "blas_threads", "axpy_available",
           "axpy_function", "AxpyPlan", "column_grain", "grained_matmul",
           "rows_keep_bits", "widened"]

_lock = threading.Lock()
_state = {"libs": None, "depth": 0, "saved": None}


def _blas_libs():
    """threadpoolctl's controllers of the loaded BLAS libraries, NumPy's
    own first (others, e.g. SciPy's, may also be loaded), found once."""
    if _state["libs"] is None:
        from threadpoolctl import ThreadpoolController
        home = os.path.dirname(os.path.dirname(np.__file__))
        libs = [lib for lib in ThreadpoolController().lib_controllers
                if lib.user_api == "blas"]
        libs.sort(key=lambda lib: not str(lib.filepath).startswith(home))
        _state["libs"] = libs
    return _state["libs"]


def blas_threads():
    """The first BLAS library's thread count, or None if none is loaded."""
    libs = _blas_libs()
    return libs[0].get_num_threads() if libs else None


@contextlib.contextmanager
def one_blas_thread():
    """Run the body with every loaded BLAS limited to one thread.

    The setting is process-wide: while the body runs, NumPy products in
    the caller's other threads also get one BLAS thread.  Nested and
    concurrent uses count: the first caller in saves the settings, the
    last one out restores them.
    """
    libs = _blas_libs()
    with _lock:
        if _state["depth"] == 0:
            _state["saved"] = [lib.get_num_threads() for lib in libs]
            for lib, n in zip(libs, _state["saved"]):
                if n != 1:
                    lib.set_num_threads(1)
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                for lib, n in zip(libs, _state["saved"]):
                    if n != 1:
                        lib.set_num_threads(n)


def _axpy_function(dtype):
    """OpenBLAS's ``cblas_?axpy`` for a native float32/float64 dtype, bound
    with ctypes, or None."""
    dtype = np.dtype(dtype)
    name = {"float64": "cblas_daxpy", "float32": "cblas_saxpy"}.get(
        dtype.name)
    if name is None or not dtype.isnative:
        return None
    for lib in _blas_libs():
        if lib.internal_api != "openblas":
            continue
        # threadpoolctl >= 3.5 resolves the symbol affixes of NumPy's
        # scipy-openblas ("scipy_", "64_"); older ones have no resolver.
        resolve = getattr(lib, "_get_symbol", None)
        func = resolve(name) if resolve is not None else None
        if func is None:
            continue
        suffix = getattr(lib, "_symbol_suffix", "")
        index = ctypes.c_int64 if suffix in ("64_", "_64") else ctypes.c_int
        real = ctypes.c_double if dtype.itemsize == 8 else ctypes.c_float
        func.argtypes = [index, real, ctypes.c_void_p, index,
                         ctypes.c_void_p, index]
        func.restype = None
        return func
    return None


# Largest group of items ``_grain`` tries; a bigger one is not looked for.
MAX_GRAIN = 128


def _grain(blas, dtype):
    """The smallest group count (1, 2, 4, ..., ``MAX_GRAIN``) such that
    ``blas`` calls over whole groups give every item the bits it gets in
    one long call, at every offset of the first 64 items; None if none
    does.  Random data: a multiply and an add round differently from a
    fused multiply-add on a good share of items, so a kernel that mixes
    them is caught."""
    rng = np.random.default_rng(0)
    n = 32 * MAX_GRAIN
    x = rng.standard_normal(n + 2 * MAX_GRAIN).astype(dtype)
    y0 = rng.standard_normal(x.size).astype(dtype)
    a, item = 0.7310585786300049, dtype.itemsize
    whole = y0.copy()
    blas(n, a, x.ctypes.data, 1, whole.ctypes.data, 1)
    grain = 1
    while grain <= MAX_GRAIN:
        if all(_same_items(blas, a, x, y0, whole, start, length, item)
               for start in range(64)
               for length in range(grain, 4 * grain + 1, grain)):
            return grain
        grain *= 2
    return None


def _same_items(blas, a, x, y0, whole, start, length, item):
    y = y0.copy()
    blas(length, a, x.ctypes.data + start * item, 1,
         y.ctypes.data + start * item, 1)
    return np.array_equal(y[start:start + length],
                          whole[start:start + length])


class _GrainAxpy:
    """``y += a * x`` over ``n`` items at addresses ``x`` and ``y``, every
    item with the arithmetic of a long call: whole groups of ``grain``
    items in place, the last partial group padded to a whole one in a
    small buffer (see the module notes)."""

    def __init__(self, blas, dtype, grain):
        self.blas, self.dtype, self.grain = blas, dtype, grain

    def __call__(self, n, a, x, y):
        grain, item = self.grain, self.dtype.itemsize
        body = n - n % grain
        if body:
            self.blas(body, a, x, 1, y, 1)
        rest = n - body
        if rest:
            px, py = np.zeros((2, grain), self.dtype)
            ctypes.memmove(px.ctypes.data, x + body * item, rest * item)
            ctypes.memmove(py.ctypes.data, y + body * item, rest * item)
            self.blas(grain, a, px.ctypes.data, 1, py.ctypes.data, 1)
            ctypes.memmove(y + body * item, py.ctypes.data, rest * item)


_functions = {}


def axpy_function(dtype):
    """``axpy(n, a, x, y)``: ``y += a * x`` over ``n`` items at raw
    addresses, each item's bits independent of where it falls in a call;
    None where BLAS axpy is not loaded or cannot promise that."""
    dtype = np.dtype(dtype)
    if dtype not in _functions:
        blas = _axpy_function(dtype)
        grain = None if blas is None else _grain(blas, dtype)
        if grain == 1:
            _functions[dtype] = _whole_axpy(blas)
        else:
            _functions[dtype] = (None if grain is None
                                 else _GrainAxpy(blas, dtype, grain))
    return _functions[dtype]


def _whole_axpy(blas):
    """The plain call, for kernels that treat every item alike: filter2d
    makes thousands of calls, and each Python step costs (W8 4-5 ms
    through ``_GrainAxpy``)."""
    def axpy(n, a, x, y):
        blas(n, a, x, 1, y, 1)
    axpy.grain, axpy.plain = 1, blas
    return axpy


def axpy_available(dtype):
    """Whether ``AxpyPlan`` can run for ``dtype``."""
    return axpy_function(dtype) is not None


_column_grains = {}


def column_grain(m, k, dtype):
    """The smallest column count (1, 2, 4, ..., 64) such that products
    ``(m, k) @ (k, n)`` with ``n`` a multiple of it give every output
    column the bits it gets in one wide product, at every column offset
    tried; None if none does.  On Haswell and Zen cores OpenBLAS's sgemm
    rounds the last ``n % 8`` columns of a product another way, so a
    column's bits would depend on the product's width."""
    dtype = np.dtype(dtype)
    key = (m, k, dtype)
    if key not in _column_grains:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, 1024)).astype(dtype)
        wide = a @ b
        grain, found = 1, None
        while grain <= 64 and found is None:
            if all(np.array_equal(a @ b[:, s:s + n], wide[:, s:s + n])
                   for s in range(0, 48, 3)
                   for n in range(grain, 4 * grain + 1, grain)):
                found = grain
            grain *= 2
        _column_grains[key] = found
    return _column_grains[key]


def grained_matmul(a, b, out):
    """``out = a @ b`` for ``a`` (M, K) and ``b``, ``out`` (..., K, N)
    and (..., M, N), every output column with the bits of one wide
    product whatever ``N`` is: whole groups of ``column_grain`` columns
    in place, the rest padded to one group in a small buffer.  Where no
    grain is found, one plain product."""
    m, k = a.shape
    n = b.shape[-1]
    grain = column_grain(m, k, a.dtype)
    rest = 0 if grain is None else n % grain
    body = n - rest
    if body:
        np.matmul(a, b[..., :body], out=out[..., :body])
    if rest:
        pad = np.zeros(b.shape[:-1] + (grain,), b.dtype)
        pad[..., :rest] = b[..., body:]
        out[..., body:] = np.matmul(a, pad)[..., :rest]


_row_bits = {}


def rows_keep_bits(dtype):
    """Whether this BLAS's products give a row the same bits at any
    offset among products of one height, for ``dtype``: a few shapes of
    the conv engines' products (row- and column-major left operands),
    probed once.  True on OpenBLAS's SkylakeX kernels; False for float32
    on its Haswell and Zen kernels, whose sgemm computes rows in groups
    of 12 (or 6) with the last rows and some positions rounded another
    way."""
    dtype = np.dtype(dtype)
    if dtype not in _row_bits:
        rng = np.random.default_rng(1)
        same = True
        for h, k, n in [(16, 9, 3), (64, 27, 8), (64, 16, 16), (256, 9, 9),
                        (32, 100, 24)]:
            rows = rng.standard_normal((h + 16, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            for a in (rows, np.asfortranarray(rows)):
                first = a[:h] @ b
                same = same and all(
                    np.array_equal((a[off:off + h] @ b)[:h - off],
                                   first[off:])
                    for off in (1, 5, 12))
        _row_bits[dtype] = same
    return _row_bits[dtype]


def widened(dtype):
    """The dtype products of ``dtype`` run in so that every row keeps its
    bits wherever it falls: ``dtype`` itself, or float64 for float32 where
    only float64 products keep them (each result is then rounded once,
    from float64)."""
    dtype = np.dtype(dtype)
    if (dtype == np.float32 and not rows_keep_bits(dtype)
            and rows_keep_bits(np.float64)):
        return np.dtype(np.float64)
    return dtype


class AxpyPlan:
    """``y += a * x`` passes at fixed byte offsets from the start of a
    source array, bounds checked once, when the plan is made.

    ``shape``, ``strides`` (None: C order) and ``dtype`` describe every
    source the plan will run on; ``steps`` are ``(byte offset, weight)``;
    every pass reads ``size`` items.  ``run(source, y)`` checks only that
    ``source`` has that layout and ``y`` is big enough.  BLAS skips the
    update when ``a == 0``, which would lose ``0 * inf = NaN``: the
    planner keeps zero weights off this path.
    """

    def __init__(self, shape, strides, dtype, steps, size):
        dtype = np.dtype(dtype)
        if not axpy_available(dtype):
            raise ValueError(f"BLAS axpy is not available for {dtype}")
        if strides is None:
            strides = _c_strides(shape, dtype.itemsize)
        lo = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
        hi = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides))
        for offset, _ in steps:
            if offset < lo or offset + size * dtype.itemsize > hi + \
                    dtype.itemsize:
                raise ValueError("axpy pass outside its source array")
        self.layout = (tuple(shape), tuple(strides), dtype)
        self.size, self.steps = size, list(steps)
        self.kernel = axpy_function(dtype)

    def run(self, source, y):
        if (source.shape, source.strides, source.dtype) != self.layout:
            raise ValueError("axpy source has another layout than planned")
        if (y.dtype != self.layout[2] or not y.flags.c_contiguous
                or y.size < self.size):
            raise ValueError("axpy destination must be a contiguous array "
                             f"of >= {self.size} items")
        kernel, size = self.kernel, self.size
        base, address = source.ctypes.data, y.ctypes.data
        blas = getattr(kernel, "plain", None)
        if blas is not None:        # every item alike: the plain calls
            for offset, weight in self.steps:
                blas(size, weight, base + offset, 1, address, 1)
            return
        for offset, weight in self.steps:
            kernel(size, weight, base + offset, address)


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))
