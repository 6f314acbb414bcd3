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
"""

import contextlib
import ctypes
import os
import threading

import numpy as np

__all__ = ["one_blas_thread", "blas_threads", "axpy_available", "AxpyPlan"]

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
        func = lib._get_symbol(name)
        if func is None:
            continue
        index = (ctypes.c_int64 if lib._symbol_suffix in ("64_", "_64")
                 else ctypes.c_int)
        real = ctypes.c_double if dtype.itemsize == 8 else ctypes.c_float
        func.argtypes = [index, real, ctypes.c_void_p, index,
                         ctypes.c_void_p, index]
        func.restype = None
        return func
    return None


_functions = {}


def axpy_available(dtype):
    """Whether ``AxpyPlan`` can run for ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype not in _functions:
        _functions[dtype] = _axpy_function(dtype)
    return _functions[dtype] is not None


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
        self.kernel = _functions[dtype]

    def run(self, source, y):
        if (source.shape, source.strides, source.dtype) != self.layout:
            raise ValueError("axpy source has another layout than planned")
        if (y.dtype != self.layout[2] or not y.flags.c_contiguous
                or y.size < self.size):
            raise ValueError("axpy destination must be a contiguous array "
                             f"of >= {self.size} items")
        kernel, size = self.kernel, self.size
        base, address = source.ctypes.data, y.ctypes.data
        for offset, weight in self.steps:
            kernel(size, weight, base + offset, 1, address, 1)


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))
