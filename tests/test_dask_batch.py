"""Dask arrays through adaptive pooling, ``conv_transpose*d`` and the
gradients (convpool.backends.dask_batch), against the NumPy op on the
computed inputs.

Per-image results (adaptive pooling, transposed convolution, ``dx``) are
bitwise the NumPy ones whatever the chunks: tasks run the NumPy op on
batch (and channel) chunks with whole spatial axes.  ``dkernels`` and
``dbias`` are sums over the batch, added chunk by chunk: within float64
1e-12 / float32 1e-5 of ``scale`` (the sum of |x * dy| over the windows).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")

import convpool  # noqa: E402
from convpool import grad  # noqa: E402
from test_dask import (POOL_RANKS, RANKS, SPATIAL,  # noqa: E402
                       assert_close, batch_in, compute, data_format,
                       numpy_or_reject)

FEW = settings(max_examples=20, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])


def some_chunks(draw, shape):
    return tuple(draw(st.integers(1, max(1, s))) for s in shape)


def lazy(a, chunks):
    return da.from_array(a, chunks=chunks)


def same(result, expected):
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    assert np.array_equal(result, expected, equal_nan=True)


@st.composite
def batches(draw, rank, channels=(1, 4)):
    n = draw(st.integers(1, 5))
    spatial = draw(st.tuples(*[st.integers(1, 8)] * rank))
    c = draw(st.integers(*channels))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    fmt = data_format(rank, draw(st.booleans()))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n,) + spatial + (c,))
    if draw(st.booleans()):
        x.flat[rng.integers(x.size)] = np.nan
    x = batch_in(x.astype(dtype), fmt)
    return x, fmt, some_chunks(draw, x.shape), rng


# --------------------------------------------------------- adaptive pools

@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("rank", POOL_RANKS)
@FEW
@given(data=st.data())
def test_adaptive_pools_match_numpy(rank, mode, data):
    x, fmt, chunks, _ = data.draw(batches(rank))
    # NumPy's mean sums in an order that depends on the memory layout;
    # the computed Dask input is C-ordered.
    x = np.ascontiguousarray(x)
    sizes = tuple(data.draw(st.one_of(st.none(), st.integers(1, 9)))
                  for _ in range(rank))
    op = getattr(convpool, f"adaptive_{mode}_pool{rank}d")
    expected = numpy_or_reject(op, x, sizes, data_format=fmt)
    result = op(lazy(x, chunks), sizes, data_format=fmt)
    assert isinstance(result, da.Array)
    same(compute(result), expected)
    if mode == "max":
        values, indices = op(lazy(x, chunks), sizes, data_format=fmt,
                             return_indices=True)
        ev, ei = op(x, sizes, data_format=fmt, return_indices=True)
        same(compute(values), ev)
        same(compute(indices), ei)


def test_max_pool_indices_are_lazy_and_equal_numpy():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 7, 9, 3))
    x[1, 2, 3, 1] = np.nan
    for op, kwargs in [(convpool.max_pool2d, dict(stride=1, padding=1)),
                       (convpool.max_pool2d, dict(ceil_mode=True)),
                       (convpool.max_pool1d, dict(data_format="NCW"))]:
        xs = x[:, 0] if op is convpool.max_pool1d else x
        values, indices = op(lazy(xs, 2), 3, return_indices=True, **kwargs)
        assert isinstance(values, da.Array)
        assert isinstance(indices, da.Array)
        ev, ei = op(xs, 3, return_indices=True, **kwargs)
        same(compute(values), ev)
        same(compute(indices), ei)


# ------------------------------------------------ transposed convolution

@pytest.mark.parametrize("rank", RANKS)
@FEW
@given(data=st.data())
def test_conv_transpose_matches_numpy(rank, data):
    groups = data.draw(st.sampled_from([1, 2]))
    x, fmt, chunks, rng = data.draw(batches(rank, (1, 3)))
    x = np.concatenate([x] * groups, axis=fmt.index("C"))
    chunks = list(chunks)
    chunks[fmt.index("C")] *= groups
    stride = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    dilation = data.draw(st.tuples(*[st.integers(1, 2)] * rank))
    window = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    c_in = x.shape[fmt.index("C")]
    out_per_group = data.draw(st.integers(1, 3))
    k = rng.standard_normal(window + (out_per_group, c_in)).astype(x.dtype)
    kwargs = dict(stride=stride, dilation=dilation, groups=groups,
                  padding=data.draw(st.sampled_from([0, 1, "same",
                                                     "valid"])),
                  data_format=fmt,
                  kernel_format=SPATIAL[rank] + "IO")
    if data.draw(st.booleans()):
        kwargs["bias"] = rng.standard_normal(out_per_group * groups)
    if data.draw(st.booleans()):
        kwargs["padding"] = data.draw(st.integers(0, 2))
        kwargs["output_padding"] = tuple(
            data.draw(st.integers(0, max(s, d) - 1))
            for s, d in zip(stride, dilation))
    op = getattr(convpool, f"conv_transpose{rank}d")
    expected = numpy_or_reject(op, x, k, **kwargs)
    xd = lazy(x, chunks)
    result = op(xd, k, **kwargs)
    assert isinstance(result, da.Array)
    assert result.chunks[0] == xd.chunks[0]
    spatial = [c for a, c in enumerate(xd.chunks)
               if a not in (0, fmt.index("C"))]
    if all(len(c) == 1 for c in spatial):
        same(compute(result), expected)
    else:
        # Exact halos (backends/dask_transpose.py): each output cell sums
        # all its taps in one task, maybe on another engine path.
        scale = float(np.prod(window) * c_in * np.nanmax(np.abs(x))
                      * np.abs(k).max() + 3)
        assert_close(compute(result), expected, scale, x.dtype)


# --------------------------------------------------------------- gradients

def assert_sum_close(result, expected, scale):
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    tol = (1e-5 if expected.dtype == np.float32 else 1e-12) * scale
    np.testing.assert_allclose(result, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("rank", RANKS)
@FEW
@given(data=st.data())
def test_conv_gradients_match_numpy(rank, data):
    x, fmt, chunks, rng = data.draw(batches(rank, (1, 3)))
    x = np.nan_to_num(x)
    window = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    c = x.shape[fmt.index("C")]
    f = data.draw(st.integers(1, 3))
    k = rng.standard_normal(window + (c, f)).astype(x.dtype)
    kwargs = dict(stride=data.draw(st.integers(1, 2)),
                  dilation=data.draw(st.integers(1, 2)),
                  padding=data.draw(st.sampled_from(["valid", "same", 1])),
                  data_format=fmt)
    op = getattr(convpool, f"conv{rank}d")
    y = numpy_or_reject(op, x, k, **kwargs)
    dy = rng.standard_normal(y.shape).astype(x.dtype)
    g = getattr(grad, f"conv{rank}d")
    expected = g(x, k, dy, **kwargs)
    dy_chunks = some_chunks(data.draw, dy.shape)
    which = data.draw(st.sampled_from(["both", "x", "dy"]))
    xs = lazy(x, chunks) if which != "dy" else x
    dys = lazy(dy, dy_chunks) if which != "x" else dy
    result = g(xs, k, dys, **kwargs)
    assert all(isinstance(r, da.Array) for r in result)
    dx, dk, db = compute(result[0]), compute(result[1]), compute(result[2])
    same(dx, expected[0])
    scale = float(np.abs(x).sum() * np.abs(dy).max() + np.abs(dy).sum()) + 1
    assert_sum_close(dk, expected[1], scale)
    assert_sum_close(db, expected[2], scale)


@pytest.mark.parametrize("rank", POOL_RANKS)
@FEW
@given(data=st.data())
def test_pool_gradients_match_numpy(rank, data):
    x, fmt, chunks, rng = data.draw(batches(rank))
    window = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    kwargs = dict(stride=data.draw(st.one_of(st.none(), st.integers(1, 2))),
                  padding=data.draw(st.sampled_from(["valid", "same"])),
                  mode=data.draw(st.sampled_from(["max", "avg"])),
                  ceil_mode=data.draw(st.booleans()),
                  count_include_pad=data.draw(st.booleans()),
                  data_format=fmt)
    op = getattr(convpool, f"pool{rank}d")
    y = numpy_or_reject(op, x, window, **kwargs)
    dy = rng.standard_normal(y.shape).astype(x.dtype)
    g = getattr(grad, f"pool{rank}d")
    expected = g(x, dy, window, **kwargs)
    result = g(lazy(x, chunks), lazy(dy, some_chunks(data.draw, dy.shape)),
               window, **kwargs)
    assert isinstance(result, da.Array)
    same(compute(result), expected)


@pytest.mark.parametrize("lazy_indices", [False, True])
def test_max_pool_gradient_with_the_forwards_indices(lazy_indices):
    """``indices=`` (NumPy or Dask) is cut along the batch like ``dy``."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 8, 8, 3))
    y, indices = convpool.max_pool2d(x, 2, return_indices=True)
    dy = rng.standard_normal(y.shape)
    expected = grad.pool2d(x, dy, 2, indices=indices)
    if lazy_indices:
        indices = da.from_array(indices, chunks=(4, 4, 4, 1))
    result = grad.pool2d(da.from_array(x, chunks=(2, 8, 8, 3)),
                         da.from_array(dy, chunks=(3, 4, 4, 3)), 2,
                         indices=indices)
    assert isinstance(result, da.Array)
    np.testing.assert_array_equal(result.compute(), expected)


def test_gradient_partial_sums_are_summed_in_float64():
    """float32 partials of dkernels are added in float64, then cast: the
    result is the float64 sum of the per-chunk NumPy partials, rounded
    once."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 6, 6, 2)).astype(np.float32)
    k = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    dy = rng.standard_normal((8, 4, 4, 2)).astype(np.float32)
    _, dk, db = grad.conv2d(lazy(x, (3, 6, 6, 2)), k, dy)
    parts = [grad.conv2d(x[i:i + 3], k, dy[i:i + 3], threads=1)
             for i in range(0, 8, 3)]
    want_dk = sum(p[1].astype(np.float64) for p in parts).astype(np.float32)
    want_db = sum(p[2].astype(np.float64) for p in parts).astype(np.float32)
    np.testing.assert_array_equal(compute(dk), want_dk)
    np.testing.assert_array_equal(compute(db), want_db)


# -------------------------------------------------- laziness and errors

def _exploding(block):
    raise RuntimeError("a chunk was computed")


def test_conv_transpose_space_chunks_follow_the_input_times_stride():
    from convpool.backends.dask_transpose import input_span
    x = da.ones((2, 8, 8, 3), chunks=(1, 3, 4, 3))
    k = np.ones((3, 3, 2, 3))
    y = convpool.conv_transpose2d(x, k, stride=2, padding=1,
                                  output_padding=1)
    assert y.chunks == ((1, 1), (6, 6, 4), (8, 8), (2,))
    np.testing.assert_array_equal(
        compute(y), convpool.conv_transpose2d(np.ones((2, 8, 8, 3)), k,
                                              stride=2, padding=1,
                                              output_padding=1))
    # output cells 6..11 (stride 2, 3 taps, lo 1) read input cells 3..6:
    # cell i reaches 2 i - 1 .. 2 i + 1; the piece's output starts at 5
    assert input_span(6, 12, 8, 2, 3, 1) == (3, 7, 5)


def test_nothing_is_computed_before_compute():
    x = da.zeros((4, 8, 8, 2), chunks=(1, 4, 4, 1)).map_blocks(
        _exploding, dtype=float)
    dy = np.ones((4, 6, 6, 3))
    k = np.ones((3, 3, 2, 3))
    results = [convpool.adaptive_avg_pool2d(x, 3),
               convpool.adaptive_max_pool2d(x, 3, return_indices=True)[1],
               convpool.max_pool2d(x, 2, return_indices=True)[1],
               convpool.conv_transpose2d(x, np.ones((3, 3, 5, 2)), stride=2),
               convpool.conv_transpose2d(x, np.ones((3, 3, 5, 2)), padding=1,
                                         bias=np.ones(5)),
               grad.conv2d(x, k, dy)[1], grad.conv2d(x, k, dy)[2],
               grad.pool2d(x, np.ones((4, 4, 4, 2)), 2)]
    for y in results:
        assert isinstance(y, da.Array)
        with pytest.raises(RuntimeError, match="a chunk was computed"):
            compute(y)


def test_tasks_run_one_thread_unless_asked(monkeypatch):
    import convpool.conv as conv_module
    seen = []
    real = conv_module.resolve_threads
    monkeypatch.setattr(conv_module, "resolve_threads",
                        lambda t: seen.append(t) or real(t))
    x = da.ones((3, 5, 5, 2), chunks=(1, 5, 5, 2))
    compute(convpool.conv_transpose2d(x, np.ones((2, 2, 1, 2)), stride=2))
    assert seen and set(seen) == {1}
    seen.clear()
    compute(convpool.conv_transpose2d(x, np.ones((2, 2, 1, 2)), threads=2))
    assert seen and set(seen) == {2}


X = np.zeros((2, 8, 8, 3))
K = np.zeros((3, 3, 3, 4))
DY = np.zeros((2, 6, 6, 4))
BAD_CALLS = [
    (convpool.adaptive_avg_pool2d, (X, 0), {}),
    (convpool.adaptive_avg_pool2d, (X, (2, 2, 2)), {}),
    (convpool.adaptive_max_pool2d, (X, 2), dict(data_format="NWHC")),
    (convpool.adaptive_max_pool2d, (X.astype(complex), 2), {}),
    (convpool.adaptive_avg_pool2d, (X[0], 2), {}),
    (convpool.conv_transpose2d, (X, K), {}),
    (convpool.conv_transpose2d, (X, K[..., :3]), dict(stride=0)),
    (convpool.conv_transpose2d, (X, K[..., :3]), dict(output_padding=2)),
    (convpool.conv_transpose2d, (X, K[..., :3]), dict(bias=np.zeros(2))),
    (grad.conv2d, (X, K, DY[:1]), {}),
    (grad.conv2d, (X, K, DY[..., :3]), {}),
    (grad.conv2d, (X, K, DY), dict(stride=(1, 2, 3))),
    (grad.conv2d, (X, K, DY), dict(groups=2)),
    (grad.conv2d, (X[0], K, DY), {}),
    (grad.pool2d, (X, DY[..., :3], 2), {}),
    (grad.pool2d, (X, DY[..., :3], 3), dict(mode="median")),
]


@pytest.mark.parametrize("op, args, kwargs", BAD_CALLS)
@pytest.mark.parametrize("lazy_arg", [0, 1])
def test_errors_are_raised_at_call_time_with_numpy_messages(op, args, kwargs,
                                                            lazy_arg):
    if lazy_arg and not op.__module__.endswith("grad"):
        pytest.skip("only the gradients take a second data array")
    with pytest.raises((TypeError, ValueError)) as numpy_error:
        op(*args, **kwargs)
    args = list(args)
    args[lazy_arg] = da.from_array(args[lazy_arg], chunks=2)
    with pytest.raises(numpy_error.type) as dask_error:
        op(*args, **kwargs)
    assert str(dask_error.value) == str(numpy_error.value)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(6)
    x, k = rng.standard_normal((3, 7, 7, 2)), rng.standard_normal((3, 3, 2, 2))
    dy = rng.standard_normal((3, 5, 5, 2))
    copies = [a.copy() for a in (x, k, dy)]
    compute(grad.conv2d(da.from_array(x, chunks=1), k, dy)[1])
    compute(convpool.conv_transpose2d(da.from_array(dy, chunks=2), k))
    for a, b in zip((x, k, dy), copies):
        np.testing.assert_array_equal(a, b)
