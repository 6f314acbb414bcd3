"""The peers convpool is timed against, each optional.

``setup(threads)`` imports whichever peers are installed, every one held
to the same thread count, and returns ``{name: adapter}``.  An adapter
``adapter(load, arrays)`` returns ``[(label, call), ...]`` (PyTorch has two
layouts; the faster counts) or ``[]`` when the peer cannot run that
workload's kind.  An entry may carry a third item, the convpool options
whose result the peer's equals when they differ from the workload's
(PyTorch's symmetric stand-in for an asymmetric 'same').

Everything a call needs (tensors, compiled functions, weights, a forward
pass whose backward is timed) is prepared by the adapter, outside the
timing; the call returns its result in convpool's layout, as NumPy arrays
(views where possible) or finished device arrays, so that the suite can
check it against convpool's before timing.

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
    """Explicit ``(lo, hi)`` pairs, one per spatial axis, and the stride
    tuple, for a workload of any rank."""
    # Imported here, not at the top: ``--ab`` runs the suite against trees
    # from before the N-D core, whose geometry module lacks ``ntuple``.
    from convpool.geometry import ntuple, resolve_padding
    x = arrays[0]
    o = load.options
    if load.kind == "filter":
        spatial, window = x.shape[:2], arrays[1].shape
    else:
        spatial = x.shape[1:-1]
        window = (arrays[1].shape[:len(spatial)]
                  if load.kind in ("conv", "conv_grad")
                  else ntuple(o["window"], len(spatial), "window"))
    stride = o.get("stride")
    if stride is None:      # pooling's default stride is the window
        stride = window if load.kind in ("pool", "pool_grad") else 1
    stride = ntuple(stride, len(spatial), "stride")
    padding = o.get("padding", "same" if load.kind == "filter" else "valid")
    return resolve_padding(padding, tuple(spatial), tuple(window),
                           stride), stride


def _window(load, arrays):
    from convpool.geometry import ntuple
    return ntuple(load.options["window"], arrays[0].ndim - 2, "window")


# Axis orders between convpool's channels-last arrays and PyTorch's
# channels-first ones, for r spatial axes.
def _first(r):
    """(N, *S, C) -> (N, C, *S)."""
    return (0, r + 1) + tuple(range(1, r + 1))


def _last(r):
    """(N, C, *S) -> (N, *S, C)."""
    return (0,) + tuple(range(2, r + 2)) + (1,)


def _oi(r):
    """Kernels (*K, C/g, F) -> (F, C/g, *K)."""
    return (r + 1, r) + tuple(range(r))


def _ki(r):
    """Kernels (F, C/g, *K) -> (*K, C/g, F)."""
    return tuple(range(2, r + 2)) + (1, 0)


# --- PyTorch -----------------------------------------------------------

def _torch(threads):
    import torch
    torch.set_num_threads(threads)
    _modules["PyTorch"] = torch
    makers = {"conv": _torch_forward, "pool": _torch_forward,
              "filter": _torch_forward, "conv_grad": _torch_conv_grad,
              "pool_grad": _torch_pool_grad, "train": _torch_train}

    def adapter(load, arrays):
        make = makers.get(load.kind)
        return [] if make is None else make(torch, load, arrays)
    return adapter


def _symmetric(load, pads):
    """PyTorch's padding for ``pads``, and the convpool options whose
    result PyTorch's equals (None: the workload's own).

    PyTorch pads both sides alike; TensorFlow's 'same' puts the odd cell
    at the end.  (lo + hi + 1) // 2 a side gives the same output shape and
    work, shifted by one cell: convpool with that padding is what
    PyTorch's result is checked against."""
    padding = tuple((lo + hi + 1) // 2 for lo, hi in pads)
    if all(lo == hi for lo, hi in pads):
        return padding, None
    return padding, dict(load.options, padding=tuple((p, p)
                                                     for p in padding))


def _channels(torch, x, r):
    """The two layouts PyTorch is timed in: a contiguous channels-first
    copy (made here, outside the timing) and the channels-last array's
    permuted view (as a user hands it over; PyTorch keeps the
    channels-last layout).  Returns ``[(label, tensor)]``."""
    last, first = _layouts(r)
    return [(first, torch.from_numpy(np.ascontiguousarray(
                x.transpose(_first(r))))),
            (last, torch.from_numpy(x).permute(_first(r)))]


def _layouts(r):
    from convpool.layouts import data_formats
    return data_formats(r)


def _torch_forward(torch, load, arrays):
    F = torch.nn.functional
    pads, stride = _pads(load, arrays)
    padding, check = _symmetric(load, pads)
    o = load.options
    if load.kind == "conv":
        x, k = arrays
        r = x.ndim - 2
        conv = getattr(F, f"conv{r}d")
        w = torch.from_numpy(np.ascontiguousarray(k.transpose(_oi(r))))

        def op(t):
            return conv(t, w, stride=stride, padding=padding,
                        groups=o.get("groups", 1))
    elif load.kind == "pool":
        x, = arrays
        r = x.ndim - 2
        fn = getattr(F, f"{o['mode']}_pool{r}d")
        window = _window(load, arrays)

        def op(t):
            return fn(t, window, stride, padding)
    else:   # one picture: a grouped conv2d, one group per channel
        image, k = arrays
        x, r = image[None], 2
        c = image.shape[2]
        w = torch.from_numpy(np.ascontiguousarray(
            np.broadcast_to(k, (c, 1) + k.shape)))

        def op(t):
            return F.conv2d(t, w, stride=stride, padding=padding, groups=c)
    back = _last(r)
    # A picture's result loses the batch axis added above, as convpool's.
    one = 0 if load.kind == "filter" else slice(None)

    def run(t):
        return lambda: op(t).permute(back)[one].numpy()
    return [(label, run(t), check) for label, t in _channels(torch, x, r)]


def _torch_conv_grad(torch, load, arrays):
    """``torch.autograd.grad`` of a convolution built outside the timing
    (``retain_graph``): PyTorch's backward alone, dx and dweights."""
    F = torch.nn.functional
    x, k, dy = arrays
    r = x.ndim - 2
    pads, stride = _pads(load, arrays)
    padding, check = _symmetric(load, pads)
    conv = getattr(F, f"conv{r}d")
    back = _last(r)

    def variant(xt, dyt):
        xt.requires_grad_(True)
        w = torch.from_numpy(np.ascontiguousarray(k.transpose(_oi(r))))
        w.requires_grad_(True)
        y = conv(xt, w, stride=stride, padding=padding,
                 groups=load.options.get("groups", 1))

        def call():
            dx, dw = torch.autograd.grad(y, (xt, w), dyt, retain_graph=True)
            return dx.permute(back).numpy(), dw.permute(_ki(r)).numpy()
        return call
    dys = dict(_channels(torch, dy, r))
    return [(label, variant(xt, dys[label]), check)
            for label, xt in _channels(torch, x, r)]


def _torch_pool_grad(torch, load, arrays):
    """``torch.autograd.grad`` of a pooling built outside the timing: the
    backward alone, which for max pooling scatters ``dy`` with the argmax
    indices the forward saved."""
    F = torch.nn.functional
    x, dy = arrays[:2]
    r = x.ndim - 2
    pads, stride = _pads(load, arrays)
    padding, check = _symmetric(load, pads)
    fn = getattr(F, f"{load.options['mode']}_pool{r}d")
    window = _window(load, arrays)
    back = _last(r)

    def variant(xt, dyt):
        xt.requires_grad_(True)
        y = fn(xt, window, stride, padding)

        def call():
            dx, = torch.autograd.grad(y, xt, dyt, retain_graph=True)
            return dx.permute(back).numpy()
        return call
    dys = dict(_channels(torch, dy, r))
    return [(label, variant(xt, dys[label]), check)
            for label, xt in _channels(torch, x, r)]


def _torch_train(torch, load, arrays):
    """The workload's LeNet-5 in PyTorch, from convpool's initial weights,
    on the same batches in the same order, with ``torch.optim.SGD``."""
    from .workloads import LENET_SGD, lenet
    F = torch.nn.functional
    images, labels = arrays
    # convpool's parameters: conv kernels (*K, C, F) and biases, dense
    # kernels (in, units) and biases; PyTorch's conv weights are (F, C, *K).
    initial = [np.ascontiguousarray(p.transpose(_oi(2)) if p.ndim == 4
                                    else p)
               for p in lenet(images.shape[1:], images.dtype).parameters()]
    xt = torch.from_numpy(np.ascontiguousarray(images.transpose(_first(2))))
    yt = torch.from_numpy(labels)
    batch = load.options["batch_size"]

    def forward(params, x):
        k1, b1, k2, b2, w1, c1, w2, c2, w3, c3 = params
        x = F.max_pool2d(F.relu(F.conv2d(x, k1, b1, padding=2)), 2, 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, k2, b2)), 2, 2)
        x = x.permute(0, 2, 3, 1).reshape(len(x), -1)  # convpool's order
        x = F.relu(x @ w1 + c1)
        x = F.relu(x @ w2 + c2)
        return x @ w3 + c3

    def epoch():
        params = [torch.tensor(p, requires_grad=True) for p in initial]
        opt = torch.optim.SGD(params, **LENET_SGD)
        order = np.random.default_rng(0).permutation(len(images))
        for start in range(0, len(images), batch):
            rows = torch.from_numpy(order[start:start + batch])
            loss = F.cross_entropy(forward(params, xt[rows]), yt[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.detach().numpy().transpose(_ki(2)) if p.ndim == 4
                else p.detach().numpy() for p in params]
    return [("NCHW", epoch)]


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
    _modules["JAX"] = jax

    def adapter(load, arrays):
        built = _jax_function(jax, load, arrays)
        if built is None:
            return []
        fn, args = built
        args = [jax.device_put(a) for a in args]
        return [("jit", lambda: jax.block_until_ready(fn(*args)))]
    return adapter


def _jax_function(jax, load, arrays):
    """``(jitted function, its arguments)`` for the workload, or None.
    Gradients are ``jax.vjp`` under ``jit``: XLA drops the unused forward
    of a convolution; a max pool's vjp (``select_and_scatter_add``) finds
    the argmax again, as convpool's does."""
    from jax import lax
    if load.kind not in ("conv", "conv_grad", "filter", "pool",
                         "pool_grad"):
        return None
    pads, stride = _pads(load, arrays)
    o = load.options
    if load.kind == "filter":
        image, k = arrays
        c = image.shape[2]
        w = np.ascontiguousarray(np.broadcast_to(
            k[:, :, None, None], k.shape + (1, c)))
        dn = ("NHWC", "HWIO", "NHWC")
        return jax.jit(lambda a, b: lax.conv_general_dilated(
            a, b, stride, pads, dimension_numbers=dn,
            feature_group_count=c)[0]), (image[None], w)
    r = arrays[0].ndim - 2
    if load.kind in ("conv", "conv_grad"):
        from convpool.layouts import kernel_formats
        data = _layouts(r)[0]
        dn = (data, kernel_formats(r)[0], data)

        def f(a, b):
            return lax.conv_general_dilated(
                a, b, stride, pads, dimension_numbers=dn,
                feature_group_count=o.get("groups", 1))
    else:
        win = (1,) + _window(load, arrays) + (1,)
        strides = (1,) + stride + (1,)
        full = ((0, 0),) + tuple(pads) + ((0, 0),)
        if o["mode"] == "max":
            def f(a):
                return lax.reduce_window(a, -np.inf, lax.max, win, strides,
                                         full)
        else:   # the workloads' avg pools have no padding
            area = float(np.prod(win))

            def f(a):
                return lax.reduce_window(a, 0.0, lax.add, win, strides,
                                         full) / area
    if load.kind in ("conv", "pool"):
        return jax.jit(f), arrays
    *inputs, dy = arrays[:3 if load.kind == "conv_grad" else 2]
    return jax.jit(lambda *a: jax.vjp(f, *a[:-1])[1](a[-1])), (*inputs, dy)


# --- OpenCV and SciPy: single pictures -----------------------------------

def _opencv(threads):
    import cv2
    cv2.setNumThreads(threads)
    _modules["OpenCV"] = cv2

    def adapter(load, arrays):
        if load.kind != "filter":
            return []
        pads, stride = _pads(load, arrays)
        if stride != (1, 1) or \
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
        if load.kind != "filter":
            return []
        pads, stride = _pads(load, arrays)
        if stride != (1, 1) or \
                load.options.get("pad_mode", "constant") != "constant":
            return []
        image, k = arrays
        kh, kw = k.shape
        # ndimage centres at size // 2; origin moves it to the top padding.
        origin = (pads[0][0] - kh // 2, pads[1][0] - kw // 2, 0)
        return [("correlate", lambda: ndimage.correlate(
            image, k[:, :, None], mode="constant", origin=origin))]
    return adapter
