"""``convpool demo``: the spec's seven tasks, computed by convpool, drawn."""

import os
import textwrap
import time

import numpy as np

from .. import conv2d, pool2d
from ..kernels import CHANNELS_KERNEL, MULTI_KERNELS, VERTICAL_EDGE
from . import _io, render
from ._common import UserError, library_errors, make_folder, require_plot
from .batch import auto_scale

# (file, title, data set, function of the batch, the kernels it applies)
_EDGE = VERTICAL_EDGE[:, :, None, None]
TASKS = [
    ("task0_valid.png", "0. valid convolution", "gray",
     lambda g: conv2d(g[..., None], _EDGE, padding="valid")[..., 0],
     VERTICAL_EDGE),
    ("task1_same.png", "1. same convolution", "gray",
     lambda g: conv2d(g[..., None], _EDGE, padding="same")[..., 0],
     VERTICAL_EDGE),
    ("task2_padding.png", "2. convolution with padding (2, 4)", "gray",
     lambda g: conv2d(g[..., None], _EDGE, padding=(2, 4))[..., 0],
     VERTICAL_EDGE),
    ("task3_stride.png", "3. valid convolution, stride (2, 2)", "gray",
     lambda g: conv2d(g[..., None], _EDGE, padding="valid",
                      stride=(2, 2))[..., 0],
     VERTICAL_EDGE),
    ("task4_channels.png", "4. convolution over 3 channels", "color",
     lambda c: conv2d(c, CHANNELS_KERNEL[..., None], padding="valid")[..., 0],
     CHANNELS_KERNEL),
    ("task5_kernels.png", "5. three kernels over 3 channels", "color",
     lambda c: conv2d(c, MULTI_KERNELS, padding="valid"),
     MULTI_KERNELS),
    ("task6_pool.png", "6. 2x2 average pooling, stride 2", "color",
     lambda c: pool2d(c, (2, 2), stride=(2, 2), mode="avg"),
     None),
]
CONTACT_SHEET = "contact_sheet.png"
FILES = [t[0] for t in TASKS] + [CONTACT_SHEET]

DEMO_NOTES = """\
data:
  Tasks 0-3 use --mnist (the spec's MNIST.npz, key X_train, (m, h, w)
  floats in [0, 1]); tasks 4-6 use --animals (the spec's animals_1.npz,
  key data, (m, h, w, 3) uint8).  Without them, the photograph shipped
  with matplotlib (grace_hopper.jpg, at half size) stands in, as a grey
  and a colour batch of one picture; nothing is downloaded.  Every image
  of a batch is computed; the pictures show the first.

pictures:
  Edge responses (kernels summing to 0) are drawn with 0 as mid-grey,
  other convolutions from their minimum (black) to their maximum (white),
  pooled colours as they are ('convpool filter --help' has the rules).

writes, in DIR:
""" + "".join(f"  {name}\n" for name in FILES) + """
examples:
  convpool demo
  convpool demo --mnist MNIST.npz --animals animals_1.npz --out results
"""


def add_parser(subparsers, formatter):
    """Register ``demo``."""
    p = subparsers.add_parser(
        "demo", formatter_class=formatter,
        help="run the spec's seven tasks and draw them",
        description="Run the spec's seven tasks the way its example programs "
                    "do, with convpool's conv2d and pool2d: valid, same, "
                    "padding (2, 4) and valid stride (2, 2) convolutions of "
                    "grey pictures with [[1, 0, -1]] * 3; a 3x3x3 kernel "
                    "summed over colour channels; three 3x3x3 kernels; 2x2 "
                    "average pooling with stride 2.  Prints each input and "
                    "output shape and writes one PNG per task (input and "
                    "result side by side) plus a contact sheet.",
        epilog=DEMO_NOTES)
    p.add_argument("--mnist", metavar="FILE.npz",
                   help="the spec's MNIST.npz (key X_train) for tasks 0-3")
    p.add_argument("--animals", metavar="FILE.npz",
                   help="the spec's animals_1.npz (key data) for tasks 4-6")
    p.add_argument("--out", default="convpool-demo", metavar="DIR",
                   help="folder for the pictures (created if missing; "
                        "default ./convpool-demo)")
    p.set_defaults(run=run)


def sample_photo():
    """matplotlib's Grace Hopper photo at half size: (grey, colour) batches."""
    require_plot()
    import matplotlib.cbook
    from PIL import Image
    try:
        path = matplotlib.cbook.get_sample_data("grace_hopper.jpg",
                                                asfileobj=False)
        with Image.open(path) as im:
            rgb = im.convert("RGB").reduce(2)
    except OSError as exc:
        raise UserError(
            f"matplotlib's sample photo grace_hopper.jpg is missing ({exc}); "
            f"pass --mnist and --animals") from None
    color = np.asarray(rgb)[None]
    gray = np.asarray(rgb.convert("L"), dtype=np.float64)[None] / 255.0
    return gray, color


def _load(path, key, ndim, option, shape_text):
    if _io.sniff(path, option) != "npz":
        raise UserError(f"argument {option}: {path!r} is not an .npz file")
    arr, _ = _io.load_npz(path, key, option, key_option=option)
    if arr.ndim != ndim or (ndim == 4 and arr.shape[3] != 3):
        raise UserError(
            f"argument {option}: {key!r} in {path!r} must have shape "
            f"{shape_text}, got {arr.shape}")
    return arr


def _panels(first_input, value_range, result, kernels):
    """Input and result pictures (one per output channel of task 5)."""
    panels = [(_io.to_uint8(first_input, "clip", value_range),
               f"input {first_input.shape}")]
    if result.ndim == 3 and kernels is not None and kernels.ndim == 4:
        for f in range(result.shape[2]):
            scale = auto_scale([kernels[..., f]])
            panels.append((_io.to_uint8(result[..., f], scale),
                           f"output channel {f} {result.shape[:2]}"))
    else:
        scale = "clip" if kernels is None else auto_scale([kernels])
        panels.append((_io.to_uint8(result, scale, value_range),
                       f"output {result.shape}"))
    return panels


def run(args):
    """``convpool demo``."""
    require_plot()
    gray = color = None
    if args.mnist:
        gray = _load(args.mnist, "X_train", 3, "--mnist", "(m, h, w)")
    if args.animals:
        color = _load(args.animals, "data", 4, "--animals", "(m, h, w, 3)")
    if gray is None or color is None:
        photo_gray, photo_color = sample_photo()
        gray = photo_gray if gray is None else gray
        color = photo_color if color is None else color
    make_folder(args.out, "--out")
    data = {"gray": gray, "color": color}
    ranges = {k: _io.nominal_range(v[:1]) for k, v in data.items()}
    sheet_rows, labels = [], []
    for name, title, which, task, kernels in TASKS:
        images = data[which]
        start = time.perf_counter()
        with library_errors(f"task {title[0]}"):
            result = task(images)
        seconds = time.perf_counter() - start
        path = os.path.join(args.out, name)
        panels = _panels(images[0], ranges[which], result[0], kernels)
        render.save_panels(
            path, panels, f"{title}: {images.shape} -> {result.shape}")
        print(f"{title:<38} {str(images.shape):>20} -> "
              f"{str(result.shape):<20} {seconds:6.2f} s  {path}", flush=True)
        sheet_rows.append(panels)
        del result      # a full-size result can be hundreds of MB
        labels.append(textwrap.fill(title, 18))
    sheet = os.path.join(args.out, CONTACT_SHEET)
    render.save_grid(sheet, sheet_rows, "convpool: the seven tasks",
                     row_labels=labels)
    print(f"contact sheet {sheet}")
