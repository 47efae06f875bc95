"""The recall letter: read back in both languages, rendered to images, byte-identical reprints,
corrections, and the view model's refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import pytest
from pydantic import ValidationError

from reports import ReportError
from reports.letter import SuspectedDisorder, render_recall_letter
from reports.models import DocumentInfo, MarkerValue
from tests.reports import builders
from tests.reports.pdfcheck import assert_contains, assert_golden, assert_pages_sound, page_texts


@pytest.mark.parametrize(("lang", "heading"), [
    ("en", "Medium-chain acyl-CoA dehydrogenase (MCAD) deficiency: critical result"),
    ("zh-CN", "中链酰基辅酶A脱氢酶缺乏症（MCAD）：筛查结果危急"),
    ("en", "Maple syrup urine disease (MSUD): positive result"),
    ("zh-CN", "枫糖尿症（MSUD）：筛查结果阳性"),
])
def test_a_suspected_disorders_heading_names_its_code_once(lang: str, heading: str) -> None:
    code = "MSUD" if "MSUD" in heading else "MCAD"
    first_tier = "positive" if code == "MSUD" else "critical"
    letter = builders.recall_letter(lang, disorders=(SuspectedDisorder(  # type: ignore[arg-type]
        code=code, first_tier=first_tier, markers=builders.mcad_markers()),))
    lines = [line for page in page_texts(render_recall_letter(letter))
             for line in page.splitlines()]
    [line] = [line for line in lines if line.startswith(heading.split(" ")[0][:6])
              and code in line]
    assert line.strip() == heading
    assert line.count(code) == 1


def test_clinic_letter_in_english_puts_the_action_and_deadline_first() -> None:
    pdf = render_recall_letter(builders.recall_letter("en"))
    assert assert_pages_sound(pdf) == 1
    first = page_texts(pdf)[0]
    assert first.index("TIME-CRITICAL: ACT TODAY") < first.index("What the screen found")
    assert_contains(pdf, "Deadline: 2025-03-04 18:00", "Baby boy of Wang Fang (王芳)", "250301077",
                    "S-2025-031877 (initial)", "26 h",
                    "Medium-chain acyl-CoA dehydrogenase (MCAD) deficiency: critical result",
                    "The body cannot use fat for energy", "C8 2.84 µmol/L 0.3 µmol/L",
                    "above the cutoff (critical)", "C8/C10 9.60 2 ",
                    "Advise feeds at least every 3 hours", "Li Min", "0571-8800 1299",
                    "Riverside Children's Hospital, Metabolic Clinic",
                    "Issued by Dr Zhang Wei, Laboratory Director",
                    "Document LTR-2025-00042-clinic, version 1", "wording en 2025.8",
                    "Page 1 of 1")


def test_family_letter_in_chinese_extracts_as_the_same_chinese_text() -> None:
    pdf = render_recall_letter(builders.recall_letter("zh-CN", "family"))
    assert assert_pages_sound(pdf) == 1
    assert_contains(pdf, "宝宝的新生儿筛查结果：请您及时处理", "致王芳之子的家长",
                    "时间紧急：请今天处理",
                    "请于2025年03月04日 18:00前带宝宝到江南市儿童医院遗传代谢科看专科医生",
                    "中链酰基辅酶A脱氢酶缺乏症", "宝宝的身体不能利用脂肪产生能量",
                    "请日夜至少每3小时喂养宝宝一次", "高于切值（危急）", "2.84 µmol/L",
                    "出生体重", "3,250克", "采血日龄", "26小时", "第1页，共1页")
    assert "Advise feeds" not in "".join(page_texts(pdf))


def test_a_letter_that_is_not_time_critical_gives_its_date() -> None:
    letter = builders.recall_letter(
        "en", time_critical=False, action="request_repeat_specimen",
        disorders=(SuspectedDisorder(code="PKU", first_tier="borderline", markers=(
            MarkerValue(marker="Phe", value=180, cutoff=150, direction="high",
                        tier="borderline"),)),))
    pdf = render_recall_letter(letter)
    text = "".join(page_texts(pdf))
    assert "ACT TODAY" not in text
    assert_contains(pdf, "ACT BY 2025-03-04", "Collect a repeat dried blood spot specimen",
                    "Phenylketonuria (PKU): borderline result",
                    "treatment (usually a special diet) works best when it starts early")


def test_a_reprint_is_byte_identical_even_in_another_process() -> None:
    first = render_recall_letter(builders.recall_letter("zh-CN"))
    assert render_recall_letter(builders.recall_letter("zh-CN")) == first
    code = ("import hashlib, sys; from tests.reports import builders; "
            "from reports.letter import render_recall_letter; "
            "sys.stdout.write(hashlib.sha256(render_recall_letter("
            "builders.recall_letter('zh-CN'))).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    assert other == hashlib.sha256(first).hexdigest()


def test_a_correction_names_the_version_it_replaces() -> None:
    letter = builders.recall_letter("en", document=builders.correction("LTR-9", "en"))
    pdf = render_recall_letter(letter)
    assert_contains(pdf, "CORRECTED DOCUMENT", "This version 2 replaces version 1",
                    "SHA-256 " + "ab" * 32,
                    "birth weight corrected from 1,250 g to 3,250 g",
                    "Document LTR-9, version 2")
    assert pdf != render_recall_letter(builders.recall_letter("en"))


def test_the_view_model_refuses_what_cannot_be_printed_honestly() -> None:
    with pytest.raises(ValidationError, match="did you mean MCAD"):
        SuspectedDisorder(code="MCADD", first_tier="positive", markers=(
            MarkerValue(marker="C8", value=1, cutoff=0.3, direction="high"),))
    with pytest.raises(ValidationError, match="action"):
        builders.recall_letter("en", action="none")
    with pytest.raises(ValidationError, match="must say why"):
        DocumentInfo(document_id="X", version=2, issued_at=builders.ISSUED, lang="en",
                     replaces={"document_id": "X", "version": 1})
    with pytest.raises(ValidationError, match="keeps the document id"):
        DocumentInfo(document_id="X", version=2, issued_at=builders.ISSUED, lang="en",
                     replaces={"document_id": "Y", "version": 1}, correction_reason="typo")


def test_a_reprint_with_other_wording_is_refused() -> None:
    document = builders.document("LTR-1", "en", wording_version="2024.9")
    with pytest.raises(ReportError, match="reprint the stored PDF"):
        render_recall_letter(builders.recall_letter("en", document=document))


def test_golden_letters() -> None:
    assert_golden(render_recall_letter(builders.recall_letter("en")), "letter-clinic-en")
    assert_golden(render_recall_letter(builders.recall_letter("zh-CN", "family")),
                  "letter-family-zh-CN")


def test_a_booked_appointment_is_named_and_is_the_deadline() -> None:
    booked = builders.recall_letter("en", "family", time_critical=False,
                                    appointment_at=dt.datetime(2025, 3, 7, 9, 30))
    pdf = render_recall_letter(booked)
    text = "".join(page_texts(pdf))
    assert_contains(pdf, "ACT BY 2025-03-07", "Deadline: 2025-03-07 09:30",
                    "Your baby has an appointment at Riverside Children's Hospital, Metabolic "
                    "Clinic on 2025-03-07 09:30", "Appointment 2025-03-07 09:30")
    assert "arrange it" not in text and "2025-03-04 18:00" not in text
    chinese = render_recall_letter(builders.recall_letter(
        "zh-CN", "clinic", appointment_at=dt.datetime(2025, 3, 7, 9, 30)))
    # time-critical, but the appointment is days away: the banner names it, not "today"
    assert_contains(chinese, "时间紧急：请于2025年03月07日 09:30前处理",
                    "截止时间：2025年03月07日 09:30",
                    "宝宝已预约于2025年03月07日 09:30到江南市儿童医院遗传代谢科进行确诊检查",
                    "预约时间")
