"""convpool.explain: the planner's choice, said in one line, is the path
the call really takes."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convpool
from convpool.engines import ENGINES
from convpool.engines.border import FILTER_PATHS, plan_filter


@settings(max_examples=30, deadline=None)
@given(rank=st.integers(1, 3), c=st.integers(1, 4), f=st.integers(1, 4),
       k=st.integers(1, 4), depthwise=st.booleans(), seed=st.integers(0, 99))
def test_explained_path_is_the_path_auto_takes(rank, c, f, k, depthwise,
                                               seed):
    rng = np.random.default_rng(seed)
    groups, cg = (c, 1) if depthwise else (1, c)
    x = rng.standard_normal((2,) + (7,) * rank + (c,))
    w = rng.standard_normal((k,) * rank + (cg, c * f if depthwise else f))
    op = getattr(convpool, f"conv{rank}d")
    line = convpool.explain(op, x, w, padding="same", groups=groups)
    rest = line.split(": ", 1)[1]
    if rest[:3] in ("1-D", "3-D"):          # how the rank folds onto 2-D
        rest = rest.split("; ", 1)[1]
    path = rest.split(":")[0]
    assert path in ENGINES[1:]
    auto = op(x, w, padding="same", groups=groups)
    forced = op(x, w, padding="same", groups=groups, engine=path)
    assert np.array_equal(auto, forced)


def test_explain_says_why_and_how_ranks_fold():
    x = np.ones((2, 6, 8, 8, 3))
    line = convpool.explain("conv3d", x, np.ones((3, 3, 3, 3, 4)))
    assert line.startswith("conv3d: 3-D as 2-D with the 3 depth taps")
    assert "banded" in line or "im2col" in line or "planar" in line
    assert convpool.explain(convpool.max_pool1d, np.ones((1, 9, 2)), 3) \
        .startswith("max_pool1d: 1-D as 2-D of height 1; separable: max")


def test_explain_notices_inf_where_the_choice_depends_on_it():
    x = np.ones((1, 9, 9, 8))
    w = np.ones((3, 3, 8, 8))
    assert "banded:" in convpool.explain("conv2d", x, w)
    x[0, 4, 4, 0] = np.inf
    assert "banded cannot run" in convpool.explain("conv2d", x, w)


def test_explain_refuses_unknown_ops_and_bad_arguments():
    with pytest.raises(ValueError, match=r"`op` must be one of 'conv1d'"):
        convpool.explain("conv4d", np.ones((1, 3, 3, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"`stride` must be >= 1"):
        convpool.explain("conv2d", np.ones((1, 3, 3, 1)),
                         np.ones((1, 1, 1, 1)), stride=0)


FILTER_KINDS = ("random", "gaussian", "box", "one", "inf")


def filter_kernel(kind, size, rng):
    if kind == "random":
        return rng.standard_normal((size, size))
    if kind == "gaussian":
        g = np.exp(-(np.arange(size) - (size - 1) / 2) ** 2 / size)
        return np.outer(g, g) / g.sum() ** 2
    if kind == "box":
        return np.ones((size, size + 1))
    if kind == "one":
        return np.full((1, 1), 2.5)
    k = rng.standard_normal((size, size))
    k[0, 0] = np.inf
    return k


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(FILTER_KINDS), size=st.integers(2, 13),
       stride=st.sampled_from([1, 2, (1, 3)]),
       dtype=st.sampled_from([np.float32, np.float64]),
       mode=st.sampled_from(["constant", "reflect", "edge", "wrap"]),
       seed=st.integers(0, 99))
def test_explained_filter_path_is_the_path_auto_takes(kind, size, stride,
                                                      dtype, mode, seed):
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((48, 40, 2)).astype(dtype)
    kernel = filter_kernel(kind, size, rng).astype(dtype)
    kw = dict(stride=stride, pad_mode=mode)
    line = convpool.explain("filter2d", image, kernel, **kw)
    name, path, reason = line.split(": ", 2)
    assert name == "filter2d" and path in FILTER_PATHS and reason
    with np.errstate(invalid="ignore", over="ignore"):
        auto = convpool.filter2d(image, kernel, **kw)
        forced = convpool.filter2d(image, kernel, engine=path, **kw)
    np.testing.assert_array_equal(auto, forced)
    if kind in ("one", "inf"):
        assert path == "direct"
    if kind in ("gaussian", "box"):
        assert "not rank 1" not in line and "is rank 1 to" in line, line
        if size >= 3:       # 2x2: as many taps as the tiled path
            assert path in ("separable", "fft"), line


def test_explain_filter2d_says_why():
    rng = np.random.default_rng(3)
    photo = np.zeros((4096, 4096, 3), np.float32)
    g = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256
    assert convpool.explain(convpool.filter2d, photo, g) == (
        "filter2d: " + plan_filter(photo.shape, g, np.float32)[1])
    assert "5 + 5 taps instead of 25" in convpool.explain("filter2d",
                                                          photo, g)
    line = convpool.explain("filter2d", photo,
                            rng.standard_normal((5, 5)).astype(np.float32))
    assert line.startswith("filter2d: tiled: 25 taps (<= 49)")
    assert "not rank 1 to float32 precision" in line
    line = convpool.explain("filter2d", photo[:1024, :1024],
                            rng.standard_normal((41, 41)), threads=2)
    assert line.startswith("filter2d: fft: FFT tiles cost about")
    line = convpool.explain("filter2d", photo[:512, :512],
                            rng.standard_normal((41, 41)), stride=2)
    assert "FFT tiles need a stride of 1" in line
    line = convpool.explain("filter2d", np.ones((9, 9)), np.eye(3),
                            engine="fft")
    assert line == "filter2d: fft: chosen by `engine`"


def test_explain_filter2d_refuses_what_filter2d_refuses():
    image, kernel = np.ones((9, 9)), np.eye(3)
    for kw, match in [(dict(engine="winograd"), "`engine` must be one of"),
                      (dict(engine="separable"), "`engine` 'separable' "
                       "cannot run this filter: the kernel is not rank 1"),
                      (dict(engine="fft", stride=2), "`engine` 'fft' cannot"
                       " run this filter: it needs stride"),
                      (dict(pad_mode="bogus"), "pad_mode"),
                      (dict(padding="valid", stride=0), "`stride` must be")]:
        with pytest.raises(ValueError, match=match):
            convpool.explain("filter2d", image, kernel, **kw)
        with pytest.raises(ValueError, match=match):
            convpool.filter2d(image, kernel, **kw)
    with pytest.raises(ValueError, match="`kernel` must have 2 dim"):
        convpool.explain("filter2d", image, np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match="'avg_pool3d', 'filter2d', got"):
        convpool.explain("filter3d", image, kernel)
