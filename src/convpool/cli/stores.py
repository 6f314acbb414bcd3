"""Inputs larger than memory: Zarr stores in and out, ``.npy`` through a
memory map, chunk by chunk on a Dask scheduler (the ``dask`` extra).

``filter`` and ``pool`` come here when INPUT or OUTPUT is a ``.zarr``
store: the result is built lazily over the input's chunks
(:mod:`convpool.backends.dask`) and written to OUTPUT under a temporary
name, renamed when complete, so nothing is half-written.
"""

import os
import shutil
import sys

from . import files
from .errors import UserError, library_errors

STORE_NOTES = """\
stores larger than memory:
  A .zarr INPUT or OUTPUT runs chunk by chunk on Dask (pip install
  "convpool[dask]"), with bounded memory: INPUT may be a Zarr store or a
  .npy file (read through a memory map), OUTPUT is a Zarr store, written
  under a temporary name and renamed when complete.  --scheduler picks
  threads (default), processes, or a dask.distributed scheduler's
  tcp:// address; --chunks sets INPUT's chunk shape.

"""


def add_arguments(p):
    """--scheduler and --chunks."""
    p.add_argument("--scheduler", default="threads", metavar="WHERE",
                   help="for .zarr stores: threads (default), processes, or "
                        "tcp://HOST:PORT of a dask.distributed scheduler")
    p.add_argument("--chunks", metavar="SHAPE",
                   help="for .zarr stores: INPUT's chunk shape, one size per "
                        "axis (-1 for a whole axis), e.g. 1024,-1,-1")


def wanted(args):
    """Whether the command works on stores: a .zarr INPUT or OUTPUT."""
    return any(str(p).rstrip("/").lower().endswith(".zarr")
               for p in (args.input, args.output))


def run(args, make, label):
    """Build ``make(batch)`` lazily over INPUT and store it in OUTPUT."""
    _require_dask()
    output = _check_output(args.output, args.force)
    batch, layout = _open_input(args)
    with library_errors():
        result = files.from_batch(make(batch), layout)
    with _scheduler(args.scheduler):
        _store(result, output, label)
    print(f"{tuple(files.from_batch(batch, layout).shape)} -> "
          f"{tuple(result.shape)}  wrote {args.output}")
    return 0


def _require_dask():
    try:
        import dask.array  # noqa: F401
        import zarr  # noqa: F401
    except ImportError:
        raise UserError(
            "Zarr stores need Dask and Zarr: pip install "
            "\"convpool[dask]\"") from None


def _check_output(path, force):
    path = str(path).rstrip("/")
    if not path.lower().endswith(".zarr"):
        raise UserError(
            f"argument -o/--output: a store INPUT writes a Zarr store; give "
            f"a name ending in .zarr, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(
            f"argument -o/--output: output folder {folder!r} does not exist")
    if os.path.exists(path) and not force:
        raise UserError(
            f"argument -o/--output: {path!r} exists; refusing to replace it "
            f"without --force")
    return path


def _open_input(args):
    """INPUT as a lazy (N, H, W, C) batch, and its layout."""
    import dask.array as da
    path = str(args.input).rstrip("/")
    if not os.path.exists(path):
        raise UserError(f"argument INPUT: {path!r} does not exist")
    if path.lower().endswith(".zarr"):
        array = _open_zarr(path, args.key)
    elif path.lower().endswith(".npy"):
        array = da.from_array(_memory_map(path))
    else:
        raise UserError(
            f"argument INPUT: with a .zarr OUTPUT, INPUT must be a .zarr "
            f"store or a .npy file, got {path!r}")
    layout = args.layout
    if layout is None:
        if array.ndim not in (2, 3, 4):
            raise UserError(
                f"argument INPUT: {path!r} holds an array of shape "
                f"{array.shape}; expected 2 to 4 dimensions")
        layout = files.guess_layout(array.shape)
    elif array.ndim != len(layout):
        raise UserError(
            f"argument --layout: {layout} needs {len(layout)} dimensions, "
            f"but {path!r} has shape {array.shape}")
    if args.chunks:
        array = array.rechunk(_chunk_shape(args.chunks, array.ndim))
    return files.to_batch(array, layout), layout


def _memory_map(path):
    import numpy as np
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UserError(f"argument INPUT: cannot read {path!r} as a .npy "
                        f"array: {exc}") from None


def _open_zarr(path, key):
    import dask.array as da
    try:
        return da.from_zarr(path, component=key)
    except Exception as exc:     # zarr's errors differ between versions
        raise UserError(
            f"argument INPUT: cannot read {path!r} as a Zarr array"
            f"{' ' + repr(key) if key else ''}: {exc}") from None


def _chunk_shape(text, ndim):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) != ndim or any(s == 0 or s < -1 for s in sizes):
        raise UserError(
            f"argument --chunks: expected {ndim} sizes (>= 1, or -1 for a "
            f"whole axis) separated by commas, got {text!r}")
    return sizes


class _scheduler:
    """Where the chunks run: threads, processes, or a distributed cluster
    at a tcp:// address (reached within a few seconds, else an error)."""

    def __init__(self, where):
        self.where, self.client, self.config = where, None, None

    def __enter__(self):
        import dask
        if self.where in ("threads", "processes"):
            self.config = dask.config.set(scheduler=self.where)
            return self
        if "://" not in self.where:
            raise UserError(
                f"argument --scheduler: expected threads, processes or a "
                f"tcp:// address, got {self.where!r}")
        try:
            from distributed import Client
        except ImportError:
            raise UserError("--scheduler ADDRESS needs dask.distributed: "
                            "pip install \"convpool[dask]\"") from None
        try:
            self.client = Client(self.where, timeout="3s")
        except (OSError, TimeoutError) as exc:
            raise UserError(
                f"argument --scheduler: cannot reach {self.where!r}: "
                f"{exc}") from None
        return self

    def __exit__(self, *exc):
        if self.config is not None:
            self.config.__exit__(*exc)
        if self.client is not None:
            self.client.close()


def _store(result, path, label):
    """Write to a temporary store beside ``path``, then rename it."""
    partial = f"{path}.partial-{os.getpid()}"
    # A Zarr array has one chunk shape: the largest chunk along each axis.
    result = result.rechunk(tuple(max(sizes) for sizes in result.chunks))
    try:
        with _progress(label):
            result.to_zarr(partial, overwrite=True)
        if os.path.exists(path):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        os.rename(partial, path)
    except OSError as exc:
        raise UserError(f"argument -o/--output: cannot write {path!r}: "
                        f"{exc.strerror or exc}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _progress(label):
    """Dask's progress bar on a terminal (local schedulers), else nothing."""
    import contextlib
    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar
    return ProgressBar(out=sys.stderr)
