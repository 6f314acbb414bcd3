"""``convpool pool``: max or average pooling of a picture or batch."""

from ... import pool2d
from ...geometry import pool_output_size, resolve_padding
from .. import runner
from ..args import PADDING_HELP, padding_arg, padding_text, positive_pair
from ..convolve import check_memory, check_window
from ..errors import UserError, library_errors
from ..scaling import SCALE_NOTES

NOTES = """\
  auto is clip: pooled values stay in the input's range.

padding:
  Padding never wins: max pooling pads with -inf, average pooling leaves
  padded cells out of the mean (TensorFlow's rule).

"""

EXAMPLES = """\
examples:
  convpool pool photo.jpg --window 4 -o small.png
  convpool pool animals_1.npz --window 2 --mode avg -o pooled.npz
  convpool pool MNIST.npz --key X_train --window 3 --stride 2 --padding same -o p.npy
"""


def add_parser(subparsers):
    """Register ``pool``."""
    p = subparsers.add_parser(
        "pool",
        help="max or average pooling of a picture or batch",
        description="Slide a window over INPUT and keep each window's "
                    "maximum or mean, per channel.",
        epilog=SCALE_NOTES + NOTES + runner.IO_NOTES + EXAMPLES)
    p.add_argument("input", metavar="INPUT", help=runner.INPUT_HELP)
    p.add_argument("--window", type=positive_pair, required=True,
                   metavar="K", help="window size K or KH,KW")
    p.add_argument("--stride", type=positive_pair, default=None, metavar="S",
                   help="S or SH,SW (default: the window size)")
    p.add_argument("--mode", choices=("max", "avg"), default="max",
                   help="max (default) or avg")
    p.add_argument("--padding", type=padding_arg, default="valid",
                   help=PADDING_HELP + " (default valid)")
    runner.add_output_arguments(p)
    p.set_defaults(func=run)


def check_pooling(args, shape, itemsize):
    """Refuse a window, padding or result size that cannot work, before
    the work and in the command's words."""
    n, h, w, c = shape
    stride = args.stride or args.window
    with library_errors():
        pads = resolve_padding(args.padding, (h, w), args.window, stride)
    check_window(args.window, (h, w), pads, args.padding, "--window",
                 "the window")
    if any(max(lo, hi) >= k for (lo, hi), k in zip(pads, args.window)):
        raise UserError(
            f"argument --padding: {padding_text(args.padding)} gives "
            f"{pads}; pooling needs less padding than --window "
            f"{args.window[0]},{args.window[1]} on every side, so no window "
            f"lies wholly in the padding")
    out_hw = [pool_output_size(size, k, s, lo, hi) for size, k, s, (lo, hi)
              in zip((h, w), args.window, stride, pads)]
    check_memory((n, *out_hw, c), max(itemsize, 8), (h, w), args.padding)


def run(args):
    """``convpool pool``."""
    source = runner.read(args, [args.input])
    check_pooling(args, source.data.shape, source.data.dtype.itemsize)

    def step(x):
        return pool2d(x, args.window, stride=args.stride,
                      padding=args.padding, mode=args.mode)

    result = runner.over_batch(source.data, step, "pool")
    scale = "clip" if args.scale == "auto" else args.scale
    runner.finish(args, source, result, scale)
    return 0
