"""``convpool kernels``: list the named kernels, or draw each one's effect."""

import textwrap

import numpy as np

from ... import kernels as named
from .. import files, render
from ..args import parse_kernel
from ..convolve import apply_kernel
from ..errors import UserError, library_errors
from ..samples import sample_photo
from ..scaling import auto_scale, to_display

EPILOG = """\
The gallery filters matplotlib's sample photo (or --image) with each kernel
at its default size, 'same' zero padding, and scales the result as
'convpool filter' does (--scale auto).

examples:
  convpool kernels
  convpool kernels gaussian:5,1.5 box:4
  convpool kernels --gallery kernels.png
  convpool kernels --gallery mine.png --image photo.jpg
"""


def add_parser(subparsers):
    """Register ``kernels``."""
    p = subparsers.add_parser(
        "kernels",
        help="list the named kernels, or draw them applied to a photo",
        description="Print the named kernels (convpool.kernels) with their "
                    "matrices.  Parameters follow a colon: box:5, "
                    "gaussian:7,2 (size, sigma).",
        epilog=EPILOG)
    p.add_argument("names", nargs="*", metavar="KERNEL",
                   help="kernels to print (default: every named kernel)")
    p.add_argument("--kernel-key", metavar="NAME",
                   help="which array of an .npz KERNEL file (default: its "
                        "only array)")
    p.add_argument("--gallery", metavar="OUT.png",
                   help="draw each kernel's effect into this picture")
    p.add_argument("--image", metavar="PICTURE",
                   help="picture (or .npy/.npz, first image) for the gallery "
                        "instead of the sample photo")
    p.add_argument("--force", action="store_true",
                   help="allow the gallery to overwrite --image")
    p.set_defaults(func=run)


def format_matrix(kernel):
    """Kernel entries as text: integers plainly, others to 4 decimals.

    >>> print(format_matrix(np.array([[1.0, -2.0], [0.0, 3.0]])))
    [[ 1 -2]
     [ 0  3]]
    """
    if np.all(kernel == np.round(kernel)):
        return np.array2string(kernel.astype(np.int64))
    return np.array2string(kernel, precision=4, suppress_small=True,
                           max_line_width=100)


def run(args):
    """``convpool kernels``."""
    specs = args.names or named.names()
    loaded = [(spec, parse_kernel(spec, "KERNEL", key=args.kernel_key)[0])
              for spec in specs]
    if args.gallery:
        _gallery(args, loaded)
        return 0
    for spec, kernel in loaded:
        name = spec.partition(":")[0].strip().lower().replace("-", "_")
        syntax, text = (named.describe(name) if name in named.names()
                        else (spec, "from the command line"))
        print(f"{syntax:<26} {text}")
        print(textwrap.indent(format_matrix(kernel), "    "))
    return 0


def _gallery(args, loaded):
    files.check_output(args.gallery, [args.image], args.force, "--gallery")
    if files.output_kind(args.gallery, "--gallery") != "image":
        raise UserError(
            f"argument --gallery: {args.gallery!r} must be a picture "
            f"(.png, .jpg, ...)")
    if args.image:
        source = files.read_input(args.image, option="--image")
        picture, value_range = source.data[:1], source.value_range
    else:
        picture = sample_photo()[1]
        value_range = (0.0, 255.0)
    panels = [(to_display(picture[0], "clip", value_range)[0], "input")]
    for spec, kernel in loaded:
        with library_errors(f"kernel {spec!r}",
                            {"kernels": "KERNEL", "x": "--image"}):
            result = apply_kernel(picture, kernel, "same", 1, "constant")[0]
        scale = auto_scale([kernel])
        panels.append((to_display(result, scale, value_range)[0],
                       f"{spec} ({scale})"))
    render.save_gallery(args.gallery, panels, "convpool named kernels")
    print(f"wrote {args.gallery}")
