"""Every new N-D user mistake gets a ValueError/TypeError naming the
argument in backticks (one test per bad input of issue 7)."""

import numpy as np
import pytest

import convpool

RANKS = (1, 2, 3)
SPATIAL = {1: "W", 2: "HW", 3: "DHW"}
CONV_ENGINES = ("auto", "taps", "axpy", "depthwise", "banded", "im2col",
                "planar")


def conv(r):
    return getattr(convpool, "conv%dd" % r)


def pool(r):
    return getattr(convpool, "pool%dd" % r)


def x_of(r, n=1, side=6, c=2):
    return np.zeros((n,) + (side,) * r + (c,))


def k_of(r, k=3, c=2, f=2):
    return np.zeros((k,) * r + (c, f))


# ------------------------------------------------------ rank mismatches

@pytest.mark.parametrize("r, other", [(2, 3), (2, 1), (1, 2), (3, 2)])
def test_kernel_of_another_rank(r, other):
    """e.g. a 3-D kernel given to conv2d"""
    with pytest.raises(ValueError, match=r"`kernels` must have %d dimensions"
                       r".*got %d" % (r + 2, other + 2)):
        conv(r)(x_of(r), k_of(other))


@pytest.mark.parametrize("r, other", [(3, 2), (1, 2), (2, 3)])
def test_input_of_another_rank(r, other):
    for fn in (conv(r), lambda x, _: pool(r)(x, 2)):
        with pytest.raises(ValueError, match=r"`x` must have %d dimensions"
                           r".*got %d" % (r + 2, other + 2)):
            fn(x_of(other), k_of(r))


def test_stride_tuple_of_the_wrong_length_conv3d():
    with pytest.raises(ValueError, match=r"`stride` must be an int or a tuple"
                       r" of 3 ints, got 2 values: \(1, 2\)"):
        convpool.conv3d(x_of(3), k_of(3), stride=(1, 2))


@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_int_tuples_of_the_wrong_length(r, name):
    bad = (1,) * (r + 1)
    match = (r"`%s` must be an int or a (tuple of %d ints?|pair of ints), "
             r"got %d values" % (name, r, r + 1))
    with pytest.raises(ValueError, match=match):
        conv(r)(x_of(r), k_of(r), **{name: bad})
    with pytest.raises(ValueError, match=match):
        pool(r)(x_of(r), 2, **{name: bad})


@pytest.mark.parametrize("r", RANKS)
def test_window_tuple_of_the_wrong_length(r):
    with pytest.raises(ValueError, match=r"`window` must be an int or a "
                       r"(tuple of %d ints?|pair of ints), got %d values"
                       % (r, r + 1)):
        pool(r)(x_of(r), (2,) * (r + 1))


@pytest.mark.parametrize("r", RANKS)
def test_padding_of_the_wrong_length(r):
    # (in 1-D a flat (lo, hi) pair is allowed, so 3 ints are too many)
    for bad in [(1,) * max(r + 1, 3), ((1, 1),) * (r + 1),
                ((1, 1, 1),) * r]:
        with pytest.raises((ValueError, TypeError), match=r"`padding`"):
            conv(r)(x_of(r), k_of(r), padding=bad)
        with pytest.raises((ValueError, TypeError), match=r"`padding`"):
            pool(r)(x_of(r), 3, padding=bad)


def test_data_format_of_another_rank_conv3d():
    with pytest.raises(ValueError, match=r"`data_format` must be one of "
                       r"'NDHWC', 'NCDHW', got 'NHWC'"):
        convpool.conv3d(x_of(3), k_of(3), data_format="NHWC")


@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("fn", ["conv", "pool", "max_pool", "avg_pool",
                                "adaptive_avg_pool", "adaptive_max_pool"])
def test_data_format_of_another_rank(r, fn):
    other = {1: "NCHW", 2: "NWC", 3: "NHWC"}[r]
    s = SPATIAL[r]
    match = (r"`data_format` must be one of 'N%sC', 'NC%s', got '%s'"
             % (s, s, other))
    f = getattr(convpool, "%s%dd" % (fn, r))
    second = k_of(r) if fn == "conv" else 2
    with pytest.raises(ValueError, match=match):
        f(x_of(r), second, data_format=other)


@pytest.mark.parametrize("r", RANKS)
def test_kernel_format_of_another_rank(r):
    other = {1: "HWIO", 2: "OIDHW", 3: "OHWI"}[r]
    s = SPATIAL[r]
    with pytest.raises(ValueError, match=r"`kernel_format` must be one of "
                       r".*'%sIO'.*got '%s'" % (s, other)):
        conv(r)(x_of(r), k_of(r), kernel_format=other)


# ------------------------------------------------------- other new args

@pytest.mark.parametrize("r", RANKS)
def test_unknown_padding_mode(r):
    with pytest.raises(ValueError, match=r"`padding_mode` must be one of "
                       r".*got 'mirrored'") as info:
        conv(r)(x_of(r), k_of(r), padding=1, padding_mode="mirrored")
    for name in ("zeros", "reflect", "replicate", "circular"):
        assert "'%s'" % name in str(info.value), name


@pytest.mark.parametrize("r", RANKS)
def test_reflect_padding_not_smaller_than_the_input(r):
    """PyTorch's rule: reflection repeats no edge cell, so it needs
    pad < input length."""
    with pytest.raises(ValueError, match=r"`padding"):
        conv(r)(np.zeros((1,) + (2,) * r + (1,)), np.zeros((3,) * r + (1, 1)),
                padding=2, padding_mode="reflect")


@pytest.mark.parametrize("r", RANKS)
def test_unknown_engine_names_every_engine(r):
    with pytest.raises(ValueError, match=r"`engine` must be one of 'auto'.*"
                       r"got 'fft'"):
        conv(r)(x_of(r), k_of(r), engine="fft")


@pytest.mark.parametrize("r", RANKS)
def test_stride_and_dilation_below_one(r):
    zeros = "0, " * (r - 1) + "0" + ("," if r == 1 else "")
    with pytest.raises(ValueError, match=r"`stride` must be >= 1, got "
                       r"\(%s\)" % zeros):
        conv(r)(x_of(r), k_of(r), stride=0)
    with pytest.raises(ValueError, match=r"`dilation` must be >= 1, got "
                       r"\(%s\)" % zeros):
        pool(r)(x_of(r), 2, dilation=0)


@pytest.mark.parametrize("r", RANKS)
def test_kernel_larger_than_padded_input(r):
    x = np.zeros((1,) + (2,) + (4,) * (r - 1) + (1,))
    with pytest.raises(ValueError, match=r"`kernels` \(dilated size "
                       r".*\) is larger than the padded input"):
        conv(r)(x, np.zeros((3,) * r + (1, 1)))


# -------------------------------------------------- pooling padding rule

@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("window, dilation, pad", [(2, 1, 2), (3, 1, 3),
                                                   (2, 2, 3), (3, 2, 5)])
def test_pool_padding_side_not_smaller_than_the_window(r, window, dilation,
                                                       pad):
    """Each padding side must be smaller than the dilated window extent
    d * (k - 1) + 1; the last axis alone breaks the rule here."""
    pads = ((0, 0),) * (r - 1) + ((0, pad),)
    with pytest.raises(ValueError, match=r"`padding` .*must be smaller than"):
        pool(r)(x_of(r, side=8), window, padding=pads, dilation=dilation)


@pytest.mark.parametrize("r", RANKS)
def test_pool_padding_just_inside_the_dilated_window_is_accepted(r):
    """pad = d * (k - 1) < extent: allowed (PyTorch would refuse pad >
    k // 2, the contract does not)."""
    x = np.arange(8.0 ** r).reshape((1,) + (8,) * r + (1,))
    y = pool(r)(x, 2, dilation=3, padding=3, stride=1)
    # (8 + 3 + 3 - 4) // 1 + 1 = 11 windows per axis; the first one's
    # taps: -3 (padding) and 0 on every axis
    assert y.shape == (1,) + (11,) * r + (1,)
    assert y[(0,) * (r + 2)] == 0.0


@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_over_an_empty_spatial_axis_with_padding(r, mode):
    """H = 0 with padding 1: every window lies wholly in the padding."""
    x = np.zeros((1,) + (0,) + (4,) * (r - 1) + (1,))
    with pytest.raises(ValueError, match=r"`(x|padding)`"):
        pool(r)(x, 2, padding=1, mode=mode)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("r", RANKS)
def test_dilated_window_holding_only_padding(r):
    """n = 1, k = 2, d = 2, pad 1: the window's taps are -1 and 1, both
    padding, though pad < dilated extent 3.  The contract leaves this
    open; accept PyTorch's -inf for max, or a ValueError naming the
    argument, never garbage."""
    x = np.ones((1,) + (1,) * r + (1,))
    try:
        y = pool(r)(x, 2, dilation=2, padding=1, stride=1, mode="max")
    except ValueError as e:
        assert "`" in str(e), str(e)
        return
    assert y.shape == (1,) + (1,) * r + (1,)
    assert y.ravel()[0] == -np.inf


# ---------------------------------------------- zero channels or filters

@pytest.mark.parametrize("engine", CONV_ENGINES)
def test_zero_filters_conv2d_taps(engine):
    """The issue's example: an IndexError in the taps engine before."""
    with pytest.raises(ValueError, match=r"`kernels`"):
        convpool.conv2d(np.ones((1, 4, 4, 2)), np.zeros((3, 3, 2, 0)),
                        engine=engine)


@pytest.mark.parametrize("r", RANKS)
def test_zero_channels_or_filters(r):
    with pytest.raises(ValueError, match=r"`kernels`"):
        conv(r)(np.ones((1,) + (4,) * r + (2,)), np.zeros((3,) * r + (2, 0)))
    with pytest.raises(ValueError, match=r"`(x|kernels)`"):
        conv(r)(np.ones((1,) + (4,) * r + (0,)), np.zeros((3,) * r + (0, 2)))


# --------------------------------------------------------- adaptive pooling

@pytest.mark.parametrize("r", RANKS)
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_adaptive_bad_output_size(r, mode):
    f = getattr(convpool, "adaptive_%s_pool%dd" % (mode, r))
    x = x_of(r)
    for bad in (0, -1, (0,) + (2,) * (r - 1), (2,) * (r - 1) + (-3,)):
        with pytest.raises(ValueError, match=r"`output_size`"):
            f(x, bad)
    with pytest.raises(ValueError, match=r"`output_size` must be an int or "
                       r"a tuple of %d" % r):
        f(x, (2,) * (r + 1))
    for bad in (1.5, "2", (1.5,) * r):
        with pytest.raises(TypeError, match=r"`output_size`"):
            f(x, bad)


@pytest.mark.parametrize("r", RANKS)
def test_adaptive_pool_over_an_empty_spatial_axis(r):
    x = np.zeros((1,) + (0,) + (4,) * (r - 1) + (1,))
    with pytest.raises(ValueError, match=r"`(x|output_size)`"):
        getattr(convpool, "adaptive_avg_pool%dd" % r)(x, 2)


@pytest.mark.parametrize("r", RANKS)
def test_dilated_average_window_wholly_in_padding(r):
    # One cell, a window of 2 with dilation 2 and padding 1 on each side:
    # the window's taps fall at -1 and 1, both padding.  Its average over
    # real cells would be 0 / 0; it is refused, and with the padding
    # counted it is a plain 0.
    x = np.ones((1,) + (1,) * r + (1,))
    kwargs = dict(stride=1, padding=[(1, 1)] * r, dilation=2)
    with pytest.raises(ValueError, match=r"`dilation` .* `padding` .*only "
                       r"padded cells"):
        pool(r)(x, 2, mode="avg", **kwargs)
    with pytest.raises(ValueError, match="only padded cells"):
        getattr(convpool.grad, "pool%dd" % r)(x, x, 2, mode="avg", **kwargs)
    counted = pool(r)(x, 2, mode="avg", count_include_pad=True, **kwargs)
    assert counted.shape == x.shape and np.all(counted == 0)
    # Max pooling gives -inf there, as PyTorch's max_pool with dilation.
    assert np.all(pool(r)(x, 2, mode="max", **kwargs) == -np.inf)
