"""``convpool demo``: the spec's seven tasks, computed by convpool, drawn."""

import os
import time

from ... import conv2d, pool2d
from ...kernels import CHANNELS_KERNEL, MULTI_KERNELS, VERTICAL_EDGE
from .. import files, render
from ..errors import UserError, library_errors, require_plot
from ..samples import sample_photo
from ..scaling import auto_scale, nominal_range, to_display

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

NOTES = """\
data:
  Tasks 0-3 use --mnist (the spec's MNIST.npz, key X_train, (m, h, w)
  floats in [0, 1]); tasks 4-6 use --animals (the spec's animals_1.npz,
  key data, (m, h, w, 3) uint8).  Without them, the photograph shipped
  with matplotlib (grace_hopper.jpg, at half size) stands in, as a grey
  and a colour batch of one picture; nothing is downloaded.  Every image
  of a batch is computed; the pictures show the first.

pictures:
  Edge responses (kernels summing to 0) are drawn with 0 as mid-grey and
  the 99.5th percentile of |value| as white or black (signed-robust),
  other convolutions from their 0.5th to 99.5th percentile
  (minmax-robust), pooled colours as they are ('convpool filter --help'
  has the rules).

writes, in DIR:
""" + "".join(f"  {name}\n" for name in FILES) + """
examples:
  convpool demo
  convpool demo --mnist MNIST.npz --animals animals_1.npz --out results
"""


def add_parser(subparsers):
    """Register ``demo``."""
    p = subparsers.add_parser(
        "demo",
        help="run the spec's seven tasks and draw them",
        description="Run the spec's seven tasks the way its example programs "
                    "do, with convpool's conv2d and pool2d: valid, same, "
                    "padding (2, 4) and valid stride (2, 2) convolutions of "
                    "grey pictures with [[1, 0, -1]] * 3; a 3x3x3 kernel "
                    "summed over colour channels; three 3x3x3 kernels; 2x2 "
                    "average pooling with stride 2.  Prints each input and "
                    "output shape and writes one PNG per task (input and "
                    "result side by side) plus a contact sheet.",
        epilog=NOTES)
    p.add_argument("--mnist", metavar="FILE.npz",
                   help="the spec's MNIST.npz (key X_train) for tasks 0-3")
    p.add_argument("--animals", metavar="FILE.npz",
                   help="the spec's animals_1.npz (key data) for tasks 4-6")
    p.add_argument("--out", default="convpool-demo", metavar="DIR",
                   help="folder for the pictures (created if missing; "
                        "default ./convpool-demo)")
    p.set_defaults(func=run)


def _load(path, key, ndim, option, shape_text):
    if files.sniff(path, option) != "npz":
        raise UserError(f"argument {option}: {path!r} is not an .npz file")
    arr, _ = files.load_npz(path, key, option, key_option=option)
    if arr.ndim != ndim or (ndim == 4 and arr.shape[3] != 3):
        raise UserError(
            f"argument {option}: {key!r} in {path!r} must have shape "
            f"{shape_text}, got {arr.shape}")
    return arr


def _picture(values, scale, value_range=(0.0, 255.0)):
    pixels, _ = to_display(values if values.ndim == 3 else values[..., None],
                           scale, value_range)
    return pixels


def _panels(first_input, value_range, result, kernels):
    """Input and result pictures (one per output channel of task 5)."""
    panels = [(_picture(first_input, "clip", value_range),
               f"input {first_input.shape}")]
    if result.ndim == 3 and kernels is not None and kernels.ndim == 4:
        for f in range(result.shape[2]):
            scale = auto_scale([kernels[..., f]])
            panels.append((_picture(result[..., f], scale),
                           f"output channel {f} {result.shape[:2]}"))
    else:
        scale = "clip" if kernels is None else auto_scale([kernels])
        panels.append((_picture(result, scale, value_range),
                       f"output {result.shape}"))
    return panels


def _data(args):
    gray = color = None
    if args.mnist:
        gray = _load(args.mnist, "X_train", 3, "--mnist", "(m, h, w)")
    if args.animals:
        color = _load(args.animals, "data", 4, "--animals", "(m, h, w, 3)")
    if gray is None or color is None:
        photo_gray, photo_color = sample_photo()
        gray = photo_gray if gray is None else gray
        color = photo_color if color is None else color
    return {"gray": gray, "color": color}


def run(args):
    """``convpool demo``."""
    require_plot()
    data = _data(args)
    files.make_folder(args.out, "--out")
    ranges = {k: nominal_range(v[:1]) for k, v in data.items()}
    cards = []
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
        cards.append((title, panels))
        del result      # a full-size result can be hundreds of MB
    sheet = os.path.join(args.out, CONTACT_SHEET)
    render.save_sheet(sheet, cards, "convpool: the spec's seven tasks")
    print(f"contact sheet {sheet}")
    return 0
