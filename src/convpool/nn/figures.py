"""The pictures ``convpool train`` draws (matplotlib, imported when used).

Each function takes what training produced and a path, and writes one
PNG at 100 dpi through matplotlib's Agg canvas (no pyplot, no global
state).
"""

import numpy as np


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def curves(history, path):
    """Loss and accuracy per epoch, training and validation (1000x400)."""
    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = history["epoch"]
    for ax, key, title in ((ax_loss, "loss", "cross-entropy loss"),
                           (ax_acc, "accuracy", "accuracy")):
        ax.plot(epochs, history[key], "o-", label="training")
        ax.plot(epochs, history["val_" + key], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_yscale("log")
    best = max(history["val_accuracy"])
    ax_acc.set_title(f"accuracy (best validation {best:.1%})")
    fig.savefig(path)


def filters(kernel, path):
    """The first layer's kernels ``(KH, KW, 1, F)``, one panel each, on one
    colour scale: red positive, blue negative, white zero."""
    count = kernel.shape[-1]
    fig = _figure(1.6 * count + 0.8, 2.2)
    axes = fig.subplots(1, count, squeeze=False)[0]
    limit = float(np.abs(kernel).max()) or 1.0
    for f, ax in enumerate(axes):
        image = ax.imshow(kernel[:, :, 0, f], cmap="RdBu_r", vmin=-limit,
                          vmax=limit, interpolation="nearest")
        ax.set_title(f"filter {f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes), shrink=0.8)
    fig.suptitle("first convolution's learned 5x5 kernels", fontsize=10)
    fig.savefig(path)


def tile_channels(out, columns=16):
    """``(H, W, C)`` to one strip of its first ``columns`` channels, each
    scaled to [0, 1] on its own, with a NaN column between them.

    >>> tile_channels(np.ones((2, 2, 3))).shape
    (2, 8)
    """
    h, w, c = out.shape
    c = min(c, columns)
    strip = np.full((h, c * (w + 1) - 1), np.nan)
    for k in range(c):
        plane = out[:, :, k].astype(np.float64)
        span = plane.max() - plane.min()
        strip[:, k * (w + 1):k * (w + 1) + w] = (
            (plane - plane.min()) / span if span else 0.0)
    return strip


def feature_maps(maps, probabilities, label, path, columns=16):
    """One digit through every layer: a row per layer (channels side by
    side, each on its own grey scale; at most ``columns``), dense outputs
    as one coloured strip, and the predicted probabilities last."""
    from matplotlib import colormaps
    gray = colormaps["gray"].with_extremes(bad="white")
    rows = [(name, out) for name, out in maps if name != "Flatten"]
    fig = _figure(12, 0.8 * len(rows) + 1.4)
    axes = fig.subplots(len(rows) + 1, 1)
    for ax, (name, out) in zip(axes, rows):
        if out.ndim == 3:
            ax.imshow(tile_channels(out, columns), cmap=gray,
                      interpolation="nearest")
            ax.set_anchor("W")
        else:
            ax.imshow(out[None, :], cmap="viridis", aspect="auto",
                      interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{name} {tuple(out.shape)}", fontsize=8, loc="left")
    ax = axes[-1]
    ax.bar(np.arange(len(probabilities)), probabilities)
    ax.set_xticks(np.arange(len(probabilities)))
    ax.set_ylim(0, 1)
    ax.set_title(f"softmax: predicted {int(np.argmax(probabilities))}, "
                 f"true {label}", fontsize=8, loc="left")
    fig.savefig(path)


def confusion(counts, path, title):
    """The confusion matrix: true class down, predicted across."""
    classes = len(counts)
    size = max(4.0, 0.45 * classes + 1.5)
    fig = _figure(size + 0.8, size)
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    for (t, p), n in np.ndenumerate(counts):
        if n and classes <= 20:
            ax.text(p, t, str(n), ha="center", va="center", fontsize=8,
                    color="white" if n > counts.max() / 2 else "black")
    ticks = np.arange(classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(path)
