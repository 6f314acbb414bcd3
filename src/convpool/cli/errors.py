"""User errors, and the library's errors said in the command's own words.

Every mistake ends with exit status 2 and one line on stderr that names the
option that caused it (``argument --padding: ...``); warnings are one line
too.  This module imports nothing else from the command.
"""

import contextlib
import re
import sys

PLOT_HINT = 'pip install "convpool[plot]"'

# The library's argument names (in backticks in its messages) and the
# command-line options that set them.
OPTIONS = {"kernels": "-k/--kernel", "kernel": "-k/--kernel",
           "padding": "--padding", "stride": "--stride",
           "window": "--window", "x": "INPUT", "image": "INPUT",
           "pad_mode": "--pad-mode"}


class UserError(Exception):
    """A mistake in the command line or its files: one line, exit status 2."""


def in_user_words(message, options=None, what=None):
    """A library message with its argument names replaced by our options.

    >>> in_user_words("`stride` must be >= 1, got (0, 2)")
    'argument --stride: must be >= 1, got (0, 2)'
    >>> in_user_words("`kernels` is larger", what="kernel 'box:9'")
    "argument -k/--kernel: kernel 'box:9' is larger"
    """
    options = OPTIONS if options is None else options
    named = [n for n in re.findall(r"`(\w+)`", message) if n in options]
    if not named:
        return f"{what}: {message}" if what else message
    first = options[named[0]]
    if what:
        message = message.replace(f"`{named[0]}`", what, 1)
    elif message.startswith(f"`{named[0]}`"):
        message = message[len(named[0]) + 2:].lstrip()
    for name in named:
        message = message.replace(f"`{name}`", options[name])
    return f"argument {first}: {message}"


@contextlib.contextmanager
def library_errors(what=None, options=None):
    """Turn the library's ValueError/TypeError into a one-line UserError.

    ``what`` replaces the first argument name (e.g. ``kernel 'sobel_x'``
    for ```kernels```); ``options`` maps library names to options.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise UserError(in_user_words(str(exc), options, what)) from None
    except MemoryError:
        raise UserError(
            "not enough memory for this input; try a smaller batch "
            "(INPUT) or smaller pictures") from None


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


def warn(command, message):
    """One warning line on stderr; the command still succeeds."""
    print(f"convpool {command}: warning: {message}", file=sys.stderr)
