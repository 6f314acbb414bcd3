"""The ``convpool`` command: demo, filter, pool, animate and kernels.

Each command is one module of :mod:`convpool.cli.commands` with
``add_parser(subparsers)`` and ``run(args) -> int`` (see that package's
docstring); :data:`COMMANDS` lists them, in the order ``--help`` shows.
Every user mistake ends with exit status 2 and one line on stderr; pictures
need the ``plot`` extra (matplotlib and Pillow), imported only when a
command needs them.
"""

import argparse
import importlib
import os
import sys

from .. import __version__
from .errors import UserError

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ("demo", "filter", "pool", "animate", "kernels")

EPILOG = """\
examples:
  convpool demo                     the spec's seven tasks on a sample photo
  convpool demo --mnist MNIST.npz --animals animals_1.npz --out results
  convpool filter photo.jpg -k sobel_x -o edges.png
  convpool pool photo.jpg --window 2 --mode avg -o half.png
  convpool animate -k sobel_x --stride 2 -o conv.gif
  convpool kernels --gallery kernels.png

'convpool COMMAND --help' explains each command.
"""


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Wraps one-line descriptions; keeps multi-line epilogs as written."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)

    def _fill_text(self, text, width, indent):
        if "\n" not in text:
            return argparse.HelpFormatter._fill_text(self, text, width, indent)
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """argparse with our formatter, and a usage mistake on one line."""

    def __init__(self, *args, formatter_class=Formatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} "
                     f"(see '{self.prog} --help')\n")


def build_parser():
    """The full argument parser (also used to render the help in docs)."""
    parser = Parser(
        prog="convpool", epilog=EPILOG,
        description="Convolution and pooling over pictures and NumPy "
                    "batches, computed by convpool.")
    parser.add_argument("--version", action="version",
                        version=f"convpool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=Parser, required=True)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.commands.{name}").add_parser(sub)
    return parser


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a user mistake (one line on stderr), 130 when
        interrupted, 1 when stdout was closed early.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return args.func(args)
    except UserError as exc:
        message = " ".join(str(exc).split())
        print(f"convpool {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"convpool {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``convpool kernels | head``): stop quietly,
        # and keep Python from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
