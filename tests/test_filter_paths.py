"""filter2d's single-picture paths (``direct``, ``tiled``, ``separable``,
``fft``) against SciPy and against each other, and the planner's choices.

The reference pads with ``np.pad`` (the mode's definition) and correlates
with ``scipy.ndimage.correlate`` in float64.  Tolerance: every path's
error is within ``64 * eps * max|x| * sum|k|`` of the exact result (tap
sums are far inside it; FFT tiles stay within it, their rounding growing
with ``log2`` of the tile size).
"""

import gc
import tracemalloc

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, given, settings, strategies as st

import convpool
from convpool.engines.border import FILTER_PATHS, filter_planes, plan_filter
from convpool.engines.fft import fft_cost
from convpool.engines.separable import SEPARABLE_ULPS, factorise
from convpool.geometry import resolve_padding

MODES = ("constant", "reflect", "symmetric", "edge", "wrap")
FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


def compute_dtype(image, kernel):
    both = np.result_type(image, kernel)
    return np.float32 if both == np.float32 else np.float64


def run(image, kernel, path, *, stride=(1, 1), padding="same",
        mode="constant", threads=2):
    """``filter_planes`` on one (H, W, C) picture through ``path``."""
    h, w, c = image.shape
    pads = resolve_padding(padding, (h, w), kernel.shape, stride)
    dtype = compute_dtype(image, kernel)
    kh, kw = kernel.shape
    out = np.empty(((h + sum(pads[0]) - kh) // stride[0] + 1,
                    (w + sum(pads[1]) - kw) // stride[1] + 1, c), dtype)
    filter_planes(image, np.ascontiguousarray(kernel[:, :, None, None],
                                              dtype),
                  out, stride, pads, mode, threads, path=path)
    return out


def reference(image, kernel, *, stride=(1, 1), padding="same",
              mode="constant"):
    h, w, _ = image.shape
    kh, kw = kernel.shape
    pads = resolve_padding(padding, (h, w), kernel.shape, stride)
    padded = np.pad(image.astype(np.float64), pads + ((0, 0),), mode=mode)
    full = ndi.correlate(padded, kernel.astype(np.float64)[:, :, None],
                         mode="constant")
    valid = full[kh // 2:kh // 2 + padded.shape[0] - kh + 1,
                 kw // 2:kw // 2 + padded.shape[1] - kw + 1]
    return valid[::stride[0], ::stride[1]]


def assert_close(got, want, image, kernel):
    eps = np.finfo(compute_dtype(image, kernel)).eps
    scale = np.abs(image).max(initial=0) * np.abs(kernel).sum()
    np.testing.assert_allclose(got, want, rtol=0,
                               atol=64 * eps * scale + 1e-300)


def paths_for(kernel, dtype, stride):
    """The paths that accept this kernel and stride."""
    paths = ["direct", "tiled"]
    if factorise(kernel, dtype) is not None:
        paths.append("separable")
    if tuple(stride) == (1, 1):
        paths.append("fft")
    return paths


def gaussian(size, sigma, dtype=np.float32):
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2)).astype(dtype)
    return np.outer(g / g.sum(), g / g.sum())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ksize", [(1, 4), (3, 3), (4, 6), (9, 5)])
def test_every_path_matches_scipy(mode, dtype, ksize):
    rng = np.random.default_rng(hash((mode, ksize)) % 2 ** 32)
    image = rng.standard_normal((37, 45, 3)).astype(dtype)
    sep = gaussian(ksize[0], 1.3, dtype)[:, :1] @ \
        gaussian(ksize[1], 1.1, dtype)[:1]
    for kernel in (rng.standard_normal(ksize).astype(dtype), sep):
        want = reference(image, kernel, mode=mode)
        for path in paths_for(kernel, dtype, (1, 1)):
            got = run(image, kernel, path, mode=mode)
            assert got.dtype == dtype
            assert_close(got, want, image, kernel)


@FEW
@given(h=st.integers(1, 40), w=st.integers(1, 40), c=st.integers(1, 4),
       kh=st.integers(1, 7), kw=st.integers(1, 7),
       sh=st.integers(1, 3), sw=st.integers(1, 3),
       padding=st.sampled_from(["same", "valid", "full", 2]),
       mode=st.sampled_from(MODES), rank1=st.booleans(),
       seed=st.integers(0, 2 ** 32 - 1))
def test_paths_against_direct_and_scipy(h, w, c, kh, kw, sh, sw, padding,
                                        mode, rank1, seed):
    rng = np.random.default_rng(seed)
    if padding == "valid" and (kh > h or kw > w):
        kh, kw = min(kh, h), min(kw, w)
    if mode != "constant" and padding in ("full", 2):
        # NumPy's reflect needs at least 2 cells to mirror; keep it simple.
        h, w = max(h, kh + 2), max(w, kw + 2)
    image = rng.random((h, w, c))
    kernel = (np.outer(rng.standard_normal(kh), rng.standard_normal(kw))
              if rank1 else rng.standard_normal((kh, kw)))
    stride = (sh, sw)
    want = reference(image, kernel, stride=stride, padding=padding,
                     mode=mode)
    direct = run(image, kernel, "direct", stride=stride, padding=padding,
                 mode=mode)
    assert_close(direct, want, image, kernel)
    for path in paths_for(kernel, np.float64, stride):
        got = run(image, kernel, path, stride=stride, padding=padding,
                  mode=mode)
        assert_close(got, direct, image, kernel)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64, bool])
def test_integer_pictures_are_filtered_in_float64(dtype):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 2 if dtype is bool else 100,
                         (30, 26, 3)).astype(dtype)
    kernels = [np.outer([1, 2, 1], [1, 0, -1]).astype(np.float64),
               rng.integers(-3, 4, (5, 5)).astype(np.float64)]
    for kernel in kernels:
        want = reference(image, kernel, mode="reflect")
        for path in paths_for(kernel, np.float64, (1, 1)):
            got = run(image, kernel, path, mode="reflect")
            assert got.dtype == np.float64
            assert_close(got, want, image.astype(float), kernel)


def fft_threshold(shape, dtype=np.float32):
    """The smallest square non-separable kernel the planner sends to FFT
    for a picture of ``shape``."""
    rng = np.random.default_rng(0)
    for k in range(2, 80):
        kernel = rng.standard_normal((k, k))
        if plan_filter(shape, kernel, dtype)[0] == "fft":
            return k
    raise AssertionError("no FFT crossover below 80x80")


@FEW
@given(side=st.sampled_from([96, 160]), delta=st.integers(-2, 2),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2 ** 32 - 1))
def test_around_the_fft_crossover(side, delta, mode, seed):
    rng = np.random.default_rng(seed)
    shape = (side, side + 7, 2)
    k = fft_threshold(shape) + delta
    image = rng.random(shape).astype(np.float32)
    kernel = rng.standard_normal((k, k)).astype(np.float32)
    path = plan_filter(shape, kernel, np.float32)[0]
    if delta < 0:
        assert path != "fft"
    elif delta == 0:
        assert path == "fft"
    got = run(image, kernel, None, mode=mode)
    assert_close(got, reference(image, kernel, mode=mode), image, kernel)


def test_fft_threshold_moves_with_cost():
    # Larger pictures amortise the tiles: never a later crossover.
    assert fft_threshold((2048, 2048, 3)) <= fft_threshold((96, 96, 3))
    assert fft_cost((64, 64), (80, 80), 8) > 0


@FEW
@given(kh=st.integers(3, 9), kw=st.integers(3, 9),
       dtype=st.sampled_from([np.float32, np.float64]),
       ulps=st.sampled_from([16, 1000, 1e6]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_perturbed_separable_kernels_are_not_separable(kh, kw, dtype, ulps,
                                                       seed):
    rng = np.random.default_rng(seed)
    col = rng.uniform(0.5, 2, kh) * rng.choice([-1, 1], kh)
    row = rng.uniform(0.5, 2, kw) * rng.choice([-1, 1], kw)
    kernel = np.outer(col, row).astype(dtype)
    shape = (64, 64, 3)
    assert factorise(kernel, dtype) is not None
    assert plan_filter(shape, kernel, dtype)[0] == "separable"
    bumped = kernel.astype(np.float64)
    i, j = rng.integers(kh), rng.integers(kw)
    bumped[i, j] += (np.finfo(dtype).eps * ulps * SEPARABLE_ULPS
                     * np.abs(kernel).max())
    bumped = bumped.astype(dtype)
    assert factorise(bumped, dtype) is None
    path, reason = plan_filter(shape, bumped, dtype)
    assert path != "separable" and "not rank 1" in reason
    with pytest.raises(ValueError, match="`path` 'separable' cannot run "
                       "this filter: the kernel is not rank 1"):
        run(rng.random(shape).astype(dtype), bumped, "separable")


def test_large_gaussians_stay_separable():
    for size in (5, 31, 201):
        for dtype in (np.float32, np.float64):
            path, reason = plan_filter((1024, 1024, 3), gaussian(size, 5,
                                                                 dtype),
                                       dtype)
            assert factorise(gaussian(size, 5, dtype), dtype) is not None
            assert path in ("separable", "fft"), reason
    box = np.ones((201, 201))
    col, row = factorise(box)
    np.testing.assert_array_equal(np.outer(col, row), box)


def test_planner_choices_and_reasons():
    rng = np.random.default_rng(5)
    g5 = gaussian(5, 1.0)
    assert plan_filter((4096, 4096, 3), g5, np.float32) == (
        "separable", plan_filter((4096, 4096, 3), g5, np.float32)[1])
    assert "5 + 5 taps instead of 25" in plan_filter((512, 512, 3), g5,
                                                     np.float32)[1]
    assert plan_filter((4096, 4096, 3), rng.standard_normal((5, 5)),
                       np.float32)[0] == "tiled"
    assert plan_filter((1024, 1024, 3), rng.standard_normal((201, 201)),
                       np.float32)[0] == "fft"
    big = rng.standard_normal((41, 41))
    assert plan_filter((512, 512, 3), big, np.float32, (2, 2))[0] != "fft"
    bad = g5.copy()
    bad[0, 0] = np.inf
    path, reason = plan_filter((64, 64, 3), bad, np.float32)
    assert path == "direct" and "inf or NaN" in reason
    assert plan_filter((64, 64), np.ones((1, 1)), np.float32)[0] == "direct"


@pytest.mark.parametrize("path", FILTER_PATHS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_one_non_finite_cell_gives_the_direct_pattern(path, bad):
    """NaN/inf: one non-finite cell reaches exactly the outputs whose
    window covers it, as NaN (a NaN, or an inf meeting a zero weight) or
    as an inf of the weight's sign, on every path.  (Several infs of
    opposite signs in one window may sum to NaN on one path and inf on
    another: the order of the sums differs.)"""
    rng = np.random.default_rng(7)
    image = rng.random((60, 70, 2))
    image[31, 20, 1] = bad
    kernel = np.outer([1.0, 0.0, 2.0, 1.0, 0.5], [1.0, -2.0, 0.0, 3.0])
    if path in ("tiled", "fft"):
        kernel = kernel + np.eye(5, 4) * 0.25   # rank > 1
    direct = run(image, kernel, "direct", mode="reflect")
    got = run(image, kernel, path, mode="reflect")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(direct))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(direct))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(direct))
    assert np.isfinite(direct).sum() < direct.size
    finite = np.isfinite(direct)
    assert_close(got[finite], direct[finite],
                 np.where(np.isfinite(image), image, 0), kernel)


@pytest.mark.parametrize("path", FILTER_PATHS)
def test_inputs_are_not_modified(path):
    rng = np.random.default_rng(9)
    image = rng.random((50, 40, 3)).astype(np.float32)
    kernel = gaussian(7, 1.5)
    before = image.copy(), kernel.copy()
    run(image, kernel, path, mode="symmetric")
    np.testing.assert_array_equal(image, before[0])
    np.testing.assert_array_equal(kernel, before[1])


def test_default_filter2d_follows_the_planner():
    rng = np.random.default_rng(11)
    image = rng.random((300, 280, 3)).astype(np.float32)
    for kernel in (gaussian(5, 1.0), rng.standard_normal((5, 5)),
                   gaussian(31, 5.0), rng.standard_normal((41, 41))):
        kernel = kernel.astype(np.float32)
        got = convpool.filter2d(image, kernel, pad_mode="edge")
        assert_close(got, reference(image, kernel, mode="edge"), image,
                     kernel)


def test_bad_paths_are_refused():
    image = np.ones((8, 8, 1))
    with pytest.raises(ValueError, match="`path` must be one of"):
        run(image, np.ones((3, 3)), "winograd")
    with pytest.raises(ValueError, match="`path` 'fft' cannot run this "
                       "filter: it needs stride"):
        run(image, np.ones((3, 3)), "fft", stride=(2, 1))


MiB = 1 << 20


def peak_extra(fn, out_bytes):
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - out_bytes


@pytest.mark.parametrize("path,kernel", [
    ("tiled", np.ones((5, 5))), ("separable", np.ones((9, 9))),
    ("fft", np.ones((41, 41)) + np.eye(41)), ("direct", np.ones((5, 5)))])
def test_memory_is_bounded(path, kernel):
    """A 2000x1600x3 float64 picture (73 MiB): no padded copy of it, and at
    most 64 MiB beyond the output (the FFT path: two threads' tiles and
    the kernel's spectrum; the direct path: 8 MiB bands and the engine's
    scratch); the band paths' L2-sized bands stay under 16 MiB."""
    image = np.random.default_rng(2).random((2000, 1600, 3))
    limit = 16 * MiB if path in ("tiled", "separable") else 64 * MiB
    extra = peak_extra(lambda: run(image, kernel, path, mode="reflect"),
                       image.nbytes)
    assert extra <= limit, (path, extra / MiB)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_separable_bands_read_in_place(mode, dtype):
    """Tall pictures have bands with no top or bottom border, which the
    separable path filters straight from the picture into the output,
    recomputing the border columns: check them, even kernel widths too."""
    rng = np.random.default_rng(13)
    image = rng.random((700, 300, 3)).astype(dtype)
    for col, row in [(5, 5), (3, 8), (7, 2)]:
        kernel = np.outer(rng.standard_normal(col),
                          rng.standard_normal(row)).astype(dtype)
        got = run(image, kernel, "separable", mode=mode, threads=1)
        assert_close(got, reference(image, kernel, mode=mode), image,
                     kernel)


@FEW
@given(kh=st.integers(5, 10), kw=st.integers(5, 10),
       stride=st.sampled_from([(1, 1), (2, 1), (2, 3)]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2 ** 32 - 1))
def test_around_the_tiled_crossover(kh, kw, stride, mode, seed):
    """Non-separable kernels up to ``TILED_MAX_TAPS`` taps take the tiled
    path, larger ones the direct engine (or FFT at stride 1); both sides
    of the threshold match SciPy."""
    from convpool.engines.border import TILED_MAX_TAPS
    rng = np.random.default_rng(seed)
    image = rng.random((120, 90, 2)).astype(np.float32)
    kernel = rng.standard_normal((kh, kw)).astype(np.float32)
    path = plan_filter(image.shape, kernel, np.float32, stride)[0]
    if kh * kw <= TILED_MAX_TAPS:
        assert path == "tiled"
    else:
        assert path in ("direct", "fft")
    got = run(image, kernel, None, stride=stride, mode=mode)
    assert_close(got, reference(image, kernel, stride=stride, mode=mode),
                 image, kernel)


# ------------------------------------------------------ filter2d(engine=)

ENGINE_NAMES = ("auto",) + FILTER_PATHS


def make_kernel(rng, kind, kh, kw, dtype):
    """A random kernel: ``'random'`` (rank > 1 when both sides >= 2),
    ``'rank1'`` (an outer product) or ``'perturbed'`` (an outer product
    with one entry moved by 100 units of the dtype's precision)."""
    if kind == "random":
        return rng.standard_normal((kh, kw)).astype(dtype)
    col = rng.uniform(0.5, 2, kh) * rng.choice([-1, 1], kh)
    row = rng.uniform(0.5, 2, kw) * rng.choice([-1, 1], kw)
    kernel = np.outer(col, row)
    if kind == "perturbed":
        kernel[rng.integers(kh), rng.integers(kw)] += (
            100 * SEPARABLE_ULPS * np.finfo(dtype).eps
            * np.abs(kernel).max())
    return kernel.astype(dtype)


def expected_refusal(engine, kind, kernel, stride):
    """Whether ``engine`` must refuse the call, from the documented
    contract (not from the library's own checks)."""
    if engine == "fft":
        return tuple(stride) != (1, 1)
    if engine == "separable":
        return min(kernel.shape) < 2 or kind != "rank1"
    return False


@FEW
@given(h=st.integers(1, 30), w=st.integers(1, 30),
       c=st.sampled_from([None, 1, 3]), kh=st.integers(1, 6),
       kw=st.integers(1, 6), sh=st.integers(1, 3), sw=st.integers(1, 3),
       padding=st.sampled_from(["same", "valid", "full", 1, ((2, 0), (1, 3))]),
       mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float32, np.float64]),
       kind=st.sampled_from(["random", "rank1", "perturbed"]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_every_engine_through_filter2d_matches_scipy(h, w, c, kh, kw, sh, sw,
                                                     padding, mode, dtype,
                                                     kind, seed):
    rng = np.random.default_rng(seed)
    h, w = max(h, kh), max(w, kw)       # the kernel fits every padding
    if mode != "constant":
        h, w = max(h, kh + 3), max(w, kw + 3)
    shape = (h, w) if c is None else (h, w, c)
    image = rng.standard_normal(shape).astype(dtype)
    kernel = make_kernel(rng, kind, kh, kw, dtype)
    stride = (sh, sw)
    planes = image if c is not None else image[:, :, None]
    want = reference(planes, kernel, stride=stride, padding=padding,
                     mode=mode)
    if c is None:
        want = want[:, :, 0]
    for engine in ENGINE_NAMES:
        call = dict(padding=padding, stride=stride, pad_mode=mode,
                    engine=engine, threads=2)
        if expected_refusal(engine, kind, kernel, stride):
            with pytest.raises(ValueError,
                               match=f"`engine` '{engine}' cannot run"):
                convpool.filter2d(image, kernel, **call)
            continue
        got = convpool.filter2d(image, kernel, **call)
        assert got.dtype == dtype and got.shape == want.shape
        assert_close(got, want, planes, kernel)


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_every_engine_matches_the_loop_reference(engine, mode):
    """The slow fsum loop of tests/reference.py, written from the contract,
    on a grayscale picture with uneven explicit padding."""
    from reference import ref_filter2d
    rng = np.random.default_rng(21)
    image = rng.standard_normal((13, 11))
    kernel = np.outer(rng.standard_normal(4), rng.standard_normal(3))
    pads = ((2, 1), (0, 3))
    for stride in ((1, 1), (2, 1)):
        if engine == "fft" and stride != (1, 1):
            continue
        got = convpool.filter2d(image, kernel, padding=pads, stride=stride,
                                pad_mode=mode, engine=engine)
        want = ref_filter2d(image, kernel, pads, stride, mode)
        assert_close(got, want, image, kernel)


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_bits_do_not_depend_on_threads(engine):
    rng = np.random.default_rng(17)
    image = rng.random((301, 203, 3)).astype(np.float32)
    kernel = (gaussian(7, 1.5) if engine == "separable"
              else rng.standard_normal((7, 6)).astype(np.float32))
    one = convpool.filter2d(image, kernel, pad_mode="reflect",
                            engine=engine, threads=1)
    for threads in (2, 3):
        many = convpool.filter2d(image, kernel, pad_mode="reflect",
                                 engine=engine, threads=threads)
        np.testing.assert_array_equal(one, many)


def explained_path(image, kernel, **kwargs):
    line = convpool.explain("filter2d", image, kernel, **kwargs)
    assert line.startswith("filter2d: ")
    return line.split(": ")[1], line


@FEW
@given(kh=st.integers(5, 10), kw=st.integers(5, 10),
       dtype=st.sampled_from([np.float32, np.float64]),
       mode=st.sampled_from(MODES), seed=st.integers(0, 2 ** 32 - 1))
def test_filter2d_around_the_tiled_crossover(kh, kw, dtype, mode, seed):
    """explain says ``tiled`` up to ``TILED_MAX_TAPS`` taps and another
    path beyond; filter2d takes that path (same bits as forcing it) and
    matches SciPy on both sides."""
    from convpool.engines.border import TILED_MAX_TAPS
    rng = np.random.default_rng(seed)
    image = rng.random((100, 90, 2)).astype(dtype)
    kernel = rng.standard_normal((kh, kw)).astype(dtype)
    path, line = explained_path(image, kernel, pad_mode=mode)
    if kh * kw <= TILED_MAX_TAPS:
        assert path == "tiled", line
    else:
        assert path in ("direct", "fft"), line
    auto = convpool.filter2d(image, kernel, pad_mode=mode)
    forced = convpool.filter2d(image, kernel, pad_mode=mode, engine=path)
    np.testing.assert_array_equal(auto, forced)
    assert_close(auto, reference(image, kernel, mode=mode), image, kernel)


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_filter2d_around_the_fft_crossover(delta):
    shape = (160, 167, 2)
    k = fft_threshold(shape) + delta
    rng = np.random.default_rng(k)
    image = rng.random(shape).astype(np.float32)
    kernel = rng.standard_normal((k, k)).astype(np.float32)
    path, line = explained_path(image, kernel, pad_mode="wrap")
    assert (path == "fft") == (delta >= 0), line
    auto = convpool.filter2d(image, kernel, pad_mode="wrap")
    np.testing.assert_array_equal(
        auto, convpool.filter2d(image, kernel, pad_mode="wrap", engine=path))
    assert_close(auto, reference(image, kernel, mode="wrap"), image, kernel)


@FEW
@given(size=st.integers(3, 9), dtype=st.sampled_from([np.float32,
                                                      np.float64]),
       ulps=st.sampled_from([16, 100, 1000]), mode=st.sampled_from(MODES),
       seed=st.integers(0, 2 ** 32 - 1))
def test_nearly_separable_kernels_avoid_the_separable_path(size, dtype, ulps,
                                                           mode, seed):
    """A Gaussian takes the separable path; the same Gaussian with one
    entry moved by ``ulps`` times the factorisation's tolerance (still a
    tiny change: 64 units of float32's precision and up) must not, and
    must still be filtered right.  (A move of just over the tolerance can
    be absorbed by the best rank-1 fit, which spreads it over the whole
    kernel: such a kernel is rank 1 to the dtype's precision.)"""
    rng = np.random.default_rng(seed)
    image = rng.random((40, 50, 3)).astype(dtype)
    g = gaussian(size, size / 4 + 0.5, np.float64).astype(dtype)
    assert explained_path(image, g)[0] == "separable"
    bumped = g.astype(np.float64)
    bumped[rng.integers(size), rng.integers(size)] += (
        SEPARABLE_ULPS * ulps * np.finfo(dtype).eps * np.abs(g).max())
    bumped = bumped.astype(dtype)
    path, line = explained_path(image, bumped, pad_mode=mode)
    assert path != "separable" and "not rank 1" in line, line
    got = convpool.filter2d(image, bumped, pad_mode=mode)
    assert_close(got, reference(image, bumped, mode=mode), image, bumped)
    with pytest.raises(ValueError, match="`engine` 'separable' cannot run "
                       "this filter: the kernel is not rank 1"):
        convpool.filter2d(image, bumped, engine="separable")


@pytest.mark.parametrize("engine", ["winograd", "", "auto ", None, 3])
def test_bad_engine_names_are_refused(engine):
    with pytest.raises(ValueError, match=r"`engine` must be one of 'auto', "
                       r"'direct', 'tiled', 'separable', 'fft', got "):
        convpool.filter2d(np.ones((6, 6)), np.ones((3, 3)), engine=engine)


def test_engine_names_ignore_case():
    image = np.arange(30.0).reshape(5, 6)
    np.testing.assert_array_equal(
        convpool.filter2d(image, np.eye(3), engine="TILED"),
        convpool.filter2d(image, np.eye(3), engine="tiled"))


NAN_KERNEL = np.ones((3, 3))
NAN_KERNEL[1, 1] = np.nan


@pytest.mark.parametrize("engine,kernel,kwargs,why", [
    ("fft", np.ones((3, 3)), dict(stride=2),
     r"it needs stride \(1, 1\), got \(2, 2\)"),
    ("fft", np.ones((3, 3)), dict(stride=(1, 3)),
     r"it needs stride \(1, 1\), got \(1, 3\)"),
    ("fft", NAN_KERNEL, {}, "the kernel has an inf or NaN"),
    ("separable", np.eye(3), {}, "the kernel is not rank 1 to float64"),
    ("separable", np.ones((1, 5)), {}, "a 1x5 kernel is one pass already"),
    ("separable", NAN_KERNEL, {}, "the kernel has an inf or NaN"),
])
def test_impossible_engines_are_refused_not_replaced(engine, kernel, kwargs,
                                                     why):
    image = np.ones((9, 9, 2))
    match = f"`engine` '{engine}' cannot run this filter: {why}"
    with pytest.raises(ValueError, match=match):
        convpool.filter2d(image, kernel, engine=engine, **kwargs)
    with pytest.raises(ValueError, match=match):
        convpool.explain("filter2d", image, kernel, engine=engine, **kwargs)


def test_float32_separability_is_judged_at_float32_precision():
    """A kernel rank 1 to float32 precision but not to float64's takes the
    separable path in float32 and is refused it in float64."""
    g = gaussian(5, 1.0, np.float64)
    g[2, 2] += 1e-9
    assert explained_path(np.ones((32, 32), np.float32),
                          g.astype(np.float32))[0] == "separable"
    with pytest.raises(ValueError, match="not rank 1 to float64"):
        convpool.filter2d(np.ones((32, 32)), g, engine="separable")


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_threads_are_refused(threads):
    with pytest.raises((ValueError, TypeError), match="`threads` must be"):
        convpool.filter2d(np.ones((6, 6)), np.ones((3, 3)), threads=threads)


def test_dask_pictures_pass_engine_and_threads_through():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(23)
    image = rng.random((40, 36, 3))
    kernel = rng.standard_normal((5, 5))
    lazy = da.from_array(image, chunks=(15, 20, 2))
    for engine in ("direct", "tiled", "fft"):
        got = convpool.filter2d(lazy, kernel, pad_mode="reflect",
                                engine=engine, threads=2)
        assert_close(got.compute(scheduler="sync"),
                     reference(image, kernel, mode="reflect"), image, kernel)
    with pytest.raises(ValueError, match="`engine` 'fft' cannot run"):
        convpool.filter2d(lazy, kernel, stride=2, engine="fft")


@pytest.mark.parametrize("engine", ["tiled", "separable"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_pictures_with_inf_or_nan_keep_thread_independent_bits(engine, bad):
    """A finite picture takes BLAS products per block of rows, one with an
    inf or NaN the tap passes (the products' zero weights would spread
    it): the choice is made once per picture, so the bits still do not
    depend on ``threads``, and outputs away from the bad cell stay
    right."""
    rng = np.random.default_rng(29)
    image = rng.random((257, 131, 3)).astype(np.float32)
    image[200, 60, 2] = bad
    kernel = (gaussian(5, 1.2) if engine == "separable"
              else rng.standard_normal((5, 4)).astype(np.float32))
    runs_ = [convpool.filter2d(image, kernel, pad_mode="edge",
                               engine=engine, threads=t) for t in (1, 2, 3)]
    for other in runs_[1:]:
        np.testing.assert_array_equal(other, runs_[0])
    clean = np.where(np.isfinite(image), image, 0)
    want = reference(clean, kernel, mode="edge")
    assert_close(runs_[0][:190], want[:190], clean, kernel)
    assert not np.isfinite(runs_[0][200, 60, 2])
