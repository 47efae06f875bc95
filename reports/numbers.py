"""Numbers as the documents and the pages print them: a concentration (or any measured value)
to 3 significant digits, no exponent above 0.001, ``-`` for none (``fmt_number``). The PDF
documents (``reports.pdf.tables``) and the laboratory's web pages use this one function, so a
value reads the same on the page and on the report. A percentile among babies like this one
reads to one decimal, and at the ends of the grid as ``>99.9`` or ``<0.1``
(``fmt_percentile``).

A cutoff is a level someone set, not a measurement: it reads as set, to 3 significant digits
without trailing zeros (``3``, ``0.2``, ``0.45``; ``fmt_level``), so two cutoffs of one
table never read with different precision.

Public names: ``fmt_number``, ``fmt_level``, ``fmt_percentile``.
"""

from __future__ import annotations

import math

__all__ = ["fmt_level", "fmt_number", "fmt_percentile"]


def fmt_number(value: float | None, *, decimals: int | None = None) -> str:
    """A value as the documents print it: 3 significant digits, no exponent, ``-`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if decimals is not None:
        return f"{value:.{decimals}f}"
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    if size == 0:
        return "0"
    return f"{value:.3g}" if size >= 0.001 else f"{value:.1e}"


def fmt_percentile(value: float | None) -> str:
    """A percentile (0-100) to one decimal; at the ends of the grid it is clipped to (99.9 and
    0.1) ``>99.9`` and ``<0.1``, as the calls' reasons print it; ``-`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value >= 99.9:
        return ">99.9"
    if value <= 0.1:
        return "<0.1"
    return f"{value:.1f}"


def fmt_level(value: float | None) -> str:
    """A set level (a cutoff) to 3 significant digits without trailing zeros: ``3``,
    ``0.2``, ``0.45``, ``250``; ``-`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = fmt_number(value)
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text
