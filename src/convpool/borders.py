"""Names of border (padding) modes, and their aliases from other libraries.

convpool's canonical names are NumPy's :func:`numpy.pad` modes.  SciPy
(``scipy.ndimage`` ``mode=``), OpenCV (``cv2.BORDER_*``) and PyTorch
(``padding_mode=``) name the same borders differently, and two of them use
the same word for different borders:

- ``constant`` (``00|abcd|00``): SciPy ``constant``/``grid-constant``,
  OpenCV ``BORDER_CONSTANT``, PyTorch ``zeros``.
- ``reflect`` (``cb|abcd|cb``): SciPy ``mirror``, OpenCV
  ``BORDER_REFLECT_101`` (``BORDER_DEFAULT``), PyTorch ``reflect``.
- ``symmetric`` (``ba|abcd|dc``): SciPy ``reflect``/``grid-mirror``, OpenCV
  ``BORDER_REFLECT``; PyTorch has none.
- ``edge`` (``aa|abcd|dd``): SciPy ``nearest``, OpenCV
  ``BORDER_REPLICATE``, PyTorch ``replicate``.
- ``wrap`` (``cd|abcd|ab``): SciPy ``grid-wrap``, OpenCV ``BORDER_WRAP``,
  PyTorch ``circular``.

The word ``reflect`` keeps NumPy's (and PyTorch's) meaning: the edge cell is
not repeated, which SciPy calls ``mirror``.  SciPy's own ``reflect`` (the
edge cell repeated) is convpool's ``symmetric``; pass ``grid-mirror`` or
``symmetric`` for it.  ``wrap`` is periodic, as in NumPy and in SciPy's
filters.
"""

__all__ = ["PAD_MODES", "ALIASES", "resolve_pad_mode"]

PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")

# alias -> canonical NumPy name.  'reflect' is not here: it is canonical.
ALIASES = {
    # PyTorch padding_mode
    "zeros": "constant",
    "replicate": "edge",
    "circular": "wrap",
    # SciPy ndimage mode
    "grid-constant": "constant",
    "mirror": "reflect",
    "grid-mirror": "symmetric",
    "nearest": "edge",
    "grid-wrap": "wrap",
    # OpenCV cv2.BORDER_* (without the prefix, any case)
    "border_constant": "constant",
    "border_reflect_101": "reflect",
    "border_reflect101": "reflect",
    "border_default": "reflect",
    "border_reflect": "symmetric",
    "border_replicate": "edge",
    "border_wrap": "wrap",
}


def _normalise(word):
    word = word.strip().lower().replace("_", "-")
    return word.replace("-", "_") if word.startswith("border") else word


def resolve_pad_mode(value, name="pad_mode"):
    """The NumPy pad mode that ``value`` names, accepting documented aliases.

    Parameters
    ----------
    value : str
        A NumPy name (``'constant'``, ``'reflect'``, ``'symmetric'``,
        ``'edge'``, ``'wrap'``) or an alias from SciPy (``'mirror'``,
        ``'grid-mirror'``, ``'nearest'``, ``'grid-wrap'``,
        ``'grid-constant'``), PyTorch (``'zeros'``, ``'replicate'``,
        ``'circular'``) or OpenCV (``'BORDER_REFLECT_101'`` ...).
        Case-insensitive; ``_`` and ``-`` are interchangeable.
    name : str, optional
        The argument's name for error messages.

    Returns
    -------
    str
        One of :data:`PAD_MODES`.

    Raises
    ------
    ValueError
        For any other value; the message lists the accepted names.

    Examples
    --------
    >>> resolve_pad_mode("mirror"), resolve_pad_mode("replicate")
    ('reflect', 'edge')
    >>> resolve_pad_mode("BORDER_REFLECT"), resolve_pad_mode("reflect")
    ('symmetric', 'reflect')
    >>> resolve_pad_mode("bounce")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `pad_mode` must be one of 'constant', 'reflect', ...
    """
    if isinstance(value, str):
        word = _normalise(value)
        if word in PAD_MODES:
            return word
        if word in ALIASES:
            return ALIASES[word]
    raise ValueError(
        f"`{name}` must be one of {', '.join(map(repr, PAD_MODES))} or an "
        f"alias ({', '.join(map(repr, ALIASES))}), got {value!r}")
