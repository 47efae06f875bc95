"""Page templates, colours and paragraph styles shared by the documents, and the one function
that turns a story of flowables into PDF bytes.

Every page carries a header (the laboratory, the document's title) and a footer (document id,
version, the version a correction replaces, issue time, wording version, ``page i of n``). The
PDF is written in reportlab's invariant mode, so the same story gives the same bytes: a reprint
of a view model is byte-identical.

Public names: ``Colours``, ``COLOURS``, ``Styles``, ``styles``, ``PageSetup``, ``render``,
``para``, ``draw_text``, ``MARGIN``, ``page_size``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.models import DocumentInfo, Laboratory, Lang
from reports.pdf.fonts import LATIN, LATIN_BOLD, face, register_fonts, runs, string_width
from reports.pdf.operators import fill_colour, font_size, set_font, show
from reports.pdf.text import Text
from reports.wording import Wording, fill

__all__ = ["COLOURS", "MARGIN", "Colours", "PageSetup", "Styles", "draw_text", "page_size",
           "para", "render", "styles"]

MARGIN = 16 * mm
_TOP = 24 * mm
_BOTTOM = 20 * mm
_FOOTER_Y = _BOTTOM - 14  # the footer's baseline; its rule lies 5 pt below the frame


@dataclass(frozen=True)
class Colours:
    ink: colors.Color = colors.HexColor("#1A1A1A")
    muted: colors.Color = colors.HexColor("#5F6368")
    rule: colors.Color = colors.HexColor("#B0B7BF")
    header_fill: colors.Color = colors.HexColor("#E8EDF2")
    zebra: colors.Color = colors.HexColor("#F5F7F9")
    accent: colors.Color = colors.HexColor("#0B4F8A")
    red: colors.Color = colors.HexColor("#B3261E")
    red_fill: colors.Color = colors.HexColor("#FBE9E7")
    amber: colors.Color = colors.HexColor("#B45309")
    amber_fill: colors.Color = colors.HexColor("#FFF4E0")
    green: colors.Color = colors.HexColor("#1E7B34")
    green_fill: colors.Color = colors.HexColor("#E6F4EA")
    white: colors.Color = colors.white


COLOURS = Colours()


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_head: ParagraphStyle
    small_cell: ParagraphStyle
    small_head: ParagraphStyle
    compact: ParagraphStyle
    compact_bold: ParagraphStyle
    banner: ParagraphStyle
    banner_text: ParagraphStyle
    centre: ParagraphStyle


@cache
def styles(lang: Lang) -> Styles:
    """The paragraph styles of a language (Chinese text may break between any two characters)."""
    register_fonts()
    wrap = "CJK" if lang == "zh-CN" else None

    def style(name: str, size: float, *, bold: bool = False, colour: Any = COLOURS.ink,
              before: float = 0, after: float = 0, align: int = TA_LEFT,
              keep: bool = False) -> ParagraphStyle:
        return ParagraphStyle(
            name, fontName=LATIN_BOLD if bold else LATIN, fontSize=size, leading=size * 1.35,
            textColor=colour, spaceBefore=before, spaceAfter=after, alignment=align,
            wordWrap=wrap, keepWithNext=int(keep),
        )

    return Styles(
        title=style("title", 15, bold=True, after=4),
        h1=style("h1", 11, bold=True, colour=COLOURS.accent, before=9, after=3, keep=True),
        h2=style("h2", 9.5, bold=True, before=5, after=2, keep=True),
        body=style("body", 9, after=3),
        small=style("small", 7.5, colour=COLOURS.muted, after=2),
        cell=style("cell", 8),
        cell_bold=style("cell_bold", 8, bold=True),
        cell_head=style("cell_head", 7.5, bold=True, colour=COLOURS.muted),
        small_cell=style("small_cell", 6.8),
        compact=style("compact", 7.3),
        compact_bold=style("compact_bold", 7.3, bold=True),
        small_head=style("small_head", 6.3, bold=True, colour=COLOURS.muted),
        banner=style("banner", 14, bold=True, colour=COLOURS.white),
        banner_text=style("banner_text", 10, colour=COLOURS.white),
        centre=style("centre", 8, align=TA_CENTER),
    )


def para(text: str, style: ParagraphStyle, *, bold: bool = False) -> Text:
    """Plain ``text`` in ``style``, wrapped to its width (CJK runs in the CJK face)."""
    return Text(text, style, bold=bold)


def draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, *,
              bold: bool = False, anchor: str = "start", colour: Any = COLOURS.ink) -> None:
    """``text`` drawn on a canvas at ``(x, y)``, each run in its face; anchor start|end|middle.

    The operators are those of ``saveState``, ``setFillColor``, then ``setFont`` and
    ``drawString`` per run, and ``restoreState`` (``reports.pdf.operators``)."""
    width = string_width(text, size, bold=bold)
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    doc, code = canvas._doc, canvas._code
    fill, state = canvas._fillColorObj, canvas._extgstate
    canvas._extgstate = state.pushCopy()
    code.append("q")
    fill_colour(canvas, colour)
    size_ops = font_size(size)
    for font, segment in runs(text):
        name = face(font, bold=bold)
        if (selected := set_font(doc, name, size_ops)) is not None:
            code.append(f"BT {selected} ET")
        shown, _ = show(doc, name, segment, size_ops, -1)
        code.append(f"BT 1 0 0 1 {fp_str(x0, y)} Tm {shown} T* ET")
        x0 += stringWidth(segment, name, size)
    code.append("Q")
    canvas._fillColorObj, canvas._extgstate = fill, state


def page_size(*, wide: bool = False) -> tuple[float, float]:
    return landscape(A4) if wide else A4


@dataclass(frozen=True)
class PageSetup:
    """What the header and footer of every page say."""

    info: DocumentInfo
    laboratory: Laboratory
    title: str
    wording: Wording
    wide: bool = False

    def footer_left(self) -> str:
        c = self.wording.common
        info = self.info
        parts = [fill(c.document, document_id=info.document_id, version=info.version)]
        if info.replaces is not None:
            parts.append(c.correction_title)
        parts.append(fill(c.issued, issued_at=self.wording.datetime(info.issued_at)))
        parts.append(fill(c.wording, language=self.wording.language,
                          version=self.wording.version))
        return " · ".join(parts)


def _header(setup: PageSetup) -> Callable[[Canvas, Any], None]:
    def on_page(canvas: Canvas, doc: Any) -> None:
        width, height = doc.pagesize
        y = height - MARGIN + 2
        draw_text(canvas, MARGIN, y, setup.laboratory.name, 9, bold=True, colour=COLOURS.accent)
        draw_text(canvas, width - MARGIN, y, setup.title, 8.5, anchor="end",
                  colour=COLOURS.muted)
        canvas.saveState()
        canvas.setStrokeColor(COLOURS.rule)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, y - 5, width - MARGIN, y - 5)
        canvas.restoreState()
    return on_page


class _NumberedCanvas(Canvas):
    """A canvas that writes ``page i of n`` once it knows n (pages are kept until save)."""

    def __init__(self, *args: Any, setup: PageSetup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup = setup
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(number, total)
            super().showPage()
        super().save()

    def _footer(self, number: int, total: int) -> None:
        width, _ = self._pagesize
        setup = self._setup
        y = _FOOTER_Y
        self.saveState()
        self.setStrokeColor(COLOURS.rule)
        self.setLineWidth(0.6)
        self.line(MARGIN, y + 9, width - MARGIN, y + 9)
        self.restoreState()
        draw_text(self, MARGIN, y, setup.footer_left(), 7, colour=COLOURS.muted)
        page = fill(setup.wording.common.page, page=number, pages=total)
        draw_text(self, width - MARGIN, y, page, 7.5, bold=True, anchor="end")


def render(story: Sequence[Flowable], setup: PageSetup) -> bytes:
    """The PDF of ``story`` with the header and footer of ``setup``, as bytes."""
    register_fonts()
    buffer = io.BytesIO()
    size = page_size(wide=setup.wide)
    info = setup.info
    doc = BaseDocTemplate(
        buffer, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=_TOP,
        bottomMargin=_BOTTOM, title=setup.title, author=setup.laboratory.name,
        subject=f"{info.document_id} v{info.version}", creator="nbs-lab reports",
        keywords=[info.document_id, f"version {info.version}",
                  f"wording {setup.wording.language} {setup.wording.version}"],
        invariant=1, lang=info.lang,
    )
    frame = Frame(MARGIN, _BOTTOM, size[0] - 2 * MARGIN, size[1] - _TOP - _BOTTOM, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header(setup))])

    def canvasmaker(*args: Any, **kwargs: Any) -> _NumberedCanvas:
        return _NumberedCanvas(*args, setup=setup, **kwargs)

    doc.build(list(story), canvasmaker=canvasmaker)
    return buffer.getvalue()
