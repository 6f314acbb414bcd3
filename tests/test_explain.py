"""convpool.explain: the planner's choice, said in one line, is the path
the call really takes."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convpool
from convpool.engines import ENGINES


@settings(max_examples=30, deadline=None)
@given(rank=st.integers(1, 3), c=st.integers(1, 4), f=st.integers(1, 4),
       k=st.integers(1, 4), depthwise=st.booleans(), seed=st.integers(0, 99))
def test_explained_path_is_the_path_auto_takes(rank, c, f, k, depthwise,
                                               seed):
    rng = np.random.default_rng(seed)
    groups, cg = (c, 1) if depthwise else (1, c)
    x = rng.standard_normal((2,) + (7,) * rank + (c,))
    w = rng.standard_normal((k,) * rank + (cg, c * f if depthwise else f))
    op = getattr(convpool, f"conv{rank}d")
    line = convpool.explain(op, x, w, padding="same", groups=groups)
    rest = line.split(": ", 1)[1]
    if rest[:3] in ("1-D", "3-D"):          # how the rank folds onto 2-D
        rest = rest.split("; ", 1)[1]
    path = rest.split(":")[0]
    assert path in ENGINES[1:]
    auto = op(x, w, padding="same", groups=groups)
    forced = op(x, w, padding="same", groups=groups, engine=path)
    assert np.array_equal(auto, forced)


def test_explain_says_why_and_how_ranks_fold():
    x = np.ones((2, 6, 8, 8, 3))
    line = convpool.explain("conv3d", x, np.ones((3, 3, 3, 3, 4)))
    assert line.startswith("conv3d: 3-D as 2-D with the 3 depth taps")
    assert "banded" in line or "im2col" in line or "planar" in line
    assert convpool.explain(convpool.max_pool1d, np.ones((1, 9, 2)), 3) \
        .startswith("max_pool1d: 1-D as 2-D of height 1; separable: max")


def test_explain_notices_inf_where_the_choice_depends_on_it():
    x = np.ones((1, 9, 9, 8))
    w = np.ones((3, 3, 8, 8))
    assert "banded:" in convpool.explain("conv2d", x, w)
    x[0, 4, 4, 0] = np.inf
    assert "banded cannot run" in convpool.explain("conv2d", x, w)


def test_explain_refuses_unknown_ops_and_bad_arguments():
    with pytest.raises(ValueError, match=r"`op` must be one of 'conv1d'"):
        convpool.explain("conv4d", np.ones((1, 3, 3, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"`stride` must be >= 1"):
        convpool.explain("conv2d", np.ones((1, 3, 3, 1)),
                         np.ones((1, 1, 1, 1)), stride=0)
