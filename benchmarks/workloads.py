"""The workloads W1-W8 of the performance issue, as data.

Each workload builds its arrays once (seeded, standard-normal kernels,
uniform inputs) and gives the convpool call and the equivalent PyTorch call.
PyTorch gets NHWC arrays the way a user would hand them over:
``torch.from_numpy(x).permute(0, 3, 1, 2)`` and back with
``.permute(0, 2, 3, 1).numpy()``, both inside its timed call (both are
views: PyTorch keeps the channels-last layout, so nothing is copied).  The
kernels are converted to OIHW tensors once, outside the timing, as a
model's weights would be.  PyTorch's padding is symmetric, so where
TensorFlow's 'same' puts the odd cell at the end (W2, W4 3x3/2) PyTorch
gets ``padding=1``: the same output shape and work, shifted by one cell.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

import convpool

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the suite still times convpool and the loops
    torch = None

__all__ = ["Workload", "workloads"]


@dataclass
class Workload:
    name: str
    title: str
    run: Callable            # convpool's call
    torch_run: Optional[Callable]
    flops: float             # multiply-adds count 2, comparisons 1
    arrays: tuple            # input arrays, for the memory floor
    out_shape: tuple
    out_dtype: np.dtype
    target: Optional[float]  # convpool / torch time ratio to meet
    loops: Optional[Callable] = None   # the two-loop solution, if timed
    floor_target: Optional[float] = None   # max convpool / copy floor
    loops_target: Optional[float] = None   # min speed-up over two loops


def _to_torch(x):
    return torch.from_numpy(x).permute(0, 3, 1, 2)


def _from_torch(t):
    return t.permute(0, 2, 3, 1).numpy()


def _torch_conv(x, k, **kw):
    if torch is None:
        return None
    weight = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
    return lambda: _from_torch(F.conv2d(_to_torch(x), weight, **kw))


def _conv(name, title, x, k, target, *, stride=1, padding="valid",
          torch_padding=0, groups=1, loops=None, floor_target=None,
          loops_target=None):
    out = convpool.conv2d(x[:1], k, stride=stride, padding=padding,
                          groups=groups)
    n = x.shape[0]
    oh, ow, f = out.shape[1:]
    kh, kw, cg, _ = k.shape
    run_torch = _torch_conv(x, k, stride=stride, padding=torch_padding,
                            groups=groups)
    return Workload(
        name, title,
        lambda: convpool.conv2d(x, k, stride=stride, padding=padding,
                                groups=groups),
        run_torch, 2.0 * n * oh * ow * f * kh * kw * cg, (x, k),
        (n, oh, ow, f), out.dtype, target, loops, floor_target, loops_target)


def _pool(name, title, x, window, stride, padding, mode, torch_padding,
          target):
    out = convpool.pool2d(x[:1], window, stride=stride, padding=padding,
                          mode=mode)
    n = x.shape[0]
    oh, ow, c = out.shape[1:]
    run_torch = None
    if torch is not None:
        pool = F.max_pool2d if mode == "max" else F.avg_pool2d

        def run_torch():
            return _from_torch(pool(_to_torch(x), window, stride,
                                    torch_padding))
    return Workload(
        name, title,
        lambda: convpool.pool2d(x, window, stride=stride, padding=padding,
                                mode=mode),
        run_torch, float(n * oh * ow * c * window * window), (x,),
        (n, oh, ow, c), out.dtype, target)


def _filter(name, title, image, kernel, target):
    h, w, c = image.shape
    kh, kw = kernel.shape
    run_torch = None
    if torch is not None:
        weight = torch.from_numpy(np.ascontiguousarray(
            np.broadcast_to(kernel, (c, 1, kh, kw))))

        def run_torch():
            picture = torch.from_numpy(image).permute(2, 0, 1)[None]
            return F.conv2d(picture, weight, padding=kh // 2,
                            groups=c)[0].permute(1, 2, 0).numpy()
    return Workload(
        name, title, lambda: convpool.filter2d(image, kernel), run_torch,
        2.0 * h * w * c * kh * kw, (image,), (h, w, c), image.dtype, target)


def workloads(scale=1.0, seed=0):
    """The eight workloads; ``scale`` shrinks every batch (for --quick)."""
    from .loops import convolve_grayscale
    rng = np.random.default_rng(seed)

    def batch(n):
        return max(1, int(round(n * scale)))

    def uniform(*shape, dtype=np.float32):
        return rng.random(shape, dtype=np.float64).astype(dtype)

    def normal(*shape, dtype=np.float32):
        return rng.standard_normal(shape).astype(dtype)

    mnist64 = uniform(batch(50000), 28, 28, 1, dtype=np.float64)
    mnist32 = mnist64.astype(np.float32)
    k64 = normal(3, 3, 1, 1, dtype=np.float64)
    k32 = k64.astype(np.float32)
    animals = uniform(batch(10000), 32, 32, 3)
    gauss = np.outer(*[np.array([1, 4, 6, 4, 1], np.float32)] * 2) / 256

    def two_loops(x, k):
        return lambda n: convolve_grayscale(x[:n, :, :, 0], k[:, :, 0, 0])
    return [
        _conv("W1", "MNIST 3x3 valid float64", mnist64, k64, 0.25,
              loops=two_loops(mnist64, k64), floor_target=2.5,
              loops_target=20),
        _conv("W1f32", "MNIST 3x3 valid float32", mnist32, k32, 0.10,
              loops=two_loops(mnist32, k32)),
        _conv("W2", "MNIST 3x3 same stride 2 float32", mnist32, k32, 0.25,
              stride=2, padding="same", torch_padding=1),
        _conv("W3", "animals 3x3x3x3 valid float32", animals,
              normal(3, 3, 3, 3), 1.0),
        _pool("W4avg", "animals avg pool 2x2/2", animals, 2, 2, "valid",
              "avg", 0, 1.0),
        _pool("W4max", "animals max pool 2x2/2", animals, 2, 2, "valid",
              "max", 0, 0.5),
        _pool("W4max3", "animals max pool 3x3/2 same", animals, 3, 2,
              "same", "max", 1, 1.0),
        _conv("W5", "64x56x56x64 3x3x64x64 same",
              uniform(batch(64), 56, 56, 64), normal(3, 3, 64, 64), 1.5,
              padding="same", torch_padding=1),
        _conv("W6", "256x32x32x32 5x5x32x64 valid",
              uniform(batch(256), 32, 32, 32), normal(5, 5, 32, 64), 1.5),
        _conv("W7", "depthwise 3x3 64x56x56x128 same",
              uniform(batch(64), 56, 56, 128), normal(3, 3, 1, 128), 1.0,
              padding="same", torch_padding=1, groups=128),
        _filter("W8", "4096x4096x3 photo, 5x5 Gaussian filter2d",
                uniform(max(64, int(4096 * scale ** 0.5)),
                        max(64, int(4096 * scale ** 0.5)), 3),
                gauss, 1.0),
    ]
