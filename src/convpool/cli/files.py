"""Reading pictures and NumPy files into batches, and writing results back.

Every input becomes an ``(N, H, W, C)`` batch plus the layout it came in
(``HW``, ``HWC``, ``NHW`` or ``NHWC``), so results can be written back in the
same layout.  NumPy files are always loaded with ``allow_pickle=False``;
Pillow's decompression-bomb warning is treated as an error.
"""

import os
import pickle
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from .errors import UserError, require_plot, writing
from .scaling import nominal_range

LAYOUTS = ("HW", "HWC", "NHW", "NHWC")
ARRAY_EXTENSIONS = (".npy", ".npz")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class Batch:
    """An input: ``data`` is (N, H, W, C); ``layout`` its original axes."""

    data: np.ndarray
    layout: str
    key: str = None    # the npz key it came from
    # The values' nominal range, e.g. (0, 255) for 8-bit pictures.
    value_range: tuple = (0.0, 1.0)


# --- reading -------------------------------------------------------------

def sniff(path, option):
    """'npy', 'npz' or 'image' from the first bytes of ``path``."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise UserError(
            f"argument {option}: cannot read {path!r}: {exc.strerror}"
        ) from None
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK"):
        return "npz"
    return "image"


def _check_numeric(arr, what, option):
    if arr.dtype.kind not in "biuf":
        raise UserError(
            f"argument {option}: {what} holds dtype {arr.dtype}, not real "
            f"numbers")
    if arr.size == 0:
        raise UserError(
            f"argument {option}: {what} is empty (shape {arr.shape})")
    return arr


_NUMPY_LOAD_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile,
                      pickle.UnpicklingError)


def _pickle_message(exc):
    text = str(exc)
    if "pickle" in text.lower():
        return ("it holds Python objects that need pickle, which convpool "
                "never loads")
    return text


def load_npy(path, option):
    """One array from an ``.npy`` file (no pickle)."""
    if sniff(path, option) != "npy":
        raise UserError(
            f"argument {option}: {path!r} is not a NumPy .npy file")
    try:
        arr = np.load(path, allow_pickle=False)
    except _NUMPY_LOAD_ERRORS as exc:
        raise UserError(
            f"argument {option}: cannot load {path!r}: {_pickle_message(exc)}"
        ) from None
    return _check_numeric(arr, repr(path), option)


def load_npz(path, key, option, key_option="--key"):
    """``(array, key)`` from an ``.npz``; ``key`` None takes its only array."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if key is None:
                if len(keys) != 1:
                    raise UserError(
                        f"argument {key_option}: {path!r} holds "
                        f"{len(keys)} arrays ({', '.join(keys) or 'none'}); "
                        f"pick one with {key_option}")
                key = keys[0]
            if key not in keys:
                raise UserError(
                    f"argument {key_option}: {path!r} has no array {key!r}; "
                    f"its keys are: {', '.join(keys) or '(none)'}")
            arr = archive[key]
    except _NUMPY_LOAD_ERRORS as exc:
        raise UserError(
            f"argument {option}: cannot load {path!r}: {_pickle_message(exc)}"
        ) from None
    return _check_numeric(arr, f"{path!r} key {key!r}", option), key


def load_image(path, option):
    """``(H, W, C)`` array from a picture: 1 channel for grey, else 3 (RGB)."""
    require_plot()
    from PIL import Image, UnidentifiedImageError
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                im.load()
                if im.mode in ("1", "L", "LA"):
                    arr = np.asarray(im.convert("L"))
                elif im.mode.startswith(("I", "F")):  # 16/32-bit grey
                    arr = np.asarray(im)
                else:
                    arr = np.asarray(im.convert("RGB"))
        except (Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            raise UserError(
                f"argument {option}: {path!r} is too large to decode safely "
                f"(possible decompression bomb): {exc}") from None
        except UnidentifiedImageError:
            raise UserError(
                f"argument {option}: {path!r} is not an image Pillow can read "
                f"nor a NumPy .npy/.npz file") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise UserError(
                f"argument {option}: cannot decode image {path!r}: {exc}"
            ) from None
    return arr if arr.ndim == 3 else arr[:, :, None]


def guess_layout(shape):
    """Axes of an array read from a file, from its shape.

    2-D is one grey picture (HW), 4-D a batch (NHWC).  3-D is one colour
    picture (HWC) when the last axis has 1, 3 or 4 entries and is the
    smallest, otherwise a batch of grey pictures (NHW), like the spec's
    MNIST ``X_train`` of shape (50000, 28, 28).

    >>> guess_layout((50000, 28, 28)), guess_layout((32, 32, 3))
    ('NHW', 'HWC')
    """
    if len(shape) == 2:
        return "HW"
    if len(shape) == 4:
        return "NHWC"
    if len(shape) == 3:
        last = shape[-1]
        return "HWC" if last in (1, 3, 4) and last <= min(shape) else "NHW"
    raise ValueError(shape)


def to_batch(arr, layout):
    """View ``arr`` (in ``layout``) as an (N, H, W, C) batch."""
    return {"HW": lambda a: a[None, :, :, None],
            "HWC": lambda a: a[None],
            "NHW": lambda a: a[:, :, :, None],
            "NHWC": lambda a: a}[layout](arr)


def from_batch(batch, layout):
    """Inverse of :func:`to_batch` (C may have changed; N stays)."""
    if layout == "HW" and batch.shape[3] == 1:
        return batch[0, :, :, 0]
    if layout in ("HW", "HWC"):
        return batch[0]
    if layout == "NHW" and batch.shape[3] == 1:
        return batch[:, :, :, 0]
    return batch


def _read_array(path, kind, key, layout, option):
    if kind == "npy":
        arr = load_npy(path, option)
    else:
        arr, key = load_npz(path, key, option)
    if layout is None:
        if arr.ndim not in (2, 3, 4):
            raise UserError(
                f"argument {option}: {path!r} holds an array of shape "
                f"{arr.shape}; expected 2 to 4 dimensions (HW, NHW or "
                f"HWC, NHWC)")
        layout = guess_layout(arr.shape)
    elif arr.ndim != len(layout):
        raise UserError(
            f"argument --layout: {layout} needs {len(layout)} dimensions, "
            f"but {path!r} has shape {arr.shape}")
    return to_batch(arr, layout), layout, key


def read_input(path, key=None, layout=None, option="INPUT"):
    """Load any supported input as a :class:`Batch`."""
    kind = sniff(path, option)
    if kind != "npz" and key is not None:
        raise UserError(f"argument --key: {path!r} is not an .npz file")
    if kind == "image":
        arr = load_image(path, option)
        layout = layout or ("HW" if arr.shape[2] == 1 else "HWC")
        if layout not in ("HW", "HWC"):
            raise UserError(
                f"argument --layout: {path!r} is a single picture; "
                f"{layout} does not apply")
        data = arr[None]
    else:
        data, layout, key = _read_array(path, kind, key, layout, option)
    return Batch(data=data, layout=layout, key=key,
                 value_range=nominal_range(data))


# --- checking outputs ------------------------------------------------------

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


def output_kind(path, option="-o/--output"):
    """'array' or 'image' from the output's extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext in ARRAY_EXTENSIONS:
        return "array"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    raise UserError(
        f"argument {option}: cannot tell the format of {path!r} from its "
        f"extension; use one of "
        f"{', '.join(ARRAY_EXTENSIONS + IMAGE_EXTENSIONS)}")


# --- writing -----------------------------------------------------------------

def save_array(path, arr, key):
    """Raw values to ``.npy`` or ``.npz`` (under ``key``)."""
    with writing(path):
        if path.lower().endswith(".npz"):
            np.savez(path, **{key: arr})
        else:
            np.save(path, arr)


def save_picture(path, pixels, option="-o/--output"):
    """An 8-bit (H, W, 1) or (H, W, 3) array to any Pillow format."""
    require_plot()
    from PIL import Image
    c = pixels.shape[2]
    if c not in (1, 3):
        raise UserError(
            f"argument {option}: the result has {c} channels; pictures "
            f"need 1 (grey) or 3 (RGB); write .npy or .npz instead")
    image = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels)
    with writing(path, option):
        image.save(path)
