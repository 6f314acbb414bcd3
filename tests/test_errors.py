"""Every user mistake gets a ValueError/TypeError naming the argument."""

import numpy as np
import pytest

import convpool
from convpool import conv2d, filter2d, pool2d, max_pool2d, avg_pool2d

X = np.zeros((2, 6, 7, 4))
K = np.zeros((3, 3, 4, 2))

CONV_CASES = [
    # wrong number of dimensions
    (dict(x=np.zeros((6, 7, 4))), ValueError,
     r"`x` must have 4 dimensions \(N, H, W, C\), got 3 with shape \(6, 7, 4\)"),
    (dict(x=np.zeros((2, 4, 6, 7)), data_format="NCHW", kernels=np.zeros((3, 3, 4))),
     ValueError, r"`kernels` must have 4 dimensions \(KH, KW, C/groups, F\), got 3"),
    # channels not matching the kernel, with and without groups
    (dict(kernels=np.zeros((3, 3, 3, 2))), ValueError,
     r"`kernels` \(HWIO\) must have C/groups = 4 / 1 = 4 input channels to match `x`, got 3"),
    (dict(kernels=np.zeros((2, 4, 3, 3)), kernel_format="OIHW", groups=2), ValueError,
     r"C/groups = 4 / 2 = 2 input channels to match `x`, got 4"),
    # groups not dividing channels or filters
    (dict(groups=3, kernels=np.zeros((3, 3, 1, 3))), ValueError,
     r"`groups` \(3\) must divide the input channels \(4\)"),
    (dict(groups=2, kernels=np.zeros((3, 3, 2, 3))), ValueError,
     r"`groups` \(2\) must divide the number of filters \(3\)"),
    (dict(groups=0), ValueError, r"`groups` must be >= 1, got 0"),
    (dict(groups=1.0), TypeError, r"`groups` must be an int, got 1.0"),
    # stride / dilation < 1
    (dict(stride=0), ValueError, r"`stride` must be >= 1, got \(0, 0\)"),
    (dict(stride=(1, -2)), ValueError, r"`stride` must be >= 1, got \(1, -2\)"),
    (dict(dilation=0), ValueError, r"`dilation` must be >= 1, got \(0, 0\)"),
    # negative padding, unknown words
    (dict(padding=-1), ValueError, r"`padding` must be >= 0, got \(-1, -1\)"),
    (dict(padding=((1, 1), (0, -2))), ValueError, r"`padding` must be >= 0, got \(0, -2\)"),
    (dict(padding="samee"), ValueError, r"`padding` must be one of 'valid', 'same'.*got 'samee'"),
    (dict(data_format="NWHC"), ValueError, r"`data_format` must be one of 'NHWC', 'NCHW', got 'NWHC'"),
    (dict(kernel_format="IOHW"), ValueError,
     r"`kernel_format` must be one of 'HWIO', 'OIHW', 'OHWI', got 'IOHW'"),
    (dict(engine="fft"), ValueError, r"`engine` must be one of 'auto', 'taps', 'axpy', 'depthwise', 'banded', 'im2col', 'planar', got 'fft'"),
    # kernel larger than the padded input
    (dict(kernels=np.zeros((7, 3, 4, 2))), ValueError,
     r"`kernels` \(dilated size 7x3\) is larger than the padded input \(6x7 padded"),
    (dict(dilation=4), ValueError,
     r"`kernels` \(dilated size 9x9\) is larger than the padded input"),
    (dict(kernels=np.zeros((0, 3, 4, 2))), ValueError, r"`kernels` must have KH, KW >= 1, got 0x3"),
    # non-numeric arrays
    (dict(x=np.full((2, 6, 7, 4), "a")), TypeError, r"`x` must be a numeric array, got dtype <U1"),
    (dict(kernels=np.zeros((3, 3, 4, 2), object)), TypeError,
     r"`kernels` must be a numeric array, got dtype object"),
    (dict(x=[[[[1.0]]], [[[1.0, 2.0]]]]), ValueError, r"`x` must be a numeric array"),
    # bias of the wrong shape
    (dict(bias=np.zeros(3)), ValueError, r"`bias` must have shape \(2,\) \(one per filter\), got \(3,\)"),
    (dict(bias=np.zeros((2, 1))), ValueError, r"`bias` must have shape \(2,\)"),
    (dict(bias=["a", "b"]), TypeError, r"`bias` must be a numeric array"),
    # threads and out
    (dict(threads=0), ValueError, r"`threads` must be an int >= 1, got 0"),
    (dict(out=np.zeros((2, 4, 5, 3))), ValueError,
     r"`out` must have shape \(2, 4, 5, 2\) and dtype float64, got shape \(2, 4, 5, 3\)"),
    (dict(out=np.zeros((2, 4, 5, 2), np.float32)), ValueError, r"`out` must have shape .* and dtype float64"),
    (dict(out=[0.0]), TypeError, r"`out` must be a numpy.ndarray, got list"),
]


@pytest.mark.parametrize("kwargs, error, match", CONV_CASES)
def test_conv2d_bad_input(kwargs, error, match):
    kwargs = dict(kwargs)
    x = kwargs.pop("x", X)
    kernels = kwargs.pop("kernels", K)
    with pytest.raises(error, match=match):
        conv2d(x, kernels, **kwargs)


def test_conv2d_out_may_not_overlap_input():
    x = np.zeros((1, 3, 3, 1))
    with pytest.raises(ValueError, match="`out` must not share memory"):
        conv2d(x, np.ones((1, 1, 1, 1)), out=x)


POOL_CASES = [
    (dict(x=np.zeros((6, 7, 4))), ValueError, r"`x` must have 4 dimensions \(N, H, W, C\)"),
    (dict(window=0), ValueError, r"`window` must be >= 1, got \(0, 0\)"),
    (dict(window=(2, 0)), ValueError, r"`window` must be >= 1, got \(2, 0\)"),
    (dict(stride=0), ValueError, r"`stride` must be >= 1, got \(0, 0\)"),
    (dict(padding=-1), ValueError, r"`padding` must be >= 0"),
    (dict(padding="same_upper"), ValueError, r"`padding` must be one of"),
    (dict(mode="min"), ValueError, r"`mode` must be one of 'max', 'avg', got 'min'"),
    (dict(data_format="HWC"), ValueError, r"`data_format` must be one of 'NHWC', 'NCHW', got 'HWC'"),
    (dict(window=(7, 2)), ValueError, r"`window` \(size 7x2\) is larger than the padded input \(6x7"),
    (dict(x=np.full((1, 2, 2, 1), b"x")), TypeError, r"`x` must be a numeric array, got dtype \|S1"),
    (dict(x=np.zeros((1, 2, 2, 1), complex)), TypeError, r"`x` must be real for max pooling"),
    # a window wholly in the padding has nothing to pool
    (dict(padding=2), ValueError,
     r"`padding` \(\(2, 2\), \(2, 2\)\) must be smaller than `window` \(2, 2\) on every side"),
    (dict(window=3, padding=((0, 0), (0, 3))), ValueError, r"must be smaller than `window` \(3, 3\)"),
    (dict(ceil_mode="no"), TypeError, r"`ceil_mode` must be True or False, got 'no'"),
    (dict(count_include_pad=np.ones(2)), TypeError, r"`count_include_pad` must be True or False"),
    (dict(threads=1.5), TypeError, r"`threads` must be an int >= 1, got 1.5"),
]


@pytest.mark.parametrize("kwargs, error, match", POOL_CASES)
def test_pool2d_bad_input(kwargs, error, match):
    kwargs = dict(kwargs)
    x = kwargs.pop("x", X)
    window = kwargs.pop("window", 2)
    with pytest.raises(error, match=match):
        pool2d(x, window, **kwargs)


def test_mode_cannot_be_given_to_max_or_avg_pool2d():
    with pytest.raises(TypeError, match="`mode` cannot be given to max_pool2d"):
        max_pool2d(X, 2, mode="avg")
    with pytest.raises(TypeError, match="`mode` cannot be given to avg_pool2d"):
        avg_pool2d(X, 2, mode="max")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(image=np.zeros((2, 5, 5, 1))), ValueError,
     r"`image` must have 2 or 3 dimensions \(H, W\) or \(H, W, C\), got 4"),
    (dict(kernel=np.zeros((3, 3, 1))), ValueError, r"`kernel` must have 2 dimensions \(KH, KW\), got 3"),
    (dict(pad_mode="bounce"), ValueError,
     r"`pad_mode` must be one of 'constant', 'reflect', 'symmetric', 'edge', 'wrap' or an alias "
     r"\('zeros', .*'grid-wrap'.*\), got 'bounce'"),
    (dict(kernel=np.zeros((9, 3))), ValueError, r"`kernel` \(size 9x3\) is larger than the padded input \(5x5"),
    (dict(stride=0), ValueError, r"`stride` must be >= 1"),
])
def test_filter2d_bad_input(kwargs, error, match):
    kwargs = dict(kwargs)
    image = kwargs.pop("image", np.zeros((5, 5)))
    kernel = kwargs.pop("kernel", np.ones((3, 3)))
    if "kernel" in match or kernel.shape[0] > 5:
        kwargs.setdefault("padding", "valid")
    with pytest.raises(error, match=match):
        filter2d(image, kernel, **kwargs)


def test_set_threads_validates():
    with pytest.raises(ValueError, match="`threads` must be an int >= 1, got -1"):
        convpool.set_threads(-1)


def test_numpy_integers_and_0d_arrays_are_accepted_as_ints():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    expected = pool2d(x, 2)
    np.testing.assert_array_equal(pool2d(x, np.array(2), threads=np.int64(2)), expected)
    np.testing.assert_array_equal(conv2d(x, np.ones((1, 1, 1, 1)), stride=np.array(1),
                                         threads=np.int32(1)), x)


def test_filter2d_with_no_channels_returns_an_empty_result():
    got = filter2d(np.zeros((5, 5, 0)), np.ones((3, 3)), pad_mode="edge")
    assert got.shape == (5, 5, 0)
