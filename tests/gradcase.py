"""Shared pieces of the gradient, transposed-convolution and unpooling
tests: layouts to and from PyTorch's, available ranks, hypothesis drawing
of the forward's keywords."""

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import convpool
from convpool import layouts
from convpool.transpose import from_canonical

FEW = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.too_slow,
                                      HealthCheck.filter_too_much])

# Ranks whose forward ops exist on this branch (1-D and 3-D arrive with
# the N-D core).
CONV_RANKS = [r for r in (1, 2, 3) if hasattr(convpool, f"conv{r}d")]
POOL_RANKS = [r for r in (1, 2, 3) if hasattr(convpool, f"pool{r}d")]


def to_torch_layout(a, data_format):
    """A batch in ``data_format`` as a channels-first array."""
    return np.ascontiguousarray(
        np.moveaxis(a, -1, 1) if data_format[-1] == "C" else a)


def from_torch_layout(a, data_format):
    return np.ascontiguousarray(
        np.moveaxis(a, 1, -1) if data_format[-1] == "C" else a)


def kernel_to_oi(k, kernel_format):
    """A kernel array as PyTorch's (F, C/groups, *K)."""
    w = layouts.to_canonical_kernel(k, kernel_format)
    r = w.ndim - 2
    return np.ascontiguousarray(w.transpose(r + 1, r, *range(r)))


def kernel_from_oi(w, kernel_format):
    r = w.ndim - 2
    sio = w.transpose(*range(2, r + 2), 1, 0)
    return np.ascontiguousarray(from_canonical(sio, kernel_format))


def torch_pad_list(pads):
    """((lo, hi), ...) per axis as F.pad's list, last axis first."""
    return [p for lo_hi in reversed(pads) for p in lo_hi]


@st.composite
def paddings(draw, rank, most=2):
    """Every padding form: a word, an int, a rank-tuple, or (lo, hi)
    pairs."""
    kind = draw(st.sampled_from(["word", "int", "tuple", "pairs"]))
    if kind == "word":
        return draw(st.sampled_from(["valid", "same", "same_lower", "full"]))
    side = st.integers(0, most)
    if kind == "int":
        return draw(side)
    if kind == "tuple":
        return tuple(draw(side) for _ in range(rank))
    return tuple((draw(side), draw(side)) for _ in range(rank))


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(
        rtol=1e-9, atol=1e-9)
