"""``Text``: plain text in a paragraph style, wrapped to its width and drawn run by run.

The documents print plain text only (no inline markup), so a small line breaker does what they
need at a fraction of the cost of reportlab's paragraphs (whose CJK path dominated the time of
a result report): a line may break at a space, and before or after any CJK character, except
before closing punctuation (``，。）`` ...) and after opening punctuation (``（《“`` ...). A word
longer than the line is cut where it must. Each run is set in its font
(``reports.pdf.fonts``; Latin bold when the style's font is bold). ``Text`` splits between
lines across pages; in a style that keeps with the next flowable (a heading) it moves to the
next page unless 60 pt remain below it.

Public names: ``Text``.
"""

from __future__ import annotations

from functools import cache

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from reports.pdf.fonts import CJK, LATIN_BOLD, face, runs

__all__ = ["Text"]

#: Characters a line must not begin with / end with (the common Chinese line-breaking rules).
_NO_START = frozenset("，。、；：？！）》」』】〕”’…·%％,.;:?!)]}")
_NO_END = frozenset("（《「『【〔“‘([{")

Line = tuple[tuple[tuple[str, str], ...], float]  # ((font name, segment), ...), width


@cache
def _width(char: str, font: str, size: float) -> float:
    return stringWidth(char, font, size)


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
        self._chars = [(char, name, _width(char, name, self.size))
                       for font, segment in runs(text)
                       for name in (face(font, bold=self.bold),)
                       for char in segment]
        self._lines = lines or []
        self._fixed = lines is not None
        self._for_width: float | None = None

    def _layout(self, width: float) -> list[Line]:
        if not self._fixed and self._for_width != width:
            total = sum(w for _, _, w in self._chars)
            if total <= width and not any(c == "\n" for c, _, _ in self._chars):
                self._lines = [_segments(_strip(self._chars))]
            else:
                self._lines = _break_lines(self._chars, width)
            self._for_width = width
        return self._lines

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

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFillColor(self.style.textColor)
        descent = (self.leading - self.size) / 2 + 0.22 * self.size
        text = canvas.beginText()
        current = None
        for index, (pieces, line_width) in enumerate(self._lines):
            x = {1: (self.width - line_width) / 2,
                 2: self.width - line_width}.get(self.style.alignment, 0.0)
            text.setTextOrigin(x, self.height - (index + 1) * self.leading + descent)
            for font, segment in pieces:
                if font != current:
                    text.setFont(font, self.size)
                    current = font
                text.textOut(segment)
        canvas.drawText(text)
