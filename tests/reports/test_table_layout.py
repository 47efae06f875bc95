"""Layout defects a reader saw: a result word broken mid-word in the table of every disorder,
the report card's chart labels on top of each other, the QC report's control values without
their unit."""

from __future__ import annotations

import re

import pytest

from reports.result import render_result_report
from tests.reports import builders
from tests.reports.pdfcheck import page_texts

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
