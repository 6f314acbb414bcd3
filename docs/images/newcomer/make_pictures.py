"""Draw the before/after pictures of issue 11 (items 1-4, 11, 12).

Run once with the old code and once with the new, e.g.::

    cd docs/images/newcomer
    PYTHONPATH=/path/to/old/src python make_pictures.py before
    PYTHONPATH=../../../src python make_pictures.py after

Every input is made here (no downloads); the photo is matplotlib's sample.
"""

import os
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

from convpool.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))


def gradient(h=24, w=24):
    y, x = np.mgrid[0:h, 0:w]
    return (x + y) / (h + w - 2.0)


def digits(n=36, size=28):
    """``n`` grey 28x28 tiles with a digit drawn in each, floats in [0, 1]."""
    tiles = np.zeros((n, size, size))
    for i in range(n):
        im = Image.new("L", (size, size), 0)
        ImageDraw.Draw(im).text((7, 2), str(i % 10), fill=255,
                                font_size=22)
        tiles[i] = np.asarray(im) / 255.0
    return tiles


def run(*argv):
    status = main([str(a) for a in argv])
    assert status == 0, argv


def photo_path(tmp):
    import matplotlib.cbook
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg",
                                            asfileobj=False)
    with Image.open(path) as im:
        small = im.convert("RGB").reduce(2)
    out = os.path.join(tmp, "photo.png")
    small.save(out)
    return out


def main_(when):
    def out(name):
        return os.path.join(HERE, f"{name}_{when}.png")
    with tempfile.TemporaryDirectory() as tmp:
        x = gradient()
        x[5, 7] = np.inf
        np.save(os.path.join(tmp, "inf.npy"), x)
        run("filter", os.path.join(tmp, "inf.npy"), "-k", "identity",
            "-o", out("item1_inf"))
        x = gradient()
        x[5:8, 7:10] = np.nan
        np.save(os.path.join(tmp, "nan.npy"), x)
        run("filter", os.path.join(tmp, "nan.npy"), "-k", "identity",
            "-o", out("item2_nan"))
        np.save(os.path.join(tmp, "three.npy"), 3 * gradient())
        run("filter", os.path.join(tmp, "three.npy"), "-k", "identity",
            "--scale", "clip", "-o", out("item3_clip_0_to_3"))
        photo = photo_path(tmp)
        run("filter", photo, "-k", "laplacian", "-o", out("item4_laplacian"))
        np.save(os.path.join(tmp, "digits.npy"), digits())
        run("filter", os.path.join(tmp, "digits.npy"), "-k", "identity",
            "-o", out("item11_grid"))
        demo = os.path.join(tmp, "demo")
        run("demo", "--out", demo)
        for name in ("task4_channels.png", "contact_sheet.png"):
            with Image.open(os.path.join(demo, name)) as im:
                im.save(out("item4_demo_" + name[:-4]
                            if name.startswith("task4")
                            else "item12_contact_sheet"))


if __name__ == "__main__":
    main_(sys.argv[1])
