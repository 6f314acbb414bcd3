"""3-D convolution runs as 2-D blocks whose channels are gathered depth
slices; each worker gathers just its block (a band of output rows of a few
depth slices).  These cases are big enough in height for the 2-D blocks to
be bands of rows that start inside the picture, and check the result
against the loop reference and its bits across threads and batch cuts,
for every path that can run the folded problem."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import ref_conv

convpool = pytest.importorskip("convpool")

FEW = settings(max_examples=15, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    case = {
        "n": draw(st.integers(1, 3)),
        "d": draw(st.integers(1, 5)),
        "h": draw(st.integers(24, 48)),
        "w": draw(st.integers(3, 12)),
        "c": groups * draw(st.integers(1, 3)),
        "f": groups * draw(st.integers(1, 4)),
        "groups": groups,
        "k": (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
              draw(st.integers(1, 3))),
        "stride": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), 1),
        "dilation": (draw(st.integers(1, 2)), draw(st.integers(1, 2)), 1),
        "dtype": draw(st.sampled_from([np.float32, np.float64])),
        "engine": draw(st.sampled_from(["auto", "banded", "im2col",
                                        "planar", "taps"])),
    }
    case["pads"] = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2)))
                         for _ in range(3))
    return case


def _inputs(case):
    rng = np.random.default_rng(case["n"] * 1000 + case["h"])
    x = rng.standard_normal((case["n"], case["d"], case["h"], case["w"],
                             case["c"])).astype(case["dtype"])
    k = rng.standard_normal(case["k"] + (case["c"] // case["groups"],
                                         case["f"])).astype(case["dtype"])
    return x, k


def _conv(case, x, k, **kw):
    return convpool.conv3d(x, k, stride=case["stride"],
                           padding=case["pads"], dilation=case["dilation"],
                           groups=case["groups"], engine=case["engine"], **kw)


def _runs(case, k):
    """Whether ``engine`` can run this problem (the taps engine refuses
    nothing; the others say why they cannot)."""
    x = np.zeros((1, case["d"], case["h"], case["w"], case["c"]),
                 case["dtype"])
    try:
        _conv(case, x, k)
    except ValueError as err:
        assert "engine" in str(err)
        return False
    return True


@FEW
@given(cases())
def test_conv3d_bands_match_reference_and_keep_bits(case):
    x, k = _inputs(case)
    ext = [(kk - 1) * dd + 1 for kk, dd in zip(case["k"], case["dilation"])]
    if any(n + lo + hi < e for n, (lo, hi), e in zip(
            x.shape[1:4], case["pads"], ext)) or not _runs(case, k):
        return
    frozen = x.copy()
    y = _conv(case, x, k, threads=2)
    np.testing.assert_array_equal(x, frozen)
    want = ref_conv(x, k, case["stride"], case["pads"], case["dilation"],
                    case["groups"])
    tol = 1e-4 if case["dtype"] == np.float32 else 1e-10
    scale = np.prod(case["k"]) * case["c"] * np.abs(x).max() * np.abs(
        k).max()
    np.testing.assert_allclose(y, want, rtol=0, atol=tol * scale)
    for threads in (1, 3):
        np.testing.assert_array_equal(_conv(case, x, k, threads=threads), y)
    cut = [_conv(case, x[i:i + 1], k, threads=2) for i in range(len(x))]
    np.testing.assert_array_equal(np.concatenate(cut), y)


def test_conv3d_band_gathers_only_its_rows():
    """A tall volume with one depth slice out is cut into bands of rows;
    an inf in one band's rows reaches only the outputs that read it."""
    x = np.zeros((1, 3, 64, 8, 4))
    x[0, 1, 40] = np.inf
    k = np.ones((3, 3, 3, 4, 2))
    y = convpool.conv3d(x, k, padding="same", threads=2)
    bad = ~np.isfinite(y[0, 1, :, 0, 0])
    assert np.flatnonzero(bad).tolist() == [39, 40, 41]


@pytest.mark.parametrize("engine", ["auto", "banded", "im2col", "planar",
                                    "taps"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv3d_one_slice_out_runs_in_bands(engine, dtype):
    """One output depth slice on two threads: the 2-D blocks are bands of
    rows, each gathered from its own input rows (16 filters: the banded
    path runs without the finiteness check)."""
    case = {"stride": (1, 2, 1), "pads": ((0, 0), (1, 2), (1, 1)),
            "dilation": (1, 1, 1), "groups": 1, "engine": engine}
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 2, 47, 6, 3)).astype(dtype)
    k = rng.standard_normal((2, 3, 3, 3, 16)).astype(dtype)
    y = _conv(case, x, k, threads=2)
    want = ref_conv(x, k, case["stride"], case["pads"], case["dilation"])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
    np.testing.assert_array_equal(_conv(case, x, k, threads=1), y)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool3d_slices_over_the_depth_budget(mode):
    """Depth slices of 2 MiB (over POOL_DEPTH_BYTES): each is pooled in
    bands of rows; the result equals the separable NumPy reduction and
    keeps its bits across threads and batch cuts."""
    from convpool.engines import fold
    x = np.random.default_rng(3).standard_normal(
        (3, 4, 256, 256, 8)).astype(np.float32)
    assert x[0, 0].nbytes > fold.POOL_DEPTH_BYTES
    y = convpool.pool3d(x, 2, mode=mode, threads=2)
    blocks = x.reshape(3, 2, 2, 128, 2, 128, 2, 8)
    want = (blocks.max(axis=(2, 4, 6)) if mode == "max"
            else blocks.mean(axis=(2, 4, 6), dtype=np.float64))
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(convpool.pool3d(x, 2, mode=mode,
                                                  threads=1), y)
    np.testing.assert_array_equal(
        np.concatenate([convpool.pool3d(x[i:i + 1], 2, mode=mode)
                        for i in range(3)]), y)
