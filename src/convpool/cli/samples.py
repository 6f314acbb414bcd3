"""The sample picture: matplotlib's photograph, so nothing is downloaded."""

import numpy as np

from .errors import UserError, require_plot


def sample_photo():
    """matplotlib's Grace Hopper photo at half size: (grey, colour) batches.

    Returns a (1, 300, 256) float64 grey batch in [0, 1] and a
    (1, 300, 256, 3) uint8 colour batch.
    """
    require_plot()
    import matplotlib.cbook
    from PIL import Image
    try:
        path = matplotlib.cbook.get_sample_data("grace_hopper.jpg",
                                                asfileobj=False)
        with Image.open(path) as im:
            rgb = im.convert("RGB").reduce(2)
    except OSError as exc:
        raise UserError(
            f"matplotlib's sample photo grace_hopper.jpg is missing ({exc}); "
            f"pass --mnist and --animals") from None
    color = np.asarray(rgb)[None]
    gray = np.asarray(rgb.convert("L"), dtype=np.float64)[None] / 255.0
    return gray, color
