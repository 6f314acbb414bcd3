"""A result has the same bits whatever ``threads`` is and however the
batch is split (issue 7, section 3: the Dask layer computes batch chunks
on any worker and must equal the in-memory result bitwise).

For conv and pool of every rank, float32 and float64, and every conv
engine that applies (picked through ``engine=``; an engine that does not
apply must say so in a ValueError naming `engine`), the whole batch with
threads=1 is the baseline; threads=2, 3 and the default, and the batch cut
into two pieces (one image and the rest, halves, all but one) and
concatenated, must give the same bits.  Batch sizes 1, 7, 33 and 100 are
not multiples of any block size, so the library's blocks end in short
tails; the images are big enough (tens to hundreds of KiB of scratch
each) to need several blocks.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convpool

ENGINES = ("auto", "taps", "axpy", "depthwise", "banded", "im2col",
           "planar")
DTYPES = (np.float32, np.float64)
BATCHES = (1, 7, 33, 100)
THREADS = (2, 3, None)

# per rank: image shape (spatial, C), then conv configurations
# (window, filters, groups, stride, dilation, padding)
IMAGES = {1: ((96,), 8), 2: ((14, 12), 8), 3: ((5, 8, 7), 4)}
CONV_CONFIGS = {
    1: [(5, 16, 1, 1, 1, "same"), (3, 8, 8, 2, 2, "valid"),
        (4, 4, 2, 3, 1, (1, 2))],
    2: [(3, 16, 1, 1, 1, "same"), (3, 8, 8, 2, 1, "same"),
        ((2, 3), 6, 2, (2, 1), (1, 2), 1)],
    3: [(3, 8, 1, 1, 1, "same"), (2, 4, 4, 1, 1, "valid"),
        ((1, 3, 2), 6, 2, (1, 2, 1), (1, 1, 2), "same_lower")],
}


def batch(r, n, dtype, seed=0):
    spatial, c = IMAGES[r]
    rng = np.random.default_rng(seed + n)
    return rng.standard_normal((n,) + spatial + (c,)).astype(dtype)


def conv_call(r, config, dtype):
    window, f, groups, stride, dilation, padding = config
    c = IMAGES[r][1]
    window = window if isinstance(window, tuple) else (window,) * r
    rng = np.random.default_rng(r)
    w = rng.standard_normal(window + (c // groups, f)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    fn = getattr(convpool, "conv%dd" % r)

    def call(x, **kw):
        return fn(x, w, bias=b, stride=stride, dilation=dilation,
                  padding=padding, groups=groups, **kw)
    return call


def applies(call, x, engine):
    """call(x, engine=engine) runs, or the library says the engine does
    not apply (a ValueError naming `engine` and the engine)."""
    try:
        call(x[:1], engine=engine, threads=1)
        return True
    except ValueError as e:
        msg = str(e)
        # an engine of the contract is never an unknown name
        assert ("`engine`" in msg and repr(engine) in msg
                and "must be one of" not in msg), (
            "engine=%r raised a ValueError that does not say it does not "
            "apply: %s" % (engine, msg))
        return False


def assert_same_bits(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), "%s: %d of %d values differ, max |diff| %g" % (
        what, (~same).sum(), a.size,
        np.nanmax(np.abs(a.astype(np.float64) - b)))


def splits(n):
    """Cut points: one image and the rest, halves, all but one."""
    return sorted({m for m in (1, n // 2, n - 1) if 0 < m < n})


def check_deterministic(call, x, what):
    whole = call(x, threads=1)
    for threads in THREADS:
        assert_same_bits(call(x, threads=threads), whole,
                         "%s threads=%s vs 1" % (what, threads))
    for m in splits(x.shape[0]):
        pieces = np.concatenate([call(x[:m]), call(x[m:])])
        assert_same_bits(pieces, whole, "%s split at %d of %d" % (
            what, m, x.shape[0]))


def check_every_engine(engine_call, x, what):
    """check_deterministic for every engine that applies; all problems
    are collected and reported together, so one engine's failure does
    not hide another's."""
    problems, ran = [], []
    for engine in ENGINES:
        def call(xx, engine=engine, **kw):
            return engine_call(xx, engine=engine, **kw)
        try:
            if not applies(call, x, engine):
                continue
            ran.append(engine)
            check_deterministic(call, x, "%s engine=%s" % (what, engine))
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])
    assert not problems, "\n".join(problems)
    assert "auto" in ran and len(ran) >= 2, ran


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", (1, 2, 3))
def test_conv_bits_do_not_depend_on_threads_or_batch_split(r, dtype, n):
    x = batch(r, n, dtype)
    for i, config in enumerate(CONV_CONFIGS[r]):
        check_every_engine(conv_call(r, config, dtype), x,
                           "conv%dd config %d %s" % (r, i, np.dtype(dtype)))


BIG_IMAGES = {1: ((4096,), 16), 2: ((40, 40), 16), 3: ((6, 20, 20), 8)}


@pytest.mark.parametrize("n", (3,))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", (1, 2, 3))
def test_conv_big_images_bits(r, dtype, n):
    """Images of MiBs of im2col rows each: blocks cut inside an image
    (bands) and short BLAS products at the tails."""
    spatial, c = BIG_IMAGES[r]
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n,) + spatial + (c,)).astype(dtype)
    w = rng.standard_normal((3,) * r + (c, 2 * c)).astype(dtype)
    fn = getattr(convpool, "conv%dd" % r)
    check_every_engine(lambda xx, **kw: fn(xx, w, padding="same", **kw), x,
                       "conv%dd big %s" % (r, np.dtype(dtype)))


@pytest.mark.parametrize("r", (1, 2, 3))
def test_conv_channels_first_bits(r):
    """The same for channels-first data and the OI... kernel layout."""
    spatial, c = IMAGES[r]
    s = {1: "W", 2: "HW", 3: "DHW"}[r]
    x = np.moveaxis(batch(r, 33, np.float32), -1, 1)
    w = np.random.default_rng(5).standard_normal(
        (16, c) + (3,) * r).astype(np.float32)
    fn = getattr(convpool, "conv%dd" % r)
    check_every_engine(
        lambda xx, **kw: fn(xx, w, padding="same", data_format="NC" + s,
                            kernel_format="OI" + s, **kw),
        x, "conv%dd NC%s" % (r, s))


POOL_CONFIGS = [
    dict(window=3, stride=1, padding="same"),
    dict(window=2),
    dict(window=3, stride=2, padding=1, ceil_mode=True,
         count_include_pad=True),
    dict(window=2, stride=1, dilation=2, padding="same"),
]


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", (1, 2, 3))
def test_pool_bits_do_not_depend_on_threads_or_batch_split(r, dtype, n):
    x = batch(r, n, dtype, seed=9)
    fn = getattr(convpool, "pool%dd" % r)
    for mode in ("max", "avg"):
        for i, config in enumerate(POOL_CONFIGS):
            config = dict(config)
            window = config.pop("window")
            check_deterministic(
                lambda xx, **kw: fn(xx, window, mode=mode, **config, **kw),
                x, "pool%dd %s config %d %s" % (r, mode, i,
                                                np.dtype(dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r", (1, 2, 3))
def test_adaptive_pool_bits_do_not_depend_on_batch_split(r, dtype):
    x = batch(r, 33, dtype, seed=3)
    for mode in ("max", "avg"):
        fn = getattr(convpool, "adaptive_%s_pool%dd" % (mode, r))
        for size in (1, 3):
            whole = fn(x, size)
            for m in splits(33):
                assert_same_bits(np.concatenate([fn(x[:m], size),
                                                 fn(x[m:], size)]), whole,
                                 "adaptive %s %dd size %d split %d" % (
                                     mode, r, size, m))


@st.composite
def random_problems(draw):
    """Random conv problems of any rank, big enough per image (hundreds
    of output cells, up to 48 channels) for BLAS blocks to matter."""
    r = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 4]))
    c = groups * draw(st.sampled_from([1, 3, 8, 12]))
    f = groups * draw(st.sampled_from([1, 4, 16]))
    side = {1: (32, 300), 2: (6, 24), 3: (3, 9)}[r]
    spatial = tuple(draw(st.integers(*side)) for _ in range(r))
    window = tuple(draw(st.integers(1, min(3, n))) for n in spatial)
    return dict(r=r, n=draw(st.integers(2, 40)), c=c, f=f, groups=groups,
                spatial=spatial, window=window,
                stride=draw(st.integers(1, 2)),
                padding=draw(st.sampled_from(["same", "valid", "full"])),
                dtype=draw(st.sampled_from(DTYPES)),
                engine=draw(st.sampled_from(ENGINES)),
                cut=draw(st.integers(1, 39)), seed=draw(st.integers(0, 99)))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=random_problems())
def test_random_conv_problems_same_bits(case):
    """The issue's measurement as a property: threads=1 against threads=2
    and against the batch cut in two at a random point."""
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal((case["n"],) + case["spatial"]
                            + (case["c"],)).astype(dt)
    w = rng.standard_normal(case["window"] + (case["c"] // case["groups"],
                                              case["f"])).astype(dt)
    fn = getattr(convpool, "conv%dd" % case["r"])

    def any_engine(xx, **kw):
        return fn(xx, w, stride=case["stride"], padding=case["padding"],
                  groups=case["groups"], **kw)
    if not applies(any_engine, x, case["engine"]):
        return

    def call(xx, **kw):
        return any_engine(xx, engine=case["engine"], **kw)
    whole = call(x, threads=1)
    assert_same_bits(call(x, threads=2), whole, "threads=2 %r" % (case,))
    m = min(case["cut"], case["n"] - 1)
    assert_same_bits(np.concatenate([call(x[:m]), call(x[m:])]), whole,
                     "split at %d %r" % (m, case))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool3d_blocks_on_threads_keep_bits(monkeypatch, mode):
    """3-D pooling cut into many depth blocks pooled one per thread (tiny
    blocks forced): the loop reference's values and the same bits for
    1-3 threads, with NaN, inf and -0.0 cells (a maximum starts from a
    copy of its first depth tap, which must keep them)."""
    from convpool.engines import fold
    from reference import ref_pool
    monkeypatch.setattr(fold, "POOL_DEPTH_BYTES", 1)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 7, 9, 8, 3)).astype(np.float32)
    x[0, 1, 2, 3, 0] = np.nan
    x[1, 4, 0, 0, 2] = np.inf
    x[1, 2:4, 4:6, 4:6, 1] = -0.0
    runs = [convpool.pool3d(x, 2, stride=(2, 1, 2), padding="same",
                            mode=mode, threads=t) for t in (1, 2, 3)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other, runs[0])
        assert np.array_equal(np.signbit(other), np.signbit(runs[0]))
    pads = convpool.geometry.resolve_padding("same", x.shape[1:4],
                                             (2, 2, 2), (2, 1, 2), (1, 1, 1))
    want = ref_pool(x, (2, 2, 2), (2, 1, 2), pads, mode=mode)
    np.testing.assert_allclose(runs[0], want, rtol=1e-6, atol=1e-6)
    if mode == "max":
        assert np.isnan(runs[0][0, 0, 2, 1, 0])
        assert np.signbit(runs[0][1, 1, 4, 2, 1])
