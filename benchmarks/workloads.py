"""The workloads of the performance issues, as data.

A workload is a small declarative record: its ``kind`` (which convpool op,
and which adapter every peer uses: ``benchmarks/peers.py``), a function
building its arrays, the op's keyword arguments and its targets.  Adding
one is adding a record to ``WORKLOADS``; a new kind also needs an entry in
``OPS`` below, a line in ``flops`` and, for each peer that can run it, a
branch in its adapter in ``peers.py`` (a peer without one leaves an empty
cell).

The kinds: ``conv`` and ``pool`` (forward, any rank: the rank is the
input's number of axes minus two), ``filter`` (one picture),
``conv_grad`` and ``pool_grad`` (``convpool.grad``: arrays ``(x, kernels,
dy)`` and ``(x, dy)``), and ``train`` (one epoch of LeNet-5: arrays
``(images, labels)``).

Arrays are built only for the workloads that run (``--only``), seeded:
inputs uniform in [0, 1), kernels standard normal (no zeros or ones, which
the tap engine would skip or fuse) unless the workload says otherwise.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional


import numpy as np

import convpool

__all__ = ["Workload", "WORKLOADS", "OPS", "flops", "gaussian", "lenet",
           "LENET_SGD"]


@dataclass(frozen=True)
class Workload:
    """One timed job.

    ``make(scale, rng)`` returns the op's positional arrays (input first),
    ``scale`` < 1 shrinking the batch (``--quick``).  ``options`` are the
    op's keyword arguments, in convpool's terms (padding as convpool
    spells it); peers translate them.  ``target`` is the issue's bound on
    convpool / fastest peer; ``seconds`` an absolute bound on convpool's
    time.  ``peers`` limits which peers run (None: every peer that can);
    ``repeats`` overrides the suite's number of timed runs (a long one).
    Every peer's result is checked against convpool's before timing, on
    the timed arrays or, if given, on ``check_on(arrays)``.
    """
    name: str
    title: str
    kind: str
    make: Callable
    options: dict = field(default_factory=dict)
    target: Optional[float] = None
    seconds: Optional[float] = None
    floor_target: Optional[float] = None   # max convpool / copy floor
    loops_target: Optional[float] = None   # min speed-up over two loops
    loops: bool = False                    # time the two-loop solution
    peers: Optional[tuple] = None
    repeats: Optional[int] = None          # timed runs, if not --repeats
    check_on: Optional[Callable] = None


def _rank(arrays):
    return arrays[0].ndim - 2


def _pool_grad(arrays, options):
    # The max-pool gradient takes the forward's argmax indices, computed
    # outside the timing, as PyTorch's backward takes its saved ones.
    x, dy = arrays[:2]
    if options.get("mode") == "max":
        return convpool.grad.pool2d(x, dy, indices=arrays[2], **options)
    return convpool.grad.pool2d(x, dy, **options)


# LeNet-5's training workload: the optimiser and the network, identical
# for convpool and the PyTorch peer (which copies these initial weights).
LENET_SGD = {"lr": 0.01, "momentum": 0.9}


def lenet(shape, dtype):
    """convpool.nn's LeNet-5 with the workload's fixed initial weights."""
    return convpool.nn.lenet5(shape, 10, seed=0, dtype=dtype)


def _epoch(arrays, options):
    """One epoch from the fixed initial weights: every call does the same
    work.  Returns the trained parameters."""
    images, labels = arrays
    net = lenet(images.shape[1:], images.dtype)
    net.fit(images, labels, convpool.nn.SGD(**LENET_SGD), epochs=1,
            batch_size=options["batch_size"], seed=0)
    return net.parameters()


# How convpool runs each kind: ``OPS[kind](arrays, options)``.
OPS = {
    "conv": lambda a, o: getattr(convpool, f"conv{_rank(a)}d")(*a, **o),
    "pool": lambda a, o: getattr(convpool, f"pool{_rank(a)}d")(*a, **o),
    "filter": lambda a, o: convpool.filter2d(*a, **o),
    "conv_grad": lambda a, o: getattr(convpool.grad,
                                      f"conv{_rank(a)}d")(*a, **o),
    "pool_grad": _pool_grad,
    "train": _epoch,
}


def flops(load, arrays, out):
    """Multiply-adds count 2, comparisons and additions 1.  A gradient
    counts its forward's work once for dx and once for dkernels (pooling:
    the forward's comparisons, which find the argmax, once); a training
    epoch three times the network's forward multiply-adds (forward, dx,
    dweights), activations and pooling left out."""
    if load.kind in ("conv", "conv_grad"):
        grad = load.kind == "conv_grad"
        y = arrays[2] if grad else out      # dy: the forward output's shape
        forward = 2.0 * y.size * np.prod(arrays[1].shape[:-1])
        return forward * (2 if grad else 1)
    if load.kind == "filter":
        return 2.0 * out.size * arrays[1].size
    if load.kind in ("pool", "pool_grad"):
        y = arrays[1] if load.kind == "pool_grad" else out
        return float(y.size) * load.options["window"] ** _rank(arrays)
    if load.kind == "train":
        return 3.0 * len(arrays[0]) * _lenet_macs(arrays[0]) * 2
    return float("nan")


def _lenet_macs(images):
    """Multiply-adds of LeNet-5's forward pass for one image."""
    net = lenet(images.shape[1:], images.dtype)
    x = np.zeros((1,) + images.shape[1:], images.dtype)
    macs = 0
    for layer in net.layers:
        x = layer.forward(x)
        if "kernel" in layer.params:
            macs += x.size * np.prod(layer.params["kernel"].shape[:-1])
    return float(macs)


def gaussian(size, dtype=np.float32):
    """OpenCV's ``getGaussianKernel`` default (sigma = 0.3 * ((size - 1) /
    2 - 1) + 0.8), as a 2-D outer product in ``dtype``."""
    sigma = 0.3 * ((size - 1) / 2 - 1) + 0.8
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).astype(dtype)
    return np.outer(g, g)


def _batch(n, scale):
    return max(1, int(round(n * scale)))


def _side(n, scale):
    """A picture's side under ``--quick``: area scales like a batch."""
    return max(64, int(n * scale ** 0.5))


def _uniform(rng, shape, dtype=np.float32):
    return rng.random(shape, dtype=np.float64).astype(dtype)


def _normal(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _conv_data(shape, kernel, dtype=np.float32):
    def make(scale, rng):
        n, *rest = shape
        return (_uniform(rng, (_batch(n, scale), *rest), dtype),
                _normal(rng, kernel, dtype))
    return make


def _pool_data(shape):
    def make(scale, rng):
        n, *rest = shape
        return (_uniform(rng, (_batch(n, scale), *rest)),)
    return make


def _conv_grad_data(shape, kernel, options, dtype=np.float32):
    """``(x, kernels, dy)``, ``dy`` standard normal in the output's shape."""
    def make(scale, rng):
        x, k = _conv_data(shape, kernel, dtype)(scale, rng)
        op = getattr(convpool, f"conv{len(kernel) - 2}d")
        out = op(x[:1], k, **options).shape[1:]
        return x, k, _normal(rng, (len(x),) + out, dtype)
    return make


def _pool_grad_data(shape, options):
    """``(x, dy)``, and for max pooling the forward's argmax indices."""
    def make(scale, rng):
        x, = _pool_data(shape)(scale, rng)
        window = options["window"]
        rest = {k: v for k, v in options.items()
                if k not in ("window", "mode")}
        if options["mode"] == "max":
            y, indices = convpool.max_pool2d(x, window, return_indices=True,
                                             **rest)
            return x, _normal(rng, y.shape), indices
        y = convpool.pool2d(x, window, mode=options["mode"], **rest)
        return x, _normal(rng, y.shape)
    return make


def _digits(shape):
    """Random images uniform in [0, 1) and random labels 0-9."""
    def make(scale, rng):
        n, *rest = shape
        n = _batch(n, scale)
        return _uniform(rng, (n, *rest)), rng.integers(0, 10, n)
    return make


def _picture(side, kernel):
    def make(scale, rng):
        s = _side(side, scale)
        image = _uniform(rng, (s, s, 3))
        return image, (kernel(rng) if callable(kernel) else kernel)
    return make


def _first_batches(arrays):
    """Four batches in float64: a float32 epoch drifts apart from
    PyTorch's after a few dozen steps (measured: 1e-6 after 20 steps,
    0.1 of the largest bias after 47, as one ReLU or argmax flips), while
    float64 stays within 1e-14."""
    images, labels = arrays
    return images[:512].astype(np.float64), labels[:512]


BINOMIAL5 = np.outer(*[np.array([1, 4, 6, 4, 1], np.float32)] * 2) / 256
SAME = {"padding": "same"}
MAX2 = {"window": 2, "stride": 2, "mode": "max"}
CONV3D = ((8, 32, 64, 64, 16), (3, 3, 3, 16, 32))
GRAD_NOTE = "dx + dkernels; convpool also dbias"

WORKLOADS = [
    Workload("W1", "MNIST 3x3 valid float64", "conv",
             _conv_data((50000, 28, 28, 1), (3, 3, 1, 1), np.float64),
             target=0.8, floor_target=2.5, loops_target=20, loops=True),
    Workload("W1f32", "MNIST 3x3 valid float32", "conv",
             _conv_data((50000, 28, 28, 1), (3, 3, 1, 1)), target=0.25,
             loops=True),
    Workload("W2", "MNIST 3x3 same stride 2 float32", "conv",
             _conv_data((50000, 28, 28, 1), (3, 3, 1, 1)),
             {"stride": 2, "padding": "same"}, target=0.5),
    Workload("W3", "animals 3x3x3x3 valid float32", "conv",
             _conv_data((10000, 32, 32, 3), (3, 3, 3, 3)), target=0.5),
    Workload("W4avg", "animals avg pool 2x2/2", "pool",
             _pool_data((10000, 32, 32, 3)),
             {"window": 2, "stride": 2, "mode": "avg"}, target=0.8),
    Workload("W4max", "animals max pool 2x2/2", "pool",
             _pool_data((10000, 32, 32, 3)),
             {"window": 2, "stride": 2, "mode": "max"}, target=0.8),
    Workload("W4max3", "animals max pool 3x3/2 same", "pool",
             _pool_data((10000, 32, 32, 3)),
             {"window": 3, "stride": 2, "padding": "same", "mode": "max"},
             target=1.0),
    Workload("W5", "64x56x56x64 3x3x64x64 same", "conv",
             _conv_data((64, 56, 56, 64), (3, 3, 64, 64)), SAME, target=1.0),
    Workload("W6", "256x32x32x32 5x5x32x64 valid", "conv",
             _conv_data((256, 32, 32, 32), (5, 5, 32, 64)), target=1.0),
    Workload("W7", "depthwise 3x3 64x56x56x128 same", "conv",
             _conv_data((64, 56, 56, 128), (3, 3, 1, 128)),
             {"padding": "same", "groups": 128}, target=0.8),
    Workload("W8", "4096x4096x3 photo, 5x5 Gaussian filter2d", "filter",
             _picture(4096, BINOMIAL5), target=1.5),
    Workload("W9", "2048x2048x3 photo, 31x31 Gaussian filter2d", "filter",
             _picture(2048, gaussian(31)), target=1.0),
    Workload("W13", "4096x4096x3 photo, random 5x5 filter2d", "filter",
             _picture(4096, lambda rng: _normal(rng, (5, 5))), target=2.0),
    # Direct tap sums on this one take minutes for PyTorch, JAX and SciPy
    # (254 GFLOP); only OpenCV, which switches to its DFT, is timed.
    Workload("W14", "1024x1024x3 photo, 201x201 Gaussian filter2d",
             "filter", _picture(1024, gaussian(201)), seconds=1.0,
             peers=("OpenCV",)),
    # Issue 7: ranks 1 and 3.
    Workload("W10", "conv1d (256, 4096, 32) x (9, 32, 64) same float32",
             "conv", _conv_data((256, 4096, 32), (9, 32, 64)), SAME,
             target=1.0),
    Workload("W11", "conv3d (8, 32, 64, 64, 16) x (3, 3, 3, 16, 32) same "
             "float32", "conv", _conv_data(*CONV3D), SAME, target=1.0),
    Workload("W12", "max_pool3d 2x2x2 on (8, 32, 64, 64, 16) float32",
             "pool", _pool_data(CONV3D[0]), MAX2, target=1.0),
    # Issue 8: backward passes, against the peers' backward alone (the
    # forward runs outside the timing).
    Workload("W1b", f"W1 backward, float64 ({GRAD_NOTE})", "conv_grad",
             _conv_grad_data((50000, 28, 28, 1), (3, 3, 1, 1), {},
                             np.float64), target=1.0),
    Workload("W5b", f"W5 backward ({GRAD_NOTE})", "conv_grad",
             _conv_grad_data((64, 56, 56, 64), (3, 3, 64, 64), SAME),
             SAME, target=1.5),
    Workload("W4b", "W4max backward: max pool 2x2/2 on 10000x32x32x3 ("
             "convpool: scatter with the forward's indices; PyTorch: "
             "scatter with the forward's saved indices; JAX: "
             "select_and_scatter_add, argmax included)", "pool_grad",
             _pool_grad_data((10000, 32, 32, 3), MAX2), MAX2, target=1.0),
    Workload("W15", "LeNet-5 training epoch, 60000x28x28x1 float32, batch "
             "128, SGD lr 0.01 momentum 0.9", "train",
             _digits((60000, 28, 28, 1)), {"batch_size": 128}, target=1.5,
             repeats=3, check_on=_first_batches),
]
