"""Fonts and text: runs by font, characters no font holds, wrapping, and Chinese text that
extracts back as the same Unicode text."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas

from reports.pdf.fonts import CJK, CJK_FONT_FILE, LATIN, SYMBOL, runs, uncovered
from reports.pdf.page import styles
from reports.pdf.text import Text
from reports.wording import _texts, wording


def test_the_cjk_font_is_packaged_as_truetype() -> None:
    head = CJK_FONT_FILE.read_bytes()[:4]
    assert head == b"\x00\x01\x00\x00"  # TrueType outlines, not CFF ("OTTO")
    assert (CJK_FONT_FILE.parent / "LICENSE-Apache-2.0.txt").exists()


def test_runs_follow_the_font_that_holds_each_character() -> None:
    assert runs("Baby of 王芳, C8 ≥ 0.3 µmol/L") == [
        (LATIN, "Baby of "), (CJK, "王芳"), (LATIN, ", C8 "), (SYMBOL, "≥"),
        (LATIN, " 0.3 µmol/L")]
    assert runs("β-酮硫解酶")[0] == (SYMBOL, "β")


def test_a_character_no_font_holds_prints_visibly() -> None:
    assert uncovered("王𠮷") == ["𠮷"]
    assert runs("𠮷") == [(LATIN, "[U+20BB7]")]


def test_a_tab_prints_as_a_space() -> None:
    """A tab in free text (a bulletin's message, a note) is set as a space: the Latin face has
    no glyph for it, and drawing it failed."""
    assert runs("a\tb") == [(LATIN, "a b")]
    style = ParagraphStyle("t", fontName="Helvetica", fontSize=10, leading=12)
    text = Text("dose\t0.5 mg", style)
    text.wrap(200, 100)
    page = Canvas(io.BytesIO())
    text.drawOn(page, 10, 10)
    page.save()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_wording_text_can_be_printed(lang: str) -> None:
    bad = {c for _, text in _texts(wording(lang)) for c in uncovered(text)}  # type: ignore[arg-type]
    assert not bad


def test_text_wraps_at_spaces_and_cjk_boundaries_not_before_closing_punctuation() -> None:
    style = ParagraphStyle("t", fontName="Helvetica", fontSize=10, leading=12)
    text = Text("alpha beta gamma delta", style)
    text.wrap(60, 1000)
    lines = ["".join(s for _, s in pieces) for pieces, _ in text._lines]
    assert lines == ["alpha beta", "gamma delta"]
    zh = Text("宝宝的身体不能利用脂肪产生能量，血糖可降到危险的水平。", style)
    zh.wrap(55, 1000)
    zh_lines = ["".join(s for _, s in pieces) for pieces, _ in zh._lines]
    assert "".join(zh_lines) == "宝宝的身体不能利用脂肪产生能量，血糖可降到危险的水平。"
    assert len(zh_lines) > 2
    assert not any(line.startswith(("，", "。")) for line in zh_lines)


def test_text_splits_between_lines() -> None:
    style = styles("en").body
    text = Text(" ".join(["word"] * 200), style)
    text.wrap(200, 10_000)
    first, rest = text.split(200, 3 * style.leading + 1)
    assert len(first._lines) == 3
    assert len(first._lines) + len(rest._lines) == len(text._lines)
