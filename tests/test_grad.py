"""convpool.grad against PyTorch's autograd, finite differences and the
forward ops themselves.

Asymmetric padding and the padding words go to PyTorch through F.pad
(zeros), after which the unpadded torch op runs: autograd then crops the
padding from dx, as convpool must.
"""

import inspect

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convpool
from convpool import layouts
from convpool import grad
from convpool.geometry import resolve_padding
from gradcase import (CONV_RANKS, FEW, POOL_RANKS, from_torch_layout,
                      kernel_from_oi, kernel_to_oi, paddings,
                      to_torch_layout, tol, torch_pad_list)

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)


@st.composite
def conv_cases(draw):
    rank = draw(st.sampled_from(CONV_RANKS))
    groups = draw(st.integers(1, 3))
    cg, fg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = draw(paddings(rank))
    pads = resolve_padding(padding, spatial, k, stride, dilation)
    assume(all(n + lo + hi >= (kk - 1) * d + 1 for n, (lo, hi), kk, d
               in zip(spatial, pads, k, dilation)))
    return dict(rank=rank, groups=groups, cg=cg, fg=fg, k=k,
                spatial=spatial, stride=stride, dilation=dilation,
                padding=padding, pads=pads, n=draw(st.integers(1, 2)),
                data_format=draw(st.sampled_from(layouts.data_formats(rank))),
                kernel_format=draw(
                    st.sampled_from(layouts.kernel_formats(rank))),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2 ** 16)))


def torch_conv_grads(x, w, dy, case):
    """dx, dw, db of F.conv{r}d by autograd, channels first, OI* kernels."""
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.zeros(w.shape[0], dtype=tx.dtype, requires_grad=True)
    conv = getattr(F, f"conv{case['rank']}d")
    y = conv(F.pad(tx, torch_pad_list(case["pads"])), tw, tb,
             stride=case["stride"], dilation=case["dilation"],
             groups=case["groups"])
    y.backward(torch.tensor(dy))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


@FEW
@given(conv_cases())
def test_conv_grad_matches_torch_autograd(case):
    check_conv_grad(case)


@FEW
@given(conv_cases(), st.integers(1, 2), st.integers(4, 8))
def test_stacked_kernel_grad_matches_torch_autograd(case, cg, fg):
    """One or two channels and four or more filters at stride 1: the
    kernel gradient's taps stacked into one product (``_add_stacked``),
    also in pieces smaller than a chunk."""
    case = dict(case, groups=1, cg=cg, fg=fg, stride=(1,) * case["rank"])
    case["pads"] = resolve_padding(case["padding"], case["spatial"],
                                   case["k"], case["stride"],
                                   case["dilation"])
    assume(all(n + lo + hi >= (kk - 1) * d + 1 for n, (lo, hi), kk, d
               in zip(case["spatial"], case["pads"], case["k"],
                      case["dilation"])))
    check_conv_grad(case)
    saved = grad.STACK_BYTES
    try:
        grad.STACK_BYTES = 64
        check_conv_grad(case)
    finally:
        grad.STACK_BYTES = saved


def check_conv_grad(case):
    rng = np.random.default_rng(case["seed"])
    g, dtype = case["groups"], case["dtype"]
    x_t = rng.standard_normal((case["n"], g * case["cg"], *case["spatial"]))
    w_t = rng.standard_normal((g * case["fg"], case["cg"], *case["k"]))
    x_t, w_t = x_t.astype(dtype), w_t.astype(dtype)
    x = from_torch_layout(x_t, case["data_format"])
    w = kernel_from_oi(w_t, case["kernel_format"])
    keywords = dict(stride=case["stride"], padding=case["padding"],
                    dilation=case["dilation"], groups=g,
                    data_format=case["data_format"],
                    kernel_format=case["kernel_format"])
    y = getattr(convpool, f"conv{case['rank']}d")(x, w, **keywords)
    dy = rng.standard_normal(y.shape).astype(dtype)
    before = [a.copy() for a in (x, w, dy)]
    dx, dw, db = getattr(grad, f"conv{case['rank']}d")(x, w, dy, **keywords)
    for a, b in zip((x, w, dy), before):
        np.testing.assert_array_equal(a, b)     # inputs never modified
    ref_dx, ref_dw, ref_db = torch_conv_grads(
        x_t, w_t, to_torch_layout(dy, case["data_format"]), case)
    assert dx.dtype == dw.dtype == db.dtype == dtype
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(to_torch_layout(dx, case["data_format"]),
                               ref_dx, **tol(dtype))
    np.testing.assert_allclose(kernel_to_oi(dw, case["kernel_format"]),
                               ref_dw, **tol(dtype))
    np.testing.assert_allclose(db, ref_db, **tol(dtype))


@st.composite
def pool_cases(draw):
    rank = draw(st.sampled_from(POOL_RANKS))
    window = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = tuple(draw(st.integers(0, k // 2)) for k in window)
    mode = draw(st.sampled_from(["max", "avg"]))
    # PyTorch pools average without dilation.
    dilation = tuple(draw(st.integers(1, 2 if mode == "max" else 1))
                     for _ in range(rank))
    # PyTorch's avg_pool3d wants every axis at least the window, padding
    # or not.
    spatial = tuple(draw(st.integers(d * (k - 1) + 1, 8))
                    for k, d in zip(window, dilation))
    return dict(rank=rank, window=window, stride=stride, padding=padding,
                dilation=dilation, spatial=spatial, mode=mode,
                ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()),
                data_format=draw(st.sampled_from(layouts.data_formats(rank))),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                values=draw(st.sampled_from(["ties", "nan", "normal"])),
                seed=draw(st.integers(0, 2 ** 16)))


def pool_input(rng, shape, values, dtype):
    """Repeated small integers make ties; some cells NaN."""
    if values == "normal":
        return rng.standard_normal(shape).astype(dtype)
    x = rng.integers(0, 3, shape).astype(dtype)
    if values == "nan":
        x[rng.random(shape) < 0.25] = np.nan
    return x


@FEW
@given(pool_cases())
def test_pool_grad_matches_torch_autograd(case):
    """PyTorch's rules: ties to the first maximum in scan order, NaN
    maximal, overlaps add; average divisor as count_include_pad says."""
    rng = np.random.default_rng(case["seed"])
    rank, dtype = case["rank"], case["dtype"]
    x_t = pool_input(rng, (2, 3, *case["spatial"]), case["values"], dtype)
    x = from_torch_layout(x_t, case["data_format"])
    tx = torch.tensor(x_t, requires_grad=True)
    if case["mode"] == "max":
        y = getattr(F, f"max_pool{rank}d")(
            tx, case["window"], case["stride"], case["padding"],
            dilation=case["dilation"], ceil_mode=case["ceil_mode"])
    else:
        y = getattr(F, f"avg_pool{rank}d")(
            tx, case["window"], case["stride"], case["padding"],
            ceil_mode=case["ceil_mode"],
            count_include_pad=case["count_include_pad"])
    dy_t = rng.standard_normal(y.shape).astype(dtype)
    y.backward(torch.tensor(dy_t))
    dy = from_torch_layout(dy_t, case["data_format"])
    x_before = x.copy()
    dx = getattr(grad, f"pool{rank}d")(
        x, dy, case["window"], stride=case["stride"],
        padding=case["padding"], dilation=case["dilation"],
        mode=case["mode"], ceil_mode=case["ceil_mode"],
        count_include_pad=case["count_include_pad"],
        data_format=case["data_format"])
    np.testing.assert_array_equal(x, x_before)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(to_torch_layout(dx, case["data_format"]),
                               tx.grad.numpy(), **tol(dtype))


@FEW
@given(rank=st.sampled_from(POOL_RANKS), data=st.data())
def test_avg_pool_grad_is_the_adjoint_of_the_forward(rank, data):
    """Average pooling is linear, so <dx, u> = <dy, pool(u)> for every u:
    this covers what PyTorch lacks (padding words, asymmetric padding,
    dilation)."""
    window = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    spatial = tuple(data.draw(st.integers(3, 6)) for _ in range(rank))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(rank))
    padding = data.draw(paddings(rank, most=1))
    pads = resolve_padding(padding, spatial, window, stride, dilation)
    assume(all(max(p) < d * (k - 1) + 1 and n + sum(p) >= d * (k - 1) + 1
               for p, k, d, n in zip(pads, window, dilation, spatial)))
    keywords = dict(stride=stride, padding=padding, mode="avg",
                    dilation=dilation,
                    ceil_mode=data.draw(st.booleans()),
                    count_include_pad=data.draw(st.booleans()))
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    pool = getattr(convpool, f"pool{rank}d")
    u = rng.standard_normal((2, *spatial, 2))
    dy = rng.standard_normal(pool(u, window, **keywords).shape)
    dx = getattr(grad, f"pool{rank}d")(u * 0, dy, window, **keywords)
    np.testing.assert_allclose(np.vdot(dx, u),
                               np.vdot(dy, pool(u, window, **keywords)),
                               rtol=1e-10)


def numeric_gradient(f, a, eps=1e-6):
    """Central differences of the scalar f at every cell of a."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        orig = a[i]
        a[i] = orig + eps
        up = f()
        a[i] = orig - eps
        g[i] = (up - f()) / (2 * eps)
        a[i] = orig
    return g


@pytest.mark.parametrize("rank", CONV_RANKS)
@pytest.mark.parametrize("keywords", [
    dict(stride=2, padding="same", dilation=1, groups=1),
    dict(stride=1, padding="pairs", dilation=2, groups=2),
])
def test_conv_grad_finite_differences(rank, keywords):
    rng = np.random.default_rng(rank)
    if keywords["padding"] == "pairs":
        keywords = dict(keywords, padding=((2, 0),) * rank)
    x = rng.standard_normal((1, *(5,) * rank, 2))
    k = rng.standard_normal(((2,) * rank + (2 // keywords["groups"], 2)))
    conv = getattr(convpool, f"conv{rank}d")
    dy = rng.standard_normal(conv(x, k, **keywords).shape)

    def loss():
        return np.vdot(conv(x, k, **keywords), dy)
    dx, dk, _ = getattr(grad, f"conv{rank}d")(x, k, dy, **keywords)
    np.testing.assert_allclose(dx, numeric_gradient(loss, x), atol=1e-7)
    np.testing.assert_allclose(dk, numeric_gradient(loss, k), atol=1e-7)


@pytest.mark.parametrize("rank", POOL_RANKS)
@pytest.mark.parametrize("keywords", [
    dict(mode="max", stride=1, padding="same"),
    dict(mode="max", stride=2, padding=1, ceil_mode=True),
    dict(mode="avg", stride=2, padding="same", count_include_pad=True),
    dict(mode="avg", stride=1, padding=1, ceil_mode=True),
])
def test_pool_grad_finite_differences(rank, keywords):
    rng = np.random.default_rng(rank)
    x = rng.permutation(5 ** rank * 2).reshape((1, *(5,) * rank, 2)) / 7.0
    pool = getattr(convpool, f"pool{rank}d")
    dy = rng.standard_normal(pool(x, 3, **keywords).shape)

    def loss():
        return np.vdot(pool(x, 3, **keywords), dy)
    dx = getattr(grad, f"pool{rank}d")(x, dy, 3, **keywords)
    # The central differences' own error reaches 1e-7 here (cells up to
    # 35, a step of 1e-6; 1.3e-7 with OpenBLAS's Haswell ddot).
    np.testing.assert_allclose(dx, numeric_gradient(loss, x), atol=1e-6)


def test_max_pool_grad_ties_and_nan_follow_pytorch():
    """All of a window's dy to its first maximum; NaN is maximal and the
    last NaN wins (PyTorch's CPU rule `val > max || isnan(val)`)."""
    x = np.array([[2., 2., 1., np.nan, 3., np.nan]]).reshape(1, 1, 6, 1)
    dx = grad.pool2d(x, np.array([1., 10.]).reshape(1, 1, 2, 1), (1, 3))
    np.testing.assert_array_equal(dx.ravel(), [1, 0, 0, 0, 0, 10])
    ones = np.ones((1, 3, 3, 1))
    dx = grad.pool2d(ones, np.ones((1, 2, 2, 1)), 2, stride=1)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 1, 0], [1, 1, 0],
                                                   [0, 0, 0]])
    peak = np.zeros((1, 3, 3, 1))
    peak[0, 1, 1] = 1                         # overlapping windows add
    dx = grad.pool2d(peak, np.ones((1, 2, 2, 1)), 2, stride=1)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0, 0], [0, 4, 0],
                                                   [0, 0, 0]])


@pytest.mark.parametrize("dtype, expected", [
    (np.float32, np.float32), (np.float64, np.float64),
    (np.int64, np.float64), (np.uint8, np.float64), (np.float16, np.float16)])
def test_gradient_dtypes_follow_the_forward(dtype, expected):
    x = np.arange(32).reshape(2, 4, 4, 1).astype(dtype)
    k = np.ones((2, 2, 1, 3), dtype)
    dy = np.ones((2, 3, 3, 3), dtype)
    assert {a.dtype for a in grad.conv2d(x, k, dy)} == {np.dtype(expected)}
    for mode in ("max", "avg"):
        assert grad.pool2d(x, dy[..., :1], 2, stride=1,
                           mode=mode).dtype == expected


def test_bad_dy_and_forward_errors_name_the_argument():
    x, k = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4))
    with pytest.raises(ValueError, match=r"`dy` must have the forward "
                       r"output's shape \(2, 3, 3, 4\), got \(2, 3, 3\)"):
        grad.conv2d(x, k, np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="`stride` must be >= 1"):
        grad.conv2d(x, k, np.ones((2, 3, 3, 4)), stride=0)
    with pytest.raises(ValueError, match="`data_format` must be one of"):
        grad.conv2d(x, k, np.ones((2, 3, 3, 4)), data_format="NWC")
    with pytest.raises(TypeError, match="`dy` must be a numeric array"):
        grad.conv2d(x, k, np.full((2, 3, 3, 4), "a"))
    with pytest.raises(ValueError, match=r"`dy` must have the forward "
                       r"output's shape \(2, 2, 2, 3\)"):
        grad.pool2d(x, np.ones((2, 3, 3, 3)), 2)
    with pytest.raises(ValueError, match="`mode` must be one of"):
        grad.pool2d(x, np.ones((2, 2, 2, 3)), 2, mode="min")


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_fold_padding_is_the_adjoint_of_numpy_pad(mode, rank):
    rng = np.random.default_rng(rank)
    spatial = (4, 3, 5)[:rank]
    pads = ((2, 1), (0, 2), (3, 0))[:rank]
    u = rng.standard_normal((2, *spatial, 3))
    padded = np.pad(u, ((0, 0), *pads, (0, 0)), mode)
    g = rng.standard_normal(padded.shape)
    np.testing.assert_allclose(
        np.vdot(grad.fold_padding(g, spatial, pads, mode), u),
        np.vdot(g, padded), rtol=1e-12)


HAS_PAD_MODES = "padding_mode" in inspect.signature(
    convpool.conv2d).parameters


@pytest.mark.skipif(not HAS_PAD_MODES, reason="conv2d has no padding_mode")
@pytest.mark.parametrize("rank", CONV_RANKS)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_match_torch_autograd(rank, mode):
    """PyTorch's padding modes; the NumPy ones ('symmetric', ...) share the
    fold, checked above."""
    rng = np.random.default_rng(rank)
    x_t = rng.standard_normal((2, 2, *(5,) * rank))
    w_t = rng.standard_normal((3, 2, *(3,) * rank))
    pads = ((2, 1),) * rank
    fmt = layouts.data_formats(rank)[1]
    kfmt = layouts.kernel_formats(rank)[1]
    keywords = dict(padding=pads, stride=2, padding_mode=mode,
                    data_format=fmt, kernel_format=kfmt)
    y = getattr(convpool, f"conv{rank}d")(x_t, w_t, **keywords)
    dy = rng.standard_normal(y.shape)
    tx = torch.tensor(x_t, requires_grad=True)
    tw = torch.tensor(w_t, requires_grad=True)
    padded = F.pad(tx, torch_pad_list(pads), mode=mode)
    getattr(F, f"conv{rank}d")(padded, tw, stride=2).backward(
        torch.tensor(dy))
    dx, dw, _ = getattr(grad, f"conv{rank}d")(x_t, w_t, dy, **keywords)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_batch_chunks_do_not_change_the_gradients(monkeypatch, mode):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 6, 6, 3))
    k = rng.standard_normal((3, 3, 3, 2))
    dy = rng.standard_normal((5, 3, 3, 3))
    dyc = rng.standard_normal((5, 6, 6, 2))
    whole = grad.pool2d(x, dy, 3, stride=2, padding=1, mode=mode)
    conv_whole = grad.conv2d(x, k, dyc, padding="same")
    monkeypatch.setattr(grad, "POOL_CHUNK", 1)
    monkeypatch.setattr(grad, "DK_BUDGET", 1)
    monkeypatch.setattr(grad, "FLAT_BUDGET", 1)
    np.testing.assert_allclose(
        grad.pool2d(x, dy, 3, stride=2, padding=1, mode=mode), whole,
        rtol=1e-13)
    for a, b in zip(grad.conv2d(x, k, dyc, padding="same"), conv_whole):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@st.composite
def max_pool_cases(draw):
    case = draw(pool_cases())
    case["mode"] = "max"
    case["dilation"] = tuple(draw(st.integers(1, 2)) for _ in case["window"])
    case["spatial"] = tuple(max(n, d * (k - 1) + 1) for n, k, d in zip(
        case["spatial"], case["window"], case["dilation"]))
    return case


@FEW
@given(max_pool_cases())
def test_max_pool_grad_with_saved_indices_matches_torch(case):
    """``indices=`` from PyTorch's forward or convpool's gives PyTorch's
    gradient (ties, NaN, overlapping windows, padding, ceil_mode), and the
    same bits as finding the argmax again."""
    rng = np.random.default_rng(case["seed"])
    rank, dtype, df = case["rank"], case["dtype"], case["data_format"]
    x_t = pool_input(rng, (2, 3, *case["spatial"]), case["values"], dtype)
    x = from_torch_layout(x_t, df)
    keywords = dict(stride=case["stride"], padding=case["padding"],
                    dilation=case["dilation"], ceil_mode=case["ceil_mode"])
    tx = torch.tensor(x_t, requires_grad=True)
    y, t_indices = getattr(F, f"max_pool{rank}d")(
        tx, case["window"], return_indices=True, **keywords)
    dy_t = rng.standard_normal(y.shape).astype(dtype)
    y.backward(torch.tensor(dy_t))
    dy = from_torch_layout(dy_t, df)
    _, indices = getattr(convpool, f"max_pool{rank}d")(
        x, case["window"], return_indices=True, data_format=df, **keywords)
    vjp = getattr(grad, f"pool{rank}d")
    before = indices.copy()
    found = vjp(x, dy, case["window"], data_format=df, **keywords)
    for given_indices in (indices,
                          from_torch_layout(t_indices.numpy(), df)):
        dx = vjp(x, dy, case["window"], data_format=df,
                 indices=given_indices, **keywords)
        assert dx.dtype == dtype and dx.shape == x.shape
        np.testing.assert_array_equal(dx, found)
        np.testing.assert_allclose(to_torch_layout(dx, df),
                                   tx.grad.numpy(), **tol(dtype))
    np.testing.assert_array_equal(indices, before)


def test_saved_indices_ties_and_overlaps():
    """Overlapping windows add at a shared maximum; int32 indices work."""
    peak = np.zeros((1, 3, 3, 1))
    peak[0, 1, 1] = 1
    _, indices = convpool.max_pool2d(peak, 2, stride=1, return_indices=True)
    dx = grad.pool2d(peak, np.ones((1, 2, 2, 1)), 2, stride=1,
                     indices=indices.astype(np.int32))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0, 0], [0, 4, 0],
                                                   [0, 0, 0]])


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_max_pool_grad_bits_do_not_depend_on_threads(monkeypatch, threads):
    from convpool import unpool
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (7, 8, 8, 2)).astype(np.float32)
    dy = rng.standard_normal((7, 7, 7, 2)).astype(np.float32)
    _, indices = convpool.max_pool2d(x, 2, stride=1, return_indices=True)
    whole = grad.pool2d(x, dy, 2, stride=1, indices=indices, threads=1)
    monkeypatch.setattr(unpool, "SCATTER_CHUNK", 1)
    np.testing.assert_array_equal(
        grad.pool2d(x, dy, 2, stride=1, indices=indices, threads=threads),
        whole)
    np.testing.assert_array_equal(
        grad.pool2d(x, dy, 2, stride=1, threads=threads), whole)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("c, f", [(3, 4), (1, 6)])   # (1, 6): stacked taps
def test_kernel_grad_bits_do_not_depend_on_threads(monkeypatch, threads,
                                                   stride, c, f):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((11, 9, 9, c)).astype(np.float32)
    k = rng.standard_normal((3, 3, c, f)).astype(np.float32)
    dy = convpool.conv2d(x, k, padding="same", stride=stride)
    dy = rng.standard_normal(dy.shape).astype(np.float32)
    monkeypatch.setattr(grad, "FLAT_BUDGET", 1)
    monkeypatch.setattr(grad, "DK_BUDGET", 1)
    one = grad.conv2d(x, k, dy, padding="same", stride=stride, threads=1)
    many = grad.conv2d(x, k, dy, padding="same", stride=stride,
                       threads=threads)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


def test_bad_indices_name_the_argument():
    x = np.arange(32.0).reshape(2, 4, 4, 1)
    dy = np.ones((2, 2, 2, 1))
    _, indices = convpool.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(TypeError, match=r"`indices` must be an integer "
                       r"array .*got dtype float64"):
        grad.pool2d(x, dy, 2, indices=indices.astype(float))
    with pytest.raises(ValueError, match=r"`indices` must have the shape "
                       r"of `dy` \(2, 2, 2, 1\), got \(2, 2, 2\)"):
        grad.pool2d(x, dy, 2, indices=indices[..., 0])
    with pytest.raises(ValueError, match=r"`indices` must lie in \[0, 16\)"
                       r".*got 21"):
        grad.pool2d(x, dy, 2, indices=indices + 16)
    with pytest.raises(ValueError, match=r"`indices` must lie in"):
        grad.pool2d(x, dy, 2, indices=indices - 100)
    with pytest.raises(ValueError, match=r"`indices` is for max pooling "
                       r"only, got mode='avg'"):
        grad.pool2d(x, dy, 2, mode="avg", indices=indices)


def test_gradients_extra_memory_is_bounded():
    """No full-batch temporary (flat targets, padded copies): at most 64
    MiB beyond the outputs, on batches where one would be over 70 MiB."""
    from test_memory import LIMIT, peak_extra
    rng = np.random.default_rng(6)
    x = rng.random((12000, 32, 32, 3), dtype=np.float32)
    y, indices = convpool.max_pool2d(x, 2, return_indices=True)
    assert indices.nbytes > 70 << 20
    dx, extra = peak_extra(lambda: grad.pool2d(x, y, 2, indices=indices),
                           x.nbytes)
    assert dx.shape == x.shape and extra <= LIMIT, extra / 2 ** 20
    del x, y, indices, dx
    x = rng.random((4000, 28, 28, 8), dtype=np.float32)
    k = rng.standard_normal((3, 3, 8, 8)).astype(np.float32)
    (dx, dk, _), extra = peak_extra(
        lambda: grad.conv2d(x, k, x, padding="same"), x.nbytes)
    assert dx.shape == x.shape and extra <= LIMIT, extra / 2 ** 20


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_empty_batch_gradients(data_format):
    x = np.zeros((0, 4, 4, 2) if data_format == "NHWC" else (0, 2, 4, 4))
    y, indices = convpool.max_pool2d(x, 2, return_indices=True,
                                     data_format=data_format)
    for saved in (indices, None):
        dx = grad.pool2d(x, y, 2, indices=saved, data_format=data_format)
        assert dx.shape == x.shape
    dx, dk, db = grad.conv2d(x, np.ones((3, 3, 2, 5)), np.zeros(
        (0, 2, 2, 5) if data_format == "NHWC" else (0, 5, 2, 2)),
        data_format=data_format)
    assert dx.shape == x.shape and not dk.any() and dk.shape == (3, 3, 2, 5)


@pytest.mark.parametrize("f", [1, 6, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_grad_in_bounded_memory(f, dtype):
    """dbias is the sum over all but the filter axis, within rounding of
    a float64 sum, with extra memory far below dy's size (chunked BLAS
    products for few filters), the same whatever ``threads``."""
    import tracemalloc
    rng = np.random.default_rng(f)
    dy = rng.standard_normal((40000 // f, 20, 20, f)).astype(dtype)
    want = dy.astype(np.float64).sum(axis=(0, 1, 2))
    tracemalloc.start()
    got = grad.bias_grad(dy)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got.dtype == dtype and got.shape == (f,)
    assert peak < dy.nbytes / 8, (peak, dy.nbytes)
    scale = np.abs(dy).sum(axis=(0, 1, 2))
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(got - want) <= 64 * eps * scale)
    x = rng.standard_normal((6, 9, 9, 2)).astype(dtype)
    k = rng.standard_normal((3, 3, 2, f)).astype(dtype)
    dy2 = rng.standard_normal((6, 7, 7, f)).astype(dtype)
    one = grad.conv2d(x, k, dy2, threads=1)[2]
    np.testing.assert_array_equal(grad.conv2d(x, k, dy2, threads=2)[2], one)
