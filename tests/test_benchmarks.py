"""The benchmark suite's plumbing at tiny sizes: every peer computes what
convpool computes for the N-D, backward and training workloads, a wrong
peer is left out of the timing, and ``python -m benchmarks`` writes its
table with targets.  Speed itself is measured in benchmarks/, never here.
"""

import json

import numpy as np
import pytest

import convpool

torch = pytest.importorskip("torch")

from benchmarks import peers as peer_mod  # noqa: E402
from benchmarks import run  # noqa: E402
from benchmarks.workloads import OPS, WORKLOADS, flops  # noqa: E402

LOADS = {w.name: w for w in WORKLOADS}
# Scales giving one to a few images (a 64x64 picture): seconds for the
# whole file.  The new workloads, and one of each older kind.
TINY = {"W10": 2 / 256, "W11": 1 / 8, "W12": 1 / 8, "W1b": 4 / 50000,
        "W5b": 1 / 64, "W4b": 2 / 10000, "W15": 128 / 60000,
        "W1": 4 / 50000, "W7": 1 / 64, "W4max3": 2 / 10000, "W13": 0}


@pytest.fixture(scope="module")
def peers():
    wanted = {"PyTorch", "JAX", "OpenCV", "SciPy"}
    # convpool's own thread count: nothing global changes for other tests.
    return peer_mod.setup(convpool.get_threads(), wanted)


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_peer_agrees_with_convpool(name, peers):
    load = LOADS[name]
    arrays = load.make(TINY[name], np.random.default_rng(0))
    checked = arrays if load.check_on is None else load.check_on(arrays)
    ours = OPS[load.kind](checked, load.options)
    calls = run._peer_calls(load, peers, checked)
    expected = {"PyTorch", "JAX"} if load.kind != "train" else {"PyTorch"}
    if load.kind == "filter":
        expected |= {"OpenCV", "SciPy"}
    assert {c[0] for c in calls} == expected & set(peers)
    for peer, label, call, check in calls:
        mine = ours if check is None else OPS[load.kind](checked, check)
        error = run._difference(mine, call())
        assert error <= run._tolerance(checked), (peer, label, error)
    out = ours if checked is arrays else OPS[load.kind](arrays, load.options)
    assert flops(load, arrays, out) > 0


def test_asymmetric_same_is_checked_against_pytorchs_padding(peers):
    """PyTorch pads 'same' symmetrically: its result is compared with
    convpool's under that padding, which must differ from the TF rule."""
    load = LOADS["W2"]
    arrays = load.make(2 / 50000, np.random.default_rng(0))
    (_, _, call, check), _ = [c for c in run._peer_calls(load, peers, arrays)
                              if c[0] == "PyTorch"]
    assert check is not None
    theirs = call()
    assert run._difference(OPS["conv"](arrays, check), theirs) <= 1e-4
    assert run._difference(OPS["conv"](arrays, load.options), theirs) > 1e-2


def test_difference_counts_shape_and_value_mismatches():
    a = np.array([[1.0, -4.0]])
    assert run._difference((a, a), [a]) == 0
    assert run._difference(a, a + [[0, 0.4]]) == pytest.approx(0.1)
    assert run._difference(a, a.T) == float("inf")


def test_suite_writes_targets_and_leaves_out_a_wrong_peer(
        tmp_path, monkeypatch):
    """The whole command path on a tiny W12, with PyTorch and a peer
    whose result is wrong: that one is reported and not timed."""
    def wrong(load, arrays):
        return [("bad", lambda: np.zeros(1))]

    real_setup = peer_mod.setup

    def setup(threads, wanted=None):
        found = real_setup(threads, {"PyTorch"})
        found["JAX"] = wrong
        return found
    monkeypatch.setattr(peer_mod, "setup", setup)
    # --quick: W12's batch of 8 becomes 1.
    run.main(["--quick", "--only", "W12", "--repeats", "1", "--no-tasks",
              "--output", str(tmp_path)])
    row, = json.loads((tmp_path / "latest.json").read_text())["workloads"]
    assert row["name"] == "W12" and row["target"] == 1.0
    assert set(row["peers_wrong"]) == {"JAX bad"}
    assert row["peers_s"]["JAX"] is None and row["peers_s"]["PyTorch"] > 0
    assert row["check_error"]["PyTorch NCDHW"] == 0
    assert row["best_peer"] == "PyTorch" and row["met"] in (True, False)
    table = (tmp_path / "latest.md").read_text()
    assert "| W12 max_pool3d" in table and "<= 1.00" in table
    assert "(wrong result)" in table
