"""convpool.nn against PyTorch: layer gradients through autograd, and
whole training runs step for step with identical weights and batches."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convpool
from convpool import nn

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
TORCH_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
CONV = {1: nn.Conv1D, 2: nn.Conv2D, 3: nn.Conv3D}
MAXPOOL = {1: nn.MaxPool1D, 2: nn.MaxPool2D, 3: nn.MaxPool3D}
AVGPOOL = {1: nn.AvgPool1D, 2: nn.AvgPool2D, 3: nn.AvgPool3D}


def has_rank(rank):
    return hasattr(convpool, f"conv{rank}d") and hasattr(
        convpool.grad, f"conv{rank}d")


ranks = st.sampled_from([r for r in (1, 2, 3) if has_rank(r)])


def to_torch(x):
    """Channels-last NumPy to channels-first torch, requiring grad."""
    return torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)


def from_torch(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


def kernel_to_torch(k):
    """(*K, C/g, F) to torch's (F, C/g, *K)."""
    return np.ascontiguousarray(np.moveaxis(k, (-1, -2), (0, 1)))


def built(layer, x, seed=0):
    layer.build(x.shape[1:], np.random.default_rng(seed), x.dtype)
    return layer


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --------------------------------------------------------------------------
# Layers: forward and backward against autograd.

@pytest.mark.filterwarnings("ignore:Using padding='same'")
@SETTINGS
@given(rank=ranks, data=st.data())
def test_conv_layer_matches_autograd(rank, data):
    groups = data.draw(st.sampled_from([1, 2]))
    c = groups * data.draw(st.integers(1, 2))
    f = groups * data.draw(st.integers(1, 3))
    k = data.draw(st.integers(1, 3))
    stride = data.draw(st.integers(1, 2))
    dilation = data.draw(st.integers(1, 2))
    padding = data.draw(st.sampled_from(["valid", "same", 0, 1]))
    if padding == "same" and stride > 1:
        padding = 1                      # torch refuses 'same' with stride
    size = (k - 1) * dilation + 1 + data.draw(st.integers(0, 4))
    use_bias = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((2,) + (size,) * rank + (c,))
    layer = built(CONV[rank](f, k, stride=stride, padding=padding,
                             dilation=dilation, groups=groups,
                             use_bias=use_bias), x)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)

    xt = to_torch(x)
    kt = torch.tensor(kernel_to_torch(layer.params["kernel"]),
                      requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True) \
        if use_bias else None
    yt = TORCH_CONV[rank](xt, kt, bt, stride=stride, padding=padding,
                          dilation=dilation, groups=groups)
    yt.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    np.testing.assert_allclose(y, from_torch(yt), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dx, from_torch(xt.grad), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(kernel_to_torch(layer.grads["kernel"]),
                               kt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if use_bias:
        np.testing.assert_allclose(layer.grads["bias"], bt.grad.numpy(),
                                   rtol=1e-9, atol=1e-12)
    else:
        assert "bias" not in layer.params and "bias" not in layer.grads


@SETTINGS
@given(rank=ranks, data=st.data())
def test_pool_layers_match_autograd(rank, data):
    mode = data.draw(st.sampled_from(["max", "avg"]))
    window = data.draw(st.integers(1, 3))
    stride = data.draw(st.integers(1, 3))
    padding = data.draw(st.integers(0, window // 2))
    size = window + data.draw(st.integers(0, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    # few distinct values, so max pooling meets ties
    x = rng.integers(0, 4, (2,) + (size,) * rank + (3,)).astype(float)
    layer_class = MAXPOOL[rank] if mode == "max" else AVGPOOL[rank]
    options = {} if mode == "max" else {"count_include_pad": True}
    layer = built(layer_class(window, stride=stride, padding=padding,
                              **options), x)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    xt = to_torch(x)
    op = TORCH_MAX[rank] if mode == "max" else TORCH_AVG[rank]
    yt = op(xt, window, stride, padding)
    yt.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    np.testing.assert_allclose(y, from_torch(yt), rtol=1e-12)
    np.testing.assert_allclose(dx, from_torch(xt.grad), rtol=1e-12,
                               atol=1e-12)


@SETTINGS
@given(data=st.data())
def test_dense_relu_tanh_flatten_match_autograd(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((data.draw(st.integers(1, 5)), 2, 3, 2))
    x[0, 0, 0, 0] = 0.0                      # ReLU's kink: gradient 0
    layers = [nn.Flatten(), nn.Dense(4), nn.Tanh(), nn.Dense(3),
              nn.ReLU()]
    net = nn.Sequential(layers, x.shape[1:], seed=data.draw(
        st.integers(0, 99)))
    y = net.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = net.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    w1, b1, w2, b2 = (torch.tensor(p, requires_grad=True)
                      for p in net.parameters())
    yt = F.relu(torch.tanh(xt.reshape(len(x), -1) @ w1 + b1) @ w2 + b2)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    for g, t in zip(net.gradients(), (w1, b1, w2, b2)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12,
                                   atol=1e-15)


def test_relu_gradient_at_zero_is_zero():
    layer = nn.ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    assert layer.backward(np.ones((1, 3))).tolist() == [[0.0, 0.0, 1.0]]


SPECIAL = [-1.0, -0.0, 0.0, 1.5, np.nan, np.inf, -np.inf, 1e-30, -1e-30]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("seed", range(3))
def test_relu_bits_equal_torch_with_special_values(dtype, seed):
    """Forward and backward bits equal PyTorch's, signed zeros, inf and NaN
    in both x and dy included; the inputs are left alone."""
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array(SPECIAL), (3, 5, 4, 2)).astype(dtype)
    dy = rng.choice(np.array(SPECIAL), x.shape).astype(dtype)
    frozen = x.copy(), dy.copy()
    layer = nn.ReLU()
    y = layer.forward(x)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.relu(xt)
    yt.backward(torch.tensor(dy))
    for ours, theirs in ((y, yt.detach().numpy()), (dx, xt.grad.numpy())):
        assert ours.dtype == dtype
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    np.testing.assert_array_equal(x, frozen[0])
    np.testing.assert_array_equal(dy, frozen[1])


def test_relu_backward_on_a_strided_dy():
    layer = nn.ReLU()
    x = np.arange(-6.0, 6.0).reshape(3, 4)
    layer.forward(x[:, ::2])
    dy = np.arange(1.0, 13.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(layer.backward(dy),
                                  np.where(x[:, ::2] > 0, dy, 0))


def test_dropout_masks_follow_the_network_seed():
    def masks(seed):
        net = nn.Sequential([nn.Dropout(0.5)], (6,), seed=seed)
        return net.forward(np.ones((4, 6)), training=True)
    np.testing.assert_array_equal(masks(1), masks(1))
    assert not np.array_equal(masks(1), masks(2))


def test_dropout_scales_kept_values_and_is_off_when_evaluating():
    layer = nn.Dropout(0.25, seed=0)
    x = np.ones((200, 50))
    y = layer.forward(x)
    assert set(np.unique(y).tolist()) == {0.0, 4 / 3}
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(layer.backward(x), y)
    layer.training = False
    np.testing.assert_array_equal(layer.forward(x), x)


@SETTINGS
@given(data=st.data())
def test_softmax_cross_entropy_matches_torch(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    n, k = data.draw(st.integers(1, 6)), data.draw(st.integers(2, 5))
    logits = rng.standard_normal((n, k)) * data.draw(
        st.sampled_from([1.0, 50.0]))
    labels = rng.integers(0, k, n)
    loss, d = nn.softmax_cross_entropy(logits, labels)
    t = torch.tensor(logits, requires_grad=True)
    lt = F.cross_entropy(t, torch.tensor(labels))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(d, t.grad.numpy(), rtol=1e-10, atol=1e-15)


# --------------------------------------------------------------------------
# Whole training runs: 20 optimiser steps, same weights and batches.

class TorchLeNet(torch.nn.Module):
    """convpool.nn.lenet5 in PyTorch, with its weights copied in."""

    def __init__(self, net):
        super().__init__()
        conv1, conv2, d1, d2, d3 = [
            layer for layer in net.layers if layer.params]
        self.convs = torch.nn.ParameterList()
        for layer in (conv1, conv2):
            self.convs.append(torch.nn.Parameter(torch.tensor(
                kernel_to_torch(layer.params["kernel"]))))
            self.convs.append(torch.nn.Parameter(torch.tensor(
                layer.params["bias"])))
        self.dense = torch.nn.ParameterList()
        for layer in (d1, d2, d3):
            self.dense.append(torch.nn.Parameter(torch.tensor(
                layer.params["kernel"])))
            self.dense.append(torch.nn.Parameter(torch.tensor(
                layer.params["bias"])))

    def forward(self, x):
        k1, b1, k2, b2 = self.convs
        x = F.max_pool2d(F.relu(F.conv2d(x, k1, b1, padding=2)), 2, 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, k2, b2)), 2, 2)
        x = x.permute(0, 2, 3, 1).reshape(len(x), -1)   # channels-last
        w1, c1, w2, c2, w3, c3 = self.dense
        x = F.relu(x @ w1 + c1)
        x = F.relu(x @ w2 + c2)
        return x @ w3 + c3

    def in_convpool_order(self):
        k1, b1, k2, b2 = (p.detach().numpy() for p in self.convs)
        k1, k2 = (np.moveaxis(k, (0, 1), (-1, -2)) for k in (k1, k2))
        return [k1, b1, k2, b2] + [p.detach().numpy() for p in self.dense]


OPTIMISERS = {
    "sgd-momentum": (lambda: nn.SGD(lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "adam": (lambda: nn.Adam(lr=2e-3),
             lambda p: torch.optim.Adam(p, lr=2e-3)),
}


def train_both(optimiser, dtype, steps=20):
    make_ours, make_torch = OPTIMISERS[optimiser]
    net = nn.lenet5((16, 16, 1), 10, seed=3, dtype=dtype)
    twin = TorchLeNet(net)
    ours, theirs = make_ours(), make_torch(twin.parameters())
    rng = np.random.default_rng(7)
    x = rng.random((steps * 8, 16, 16, 1)).astype(dtype)
    labels = rng.integers(0, 10, len(x))
    losses = []
    for step in range(steps):
        xb, yb = x[step * 8:step * 8 + 8], labels[step * 8:step * 8 + 8]
        loss, _ = net.train_step(xb, yb, ours)
        theirs.zero_grad()
        tloss = F.cross_entropy(twin(torch.tensor(np.moveaxis(xb, -1, 1))),
                                torch.tensor(yb))
        tloss.backward()
        theirs.step()
        losses.append((loss, tloss.item()))
    return net.parameters(), twin.in_convpool_order(), losses


@pytest.mark.parametrize("optimiser", sorted(OPTIMISERS))
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-9),
                                        ("float32", 1e-4)])
def test_twenty_steps_equal_pytorch(optimiser, dtype, tol):
    ours, theirs, losses = train_both(optimiser, dtype)
    start = nn.lenet5((16, 16, 1), 10, seed=3, dtype=dtype).parameters()
    for p, t, p0 in zip(ours, theirs, start):
        assert p.dtype == t.dtype == np.dtype(dtype)
        assert rel_err(p, t) <= tol
        assert not np.array_equal(p, p0)        # training moved it
    for a, b in losses:
        assert a == pytest.approx(b, rel=tol)


# --------------------------------------------------------------------------
# Building, saving and loading.

def test_lenet5_layers_and_shapes():
    net = nn.lenet5((28, 28, 1), 10)
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(5, 5, 1, 6), (6,), (5, 5, 6, 16), (16,),
                      (400, 120), (120,), (120, 84), (84,), (84, 10), (10,)]
    assert net.forward(np.zeros((2, 28, 28, 1))).shape == (2, 10)


def test_initialisation_is_seeded_and_he_scaled():
    a = nn.lenet5((28, 28, 1), 10, seed=1).parameters()
    b = nn.lenet5((28, 28, 1), 10, seed=1).parameters()
    c = nn.lenet5((28, 28, 1), 10, seed=2).parameters()
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert a[4].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert not a[1].any()                              # biases start at 0
    g = nn.Dense(50, init="glorot")
    g.build((200,), np.random.default_rng(0), np.float64)
    assert np.abs(g.params["kernel"]).max() <= np.sqrt(6 / 250)


def test_save_and_load_round_trip(tmp_path):
    net = nn.lenet5((16, 16, 1), 10, seed=0)
    x = np.random.default_rng(0).random((4, 16, 16, 1))
    net.train_step(x, np.arange(4), nn.SGD(lr=0.1))
    net.save_weights(tmp_path / "w.npz")
    other = nn.lenet5((16, 16, 1), 10, seed=5)
    other.load_weights(tmp_path / "w.npz")
    for p, q in zip(net.parameters(), other.parameters()):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(net.predict(x), other.predict(x))
    with np.load(tmp_path / "w.npz", allow_pickle=False) as saved:
        assert "0.kernel" in saved.files and "11.bias" in saved.files


def test_load_refuses_other_architectures(tmp_path):
    nn.lenet5((16, 16, 1), 10).save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"`path` .*: 11\.kernel has shape "
                       r"\(84, 10\), expected \(84, 3\)"):
        nn.lenet5((16, 16, 1), 3).load_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="`path` .* holds weights"):
        nn.Sequential([nn.Flatten(), nn.Dense(2)], (3,)).load_weights(
            tmp_path / "w.npz")


def test_fit_learns_and_reports_every_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 4))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = nn.Sequential([nn.Dense(16), nn.ReLU(), nn.Dense(2)], (4,))
    seen = []
    history = net.fit(x, labels, nn.Adam(lr=0.01), epochs=15,
                      batch_size=16, validation=(x, labels),
                      on_batch=lambda *a: seen.append(a))
    assert sorted(history) == ["accuracy", "loss", "val_accuracy",
                               "val_loss"]
    assert all(len(v) == 15 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    assert net.evaluate(x, labels)[1] >= 0.95
    assert seen[-1][:3] == (14, 120, 120)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.SGD(lr=-0.1), r"`lr` must be a finite number >= 0, got -0.1"),
    (lambda: nn.Adam(betas=(0.9, 1.0)), r"`betas` must be two numbers"),
    (lambda: nn.Dropout(1.0), r"`rate` must be in \[0, 1\), got 1.0"),
    (lambda: nn.Conv2D(4, (3, 3, 3)), r"`kernel_size` must be an int or 2"),
    (lambda: nn.Dense(3, init="zeros"), r"`init` must be 'he' or 'glorot'"),
    (lambda: nn.Sequential([], (2,), dtype="int32"),
     r"`dtype` must be float32 or float64, got int32"),
])
def test_bad_arguments_name_themselves(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_training_backward_skips_only_the_data_gradient():
    """``input_grad=False`` returns None and leaves every parameter
    gradient as with it; max pooling reuses its forward's indices."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (3, 12, 12, 1)).astype(np.float64)   # ties
    net = nn.lenet5((12, 12, 1), 4, seed=1)
    dy = rng.standard_normal(net.forward(x).shape)
    dx = net.backward(dy)
    grads = [g.copy() for g in net.gradients()]
    assert dx.shape == x.shape
    net.forward(x)
    assert net.backward(dy, input_grad=False) is None
    for a, b in zip(net.gradients(), grads):
        np.testing.assert_array_equal(a, b)
    pool = net.layers[2]
    _, indices = convpool.max_pool2d(pool.x, 2, stride=2,
                                     return_indices=True)
    np.testing.assert_array_equal(pool.indices, indices)
