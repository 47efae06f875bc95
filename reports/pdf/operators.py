"""PDF operators for text and fill colour, written as reportlab's canvas and text object write
them (the same bytes) without their per-call bookkeeping, for the texts the documents draw by
the hundred (``reports.pdf.text``) and on every page (``reports.pdf.page``).

A base font's encoding is fixed, so the operators showing a Latin or Symbol segment are kept
per segment; the CJK face is cut into subsets per document (in order of first use), so its
segments are split by the document every time.

Public names: ``ORIGIN``, ``font_size``, ``set_font``, ``show``, ``fill_colour``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase.pdfmetrics import getFont, unicode2T1

__all__ = ["ORIGIN", "fill_colour", "font_size", "set_font", "show"]

#: The origin a new reportlab text object starts with.
ORIGIN = f"1 0 0 1 {fp_str(0, 0)} Tm"


@lru_cache(maxsize=64)
def font_size(size: float) -> str:
    """The size and leading operands after a font name, as ``setFont(name, size)`` gives them
    (the leading defaults to 1.2 times the size)."""
    return f"{fp_str(size)} Tf {fp_str(size * 1.2)} TL"


def set_font(doc: Any, name: str, size_ops: str) -> str | None:
    """The operator selecting the base font ``name`` (None for the CJK face, whose subset is
    selected where its text is shown)."""
    if getFont(name)._dynamicFont:
        return None
    return f"{doc.getInternalFontName(name)} {size_ops}"


def show(doc: Any, name: str, segment: str, size_ops: str, subset: int) -> tuple[str, int]:
    """The operators showing ``segment`` in font ``name``, and the CJK subset in use after
    them; ``subset`` is the one in use before (-1 when none is)."""
    font = getFont(name)
    if not font._dynamicFont:
        return _shown(name, segment), subset
    out = []
    for part, chunk in font.splitString(segment, doc):
        if part != subset:
            out.append(f"{font.getSubsetInternalName(part, doc)} {size_ops}")
            subset = part
        out.append(f"({escapePDF(chunk)}) Tj")
    return " ".join(out), subset


@lru_cache(maxsize=8192)
def _shown(name: str, segment: str) -> str:
    font = getFont(name)
    out = []
    for used, chunk in unicode2T1(segment, [font, *font.substitutionFonts]):
        if used is not font:
            raise ValueError(f"{name} cannot set {segment!r}")
        out.append(f"({escapePDF(chunk)}) Tj")
    return " ".join(out)


@lru_cache(maxsize=256)
def _rgb(red: float, green: float, blue: float) -> str:
    return f"{fp_str((red, green, blue))} rg"


def fill_colour(canvas: Any, colour: Any) -> None:
    """``canvas.setFillColor(colour)``, an RGB colour's operator kept once written."""
    if type(colour) is not Color or getattr(canvas, "_enforceColorSpace", None):
        canvas.setFillColor(colour)
        return
    canvas._fillColorObj = colour
    canvas._code.append(_rgb(colour.red, colour.green, colour.blue))
    if colour.alpha is not None:
        canvas.setFillAlpha(colour.alpha)  # (which also makes the PDF version 1.4)
