"""Bits that do not depend on where an item falls in a BLAS call.

OpenBLAS's Haswell and Zen kernels run axpy over whole groups of 32
float32 (16 float64) items with fused multiply-adds and a call's last
items with a multiply and an add, and their sgemm rounds the last
columns of a product, and rows by their place in it, another way.  A
result cut into blocks by threads or batch chunks would then change its
last bits with the cut.  ``_blas`` measures each kernel's axpy group and
column group once and pads partial groups, and runs float32 row products
in float64 where sgemm rounds rows by place.

Two kinds of test: a stand-in BLAS written here that mixes the two
roundings exactly so (the grain logic, on any machine), and the real
library forced onto its Haswell kernels in a subprocess (on CPUs that
can run them).
"""

import ctypes
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convpool.engines import _blas


def mixed_axpy(dtype, group):
    """A ctypes axpy that rounds items in whole ``group``s once (as a
    fused multiply-add would) and the rest twice."""
    dtype = np.dtype(dtype)
    wide = np.longdouble if dtype == np.float64 else np.float64
    real = ctypes.c_double if dtype.itemsize == 8 else ctypes.c_float
    proto = ctypes.CFUNCTYPE(None, ctypes.c_int, real, ctypes.c_void_p,
                             ctypes.c_int, ctypes.c_void_p, ctypes.c_int)

    def axpy(n, a, x, incx, y, incy):
        if n <= 0:
            return
        size = n * dtype.itemsize
        xs = np.frombuffer((ctypes.c_char * size).from_address(x), dtype)
        ys = np.frombuffer((ctypes.c_char * size).from_address(y), dtype)
        body = n - n % group
        a_ = dtype.type(a)
        ys[:body] = (wide(a_) * xs[:body].astype(wide)
                     + ys[:body].astype(wide)).astype(dtype)
        ys[body:] = a_ * xs[body:] + ys[body:]
    return proto(axpy)


@pytest.mark.parametrize("dtype, group", [(np.float32, 32),
                                          (np.float64, 16),
                                          (np.float32, 1)])
def test_grain_is_the_kernels_group(dtype, group):
    assert _blas._grain(mixed_axpy(dtype, group), np.dtype(dtype)) == group


def test_no_grain_for_a_kernel_that_depends_on_the_address():
    """A kernel whose rounding follows the address (an aligned peel) has
    no group that helps: axpy is not offered."""
    dtype = np.dtype(np.float64)
    inner = mixed_axpy(dtype, 1)
    proto = type(inner)

    def peel(n, a, x, incx, y, incy):
        head = min(n, (-y // dtype.itemsize) % 8)
        if head:
            xs = np.frombuffer((ctypes.c_char * (head * 8)).from_address(x),
                               dtype)
            ys = np.frombuffer((ctypes.c_char * (head * 8)).from_address(y),
                               dtype)
            ys[:] = dtype.type(a) * xs + ys
        inner(n - head, a, x + head * 8, incx, y + head * 8, incy)
    assert _blas._grain(proto(peel), dtype) is None


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64]),
       group=st.sampled_from([1, 8, 16, 32]),
       size=st.integers(1, 300), cuts=st.lists(st.integers(1, 299),
                                               max_size=5),
       seed=st.integers(0, 2 ** 32 - 1))
def test_grain_axpy_same_bits_however_cut(dtype, group, size, cuts, seed):
    """``_GrainAxpy`` over a vector cut anywhere gives the bits of one
    call over whole groups, on a kernel that mixes roundings; the inputs'
    other items are left alone."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size + 7).astype(dtype)
    y0 = rng.standard_normal(size + 7).astype(dtype)
    a = float(rng.standard_normal())
    axpy = _blas._GrainAxpy(mixed_axpy(dtype, group), dtype, group)
    whole = y0.copy()
    axpy(size, a, x.ctypes.data, whole.ctypes.data)
    pieces = y0.copy()
    edges = sorted({0, size, *[c for c in cuts if c < size]})
    item = dtype.itemsize
    for lo, hi in zip(edges, edges[1:]):
        axpy(hi - lo, a, x.ctypes.data + lo * item,
             pieces.ctypes.data + lo * item)
    np.testing.assert_array_equal(pieces, whole)
    np.testing.assert_array_equal(whole[size:], y0[size:])
    xs, ys = x[:size].astype(np.longdouble), y0[:size].astype(np.longdouble)
    a_ = np.longdouble(dtype.type(a))
    error = np.abs(whole[:size] - (a_ * xs + ys))
    assert np.all(error <= 2 * np.finfo(dtype).eps * (abs(a_ * xs) + abs(ys)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grained_matmul_columns_match_a_wide_product(dtype):
    """Every column of ``grained_matmul`` has the bits of that column in
    one wide product, whatever the width, and the value of ``a @ b``."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 10)).astype(dtype)
    b = rng.standard_normal((2, 10, 300)).astype(dtype)
    wide = np.empty((2, 4, 300), dtype)
    _blas.grained_matmul(a, b, wide)
    np.testing.assert_allclose(wide, a @ b, rtol=1e-5, atol=1e-5)
    for start, width in [(0, 1), (3, 7), (5, 61), (100, 200), (0, 300)]:
        out = np.empty((2, 4, width), dtype)
        _blas.grained_matmul(a, b[..., start:start + width], out)
        np.testing.assert_array_equal(out, wide[..., start:start + width])


def _can_run_haswell_kernels():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx2" in flags and " fma" in flags


HASWELL_CHECK = textwrap.dedent("""
    import numpy as np
    import convpool
    from convpool.engines import _blas
    for dtype, grain in ((np.float32, 32), (np.float64, 16)):
        assert _blas.axpy_function(dtype).grain == grain, dtype
    rng = np.random.default_rng(7)
    x = rng.standard_normal((100, 13, 12, 1)).astype(np.float32)
    w = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    whole = convpool.conv2d(x, w, engine="axpy", threads=1)
    assert np.array_equal(convpool.conv2d(x, w, engine="axpy", threads=2),
                          whole)
    for n in (1, 7, 33):
        parts = np.concatenate([convpool.conv2d(x[i:i + n], w, engine="axpy",
                                                threads=1 + (i // n) % 2)
                                for i in range(0, 100, n)])
        assert np.array_equal(parts, whole), n
    assert _blas.widened(np.float32) == np.float64
    x = rng.standard_normal((40, 13, 12, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 8)).astype(np.float32)
    for engine in ("im2col", "banded", "planar"):
        whole = convpool.conv2d(x, w, padding="same", engine=engine,
                                threads=1)
        assert whole.dtype == np.float32
        assert np.array_equal(convpool.conv2d(x, w, padding="same",
                                              engine=engine, threads=2),
                              whole), engine
        parts = np.concatenate([convpool.conv2d(x[i:i + 7], w,
                                                padding="same",
                                                engine=engine, threads=2)
                                for i in range(0, 40, 7)])
        assert np.array_equal(parts, whole), engine
    image = rng.random((301, 203, 3)).astype(np.float32)
    g = np.exp(-np.arange(-3, 4) ** 2 / 4.5)
    kernel = np.outer(g, g).astype(np.float32)
    for engine in ("separable", "direct", "tiled"):
        one = convpool.filter2d(image, kernel, pad_mode="reflect",
                                engine=engine, threads=1)
        for threads in (2, 3):
            many = convpool.filter2d(image, kernel, pad_mode="reflect",
                                     engine=engine, threads=threads)
            assert np.array_equal(one, many), (engine, threads)
    print("ok")
""")


@pytest.mark.skipif(not _can_run_haswell_kernels(),
                    reason="this CPU cannot run OpenBLAS's Haswell kernels")
def test_thread_and_batch_bits_on_haswell_kernels():
    """The real OpenBLAS on its Haswell kernels (those of many AVX2 CPUs):
    axpy's group is found, float32 products are widened, and the axpy,
    GEMM and filter2d paths keep their bits across threads and batch
    cuts."""
    if not _blas.axpy_available(np.float32):
        pytest.skip("no OpenBLAS axpy")
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    run = subprocess.run([sys.executable, "-c", HASWELL_CHECK], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"


def test_widened_products_round_once_from_float64(monkeypatch):
    """Where float32 rows lose their bits by place (as on Haswell),
    ``matmul_rows`` runs the float32 products in float64 and rounds each
    result once; float64 and machines whose rows keep their bits are
    unchanged."""
    from convpool.engines._parallel import Scratch
    from convpool.engines.base import matmul_rows
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 70, 27)).astype(np.float32)
    b = rng.standard_normal((27, 8)).astype(np.float32)
    monkeypatch.setitem(_blas._row_bits, np.dtype(np.float32), False)
    monkeypatch.setitem(_blas._row_bits, np.dtype(np.float64), True)
    assert _blas.widened(np.float32) == np.float64
    assert _blas.widened(np.float64) == np.float64
    out = np.empty((3, 70, 8), np.float32)
    matmul_rows(a, b, out, Scratch(), 16)
    want = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(out, want)
    monkeypatch.setitem(_blas._row_bits, np.dtype(np.float32), True)
    assert _blas.widened(np.float32) == np.float32


def test_axpy_engine_on_a_mixed_rounding_kernel(monkeypatch):
    """The axpy engine on the stand-in kernel (groups of 32 fused, the
    rest not): the same bits for any threads and batch cut, on any
    machine."""
    import convpool
    dtype = np.dtype(np.float32)
    monkeypatch.setitem(_blas._functions, dtype, _blas._GrainAxpy(
        mixed_axpy(dtype, 32), dtype, 32))
    rng = np.random.default_rng(8)
    x = rng.standard_normal((30, 13, 12, 1)).astype(dtype)
    w = rng.standard_normal((3, 3, 1, 1)).astype(dtype)
    whole = convpool.conv2d(x, w, engine="axpy", threads=1)
    np.testing.assert_array_equal(
        convpool.conv2d(x, w, engine="axpy", threads=2), whole)
    parts = np.concatenate([convpool.conv2d(x[i:i + 7], w, engine="axpy",
                                            threads=2)
                            for i in range(0, 30, 7)])
    np.testing.assert_array_equal(parts, whole)
