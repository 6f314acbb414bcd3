"""Optimisers with PyTorch's exact update rules.

``step(params, grads)`` updates each parameter array in place.  State is
kept per position in the list, so pass the same parameters in the same
order every step (``Sequential`` does).
"""

import numpy as np


class SGD:
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    ``b = momentum * b + g`` (``b = g`` on the first step), then
    ``p -= lr * b``; with ``weight_decay``, ``g`` is ``grad + wd * p``.

    >>> p, opt = np.array([1.0]), SGD(lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.step([p], [np.array([1.0])])
    >>> p.round(6).tolist()        # 1 - 0.1 - 0.1 * 1.9
    [0.71]
    """

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0):
        _check_rate(lr, "lr")
        _check_rate(momentum, "momentum")
        _check_rate(weight_decay, "weight_decay")
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers = {}

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                if i in self.buffers:
                    b = self.buffers[i]
                    b *= self.momentum
                    b += g
                else:
                    b = self.buffers[i] = g.copy()
                g = b
            p -= self.lr * g


class Adam:
    """Adam, as ``torch.optim.Adam`` (bias-corrected, eps outside sqrt).

    >>> p, opt = np.array([1.0]), Adam(lr=0.1)
    >>> opt.step([p], [np.array([3.0])])
    >>> p.round(6).tolist()        # the first step moves by lr
    [0.9]
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0.0):
        _check_rate(lr, "lr")
        _check_rate(eps, "eps")
        _check_rate(weight_decay, "weight_decay")
        if not all(0 <= b < 1 for b in betas) or len(betas) != 2:
            raise ValueError(f"`betas` must be two numbers in [0, 1), "
                             f"got {betas!r}")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay = weight_decay
        self.t = 0
        self.moments = {}

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.betas
        # PyTorch's order of operations, so results agree to rounding.
        step_size = self.lr / (1 - b1 ** self.t)
        root2 = (1 - b2 ** self.t) ** 0.5
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if i not in self.moments:
                self.moments[i] = (np.zeros_like(p), np.zeros_like(p))
            m, v = self.moments[i]
            m += (1 - b1) * (g - m)                 # torch's lerp
            v *= b2
            v += (1 - b2) * (g * g)
            p -= step_size * (m / (np.sqrt(v) / root2 + self.eps))


def _check_rate(value, name):
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, "
                         f"got {value!r}")
