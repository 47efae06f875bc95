"""The documents' shortcuts through reportlab write what reportlab writes: ``Text`` draws its
lines as reportlab's text object would, the header and footer text as ``drawString`` would,
and the CJK face's kept subsets embed the font objects reportlab itself embeds."""

from __future__ import annotations

import io
import re

import pytest
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from reports.pdf.fonts import CJK, LATIN, LATIN_BOLD, face, register_fonts, runs, string_width
from reports.pdf.page import COLOURS, draw_text
from reports.pdf.text import Text
from reports.wording import _texts, wording

#: More than 256 different CJK characters, so the face is cut into several subsets and lines
#: switch between them.
_CHINESE = "".join(dict.fromkeys(
    c for _, text in _texts(wording("zh-CN")) for c in text if ord(c) > 0x2E80))


class _ReportlabText(Text):
    """``Text`` drawn through reportlab's own text object and ``Flowable.drawOn``."""

    drawOn = Flowable.drawOn

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


def _page(kind: type[Text], texts: list[tuple[str, ParagraphStyle]]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.setFillColor(COLOURS.accent)
    y = 800.0
    for value, style in texts:
        flowable = kind(value, style)
        _, height = flowable.wrap(220, 10_000)
        y -= height + 4
        flowable.drawOn(canvas, 40, y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_text_writes_the_operators_reportlabs_text_object_writes() -> None:
    register_fonts()
    assert len(_CHINESE) > 300
    texts = [
        ("Baby of 王芳 (Wang Fang), C8 ≥ 0.30 µmol/L → refer at once: “screen positive”", "l"),
        (_CHINESE, "l"),
        ("Medium-chain acyl-CoA dehydrogenase (MCAD) deficiency " * 3, "r"),
        (f"新生儿 {_CHINESE[:120]} β-酮硫解酶 (BKT) {_CHINESE[200:320]}\nline (two)", "c"),
        ("", "l"),
        ("bold 粗体 text", "b"),
    ]
    styles = {
        "l": ParagraphStyle("l", fontName=LATIN, fontSize=8, leading=10.8, alignment=TA_LEFT),
        "r": ParagraphStyle("r", fontName=LATIN, fontSize=7.3, leading=9.9, alignment=TA_RIGHT,
                            textColor=COLOURS.muted),
        "c": ParagraphStyle("c", fontName=LATIN, fontSize=9, leading=12.2,
                            alignment=TA_CENTER, wordWrap="CJK"),
        "b": ParagraphStyle("b", fontName=LATIN_BOLD, fontSize=11, leading=14.9,
                            textColor=COLOURS.white),
    }
    given = [(value, styles[key]) for value, key in texts]
    ours, theirs = _page(Text, given), _page(_ReportlabText, given)
    assert re.search(rb"/F\d\+1 ", ours)  # the CJK face's second subset is used
    assert ours == theirs


def _reportlab_draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, *,
                         bold: bool, anchor: str, colour: object) -> None:
    """``draw_text`` through the canvas's own state, ``setFont`` and ``drawString``."""
    width = string_width(text, size, bold=bold)
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    canvas.saveState()
    canvas.setFillColor(colour)
    for font, segment in runs(text):
        name = face(font, bold=bold)
        canvas.setFont(name, size)
        canvas.drawString(x0, y, segment)
        x0 += canvas.stringWidth(segment, name, size)
    canvas.restoreState()


def test_page_text_writes_what_set_font_and_draw_string_write() -> None:
    register_fonts()
    lines = [("江南市新生儿疾病筛查中心", 9, True, "start", COLOURS.accent),
             ("Document RES-000001 version 2 · 文件 · issued 2025-03-04 09:10", 7, False,
              "start", COLOURS.muted),
             ("第 1 页，共 2 页 · β ≥ 0.3", 7.5, True, "end", COLOURS.ink),
             (_CHINESE[:300], 6, False, "middle", COLOURS.red)]

    def page(draw: object) -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, invariant=1)
        for index, (text, size, bold, anchor, colour) in enumerate(lines):
            draw(canvas, 300, 800 - 20 * index, text, size,  # type: ignore[operator]
                 bold=bold, anchor=anchor, colour=colour)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    assert page(draw_text) == page(_reportlab_draw_text)


def test_kept_subsets_embed_what_reportlab_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    register_fonts()
    font = pdfmetrics.getFont(CJK)

    def page() -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, invariant=1)
        canvas.setFont(CJK, 9)
        for row in range(0, len(_CHINESE), 40):
            canvas.drawString(30, 800 - row // 40 * 12, _CHINESE[row:row + 40])
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    page()
    kept = page()  # the subsets' font files, maps and widths come from what the first kept
    with monkeypatch.context() as reportlabs_own:
        for owner, name in ((font, "addObjects"), (font.face, "addSubsetObjects"),
                            (font.face, "makeSubset")):
            reportlabs_own.delattr(owner, name)
        assert page() == kept
    assert font.addObjects.__module__ == "reports.pdf.subsets"
