"""Pictures made of pictures: batch grids, and matplotlib sheets of panels.

A panel is ``(pixels, caption)`` with ``pixels`` an 8-bit (H, W), (H, W, 1)
or (H, W, 3) array already scaled by :mod:`convpool.cli.scaling`, so every
picture the command writes follows the same documented scaling.  Figures use
the Agg canvas (no pyplot, no global state).
"""

import numpy as np

from .errors import require_plot, writing

# Batch grids: small tiles are enlarged (nearest neighbour, whole factors)
# until their longer side reaches TILE_TARGET pixels, while the grid stays
# within GRID_LIMIT pixels a side.
TILE_TARGET = 112
GRID_LIMIT = 2048


def upscale_factor(h, w, cols, rows, gap=2):
    """Whole factor that makes (h, w) tiles readable in a cols x rows grid.

    >>> upscale_factor(28, 28, 6, 6), upscale_factor(300, 256, 2, 2)
    (4, 1)
    """
    want = -(-TILE_TARGET // max(h, w))
    room = min((GRID_LIMIT - gap * (cols - 1)) // (cols * w),
               (GRID_LIMIT - gap * (rows - 1)) // (rows * h))
    return max(1, min(want, room))


def tile(images, gap=2, fill=255, upscale=True):
    """Lay 8-bit pictures (n, H, W, C) out in a near-square grid.

    With ``upscale`` small pictures are enlarged by :func:`upscale_factor`
    (each pixel becomes a square block; no smoothing, no new values).
    """
    n, h, w, c = images.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    if upscale:
        f = upscale_factor(h, w, cols, rows, gap)
        images = images.repeat(f, axis=1).repeat(f, axis=2)
        h, w = h * f, w * f
    sheet = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, c),
                    fill, dtype=np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        sheet[r * (h + gap):r * (h + gap) + h,
              q * (w + gap):q * (w + gap) + w] = img
    return sheet


def _figure(width, height):
    require_plot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _draw(ax, pixels, caption, fontsize=9):
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        ax.imshow(pixels, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
    else:
        ax.imshow(pixels, interpolation="nearest")
    ax.set_title(caption, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])


def _save(fig, path, option):
    with writing(path, option):
        fig.savefig(path)


def save_panels(path, panels, title, panel_size=3.0, option="--out"):
    """One row of panels under a title, saved to ``path``."""
    fig = _figure(panel_size * len(panels), panel_size + 0.7)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (pixels, caption) in zip(axes, panels):
        _draw(ax, pixels, caption)
    fig.suptitle(title, fontsize=10)
    _save(fig, path, option)


def pack(cards, slots):
    """Rows of cards, each row at most ``slots`` panels wide.

    A card is ``(title, panels)``.  Each card goes into the first row with
    room for it (first fit), so short cards fill the gaps long ones leave.

    >>> cards = [(t, [None] * n) for t, n in zip("abcdefg", [2] * 5 + [4, 2])]
    >>> [[t for t, _ in row] for row in pack(cards, 4)]
    [['a', 'b'], ['c', 'd'], ['e', 'g'], ['f']]
    """
    rows = []
    for card in cards:
        width = len(card[1])
        for row in rows:
            if sum(len(p) for _, p in row) + width <= slots:
                row.append(card)
                break
        else:
            rows.append([card])
    return rows


def save_sheet(path, cards, title, slots=4, panel_size=2.3,
               option="--out"):
    """Cards of panels packed into rows :func:`pack` lays out, under a title.

    Each card's title sits over its own panels, on one line; a card with
    ``None`` as title shows only its panels' captions.
    """
    rows = pack(cards, slots)
    titled = any(t for t, _ in cards)
    row_height = panel_size + (0.75 if titled else 0.35)
    fig = _figure(panel_size * slots, row_height * len(rows) + 0.6)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    row_figs = fig.subfigures(len(rows), 1, squeeze=False)[:, 0]
    for row_fig, row in zip(row_figs, rows):
        widths = [len(panels) for _, panels in row]
        if sum(widths) < slots:
            widths.append(slots - sum(widths))
        card_figs = row_fig.subfigures(1, len(widths), width_ratios=widths,
                                       squeeze=False)[0]
        for card_fig, (card_title, panels) in zip(card_figs, row):
            if card_title:
                card_fig.suptitle(card_title, fontsize=10, fontweight="bold")
            axes = card_fig.subplots(1, len(panels), squeeze=False)[0]
            for ax, (pixels, caption) in zip(axes, panels):
                _draw(ax, pixels, caption, fontsize=8)
    _save(fig, path, option)


def save_gallery(path, panels, title, cols=5, panel_size=2.4,
                 option="--gallery"):
    """Panels in a grid, left to right, top to bottom."""
    save_sheet(path, [(None, [panel]) for panel in panels], title, cols,
               panel_size, option)
