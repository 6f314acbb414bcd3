"""Weight initialisers, drawn from a seeded NumPy generator.

``fan_in`` is the number of inputs each output sums (``C/groups * prod(K)``
for a convolution, ``in_features`` for a dense layer) and ``fan_out`` the
number of outputs each input feeds, as Keras and PyTorch count them.
"""

import numpy as np


def he_normal(rng, shape, fan_in, fan_out, dtype=np.float64):
    """He (Kaiming) normal: ``N(0, 2 / fan_in)``, for ReLU layers.

    >>> w = he_normal(np.random.default_rng(0), (400, 50), 400, 50)
    >>> w.shape, round(float(w.std()), 2)
    ((400, 50), 0.07)
    """
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def glorot_uniform(rng, shape, fan_in, fan_out, dtype=np.float64):
    """Glorot (Xavier) uniform on ``±sqrt(6 / (fan_in + fan_out))``.

    >>> w = glorot_uniform(np.random.default_rng(0), (3, 2), 3, 2)
    >>> bool(np.all(np.abs(w) <= np.sqrt(6 / 5)))
    True
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


INITIALISERS = {"he": he_normal, "glorot": glorot_uniform}


def get(name):
    """The initialiser called ``name`` ('he' or 'glorot')."""
    if name not in INITIALISERS:
        raise ValueError(f"`init` must be 'he' or 'glorot', got {name!r}")
    return INITIALISERS[name]
