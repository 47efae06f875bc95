"""The run QC report: read back, rendered, and its view model's refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reports.qc import Well, render_qc_report
from tests.reports import builders
from tests.reports.pdfcheck import assert_contains, assert_golden, assert_pages_sound, page_texts


def test_qc_report_in_english() -> None:
    pdf = render_qc_report(builders.qc_report("en"))
    assert assert_pages_sound(pdf) == 2
    first = page_texts(pdf)[0]
    assert first.index("ACCEPTED WITH WARNINGS") < first.index("Plate map")
    assert_contains(pdf, "Decided by Liu Yang (technician) on 2025-03-11 09:05",
                    "C8 1-2s (lot VQC-L-2501): z = +2.40 (A02)",
                    "Wells below 30% of the plate median: D07", "control, low", "not reportable",
                    "VQC-L-2501 low C8 A02 0.109 0.08 0.012 +2.40 1-2s",
                    "Levey-Jennings charts", "C8 · VQC-L-2501 (low) · 0.08 ± 0.012 µmol/L",
                    "+3SD", "1-2s", "nonderivatized 0.1.0-default (unverified)")


def test_rejected_plate_in_chinese() -> None:
    pdf = render_qc_report(builders.qc_report("zh-CN", decision="reject"))
    assert_pages_sound(pdf)
    assert_contains(pdf, "批次质控报告", "拒绝", "判定人：刘洋", "孔板图", "低值质控",
                    "内标信号低于全板中位数30%的孔：D07", "Levey-Jennings质控图", "均值")


def test_wells_outside_the_plate_or_twice_are_refused() -> None:
    report = builders.qc_report("en")
    with pytest.raises(ValidationError, match="outside"):
        builders.qc_report("en", wells=(*report.wells[:-1],
                                        Well(well="I01", sample_type="patient")))
    with pytest.raises(ValidationError, match="twice"):
        builders.qc_report("en", wells=(*report.wells, report.wells[0]))


def test_golden_qc_report() -> None:
    assert_golden(render_qc_report(builders.qc_report("en")), "qc-en")
