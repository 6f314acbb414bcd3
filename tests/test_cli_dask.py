"""``convpool filter`` / ``pool`` on Zarr stores and memory-mapped .npy
(convpool.cli.stores): results equal the in-memory command's, bad input
exits with status 2 and one line, and nothing is half-written."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
pytest.importorskip("zarr")

from convpool.cli import main  # noqa: E402


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def stores(tmp_path):
    x = np.random.default_rng(0).standard_normal((7, 20, 18)).astype(
        np.float32)
    np.save(tmp_path / "x.npy", x)
    da.from_array(x, chunks=(3, 20, 18)).to_zarr(str(tmp_path / "x.zarr"))
    return tmp_path


def read(path):
    return np.asarray(da.from_zarr(str(path)))


@pytest.mark.parametrize("argv", [
    ["filter", "-k", "box", "--stride", "2"],
    ["filter", "-k", "sobel_x", "-k", "gaussian:5,1", "--pad-mode", "wrap"],
    ["pool", "--window", "3", "--stride", "2", "--mode", "avg",
     "--padding", "same"],
])
def test_store_to_store_equals_the_in_memory_command(capsys, stores, argv):
    status, out, _ = run(capsys, argv[0], stores / "x.npy", *argv[1:],
                         "-o", stores / "expected.npy")
    assert status == 0
    expected = np.load(stores / "expected.npy")
    status, out, err = run(capsys, argv[0], stores / "x.zarr", *argv[1:],
                           "-o", stores / "y.zarr", "--chunks", "2,7,-1")
    assert status == 0 and err == "" and "wrote" in out
    np.testing.assert_allclose(read(stores / "y.zarr"), expected, rtol=1e-5,
                               atol=1e-5)
    # A memory-mapped .npy INPUT into a store gives the same.
    status, _, _ = run(capsys, argv[0], stores / "x.npy", *argv[1:], "-o",
                       stores / "z.zarr")
    assert status == 0
    np.testing.assert_allclose(read(stores / "z.zarr"), expected, rtol=1e-5,
                               atol=1e-5)
    assert sorted(p.name for p in stores.iterdir()) == [
        "expected.npy", "x.npy", "x.zarr", "y.zarr", "z.zarr"]


def test_existing_output_needs_force(capsys, stores):
    argv = ["pool", stores / "x.zarr", "--window", "2", "-o",
            stores / "p.zarr"]
    assert run(capsys, *argv)[0] == 0
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "exists; refusing" in err
    status, _, _ = run(capsys, *argv[:-2], "--window", "4", "-o",
                       stores / "p.zarr", "--force")
    assert status == 0 and read(stores / "p.zarr").shape == (7, 5, 4)


@pytest.mark.parametrize("extra, message", [
    (["--layout", "NHWC"], "--layout: NHWC needs 4 dimensions"),
    (["--chunks", "3,3"], "--chunks: expected 3 sizes"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler: cannot reach"),
    (["--scheduler", "gpu"], "--scheduler: expected threads"),
])
def test_bad_input_exits_2_with_one_line(capsys, stores, extra, message):
    status, out, err = run(capsys, "filter", stores / "x.zarr", "-k", "box",
                           "-o", stores / "y.zarr", *extra)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err
    assert not (stores / "y.zarr").exists()


def test_missing_store_and_bad_output(capsys, stores):
    status, _, err = run(capsys, "filter", stores / "none.zarr", "-k", "box",
                         "-o", stores / "y.zarr")
    assert status == 2 and "'" + str(stores / "none.zarr") + "'" in err
    status, _, err = run(capsys, "filter", stores / "x.zarr", "-k", "box",
                         "-o", stores / "y.png")
    assert status == 2 and "give a name ending in .zarr" in err


def test_a_running_distributed_scheduler(capsys, stores):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False,
                                  protocol="tcp", scheduler_port=0,
                                  dashboard_address=None,
                                  local_directory=str(stores)) as cluster:
        status, _, err = run(capsys, "pool", stores / "x.zarr", "--window",
                             "2", "-o", stores / "p.zarr", "--scheduler",
                             cluster.scheduler_address)
    assert status == 0, err
    x = np.load(stores / "x.npy")
    expected = x.reshape(7, 10, 2, 9, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(read(stores / "p.zarr"), expected)
