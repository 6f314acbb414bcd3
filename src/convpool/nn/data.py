"""Data sets for training: scikit-learn's digits, or the course's MNIST.

Images come out channels-last ``(N, H, W, 1)`` float32 in [0, 1] and
labels as int64 ``(N,)``.  Nothing is downloaded.
"""

import numpy as np

DIGITS_SCALE = 2          # 8x8 digits -> 16x16, each pixel a 2x2 block


def digits(seed=0, valid_fraction=0.2):
    """scikit-learn's 1,797 handwritten 8x8 digits, split from ``seed``.

    Each digit is resized to 16x16 by repeating every pixel as a 2x2 block
    (nearest neighbour), the smallest size LeNet-5's two 5x5 convolutions
    and two 2x2 poolings accept with a 2x2 map left.  Pixels 0-16 are
    scaled to [0, 1].

    Returns
    -------
    dict
        ``X_train, Y_train, X_valid, Y_valid``: 80% and 20% of the digits,
        shuffled by ``np.random.default_rng(seed)``.
    """
    from sklearn.datasets import load_digits       # the `train` extra
    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16
    images = images.repeat(DIGITS_SCALE, axis=1).repeat(DIGITS_SCALE, axis=2)
    order = np.random.default_rng(seed).permutation(len(images))
    cut = len(images) - int(round(valid_fraction * len(images)))
    train, valid = order[:cut], order[cut:]
    x, y = images[..., None], bunch.target.astype(np.int64)
    return {"X_train": x[train], "Y_train": y[train],
            "X_valid": x[valid], "Y_valid": y[valid]}


def as_images(x, name):
    """``(N, H, W)``, ``(N, H, W, 1)`` or square ``(N, H*W)`` to
    ``(N, H, W, 1)`` float32; values above 1 are taken as 0-255 pixels.

    >>> as_images(np.zeros((2, 16)), "X").shape
    (2, 4, 4, 1)
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must hold numbers, got dtype {x.dtype}")
    if x.ndim == 2 and round(np.sqrt(x.shape[1])) ** 2 == x.shape[1]:
        side = round(np.sqrt(x.shape[1]))
        x = x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"`{name}` must be (N, H, W), (N, H, W, 1) or "
                         f"(N, H*W) with a square H*W, got shape {x.shape}")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinite values")
    if x.size and x.max() > 1:
        x /= 255
    return x[..., None]


def as_labels(y, count, name, images_name):
    """Integer class labels ``(N,)`` (or one-hot ``(N, classes)``), one per
    image.

    >>> as_labels([[0, 1], [1, 0]], 2, "Y", "X").tolist()
    [1, 0]
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.size and np.all((y == 0) | (y == 1)) \
            and np.all(y.sum(axis=1) == 1):
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise ValueError(f"`{name}` must be (N,) class labels, got shape "
                         f"{y.shape}")
    if len(y) != count:
        raise ValueError(f"`{name}` has {len(y)} labels for {count} images "
                         f"in `{images_name}`")
    if y.dtype.kind not in "biuf" or (y.size and (
            np.any(y < 0) or np.any(y != np.round(y)))):
        raise ValueError(f"`{name}` must hold class numbers 0, 1, 2, ...")
    return y.astype(np.int64)


def mnist(path):
    """The course's ``MNIST.npz``: ``X_train, Y_train, X_valid, Y_valid``
    and, where present, ``X_test, Y_test``, checked and converted as
    :func:`as_images` and :func:`as_labels` say."""
    with np.load(path, allow_pickle=False) as archive:
        stored = set(archive.files)
        parts = ["train", "valid"] + (
            ["test"] if {"X_test", "Y_test"} <= stored else [])
        missing = [k for p in parts[:2] for k in (f"X_{p}", f"Y_{p}")
                   if k not in stored]
        if missing:
            raise ValueError(f"`{missing[0]}` is missing; the file's keys "
                             f"are {', '.join(sorted(stored)) or '(none)'}")
        data = {}
        for part in parts:
            x = as_images(_read(archive, f"X_{part}"), f"X_{part}")
            data[f"X_{part}"] = x
            data[f"Y_{part}"] = as_labels(_read(archive, f"Y_{part}"),
                                          len(x), f"Y_{part}", f"X_{part}")
    shapes = {data[f"X_{p}"].shape[1:] for p in parts}
    if len(shapes) != 1:
        raise ValueError(f"`X_train`, `X_valid` and `X_test` must have one "
                         f"image size, got {sorted(shapes)}")
    if len(data["X_train"]) == 0:
        raise ValueError("`X_train` holds no images")
    return data


def _read(archive, key):
    try:
        return archive[key]
    except ValueError:          # object arrays need pickle: never loaded
        raise ValueError(f"`{key}` holds Python objects (pickled data), "
                         f"which are never loaded") from None
