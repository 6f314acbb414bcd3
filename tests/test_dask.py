"""Dask arrays through the public ops (convpool.backends.dask).

The reference is the NumPy op on the computed input (itself checked
against the loop reference, PyTorch, TensorFlow and SciPy elsewhere).
Chunks that split only the batch axis must give the NumPy result bitwise;
spatial chunks within float64 1e-12 / float32 1e-5 of ``scale`` (the sum of
|x * w| bounds every output, as in test_conv_reference.py).  Tasks run on
the synchronous scheduler: the values do not depend on the scheduler (the
cluster tests use real worker processes).
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import convpool  # noqa: E402
from convpool import geometry  # noqa: E402
from convpool.backends import dask as backend  # noqa: E402

FEW = settings(max_examples=30, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])
SPATIAL = {1: "W", 2: "HW", 3: "DHW"}
RANKS = [r for r in (1, 2, 3) if hasattr(convpool, f"conv{r}d")]
POOL_RANKS = [r for r in (1, 2, 3) if hasattr(convpool, f"pool{r}d")]
PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def compute(y):
    return y.compute(scheduler="synchronous")


def data_format(rank, channels_last):
    s = SPATIAL[rank]
    return f"N{s}C" if channels_last else f"NC{s}"


def kernel_layout(rank, which):
    s = SPATIAL[rank]
    return (f"{s}IO", f"OI{s}", f"O{s}I")[which]


def kernel_in(k_spatial_io, fmt, rank):
    """Kernels drawn as (*spatial, I, O) moved into ``fmt``."""
    letters = SPATIAL[rank] + "IO"
    return np.transpose(k_spatial_io, [letters.index(c) for c in fmt])


def batch_in(x_channels_last, fmt):
    if fmt.endswith("C"):
        return x_channels_last
    return np.moveaxis(x_channels_last, -1, 1)


def assert_close(actual, expected, scale, dtype):
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(actual), np.isinf(expected))
    finite = np.isfinite(expected)
    tol = (1e-5 if np.dtype(dtype) == np.float32 else 1e-12) * scale
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=0,
                               atol=tol)


def numpy_or_reject(op, *args, **kwargs):
    """The NumPy result, or a rejected example if the op refuses the
    arguments (its rules are tested elsewhere)."""
    try:
        return op(*args, **kwargs)
    except ValueError:
        reject()


# ------------------------------------------------------------ strategies

@st.composite
def paddings(draw, rank):
    return draw(st.one_of(
        st.sampled_from(["valid", "same", "same_lower", "full"]),
        st.integers(0, 3),
        st.tuples(*[st.integers(0, 3)] * rank),
        st.tuples(*[st.tuples(st.integers(0, 4), st.integers(0, 4))] * rank)))


@st.composite
def window_geometry(draw, rank, most_spatial, most_window, most_stride):
    """``(spatial, window, stride, dilation, padding)`` per axis, every
    dilated window fitting its padded axis (shared by the Dask tests)."""
    spatial = draw(st.tuples(*[st.integers(1, most_spatial)] * rank))
    window = draw(st.tuples(*[st.integers(1, most_window)] * rank))
    stride = draw(st.tuples(*[st.integers(1, most_stride)] * rank))
    dilation = draw(st.tuples(*[st.integers(1, 2)] * rank))
    padding = draw(paddings(rank))
    pads = geometry.resolve_padding(padding, spatial, window, stride,
                                    dilation)
    assume(all(geometry.dilated_size(k, d) <= s + lo + hi for k, d, s, (lo, hi)
               in zip(window, dilation, spatial, pads)))
    return spatial, window, stride, dilation, padding


@st.composite
def conv_cases(draw, rank):
    n = draw(st.integers(1, 3))
    spatial, window, stride, dilation, padding = draw(
        window_geometry(rank, 11, 4, 3))
    groups = draw(st.sampled_from([1, 2]))
    c, f = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    chunks = (draw(st.integers(1, n)),) + tuple(
        draw(st.integers(1, s)) for s in spatial) + (draw(st.integers(1, c)),)
    return dict(n=n, spatial=spatial, window=window, stride=stride,
                dilation=dilation, padding=padding, groups=groups, c=c, f=f,
                chunks=chunks,
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                channels_last=draw(st.booleans()),
                kernel_format=draw(st.integers(0, 2)),
                bias=draw(st.booleans()),
                engine=draw(st.sampled_from(["auto", "taps", "im2col"])),
                padding_mode=draw(st.sampled_from(
                    ["zeros", "zeros", "reflect", "replicate", "circular"])),
                seed=draw(st.integers(0, 2**16)))


def conv_problem(case, rank):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"],) + case["spatial"] + (case["c"],))
    k = rng.standard_normal(case["window"] + (case["c"] // case["groups"],
                                              case["f"]))
    fmt = data_format(rank, case["channels_last"])
    kfmt = kernel_layout(rank, case["kernel_format"])
    x = batch_in(x.astype(case["dtype"]), fmt)
    chunks = case["chunks"]
    if not case["channels_last"]:
        chunks = (chunks[0], chunks[-1]) + chunks[1:-1]
    kwargs = dict(stride=case["stride"], dilation=case["dilation"],
                  padding=case["padding"], groups=case["groups"],
                  data_format=fmt, kernel_format=kfmt, engine=case["engine"],
                  padding_mode=case["padding_mode"])
    if case["bias"]:
        kwargs["bias"] = rng.standard_normal(case["f"]).astype(case["dtype"])
    kernels = kernel_in(k.astype(case["dtype"]), kfmt, rank)
    scale = float(np.prod(case["window"]) * case["c"] * np.abs(x).max()
                  * np.abs(k).max() + 3.0)
    return x, kernels, kwargs, chunks, scale


# ----------------------------------------------------------------- values

@pytest.mark.parametrize("rank", RANKS)
@FEW
@given(data=st.data())
def test_conv_spatial_chunks_match_numpy(rank, data):
    case = data.draw(conv_cases(rank))
    x, kernels, kwargs, chunks, scale = conv_problem(case, rank)
    op = getattr(convpool, f"conv{rank}d")
    expected = numpy_or_reject(op, x, kernels, **kwargs)
    lazy = op(da.from_array(x, chunks=chunks), kernels, **kwargs)
    assert lazy.shape == expected.shape
    assert_close(compute(lazy), expected, scale, case["dtype"])


@pytest.mark.parametrize("rank", RANKS)
@FEW
@given(data=st.data())
def test_conv_batch_chunks_are_bitwise(rank, data):
    """Batch chunks reach the op untouched, and the op's bits depend
    neither on how the batch is cut nor on the thread count: bitwise the
    NumPy op on each chunk and on the whole batch (every engine:
    test_dask_bitwise.py)."""
    case = data.draw(conv_cases(rank))
    x, kernels, kwargs, _, scale = conv_problem(case, rank)
    op = getattr(convpool, f"conv{rank}d")
    whole = numpy_or_reject(op, x, kernels, **kwargs)
    step = case["chunks"][0]
    batch_only = (step,) + (-1,) * (rank + 1)
    result = compute(op(da.from_array(x, chunks=batch_only), kernels,
                        **kwargs))
    per_chunk = np.concatenate([op(x[i:i + step], kernels, threads=1,
                                   **kwargs)
                                for i in range(0, len(x), step)])
    np.testing.assert_array_equal(result, per_chunk)
    np.testing.assert_array_equal(result, whole)


@st.composite
def pool_cases(draw, rank):
    n = draw(st.integers(1, 3))
    spatial = draw(st.tuples(*[st.integers(1, 11)] * rank))
    window = draw(st.tuples(*[st.integers(1, 4)] * rank))
    stride = draw(st.one_of(st.none(),
                            st.tuples(*[st.integers(1, 3)] * rank)))
    dilation = draw(st.tuples(*[st.integers(1, 2)] * rank))
    padding = draw(paddings(rank))
    c = draw(st.integers(1, 3))
    chunks = (draw(st.integers(1, n)),) + tuple(
        draw(st.integers(1, s)) for s in spatial) + (draw(st.integers(1, c)),)
    return dict(n=n, spatial=spatial, window=window, stride=stride,
                dilation=dilation, padding=padding, c=c, chunks=chunks,
                mode=draw(st.sampled_from(["max", "avg"])),
                ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64,
                                            np.int16])),
                channels_last=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def pool_problem(case, rank):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"],) + case["spatial"] + (case["c"],))
    x = (x * 100).astype(case["dtype"])
    fmt = data_format(rank, case["channels_last"])
    chunks = case["chunks"]
    if not case["channels_last"]:
        chunks = (chunks[0], chunks[-1]) + chunks[1:-1]
    kwargs = dict(stride=case["stride"], padding=case["padding"],
                  dilation=case["dilation"], mode=case["mode"],
                  ceil_mode=case["ceil_mode"],
                  count_include_pad=case["count_include_pad"],
                  data_format=fmt)
    return batch_in(x, fmt), kwargs, chunks


@pytest.mark.parametrize("rank", POOL_RANKS)
@FEW
@given(data=st.data())
def test_pool_spatial_chunks_match_numpy(rank, data):
    case = data.draw(pool_cases(rank))
    x, kwargs, chunks = pool_problem(case, rank)
    op = getattr(convpool, f"pool{rank}d")
    expected = numpy_or_reject(op, x, case["window"], **kwargs)
    lazy = op(da.from_array(x, chunks=chunks), case["window"], **kwargs)
    assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
    scale = float(np.abs(x).max()) + 1.0
    assert_close(compute(lazy), expected, scale, expected.dtype)


@pytest.mark.parametrize("rank", POOL_RANKS)
@FEW
@given(data=st.data())
def test_pool_batch_chunks_are_bitwise(rank, data):
    case = data.draw(pool_cases(rank))
    x, kwargs, chunks = pool_problem(case, rank)
    op = getattr(convpool, f"pool{rank}d")
    channel = chunks[-1] if case["channels_last"] else chunks[1]
    batch_only = [chunks[0]] + [-1] * (rank + 1)
    batch_only[-1 if case["channels_last"] else 1] = channel
    expected = numpy_or_reject(op, x, case["window"], **kwargs)
    lazy = op(da.from_array(x, chunks=tuple(batch_only)), case["window"],
              **kwargs)
    np.testing.assert_array_equal(compute(lazy), expected)


@FEW
@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 5),
       kw=st.integers(1, 5), stride=st.tuples(st.integers(1, 3),
                                              st.integers(1, 3)),
       padding=paddings(2), mode=st.sampled_from(PAD_MODES),
       channels=st.sampled_from([None, 1, 3]), data=st.data())
def test_filter2d_every_pad_mode_across_chunks(h, w, kh, kw, stride,
                                               padding, mode, channels,
                                               data):
    pads = geometry.resolve_padding(padding, (h, w), (kh, kw), stride)
    assume(kh <= h + sum(pads[0]) and kw <= w + sum(pads[1]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape = (h, w) if channels is None else (h, w, channels)
    image = rng.standard_normal(shape)
    kernel = rng.standard_normal((kh, kw))
    chunks = tuple(data.draw(st.integers(1, s)) for s in shape)
    kwargs = dict(padding=padding, stride=stride, pad_mode=mode)
    expected = convpool.filter2d(image, kernel, **kwargs)
    lazy = convpool.filter2d(da.from_array(image, chunks=chunks), kernel,
                             **kwargs)
    scale = float(kh * kw * np.abs(image).max() * np.abs(kernel).max())
    assert_close(compute(lazy), expected, scale, np.float64)


@pytest.mark.parametrize("kind", ["gaussian", "random", "wide"])
@pytest.mark.parametrize("mode", ["constant", "wrap", "reflect"])
def test_filter2d_blocks_take_the_planned_paths(kind, mode):
    """Each block goes through filter2d's planner, as a picture in memory:
    a separable Gaussian, a mid-size random kernel (tiled) and a wide one
    (FFT tiles) across uneven chunks agree with the NumPy call."""
    rng = np.random.default_rng(11)
    image = rng.random((150, 170, 3), dtype=np.float32)
    if kind == "gaussian":
        g = np.exp(-0.5 * (np.arange(-7, 8) / 3.0) ** 2)
        kernel = np.outer(g, g).astype(np.float32)
    else:
        size = 5 if kind == "random" else 41
        kernel = rng.standard_normal((size, size)).astype(np.float32)
    expected = convpool.filter2d(image, kernel, pad_mode=mode)
    lazy = convpool.filter2d(da.from_array(image, chunks=(64, 57, 3)),
                             kernel, pad_mode=mode)
    scale = float(kernel.size * np.abs(image).max()
                  * np.abs(kernel).max())
    assert_close(compute(lazy), expected, scale, np.float32)


def test_nan_and_inf_positions_are_kept():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 16, 16, 2))
    x[0, 3, 4, 0], x[1, 8, 7, 1], x[0, 12, 2, 1] = np.nan, np.inf, -np.inf
    k = rng.standard_normal((3, 3, 2, 2))
    xd = da.from_array(x, chunks=(1, 5, 6, 1))
    for lazy, expected in [
            (convpool.conv2d(xd, k, padding="same"),
             convpool.conv2d(x, k, padding="same")),
            (convpool.pool2d(xd, 3, stride=2, padding=1),
             convpool.pool2d(x, 3, stride=2, padding=1)),
            (convpool.pool2d(xd, 2, mode="avg", stride=1),
             convpool.pool2d(x, 2, mode="avg", stride=1))]:
        assert np.isnan(expected).any()
        assert_close(compute(lazy), expected, 100.0, np.float64)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float16,
                                   np.complex128, np.bool_])
def test_other_dtypes(dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((2, 9, 9, 1)) * 4).astype(dtype)
    k = np.ones((2, 2, 1, 1))
    xd = da.from_array(x, chunks=(1, 4, 4, 1))
    expected = convpool.conv2d(x, k, stride=2)
    result = compute(convpool.conv2d(xd, k, stride=2))
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-3)
    if dtype is not np.complex128:
        np.testing.assert_array_equal(compute(convpool.pool2d(xd, 2)),
                                      convpool.pool2d(x, 2))


# ---------------------------------------------------------------- chunking

def test_output_chunks_follow_the_input():
    x = da.zeros((4, 32, 32, 3), chunks=(2, 8, 16, 3))
    assert convpool.conv2d(x, np.ones((3, 3, 3, 5)), padding="same").chunks \
        == ((2, 2), (8, 8, 8, 8), (16, 16), (5,))
    assert convpool.pool2d(x, 2).chunks == ((2, 2), (4,) * 4, (8, 8), (3,))
    # 5-wide chunks are no stride-2 step: boundaries move to the next step
    y = convpool.pool2d(da.zeros((1, 20, 20, 1), chunks=(1, 5, 5, 1)), 2)
    assert y.chunks[1] == (3, 2, 3, 2)


def test_user_chunks_and_split_channels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 12, 10, 4))
    k = rng.standard_normal((3, 3, 4, 6))
    xd = da.from_array(x, chunks=(1, 5, 5, 1))       # channels split
    expected = convpool.conv2d(x, k, padding="same")
    y = backend.conv(xd, k, padding="same", chunks=(3, 4, (7, 3), -1))
    assert y.chunks == ((3,), (4, 4, 4), (7, 3), (6,))
    np.testing.assert_allclose(compute(y), expected, atol=1e-12)
    y = backend.conv(xd, k, padding="same", chunks={1: 6})
    assert y.chunks[1] == (6, 6)
    np.testing.assert_allclose(compute(y), expected, atol=1e-12)
    with pytest.raises(ValueError, match="`chunks` must keep the filter"):
        backend.conv(xd, k, chunks=(1, 4, 4, 3))


def test_chunks_reading_only_padding_are_merged_then_rechunked():
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    k = np.ones((2, 2, 1, 1))
    expected = convpool.conv2d(x, k, padding=4)
    y = backend.conv(da.from_array(x, chunks=2), k, padding=4,
                     chunks=(1, 1, 1, 1))
    assert y.chunks[1] == (1,) * expected.shape[1]
    np.testing.assert_array_equal(compute(y), expected)


def test_pool_and_filter_entry_points():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 9, 2))
    y = backend.pool(da.from_array(x, chunks=(1, 4, 4, 1)), 3, stride=2,
                     mode="avg", chunks=(2, 2, 2, 2))
    assert y.chunks[1] == (2, 2)
    np.testing.assert_allclose(compute(y), convpool.pool2d(x, 3, stride=2,
                                                           mode="avg"))
    img = rng.standard_normal((9, 9))
    y = backend.filter2d(da.from_array(img, chunks=4), np.ones((3, 3)),
                         pad_mode="reflect", chunks=3)
    assert y.chunks == ((3, 3, 3), (3, 3, 3))
    np.testing.assert_allclose(
        compute(y), convpool.filter2d(img, np.ones((3, 3)),
                                      pad_mode="reflect"))


def test_dask_kernels_and_bias_are_computed_once_first():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 6, 2))
    k, b = rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
    y = convpool.conv2d(da.from_array(x, chunks=(1, 3, 3, 2)),
                        da.from_array(k), bias=da.from_array(b))
    np.testing.assert_allclose(compute(y), convpool.conv2d(x, k, bias=b),
                               atol=1e-12)


# ---------------------------------------------------------------- laziness

def _exploding(block):
    raise RuntimeError("a chunk was computed")


def test_nothing_is_computed_before_compute():
    x = da.zeros((2, 16, 16, 2), chunks=(1, 5, 5, 1)).map_blocks(
        _exploding, dtype=float)
    k = np.ones((3, 3, 2, 4))
    results = [convpool.conv2d(x, k, padding="same", stride=2),
               convpool.conv2d(x, k, padding=2, padding_mode="circular"),
               convpool.pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
               convpool.filter2d(x[0], np.ones((3, 3)), pad_mode="wrap")]
    for y in results:
        assert isinstance(y, da.Array)
        with pytest.raises(RuntimeError, match="a chunk was computed"):
            compute(y)


def test_each_input_chunk_is_computed_once():
    calls = []

    def load(block, block_info=None):
        calls.append(block_info[None]["chunk-location"])
        return block

    x = da.ones((2, 12, 12, 1), chunks=(1, 4, 4, 1)).map_blocks(
        load, dtype=float)
    y = convpool.conv2d(x, np.ones((3, 3, 1, 1)), padding="same")
    assert calls == []
    np.testing.assert_array_equal(
        compute(y), convpool.conv2d(np.ones((2, 12, 12, 1)),
                                    np.ones((3, 3, 1, 1)), padding="same"))
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 18


def test_tasks_run_one_thread_unless_asked(monkeypatch):
    import convpool.conv as conv_module
    seen = []
    real = conv_module.resolve_threads
    monkeypatch.setattr(conv_module, "resolve_threads",
                        lambda t: seen.append(t) or real(t))
    x = da.ones((4, 6, 6, 1), chunks=(1, 6, 6, 1))
    compute(convpool.conv2d(x, np.ones((2, 2, 1, 1))))
    assert seen[-4:] == [1] * 4
    compute(convpool.conv2d(x, np.ones((2, 2, 1, 1)), threads=2))
    assert seen[-4:] == [2] * 4


def test_core_does_not_import_dask():
    code = ("import sys, numpy as np, convpool; "
            "convpool.conv2d(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1))); "
            "convpool.pool2d(np.ones((1, 3, 3, 1)), 2); "
            "convpool.filter2d(np.ones((3, 3)), np.ones((2, 2))); "
            "assert 'dask' not in sys.modules, 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ errors

X = np.zeros((2, 8, 8, 3))
K = np.zeros((3, 3, 3, 4))
BAD_CALLS = [
    ("conv2d", (X, K), dict(stride=(0, 2))),
    ("conv2d", (X, K), dict(stride=(1, 2, 3))),
    ("conv2d", (X, K), dict(padding="middle")),
    ("conv2d", (X, K), dict(padding=1.5)),
    ("conv2d", (X, K), dict(data_format="NWHC")),
    ("conv2d", (X, K), dict(groups=2)),
    ("conv2d", (X, np.zeros((9, 9, 3, 4))), {}),
    ("conv2d", (X, K), dict(bias=np.zeros(3))),
    ("conv2d", (X, K), dict(threads=0)),
    ("conv2d", (X[0], K), {}),
    ("conv2d", (X.astype(str), K), {}),
    ("pool2d", (X, 3), dict(padding=3)),
    ("pool2d", (X, 3), dict(mode="median")),
    ("pool2d", (X, 3), dict(ceil_mode=1)),
    ("pool2d", (X, 0), {}),
    ("pool2d", (X.astype(complex), 2), {}),
    ("pool2d", (X[None], 2), {}),
    ("max_pool2d", (X, 2), dict(mode="avg")),
    ("filter2d", (X[0, :, :, 0], np.ones((3, 3))), dict(pad_mode="bogus")),
    ("filter2d", (X, np.ones((3, 3))), {}),
    ("filter2d", (X[0], np.ones((3, 3, 1))), {}),
    ("filter2d", (X[0], np.ones((9, 9))), dict(padding="valid")),
    ("conv2d", (X, K), dict(padding=8, padding_mode="reflect")),
    ("conv2d", (X, K), dict(padding_mode="bogus")),
    ("conv1d", (X[:, 0], K[0]), dict(dilation=(1, 2))),
    ("conv1d", (X, K[0]), {}),
    ("conv3d", (X[:, None], K[None]), dict(kernel_format="HWIO")),
    ("pool3d", (X[:, None], (1, 2)), {}),
    ("pool1d", (X[:, 0], 3), dict(padding=3)),
]
BAD_CALLS = [c for c in BAD_CALLS if hasattr(convpool, c[0])]


@pytest.mark.parametrize("name, args, kwargs", BAD_CALLS)
def test_errors_are_raised_at_call_time_with_numpy_messages(name, args,
                                                            kwargs):
    op = getattr(convpool, name)
    with pytest.raises((TypeError, ValueError)) as numpy_error:
        op(*args, **kwargs)
    lazy_x = da.from_array(args[0], chunks=2)
    with pytest.raises(numpy_error.type) as dask_error:
        op(lazy_x, *args[1:], **kwargs)
    assert str(dask_error.value) == str(numpy_error.value)


def test_out_is_refused_for_dask_input():
    with pytest.raises(TypeError, match="`out` must be None when `x` is a"):
        convpool.conv2d(da.from_array(X), K, out=np.empty((2, 6, 6, 4)))


def test_unknown_chunk_sizes_are_refused():
    x = da.from_array(X, chunks=2)
    x = x[x[:, 0, 0, 0] >= 0]
    with pytest.raises(ValueError, match="`x` must have known chunk sizes"):
        convpool.conv2d(x, K)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(6)
    x, k = rng.standard_normal((2, 9, 9, 3)), rng.standard_normal((3, 3, 3, 2))
    x0, k0 = x.copy(), k.copy()
    xd = da.from_array(x, chunks=(1, 4, 4, 2))
    compute(convpool.conv2d(xd, k, padding="same"))
    compute(convpool.pool2d(xd, 3, padding=1, mode="avg"))
    compute(convpool.filter2d(xd[0], k[:, :, 0, 0], pad_mode="wrap"))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(k, k0)


# ------------------------------------------------------------------- zarr

def test_zarr_store_to_store(tmp_path):
    pytest.importorskip("zarr")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 28, 28, 1)).astype(np.float32)
    da.from_array(x, chunks=(2, 28, 28, 1)).to_zarr(str(tmp_path / "in.zarr"))
    source = da.from_zarr(str(tmp_path / "in.zarr"))
    k = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    y = convpool.conv2d(source, k, padding="same")
    y.to_zarr(str(tmp_path / "out.zarr"), compute=True)
    result = np.asarray(da.from_zarr(str(tmp_path / "out.zarr")))
    np.testing.assert_array_equal(result, convpool.conv2d(x, k,
                                                          padding="same"))
