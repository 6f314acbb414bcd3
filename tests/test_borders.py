"""Border-mode names: NumPy's, and the documented aliases from SciPy, OpenCV
and PyTorch, each checked against that library's own border."""

import numpy as np
import pytest

import convpool
from convpool.borders import ALIASES, PAD_MODES, resolve_pad_mode

ndimage = pytest.importorskip("scipy.ndimage")
torch = pytest.importorskip("torch")

ROW = np.array([1.0, 2.0, 3.0, 5.0, 8.0])


def numpy_border(mode, pad=2):
    return np.pad(ROW, pad, mode=resolve_pad_mode(mode))


@pytest.mark.parametrize("scipy_mode", ["mirror", "grid-mirror", "nearest",
                                        "grid-wrap", "grid-constant"])
def test_scipy_names_give_scipys_border(scipy_mode):
    # A 5-tap selector kernel reads the border cell at offset -2 .. 2.
    for offset in range(-2, 3):
        weights = np.zeros(5)
        weights[2 + offset] = 1.0
        want = ndimage.correlate1d(ROW, weights, mode=scipy_mode, cval=0.0)
        got = np.array([numpy_border(scipy_mode)[i + 2 + offset]
                        for i in range(len(ROW))])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("torch_mode", ["zeros", "reflect", "replicate",
                                        "circular"])
def test_pytorch_padding_mode_names_give_pytorchs_border(torch_mode):
    x = np.random.default_rng(0).random((1, 1, 6, 7))
    k = np.random.default_rng(1).random((1, 1, 3, 3))
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False,
                           padding_mode=torch_mode).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(k))
        want = conv(torch.from_numpy(x)).numpy()[0, 0]
    got = convpool.filter2d(x[0, 0], k[0, 0], pad_mode=torch_mode)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reflect_keeps_numpys_meaning_which_is_scipys_mirror():
    assert resolve_pad_mode("reflect") == "reflect"
    np.testing.assert_array_equal(numpy_border("reflect"),
                                  numpy_border("mirror"))
    # SciPy's 'reflect' repeats the edge cell: NumPy's 'symmetric'.
    assert resolve_pad_mode("grid-mirror") == "symmetric"
    assert numpy_border("grid-mirror")[:3].tolist() == [2.0, 1.0, 1.0]
    assert numpy_border("reflect")[:3].tolist() == [3.0, 2.0, 1.0]


@pytest.mark.parametrize("word, canonical", [
    ("BORDER_REFLECT_101", "reflect"), ("border_reflect", "symmetric"),
    ("BORDER_REPLICATE", "edge"), ("BORDER_WRAP", "wrap"),
    ("BORDER_CONSTANT", "constant"), ("Grid_Wrap", "wrap"), ("EDGE", "edge"),
])
def test_opencv_words_and_spelling_variants(word, canonical):
    assert resolve_pad_mode(word) == canonical


def test_every_alias_names_a_numpy_mode():
    assert set(ALIASES.values()) <= set(PAD_MODES)
    assert not set(ALIASES) & set(PAD_MODES)


@pytest.mark.parametrize("value", ["bounce", "", None, 3])
def test_unknown_names_are_refused_with_the_list(value):
    with pytest.raises(ValueError, match=r"`border` must be one of "
                       r"'constant', 'reflect', .* or an alias \('zeros'"):
        resolve_pad_mode(value, "border")
