"""matplotlib figures (Agg; no pyplot, no global state): panels side by side.

A panel is ``(pixels, caption)`` with ``pixels`` an 8-bit (H, W), (H, W, 1)
or (H, W, 3) array already scaled by :func:`convpool.cli._io.to_uint8`, so
every picture the command writes follows the same documented scaling.
"""

from ._common import require_plot, writing


def _figure(width, height):
    require_plot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _draw(ax, pixels, caption):
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        ax.imshow(pixels, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
    else:
        ax.imshow(pixels, interpolation="nearest")
    ax.set_title(caption, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _save(fig, path, option):
    fig.tight_layout()
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


def save_grid(path, rows, title, panel_size=2.2, row_labels=None,
              option="--out"):
    """A sheet with one row of panels per entry of ``rows``."""
    cols = max(len(r) for r in rows)
    fig = _figure(panel_size * cols + (1.4 if row_labels else 0),
                  panel_size * len(rows) + 0.6)
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for i, row in enumerate(rows):
        for j in range(cols):
            if j < len(row):
                _draw(axes[i, j], *row[j])
            else:
                axes[i, j].axis("off")
        if row_labels:
            axes[i, 0].set_ylabel(row_labels[i], fontsize=9, rotation=0,
                                  ha="right", va="center", labelpad=8)
    fig.suptitle(title, fontsize=11)
    _save(fig, path, option)


def save_gallery(path, panels, title, cols=5, panel_size=2.4,
                 option="--gallery"):
    """Panels in a grid, left to right, top to bottom."""
    rows = [panels[i:i + cols] for i in range(0, len(panels), cols)]
    save_grid(path, rows, title, panel_size, option=option)
