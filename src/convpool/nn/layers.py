"""Layers: each a short class with ``forward`` and ``backward``.

A layer is built once for its input shape (``build``), which creates its
parameters in ``params`` (name -> array).  ``forward(x)`` keeps what
``backward`` needs; ``backward(dy)`` fills ``grads`` (same names) and
returns the gradient with respect to ``x`` (a convolution whose
``needs_dx`` is false returns None instead: ``Sequential`` clears it for
the first layer while training).  Max pooling keeps the forward's argmax
indices for ``backward``, as PyTorch does.  Arrays are channels-last:
``(N, W, C)``, ``(N, H, W, C)`` or ``(N, D, H, W, C)``, kernels
``(*K, C/groups, F)``, the library's defaults.
"""

import numpy as np

import convpool
from convpool import grad

from . import init as initialisers


class Layer:
    """A layer with no parameters; subclasses override what they need."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True
        # Whether backward must return dx; Sequential clears it for the
        # first layer, whose dx nothing uses.
        self.needs_dx = True

    def build(self, input_shape, rng, dtype):
        """Create the parameters for inputs of shape ``(N, *input_shape)``."""

    def forward(self, x):
        """The layer's output for a batch ``x``; keeps what ``backward``
        needs."""
        raise NotImplementedError

    def backward(self, dy):
        """``dx`` from ``dy`` (the loss gradient with respect to the last
        output); fills ``grads``."""
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__ + "()"


class Conv(Layer):
    """Convolution over ``rank`` spatial axes (``Conv1D/2D/3D`` fix it).

    Parameters
    ----------
    filters : int
        Output channels F.
    kernel_size : int or tuple
        Kernel size along each spatial axis.
    stride, padding, dilation, groups
        As in ``convpool.conv2d``: ``padding`` is 'valid', 'same', an int,
        ... .
    use_bias : bool
        Add a learned bias of shape (F,).
    init : 'he' or 'glorot'
        How the kernel is initialised; the bias starts at zero.

    Examples
    --------
    >>> conv = Conv2D(4, 3, padding="same", stride=2)
    >>> x = np.ones((2, 5, 5, 3))
    >>> conv.build(x.shape[1:], np.random.default_rng(0), np.float64)
    >>> y = conv.forward(x)
    >>> y.shape, conv.params["kernel"].shape
    ((2, 3, 3, 4), (3, 3, 3, 4))
    >>> dx = conv.backward(np.ones_like(y))
    >>> dx.shape, conv.grads["bias"].tolist()
    ((2, 5, 5, 3), [18.0, 18.0, 18.0, 18.0])
    """

    rank = None

    def __init__(self, filters, kernel_size, *, stride=1, padding="valid",
                 dilation=1, groups=1, use_bias=True, init="he"):
        super().__init__()
        self.filters, self.use_bias = filters, use_bias
        self.kernel_size = _ntuple(kernel_size, self.rank)
        self.options = dict(stride=stride, padding=padding,
                            dilation=dilation, groups=groups)
        self.init = initialisers.get(init)

    def build(self, input_shape, rng, dtype):
        groups = self.options["groups"]
        per_group = input_shape[-1] // groups
        taps = int(np.prod(self.kernel_size))
        shape = self.kernel_size + (per_group, self.filters)
        self.params["kernel"] = self.init(
            rng, shape, per_group * taps, self.filters // groups * taps,
            dtype)
        if self.use_bias:
            self.params["bias"] = np.zeros(self.filters, dtype)

    def forward(self, x):
        self.x = x
        op = getattr(convpool, f"conv{self.rank}d")
        return op(x, self.params["kernel"], bias=self.params.get("bias"),
                  **self.options)

    def backward(self, dy):
        # The first layer's dx (the gradient of the data) is not needed.
        dx, self.grads["kernel"], dbias = grad.conv(
            self.rank, self.x, self.params["kernel"], dy,
            need_dx=self.needs_dx, **self.options)
        if self.use_bias:
            self.grads["bias"] = dbias
        return dx

    def __repr__(self):
        return (f"{type(self).__name__}({self.filters}, {self.kernel_size}, "
                + ", ".join(f"{k}={v!r}" for k, v in self.options.items())
                + ")")


class Pool(Layer):
    """Max or average pooling over ``rank`` spatial axes.

    ``window``, ``stride`` (default: the window), ``padding`` and the
    other keywords (``ceil_mode``, ``count_include_pad``) mean what they
    mean in ``convpool.pool2d``.

    Examples
    --------
    >>> pool = MaxPool2D(2)
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> pool.forward(x)[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> pool.backward(np.ones((1, 2, 2, 1)))[0, :2, :, 0].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """

    rank, mode = None, None

    def __init__(self, window, *, stride=None, padding="valid", **options):
        super().__init__()
        self.window = window
        self.options = dict(stride=stride, padding=padding, mode=self.mode,
                            **options)

    def forward(self, x):
        self.x = x
        if self.mode == "max":
            # Keep the argmax: backward scatters dy there, with no second
            # pass over x (as PyTorch saves them).
            op = getattr(convpool, f"max_pool{self.rank}d")
            options = {k: v for k, v in self.options.items()
                       if k not in ("mode", "count_include_pad")}
            y, self.indices = op(x, self.window, return_indices=True,
                                 **options)
            return y
        op = getattr(convpool, f"pool{self.rank}d")
        return op(x, self.window, **self.options)

    def backward(self, dy):
        vjp = getattr(grad, f"pool{self.rank}d")
        saved = dict(indices=self.indices) if self.mode == "max" else {}
        return vjp(self.x, dy, self.window, **self.options, **saved)

    def __repr__(self):
        return f"{type(self).__name__}({self.window!r})"


class Dense(Layer):
    """``y = x @ kernel + bias``, for ``(N, in)`` inputs, kernel (in, units).

    >>> layer = Dense(2)
    >>> layer.build((3,), np.random.default_rng(0), np.float64)
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, units, *, use_bias=True, init="he"):
        super().__init__()
        self.units, self.use_bias = units, use_bias
        self.init = initialisers.get(init)

    def build(self, input_shape, rng, dtype):
        (fan_in,) = input_shape
        self.params["kernel"] = self.init(rng, (fan_in, self.units), fan_in,
                                          self.units, dtype)
        if self.use_bias:
            self.params["bias"] = np.zeros(self.units, dtype)

    def forward(self, x):
        self.x = x
        y = x @ self.params["kernel"]
        return y + self.params["bias"] if self.use_bias else y

    def backward(self, dy):
        self.grads["kernel"] = self.x.T @ dy
        if self.use_bias:
            self.grads["bias"] = dy.sum(axis=0)
        return dy @ self.params["kernel"].T

    def __repr__(self):
        return f"Dense({self.units})"


class ReLU(Layer):
    """``max(x, 0)``, as in PyTorch: NaN stays NaN, -0.0 stays -0.0, and
    the gradient passes where the result is not ``<= 0`` (at 0 it is 0; at
    NaN it passes).

    Both passes keep an array's bits where a mask is true and give +0.0
    elsewhere, by ANDing the bits with an all-ones or all-zeros mask per
    cell: exactly ``np.where(mask, a, 0)`` (inf and NaN included), in two
    integer passes instead of ``np.where``'s 2.3 ms on LeNet-5's first
    activations.  (``np.maximum(0, x)`` would be one pass, but NumPy's
    float16 maximum turns -0.0 into 0.0, where PyTorch keeps it.)
    """

    def forward(self, x):
        y = _keep(x, ~(x < 0))
        self.passes = ~(y <= 0)
        return y

    def backward(self, dy):
        return _keep(dy, self.passes)


# The integer type of each float size, for ``_keep``'s bit mask.
_SAME_SIZE_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _keep(a, mask):
    """``np.where(mask, a, 0)`` in ``a``'s dtype, bit for bit."""
    a = np.asarray(a)
    bits = _SAME_SIZE_INT.get(a.dtype.itemsize)
    if a.dtype.kind != "f" or bits is None:
        return np.where(mask, a, 0).astype(a.dtype, copy=False)
    out = np.negative(mask, dtype=bits)         # -1: every bit set
    return np.bitwise_and(a.view(bits), out, out=out).view(a.dtype)


class Tanh(Layer):
    """``tanh(x)``, with gradient ``1 - tanh(x)**2``."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y * self.y)


class Flatten(Layer):
    """``(N, ...)`` to ``(N, -1)``, in channels-last order."""

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), int(np.prod(x.shape[1:])))

    def backward(self, dy):
        return dy.reshape(self.shape)


class Dropout(Layer):
    """Zero each value with probability ``rate`` while training, scaling the
    rest by ``1 / (1 - rate)`` (inverted dropout); the identity otherwise.
    The masks are drawn from ``seed``, or from the network's seed.
    """

    def __init__(self, rate, *, seed=None):
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError(f"`rate` must be in [0, 1), got {rate!r}")
        self.rate = rate
        self.rng = None if seed is None else np.random.default_rng(seed)

    def build(self, input_shape, rng, dtype):
        # Without a seed of its own, the masks follow the network's seed.
        if self.rng is None:
            self.rng = np.random.default_rng(rng.integers(2 ** 63))

    def forward(self, x):
        if not self.training or not self.rate:
            self.scale = None
            return x
        keep = self.rng.random(x.shape) >= self.rate
        self.scale = keep.astype(x.dtype) / (1 - self.rate)
        return x * self.scale

    def backward(self, dy):
        return dy if self.scale is None else dy * self.scale

    def __repr__(self):
        return f"Dropout({self.rate})"


def _ntuple(value, rank):
    if np.ndim(value) == 0:
        return (int(value),) * rank
    value = tuple(int(v) for v in value)
    if len(value) != rank:
        raise ValueError(f"`kernel_size` must be an int or {rank} ints, "
                         f"got {value!r}")
    return value


class Conv1D(Conv):
    """Convolution over 1 spatial axis (see :class:`Conv`)."""

    rank = 1


class Conv2D(Conv):
    """Convolution over 2 spatial axes (see :class:`Conv`)."""

    rank = 2


class Conv3D(Conv):
    """Convolution over 3 spatial axes (see :class:`Conv`)."""

    rank = 3


class MaxPool1D(Pool):
    """Max pooling over 1 spatial axis (see :class:`Pool`)."""

    rank, mode = 1, "max"


class MaxPool2D(Pool):
    """Max pooling over 2 spatial axes (see :class:`Pool`)."""

    rank, mode = 2, "max"


class MaxPool3D(Pool):
    """Max pooling over 3 spatial axes (see :class:`Pool`)."""

    rank, mode = 3, "max"


class AvgPool1D(Pool):
    """Average pooling over 1 spatial axis (see :class:`Pool`)."""

    rank, mode = 1, "avg"


class AvgPool2D(Pool):
    """Average pooling over 2 spatial axes (see :class:`Pool`)."""

    rank, mode = 2, "avg"


class AvgPool3D(Pool):
    """Average pooling over 3 spatial axes (see :class:`Pool`)."""

    rank, mode = 3, "avg"
