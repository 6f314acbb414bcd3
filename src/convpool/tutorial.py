"""The from-scratch tutorial's functions, as thin adapters over convpool.

Names, argument orders and layouts are the tutorial's ("Convolution and
maxpool from scratch using numpy"); the work is done by :func:`convpool.conv2d`
and :func:`convpool.pool2d`.  Two of the tutorial's own functions disagree
with its text; these follow the text: the 3-D convolution sums over channels
into one output map, and max pooling returns the window maxima (the
original read from its zero-filled output and always returned zeros).
"""

import contextlib

import numpy as np

from . import _validate as v
from .conv import conv2d
from .geometry import pair
from .pool import pool2d

__all__ = ["conv_step", "convolution_operation_2D_Image",
           "convolution_operation_3D_Image",
           "convolution_operation_batch_3D_images", "max_pool_batch_3D_images"]


def conv_step(image_patch, kernel):
    """One convolution step: the sum of the elementwise product.

    >>> conv_step(np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, -1]]))
    -3.0
    >>> conv_step(np.array([[200]], np.uint8), np.array([[200]], np.uint8))
    40000.0
    """
    patch = v.numeric_array(image_patch, "image_patch")
    kernel = v.numeric_array(kernel, "kernel")
    if patch.shape != kernel.shape:
        raise ValueError(
            f"`image_patch` and `kernel` must have the same shape, got "
            f"{patch.shape} and {kernel.shape}")
    products = np.multiply(patch, kernel, dtype=v.compute_dtype(patch, kernel))
    return products.sum().item()


def convolution_operation_2D_Image(input_image, kernel, stride, pad):
    """Convolve one 2-D image (H, W) with a 2-D kernel (KH, KW).

    ``stride`` and ``pad`` are ints; the image gets ``pad`` zeros on every
    side.  Returns (OH, OW) with ``OH = (H - KH + 2 * pad) // stride + 1``.

    >>> convolution_operation_2D_Image(np.ones((4, 4)), np.ones((3, 3)), 1, 1)
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]])
    """
    image = v.numeric_array(input_image, "input_image")
    kernel = v.numeric_array(kernel, "kernel")
    v.check_ndim(image, 2, "input_image", "(H, W)")
    v.check_ndim(kernel, 2, "kernel", "(KH, KW)")
    with _named(x="input_image"):
        return conv2d(image[None, :, :, None], kernel[:, :, None, None],
                      stride=stride, padding=_pad(pad))[0, :, :, 0]


def convolution_operation_3D_Image(input_image, kernel, stride, pad):
    """Convolve one (H, W, C) image with one (KH, KW, C) kernel.

    The channels are summed into a single output map of shape (OH, OW).

    >>> image, kernel = np.ones((3, 3, 3)), np.ones((2, 2, 3))
    >>> convolution_operation_3D_Image(image, kernel, 1, 0)
    array([[12., 12.],
           [12., 12.]])
    """
    image = v.numeric_array(input_image, "input_image")
    kernel = v.numeric_array(kernel, "kernel")
    v.check_ndim(image, 3, "input_image", "(H, W, C)")
    v.check_ndim(kernel, 3, "kernel", "(KH, KW, C)")
    _check_channels(kernel.shape[2], image.shape[2], "input_image",
                    "(KH, KW, C)", "(H, W, C)")
    with _named(x="input_image"):
        return conv2d(image[None], kernel[..., None], stride=stride,
                      padding=_pad(pad))[0, :, :, 0]


def convolution_operation_batch_3D_images(input_images_batch, kernel, stride,
                                          pad):
    """Convolve a batch (B, H, W, C) with kernels (filters, KH, KW, C).

    Returns (B, OH, OW, filters), as Keras ``Conv2D`` does.

    >>> convolution_operation_batch_3D_images(
    ...     np.ones((4, 9, 9, 3)), np.ones((8, 5, 5, 3)), 1, 2).shape
    (4, 9, 9, 8)
    """
    batch = v.numeric_array(input_images_batch, "input_images_batch")
    kernel = v.numeric_array(kernel, "kernel")
    v.check_ndim(batch, 4, "input_images_batch", "(B, H, W, C)")
    v.check_ndim(kernel, 4, "kernel", "(filters, KH, KW, C)")
    _check_channels(kernel.shape[3], batch.shape[3], "input_images_batch",
                    "(filters, KH, KW, C)", "(B, H, W, C)")
    with _named(x="input_images_batch"):
        return conv2d(batch, kernel, stride=stride, padding=_pad(pad),
                      kernel_format="OHWI")


def max_pool_batch_3D_images(input_images_batch, filter_size, stride):
    """Max pool a batch (B, H, W, C) with a square window, no padding.

    >>> batch = np.arange(16).reshape(1, 4, 4, 1)
    >>> max_pool_batch_3D_images(batch, 2, 2)[0, :, :, 0]
    array([[ 5,  7],
           [13, 15]])
    """
    batch = v.numeric_array(input_images_batch, "input_images_batch")
    v.check_ndim(batch, 4, "input_images_batch", "(B, H, W, C)")
    window = pair(filter_size, "filter_size")
    with _named(x="input_images_batch", window="filter_size"):
        return pool2d(batch, window, stride=stride, mode="max")


@contextlib.contextmanager
def _named(**names):
    """Re-raise the core's errors in the tutorial's argument names
    (``kernel`` for ``kernels``, ``pad`` for ``padding``, and ``names``)."""
    names = {"kernels": "kernel", "padding": "pad", **names}
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for core, ours in names.items():
            message = message.replace(f"`{core}`", f"`{ours}`")
        raise type(exc)(message) from None


def _check_channels(kernel_c, image_c, image_name, kernel_layout,
                    image_layout):
    if kernel_c != image_c:
        raise ValueError(
            f"`kernel` {kernel_layout} must have C = {image_c} channels to "
            f"match `{image_name}` {image_layout}, got {kernel_c}")


def _pad(pad):
    # The tutorial's ``pad`` is zeros on every side: checked under its name.
    ph, pw = pair(pad, "pad", minimum=0)
    return ((ph, ph), (pw, pw))
