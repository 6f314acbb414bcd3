"""``convpool filter``: a picture or batch through one or more kernels."""

from .. import runner
from ..args import (KERNEL_NOTES, PAD_MODE_HELP, PADDING_HELP, pad_mode_arg,
                    padding_arg, parse_kernel, positive_pair)
from ..convolve import (SLOW_MACS, apply_kernel, apply_kernel_in_bands,
                        bands, plan_chain)
from ..errors import library_errors
from ..progress import Heartbeat, Progress
from ..scaling import SCALE_NOTES, auto_scale

AUTO_NOTES = """\
  auto is signed-robust when a kernel's entries sum to 0 (sobel_x,
  laplacian, vertical_edge), clip when every kernel sums to 1 (box,
  gaussian, sharpen, emboss), minmax-robust otherwise.

"""

EXAMPLES = """\
examples:
  convpool filter photo.jpg -k sobel_x -o edges.png
  convpool filter photo.jpg -k gaussian:9,3 -k sharpen --pad-mode reflect -o soft.png
  convpool filter MNIST.npz --key X_train -k "[[1,0,-1],[1,0,-1],[1,0,-1]]" --padding valid -o conv.npy
  convpool filter animals_1.npz -k k.npz --kernel-key k --stride 2 -o g.png
"""


def add_parser(subparsers):
    """Register ``filter``."""
    p = subparsers.add_parser(
        "filter",
        help="convolve a picture or batch with one or more kernels",
        description="Cross-correlate INPUT with each KERNEL in turn (the "
                    "kernel is not flipped, as in convpool.conv2d).",
        epilog=KERNEL_NOTES + SCALE_NOTES + AUTO_NOTES + runner.IO_NOTES
        + EXAMPLES)
    p.add_argument("input", metavar="INPUT", help=runner.INPUT_HELP)
    p.add_argument("-k", "--kernel", action="append", required=True,
                   metavar="KERNEL",
                   help="named kernel, .npy/.npz file or literal; repeat to "
                        "chain")
    p.add_argument("--kernel-key", metavar="NAME",
                   help="which array of an .npz KERNEL file (default: its "
                        "only array)")
    p.add_argument("--padding", type=padding_arg, default="same",
                   help=PADDING_HELP + " (default same)")
    p.add_argument("--stride", type=positive_pair, default=(1, 1),
                   metavar="S", help="S or SH,SW (default 1)")
    p.add_argument("--pad-mode", type=pad_mode_arg, default="constant",
                   metavar="MODE", help=PAD_MODE_HELP)
    runner.add_output_arguments(p)
    p.set_defaults(func=run)


def _in_bands(args, x, kernels, steps):
    """One big picture: kernel after kernel, in bands of rows, with a
    progress bar counting the output rows of every step."""
    progress = Progress(sum(oh for oh, _ in steps), "filter", unit="rows")
    try:
        for text, k in zip(args.kernel, kernels):
            with library_errors(f"kernel {text!r}"):
                x = apply_kernel_in_bands(x, k, args.padding, args.stride,
                                          args.pad_mode, progress)
    finally:
        progress.close()
    return x


def _filter(args, data, kernels):
    """Every kernel in turn over the batch, with the progress display that
    fits the job."""
    macs, steps = plan_chain(data.shape, data.dtype, kernels, args.kernel,
                             args.padding, args.stride)

    def step(x):
        for text, k in zip(args.kernel, kernels):
            with library_errors(f"kernel {text!r}"):
                x = apply_kernel(x, k, args.padding, args.stride,
                                 args.pad_mode)
        return x

    if len(data) > 1 or macs <= SLOW_MACS:
        return runner.over_batch(data, step, "filter")
    if all(len(bands(oh, kh)) >= 3 for oh, kh in steps):
        return _in_bands(args, data, kernels, steps)
    # Kernels too tall for bands to pay: show the time instead.
    with Heartbeat(f"filter: one picture, {macs:.2g} multiply-adds"):
        return step(data)


def run(args):
    """``convpool filter``."""
    loaded = [parse_kernel(text, key=args.kernel_key) for text in args.kernel]
    kernels = [k for k, _ in loaded]
    source = runner.read(args, [args.input] + [p for _, p in loaded])
    result = _filter(args, source.data, kernels)
    scale = auto_scale(kernels) if args.scale == "auto" else args.scale
    runner.finish(args, source, result, scale)
    return 0
