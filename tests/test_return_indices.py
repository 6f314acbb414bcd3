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
