"""conv_transpose{1,2,3}d against PyTorch's conv_transpose, TensorFlow's
conv2d_transpose (skipped without TensorFlow) and convpool.grad."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convpool
from convpool import layouts
from convpool import grad
from gradcase import (CONV_RANKS, FEW, from_torch_layout, kernel_from_oi,
                      to_torch_layout, tol)

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)


@FEW
@given(rank=st.sampled_from(CONV_RANKS), data=st.data())
def test_conv_transpose_matches_torch(rank, data):
    draw = data.draw
    groups, cg, fg = (draw(st.integers(1, 3)) for _ in range(3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(rank))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    assume(all((i - 1) * s - 2 * p + d * (kk - 1) + op + 1 >= 1 for
               i, s, p, d, kk, op in zip(spatial, stride, padding, dilation,
                                         k, output_padding)))
    data_format = draw(st.sampled_from(layouts.data_formats(rank)))
    kernel_format = draw(st.sampled_from(layouts.kernel_formats(rank)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    x_t = rng.standard_normal((2, groups * fg, *spatial)).astype(dtype)
    w_t = rng.standard_normal((groups * fg, cg, *k)).astype(dtype)
    bias = rng.standard_normal(groups * cg).astype(dtype)
    ref = getattr(F, f"conv_transpose{rank}d")(
        torch.tensor(x_t), torch.tensor(w_t), torch.tensor(bias),
        stride=stride, padding=padding, output_padding=output_padding,
        groups=groups, dilation=dilation).numpy()
    x = from_torch_layout(x_t, data_format)
    w = kernel_from_oi(w_t, kernel_format)
    got = getattr(convpool, f"conv_transpose{rank}d")(
        x, w, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups, bias=bias, data_format=data_format,
        kernel_format=kernel_format)
    assert got.dtype == dtype
    np.testing.assert_allclose(to_torch_layout(got, data_format), ref,
                               **tol(dtype))


@pytest.mark.parametrize("padding", ["same", "same_lower", "valid", "full",
                                     ((2, 0), (1, 3))])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_transpose_is_the_input_gradient(padding, stride):
    """conv_transpose2d(dy, k) is grad.conv2d's dx for the input size the
    padding gives (I * stride for 'same', as in TensorFlow)."""
    rng = np.random.default_rng(stride)
    k = rng.standard_normal((3, 2, 2, 4))
    dy = rng.standard_normal((2, 4, 5, 4))
    out = convpool.conv_transpose2d(dy, k, stride=stride, padding=padding,
                                    dilation=(1, 2))
    if padding in ("same", "same_lower"):
        assert out.shape[1:3] == (4 * stride, 5 * stride)
    x = np.zeros(out.shape[:3] + (2,))
    y = convpool.conv2d(x, k, stride=stride, padding=padding,
                        dilation=(1, 2))
    assert y.shape == dy.shape
    dx, _, _ = grad.conv2d(x, k, dy, stride=stride, padding=padding,
                           dilation=(1, 2))
    np.testing.assert_allclose(out, dx, rtol=1e-12)


def test_conv_transpose_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 3))
    k = rng.standard_normal((3, 3, 2, 3))
    for padding in ("SAME", "VALID"):
        for stride in (1, 2, 3):
            got = convpool.conv_transpose2d(x, k, stride=stride,
                                            padding=padding)
            ref = tf.nn.conv2d_transpose(x, k, got.shape, stride,
                                         padding).numpy()
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_conv_transpose_errors_name_the_argument():
    x, k = np.ones((1, 3, 3, 4)), np.ones((3, 3, 2, 4))
    with pytest.raises(ValueError, match="`output_padding` must be smaller "
                       "than `stride` or `dilation`"):
        convpool.conv_transpose2d(x, k, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="`output_padding` must be 0 with "
                       "padding 'same'"):
        convpool.conv_transpose2d(x, k, stride=2, padding="same",
                                  output_padding=1)
    with pytest.raises(ValueError, match=r"`kernels` \(HWIO\) must have F = "
                       "4 filters"):
        convpool.conv_transpose2d(x, np.ones((3, 3, 2, 5)))
    with pytest.raises(ValueError, match="`bias` must have shape"):
        convpool.conv_transpose2d(x, k, bias=np.ones(4))
    with pytest.raises(ValueError, match="`padding` 4 leaves no output"):
        convpool.conv_transpose2d(x, k, padding=4)
    with pytest.raises(ValueError, match="`x` must have 4 dimensions"):
        convpool.conv_transpose2d(x[0], k)
    with pytest.raises(ValueError, match="`stride` must be >= 1"):
        convpool.conv_transpose2d(x, k, stride=0)
