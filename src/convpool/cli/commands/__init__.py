"""The command's subcommands: one module each, none importing another.

The interface every command module keeps (``train`` and the Dask/Zarr
options are added the same way):

``add_parser(subparsers)``
    Registers the command with ``subparsers.add_parser(NAME, help=...,
    description=..., epilog=...)``; the epilog ends with an ``examples:``
    block.  It adds the command's arguments and calls
    ``parser.set_defaults(func=run)``.
``run(args) -> int``
    Does the work and returns the exit status (0).  A user mistake raises
    :class:`convpool.cli.errors.UserError` (one line, exit status 2); the
    library's ValueError/TypeError go through
    :func:`convpool.cli.errors.library_errors` so they name the option.

Commands build on the shared modules in :mod:`convpool.cli` (errors, args,
files, scaling, samples, render, progress, convolve, runner).  The list of
commands lives in one place, :data:`convpool.cli.COMMANDS`.
"""
