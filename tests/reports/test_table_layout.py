"""Layout defects a reader saw: a result word broken mid-word in the table of every disorder,
the report card's chart labels on top of each other, the QC report's control values without
their unit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reports.result import render_result_report
from tests.reports import builders
from tests.reports.pdfcheck import page_texts, squash

BORDERLINE = dict(
    first_tier="borderline",
    final="borderline",
    action="request_repeat_specimen",
    reasons="Phe=150>120",
)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_no_result_word_is_broken_in_the_table_of_every_disorder(lang: str) -> None:
    result = builders.specimen_result(
        lang,
        results=builders.disorder_results(  # type: ignore[arg-type]
            {"PKU": BORDERLINE, "MSUD": {**BORDERLINE, "first_tier": "not_evaluable"}}
        ),
    )
    text = "".join(page_texts(render_result_report(builders.result_report(lang, result=result))))  # type: ignore[arg-type]
    assert not re.findall(r"borderlin(?!e)", text)
    assert not re.findall(r"evaluabl(?!e)", text)


def _strings(drawing: Any) -> list[tuple[float, float, str]]:
    from reportlab.graphics.shapes import String

    out = []
    for item in drawing.contents:
        if isinstance(item, String):
            out.append((round(item.x, 1), round(item.y, 1), item.text))
        elif hasattr(item, "contents"):
            out += _strings(item)
    return out


def test_a_strip_of_equal_units_prints_each_label_once_and_apart() -> None:
    from reports.pdf.charts import StripRow, strip_chart

    def fmt(v: float) -> str:
        return f"{v:.1f}%"

    alike = strip_chart(
        [StripRow("Recall compliance", 100.0, 100.0, 100.0, 100.0)], width=500, fmt=fmt
    )
    labels = [s for s in _strings(alike) if s[2] == "100.0%"]
    assert len(labels) == 1, labels  # not the lowest, highest and this unit's on one spot
    apart = strip_chart([StripRow("Early collection", 5.0, 5.0, 5.0, None)], width=500, fmt=fmt)
    assert len([s for s in _strings(apart) if s[2] == "5.0%"]) == 1
    spread = strip_chart([StripRow("Transit", 10.0, 20.0, 30.0, 25.0)], width=500, fmt=fmt)
    shown = {s[2]: s[0] for s in _strings(spread)}
    assert {"10.0%", "30.0%", "25.0%"} <= set(shown)
    assert shown["10.0%"] < shown["25.0%"] < shown["30.0%"]


@pytest.mark.parametrize("lang, unit", [("en", "Target mean (µmol/L)"), ("zh-CN", "（µmol/L）")])
def test_the_qc_control_table_names_its_unit(lang: str, unit: str) -> None:
    from reports.qc import render_qc_report

    text = squash("".join(page_texts(render_qc_report(builders.qc_report(lang)))))  # type: ignore[arg-type]
    assert squash(unit) in text
