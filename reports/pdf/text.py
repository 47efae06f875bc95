"""``Text``: plain text in a paragraph style, wrapped to its width and drawn run by run.

The documents print plain text only (no inline markup), so a small line breaker does what they
need at a fraction of the cost of reportlab's paragraphs (whose CJK path dominated the time of
a result report): a line may break at a space, and before or after any CJK character, except
before closing punctuation (``，。）`` ...) and after opening punctuation (``（《“`` ...). A word
longer than the line is cut where it must. Each run is set in its font
(``reports.pdf.fonts``; Latin bold when the style's font is bold). ``Text`` splits between
lines across pages; in a style that keeps with the next flowable (a heading) it moves to the
next page unless 60 pt remain below it.

The documents repeat most of their texts (labels, headings, the disorder names), so a text's
measured characters and its lines at a width are kept per process, and its lines are written
as one text object through ``reports.pdf.operators``.

Public names: ``Text``.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from reports.pdf.fonts import CJK, LATIN_BOLD, face, runs
from reports.pdf.operators import ORIGIN, fill_colour, font_size, set_font, show

__all__ = ["Text"]

#: Characters a line must not begin with / end with (the common Chinese line-breaking rules).
_NO_START = frozenset("，。、；：？！）》」』】〕”’…·%％,.;:?!)]}")
_NO_END = frozenset("（《「『【〔“‘([{")

Line = tuple[tuple[tuple[str, str], ...], float]  # ((font name, segment), ...), width


@cache
def _width(char: str, font: str, size: float) -> float:
    return stringWidth(char, font, size)


Chars = tuple[tuple[str, str, float], ...]  # (character, font name, width)


@lru_cache(maxsize=8192)
def _measured(text: str, bold: bool, size: float) -> Chars:
    """Each character of ``text`` with the font that sets it and its width; the documents
    repeat most of their texts (labels, headings, disorder names), so a text is measured once
    per process."""
    return tuple((char, name, _width(char, name, size))
                 for font, segment in runs(text)
                 for name in (face(font, bold=bold),)
                 for char in segment)


@lru_cache(maxsize=8192)
def _laid_out(text: str, bold: bool, size: float, width: float) -> tuple[Line, ...]:
    """The lines of ``text`` wrapped to ``width`` (once per process for a text, font and
    width)."""
    chars = _measured(text, bold, size)
    if sum(w for _, _, w in chars) <= width and not any(c == "\n" for c, _, _ in chars):
        return (_segments(_strip(list(chars))),)
    return tuple(_break_lines(list(chars), width))


def _can_break(before: str, font_before: str, after: str, font_after: str) -> bool:
    """Whether a line may end between ``before`` and ``after``."""
    if after in _NO_START or before in _NO_END:
        return False
    if before == " ":
        return True
    return font_before == CJK or font_after == CJK


def _segments(chars: list[tuple[str, str, float]]) -> Line:
    pieces: list[tuple[str, str]] = []
    for char, font, _ in chars:
        if pieces and pieces[-1][0] == font:
            pieces[-1] = (font, pieces[-1][1] + char)
        else:
            pieces.append((font, char))
    return tuple(pieces), sum(w for _, _, w in chars)


def _strip(chars: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    while chars and chars[-1][0] == " ":
        chars = chars[:-1]
    while chars and chars[0][0] == " ":
        chars = chars[1:]
    return chars


def _break_lines(chars: list[tuple[str, str, float]], width: float) -> list[Line]:
    lines: list[Line] = []
    current: list[tuple[str, str, float]] = []
    used, cut = 0.0, 0
    for char, font, w in chars:
        if char == "\n":
            lines.append(_segments(_strip(current)))
            current, used, cut = [], 0.0, 0
            continue
        if current and _can_break(current[-1][0], current[-1][1], char, font):
            cut = len(current)
        if current and used + w > width:
            head, tail = (current[:cut], current[cut:]) if cut else (current, [])
            lines.append(_segments(_strip(head)))
            current = _strip(tail)
            used, cut = sum(x[2] for x in current), 0
        if current or char != " ":
            current.append((char, font, w))
            used += w
    if current or not lines:
        lines.append(_segments(_strip(current)))
    return lines


class Text(Flowable):
    """Plain ``text`` in ``style`` (font size, leading, colour, alignment, space before and
    after), wrapped to the width it is given."""

    def __init__(self, text: str, style: ParagraphStyle, *, bold: bool = False,
                 lines: list[Line] | None = None) -> None:
        super().__init__()
        self.text, self.style = text, style
        self.size, self.leading = style.fontSize, style.leading
        self.bold = bold or style.fontName == LATIN_BOLD
        self.spaceBefore, self.spaceAfter = style.spaceBefore, style.spaceAfter
        # A heading (a style that keeps with the next flowable) starts a new page rather than
        # end one: it needs room for itself and a few lines below it.
        self.reserve = 60.0 if getattr(style, "keepWithNext", 0) else 0.0
        self.keepWithNext = 0
        self._lines = lines or []
        self._fixed = lines is not None
        self._for_width: float | None = None

    def _layout(self, width: float) -> list[Line]:
        if not self._fixed and self._for_width != width:
            self._lines = list(_laid_out(self.text, self.bold, self.size, width))
            self._for_width = width
        return self._lines

    def wrapOn(self, canv: Any, aW: float, aH: float) -> tuple[float, float]:  # noqa: N802, N803
        """``Flowable.wrapOn`` without lending the canvas: wrapping a text needs none."""
        return self.wrap(aW, aH)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        lines = self._layout(avail_width)
        self.width = avail_width
        self.height = len(lines) * self.leading
        if self.reserve and avail_height < self.height + self.reserve:
            return self.width, avail_height + 1  # too tall here: the frame moves it on
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        if self.reserve:
            return []
        lines = self._layout(avail_width)
        fit = int(avail_height // self.leading)
        if fit < 1 or fit >= len(lines):
            return []
        first = Text(self.text, self.style, bold=self.bold, lines=lines[:fit])
        rest = Text(self.text, self.style, bold=self.bold, lines=lines[fit:])
        first.spaceAfter, rest.spaceBefore = 0, 0
        return [first, rest]

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:  # noqa: N802, N803
        """``Flowable.drawOn`` (save the graphics state, move the origin, draw, restore) without
        copying the canvas's whole state: drawing a text changes only its fill colour."""
        x = self._hAlignAdjust(x, _sW)
        fill, state = canvas._fillColorObj, canvas._extgstate
        canvas._extgstate = state.pushCopy()
        canvas._code += ("q", f"{fp_str(1, 0, 0, 1, x, y)} cm")
        self.canv = canvas
        self.draw()
        del self.canv
        canvas._code.append("Q")
        canvas._fillColorObj, canvas._extgstate = fill, state

    def draw(self) -> None:
        """The lines as one PDF text object (``reports.pdf.operators``: the operators
        reportlab's text object writes)."""
        canvas = self.canv
        fill_colour(canvas, self.style.textColor)
        doc = canvas._doc
        descent = (self.leading - self.size) / 2 + 0.22 * self.size
        size_ops = font_size(self.size)
        code = ["BT", ORIGIN]
        current, subset = None, -1
        for index, (pieces, line_width) in enumerate(self._lines):
            x = {1: (self.width - line_width) / 2,
                 2: self.width - line_width}.get(self.style.alignment, 0.0)
            code.append(f"1 0 0 1 {fp_str(x, self.height - (index + 1) * self.leading + descent)}"
                        " Tm")
            for name, segment in pieces:
                if name != current:
                    current, subset = name, -1
                    if (selected := set_font(doc, name, size_ops)) is not None:
                        code.append(selected)
                shown, subset = show(doc, name, segment, size_ops, subset)
                code.append(shown)
        code.append("ET")
        canvas._code.append(" ".join(code))
