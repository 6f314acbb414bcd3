"""Named kernels: known values, properties, and the ``get`` lookup."""

import numpy as np
import pytest

import convpool
from convpool import kernels

GRADIENTS = ["sobel_x", "scharr_x", "prewitt_x"]


def test_names_cover_the_documented_kernels():
    assert kernels.names() == [
        "identity", "box", "gaussian", "sobel_x", "sobel_y", "scharr_x",
        "scharr_y", "prewitt_x", "prewitt_y", "laplacian", "sharpen",
        "emboss", "vertical_edge"]


@pytest.mark.parametrize("name", kernels.names())
def test_every_kernel_is_a_finite_float64_square(name):
    k = kernels.get(name)
    assert k.dtype == np.float64 and k.ndim == 2
    assert k.shape[0] == k.shape[1]
    assert np.isfinite(k).all()
    assert getattr(kernels, name)().tolist() == k.tolist()
    syntax, text = kernels.describe(name)
    assert syntax.startswith(name) and text


def test_vertical_edge_is_the_spec_kernel():
    spec = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    np.testing.assert_array_equal(kernels.vertical_edge(), spec)
    np.testing.assert_array_equal(kernels.vertical_edge(),
                                  -kernels.prewitt_x())


def test_identity_leaves_a_picture_unchanged():
    img = np.arange(30.0).reshape(5, 6)
    for size in (1, 3, 5):
        out = convpool.filter2d(img, kernels.identity(size))
        np.testing.assert_array_equal(out, img)
    with pytest.raises(ValueError, match="odd"):
        kernels.identity(4)


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_box_is_a_mean(size):
    k = kernels.box(size)
    assert k.shape == (size, size)
    assert np.allclose(k, 1.0 / size ** 2)
    assert np.isclose(k.sum(), 1.0)


@pytest.mark.parametrize("size,sigma", [(3, 1.0), (5, None), (7, 2.5),
                                        (4, 0.8)])
def test_gaussian_sums_to_one_and_is_symmetric_and_separable(size, sigma):
    k = kernels.gaussian(size, sigma)
    assert k.shape == (size, size)
    assert np.isclose(k.sum(), 1.0)
    np.testing.assert_allclose(k, k.T)
    np.testing.assert_allclose(k, k[::-1, ::-1])
    assert np.linalg.matrix_rank(k) == 1
    # The peak is in the middle and the values fall off from it.
    centre = k[size // 2, size // 2]
    assert centre == k.max()


def test_gaussian_follows_exp_of_squared_distance():
    k = kernels.gaussian(5, 1.5)
    d2 = np.add.outer(np.arange(-2, 3) ** 2, np.arange(-2, 3) ** 2)
    expected = np.exp(-d2 / (2 * 1.5 ** 2))
    np.testing.assert_allclose(k, expected / expected.sum())


def test_gaussian_default_sigma_is_opencvs():
    # OpenCV: sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8 = 1.1 for ksize 5.
    np.testing.assert_allclose(kernels.gaussian(5),
                               kernels.gaussian(5, 1.1))


@pytest.mark.parametrize("name", GRADIENTS)
def test_x_gradients_are_antisymmetric_and_sum_to_zero(name):
    kx = kernels.get(name)
    np.testing.assert_array_equal(kx, -kx[:, ::-1])     # odd in x
    np.testing.assert_array_equal(kx, kx[::-1, :])      # even in y
    assert kx.sum() == 0
    ky = kernels.get(name.replace("_x", "_y"))
    np.testing.assert_array_equal(ky, kx.T)


@pytest.mark.parametrize("name", GRADIENTS)
def test_x_gradients_are_positive_on_a_rising_ramp(name):
    # Cross-correlation: brightness growing to the right gives > 0.
    ramp = np.tile(np.arange(6.0), (6, 1))
    out = convpool.filter2d(ramp, kernels.get(name), padding="valid")
    assert (out > 0).all()
    down = convpool.filter2d(ramp.T, kernels.get(name.replace("_x", "_y")),
                             padding="valid")
    assert (down > 0).all()


def test_known_values():
    np.testing.assert_array_equal(
        kernels.sobel_x(), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(
        kernels.scharr_x(), [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    np.testing.assert_array_equal(
        kernels.laplacian(), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(
        kernels.sharpen(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(
        kernels.emboss(), [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])


def test_sums_zero_for_detectors_one_for_image_preserving_kernels():
    for name in ["sobel_x", "sobel_y", "scharr_y", "prewitt_y", "laplacian",
                 "vertical_edge"]:
        assert kernels.get(name).sum() == 0, name
    for name in ["identity", "box", "gaussian", "sharpen", "emboss"]:
        assert np.isclose(kernels.get(name).sum(), 1.0), name


def test_laplacian_is_zero_on_a_linear_ramp():
    ramp = np.add.outer(np.arange(6.0), 2 * np.arange(7.0))
    out = convpool.filter2d(ramp, kernels.laplacian(), padding="valid")
    np.testing.assert_array_equal(out, 0)


def test_get_parses_parameters():
    np.testing.assert_array_equal(kernels.get("box:5"), kernels.box(5))
    np.testing.assert_array_equal(kernels.get("gaussian:5,1.5"),
                                  kernels.gaussian(5, 1.5))
    np.testing.assert_array_equal(kernels.get(" Gaussian : 3 "),
                                  kernels.gaussian(3))
    np.testing.assert_array_equal(kernels.get("SOBEL-Y"), kernels.sobel_y())


@pytest.mark.parametrize("spec,message", [
    ("sobel", "unknown kernel 'sobel'; known kernels: identity, box"),
    ("box:x", "kernel parameter 'x' in 'box:x' is not a number"),
    ("box:2.5", "kernel 'box:2.5': `size` must be an int, got 2.5"),
    ("box:0", r"kernel 'box:0': `size` must be between 1 and 255, got 0"),
        ("gaussian:9999,3", r"`size` must be between 1 and 255, got 9999"),
    ("gaussian:5,0", r"`sigma` must be > 0, got 0"),
    ("gaussian:5,1,2", "too many parameters; the syntax is gaussian"),
    ("laplacian:3", "too many parameters; the syntax is laplacian$"),
])
def test_get_errors_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        kernels.get(spec)


def test_get_rejects_non_strings():
    with pytest.raises(TypeError, match="must be a string"):
        kernels.get(3)
