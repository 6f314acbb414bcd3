"""W10-W12: the 1-D and 3-D workloads of issue 7 against PyTorch, same
process, interleaved, medians (``python -m benchmarks.nd``).

Kept apart from the main suite until its peers (``peers.py``) learn ranks
1 and 3; PyTorch gets contiguous NCW/NCDHW tensors prepared outside the
timing and the same thread count.
"""

import time

import numpy as np

import convpool


def _median(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(repeats=5, threads=2):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    convpool.set_threads(threads)
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((256, 4096, 32), dtype=np.float32)
    k1 = rng.standard_normal((9, 32, 64), dtype=np.float32)
    x3 = rng.standard_normal((8, 32, 64, 64, 16), dtype=np.float32)
    k3 = rng.standard_normal((3, 3, 3, 16, 32), dtype=np.float32)
    t1 = torch.from_numpy(np.ascontiguousarray(x1.transpose(0, 2, 1)))
    w1 = torch.from_numpy(np.ascontiguousarray(k1.transpose(2, 1, 0)))
    t3 = torch.from_numpy(np.ascontiguousarray(x3.transpose(0, 4, 1, 2, 3)))
    w3 = torch.from_numpy(np.ascontiguousarray(k3.transpose(4, 3, 0, 1, 2)))
    loads = [
        ("W10 conv1d (256, 4096, 32) x (9, 32, 64) same f32",
         lambda: convpool.conv1d(x1, k1, padding="same"),
         lambda: F.conv1d(t1, w1, padding="same")),
        ("W11 conv3d (8, 32, 64, 64, 16) x (3, 3, 3, 16, 32) same f32",
         lambda: convpool.conv3d(x3, k3, padding="same"),
         lambda: F.conv3d(t3, w3, padding="same")),
        ("W12 max_pool3d 2x2x2 on (8, 32, 64, 64, 16) f32",
         lambda: convpool.max_pool3d(x3, 2),
         lambda: F.max_pool3d(t3, 2)),
    ]
    print("| workload | convpool s | PyTorch s | ratio | target |")
    print("|---|---|---|---|---|")
    for name, ours, theirs in loads:
        a, b = [], []
        for _ in range(repeats):      # interleaved
            a.append(_median(ours, 1))
            b.append(_median(theirs, 1))
        ma, mb = float(np.median(a)), float(np.median(b))
        print(f"| {name} | {ma:.4f} | {mb:.4f} | {ma / mb:.2f} | <= 1.0 |")


if __name__ == "__main__":
    main()
