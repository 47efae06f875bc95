"""Fonts of the documents: Helvetica for Latin text, an embedded CJK TrueType face for Chinese,
Symbol for Greek letters and mathematical signs.

Helvetica (a PDF base font, WinAnsi encoding) sets every character of Windows-1252: Latin
letters, digits, punctuation, ``µ``, ``×``, ``±``, curly quotes and dashes. The packaged Droid
Sans Fallback face (``reports/fonts/``, Apache-2.0; reportlab embeds the glyphs used) sets the CJK
ideographs, CJK punctuation and full-width forms. The Symbol base font sets what neither holds
among Greek letters and signs (``β``, ``≥``, ``→``). Text is cut into runs by the font that holds
each character, so a Chinese name in an English letter and a digit in a Chinese sentence both
print and extract back as the same Unicode text. Any character none of them holds prints
visibly as ``[U+XXXX]``, never as a blank or a wrong glyph.

Public names: ``LATIN``, ``LATIN_BOLD``, ``CJK``, ``SYMBOL``, ``CJK_FONT_FILE``, ``face``,
``register_fonts``, ``runs``, ``string_width``, ``uncovered``.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.rl_codecs import RL_Codecs
from reportlab.pdfbase.ttfonts import TTFont

from reports import ReportError
from reports.pdf import subsets

__all__ = [
    "CJK",
    "CJK_FONT_FILE",
    "LATIN",
    "LATIN_BOLD",
    "SYMBOL",
    "face",
    "register_fonts",
    "runs",
    "string_width",
    "uncovered",
]

LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
CJK = "NBS-CJK"
SYMBOL = "Symbol"
CJK_FONT_FILE = Path(str(resources.files("reports") / "fonts" / "DroidSansFallbackFull.ttf"))

#: Characters written as an equivalent the fonts hold (Greek mu as the micro sign, spaces).
_SUBSTITUTES = {"μ": "µ", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " "}


@cache
def register_fonts() -> None:
    """Register the CJK face with reportlab (once per process; about 0.2 s to read it)."""
    try:
        font = TTFont(CJK, str(CJK_FONT_FILE))
    except OSError as exc:
        raise ReportError(f"{CJK_FONT_FILE}: cannot read the CJK font ({exc})") from None
    subsets.memoise(font)  # cut and compressed once per process
    pdfmetrics.registerFont(font)
    # The face has no bold: bold CJK text is set in the same face (headings differ by size).
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(CJK, bold, italic, CJK)


@cache
def _cjk_glyphs() -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(CJK)
    return frozenset(font.face.charToGlyph)


@cache
def _latin(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return char.isprintable() or char == "\n"


@cache
def _symbol(char: str) -> bool:
    RL_Codecs.register()
    try:
        char.encode("symbol")
    except UnicodeEncodeError:
        return False
    return True


def _font_of(char: str) -> str | None:
    if _latin(char):
        return LATIN
    if ord(char) in _cjk_glyphs():
        return CJK
    if _symbol(char):
        return SYMBOL
    return None


def face(font: str, *, bold: bool = False) -> str:
    """The reportlab font name that sets a run of ``font`` (bold applies to Latin runs)."""
    return (LATIN_BOLD if bold else LATIN) if font == LATIN else font


def runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into ``(font, segment)`` runs, ``font`` being ``LATIN``, ``CJK`` or
    ``SYMBOL``. Characters no font holds become ``[U+XXXX]`` in a Latin run.
    """
    return list(_runs(text))


@lru_cache(maxsize=4096)
def _runs(text: str) -> tuple[tuple[str, str], ...]:
    """The runs of a text, kept: the header, footer and labels of every page recur."""
    out: list[tuple[str, str]] = []
    for char in text:
        char = _SUBSTITUTES.get(char, char)
        font = _font_of(char)
        if font is None:
            font, char = LATIN, f"[U+{ord(char):04X}]"
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + char)
        else:
            out.append((font, char))
    return tuple(out)


def uncovered(text: str) -> list[str]:
    """The characters of ``text`` that no font holds (they print as ``[U+XXXX]``)."""
    return list(dict.fromkeys(c for c in text if _font_of(_SUBSTITUTES.get(c, c)) is None))


def string_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width in points of ``text`` set at ``size`` (each run in its own face)."""
    return sum(pdfmetrics.stringWidth(segment, face(font, bold=bold), size)
               for font, segment in runs(text))
