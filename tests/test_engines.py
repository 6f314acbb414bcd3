"""Every engine and fast path of ``convpool.engines`` on the same inputs,
against a simple reference: ``np.einsum`` over ``sliding_window_view`` of
the zero-padded input (convolution) and a max / sum over the windows of the
-inf / 0 padded input (pooling).

Each test pins one engine path through ``engine=`` so that every path
runs on randomised shapes, including tiny block budgets that force many
blocks (bands of one image too) and several threads.  Nothing here times
anything: that is benchmarks/.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import convpool
from convpool.engines import _blas, _parallel, banded, pool
from convpool.engines import axpy as axpy_module
from convpool.engines import conv as conv_engines
from convpool.engines._frames import FrameGeometry
from convpool.engines.base import ConvProblem
from convpool.engines.plan import (ENGINES, MAX_GRAY_TAPS, PATHS, plan_conv,
                                   refusal)
from convpool.geometry import pool_output_size, window_counts

SETTINGS = settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.function_scoped_fixture])


# ----------------------------------------------------------- references

def ref_conv(x, w, stride, dilation, pads, groups, bias=None):
    """NHWC x, HWIO w, explicit pads; float64 einsum over windows."""
    (t, b), (l_, r) = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, b), (l_, r), (0, 0)))
    kh, kw, cg, f = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    ext = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    win = sliding_window_view(xp, ext, axis=(1, 2))[
        :, ::sh, ::sw, :, ::dh, ::dw]            # (n, oh, ow, c, kh, kw)
    m = f // groups
    parts = [np.einsum("nhwcij,ijcf->nhwf",
                       win[:, :, :, g * cg:(g + 1) * cg],
                       w[:, :, :, g * m:(g + 1) * m].astype(np.float64))
             for g in range(groups)]
    out = np.concatenate(parts, axis=3)
    return out if bias is None else out + bias


def ref_pool(x, window, stride, pads, mode, include_pad=False):
    """Max (padding = -inf) or average (divisor: real cells, or cells
    inside the padding) over sliding windows; float64 for averages."""
    (t, b), (l_, r) = pads
    n, h, w, c = x.shape
    oh = pool_output_size(h, window[0], stride[0], t, b)
    ow = pool_output_size(w, window[1], stride[1], l_, r)
    if mode == "max":
        xp = np.pad(x.astype(np.float64), ((0, 0), (t, b), (l_, r), (0, 0)),
                    constant_values=-np.inf)
        win = sliding_window_view(xp, window, axis=(1, 2))
        return win[:, ::stride[0], ::stride[1]][:, :oh, :ow].max((4, 5))
    pad = ((0, 0), (t, b), (l_, r), (0, 0))
    xp = np.pad(x.astype(np.float64), pad)
    ones = np.pad(np.ones_like(x, np.float64), pad,
                  constant_values=1.0 if include_pad else 0.0)
    sums, counts = (sliding_window_view(a, window, axis=(1, 2))[
        :, ::stride[0], ::stride[1]][:, :oh, :ow].sum((4, 5))
        for a in (xp, ones))
    return sums / counts


def assert_close(got, want, x, w, dtype):
    scale = np.abs(x).max(initial=0) * np.abs(w).sum(initial=0) + 1
    tol = (1e-12 if dtype == np.float64 else 1e-5) * scale
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


# ------------------------------------------------------------ strategies

@st.composite
def conv_cases(draw, depthwise=None, max_c=3):
    groups = draw(st.integers(1, 3))
    if depthwise is None:
        depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, max_c))
    m = 1 if depthwise else draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3)))
                 for _ in range(2))
    ext = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    h = draw(st.integers(max(1, ext[0] - sum(pads[0])), ext[0] + 8))
    w = draw(st.integers(max(1, ext[1] - sum(pads[1])), ext[1] + 8))
    return dict(n=draw(st.integers(1, 5)), h=h, w=w, c=groups * cg,
                f=groups * m, kh=kh, kw=kw, groups=groups, stride=stride,
                dilation=dilation, pads=pads,
                dtype=draw(st.sampled_from([np.float64, np.float32])),
                weights=draw(st.sampled_from(["random", "scalar", "ones",
                                              "zeros_some"])),
                threads=draw(st.integers(1, 3)),
                nchw=draw(st.booleans()), bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2 ** 31)))


def make_conv(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["c"]))
    shape = (case["kh"], case["kw"], case["c"] // case["groups"], case["f"])
    w = rng.standard_normal(shape)
    if case["weights"] == "scalar":      # one weight per tap for all groups
        w = np.broadcast_to(w[:, :, :1, :1], shape).copy()
    elif case["weights"] == "ones":      # the +-1 fast paths
        w = np.sign(w)
    elif case["weights"] == "zeros_some":
        w[rng.random(shape) < 0.5] = 0.0
    dt = case["dtype"]
    bias = rng.standard_normal(case["f"]).astype(dt) if case["bias"] else None
    return x.astype(dt), w.astype(dt), bias


def run_conv(case, x, w, bias, engine):
    xin = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if case["nchw"] else x
    got = convpool.conv2d(xin, w, stride=case["stride"],
                          padding=case["pads"], dilation=case["dilation"],
                          groups=case["groups"], bias=bias, engine=engine,
                          threads=case["threads"],
                          data_format="NCHW" if case["nchw"] else "NHWC")
    return got.transpose(0, 2, 3, 1) if case["nchw"] else got


def check_conv(case, engine):
    x, w, bias = make_conv(case)
    want = ref_conv(x, w, case["stride"], case["dilation"], case["pads"],
                    case["groups"], bias)
    got = run_conv(case, x, w, bias, engine)
    assert got.dtype == case["dtype"]
    assert_close(got, want, x, w, case["dtype"])


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Block budgets of a few hundred bytes: one image, or a band of one
    or two output rows, per block, so chunk and band edges are exercised."""
    monkeypatch.setattr(conv_engines, "block_budget",
                        lambda budget, threads, grow=2: 256)
    monkeypatch.setattr(pool, "_BUDGET", 256)
    monkeypatch.setattr(pool, "block_budget",
                        lambda budget, threads, grow=2: budget)


# ------------------------------------------------------- convolution paths

@SETTINGS
@given(case=conv_cases())
def test_taps_engine(case):
    check_conv(case, "taps")


@SETTINGS
@given(case=conv_cases())
def test_taps_engine_tiny_blocks(case, tiny_blocks):
    check_conv(case, "taps")


def axpy_case(case):
    """One weight per tap for every group, or one group."""
    if case["weights"] != "scalar":
        case = dict(case, groups=1, c=1, f=1)
    return case


@SETTINGS
@given(case=conv_cases(depthwise=True))
def test_axpy_engine(case):
    """One channel and one filter per group, one weight per tap for every
    group (grayscale, filter2d's planes); zero taps included."""
    check_conv(axpy_case(case), "axpy")


@SETTINGS
@given(case=conv_cases(depthwise=True))
def test_axpy_engine_tiny_blocks(case, tiny_blocks):
    check_conv(axpy_case(case), "axpy")


@SETTINGS
@given(case=conv_cases(depthwise=True))
def test_depthwise_engine(case, tiny_blocks):
    check_conv(dict(case, weights="random"), "depthwise")


def one_group(case):
    return dict(case, groups=1, c=case["c"] // case["groups"],
                f=case["f"] // case["groups"])


@pytest.mark.parametrize("path", ["banded", "planar", "im2col"])
@SETTINGS
@given(case=conv_cases(max_c=20))
def test_blas_paths(case, path):
    check_conv(one_group(case) if path == "banded" else case, path)


@pytest.mark.parametrize("path", ["banded", "planar", "im2col"])
@SETTINGS
@given(case=conv_cases(max_c=20))
def test_blas_paths_tiny_blocks(case, path, tiny_blocks):
    check_conv(one_group(case) if path == "banded" else case, path)


@pytest.mark.parametrize("columns", [1, 4, 64])
@SETTINGS
@given(case=conv_cases(depthwise=False, max_c=4))
def test_banded_tile_widths(case, columns, monkeypatch):
    """Bands one output wide (T = 1) to whole rows; the last tile may run
    into zero columns past the row."""
    monkeypatch.setattr(banded, "_TILE_COLUMNS", columns)
    check_conv(one_group(case), "banded")


@SETTINGS
@given(case=conv_cases(depthwise=False, max_c=1),
       filters=st.integers(1, 8), threads=st.integers(1, 2),
       tiny=st.booleans())
def test_banded_folds_kernel_rows_of_one_channel(case, filters, threads,
                                                 tiny, monkeypatch):
    """One input channel and several filters: the kernel rows are folded
    into one product (LeNet-5's first layer); the result is the
    reference's, and its bits do not depend on the threads or on how the
    batch is cut (blocks of one image or of a band of rows with ``tiny``,
    on two workers however small the input)."""
    monkeypatch.setattr(conv_engines, "worth_threads",
                        lambda total, threads: threads)
    if tiny:
        monkeypatch.setattr(conv_engines, "block_budget",
                            lambda budget, threads, grow=2: 256)
    case = dict(one_group(case), c=1, f=filters)
    x, w, bias = make_conv(case)
    kw = dict(stride=case["stride"], dilation=case["dilation"],
              padding=case["pads"], bias=bias, engine="banded")
    run = banded.Banded(w, case["stride"], case["dilation"], 1, bias)
    assert run.fold == (1 < case["kh"] < filters)
    wide = banded.Banded(np.ones(w.shape[:2] + (2, 8)), case["stride"],
                         case["dilation"], 1, None)
    assert not wide.fold
    got = convpool.conv2d(x, w, threads=threads, **kw)
    assert_close(got, ref_conv(x, w, case["stride"], case["dilation"],
                               case["pads"], 1, bias), x, w, case["dtype"])
    parts = [convpool.conv2d(x[i:i + 1], w, threads=1, **kw)
             for i in range(len(x))]
    np.testing.assert_array_equal(np.concatenate(parts), got)


def runnable(case, path, finite=True):
    x, w, _ = make_conv(case)
    ow = convpool.conv2d(x[:1], w, stride=case["stride"],
                         padding=case["pads"], dilation=case["dilation"],
                         groups=case["groups"]).shape[2]
    problem = ConvProblem.of(w, case["stride"], case["dilation"],
                             case["groups"], ow)
    return refusal(path, problem, finite) is None


@pytest.mark.parametrize("path", ("auto",) + PATHS)
@SETTINGS
@given(case=conv_cases(max_c=4), bad=st.sampled_from([np.inf, -np.inf,
                                                      np.nan]))
def test_non_finite_inputs_follow_ieee(case, path, bad):
    """inf / NaN meet every weight of their windows, zeros included (0 *
    inf = NaN, as in PyTorch) and nothing else: the banded engine's
    structural zeros must not touch them (the planner keeps such inputs
    off it), nor may axpy skip a zero weight."""
    if path != "auto" and not runnable(case, path, finite=False):
        return
    x, w, bias = make_conv(case)
    x.reshape(-1)[::7] = bad
    want = ref_conv(x, w, case["stride"], case["dilation"], case["pads"],
                    case["groups"], bias)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run_conv(case, x, w, bias, path)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert_close(got[finite], want[finite], np.nan_to_num(x, posinf=0,
                                                          neginf=0), w,
                 case["dtype"])


def test_banded_refuses_non_finite_input_with_structural_zeros():
    x = np.ones((1, 6, 8, 3))
    x[0, 2, 3, 1] = np.inf
    w = np.ones((3, 3, 3, 2))
    with pytest.raises(ValueError, match="`engine` 'banded' cannot run.*inf"):
        convpool.conv2d(x, w, engine="banded")
    problem = ConvProblem.of(w, (1, 1), (1, 1), 1, 6)
    assert plan_conv(problem, True)[0] == "banded"
    path, reason = plan_conv(problem, lambda: False)
    assert path == "planar" and "inf or NaN" in reason
    got = convpool.conv2d(x, w)
    assert np.isinf(got).sum() == 2 * 9 and not np.isnan(got).any()


@pytest.mark.parametrize("path, why", [
    ("axpy", "one input channel and one filter per group"),
    ("depthwise", "one input channel and one filter per group"),
    ("banded", "one group, got 2")])
def test_engine_that_cannot_run_says_why(path, why):
    x = np.ones((1, 5, 5, 4))
    w = np.ones((3, 3, 2, 4))
    with pytest.raises(ValueError, match=f"`engine` '{path}'.*{why}"):
        convpool.conv2d(x, w, groups=2, engine=path)


@SETTINGS
@given(case=conv_cases())
def test_auto_engine(case):
    check_conv(case, "auto")


@pytest.mark.parametrize("engine", ["taps", "banded", "im2col", "planar"])
def test_engines_agree_on_one_input(engine):
    """The same numbers from every engine on one mid-sized problem."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 17, 13, 4))
    w = rng.standard_normal((3, 2, 4, 5))
    want = convpool.conv2d(x, w, padding="same", stride=(2, 1),
                           engine="auto")
    got = convpool.conv2d(x, w, padding="same", stride=(2, 1), engine=engine,
                          threads=3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_float16_output_is_cast_per_block():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 9, 9, 4)).astype(np.float16)
    for w in (rng.standard_normal((3, 3, 1, 4)).astype(np.float16),
              rng.standard_normal((3, 3, 4, 2)).astype(np.float16)):
        groups = 4 if w.shape[2] == 1 else 1
        got = convpool.conv2d(x, w, groups=groups, padding="same")
        want = ref_conv(x, w, (1, 1), (1, 1), ((1, 1), (1, 1)), groups)
        assert got.dtype == np.float16
        np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2)


def test_filter2d_huge_picture_is_banded(monkeypatch):
    """A picture bigger than a block is cut into bands of rows."""
    calls = []
    real = _parallel.row_blocks

    def spy(*args):
        blocks = real(*args)
        calls.append(blocks)
        return blocks
    monkeypatch.setattr(conv_engines, "row_blocks", spy)
    monkeypatch.setattr(axpy_module, "BUDGET", 4096)
    rng = np.random.default_rng(3)
    image = rng.random((128, 40, 3))
    kernel = rng.random((5, 5))
    # filter2d plans its own paths; the per-channel batch goes to the
    # direct engines, which band it.
    got = convpool.conv2d(image.transpose(2, 0, 1)[..., None],
                          kernel[:, :, None, None], padding="same",
                          engine="axpy")[..., 0].transpose(1, 2, 0)
    want = ref_conv(image.transpose(2, 0, 1)[..., None],
                    kernel[:, :, None, None], (1, 1), (1, 1),
                    ((2, 2), (2, 2)), 1)[..., 0].transpose(1, 2, 0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert any(r1 - r0 < 128 for n0, n1, r0, r1 in calls[0])


# ------------------------------------------------------------- pooling

@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = ((draw(st.integers(0, kh // 2)), draw(st.integers(0, kh // 2))),
            (draw(st.integers(0, kw // 2)), draw(st.integers(0, kw // 2))))
    h = draw(st.integers(max(1, kh - sum(pads[0])), kh + 9))
    w = draw(st.integers(max(1, kw - sum(pads[1])), kw + 9))
    return dict(n=draw(st.integers(1, 5)), h=h, w=w,
                c=draw(st.sampled_from([1, 3, 20])), window=(kh, kw),
                stride=stride, pads=pads,
                mode=draw(st.sampled_from(["max", "avg"])),
                include_pad=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float64, np.float32])),
                threads=draw(st.integers(1, 3)),
                seed=draw(st.integers(0, 2 ** 31)))


def check_pool(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["c"]))
    x = x.astype(case["dtype"])
    got = convpool.pool2d(x, case["window"], stride=case["stride"],
                          padding=case["pads"], mode=case["mode"],
                          count_include_pad=case["include_pad"],
                          threads=case["threads"])
    want = ref_pool(x, case["window"], case["stride"], case["pads"],
                    case["mode"], case["include_pad"])
    if case["mode"] == "max":
        np.testing.assert_array_equal(got, want.astype(x.dtype))
    else:
        tol = 1e-12 if case["dtype"] == np.float64 else 1e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@SETTINGS
@given(case=pool_cases())
def test_pool_separable(case):
    check_pool(case)


@SETTINGS
@given(case=pool_cases())
def test_pool_tiny_blocks(case, tiny_blocks):
    check_pool(case)


@SETTINGS
@given(case=pool_cases())
def test_pool_channel_major_and_channel_minor_columns(case, monkeypatch):
    """Column passes iterate along rows (few channels) or along channels:
    force each order for every channel count."""
    monkeypatch.setattr(pool, "_SHORT_PIXEL", 0)
    check_pool(case)
    monkeypatch.setattr(pool, "_SHORT_PIXEL", 1 << 30)
    check_pool(case)


@SETTINGS
@given(case=pool_cases())
def test_pool_same_bits_on_any_blocks(case, monkeypatch):
    """Sums take their taps in one order whatever the blocks: one thread,
    several, or bands of one row give identical bits."""
    x = np.random.default_rng(case["seed"]).standard_normal(
        (case["n"], case["h"], case["w"], case["c"]))
    kw = dict(stride=case["stride"], padding=case["pads"], mode="avg",
              count_include_pad=case["include_pad"])
    one = convpool.pool2d(x, case["window"], threads=1, **kw)
    many = convpool.pool2d(x, case["window"], threads=3, **kw)
    monkeypatch.setattr(pool, "_BUDGET", 1)
    monkeypatch.setattr(pool, "block_budget",
                        lambda budget, threads, grow=2: budget)
    banded_ = convpool.pool2d(x, case["window"], threads=2, **kw)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one, banded_)


def test_pool_nan_and_all_padding_windows():
    x = np.array([[1.0, np.nan], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    got = convpool.max_pool2d(x, 2, stride=1, padding=1)[0, :, :, 0]
    assert np.isnan(got[0, 1]) and np.isnan(got[1, 1])
    assert got[2, 0] == 3.0


# --------------------------------------------------- blocks and scratch

@given(n=st.integers(1, 40), rows=st.integers(1, 50),
       row_bytes=st.integers(1, 5000), budget=st.integers(1, 20000),
       threads=st.integers(1, 4))
def test_row_blocks_cover_every_row_once(n, rows, row_bytes, budget,
                                         threads):
    seen = np.zeros((n, rows), int)
    for n0, n1, r0, r1 in _parallel.row_blocks(n, rows, row_bytes, budget,
                                               threads):
        assert n0 < n1 and r0 < r1
        assert n1 - n0 == 1 or (r0, r1) == (0, rows)
        seen[n0:n1, r0:r1] += 1
    assert (seen == 1).all()


def test_block_budget_bounds_total_scratch():
    for threads in (1, 2, 8, 64, 1000):
        for grow in (1, 2):
            assert (_parallel.block_budget(1 << 21, threads, grow) * threads
                    <= max(_parallel.MAX_SCRATCH, threads << 16))
    assert _parallel.block_budget(1 << 20, 2) == 1 << 21
    assert _parallel.block_budget(1 << 20, 2, grow=1) == 1 << 20


def test_scratch_reuses_buffers():
    scratch = _parallel.Scratch()
    a = scratch.get("acc", (4, 5), np.float64)
    b = scratch.get("acc", (2, 3), np.float32)
    assert np.shares_memory(a, b)
    assert scratch.get("acc", (100, 100), np.float64).shape == (100, 100)


def test_run_blocks_uses_every_block_and_threads():
    done = []
    blocks = [(i, i + 1, 0, 1) for i in range(17)]
    _parallel.run_blocks(lambda *b: done.append(b[:4]), blocks, 4)
    assert sorted(done) == blocks


def test_frame_geometry_phase_grids_hold_every_tap():
    for window, stride, dilation in [((3, 3), (1, 1), (1, 1)),
                                     ((5, 4), (2, 3), (1, 2)),
                                     ((3, 2), (2, 2), (2, 3))]:
        geom = FrameGeometry(window, (4, 5), stride, dilation)
        seen = set()
        for phase, (rows, cols) in geom.grids.items():
            (ri, qi, di), (ci, qj, dj) = rows, cols
            for a, i in enumerate(range(*ri.indices(window[0]))):
                for b, j in enumerate(range(*ci.indices(window[1]))):
                    assert geom.taps[i, j] == (
                        phase, (qi + a * di) * geom.shape[1] + qj + b * dj)
                    seen.add((i, j))
        assert len(seen) == window[0] * window[1]


# -------------------------------------------------------------- BLAS

def test_one_blas_thread_restores_the_setting():
    before = _blas.blas_threads()
    with _blas.one_blas_thread():
        if before is not None:
            assert _blas.blas_threads() == 1
        with _blas.one_blas_thread():
            pass
        if before is not None:
            assert _blas.blas_threads() == 1
    assert _blas.blas_threads() == before


def test_no_blas_loaded(monkeypatch):
    """Another platform: no thread control, and auto plans no axpy."""
    monkeypatch.setitem(_blas._state, "libs", [])
    monkeypatch.setattr(_blas, "_functions", {})
    with _blas.one_blas_thread():
        pass
    assert _blas.blas_threads() is None
    assert not _blas.axpy_available(np.float64)
    problem = ConvProblem.of(np.ones((3, 3, 1, 1)), (1, 1), (1, 1), 1, 8)
    path, reason = plan_conv(problem)
    assert path == "taps" and "no BLAS axpy" in reason
    with pytest.raises(ValueError, match="`engine` 'axpy'.*no BLAS axpy"):
        convpool.conv2d(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)),
                        engine="axpy")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_plan(dtype):
    if not _blas.axpy_available(dtype):
        pytest.skip("OpenBLAS not reachable")
    item = np.dtype(dtype).itemsize
    x = np.arange(6, dtype=dtype)
    y = np.ones(6, dtype)
    plan = _blas.AxpyPlan(x.shape, None, dtype, [(item, 2.0)], 4)
    plan.run(x, y)
    np.testing.assert_array_equal(y, [3, 5, 7, 9, 1, 1])
    with pytest.raises(ValueError, match="outside its source"):
        _blas.AxpyPlan(x.shape, None, dtype, [(3 * item, 2.0)], 4)
    with pytest.raises(ValueError, match="another layout"):
        plan.run(x[::2], y)
    assert not _blas.axpy_available(np.dtype(">f8"))


@pytest.mark.parametrize("engine", ["taps", "im2col", "planar", "auto"])
@pytest.mark.parametrize("c, f, groups", [(1, 1, 1), (2, 2, 2), (2, 3, 1)])
def test_complex_inputs_compute_without_warnings(engine, c, f, groups):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, c)) + 1j * rng.standard_normal((2, 6, 5, c))
    w = rng.standard_normal((3, 2, c // groups, f)) * (1 - 2j)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = convpool.conv2d(x, w, padding="same", groups=groups, engine=engine)
    real = convpool.conv2d(x.real, w.real, padding="same", groups=groups) \
        - convpool.conv2d(x.imag, w.imag, padding="same", groups=groups)
    imag = convpool.conv2d(x.real, w.imag, padding="same", groups=groups) \
        + convpool.conv2d(x.imag, w.real, padding="same", groups=groups)
    np.testing.assert_allclose(got, real + 1j * imag, rtol=1e-12, atol=1e-12)


def problem(c, f, groups, kernel, dtype=np.float64, dilation=(1, 1),
            ow=26):
    w = np.random.default_rng(0).standard_normal(kernel + (c, f * groups))
    return ConvProblem.of(w.astype(dtype), (1, 1), dilation, groups, ow)


def test_plan_conv_paths_and_reasons():
    assert ENGINES == ("auto",) + PATHS
    assert set(PATHS) == {"taps", "axpy", "depthwise", "banded", "im2col",
                          "planar"}
    cases = [
        (problem(1, 1, 1, (3, 3)), "axpy", "one BLAS axpy per tap"),
        (problem(1, 1, 1, (11, 11)), "banded", "banded BLAS products"),
        (problem(1, 1, 64, (25, 25)), "depthwise", "differing by group"),
        (problem(3, 1, 1, (3, 3)), "banded", "one group"),
        (problem(3, 4, 2, (3, 3)), "planar", "planar frames"),
        (problem(64, 4, 2, (3, 3)), "im2col", "window matrix"),
        (problem(64, 64, 1, (1, 1)), "im2col", "1x1 kernel"),
        (problem(1, 1, 1, (3, 3), np.complex128), "taps",
         "no BLAS axpy is loaded for complex128"),
    ]
    for prob, path, words in cases:
        got, reason = plan_conv(prob)
        assert got == path and words in reason, (prob, got, reason)
    assert MAX_GRAY_TAPS < 121


def test_plan_never_sees_batch_or_threads():
    """The planner's whole input is the per-image problem."""
    assert "n" not in ConvProblem._fields
    assert not {"batch", "threads"} & set(ConvProblem._fields)


def test_explain_is_one_line():
    w = np.ones((3, 3, 1, 1))
    line = convpool.engines.explain_conv(w, (1, 1), (1, 1), 1, 26)
    assert line.startswith("axpy: ") and "\n" not in line
    assert convpool.engines.explain_conv(
        w, (1, 1), (1, 1), 1, 26, engine="taps") == "taps: chosen by `engine`"
    assert convpool.engines.explain_pool((2, 2), (2, 2), (1, 1),
                                         "avg").startswith("separable: ")


@pytest.mark.parametrize("engine", ("auto",) + PATHS)
def test_zero_sized_channel_and_filter_axes(engine):
    # Refused with the argument named, on every path (issue 7: these gave
    # an IndexError in the taps engine).
    with pytest.raises(ValueError, match=r"`kernels` must have at least"):
        convpool.conv2d(np.ones((2, 4, 4, 2)), np.zeros((3, 3, 2, 0)),
                        engine=engine)
    with pytest.raises(ValueError, match=r"`kernels` must have at least"):
        convpool.conv2d(np.ones((2, 4, 4, 0)), np.zeros((3, 3, 0, 2)),
                        engine=engine)


# ---------------------------------------------------- quiet arithmetic

def test_avg_pool_over_both_infinities_is_nan_without_warning():
    x = np.zeros((1, 2, 2, 1))
    x[0, 0, 0, 0], x[0, 1, 1, 0] = np.inf, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = convpool.avg_pool2d(x, 2)
        assert np.isnan(got).all()
        np.testing.assert_array_equal(convpool.avg_pool2d(x, (1, 2)),
                                      [[[[np.inf]], [[-np.inf]]]])


@pytest.mark.parametrize("engine", ("auto",) + PATHS)
def test_float16_overflow_is_inf_without_warning(engine):
    x = np.full((1, 4, 4, 1), 60000, np.float16)
    w = np.ones((2, 2, 1, 1), np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = convpool.conv2d(x, w, engine=engine)
        pooled = convpool.avg_pool2d(x * np.float16(1), 2)
    assert got.dtype == np.float16 and np.isposinf(got).all()
    np.testing.assert_array_equal(pooled, 60000)


# ----------------------------------------------------- pooling dilation

@st.composite
def dilated_pool_cases(draw):
    window = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ext = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    pads = tuple((draw(st.integers(0, e - 1)), draw(st.integers(0, e - 1)))
                 for e in ext)
    shape = tuple(draw(st.integers(max(1, e - lo - hi), e + 6))
                  for e, (lo, hi) in zip(ext, pads))
    return dict(window=window, dilation=dilation, stride=stride, pads=pads,
                shape=shape, mode=draw(st.sampled_from(["max", "avg"])),
                include_pad=draw(st.booleans()),
                threads=draw(st.integers(1, 2)),
                seed=draw(st.integers(0, 2 ** 31)))


def ref_dilated_pool(x, case):
    """Loop reference: every output cell's taps, padding skipped (max) or
    counted by ``window_counts`` (avg)."""
    (kh, kw), (dh, dw), (sh, sw) = (case["window"], case["dilation"],
                                    case["stride"])
    (top, bottom), (left, right) = case["pads"]
    n, h, w, c = x.shape
    oh = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    out = np.empty((n, oh, ow, c))
    for r in range(oh):
        for q in range(ow):
            cells = [x[:, r * sh + i * dh - top, q * sw + j * dw - left]
                     for i in range(kh) for j in range(kw)
                     if 0 <= r * sh + i * dh - top < h
                     and 0 <= q * sw + j * dw - left < w]
            if case["mode"] == "max":
                out[:, r, q] = np.max(cells, axis=0)
            else:
                out[:, r, q] = np.sum(cells, axis=0)
    if case["mode"] == "avg":
        rows = window_counts(h, kh, oh, sh, top, bottom,
                             case["include_pad"], dh)
        cols = window_counts(w, kw, ow, sw, left, right,
                             case["include_pad"], dw)
        out /= np.multiply.outer(rows, cols)[:, :, None]
    return out


@SETTINGS
@given(case=dilated_pool_cases())
def test_pool_dilation(case, tiny_blocks):
    # The ops refuse windows wholly in the padding; so does this test.
    (h, w), (kh, kw), (sh, sw), (dh, dw) = (
        case["shape"], case["window"], case["stride"], case["dilation"])
    (top, bottom), (left, right) = case["pads"]
    oh = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    assume(min(window_counts(h, kh, oh, sh, top, bottom, False, dh)) > 0)
    assume(min(window_counts(w, kw, ow, sw, left, right, False, dw)) > 0)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((3,) + case["shape"] + (2,))
    got = np.empty_like(ref_dilated_pool(x, case))
    pool.pool_nhwc(x, got, case["window"], case["stride"], case["pads"],
                   case["mode"], case["include_pad"], x.dtype,
                   case["threads"], dilation=case["dilation"])
    np.testing.assert_allclose(got, ref_dilated_pool(x, case), rtol=1e-12,
                               atol=1e-12)


def test_pool_dilation_counts_real_cells():
    """Window counts of a dilated window along one axis (TF's rule): taps
    past the input are not counted."""
    assert window_counts(5, 2, 3, 1, 0, 2, False, dilation=3) == [2, 2, 1]
    assert window_counts(5, 2, 3, 1, 0, 2, True, dilation=3) == [2, 2, 2]
