"""convpool on a real dask.distributed cluster: two worker processes on
this machine, ports chosen by the system, files in the test's temporary
directory.  Checks batch- and space-chunked results against NumPy, and that
killing a worker in the middle of a computation still gives the whole,
correct result (Dask recomputes the lost tasks on the other worker).
"""

import os
import signal
import sys
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import convpool  # noqa: E402

# Worker processes cannot import this test module: ship its functions by
# value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def start(tmp_path):
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        scheduler_port=0, dashboard_address=None,
        local_directory=str(tmp_path), silence_logs=40)
    return cluster, distributed.Client(cluster)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cluster, client = start(tmp_path_factory.mktemp("dask"))
    yield client
    client.close()
    cluster.close()


def test_batch_and_space_chunks_on_two_workers(client):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 20, 18, 3))
    k = rng.standard_normal((3, 3, 3, 4))
    image, kernel = x[0, :, :, 0], k[:, :, 0, 0]
    pool_args = dict(stride=2, padding=1, mode="avg", ceil_mode=True)
    lazy = [
        convpool.conv2d(da.from_array(x, chunks=(1, -1, -1, -1)), k,
                        stride=2, padding="same"),
        convpool.conv2d(da.from_array(x, chunks=(3, 7, 5, 2)), k,
                        stride=2, padding="same"),
        convpool.pool2d(da.from_array(x, chunks=(2, 7, 5, 3)), 3,
                        **pool_args),
        convpool.filter2d(da.from_array(image, chunks=6), kernel,
                          pad_mode="wrap")]
    batch, space, pooled, wrapped = client.gather(client.compute(lazy))
    expected = convpool.conv2d(x, k, stride=2, padding="same")
    np.testing.assert_array_equal(batch, expected)
    np.testing.assert_allclose(space, expected, atol=1e-12)
    np.testing.assert_allclose(pooled, convpool.pool2d(x, 3, **pool_args),
                               atol=1e-12)
    np.testing.assert_allclose(
        wrapped, convpool.filter2d(image, kernel, pad_mode="wrap"),
        atol=1e-12)
    assert len(client.scheduler_info()["workers"]) == 2


def test_gradients_adaptive_and_transposed_on_two_workers(client):
    from convpool import grad
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 10, 9, 3))
    k = rng.standard_normal((3, 3, 3, 4))
    dy = rng.standard_normal((6, 8, 7, 4))
    xd = da.from_array(x, chunks=(2, 5, 9, 3))
    dx, dk, db = grad.conv2d(xd, k, dy)
    lazy = [dx, dk, db, convpool.adaptive_avg_pool2d(xd, (4, 3)),
            convpool.conv_transpose2d(xd, k[..., :3], stride=2),
            convpool.max_pool2d(xd, 2, return_indices=True)[1]]
    got = client.gather(client.compute(lazy))
    want = list(grad.conv2d(x, k, dy)) + [
        convpool.adaptive_avg_pool2d(x, (4, 3)),
        convpool.conv_transpose2d(x, k[..., :3], stride=2),
        convpool.max_pool2d(x, 2, return_indices=True)[1]]
    for i, (a, b) in enumerate(zip(got, want)):
        if i in (1, 2):     # sums over the batch: within rounding
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-11)
        else:
            np.testing.assert_array_equal(a, b)


def _slow(block):
    time.sleep(0.1)
    return block


def test_killed_worker_still_gives_the_whole_result(client):
    # Last in the file: the cluster has one fresh worker afterwards.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 12, 12, 1))
    k = rng.standard_normal((3, 3, 1, 2))
    slow = da.from_array(x, chunks=(1, 6, 12, 1)).map_blocks(
        _slow, dtype=x.dtype)
    y = convpool.conv2d(slow, k, padding="same")
    pids = client.run(os.getpid)
    future = client.compute(y)
    victim = _busy_worker(client, timeout=10)
    os.kill(pids[victim], signal.SIGKILL)
    result = future.result(timeout=60)
    np.testing.assert_allclose(result, convpool.conv2d(x, k, padding="same"),
                               atol=1e-12)
    assert victim not in client.scheduler_info()["workers"]


def _busy_worker(client, timeout):
    """A worker that holds finished results and is running a task."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        memory = client.has_what()
        for worker, tasks in client.processing().items():
            if tasks and memory.get(worker):
                return worker
        time.sleep(0.02)
    raise AssertionError("no worker became busy")
