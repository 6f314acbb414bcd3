"""Pieces every subcommand shares: user errors, argument types, progress."""

import argparse
import ast
import contextlib
import json
import os
import sys
import time

import numpy as np

from .. import kernels as named_kernels
from ..geometry import PADDING_WORDS

PLOT_HINT = 'pip install "convpool[plot]"'


class UserError(Exception):
    """A mistake in the command line or its files: one line, exit status 2."""


@contextlib.contextmanager
def library_errors(what=None):
    """Turn the library's ValueError/TypeError into a one-line UserError."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        prefix = f"{what}: " if what else ""
        raise UserError(prefix + str(exc)) from None
    except MemoryError:
        raise UserError(
            "not enough memory for this input; try a smaller batch") from None


@contextlib.contextmanager
def writing(path, option="-o/--output"):
    """Turn a failed write (permissions, full disk) into a UserError."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"argument {option}: cannot write {str(path)!r}: {reason}"
        ) from None


def require_plot():
    """Import Pillow and matplotlib, or fail with the install hint."""
    try:
        import matplotlib  # noqa: F401
        import PIL.Image  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"this needs matplotlib and Pillow ({exc.name} is missing): "
            f"{PLOT_HINT}") from None


# --- argument types (argparse turns ArgumentTypeError into a usage error) ---

def _ints(text, count_options):
    try:
        values = tuple(int(t) for t in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}") from None
    if len(values) not in count_options:
        raise argparse.ArgumentTypeError(
            f"expected {' or '.join(map(str, count_options))} integers, "
            f"got {text!r}")
    return values


def positive_pair(text):
    """``"3"`` -> ``(3, 3)``; ``"3,2"`` -> ``(3, 2)``; every value >= 1."""
    values = _ints(text, (1, 2))
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return values * 2 if len(values) == 1 else values


def corner(text):
    """``"Y,X"`` -> ``(Y, X)``, both >= 0."""
    values = _ints(text, (2,))
    if min(values) < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return values


def padding_arg(text):
    """A padding word, ``N``, ``PH,PW`` or ``TOP,BOTTOM,LEFT,RIGHT``."""
    word = text.strip().lower()
    if word in PADDING_WORDS:
        return word
    try:
        values = _ints(text, (1, 2, 4))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(PADDING_WORDS)}, N, PH,PW or "
            f"TOP,BOTTOM,LEFT,RIGHT; got {text!r}") from None
    if min(values) < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    if len(values) == 4:
        return (values[0], values[1]), (values[2], values[3])
    return values * 2 if len(values) == 1 else values


def quote(text, limit=60):
    """``repr(text)``, cut short for messages.

    >>> quote("[[1, 2]]"), quote("x" * 80, limit=8)
    ("'[[1, 2]]'", "'xxxxx...'")
    """
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


PADDING_HELP = ("'valid' (none), 'same' (TensorFlow's rule: output = "
                "ceil(input / stride)), 'same_lower', 'full', N for every "
                "side, PH,PW, or TOP,BOTTOM,LEFT,RIGHT")


def parse_kernel(text, option="-k/--kernel"):
    """A kernel from a name, an ``.npy`` file or a literal nested list.

    Returns ``(array, path_or_None)``; the array is float64 with 2-4
    dimensions.  Literals are parsed as JSON or Python literals, never
    evaluated as code.
    """
    text = text.strip()
    shown = quote(text)
    path = None
    if text.startswith(("[", "(")):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise UserError(
                    f"argument {option}: malformed kernel literal {shown}; "
                    f"write nested lists of numbers such as "
                    f"[[1,0,-1],[1,0,-1],[1,0,-1]]") from None
        try:
            kernel = np.array(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise UserError(
                f"argument {option}: malformed kernel literal {shown}: rows "
                f"must be lists of numbers, all of the same length") from None
    elif text.lower().endswith(".npy") or os.sep in text:
        from ._io import load_npy  # _io imports this module
        path = text
        kernel = load_npy(text, option).astype(np.float64)
    else:
        try:
            kernel = named_kernels.get(text)
        except ValueError as exc:
            raise UserError(f"argument {option}: {exc}") from None
    if kernel.ndim not in (2, 3, 4) or kernel.size == 0:
        raise UserError(
            f"argument {option}: kernel {shown} must be a non-empty 2-D "
            f"(KH, KW), 3-D (KH, KW, C) or 4-D (KH, KW, C, F) array, got "
            f"shape {kernel.shape}")
    if not np.isfinite(kernel).all():
        raise UserError(
            f"argument {option}: kernel {shown} contains NaN or infinity")
    return kernel, path


# --- files -----------------------------------------------------------------

def same_file(a, b):
    """Whether two paths name the same file (existing or not)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path, inputs, force, option="-o/--output"):
    """Refuse an output in a missing folder, or one that is also an input."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(
            f"argument {option}: output folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise UserError(
            f"argument {option}: {path!r} is a folder; give a file name")
    for source in inputs:
        if source and not force and same_file(path, source):
            raise UserError(
                f"argument {option}: {path!r} is also an input file; refusing "
                f"to overwrite it without --force")


def make_folder(path, option):
    """Create ``path`` (not its parents); it is fine if it exists."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"argument {option}: folder {parent!r} does not exist")
    try:
        os.mkdir(path)
    except OSError as exc:
        raise UserError(
            f"argument {option}: cannot create {path!r}: {exc.strerror}"
        ) from None


# --- progress ----------------------------------------------------------------

class Progress:
    """A one-line progress bar on stderr, drawn only when it is a terminal."""

    def __init__(self, total, label, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.label = label
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
            f"{self.done}/{self.total} images {elapsed:.1f}s")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self):
        """End a bar an error cut short, so the next line starts clean."""
        if self.enabled and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()


def chunks(n, parts=50):
    """Slices that split ``range(n)`` into about ``parts`` equal chunks."""
    step = max(1, -(-n // parts))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]
