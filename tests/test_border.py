"""filter2d's non-zero borders: NumPy's pad modes, built one band at a time."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convpool
from convpool.engines import border

MODES = ["reflect", "symmetric", "edge", "wrap"]


def padded_reference(image, kernel, pads, mode, stride):
    """np.pad the whole picture, then a plain loop over output pixels."""
    planes = image if image.ndim == 3 else image[:, :, None]
    padded = np.pad(planes.astype(np.float64), pads + ((0, 0),), mode=mode)
    kh, kw = kernel.shape
    oh = (padded.shape[0] - kh) // stride[0] + 1
    ow = (padded.shape[1] - kw) // stride[1] + 1
    out = np.zeros((oh, ow, planes.shape[2]))
    for r in range(oh):
        for c in range(ow):
            window = padded[r * stride[0]:r * stride[0] + kh,
                            c * stride[1]:c * stride[1] + kw]
            out[r, c] = np.tensordot(kernel, window, axes=([0, 1], [0, 1]))
    return out if image.ndim == 3 else out[:, :, 0]


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), c=st.integers(1, 3),
       kh=st.integers(1, 5), kw=st.integers(1, 5), mode=st.sampled_from(MODES),
       pads=st.tuples(*[st.integers(0, 6)] * 4),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       band_bytes=st.sampled_from([1, 200, 1 << 20]),
       seed=st.integers(0, 2**32 - 1))
def test_pad_modes_match_np_pad_whatever_the_banding(
        h, w, c, kh, kw, mode, pads, stride, band_bytes, seed):
    pads = ((pads[0], pads[1]), (pads[2], pads[3]))
    if kh > h + sum(pads[0]) or kw > w + sum(pads[1]):
        return
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((h, w, c))
    kernel = rng.standard_normal((kh, kw))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(border, "BAND_BYTES", band_bytes)
        got = convpool.filter2d(image, kernel, padding=pads, stride=stride,
                                pad_mode=mode)
    np.testing.assert_allclose(
        got, padded_reference(image, kernel, pads, mode, stride),
        rtol=1e-10, atol=1e-10)


def test_integer_pictures_are_exact_and_grayscale_stays_2d(monkeypatch):
    monkeypatch.setattr(border, "BAND_BYTES", 64)
    image = np.full((9, 7), 200, np.uint8)
    got = convpool.filter2d(image, -np.ones((3, 3), np.int8),
                            pad_mode="edge")
    assert got.shape == (9, 7) and got.dtype == np.float64
    assert np.all(got == -1800)


def test_a_big_picture_with_reflect_borders_stays_in_bounded_memory():
    import tracemalloc
    image = np.random.default_rng(0).random((2048, 2048, 3),
                                            dtype=np.float32)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = convpool.filter2d(image, np.ones((5, 5), np.float32) / 25,
                                pad_mode="reflect")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # np.pad of the whole picture alone would be 48 MiB beyond the output.
    assert peak - out.nbytes < 40 << 20
    np.testing.assert_allclose(out[1000, 1000], image[998:1003, 998:1003]
                               .mean(axis=(0, 1)), rtol=1e-5)
