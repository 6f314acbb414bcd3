"""Tap geometry for the engines: re-exported from :mod:`convpool.windows`,
the one windowing module."""

from ..windows import axis_span, axis_taps, band_pads

__all__ = ["axis_span", "axis_taps", "band_pads"]
