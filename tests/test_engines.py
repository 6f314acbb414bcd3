"""Every engine and fast path of ``convpool.engines`` on the same inputs,
against a simple reference: ``np.einsum`` over ``sliding_window_view`` of
the zero-padded input (convolution) and a max / sum over the windows of the
-inf / 0 padded input (pooling).

The engines choose their fast paths by data (channels, weights, strides,
BLAS availability, block budgets); each test pins one path with
``monkeypatch`` so that every path runs on randomised shapes, including
tiny block budgets that force many blocks (bands of one image too) and
several threads.  Nothing here times anything: that is benchmarks/.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import convpool
from convpool.engines import _blas, _parallel, banded, pool
from convpool.engines import conv as conv_engines
from convpool.engines import taps as taps_module
from convpool.engines._frames import FrameGeometry
from convpool.geometry import pool_output_size

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
    for name in conv_engines.BUDGETS:
        monkeypatch.setitem(conv_engines.BUDGETS, name, 256)
    monkeypatch.setattr(banded.Banded, "budget", lambda self, ow: 256)
    monkeypatch.setattr(pool, "_BUDGET", 256)
    monkeypatch.setattr(conv_engines, "block_budget",
                        lambda budget, threads, grow=2: budget)
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


@SETTINGS
@given(case=conv_cases(depthwise=False))
def test_taps_numpy_fallback_without_blas(case, monkeypatch):
    """No BLAS axpy (another BLAS, another platform): NumPy multiply-add."""
    monkeypatch.setattr(taps_module, "axpy_kernel", lambda dtype: None)
    check_conv(case, "taps")


@SETTINGS
@given(case=conv_cases(depthwise=True))
def test_taps_depthwise_einsum(case, tiny_blocks):
    check_conv(dict(case, weights="random"), "taps")


def force_im2col_path(monkeypatch, path):
    """Make the im2col engine feed BLAS one way: 'banded', 'planar' or
    'nhwc' (gathered window rows)."""
    monkeypatch.setattr(conv_engines, "USE_BANDED", path == "banded")
    monkeypatch.setattr(conv_engines, "PLANAR_BELOW",
                        1 << 30 if path == "planar" else 0)


@pytest.mark.parametrize("path", ["banded", "planar", "nhwc"])
@SETTINGS
@given(case=conv_cases(max_c=20))
def test_im2col_paths(case, path, monkeypatch):
    force_im2col_path(monkeypatch, path)
    check_conv(case, "im2col")


@pytest.mark.parametrize("path", ["banded", "planar", "nhwc"])
@SETTINGS
@given(case=conv_cases(max_c=20))
def test_im2col_paths_tiny_blocks(case, path, monkeypatch, tiny_blocks):
    force_im2col_path(monkeypatch, path)
    check_conv(case, "im2col")


@pytest.mark.parametrize("columns", [1, 4, 64])
@SETTINGS
@given(case=conv_cases(depthwise=False, max_c=4))
def test_banded_tile_widths(case, columns, monkeypatch):
    """Bands one output wide (T = 1) to whole rows; the last tile may run
    into zero columns past the row."""
    monkeypatch.setattr(banded, "_TILE_COLUMNS", columns)
    check_conv(dict(case, groups=1, c=case["c"] // case["groups"],
                    f=case["f"] // case["groups"]), "im2col")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("path", ["taps", "banded", "planar", "nhwc"])
@SETTINGS
@given(case=conv_cases(max_c=4), bad=st.sampled_from([np.inf, -np.inf,
                                                      np.nan]))
def test_non_finite_inputs_follow_ieee(case, path, bad, monkeypatch):
    """inf / NaN meet every weight of their windows, zeros included (0 *
    inf = NaN, as in PyTorch) and nothing else: the banded engine's
    structural zeros must not touch them."""
    force_im2col_path(monkeypatch, "banded" if path == "taps" else path)
    x, w, bias = make_conv(case)
    x.reshape(-1)[::7] = bad
    want = ref_conv(x, w, case["stride"], case["dilation"], case["pads"],
                    case["groups"], bias)
    with np.errstate(invalid="ignore", over="ignore"):
        got = run_conv(case, x, w, bias,
                       "taps" if path == "taps" else "im2col")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert_close(got[finite], want[finite], np.nan_to_num(x, posinf=0,
                                                          neginf=0), w,
                 case["dtype"])


@SETTINGS
@given(case=conv_cases())
def test_auto_engine(case):
    check_conv(case, "auto")


@pytest.mark.parametrize("engine", ["taps", "im2col"])
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
    monkeypatch.setitem(conv_engines.BUDGETS, "taps", 4096)
    rng = np.random.default_rng(3)
    image = rng.random((64, 40, 3))
    kernel = rng.random((5, 5))
    got = convpool.filter2d(image, kernel)
    want = ref_conv(image.transpose(2, 0, 1)[..., None],
                    kernel[:, :, None, None], (1, 1), (1, 1),
                    ((2, 2), (2, 2)), 1)[..., 0].transpose(1, 2, 0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert any(r1 - r0 < 64 for n0, n1, r0, r1 in calls[0])


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


def test_one_blas_thread_without_blas(monkeypatch):
    monkeypatch.setattr(_blas, "_get_funcs", lambda: None)
    with _blas.one_blas_thread():
        pass
    assert _blas.blas_threads() is None
    assert _blas.axpy_kernel(np.dtype(np.float64)) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_kernel(dtype):
    kernel = _blas.axpy_kernel(np.dtype(dtype))
    if kernel is None:
        pytest.skip("OpenBLAS not reachable")
    x = np.arange(6, dtype=dtype)
    y = np.ones(6, dtype)
    kernel(4, 2.0, x[1:].ctypes.data, y.ctypes.data)
    np.testing.assert_array_equal(y, [3, 5, 7, 9, 1, 1])
    assert _blas.axpy_kernel(np.dtype(">f8")) is None


@pytest.mark.parametrize("engine", ["taps", "im2col"])
@pytest.mark.parametrize("c, f, groups", [(1, 1, 1), (2, 2, 2), (2, 3, 1)])
def test_complex_inputs_compute_without_warnings(engine, c, f, groups):
    import warnings
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


def test_auto_sends_large_grayscale_kernels_to_blas():
    from convpool.engines.conv import MAX_GRAY_TAPS, pick_engine
    assert pick_engine(1, 1, 1, 9) == "taps"
    assert pick_engine(1, 1, 1, MAX_GRAY_TAPS + 1) == "im2col"
    assert pick_engine(1, 1, 64, 25 * 25) == "taps"      # depthwise stays
    assert pick_engine(3, 1, 1, 9) == "im2col"
