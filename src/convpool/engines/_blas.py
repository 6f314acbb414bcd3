"""NumPy's own OpenBLAS, reached through ctypes: thread control and axpy.

Threads.  OpenBLAS starts its own thread pool for every large matmul.
When convpool already splits the work over its threads, each of those
matmuls would fan out again and oversubscribe the cores; measured on 2
cores, chunked im2col matmuls ran 1.3-2x slower with 2 BLAS threads per
call than with 1.  ``one_blas_thread()`` lowers OpenBLAS to one thread
for the duration of a call and restores the user's setting afterwards.

axpy.  ``y += a * x`` in one pass.  NumPy has no fused multiply-add, so a
tap with one scalar weight costs it two passes (multiply into a buffer,
then add); BLAS reads ``x`` and ``y`` once, which made grayscale
convolution 1.6-2x faster.  It may round once (FMA) where NumPy rounds
twice: the results agree to rounding, as between any two engines.

NumPy wheels bundle OpenBLAS as ``scipy_openblas`` with suffixed symbol
names; the library is found among the process's loaded shared objects.
When it cannot be found (another BLAS, another platform), the context
manager does nothing and ``axpy_kernel`` returns None: callers use NumPy.
"""

import contextlib
import ctypes
import os
import threading

import numpy as np

__all__ = ["one_blas_thread", "blas_threads", "axpy_kernel"]

# Symbol prefixes and suffixes as exported by the NumPy wheels'
# scipy-openblas (64- and 32-bit integer builds) and by a plain OpenBLAS.
_FLAVOURS = (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", ""))


def _loaded_libraries():
    """Shared objects with "blas" in their name mapped into this process,
    NumPy's own first (SciPy and others may bring another OpenBLAS whose
    threads would not be the ones NumPy's matmul uses)."""
    # Linux lists the mapped shared objects in /proc; NumPy has already
    # loaded its BLAS, so no search path is needed.
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if ".so" in line}
    except OSError:
        return []
    home = os.path.dirname(np.__file__)   # .../numpy; wheels: numpy.libs
    return sorted((p for p in paths if "blas" in p.lower()),
                  key=lambda p: (not p.startswith(home), p))


def _bind(lib, prefix, suffix):
    """The functions we use from one library, or None if it lacks any."""
    names = {"get": f"{prefix}openblas_get_num_threads{suffix}",
             "set": f"{prefix}openblas_set_num_threads{suffix}",
             "float64": f"{prefix}cblas_daxpy{suffix}",
             "float32": f"{prefix}cblas_saxpy{suffix}"}
    funcs = {key: getattr(lib, name, None) for key, name in names.items()}
    if None in funcs.values():
        return None
    index = ctypes.c_int64 if suffix == "64_" else ctypes.c_int
    funcs["get"].restype = ctypes.c_int
    funcs["set"].argtypes, funcs["set"].restype = [ctypes.c_int], None
    for key, real in (("float64", ctypes.c_double),
                      ("float32", ctypes.c_float)):
        funcs[key].argtypes = [index, real, ctypes.c_void_p, index,
                               ctypes.c_void_p, index]
        funcs[key].restype = None
    return funcs


def _find():
    for path in _loaded_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in _FLAVOURS:
            funcs = _bind(lib, prefix, suffix)
            if funcs is not None:
                return funcs
    return None


_funcs = None
_searched = False
_lock = threading.Lock()
_depth = 0
_saved = None


def _get_funcs():
    global _funcs, _searched
    if not _searched:
        _funcs, _searched = _find(), True
    return _funcs


def blas_threads():
    """OpenBLAS's current thread count, or None if it cannot be controlled."""
    funcs = _get_funcs()
    return None if funcs is None else funcs["get"]()


@contextlib.contextmanager
def one_blas_thread(active=True):
    """Run the body with OpenBLAS limited to one thread (if ``active``).

    The setting is process-wide: while the body runs, NumPy matmuls in the
    caller's other threads also get one BLAS thread.  Nested and
    concurrent uses count: the first caller in saves the setting, the last
    one out restores it, unless somebody changed it meanwhile.
    """
    global _depth, _saved
    funcs = _get_funcs() if active else None
    if funcs is None:
        yield
        return
    get, set_ = funcs["get"], funcs["set"]
    with _lock:
        if _depth == 0:
            _saved = get()
            if _saved != 1:
                set_(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved != 1 and get() == 1:
                set_(_saved)


def axpy_kernel(dtype):
    """``kernel(n, a, x_address, y_address)`` doing ``y += a * x`` over
    ``n`` contiguous items of ``dtype`` (float32/float64, native order),
    or None when BLAS is not reachable.

    The caller passes raw addresses, so it must guarantee both ranges lie
    in live arrays of ``dtype``.  BLAS skips the update when ``a == 0``,
    which would lose ``0 * inf = NaN``: zero weights are the caller's.
    """
    funcs = _get_funcs()
    if funcs is None or not dtype.isnative or dtype.name not in funcs:
        return None
    kernel = funcs[dtype.name]

    def run(n, a, x_address, y_address):
        kernel(n, a, x_address, 1, y_address, 1)
    return run
