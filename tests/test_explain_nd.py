"""convpool.explain: one line naming the path a call takes and why; the
path it names is the one engine='auto' takes (same bits), and it depends
on the per-image problem only, never on the batch size or threads."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nd_cases import ENGINES, conv_cases, conv_kwargs, make_conv_inputs, op

convpool = pytest.importorskip("convpool")
if not hasattr(convpool, "explain"):
    pytest.skip("convpool.explain not there", allow_module_level=True)

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
PATH = re.compile(r"\b(%s):" % "|".join(ENGINES))


@pytest.mark.parametrize("r", (1, 2, 3))
@SETTINGS
@given(data=st.data())
def test_explained_conv_path_is_the_auto_path(r, data):
    case = data.draw(conv_cases(r, max_n=3), "case")
    dt = data.draw(st.sampled_from([np.float32, np.float64]), "dtype")
    x, w, b = make_conv_inputs(case, dt)
    kw = dict(conv_kwargs(case), bias=b)
    line = convpool.explain("conv%dd" % r, x, w, **kw)
    assert isinstance(line, str) and "\n" not in line
    assert line.startswith("conv%dd: " % r), line
    path = PATH.search(line)
    assert path, "no engine path named in %r" % line
    # the planner looks at one image's problem: any batch, any threads
    for xx in (x[:1], np.concatenate([x, x])):
        assert convpool.explain("conv%dd" % r, xx, w, **kw) == line
    assert convpool.explain(op(convpool, "conv", r), x, w, threads=1,
                            **kw) == line
    conv = op(convpool, "conv", r)
    np.testing.assert_array_equal(conv(x, w, engine=path.group(1), **kw),
                                  conv(x, w, **kw), err_msg=line)


@pytest.mark.parametrize("r", (1, 2, 3))
@pytest.mark.parametrize("name", ["pool", "max_pool", "avg_pool"])
def test_explain_pooling_says_one_line(r, name):
    x = np.ones((2,) + (6,) * r + (3,))
    kw = {"mode": "avg"} if name == "pool" else {}
    line = convpool.explain("%s%dd" % (name, r), x, 2, stride=1, **kw)
    assert line.startswith("%s%dd: " % (name, r)) and "\n" not in line
    assert convpool.explain("%s%dd" % (name, r), x[:1], 2, stride=1,
                            **kw) == line


def test_explain_validates_like_the_call():
    with pytest.raises(ValueError, match=r"`stride` must be >= 1"):
        convpool.explain("conv2d", np.ones((1, 4, 4, 1)),
                         np.ones((3, 3, 1, 1)), stride=0)
