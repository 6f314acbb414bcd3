"""What ``filter`` and ``pool`` share: the output options, reading the
input, running over the batch with a progress bar, writing the result."""

import numpy as np

from . import files, render
from .errors import UserError, library_errors, require_plot, warn
from .progress import Progress, chunks
from .scaling import NONFINITE_RGB, SCALES, as_rgb, to_display

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
  own, small ones enlarged (--no-upscale keeps their size).  An output
  that is also an input is refused unless --force.  On a terminal a
  progress bar shows for batches, and for one picture whose filtering
  takes more than about a second.

"""

INPUT_HELP = ("a picture Pillow can read (PNG, JPEG, ...; grey pictures stay "
              "grey, others become RGB) or a NumPy .npy/.npz file")


def add_output_arguments(p):
    """INPUT's and OUTPUT's options, the same for every array command."""
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="where to write the result (.npy, .npz or a picture)")
    p.add_argument("--key", metavar="NAME",
                   help="which array of an .npz INPUT (needed when it holds "
                        "several)")
    p.add_argument("--layout", choices=files.LAYOUTS,
                   help="axes of an array INPUT (default: guessed from its "
                        "shape)")
    p.add_argument("--scale", choices=SCALES, default="auto",
                   help="how a picture output maps values to 0-255; see below")
    p.add_argument("--tiles", type=int, default=64, metavar="N",
                   help="pictures of a batch shown in a picture output "
                        "(default 64)")
    p.add_argument("--no-upscale", dest="upscale", action="store_false",
                   help="draw a batch grid at the pictures' own size (by "
                        "default small pictures are enlarged, each pixel a "
                        "square block)")
    p.add_argument("--force", action="store_true",
                   help="allow OUTPUT to overwrite an input file")


def read(args, inputs):
    """Check OUTPUT before any work, then read INPUT as a Batch."""
    files.check_output(args.output, inputs, args.force)
    if files.output_kind(args.output) == "image":
        require_plot()      # fail before the work, not after it
    if args.tiles < 1:
        raise UserError(f"argument --tiles: must be >= 1, got {args.tiles}")
    return files.read_input(args.input, args.key, args.layout)


def over_batch(data, step, label, what=None):
    """``step`` over chunks of an (N, H, W, C) batch, with a progress bar."""
    progress = Progress(len(data), label)
    parts = []
    try:
        with library_errors(what):
            for part in chunks(len(data)):
                parts.append(step(data[part]))
                progress.update(part.stop - part.start)
    finally:
        progress.close()
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def picture_of(batch, scale, value_range, max_tiles, upscale):
    """8-bit pixels of a result, and how many pixels were not finite.

    A batch becomes a grid of its first ``max_tiles`` pictures, each scaled
    on its own; the count is over the whole result.
    """
    shown = [to_display(img, scale, value_range) for img in batch[:max_tiles]]
    tiles = [pixels for pixels, _ in shown]
    if len({t.shape[2] for t in tiles}) > 1:    # some tiles marked in colour
        tiles = [as_rgb(t) for t in tiles]
    count = int((~np.isfinite(batch).all(axis=-1)).sum())
    if len(tiles) == 1:
        return tiles[0], count
    return render.tile(np.stack(tiles), upscale=upscale), count


def finish(args, source, result, scale):
    """Write the result; warn about non-finite pixels; print the shapes."""
    if files.output_kind(args.output) == "array":
        files.save_array(args.output,
                         files.from_batch(result, source.layout),
                         source.key or "data")
    else:
        pixels, count = picture_of(result, scale, source.value_range,
                                   args.tiles, args.upscale)
        files.save_picture(args.output, pixels)
        if count:
            warn(args.command,
                 f"{count} of {result[..., 0].size} pixels "
                 f"{'is' if count == 1 else 'are'} not finite "
                 f"(NaN or infinity); drawn in magenta {NONFINITE_RGB} and "
                 f"left out of the scaling")
    shape_in = files.from_batch(source.data, source.layout).shape
    shape_out = files.from_batch(result, source.layout).shape
    print(f"{shape_in} -> {shape_out}  wrote {args.output}")
