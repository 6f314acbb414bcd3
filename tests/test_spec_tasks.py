"""The spec's seven standalone task files in math/convolutions_and_pooling.

Three kinds of check:

* the course's file rules, read from the source (shebang, executable bit,
  pycodestyle, docstrings, ``import numpy as np`` only, no ``np.convolve``,
  the loop budget);
* the shapes printed by the spec's examples, at the spec's full sizes, on
  generated data of the same shape and dtype (nothing is downloaded);
* values, over randomised inputs, against a slow reference written below
  that loops over output pixels, and against the library
  (``convpool.conv2d`` / ``convpool.pool2d``).
"""

import functools
import importlib.util
import inspect
import math
import pathlib

import numpy as np
import pytest
import task_rules as rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TASK_DIR = (pathlib.Path(__file__).resolve().parents[1]
            / "math" / "convolutions_and_pooling")

# file stem -> (function name, parameters with defaults, `for` loops allowed)
TASKS = {
    "0-convolve_grayscale_valid": (
        "convolve_grayscale_valid", "(images, kernel)", 2),
    "1-convolve_grayscale_same": (
        "convolve_grayscale_same", "(images, kernel)", 2),
    "2-convolve_grayscale_padding": (
        "convolve_grayscale_padding", "(images, kernel, padding)", 2),
    "3-convolve_grayscale": (
        "convolve_grayscale",
        "(images, kernel, padding='same', stride=(1, 1))", 2),
    "4-convolve_channels": (
        "convolve_channels",
        "(images, kernel, padding='same', stride=(1, 1))", 2),
    "5-convolve": (
        "convolve", "(images, kernels, padding='same', stride=(1, 1))", 3),
    "6-pool": ("pool", "(images, kernel_shape, stride, mode='max')", 2),
}
STEMS = sorted(TASKS)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
LIBRARY_SETTINGS = settings(max_examples=30, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])


def path_of(stem):
    return TASK_DIR / f"{stem}.py"


@functools.lru_cache(maxsize=None)
def module(stem):
    """Import a task file by path (its name starts with a digit)."""
    spec = importlib.util.spec_from_file_location(
        "spec_task_" + stem.replace("-", "_"), path_of(stem))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def task(stem):
    return getattr(module(stem), TASKS[stem][0])


# --------------------------------------------------------------------------
# The slow, obviously-correct reference: one output pixel at a time.

def same_pads(n, k, s):
    """TensorFlow's 'SAME' padding (before, after) along one axis."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def explicit_pads(padding, hw, khw, stride):
    """'same' | 'valid' | (ph, pw) -> ((top, bottom), (left, right))."""
    if isinstance(padding, str) and padding == "same":
        return tuple(same_pads(n, k, s) for n, k, s in zip(hw, khw, stride))
    if isinstance(padding, str) and padding == "valid":
        return (0, 0), (0, 0)
    return (padding[0], padding[0]), (padding[1], padding[1])


def reference_conv(images, kernels, padding="valid", stride=(1, 1)):
    """(m, h, w, c) with (kh, kw, c, nc) -> (m, oh, ow, nc), in float64."""
    kh, kw, c, nc = kernels.shape
    pads = explicit_pads(padding, images.shape[1:3], (kh, kw), stride)
    x = np.pad(images.astype(np.float64), ((0, 0),) + pads + ((0, 0),))
    k = kernels.astype(np.float64)
    sh, sw = stride
    oh = (x.shape[1] - kh) // sh + 1
    ow = (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, nc))
    for r in range(oh):
        for q in range(ow):
            patch = x[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :]
            for f in range(nc):
                out[:, r, q, f] = np.sum(patch * k[:, :, :, f],
                                         axis=(1, 2, 3))
    return out


def reference_gray(images, kernel, padding="valid", stride=(1, 1)):
    """(m, h, w) with (kh, kw) -> (m, oh, ow)."""
    return reference_conv(images[..., None], kernel[:, :, None, None],
                          padding, stride)[..., 0]


def reference_pool(images, window, stride, mode):
    """(m, h, w, c) -> (m, oh, ow, c), max or mean of each window."""
    x = images.astype(np.float64)
    (kh, kw), (sh, sw) = window, stride
    oh = (x.shape[1] - kh) // sh + 1
    ow = (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for r in range(oh):
        for q in range(ow):
            patch = x[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :]
            reduce = np.max if mode == "max" else np.mean
            out[:, r, q, :] = reduce(patch, axis=(1, 2))
    return out


@pytest.mark.parametrize("n, k, s, expected", [
    (28, 3, 1, (1, 1)),   # odd kernel, stride 1: k // 2 on both sides
    (28, 5, 1, (2, 2)),
    (5, 2, 1, (0, 1)),    # even kernel: the odd extra cell at the end
    (5, 4, 1, (1, 2)),
    (7, 3, 2, (1, 1)),    # ceil(7 / 2) = 4 outputs: 3 * 2 + 3 - 7 = 2
    (6, 3, 2, (0, 1)),    # ceil(6 / 2) = 3 outputs: 2 * 2 + 3 - 6 = 1
    (6, 1, 2, (0, 0)),    # never negative
    (2, 5, 1, (2, 2)),    # kernel larger than the input
])
def test_reference_same_rule(n, k, s, expected):
    assert same_pads(n, k, s) == expected


def test_reference_on_a_hand_computed_case():
    x = np.arange(16.0).reshape(1, 4, 4)
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    # window at (0, 0): 0*1 + 1*2 + 4*3 + 5*4 = 34; each step right adds
    # 1+2+3+4 = 10, each step down 4 * 10 = 40.
    want = np.array([[34, 44, 54], [74, 84, 94], [114, 124, 134.0]])
    np.testing.assert_array_equal(reference_gray(x, k)[0], want)
    x4 = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(
        reference_pool(x4, (2, 2), (2, 2), "max")[0, :, :, 0],
        [[5, 7], [13, 15]])


# --------------------------------------------------------------------------
# The course's file rules (checked by tests/task_rules.py).

@pytest.mark.parametrize("stem", STEMS)
def test_first_line_is_the_shebang(stem):
    rules.check_shebang(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_file_is_executable(stem):
    rules.check_executable(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_file_ends_with_a_newline(stem):
    rules.check_ends_with_newline(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_pycodestyle_clean(stem):
    rules.check_pycodestyle(path_of(stem))


def test_readme_exists():
    assert (TASK_DIR / "README.md").read_text().strip()


@pytest.mark.parametrize("stem", STEMS)
def test_docstrings(stem):
    rules.check_docstrings(path_of(stem), TASKS[stem][0])


@pytest.mark.parametrize("stem", STEMS)
def test_only_import_is_numpy_as_np(stem):
    rules.check_only_numpy_import(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_no_np_convolve(stem):
    rules.check_no_np_convolve(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_loop_budget(stem):
    rules.check_loop_budget(path_of(stem), TASKS[stem][2])


@pytest.mark.parametrize("stem", STEMS)
def test_signature(stem):
    name, params, _ = TASKS[stem]
    assert str(inspect.signature(task(stem))) == params


@pytest.mark.parametrize("stem", STEMS)
def test_doctests(stem):
    rules.check_doctests(path_of(stem))


@pytest.mark.parametrize("stem", STEMS)
def test_runs_as_a_script_on_its_own(stem):
    rules.check_runs_alone(path_of(stem), TASKS[stem][0])


# --------------------------------------------------------------------------
# The spec's examples, at the spec's full sizes.

EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
SHARPEN = np.array([[[0, 0, 0], [-1, -1, -1], [0, 0, 0]],
                    [[-1, -1, -1], [5, 5, 5], [-1, -1, -1]],
                    [[0, 0, 0], [-1, -1, -1], [0, 0, 0]]])
KERNELS = np.array(
    [[[[0, 1, 1], [0, 1, 1], [0, 1, 1]],
      [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
      [[0, -1, 1], [0, -1, 1], [0, -1, 1]]],
     [[[-1, 1, 0], [-1, 1, 0], [-1, 1, 0]],
      [[5, 0, 0], [5, 0, 0], [5, 0, 0]],
      [[-1, -1, 0], [-1, -1, 0], [-1, -1, 0]]],
     [[[0, 1, -1], [0, 1, -1], [0, 1, -1]],
      [[-1, 0, -1], [-1, 0, -1], [-1, 0, -1]],
      [[0, -1, -1], [0, -1, -1], [0, -1, -1]]]])


@pytest.fixture(scope="module")
def mnist():
    """MNIST's X_train: 50000 float32 28x28 pictures in [0, 1]."""
    return np.random.default_rng(0).random((50000, 28, 28), np.float32)


@pytest.fixture(scope="module")
def animals():
    """animals_1.npz's data: 10000 uint8 32x32 RGB pictures."""
    return np.random.default_rng(1).integers(
        0, 256, (10000, 32, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("stem, args, padding, stride, shape", [
    ("0-convolve_grayscale_valid", (), "valid", (1, 1), (50000, 26, 26)),
    ("1-convolve_grayscale_same", (), "same", (1, 1), (50000, 28, 28)),
    ("2-convolve_grayscale_padding", ((2, 4),), (2, 4), (1, 1),
     (50000, 30, 34)),
    ("3-convolve_grayscale", ("valid", (2, 2)), "valid", (2, 2),
     (50000, 13, 13)),
])
def test_spec_example_mnist(mnist, stem, args, padding, stride, shape):
    got = task(stem)(mnist, EDGE, *args)
    assert got.shape == shape
    assert got.dtype == np.float64
    want = reference_gray(mnist[:3], EDGE, padding, stride)
    np.testing.assert_allclose(got[:3], want, rtol=1e-12, atol=1e-12)


def test_spec_example_convolve_channels(animals):
    got = task("4-convolve_channels")(animals, SHARPEN, padding="valid")
    assert got.shape == (10000, 30, 30)
    assert got.dtype == np.float64
    want = reference_conv(animals[-3:], SHARPEN[..., None])[..., 0]
    np.testing.assert_array_equal(got[-3:], want)


def test_spec_example_convolve(animals):
    got = task("5-convolve")(animals, KERNELS, padding="valid")
    assert got.shape == (10000, 30, 30, 3)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got[:3], reference_conv(animals[:3],
                                                          KERNELS))


def test_spec_example_pool(animals):
    got = task("6-pool")(animals, (2, 2), (2, 2), mode="avg")
    assert got.shape == (10000, 16, 16, 3)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(
        got[:3], reference_pool(animals[:3], (2, 2), (2, 2), "avg"))


# --------------------------------------------------------------------------
# Values over randomised inputs.

def make_images(rng, shape, dtype):
    if dtype == "uint8":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if dtype == "unit":
        return rng.random(shape)          # like MNIST: floats in [0, 1]
    return rng.standard_normal(shape).astype(dtype)


def make_kernel(rng, shape, integer):
    if integer:
        return rng.integers(-3, 4, shape)
    return rng.standard_normal(shape)


@st.composite
def conv_cases(draw, paddings=("same", "valid", "tuple"), strided=True,
               channels=False, filters=False):
    """(images, kernel, padding, stride) with kernels up to the input size
    (and past it where padding makes room), even and odd."""
    m = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    c = draw(st.integers(1, 4)) if channels else None
    nc = draw(st.integers(1, 3)) if filters else None
    padding = draw(st.sampled_from(paddings))
    if padding == "tuple":
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        room = (h + 2 * padding[0], w + 2 * padding[1])
    elif padding == "same":
        room = (h + 2, w + 2)             # 'same' pads whatever is needed
    else:
        room = (h, w)
    kh, kw = draw(st.integers(1, room[0])), draw(st.integers(1, room[1]))
    stride = ((draw(st.integers(1, 3)), draw(st.integers(1, 3)))
              if strided else (1, 1))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    dtype = draw(st.sampled_from(["uint8", "float64", "float32", "unit"]))
    shape = (m, h, w) if c is None else (m, h, w, c)
    kshape = (kh, kw) + (() if c is None else (c,)) + (
        () if nc is None else (nc,))
    images = make_images(rng, shape, dtype)
    kernel = make_kernel(rng, kshape, draw(st.booleans()))
    return images, kernel, padding, stride


@st.composite
def pool_cases(draw):
    m, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    window = (draw(st.integers(1, h)), draw(st.integers(1, w)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    dtype = draw(st.sampled_from(["uint8", "float64", "float32", "unit"]))
    images = make_images(rng, (m, h, w, c), dtype)
    return images, window, stride, draw(st.sampled_from(["max", "avg"]))


def check(got, want):
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(conv_cases(paddings=("valid",), strided=False))
def test_valid_matches_reference(case):
    images, kernel, _, _ = case
    check(task("0-convolve_grayscale_valid")(images, kernel),
          reference_gray(images, kernel))


@SETTINGS
@given(conv_cases(paddings=("same",), strided=False))
def test_same_matches_reference(case):
    images, kernel, _, _ = case
    check(task("1-convolve_grayscale_same")(images, kernel),
          reference_gray(images, kernel, "same"))


@SETTINGS
@given(conv_cases(paddings=("tuple",), strided=False))
def test_padding_matches_reference(case):
    images, kernel, padding, _ = case
    check(task("2-convolve_grayscale_padding")(images, kernel, padding),
          reference_gray(images, kernel, padding))


@SETTINGS
@given(conv_cases())
def test_strided_matches_reference(case):
    images, kernel, padding, stride = case
    check(task("3-convolve_grayscale")(images, kernel, padding, stride),
          reference_gray(images, kernel, padding, stride))


@SETTINGS
@given(conv_cases(channels=True))
def test_channels_matches_reference(case):
    images, kernel, padding, stride = case
    check(task("4-convolve_channels")(images, kernel, padding, stride),
          reference_conv(images, kernel[..., None], padding, stride)[..., 0])


@SETTINGS
@given(conv_cases(channels=True, filters=True))
def test_convolve_matches_reference(case):
    images, kernels, padding, stride = case
    check(task("5-convolve")(images, kernels, padding, stride),
          reference_conv(images, kernels, padding, stride))


@SETTINGS
@given(pool_cases())
def test_pool_matches_reference(case):
    images, window, stride, mode = case
    check(task("6-pool")(images, window, stride, mode),
          reference_pool(images, window, stride, mode))


@pytest.mark.parametrize("stem", ["3-convolve_grayscale",
                                  "4-convolve_channels", "5-convolve"])
def test_same_padding_every_small_geometry(stem):
    # Every height, kernel height and stride up to a small size, so that
    # each branch of the 'same' rule (odd and even totals, no padding
    # needed, a kernel past the input) is met rather than sampled.
    rng = np.random.default_rng(5)
    for h in range(1, 7):
        for k in range(1, h + 3):
            for s in range(1, 4):
                w, kw, stride = 7 - h, (k + 2) % 4 + 1, (s, 4 - s)
                x = rng.random((2, h, w, 3))
                kern = rng.standard_normal((k, kw, 3, 2))
                if stem[0] == "3":
                    x, kern = x[..., 0], kern[:, :, 0, 0]
                    want = reference_gray(x, kern, "same", stride)
                elif stem[0] == "4":
                    kern = kern[..., 0]
                    want = reference_conv(x, kern[..., None], "same",
                                          stride)[..., 0]
                else:
                    want = reference_conv(x, kern, "same", stride)
                check(task(stem)(x, kern, "same", stride), want)


def test_defaults_are_same_padding_and_unit_stride():
    rng = np.random.default_rng(2)
    gray = rng.random((2, 5, 6))
    color = rng.random((2, 5, 6, 3))
    k2, k3, k4 = rng.random((2, 3)), rng.random((2, 3, 3)), rng.random(
        (2, 3, 3, 2))
    check(task("3-convolve_grayscale")(gray, k2),
          reference_gray(gray, k2, "same"))
    check(task("4-convolve_channels")(color, k3),
          reference_conv(color, k3[..., None], "same")[..., 0])
    check(task("5-convolve")(color, k4), reference_conv(color, k4, "same"))
    check(task("6-pool")(color, (2, 2), (1, 2)),
          reference_pool(color, (2, 2), (1, 2), "max"))


# --------------------------------------------------------------------------
# Chunks.  Each file runs the batch through cache-sized chunks of at most
# CHUNK float64 values (a module constant, set here to smaller values);
# the last chunk is usually partial and its buffers hold the previous
# chunk's images past the new ones.  None of that may show in the result.

# stem -> (images, kernel or window, further arguments), every path taken:
# odd and even kernels, padding on all sides, strides on both axes.
CHUNKED = {
    "0-convolve_grayscale_valid": ((7, 8), (3, 2), ()),
    "1-convolve_grayscale_same": ((7, 8), (2, 3), ()),
    "2-convolve_grayscale_padding": ((7, 8), (3, 3), ((2, 1),)),
    "3-convolve_grayscale": ((7, 8), (3, 2), ("same", (2, 3))),
    "4-convolve_channels": ((7, 8, 3), (2, 3, 3), ((1, 2), (1, 2))),
    "5-convolve": ((7, 8, 3), (3, 2, 3, 2), ("valid", (2, 1))),
    "6-pool": ((7, 8, 3), (3, 2), ((2, 1), "avg")),
}


def reference_for(stem, images, kernel, rest):
    """What the loop reference gives for task ``stem``'s call."""
    if stem[0] == "6":
        return reference_pool(images, kernel, *rest)
    if stem[0] == "5":
        return reference_conv(images, kernel, *rest)
    if stem[0] == "4":
        return reference_conv(images, kernel[..., None], *rest)[..., 0]
    if stem[0] == "1":
        rest = ("same",)
    return reference_gray(images, kernel, *rest)


def chunk_case(stem, rng, dtype, width=None):
    shape, kshape, rest = CHUNKED[stem]
    if width:
        shape = (shape[0], width) + shape[2:]
    images = make_images(rng, (13,) + shape, dtype)
    kernel = kshape if stem[0] == "6" else make_kernel(rng, kshape, True)
    return images, kernel, rest


@pytest.mark.parametrize("stem", STEMS)
def test_results_do_not_depend_on_the_chunk_size(stem, monkeypatch):
    # Integer pixels and weights: every result is an exact integer (or,
    # for the averages, an integer over the window's size) whatever the
    # order of the sums, so chunking must not change a single bit.
    images, kernel, rest = chunk_case(stem, np.random.default_rng(6),
                                      "uint8")
    want = reference_for(stem, images, kernel, rest)
    mod = module(stem)
    # From one image per chunk (CHUNK = 1) to all 13 in one; every batch
    # size from 1 to 13 then meets a chunk size, one more, and several
    # chunks with a partial last one.
    for chunk in (1, 100, 200, 300, 500, 800, 1500, mod.CHUNK):
        monkeypatch.setattr(mod, "CHUNK", chunk)
        for m in range(1, 14):
            got = task(stem)(images[:m], kernel, *rest)
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, want[:m])


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunked_floats_match_reference(stem, dtype, monkeypatch):
    images, kernel, rest = chunk_case(stem, np.random.default_rng(7), dtype)
    if stem[0] != "6":
        kernel = np.random.default_rng(8).standard_normal(kernel.shape)
    want = reference_for(stem, images, kernel, rest)
    mod = module(stem)
    for chunk in (1, 300, 1500):
        monkeypatch.setattr(mod, "CHUNK", chunk)
        check(task(stem)(images, kernel, *rest), want)


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_pixel_only_reaches_its_own_windows(
        stem, bad, monkeypatch):
    # Wide enough that a pixel's row holds windows without it.
    images, kernel, rest = chunk_case(stem, np.random.default_rng(9),
                                      "float64", width=20)
    images[4, 3, 5] = bad
    images[9, 0, 0] = bad
    with np.errstate(invalid="ignore"):             # inf * 0 in the sums
        want = reference_for(stem, images, kernel, rest)
    assert np.isfinite(want).sum() > want.size // 2
    mod = module(stem)
    for chunk in (1, 500, mod.CHUNK):
        monkeypatch.setattr(mod, "CHUNK", chunk)
        with np.errstate(invalid="ignore"):
            got = task(stem)(images, kernel, *rest)
        # nan where the reference has nan, inf where it has inf
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stem, args", [
    ("0-convolve_grayscale_valid", ()),
    ("1-convolve_grayscale_same", ()),
    ("2-convolve_grayscale_padding", ((2, 4),)),
    ("3-convolve_grayscale", ("same", (2, 2))),
    ("4-convolve_channels", ("same",)),
    ("5-convolve", ("same",)),
    ("6-pool", ((2, 2), "avg")),
])
def test_no_copy_of_the_whole_batch(stem, args):
    # Beyond the output, a call holds a few chunk buffers, never a padded
    # or float64 copy of the batch (here 2000 images: 12.5 MB in float64).
    import tracemalloc
    rng = np.random.default_rng(10)
    if stem[0] in "0123":
        images = rng.random((2000, 28, 28), np.float32)
        kernel = EDGE
    else:
        images = rng.integers(0, 256, (2000, 28, 28, 3), dtype=np.uint8)
        kernel = {"4": SHARPEN, "5": KERNELS, "6": (2, 2)}[stem[0]]
    tracemalloc.start()
    try:
        got = task(stem)(images, kernel, *args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - got.nbytes < 4 * 2 ** 20, (peak, got.nbytes)


# --------------------------------------------------------------------------
# uint8 never wraps; inputs are left alone; bad words are refused.

def test_uint8_does_not_wrap():
    gray = np.full((2, 5, 5), 200, np.uint8)
    minus = -np.ones((3, 3), np.int64)
    assert (task("0-convolve_grayscale_valid")(gray, minus) == -1800).all()
    same = task("1-convolve_grayscale_same")(gray, minus)
    assert (same[:, 1:-1, 1:-1] == -1800).all()
    assert (same[:, 0, 0] == -800).all()          # a corner sees 4 pixels
    assert (task("2-convolve_grayscale_padding")(gray, minus, (0, 0))
            == -1800).all()
    assert (task("3-convolve_grayscale")(gray, minus, "valid", (2, 2))
            == -1800).all()
    color = np.full((2, 5, 5, 3), 200, np.uint8)
    assert (task("4-convolve_channels")(color, minus[..., None] * [1, 0, 0],
                                        "valid") == -1800).all()
    kernels = np.ones((3, 3, 3, 2)) * [-1, 1]
    np.testing.assert_array_equal(
        task("5-convolve")(color, kernels, "valid"),
        np.broadcast_to([-5400.0, 5400.0], (2, 3, 3, 2)))
    bright = np.full((1, 4, 4, 1), 250, np.uint8)
    assert (task("6-pool")(bright, (2, 2), (2, 2), "avg") == 250).all()


def test_max_pool_propagates_nan_and_handles_infinities():
    x = np.zeros((1, 2, 4, 1))
    x[0, 0, 0, 0] = np.nan
    x[0, :, 2:, 0] = -np.inf
    got = task("6-pool")(x, (2, 2), (2, 2), "max")[0, :, :, 0]
    assert np.isnan(got[0, 0])
    assert got[0, 1] == -np.inf


CALLS = [
    ("0-convolve_grayscale_valid", (3, 3), ()),
    ("1-convolve_grayscale_same", (3, 3), ()),
    ("2-convolve_grayscale_padding", (2, 2), ((1, 2),)),
    ("3-convolve_grayscale", (2, 3), ("same", (2, 1))),
    ("4-convolve_channels", (2, 3, 3), ("same", (2, 1))),
    ("5-convolve", (2, 3, 3, 2), ((1, 0), (1, 2))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
@pytest.mark.parametrize("stem, kshape, rest", CALLS)
def test_inputs_are_not_modified(stem, kshape, rest, dtype):
    rng = np.random.default_rng(3)
    shape = (2, 6, 7) if len(kshape) == 2 else (2, 6, 7, 3)
    images = (rng.random(shape) * 255).astype(dtype)
    kernel = rng.standard_normal(kshape)
    saved = images.copy(), kernel.copy()
    # read-only, so an in-place write raises rather than passing unnoticed
    images.flags.writeable = kernel.flags.writeable = False
    task(stem)(images, kernel, *rest)
    np.testing.assert_array_equal(images, saved[0])
    np.testing.assert_array_equal(kernel, saved[1])


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_input_is_not_modified(mode, dtype):
    images = (np.random.default_rng(4).random((2, 6, 7, 3)) * 255).astype(
        dtype)
    saved = images.copy()
    images.flags.writeable = False
    task("6-pool")(images, (2, 3), (2, 2), mode)
    np.testing.assert_array_equal(images, saved)


@pytest.mark.parametrize("stem", ["3-convolve_grayscale",
                                  "4-convolve_channels", "5-convolve"])
def test_unknown_padding_word_is_refused(stem):
    shape = {"3": ((1, 4, 4), (2, 2)), "4": ((1, 4, 4, 2), (2, 2, 2)),
             "5": ((1, 4, 4, 2), (2, 2, 2, 1))}[stem[0]]
    with pytest.raises(ValueError, match="padding"):
        task(stem)(np.ones(shape[0]), np.ones(shape[1]), padding="SAME")


def test_unknown_pool_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        task("6-pool")(np.ones((1, 4, 4, 1)), (2, 2), (2, 2), "mean")


# --------------------------------------------------------------------------
# Against the library.

def check_library(got, want):
    """As ``check``, to the precision the library computed in: it keeps
    float32 (float32 images with an integer kernel, float32 average
    pooling) where the task files compute in float64."""
    assert got.dtype == np.float64
    assert got.shape == want.shape
    if want.dtype == np.float64:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    else:
        scale = 1 + np.abs(got).max(initial=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


@pytest.fixture(scope="module")
def convpool():
    import convpool
    return convpool


@LIBRARY_SETTINGS
@given(case=conv_cases(paddings=("valid",), strided=False))
def test_valid_matches_library(convpool, case):
    images, kernel, _, _ = case
    got = task("0-convolve_grayscale_valid")(images, kernel)
    want = convpool.conv2d(images[..., None], kernel[:, :, None, None])
    check_library(got, want[..., 0])


@LIBRARY_SETTINGS
@given(case=conv_cases(paddings=("same",), strided=False))
def test_same_matches_library(convpool, case):
    images, kernel, _, _ = case
    got = task("1-convolve_grayscale_same")(images, kernel)
    want = convpool.conv2d(images[..., None], kernel[:, :, None, None],
                           padding="same")
    check_library(got, want[..., 0])


@LIBRARY_SETTINGS
@given(case=conv_cases(paddings=("tuple",), strided=False))
def test_padding_matches_library(convpool, case):
    images, kernel, padding, _ = case
    got = task("2-convolve_grayscale_padding")(images, kernel, padding)
    want = convpool.conv2d(images[..., None], kernel[:, :, None, None],
                           padding=padding)
    check_library(got, want[..., 0])


@LIBRARY_SETTINGS
@given(case=conv_cases())
def test_strided_matches_library(convpool, case):
    images, kernel, padding, stride = case
    got = task("3-convolve_grayscale")(images, kernel, padding, stride)
    want = convpool.conv2d(images[..., None], kernel[:, :, None, None],
                           padding=padding, stride=stride)
    check_library(got, want[..., 0])


@LIBRARY_SETTINGS
@given(case=conv_cases(channels=True))
def test_channels_matches_library(convpool, case):
    images, kernel, padding, stride = case
    got = task("4-convolve_channels")(images, kernel, padding, stride)
    want = convpool.conv2d(images, kernel[..., None], padding=padding,
                           stride=stride)
    check_library(got, want[..., 0])


@LIBRARY_SETTINGS
@given(case=conv_cases(channels=True, filters=True))
def test_convolve_matches_library(convpool, case):
    images, kernels, padding, stride = case
    got = task("5-convolve")(images, kernels, padding, stride)
    want = convpool.conv2d(images, kernels, padding=padding, stride=stride)
    check_library(got, want)


@LIBRARY_SETTINGS
@given(case=pool_cases())
def test_pool_matches_library(convpool, case):
    images, window, stride, mode = case
    got = task("6-pool")(images, window, stride, mode)
    want = convpool.pool2d(images, window, stride=stride, mode=mode)
    check_library(got, want)


def test_spec_examples_match_library(convpool, animals):
    x = animals[:50]
    check_library(task("4-convolve_channels")(x, SHARPEN, padding="valid"),
                  convpool.conv2d(x, SHARPEN[..., None])[..., 0])
    check_library(task("5-convolve")(x, KERNELS, padding="valid"),
                  convpool.conv2d(x, KERNELS))
    check_library(task("6-pool")(x, (2, 2), (2, 2), mode="avg"),
                  convpool.pool2d(x, (2, 2), stride=(2, 2), mode="avg"))
