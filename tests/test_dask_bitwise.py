"""Batch-only chunks give the NumPy result bitwise, for every engine.

A Dask task runs the NumPy op on one batch chunk on one thread; the NumPy
call runs the whole batch on ``convpool.get_threads()`` threads.  The
planner chooses a path from the per-image problem only and every path's
summation order is independent of how the batch is cut into blocks
(issue 7), so the two must agree bit for bit, NaN positions included.
Before the planar engine's one-row tail product kept its layout, 1-row
blocks (one tiny image) rounded differently: the cases below found it.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")

import convpool  # noqa: E402
from test_dask import (POOL_RANKS, RANKS, batch_in, compute,  # noqa: E402
                       data_format, numpy_or_reject, paddings,
                       window_geometry)

FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])
ENGINES = ("taps", "axpy", "depthwise", "banded", "im2col", "planar")
ONE_EACH = ("axpy", "depthwise")


def batch_chunks(draw, n):
    """Random batch chunks summing to ``n``."""
    cuts = draw(st.sets(st.integers(1, max(1, n - 1)), max_size=3))
    bounds = [0] + sorted(c for c in cuts if c < n) + [n]
    return tuple(b - a for a, b in zip(bounds, bounds[1:]))


@st.composite
def engine_cases(draw, rank):
    engine = draw(st.sampled_from(("auto",) + ENGINES))
    n = draw(st.integers(1, 6))
    spatial, window, stride, dilation, padding = draw(
        window_geometry(rank, 9, 3, 2))
    groups = 1 if engine == "banded" else draw(st.sampled_from([1, 2, 3]))
    one = engine in ONE_EACH
    cg = 1 if one else draw(st.integers(1, 5))
    fg = 1 if one else draw(st.integers(1, 5))
    return dict(engine=engine, n=n, spatial=spatial, window=window,
                stride=stride, dilation=dilation, padding=padding,
                groups=groups, cg=cg, fg=fg, chunks=batch_chunks(draw, n),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                channels_last=draw(st.booleans()),
                bias=draw(st.booleans()),
                nan=draw(st.booleans()) and engine != "banded",
                seed=draw(st.integers(0, 2**16)))


def engine_problem(case, rank):
    rng = np.random.default_rng(case["seed"])
    c, f = case["cg"] * case["groups"], case["fg"] * case["groups"]
    x = rng.standard_normal((case["n"],) + case["spatial"] + (c,))
    if case["nan"]:
        x.flat[rng.integers(x.size)] = np.nan
        x.flat[rng.integers(x.size)] = np.inf
    k = rng.standard_normal(case["window"] + (case["cg"], f))
    if case["engine"] == "axpy":
        k[...] = k[..., :1, :1]           # one weight per tap, all groups
    fmt = data_format(rank, case["channels_last"])
    kwargs = dict(stride=case["stride"], dilation=case["dilation"],
                  padding=case["padding"], groups=case["groups"],
                  data_format=fmt, engine=case["engine"])
    if case["bias"]:
        kwargs["bias"] = rng.standard_normal(f).astype(case["dtype"])
    dtype = case["dtype"]
    return batch_in(x.astype(dtype), fmt), k.astype(dtype), kwargs


@pytest.mark.parametrize("rank", RANKS)
@FEW
@given(data=st.data())
def test_conv_batch_chunks_equal_numpy_bitwise(rank, data):
    case = data.draw(engine_cases(rank))
    x, kernels, kwargs = engine_problem(case, rank)
    op = getattr(convpool, f"conv{rank}d")
    expected = numpy_or_reject(op, x, kernels, **kwargs)
    chunks = (case["chunks"],) + tuple((s,) for s in x.shape[1:])
    result = compute(op(da.from_array(x, chunks=chunks), kernels, **kwargs))
    assert result.dtype == expected.dtype
    assert np.array_equal(result, expected, equal_nan=True)


@pytest.mark.parametrize("engine", ("taps", "banded", "im2col", "planar"))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_tiny_image_per_chunk_rounds_as_in_a_batch(engine, dtype):
    """The regression: 1-row products (a block of one 1x1-output image)
    rounded differently from the same row inside a taller block."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((7, 4, 2, 2)).astype(dtype)
    k = rng.standard_normal((4, 2, 2, 2)).astype(dtype)
    expected = convpool.conv2d(x, k, engine=engine, threads=1)
    lazy = convpool.conv2d(da.from_array(x, chunks=(1, 4, 2, 2)), k,
                           engine=engine)
    assert np.array_equal(compute(lazy), expected)
    per_image = np.concatenate([convpool.conv2d(x[i:i + 1], k, engine=engine,
                                                threads=1)
                                for i in range(len(x))])
    assert np.array_equal(per_image, expected)


@st.composite
def pool_batch_cases(draw, rank):
    n = draw(st.integers(1, 6))
    spatial = draw(st.tuples(*[st.integers(1, 9)] * rank))
    window = draw(st.tuples(*[st.integers(1, 3)] * rank))
    return dict(n=n, spatial=spatial, window=window,
                stride=draw(st.one_of(st.none(), st.tuples(
                    *[st.integers(1, 3)] * rank))),
                dilation=draw(st.tuples(*[st.integers(1, 2)] * rank)),
                padding=draw(paddings(rank)), c=draw(st.integers(1, 4)),
                chunks=batch_chunks(draw, n),
                mode=draw(st.sampled_from(["max", "avg"])),
                ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                channels_last=draw(st.booleans()),
                nan=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("rank", POOL_RANKS)
@FEW
@given(data=st.data())
def test_pool_batch_chunks_equal_numpy_bitwise(rank, data):
    case = data.draw(pool_batch_cases(rank))
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"],) + case["spatial"] + (case["c"],))
    if case["nan"]:
        x.flat[rng.integers(x.size)] = np.nan
    fmt = data_format(rank, case["channels_last"])
    x = batch_in(x.astype(case["dtype"]), fmt)
    kwargs = {k: case[k] for k in ("stride", "padding", "dilation", "mode",
                                   "ceil_mode", "count_include_pad")}
    op = getattr(convpool, f"pool{rank}d")
    expected = numpy_or_reject(op, x, case["window"], data_format=fmt,
                               **kwargs)
    chunks = (case["chunks"],) + tuple((s,) for s in x.shape[1:])
    lazy = op(da.from_array(x, chunks=chunks), case["window"],
              data_format=fmt, **kwargs)
    assert np.array_equal(compute(lazy), expected, equal_nan=True)
