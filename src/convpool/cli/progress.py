"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

import sys
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


def chunks(n, parts=50):
    """Slices that split ``range(n)`` into about ``parts`` equal chunks.

    >>> chunks(5, parts=2)
    [slice(0, 3, None), slice(3, 5, None)]
    """
    step = max(1, -(-n // parts))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]
