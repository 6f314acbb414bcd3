"""The workloads of the performance issues, as data.

A workload is a small declarative record: its ``kind`` (which convpool op,
and which adapter every peer uses: ``benchmarks/peers.py``), a function
building its arrays, the op's keyword arguments and its targets.  Adding
one is adding a record to ``WORKLOADS``; a new kind (``conv1d``,
``conv3d``, ``max_pool3d``, a backward pass) also needs an entry in
``OPS`` below and, for each peer that can run it, an adapter in
``peers.py`` (a peer without one leaves an empty cell).

Arrays are built only for the workloads that run (``--only``), seeded:
inputs uniform in [0, 1), kernels standard normal (no zeros or ones, which
the tap engine would skip or fuse) unless the workload says otherwise.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import convpool

__all__ = ["Workload", "WORKLOADS", "OPS", "flops", "gaussian"]


@dataclass(frozen=True)
class Workload:
    """One timed job.

    ``make(scale, rng)`` returns the op's positional arrays (input first),
    ``scale`` < 1 shrinking the batch (``--quick``).  ``options`` are the
    op's keyword arguments, in convpool's terms (padding as convpool
    spells it); peers translate them.  ``target`` is the issue's bound on
    convpool / fastest peer; ``seconds`` an absolute bound on convpool's
    time.  ``peers`` limits which peers run (None: every peer that can).
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


# How convpool runs each kind: ``OPS[kind](arrays, options)``.
OPS = {
    "conv": lambda a, o: convpool.conv2d(*a, **o),
    "pool": lambda a, o: convpool.pool2d(*a, **o),
    "filter": lambda a, o: convpool.filter2d(*a, **o),
}


def flops(load, arrays, out):
    """Multiply-adds count 2, comparisons and additions 1."""
    if load.kind == "conv":
        kh, kw, cg = arrays[1].shape[:3]
        return 2.0 * out.size * kh * kw * cg
    if load.kind == "filter":
        return 2.0 * out.size * arrays[1].size
    if load.kind == "pool":
        return float(out.size) * load.options["window"] ** 2
    return float("nan")


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


def _picture(side, kernel):
    def make(scale, rng):
        s = _side(side, scale)
        image = _uniform(rng, (s, s, 3))
        return image, (kernel(rng) if callable(kernel) else kernel)
    return make


BINOMIAL5 = np.outer(*[np.array([1, 4, 6, 4, 1], np.float32)] * 2) / 256
SAME = {"padding": "same"}

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
]
