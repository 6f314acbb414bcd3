"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

import sys
import threading
import time


class Progress:
    """Counts ``total`` units (pictures, or rows of one big picture)."""

    def __init__(self, total, label, stream=None, unit="images"):
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.label = label
        self.unit = unit
        self.done = 0
        self.start = time.perf_counter()
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = total > 1 and bool(isatty and isatty())

    def update(self, n):
        self.done += n
        if not self.enabled:
            return
        frac = self.done / self.total
        bar = "#" * int(30 * frac)
        elapsed = time.perf_counter() - self.start
        self.stream.write(
            f"\r{self.label} [{bar:<30}] {100 * frac:3.0f}% "
            f"{self.done}/{self.total} {self.unit} {elapsed:.1f}s")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self):
        """End a bar an error cut short, so the next line starts clean."""
        if self.enabled and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def chunks(n, parts=50, least=1):
    """Slices that split ``range(n)`` into about ``parts`` equal chunks,
    each at least ``least`` long (but the last).

    >>> chunks(5, parts=2)
    [slice(0, 3, None), slice(3, 5, None)]
    >>> len(chunks(100, parts=50, least=30))
    4
    """
    step = max(1, least, -(-n // parts))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class Heartbeat:
    """Elapsed time on stderr while one call runs, for work that cannot be
    cut into parts cheaply; drawn only on a terminal.

    Use as a context manager; the line is redrawn every ``interval``
    seconds by a daemon thread and ended when the block ends.
    """

    def __init__(self, label, stream=None, interval=0.25):
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.interval = interval
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._stop = threading.Event()
        self._thread = None
        self.start = time.perf_counter()

    def _draw(self):
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label} {elapsed:.1f}s")
        self.stream.flush()

    def _beat(self):
        while not self._stop.wait(self.interval):
            self._draw()

    def __enter__(self):
        if self.enabled:
            self._draw()
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
        return False
