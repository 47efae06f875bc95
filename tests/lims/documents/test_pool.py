"""Documents rendered in worker processes have the same bytes as rendered in the caller."""

from __future__ import annotations

from bench.reports import result_reports
from lims.documents.pool import render_all
from reports.result import render_result_report


def test_rendered_in_workers_is_byte_identical():
    models = [*result_reports(3, "en"), *result_reports(3, "zh-CN")]
    here = [render_result_report(m) for m in models]
    assert render_all(models, render_result_report, workers=2) == here
    assert render_all(models[:1], render_result_report, workers=2) == here[:1]
