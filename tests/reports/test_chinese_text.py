"""Chinese documents carry no English sentence of the system's own: a call's reasons phrase by
phrase (``[reasons]``), the cutoffs when no table was used, who decided a plate and the reasons
the plate QC stored (``[qc_findings]``); a note in brackets takes full-width brackets."""

from __future__ import annotations

import pytest

from reports.datafile import ReportDataError
from reports.qc import render_qc_report
from reports.result import render_result_report
from reports.wording import load_wording, wording, wording_path
from tests.reports import builders
from tests.reports.pdfcheck import page_texts, squash

ENGLISH = (
    "first tier shared with",
    "secondary markers in range",
    "second tier:",
    "disorder rules, literature levels",
    "plate QC",
    "accepted (",
    "withdrawn (",
)
REASONS = (
    "C8=2.84>0.30; first tier shared with MCAD, VLCAD; secondary markers in range; "
    "second tier: recall stands (p=0.91 >= 0.2)"
)


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def _result(lang: str) -> bytes:
    call = {**builders.MCAD_CALL, "reasons": REASONS}
    result = builders.specimen_result(
        lang,
        cutoff_version="",  # type: ignore[arg-type]
        results=builders.disorder_results({"MCAD": call}),
    )
    return render_result_report(builders.result_report(lang, result=result))  # type: ignore[arg-type]


def test_a_chinese_result_report_words_the_reasons_and_the_cutoffs_in_chinese() -> None:
    text = _text(_result("zh-CN"))
    for english in ENGLISH:
        assert squash(english) not in text, english
    assert squash("一级筛查结果与MCAD, VLCAD共用") in text
    assert squash("二级筛查：维持召回（p=0.91 >= 0.2）") in text
    assert squash("疾病规则，文献切值") in text and "C8=2.84>0.30" in text
    english = _text(_result("en"))
    assert squash(REASONS) in english and squash("disorder rules, literature levels") in english


@pytest.mark.parametrize(
    "how, note",
    [
        ("plate_qc", "default-plate-qc 0.1.0"),
        ("accepted", "controls re-run"),
        ("withdrawn", "wrong plate map"),
    ],
)
def test_a_chinese_qc_report_names_the_decider_in_chinese(how: str, note: str) -> None:
    report = builders.qc_report("zh-CN", decided_how=how, decided_note=note)
    text = _text(render_qc_report(report))
    for english in ENGLISH:
        assert squash(english) not in text, english
    assert squash(note) in text
    english = _text(render_qc_report(builders.qc_report("en", decided_how=how, decided_note=note)))
    assert (
        squash(
            {"plate_qc": "plate QC (", "accepted": "accepted (", "withdrawn": "withdrawn ("}[how]
            + note
        )
        in english
    )


def test_a_reasons_text_must_keep_the_phrases_placeholders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = (
        wording_path("zh-CN")
        .read_text(encoding="utf-8")
        .replace(
            'shared_first_tier = "一级筛查结果与{disorders}共用"',
            'shared_first_tier = "一级筛查结果与{disorder}共用"',
        )
    )
    path = tmp_path / "zh-CN.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ReportDataError, match="shared_first_tier"):
        load_wording(path)
    assert wording("zh-CN").reasons["shared_first_tier"]


def test_chinese_disorder_labels_use_full_width_brackets() -> None:
    """Every disorder's label in Chinese holds its code in full-width brackets, as do the
    other notes in brackets of Chinese text (a tier after where a value stands); English
    keeps its own."""
    from msms.catalogue import default_catalogue

    zh, en = wording("zh-CN"), wording("en")
    for disorder in default_catalogue().disorders:
        label = zh.disorder_label(disorder.code)
        assert "(" not in label and ")" not in label, label
        assert label.endswith(f"（{disorder.code}）") or disorder.code in zh.disorders[
            disorder.code], label
    assert "(MCAD)" in en.disorder_label("MCAD")
    assert zh.bracketed("高于切值", zh.common.tiers.critical) == "高于切值（危急）"


def test_a_chinese_qc_report_words_the_reasons_the_plate_qc_stored() -> None:
    model = builders.qc_report("zh-CN")
    text = _text(render_qc_report(model))
    assert squash("Westgard规则：C8 违反 1-2s（批号 VQC-L-2501）：z = +2.40 (A02)") in text
    assert squash("内标：孔 D07（患者样本 250301042）：不可报告：D3-C8：内标偏低（全板中位数的 "
                  "21%） → C6、C8、C10") in text
    assert "not reportable" not in text and "internal_standard" not in text


def test_a_qc_findings_text_must_keep_the_phrases_placeholders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = wording_path("zh-CN").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("lot_expired = "))
    path = tmp_path / "zh-CN.toml"
    path.write_text(text.replace(line, line.replace("{expires}", "{expiry}")), encoding="utf-8")
    with pytest.raises(ReportDataError, match="lot_expired"):
        load_wording(path)
