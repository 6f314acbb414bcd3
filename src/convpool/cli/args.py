"""Argument types (argparse turns ArgumentTypeError into a usage error) and
kernel parsing, shared by the commands."""

import argparse
import ast
import json
import os

import numpy as np

from .. import kernels as named_kernels
from ..borders import ALIASES, PAD_MODES, resolve_pad_mode
from ..geometry import PADDING_WORDS
from .errors import UserError
from .files import load_npy, load_npz, sniff

PADDING_HELP = ("'valid' (none), 'same' (TensorFlow's rule: output = "
                "ceil(input / stride)), 'same_lower', 'full', N for every "
                "side, PH,PW, or TOP,BOTTOM,LEFT,RIGHT")
PAD_MODE_HELP = (f"how padding is filled: {', '.join(PAD_MODES)} (NumPy's "
                 f"names; default constant, zeros), or an alias from SciPy, "
                 f"PyTorch or OpenCV: {', '.join(ALIASES)}; 'reflect' is "
                 f"NumPy's (SciPy's 'mirror')")
KERNEL_NOTES = """\
kernels:
  -k takes a named kernel ('convpool kernels' lists them, e.g. sobel_x,
  box:5, gaussian:7,2), an .npy file, an .npz file (its only array, or the
  one --kernel-key names), or a literal such as
  "[[1,0,-1],[1,0,-1],[1,0,-1]]" (read as JSON or a Python literal, never
  run as code).  A 2-D kernel filters every channel on its own; a 3-D
  (KH, KW, C) kernel sums over the channels into one (the spec's
  convolve_channels); a 4-D (KH, KW, C, F) kernel gives F channels (the
  spec's convolve).  Several -k apply in sequence, each with the same
  --padding, --stride and --pad-mode.

"""
KERNEL_FORMS = ("a kernel name ('convpool kernels' lists them), an .npy "
                "file, an .npz file (its only array, or --kernel-key), or a "
                "literal such as [[1,0,-1],[1,0,-1],[1,0,-1]]")


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
    """``"3"`` -> ``(3, 3)``; ``"3,2"`` -> ``(3, 2)``; every value >= 1.

    >>> positive_pair("3"), positive_pair("3, 2")
    ((3, 3), (3, 2))
    """
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
    """A padding word, ``N``, ``PH,PW`` or ``TOP,BOTTOM,LEFT,RIGHT``.

    >>> padding_arg("Same"), padding_arg("2"), padding_arg("1,2,3,4")
    ('same', (2, 2), ((1, 2), (3, 4)))
    """
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


def padding_text(padding):
    """How ``--padding`` was given, for messages.

    >>> padding_text("same"), padding_text((2, 2))
    ('same', '2')
    >>> padding_text(((1, 2), (3, 4)))
    '1,2,3,4'
    """
    if isinstance(padding, str):
        return padding
    flat = [v for p in padding for v in (p if isinstance(p, tuple) else (p,))]
    return str(flat[0]) if len(set(flat)) == 1 else ",".join(map(str, flat))


def pad_mode_arg(text):
    """A NumPy pad mode, or an alias from SciPy, PyTorch or OpenCV.

    >>> pad_mode_arg("mirror"), pad_mode_arg("replicate")
    ('reflect', 'edge')
    """
    try:
        return resolve_pad_mode(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(PAD_MODES)} or an alias "
            f"({', '.join(ALIASES)}); got {text!r}") from None


def quote(text, limit=60):
    """``repr(text)``, cut short for messages.

    >>> quote("[[1, 2]]"), quote("x" * 80, limit=8)
    ("'[[1, 2]]'", "'xxxxx...'")
    """
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _literal_kernel(text, option):
    shown = quote(text)
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
        return np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise UserError(
            f"argument {option}: malformed kernel literal {shown}: rows "
            f"must be lists of numbers, all of the same length") from None


def _file_kernel(text, option, key, key_option):
    kind = sniff(text, option)
    if kind == "npz":
        return load_npz(text, key, option, key_option)[0]
    if key is not None:
        raise UserError(f"argument {key_option}: {text!r} is not an .npz file")
    if kind == "npy":
        return load_npy(text, option)
    raise UserError(
        f"argument {option}: {text!r} is not a NumPy .npy/.npz file; -k "
        f"takes {KERNEL_FORMS}")


def _named_kernel(text, option):
    try:
        return named_kernels.get(text)
    except ValueError as exc:
        raise UserError(f"argument {option}: {exc}") from None


def _looks_like_a_file(text):
    if text.lower().endswith((".npy", ".npz")) or os.sep in text:
        return True
    name = text.partition(":")[0].strip().lower().replace("-", "_")
    return name not in named_kernels.names() and os.path.isfile(text)


def parse_kernel(text, option="-k/--kernel", key=None,
                 key_option="--kernel-key"):
    """A kernel from a name, an ``.npy``/``.npz`` file or a literal list.

    Returns ``(array, path_or_None)``; the array is float64 with 2-4
    dimensions.  Literals are parsed as JSON or Python literals, never
    evaluated as code.  ``key`` picks the array of an ``.npz`` (default: its
    only array).
    """
    text = text.strip()
    path = None
    if text.startswith(("[", "(")):
        kernel = _literal_kernel(text, option)
    elif _looks_like_a_file(text):
        path = text
        kernel = _file_kernel(text, option, key, key_option)
        kernel = kernel.astype(np.float64)
    else:
        kernel = _named_kernel(text, option)
    shown = quote(text)
    if kernel.ndim not in (2, 3, 4) or kernel.size == 0:
        raise UserError(
            f"argument {option}: kernel {shown} must be a non-empty 2-D "
            f"(KH, KW), 3-D (KH, KW, C) or 4-D (KH, KW, C, F) array, got "
            f"shape {kernel.shape}")
    if not np.isfinite(kernel).all():
        raise UserError(
            f"argument {option}: kernel {shown} contains NaN or infinity")
    return kernel, path
