"""``convpool animate``: the kernel window sliding over a small grid, as a GIF.

One frame per output position: the zero-padded input with the window on it,
the kernel, the output filling in, and the product-sum written out.  The
output values come from :func:`convpool.conv2d`; the written-out sum is
computed from the padded grid, so the picture shows what the library does.
"""

import os
import textwrap

import numpy as np

from ... import conv2d
from ...geometry import pair, resolve_padding
from ..args import (PADDING_HELP, corner, padding_arg, parse_kernel,
                    positive_pair)
from ..convolve import check_window
from ..errors import UserError, library_errors, require_plot, writing
from ..files import check_output, make_folder, read_input

# A 5x5 picture with a bright left and a dark right: the default
# vertical-edge kernel lights up along the boundary.
DEFAULT_GRID = np.array([[9, 9, 8, 1, 0],
                         [9, 8, 9, 0, 1],
                         [8, 9, 9, 1, 0],
                         [9, 9, 8, 0, 1],
                         [8, 9, 9, 1, 1]], dtype=np.float64)
MAX_SIZE = 16
MAX_FRAMES = 400

WINDOW = (228, 87, 46)       # the window, the kernel and the current output
PAD_FILL = (207, 224, 245)   # zero padding
PAD_TEXT = (90, 110, 140)
EMPTY = (236, 236, 236)      # output cells not computed yet
INK = (20, 20, 20)
GRID_LINE = (150, 150, 150)
BACKGROUND = (255, 255, 255)


def add_parser(subparsers):
    """Register ``animate``."""
    p = subparsers.add_parser(
        "animate",
        help="animate a kernel sliding over a small grid (GIF)",
        description="Draw the convolution step by step: the input grid with "
                    "its zero padding shaded blue, the kernel window (orange) "
                    "moving with the stride, each product-sum written out, "
                    "and the output grid filling in.",
        epilog=textwrap.dedent(f"""\
            The GIF has exactly one frame per output position (the last one
            is shown longer).  Without INPUT the grid is a built-in 5x5
            example with a vertical edge; with INPUT (a picture or
            .npy/.npz) it is a SIZE x SIZE crop of picture --index,
            converted to grey (ITU-R 601 luma), at --at or the centre.
            Numbers are the grid's own values (0-255 for 8-bit pictures).

            examples:
              convpool animate -o conv.gif
              convpool animate -k sobel_x --stride 2 -o strided.gif
              convpool animate -k box:2 --padding valid --frames-dir frames -o box.gif
              convpool animate photo.jpg --size 6 --at 120,200 -k laplacian -o crop.gif
            """))
    p.add_argument("input", nargs="?", metavar="INPUT",
                   help="picture or .npy/.npz to crop (default: a 5x5 "
                        "example)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.gif",
                   help="the animation to write")
    p.add_argument("-k", "--kernel", default="vertical_edge", metavar="KERNEL",
                   help="2-D kernel: a name, .npy/.npz file or literal "
                        "(default vertical_edge, the spec's [[1,0,-1]] * 3)")
    p.add_argument("--kernel-key", metavar="NAME",
                   help="which array of an .npz KERNEL file (default: its "
                        "only array)")
    p.add_argument("--padding", type=padding_arg, default="same",
                   help=PADDING_HELP + " (default same)")
    p.add_argument("--stride", type=positive_pair, default=(1, 1),
                   metavar="S", help="S or SH,SW (default 1)")
    p.add_argument("--size", type=int, default=5, metavar="N",
                   help=f"side of the crop of INPUT, 2-{MAX_SIZE} (default 5)")
    p.add_argument("--at", type=corner, metavar="Y,X",
                   help="top-left corner of the crop (default: centred)")
    p.add_argument("--key", metavar="NAME", help="array of an .npz INPUT")
    p.add_argument("--index", type=int, default=0, metavar="I",
                   help="which picture of a batch INPUT (default 0)")
    p.add_argument("--frames-dir", metavar="DIR",
                   help="also write every frame as DIR/frame_NNN.png")
    p.add_argument("--duration", type=int, default=900, metavar="MS",
                   help="milliseconds per frame (default 900)")
    p.add_argument("--force", action="store_true",
                   help="allow OUT.gif to overwrite an input file")
    p.set_defaults(func=run)


def fmt(value):
    """A number as short text: integers plainly, others to 3 digits.

    >>> fmt(7.0), fmt(-1.0), fmt(0.0751), fmt(2.345678)
    ('7', '-1', '0.0751', '2.35')
    """
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}"


def product_sum(weights, values):
    """The sum written out, one kernel row per line.

    >>> product_sum(np.array([[1, -1]]), np.array([[3, 2]]))
    ['1×3 + (-1)×2']
    """
    lines = []
    for wrow, vrow in zip(weights, values):
        terms = [f"({fmt(w)})" if w < 0 else fmt(w) for w in wrow]
        lines.append(" + ".join(f"{t}×{fmt(v)}" for t, v in zip(terms, vrow)))
    return lines


def _grid_from_input(args):
    source = read_input(args.input, args.key)
    if not 0 <= args.index < len(source.data):
        raise UserError(
            f"argument --index: {args.input!r} holds {len(source.data)} "
            f"pictures, got {args.index}")
    picture = source.data[args.index].astype(np.float64)
    if picture.shape[2] >= 3:
        picture = picture[:, :, :3] @ np.array([0.299, 0.587, 0.114])
        if source.data.dtype.kind in "biu":
            picture = np.rint(picture)
    else:
        picture = picture[:, :, 0]
    h, w = picture.shape
    sh, sw = min(args.size, h), min(args.size, w)
    top, left = args.at if args.at else ((h - sh) // 2, (w - sw) // 2)
    if top < 0 or left < 0 or top + sh > h or left + sw > w:
        raise UserError(
            f"argument --at: a {sh}x{sw} crop at {top},{left} does not fit "
            f"in the {h}x{w} picture")
    return picture[top:top + sh, left:left + sw]


def _fonts():
    from PIL import ImageFont
    try:
        import matplotlib
        folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")

        def font(size, mono=False):
            name = "DejaVuSansMono.ttf" if mono else "DejaVuSans.ttf"
            return ImageFont.truetype(os.path.join(folder, name), size)
        font(10)
    except (ImportError, OSError):
        def font(size, mono=False):
            try:
                return ImageFont.load_default(size)
            except TypeError:  # Pillow < 10.1: one bitmap size only
                return ImageFont.load_default()
    return font


class _Scene:
    """Geometry and drawing of one animation; ``frame(i, j)`` draws a step."""

    def __init__(self, grid, kernel, pads, stride, out):
        self.grid, self.kernel, self.out = grid, kernel, out
        self.pads, self.stride = pads, stride
        self.padded = np.pad(grid, pads)
        ph, pw = self.padded.shape
        kh, kw = kernel.shape
        oh, ow = out.shape
        self.cell = max(30, min(56, 460 // max(ph, pw)))
        font = _fonts()
        c = self.cell
        self.title_font = font(17)
        self.label_font = font(15)
        self.eq_font = font(17, mono=True)
        self.fonts = {
            grid_id: self._fit(font, _longest(values), c - 8, c // 2.6)
            for grid_id, values in (("in", self.padded), ("k", kernel),
                                    ("out", out))}
        # The window's weights go in the cells' corners if they fit.
        self.weight_font = self._fit(font, _longest(kernel, "×"), c - 6,
                                     c // 4)
        self.show_weights = getattr(self.weight_font, "size", 0) >= 9
        lo, hi = float(grid.min()), float(grid.max())
        self.tint = (lambda v: 0.0) if hi == lo else (
            lambda v: (v - lo) / (hi - lo))
        # Horizontal layout: input, "*", kernel, "=", output.
        m, gap = 24, 46
        self.x_in = m
        self.x_k = self.x_in + pw * c + gap
        self.x_out = self.x_k + kw * c + gap
        self.y_grid = 92
        eq_lines = kh + 1
        self.y_eq = self.y_grid + max(ph, kh, oh) * c + 28
        widest = max(
            self.eq_font.getlength(f"output[{i}, {j}] = " + line)
            for i, j in np.ndindex(oh, ow)
            for line in product_sum(kernel, self._window(i, j)))
        width = max(self.x_out + ow * c + m, int(widest) + 2 * m, 660)
        height = self.y_eq + eq_lines * 24 + m
        self.size = (int(width), int(height))

    def _window(self, i, j):
        """The padded input under the kernel for output ``(i, j)``."""
        (sh, sw), (kh, kw) = self.stride, self.kernel.shape
        return self.padded[i * sh:i * sh + kh, j * sw:j * sw + kw]

    @staticmethod
    def _fit(font, text, width, size):
        size = int(size)
        while size > 8 and font(size).getlength(text) > width:
            size -= 1
        return font(size)

    def _cell(self, draw, x0, y0, r, c, fill, text, grid_id, ink=INK,
              raise_text=False):
        s = self.cell
        box = (x0 + c * s, y0 + r * s, x0 + (c + 1) * s, y0 + (r + 1) * s)
        draw.rectangle(box, fill=fill, outline=GRID_LINE)
        if text:
            y = box[1] + s * (0.38 if raise_text else 0.5)
            draw.text(((box[0] + box[2]) / 2, y), text, fill=ink,
                      font=self.fonts[grid_id], anchor="mm")
        return box

    def frame(self, i, j):
        """The picture for output position ``(i, j)`` (row-major order)."""
        from PIL import Image, ImageDraw
        img = Image.new("RGB", self.size, BACKGROUND)
        draw = ImageDraw.Draw(img)
        s, (sh, sw) = self.cell, self.stride
        kh, kw = self.kernel.shape
        oh, ow = self.out.shape
        (top, bottom), (left, right) = self.pads
        h, w = self.grid.shape
        r0, c0 = i * sh, j * sw
        step = i * ow + j + 1
        padding = (f"with zero padding (blue): top {top}, bottom {bottom}, "
                   f"left {left}, right {right}" if any(map(any, self.pads))
                   else "without padding")
        draw.text((self.x_in, 14), f"input {h}×{w} {padding}", fill=INK,
                  font=self.title_font)
        draw.text((self.x_in, 40),
                  f"kernel {kh}×{kw}, stride ({sh}, {sw}) → output "
                  f"{oh}×{ow}", fill=INK, font=self.title_font)
        draw.text((self.size[0] - 24, 40), f"step {step} of {oh * ow}",
                  fill=WINDOW, font=self.title_font, anchor="ra")
        y = self.y_grid
        shown = "input (padded)" if any(map(any, self.pads)) else "input"
        for x, label in ((self.x_in, shown), (self.x_k, "kernel"),
                         (self.x_out, "output")):
            draw.text((x, y - 24), label, fill=INK, font=self.label_font)
        # Input with padding; the window cells tinted and their weights shown.
        for r in range(self.padded.shape[0]):
            for c in range(self.padded.shape[1]):
                pad = not (top <= r < top + h and left <= c < left + w)
                inside = r0 <= r < r0 + kh and c0 <= c < c0 + kw
                v = self.padded[r, c]
                if pad:
                    fill, ink = PAD_FILL, PAD_TEXT
                else:
                    g = int(185 + 70 * self.tint(v))
                    fill, ink = (g, g, g), INK
                if inside:
                    fill = _blend(fill, WINDOW, 0.35)
                weight = inside and self.show_weights
                box = self._cell(draw, self.x_in, y, r, c, fill, fmt(v), "in",
                                 ink, raise_text=weight)
                if weight:
                    draw.text((box[2] - 3, box[3] - 2),
                              "×" + fmt(self.kernel[r - r0, c - c0]),
                              fill=(150, 30, 0), font=self.weight_font,
                              anchor="rd")
        _outline(draw, self.x_in + c0 * s, y + r0 * s, kw * s, kh * s)
        # Kernel.
        for r in range(kh):
            for c in range(kw):
                self._cell(draw, self.x_k, y, r, c,
                           _blend(BACKGROUND, WINDOW, 0.2),
                           fmt(self.kernel[r, c]), "k")
        _outline(draw, self.x_k, y, kw * s, kh * s)
        # Output, filled up to the current position.
        for r in range(oh):
            for c in range(ow):
                done = r * ow + c < step
                current = (r, c) == (i, j)
                fill = (_blend(BACKGROUND, WINDOW, 0.35) if current
                        else BACKGROUND if done else EMPTY)
                self._cell(draw, self.x_out, y, r, c, fill,
                           fmt(self.out[r, c]) if done else "", "out")
        _outline(draw, self.x_out + j * s, y + i * s, s, s)
        mid = y + max(kh, 1) * s / 2
        for x, sign in ((self.x_k - 23, "∗"), (self.x_out - 23, "=")):
            draw.text((x, mid), sign, fill=INK, font=self.title_font,
                      anchor="mm")
        # The product-sum, one kernel row per line.
        values = self._window(i, j)
        head = f"output[{i}, {j}] = "
        lines = product_sum(self.kernel, values)
        lines = [head + lines[0]] + [" " * (len(head) - 2) + "+ " + line
                                     for line in lines[1:]]
        lines.append(" " * (len(head) - 2) + "= " + fmt(self.out[i, j]))
        for n, line in enumerate(lines):
            draw.text((self.x_in, self.y_eq + 24 * n), line,
                      fill=WINDOW if n == len(lines) - 1 else INK,
                      font=self.eq_font)
        return img


def _longest(values, prefix=""):
    return max((prefix + fmt(v) for v in values.ravel()), key=len)


def _blend(a, b, t):
    return tuple(int(round((1 - t) * x + t * y)) for x, y in zip(a, b))


def _outline(draw, x, y, w, h):
    draw.rectangle((x - 1, y - 1, x + w + 1, y + h + 1), outline=WINDOW,
                   width=4)


def run(args):
    """``convpool animate``."""
    require_plot()
    if not args.output.lower().endswith(".gif"):
        raise UserError(
            f"argument -o/--output: {args.output!r} must end in .gif")
    if not 2 <= args.size <= MAX_SIZE:
        raise UserError(
            f"argument --size: must be between 2 and {MAX_SIZE}, got "
            f"{args.size}")
    if args.duration < 20:
        raise UserError(
            f"argument --duration: must be >= 20 ms, got {args.duration}")
    kernel, kernel_path = parse_kernel(args.kernel, key=args.kernel_key)
    if kernel.ndim != 2:
        raise UserError(
            f"argument -k/--kernel: animate draws one 2-D kernel, got shape "
            f"{kernel.shape}")
    check_output(args.output, [args.input, kernel_path], args.force)
    grid = DEFAULT_GRID if args.input is None else _grid_from_input(args)
    with library_errors():
        stride = pair(args.stride, "stride")
        pads = resolve_padding(args.padding, grid.shape, kernel.shape, stride)
    check_window(kernel.shape, grid.shape, pads, args.padding, "-k/--kernel",
                 f"kernel {args.kernel!r}")
    with library_errors():
        out = conv2d(grid[None, :, :, None], kernel[:, :, None, None],
                     stride=stride, padding=pads)[0, :, :, 0]
    if out.size > MAX_FRAMES:
        raise UserError(
            f"{out.size} output positions is too many frames to draw; use a "
            f"smaller --size or a larger --stride")
    if args.frames_dir:
        make_folder(args.frames_dir, "--frames-dir")
    scene = _Scene(grid, kernel, pads, stride, out)
    frames = [scene.frame(i, j) for i in range(out.shape[0])
              for j in range(out.shape[1])]
    durations = [args.duration] * (len(frames) - 1) + [3 * args.duration]
    with writing(args.output):
        frames[0].save(args.output, save_all=True, append_images=frames[1:],
                       duration=durations, loop=0)
    if args.frames_dir:
        for n, frame in enumerate(frames):
            path = os.path.join(args.frames_dir, f"frame_{n:03d}.png")
            with writing(path, "--frames-dir"):
                frame.save(path)
    print(f"{grid.shape} * {kernel.shape} -> {out.shape}: {len(frames)} "
          f"frames  wrote {args.output}")
    return 0
