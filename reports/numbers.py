"""Numbers as the documents and the pages print them: a concentration (or any measured value)
to 3 significant digits, no exponent above 0.001, ``-`` for none (``fmt_number``). The PDF
documents (``reports.pdf.tables``) and the laboratory's web pages use this one function, so a
value reads the same on the page and on the report.

Public names: ``fmt_number``.
"""

from __future__ import annotations

import math

__all__ = ["fmt_number"]


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
