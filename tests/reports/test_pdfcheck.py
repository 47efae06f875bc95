"""The page checks of the document tests fail where they should: a blank page, ink in a
margin."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from tests.reports.pdfcheck import assert_pages_sound


def _pdf(draw: bool, x: float) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    if draw:
        canvas.setFont("Helvetica", 40)
        canvas.drawString(x, 400, "ink ink ink")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_a_blank_page_fails() -> None:
    with pytest.raises(AssertionError, match="blank"):
        assert_pages_sound(_pdf(False, 0))


def test_ink_running_into_a_margin_fails() -> None:
    with pytest.raises(AssertionError, match="left"):
        assert_pages_sound(_pdf(True, 8))
    with pytest.raises(AssertionError, match="right"):
        assert_pages_sound(_pdf(True, 400))
    assert assert_pages_sound(_pdf(True, 120)) == 1
