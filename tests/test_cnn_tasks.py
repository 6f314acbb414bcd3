"""The CNN project's four teaching files in supervised_learning/cnn.

The course's file rules (through tests/task_rules.py, as for the spec's
seven task files, with at most three loops per function), and values over
randomised shapes, strides and paddings against PyTorch's autograd and
against ``convpool`` / ``convpool.grad``.
"""

import functools
import inspect
import math
import pathlib

import numpy as np
import pytest
import task_rules as rules
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convpool

TASK_DIR = (pathlib.Path(__file__).resolve().parents[1]
            / "supervised_learning" / "cnn")
# file stem -> (function name, parameters with defaults)
TASKS = {
    "0-conv_forward": (
        "conv_forward",
        "(A_prev, W, b, activation, padding='same', stride=(1, 1))"),
    "1-pool_forward": (
        "pool_forward", "(A_prev, kernel_shape, stride=(1, 1), mode='max')"),
    "2-conv_backward": (
        "conv_backward", "(dZ, A_prev, W, b, padding='same', stride=(1, 1))"),
    "3-pool_backward": (
        "pool_backward",
        "(dA, A_prev, kernel_shape, stride=(1, 1), mode='max')"),
}
STEMS = sorted(TASKS)
LOOPS_PER_FUNCTION = 3
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def path_of(stem):
    return TASK_DIR / f"{stem}.py"


@functools.lru_cache(maxsize=None)
def task(stem):
    return getattr(rules.load(path_of(stem), "cnn_task_"), TASKS[stem][0])


# --------------------------------------------------------------------------
# The course's file rules.

RULES = [rules.check_shebang, rules.check_executable,
         rules.check_ends_with_newline, rules.check_pycodestyle,
         rules.check_only_numpy_import, rules.check_no_np_convolve,
         rules.check_doctests]


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_file_rule(stem, rule):
    rule(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_docstrings(stem):
    rules.check_docstrings(path_of(stem), TASKS[stem][0])


@pytest.mark.parametrize("stem", STEMS)
def test_loops_run_over_taps_at_most_three_per_function(stem):
    rules.check_loop_budget(path_of(stem), LOOPS_PER_FUNCTION,
                            per_function=True)


@pytest.mark.parametrize("stem", STEMS)
def test_signature(stem):
    assert str(inspect.signature(task(stem))) == TASKS[stem][1]


@pytest.mark.parametrize("stem", STEMS)
def test_runs_as_a_script_on_its_own(stem):
    rules.check_runs_alone(path_of(stem), TASKS[stem][0])


def test_readme_names_the_same_rule_and_when_solutions_agree():
    text = (TASK_DIR / "README.md").read_text()
    assert "ceil(h_prev / sh)" in text
    assert "odd kernels at stride 1" in text


# --------------------------------------------------------------------------
# Values against PyTorch's autograd and convpool.

def same_pads(n, k, s):
    """TensorFlow's 'SAME' padding (before, after) along one axis."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def torch_pads(padding, hw, khw, stride):
    """(left, right, top, bottom), F.pad's order."""
    if padding == "valid":
        return (0, 0, 0, 0)
    (top, bottom), (left, right) = (same_pads(n, k, s) for n, k, s in
                                    zip(hw, khw, stride))
    return (left, right, top, bottom)


def nchw(a, grad=False):
    return torch.tensor(np.moveaxis(a, -1, 1), requires_grad=grad)


def nhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(kh, kh + 6))
    w = draw(st.integers(kw, kw + 6))
    m, c, nc = (draw(st.integers(1, 3)) for _ in range(3))
    padding = draw(st.sampled_from(["same", "valid"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    A = rng.standard_normal((m, h, w, c))
    W = rng.standard_normal((kh, kw, c, nc))
    b = rng.standard_normal((1, 1, 1, nc))
    return A, W, b, padding, (sh, sw), rng


def torch_conv(A, W, b, padding, stride):
    """Z in torch, with A, W and b as leaves that collect gradients."""
    At = nchw(A, grad=True)
    Wt = torch.tensor(np.moveaxis(W, (3, 2), (0, 1)).copy(),
                      requires_grad=True)
    bt = torch.tensor(b.reshape(-1), requires_grad=True)
    padded = F.pad(At, torch_pads(padding, A.shape[1:3], W.shape[:2],
                                  stride))
    return At, Wt, bt, F.conv2d(padded, Wt, bt, stride=stride)


@SETTINGS
@given(case=conv_cases())
def test_conv_forward_matches_torch(case):
    A, W, b, padding, stride, _ = case
    before = A.copy()
    got = task("0-conv_forward")(A, W, b, np.tanh, padding, stride)
    _, _, _, Z = torch_conv(A, W, b, padding, stride)
    np.testing.assert_allclose(got, nhwc(torch.tanh(Z)), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(A, before)
    if padding == "same":
        h, w = A.shape[1:3]
        assert got.shape[1:3] == (math.ceil(h / stride[0]),
                                  math.ceil(w / stride[1]))
    np.testing.assert_allclose(
        got, np.tanh(convpool.conv2d(A, W, padding=padding, stride=stride)
                     + b), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(case=conv_cases())
def test_conv_backward_matches_autograd_and_convpool_grad(case):
    A, W, b, padding, stride, rng = case
    At, Wt, bt, Z = torch_conv(A, W, b, padding, stride)
    dZ = rng.standard_normal(nhwc(Z).shape)
    Z.backward(nchw(dZ))
    dA, dW, db = task("2-conv_backward")(dZ, A, W, b, padding, stride)
    assert (dA.shape, dW.shape, db.shape) == (A.shape, W.shape, b.shape)
    np.testing.assert_allclose(dA, nhwc(At.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        dW, np.moveaxis(Wt.grad.numpy(), (0, 1), (3, 2)), rtol=1e-10,
        atol=1e-12)
    np.testing.assert_allclose(db.reshape(-1), bt.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    cdx, cdk, cdb = convpool.grad.conv2d(A, W, dZ, padding=padding,
                                         stride=stride)
    np.testing.assert_allclose(dA, cdx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dW, cdk, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db.reshape(-1), cdb, rtol=1e-10, atol=1e-12)


@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(kh, kh + 6))
    w = draw(st.integers(kw, kw + 6))
    m, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["max", "avg"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    # few distinct values, so windows often hold tied maxima
    A = rng.integers(0, draw(st.sampled_from([2, 5, 1000])),
                     (m, h, w, c)).astype(np.float64)
    return A, (kh, kw), (sh, sw), mode, rng


def torch_pool(A, window, stride, mode):
    At = nchw(A, grad=True)
    op = F.max_pool2d if mode == "max" else F.avg_pool2d
    return At, op(At, window, stride)


@SETTINGS
@given(case=pool_cases())
def test_pool_forward_matches_torch(case):
    A, window, stride, mode, _ = case
    got = task("1-pool_forward")(A, window, stride, mode)
    _, out = torch_pool(A, window, stride, mode)
    np.testing.assert_allclose(got, nhwc(out), rtol=1e-12)
    np.testing.assert_allclose(
        got, convpool.pool2d(A, window, stride=stride, mode=mode),
        rtol=1e-12)


@SETTINGS
@given(case=pool_cases())
def test_pool_backward_matches_autograd_ties_included(case):
    A, window, stride, mode, rng = case
    At, out = torch_pool(A, window, stride, mode)
    dA = rng.standard_normal(nhwc(out).shape)
    out.backward(nchw(dA))
    before = A.copy()
    got = task("3-pool_backward")(dA, A, window, stride, mode)
    np.testing.assert_array_equal(A, before)
    np.testing.assert_allclose(got, nhwc(At.grad), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        got, convpool.grad.pool2d(A, dA, window, stride=stride, mode=mode),
        rtol=1e-12, atol=1e-15)


def test_max_pool_backward_gives_a_tie_to_its_first_cell_only():
    A = np.ones((1, 2, 2, 1))
    got = task("3-pool_backward")(np.full((1, 1, 1, 1), 5.0), A, (2, 2),
                                  (2, 2))
    assert got[0, :, :, 0].tolist() == [[5.0, 0.0], [0.0, 0.0]]


def test_same_pads_odd_extra_at_the_end():
    # 2x2 kernel at stride 1: TensorFlow pads 0 above and 1 below.
    A = np.arange(9.0).reshape(1, 3, 3, 1)
    got = task("0-conv_forward")(A, np.ones((2, 2, 1, 1)),
                                 np.zeros((1, 1, 1, 1)), lambda z: z)
    assert got[0, :, :, 0].tolist() == [[8, 12, 7], [20, 24, 13],
                                        [13, 15, 8]]


@pytest.mark.parametrize("stem, args", [
    ("0-conv_forward", (np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)),
                        np.zeros((1, 1, 1, 1)), np.tanh, "full")),
    ("2-conv_backward", (np.ones((1, 3, 3, 1)), np.ones((1, 3, 3, 1)),
                         np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)),
                         "full")),
])
def test_unknown_padding_is_refused(stem, args):
    with pytest.raises(ValueError, match="`padding` must be 'same' or "
                                         "'valid', got 'full'"):
        task(stem)(*args)


@pytest.mark.parametrize("stem, args", [
    ("1-pool_forward", (np.ones((1, 2, 2, 1)), (2, 2))),
    ("3-pool_backward", (np.ones((1, 1, 1, 1)), np.ones((1, 2, 2, 1)),
                         (2, 2))),
])
def test_unknown_mode_is_refused(stem, args):
    with pytest.raises(ValueError, match="`mode` must be 'max' or 'avg', "
                                         "got 'min'"):
        task(stem)(*args, mode="min")
