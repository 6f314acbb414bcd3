"""How much a second thread gives to NumPy calls of a given length.

convpool runs its blocks on Python threads; NumPy releases the GIL inside
each call and takes it back after.  Two threads gain only if each call is
long enough to pay for handing the GIL over, so small calls (a LeNet-5
layer at batch 128, a 1 MiB pooling block) gain little or lose.  This
probe times ``calls`` calls on one thread against twice as many split over
two threads, for calls of several lengths, and prints

    speed-up = 2 * one thread's time / two threads' time

(2.0: the second core is fully used; 1.0: no gain; below 1: a loss).
Each case runs ``--rounds`` times, alternating, and the medians are
compared.  BLAS is held to one thread, as inside convpool's workers.

    python -m benchmarks.threads
    python -m benchmarks.threads --rounds 21

Not imported by the tests.
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

# About this many microseconds of work per case on one thread.
WORK_US = 20_000


def cases(rng):
    """(name, one call) pairs, from short calls to long ones."""
    out = []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        a = rng.random(n, dtype=np.float32)
        dst = np.empty_like(a)
        out.append((f"np.add, {n:,} float32",
                    lambda a=a, dst=dst: np.add(a, a, out=dst)))
    for n in (32, 64, 128, 256, 512):
        m = rng.random((n, n), dtype=np.float32)
        dst = np.empty_like(m)
        out.append((f"matmul {n}x{n}x{n} float32",
                    lambda m=m, dst=dst: np.matmul(m, m, out=dst)))
    return out


def measure(call, rounds, pool):
    """(one-thread seconds per call, speed-up of two threads)."""
    start = time.perf_counter()
    call()
    per = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(WORK_US * 1e-6 / per))

    def run():
        for _ in range(calls):
            call()

    one, two = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        run()
        one.append(time.perf_counter() - t)
        t = time.perf_counter()
        for future in [pool.submit(run) for _ in range(2)]:
            future.result()
        two.append(time.perf_counter() - t)
    return (float(np.median(one)) / calls,
            2 * float(np.median(one)) / float(np.median(two)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| call | one call | speed-up on 2 threads |")
    print("|---|---|---|")
    with threadpool_limits(1), ThreadPoolExecutor(2) as pool:
        for name, call in cases(rng):
            seconds, speedup = measure(call, args.rounds, pool)
            print(f"| {name} | {seconds * 1e6:.1f} us | {speedup:.2f} |")


if __name__ == "__main__":
    main()
