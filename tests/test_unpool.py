"""Max pooling with indices and max unpooling against PyTorch; the
max-pool gradient as the unpooling of dy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convpool
from convpool import layouts
from convpool import grad
from convpool.unpool import (adaptive_max_pool_with_indices,
                             max_pool_with_indices)
from gradcase import FEW, POOL_RANKS, from_torch_layout, to_torch_layout

torch = pytest.importorskip("torch")
F = torch.nn.functional


@FEW
@given(rank=st.sampled_from(POOL_RANKS), data=st.data())
def test_indices_and_unpooling_match_torch(rank, data):
    draw = data.draw
    window = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = tuple(draw(st.integers(0, k // 2)) for k in window)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    spatial = tuple(draw(st.integers(d * (k - 1) + 1, 7))
                    for k, d in zip(window, dilation))
    ceil_mode = draw(st.booleans())
    data_format = draw(st.sampled_from(layouts.data_formats(rank)))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    x_t = rng.integers(0, 3, (2, 3, *spatial)).astype(np.float32)
    if draw(st.booleans()):
        x_t[rng.random(x_t.shape) < 0.25] = np.nan
    ref_v, ref_i = getattr(F, f"max_pool{rank}d")(
        torch.tensor(x_t), window, stride, padding, dilation=dilation,
        ceil_mode=ceil_mode, return_indices=True)
    x = from_torch_layout(x_t, data_format)
    values, indices = max_pool_with_indices(
        x, window, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, data_format=data_format)
    assert indices.dtype == np.int64 and values.dtype == x.dtype
    np.testing.assert_array_equal(to_torch_layout(indices, data_format),
                                  ref_i.numpy())
    np.testing.assert_array_equal(to_torch_layout(values, data_format),
                                  ref_v.numpy())
    np.testing.assert_array_equal(values, getattr(convpool, f"pool{rank}d")(
        x, window, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=ceil_mode, data_format=data_format))
    default = [(o - 1) * s - 2 * p + k for o, s, p, k in
               zip(ref_v.shape[2:], stride, padding, window)]
    if not all(d - s < n < d + s for d, s, n in
               zip(default, stride, spatial)):
        return                  # unpooling cannot rebuild x's size
    ref_u = getattr(F, f"max_unpool{rank}d")(
        ref_v, ref_i, window, stride, padding, output_size=x_t.shape[2:])
    got_u = getattr(convpool, f"max_unpool{rank}d")(
        values, indices, window, stride=stride, padding=padding,
        output_size=x_t.shape[2:], data_format=data_format)
    np.testing.assert_array_equal(to_torch_layout(got_u, data_format),
                                  ref_u.numpy())


@FEW
@given(rank=st.sampled_from(POOL_RANKS), data=st.data())
def test_adaptive_indices_match_torch(rank, data):
    spatial = tuple(data.draw(st.integers(1, 7)) for _ in range(rank))
    size = tuple(data.draw(st.integers(1, n + 1)) for n in spatial)
    data_format = data.draw(st.sampled_from(layouts.data_formats(rank)))
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    x_t = rng.integers(0, 3, (2, 2, *spatial)).astype(np.float64)
    if data.draw(st.booleans()):
        x_t[rng.random(x_t.shape) < 0.25] = np.nan
    ref_v, ref_i = getattr(F, f"adaptive_max_pool{rank}d")(
        torch.tensor(x_t), size, return_indices=True)
    values, indices = adaptive_max_pool_with_indices(
        from_torch_layout(x_t, data_format), size, data_format=data_format)
    np.testing.assert_array_equal(to_torch_layout(indices, data_format),
                                  ref_i.numpy())
    np.testing.assert_array_equal(to_torch_layout(values, data_format),
                                  ref_v.numpy())


def test_unpool_default_size_and_repeated_indices_match_torch():
    x = np.arange(1., 9.).reshape(1, 2, 2, 2)       # NCHW
    idx = np.array([[[[0, 5], [5, 15]], [[3, 3], [0, 1]]]])
    ref = F.max_unpool2d(torch.tensor(x), torch.tensor(idx), 2).numpy()
    got = convpool.max_unpool2d(x, idx, 2, data_format="NCHW")
    np.testing.assert_array_equal(got, ref)          # last repeat wins
    assert got.shape == (1, 2, 4, 4)


def test_max_pool_gradient_is_the_unpooling_of_dy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6, 3))
    dy = rng.standard_normal((2, 3, 3, 3))
    _, indices = max_pool_with_indices(x, 2)
    np.testing.assert_array_equal(
        grad.pool2d(x, dy, 2),
        convpool.max_unpool2d(dy, indices, 2, output_size=(6, 6)))


def test_unpool_errors_name_the_argument():
    x = np.ones((1, 2, 2, 1))
    with pytest.raises(ValueError, match=r"`indices` must lie in \[0, 16\)"):
        convpool.max_unpool2d(x, np.full(x.shape, 16), 2)
    with pytest.raises(ValueError, match=r"`indices` must lie in \[0, 16\)"):
        convpool.max_unpool2d(x, np.full(x.shape, -1), 2)
    with pytest.raises(TypeError, match="`indices` must be an integer array"):
        convpool.max_unpool2d(x, np.zeros(x.shape), 2)
    with pytest.raises(ValueError, match="`indices` must have the shape"):
        convpool.max_unpool2d(x, np.zeros((1, 2, 2), int), 2)
    with pytest.raises(ValueError, match="`output_size` must be 2 sizes"):
        convpool.max_unpool2d(x, np.zeros(x.shape, int), 2,
                              output_size=(6, 4))
    with pytest.raises(ValueError, match="`window` must be >= 1"):
        max_pool_with_indices(x, 0)
