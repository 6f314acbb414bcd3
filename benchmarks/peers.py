"""The peers convpool is timed against, each optional.

``setup(threads)`` imports whichever peers are installed, every one held
to the same thread count, and returns ``{name: adapter}``.  An adapter
``adapter(load, arrays)`` returns ``[(label, call), ...]`` (PyTorch has two
layouts; the faster counts) or ``[]`` when the peer cannot run that
workload's kind.  Everything a call needs (tensors, compiled functions,
weights) is prepared by the adapter, outside the timing; the call returns
its result as a NumPy array or a finished device array.

Thread counts, all set before the first call:

* PyTorch: ``torch.set_num_threads(threads)``;
* JAX: XLA's CPU backend has no thread-count setting; with one thread the
  suite sets ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
  intra_op_parallelism_threads=1`` before importing jax, otherwise XLA
  uses every core, so ``--threads`` must equal the core count for a fair
  run (the default: convpool's own default is every core);
* OpenCV: ``cv2.setNumThreads(threads)``;
* SciPy: ``ndimage.correlate`` is single-threaded whatever is asked.
"""

import os

import numpy as np

from convpool.geometry import resolve_padding

__all__ = ["setup", "versions"]

_modules = {}


def setup(threads, wanted=None):
    """Import the installed peers (all, or the names in ``wanted``) and
    return ``{name: adapter}``; a missing one is left out, with a note."""
    makers = {"PyTorch": _torch, "JAX": _jax, "OpenCV": _opencv,
              "SciPy": _scipy}
    peers = {}
    for name, make in makers.items():
        if wanted is not None and name not in wanted:
            continue
        try:
            peers[name] = make(threads)
        except ImportError as err:
            print(f"peer {name} not installed ({err}); its cells stay empty")
    return peers


def versions():
    return {name: getattr(m, "__version__", "?")
            for name, m in _modules.items()}


def _pads(load, arrays):
    """Explicit ((top, bottom), (left, right)) for the workload."""
    x = arrays[0]
    o = load.options
    if load.kind == "filter":
        hw = x.shape[:2]
        window = arrays[1].shape
    else:
        hw = x.shape[1:3]
        window = (arrays[1].shape[:2] if load.kind == "conv"
                  else (o["window"],) * 2)
    stride = o.get("stride", 1)
    stride = (stride, stride) if np.isscalar(stride) else tuple(stride)
    padding = o.get("padding", "same" if load.kind == "filter" else "valid")
    return resolve_padding(padding, tuple(hw), tuple(window), stride), stride


# --- PyTorch -----------------------------------------------------------

def _torch(threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    _modules["PyTorch"] = torch

    def symmetric(pads):
        # PyTorch pads both sides alike; TensorFlow's 'same' puts the odd
        # cell at the end.  (lo + hi + 1) // 2 a side gives the same output
        # shape and work, shifted by one cell.
        return tuple((lo + hi + 1) // 2 for lo, hi in pads)

    def adapter(load, arrays):
        pads, stride = _pads(load, arrays)
        if load.kind == "conv":
            x, k = arrays
            groups = load.options.get("groups", 1)
            w = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))

            def op(t):
                return F.conv2d(t, w, stride=stride, padding=symmetric(pads),
                                groups=groups)
        elif load.kind == "pool":
            x, = arrays
            o = load.options
            fn = F.max_pool2d if o["mode"] == "max" else F.avg_pool2d

            def op(t):
                return fn(t, o["window"], stride, symmetric(pads))
        elif load.kind == "filter":
            image, k = arrays
            x = image[None]
            c = image.shape[2]
            w = torch.from_numpy(np.ascontiguousarray(
                np.broadcast_to(k, (c, 1) + k.shape)))

            def op(t):
                return F.conv2d(t, w, stride=stride, padding=symmetric(pads),
                                groups=c)
        else:
            return []
        nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

        def run_nchw():
            return op(nchw).numpy()

        def run_nhwc():
            # The NHWC array as a user hands it over: both permutes are
            # views (PyTorch keeps the channels-last layout).
            t = torch.from_numpy(x).permute(0, 3, 1, 2)
            return op(t).permute(0, 2, 3, 1).numpy()
        return [("NCHW", run_nchw), ("NHWC", run_nhwc)]
    return adapter


# --- JAX ---------------------------------------------------------------

def _jax(threads):
    if threads == 1 and "jax" not in _modules:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") +
            " --xla_cpu_multi_thread_eigen=false"
            " intra_op_parallelism_threads=1").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)   # W1 is float64
    from jax import lax
    _modules["JAX"] = jax

    def adapter(load, arrays):
        pads, stride = _pads(load, arrays)
        dn = ("NHWC", "HWIO", "NHWC")
        if load.kind == "conv":
            x, k = arrays
            groups = load.options.get("groups", 1)
            fn = jax.jit(lambda a, b: lax.conv_general_dilated(
                a, b, stride, pads, dimension_numbers=dn,
                feature_group_count=groups))
            args = (x, k)
        elif load.kind == "filter":
            image, k = arrays
            c = image.shape[2]
            w = np.ascontiguousarray(np.broadcast_to(
                k[:, :, None, None], k.shape + (1, c)))
            fn = jax.jit(lambda a, b: lax.conv_general_dilated(
                a, b, stride, pads, dimension_numbers=dn,
                feature_group_count=c))
            args = (image[None], w)
        elif load.kind == "pool":
            x, = arrays
            o = load.options
            win = (1, o["window"], o["window"], 1)
            strides = (1,) + stride + (1,)
            full = ((0, 0),) + tuple(pads) + ((0, 0),)
            if o["mode"] == "max":
                fn = jax.jit(lambda a: lax.reduce_window(
                    a, -np.inf, lax.max, win, strides, full))
            else:   # the workloads' avg pools have no padding
                area = o["window"] ** 2
                fn = jax.jit(lambda a: lax.reduce_window(
                    a, 0.0, lax.add, win, strides, full) / area)
            args = (x,)
        else:
            return []
        args = [jax.device_put(a) for a in args]
        return [("jit", lambda: fn(*args).block_until_ready())]
    return adapter


# --- OpenCV and SciPy: single pictures -----------------------------------

def _opencv(threads):
    import cv2
    cv2.setNumThreads(threads)
    _modules["OpenCV"] = cv2

    def adapter(load, arrays):
        pads, stride = _pads(load, arrays)
        if load.kind != "filter" or stride != (1, 1) or \
                load.options.get("pad_mode", "constant") != "constant":
            return []
        image, k = arrays
        kh, kw = k.shape
        # filter2D centres the kernel at its anchor: the top-left padding.
        anchor = (pads[1][0], pads[0][0])
        return [("filter2D", lambda: cv2.filter2D(
            image, -1, k, anchor=anchor, borderType=cv2.BORDER_CONSTANT))]
    return adapter


def _scipy(threads):
    from scipy import ndimage
    import scipy
    _modules["SciPy"] = scipy

    def adapter(load, arrays):
        pads, stride = _pads(load, arrays)
        if load.kind != "filter" or stride != (1, 1) or \
                load.options.get("pad_mode", "constant") != "constant":
            return []
        image, k = arrays
        kh, kw = k.shape
        # ndimage centres at size // 2; origin moves it to the top padding.
        origin = (pads[0][0] - kh // 2, pads[1][0] - kw // 2, 0)
        return [("correlate", lambda: ndimage.correlate(
            image, k[:, :, None], mode="constant", origin=origin))]
    return adapter
