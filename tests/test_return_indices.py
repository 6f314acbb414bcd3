"""``return_indices=True`` on the max-pooling ops equals PyTorch's, ties
included (the ops hand over to convpool.unpool)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convpool

FORMATS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_max_pool_indices_equal_torch(rank, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 3) + (6,) * rank).astype(float)  # many ties
    values, idx = getattr(convpool, f"max_pool{rank}d")(
        x, 2, stride=1, padding=1, data_format=FORMATS[rank],
        return_indices=True)
    tv, ti = getattr(F, f"max_pool{rank}d")(torch.tensor(x), 2, 1, 1,
                                            return_indices=True)
    assert np.array_equal(values, tv.numpy())
    assert np.array_equal(idx, ti.numpy())


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_max_pool_indices_equal_torch(rank):
    x = np.random.default_rng(rank).integers(0, 3, (2, 2) + (7,) * rank) \
        .astype(float)
    values, idx = getattr(convpool, f"adaptive_max_pool{rank}d")(
        x, 3, data_format=FORMATS[rank], return_indices=True)
    tv, ti = getattr(F, f"adaptive_max_pool{rank}d")(
        torch.tensor(x), 3, return_indices=True)
    assert np.array_equal(values, tv.numpy())
    assert np.array_equal(idx, ti.numpy())


LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


# Channels either side of unpool.FEW_CHANNELS: the argmax works
# channel-major, then pixel-major.
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("channels", [3, 5, 6, 20])
@pytest.mark.parametrize("seed", range(4))
def test_indices_with_ties_nan_and_signed_zeros_equal_torch(rank, channels,
                                                            seed):
    """Random geometry; cells drawn from a few values with NaN, -0.0 and
    0.0 among them, channels last (the path the layers use)."""
    rng = np.random.default_rng(100 * rank + seed)
    window = tuple(int(k) for k in rng.integers(1, 4, rank))
    stride = tuple(int(s) for s in rng.integers(1, 3, rank))
    dilation = tuple(int(d) for d in rng.integers(1, 3, rank))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in window)
    cells = np.array([np.nan, -0.0, 0.0, 1.0, 2.0, -1.0])
    p = [0.05, 0.2, 0.2, 0.25, 0.15, 0.15]
    x = rng.choice(cells, (2,) + (7,) * rank + (channels,), p=p)
    values, idx = getattr(convpool, f"max_pool{rank}d")(
        x, window, stride=stride, padding=padding, dilation=dilation,
        data_format=LAST[rank], return_indices=True)
    tx = torch.tensor(np.moveaxis(x, -1, 1))
    tv, ti = getattr(F, f"max_pool{rank}d")(
        tx, window, stride, padding, dilation, return_indices=True)
    np.testing.assert_array_equal(values, np.moveaxis(tv.numpy(), 1, -1))
    np.testing.assert_array_equal(idx, np.moveaxis(ti.numpy(), 1, -1))
