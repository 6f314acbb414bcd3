"""``convpool filter`` and ``convpool pool``: a picture or batch in and out."""

import numpy as np

from .. import conv2d, filter2d, pool2d
from ..conv import PAD_MODES
from ..geometry import pair, resolve_padding
from . import _io
from ._common import (PADDING_HELP, Progress, UserError, check_output, chunks,
                      library_errors, padding_arg, parse_kernel,
                      positive_pair, quote, require_plot)

INPUT_HELP = ("a picture Pillow can read (PNG, JPEG, ...; grey pictures stay "
              "grey, others become RGB) or a NumPy .npy/.npz file")

KERNEL_NOTES = """\
kernels:
  -k takes a named kernel ('convpool kernels' lists them, e.g. sobel_x,
  box:5, gaussian:7,2), an .npy file, or a literal such as
  "[[1,0,-1],[1,0,-1],[1,0,-1]]" (read as JSON or a Python literal, never
  run as code).  A 2-D kernel filters every channel on its own; a 3-D
  (KH, KW, C) kernel sums over the channels into one (the spec's
  convolve_channels); a 4-D (KH, KW, C, F) kernel gives F channels (the
  spec's convolve).  Several -k apply in sequence, each with the same
  --padding, --stride and --pad-mode.

"""

SCALE_NOTES = """\
how a picture output shows the values (--scale, default auto):
  clip    the input's range (0-255 for 8-bit pictures, 0-1 for floats in
          [0, 1]) maps to black-white; values outside are clipped
  minmax  each picture's minimum is black, its maximum white
  signed  0 is mid-grey (128); the largest |value| is white if positive,
          black if negative, so both signs of an edge response show
  Min, max and |value| are taken over all channels of a picture together,
  so colours keep their balance.
"""

FILTER_AUTO = """\
  auto is signed when a kernel's entries sum to 0 (sobel_x, laplacian,
  vertical_edge), clip when every kernel sums to 1 (box, gaussian,
  sharpen, emboss), minmax otherwise.

"""

POOL_AUTO = """\
  auto is clip: pooled values stay in the input's range.

padding:
  Padding never wins: max pooling pads with -inf, average pooling leaves
  padded cells out of the mean (TensorFlow's rule).

"""

IO_NOTES = """\
inputs and outputs:
  INPUT is a picture or a NumPy .npy/.npz array.  Arrays are read as HW (one
  grey picture), NHW (a batch of grey pictures, like the spec's MNIST
  X_train), HWC (one picture with 1, 3 or 4 channels in the last, smallest
  axis) or NHWC (a batch, like the spec's animals 'data'); --layout
  overrides the guess.  NumPy files are loaded without pickle.

  OUTPUT's extension picks the format.  .npy/.npz keep the raw values, in
  the input's layout (.npz under the input's key, or 'data').  Pictures
  (.png .jpg .jpeg .bmp .tif .tiff .webp) are scaled to 0-255 by --scale;
  a batch becomes a grid of its first --tiles pictures, each scaled on its
  own.  An output that is also an input is refused unless --force.  A
  progress bar shows on a terminal for batches.

"""

FILTER_EXAMPLES = """\
examples:
  convpool filter photo.jpg -k sobel_x -o edges.png
  convpool filter photo.jpg -k gaussian:9,3 -k sharpen --pad-mode reflect -o soft.png
  convpool filter MNIST.npz --key X_train -k "[[1,0,-1],[1,0,-1],[1,0,-1]]" --padding valid -o conv.npy
  convpool filter animals_1.npz -k kernels.npy --stride 2 -o grid.png
"""

POOL_EXAMPLES = """\
examples:
  convpool pool photo.jpg --window 4 -o small.png
  convpool pool animals_1.npz --window 2 --mode avg -o pooled.npz
  convpool pool MNIST.npz --key X_train --window 3 --stride 2 --padding same -o p.npy
"""


def _add_output_arguments(p):
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="where to write the result (.npy, .npz or a picture)")
    p.add_argument("--key", metavar="NAME",
                   help="which array of an .npz INPUT (needed when it holds "
                        "several)")
    p.add_argument("--layout", choices=_io.LAYOUTS,
                   help="axes of an array INPUT (default: guessed from its "
                        "shape)")
    p.add_argument("--scale", choices=_io.SCALES, default="auto",
                   help="how a picture output maps values to 0-255; see below")
    p.add_argument("--tiles", type=int, default=64, metavar="N",
                   help="pictures of a batch shown in a picture output "
                        "(default 64)")
    p.add_argument("--force", action="store_true",
                   help="allow OUTPUT to overwrite an input file")


def add_parsers(subparsers, formatter):
    """Register ``filter`` and ``pool``."""
    p = subparsers.add_parser(
        "filter", formatter_class=formatter,
        help="convolve a picture or batch with one or more kernels",
        description="Cross-correlate INPUT with each KERNEL in turn (the "
                    "kernel is not flipped, as in convpool.conv2d).",
        epilog=KERNEL_NOTES + SCALE_NOTES + FILTER_AUTO + IO_NOTES
        + FILTER_EXAMPLES)
    p.add_argument("input", metavar="INPUT", help=INPUT_HELP)
    p.add_argument("-k", "--kernel", action="append", required=True,
                   metavar="KERNEL",
                   help="named kernel, .npy file or literal; repeat to chain")
    p.add_argument("--padding", type=padding_arg, default="same",
                   help=PADDING_HELP + " (default same)")
    p.add_argument("--stride", type=positive_pair, default=(1, 1),
                   metavar="S", help="S or SH,SW (default 1)")
    p.add_argument("--pad-mode", choices=PAD_MODES, default="constant",
                   help="how padding is filled: zeros (constant, the default)"
                        " or a numpy.pad mode")
    _add_output_arguments(p)
    p.set_defaults(run=run_filter)

    p = subparsers.add_parser(
        "pool", formatter_class=formatter,
        help="max or average pooling of a picture or batch",
        description="Slide a window over INPUT and keep each window's "
                    "maximum or mean, per channel.",
        epilog=SCALE_NOTES + POOL_AUTO + IO_NOTES + POOL_EXAMPLES)
    p.add_argument("input", metavar="INPUT", help=INPUT_HELP)
    p.add_argument("--window", type=positive_pair, required=True,
                   metavar="K", help="window size K or KH,KW")
    p.add_argument("--stride", type=positive_pair, default=None, metavar="S",
                   help="S or SH,SW (default: the window size)")
    p.add_argument("--mode", choices=("max", "avg"), default="max",
                   help="max (default) or avg")
    p.add_argument("--padding", type=padding_arg, default="valid",
                   help=PADDING_HELP + " (default valid)")
    _add_output_arguments(p)
    p.set_defaults(run=run_pool)


def as_hwio(kernel, channels):
    """A 2-, 3- or 4-D kernel as HWIO weights and the ``groups`` to use."""
    if kernel.ndim == 2:
        # The same 2-D kernel on each channel separately (depthwise).
        return np.repeat(kernel[:, :, None, None], channels, axis=3), channels
    if kernel.shape[2] != channels:
        raise ValueError(
            f"a {kernel.ndim}-D kernel of shape {kernel.shape} needs input "
            f"with {kernel.shape[2]} channels, got {channels}")
    if kernel.ndim == 3:
        return kernel[:, :, :, None], 1
    return kernel, 1


def kernel_sums(kernel):
    """Sum of the weights feeding each output channel."""
    if kernel.ndim == 4:
        return kernel.sum(axis=(0, 1, 2))
    return np.array([kernel.sum()])


def auto_scale(kernels):
    """'signed', 'clip' or 'minmax' for these kernels' results (see --help)."""
    sums = [kernel_sums(k) for k in kernels]
    if any(np.allclose(s, 0.0, atol=1e-9) for s in sums):
        return "signed"
    if all(np.allclose(s, 1.0) for s in sums):
        return "clip"
    return "minmax"


def apply_kernel(x, kernel, padding, stride, pad_mode):
    """Filter an (N, H, W, C) batch with one 2/3/4-D kernel."""
    if pad_mode != "constant" and kernel.ndim == 2 and len(x) == 1:
        # One picture: filter2d builds the border band by band instead of
        # padding a copy of the whole picture.
        return filter2d(x[0], kernel, padding=padding, stride=stride,
                        pad_mode=pad_mode)[None]
    weights, groups = as_hwio(kernel, x.shape[3])
    if pad_mode != "constant":
        pads = resolve_padding(padding, x.shape[1:3], weights.shape[:2],
                               pair(stride, "stride"))
        x = np.pad(x, ((0, 0),) + pads + ((0, 0),), mode=pad_mode)
        padding = "valid"
    return conv2d(x, weights, stride=stride, padding=padding, groups=groups)


def _run_batch(args, step, inputs, scale):
    """Check OUTPUT, read INPUT, run ``step`` over it in chunks, write."""
    check_output(args.output, inputs, args.force)
    if _io.output_kind(args.output) == "image":
        require_plot()      # fail before the work, not after it
    if args.tiles < 1:
        raise UserError(f"argument --tiles: must be >= 1, got {args.tiles}")
    source = _io.read_input(args.input, args.key, args.layout)
    data = source.data
    progress = Progress(len(data), args.command)
    parts = []
    try:
        with library_errors():
            for part in chunks(len(data)):
                parts.append(step(data[part]))
                progress.update(part.stop - part.start)
    finally:
        progress.close()
    result = np.concatenate(parts) if len(parts) > 1 else parts[0]
    _io.write_result(args.output, result, source.layout, source.key, scale,
                     source.value_range, args.tiles)
    shape_in = _io.from_batch(source.data, source.layout).shape
    shape_out = _io.from_batch(result, source.layout).shape
    print(f"{shape_in} -> {shape_out}  wrote {args.output}")


def run_filter(args):
    """``convpool filter``."""
    loaded = [parse_kernel(text) for text in args.kernel]
    kernels = [k for k, _ in loaded]

    def step(x):
        for text, k in zip(args.kernel, kernels):
            with library_errors(f"kernel {quote(text)}"):
                x = apply_kernel(x, k, args.padding, args.stride,
                                 args.pad_mode)
        return x

    scale = auto_scale(kernels) if args.scale == "auto" else args.scale
    _run_batch(args, step, [args.input] + [p for _, p in loaded], scale)


def run_pool(args):
    """``convpool pool``."""
    def step(x):
        return pool2d(x, args.window, stride=args.stride,
                      padding=args.padding, mode=args.mode)

    scale = "clip" if args.scale == "auto" else args.scale
    _run_batch(args, step, [args.input], scale)
