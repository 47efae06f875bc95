"""Result reports (one specimen, batch): read back in both languages, rendered to images."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from msms.catalogue import default_catalogue
from reports.result import SpecimenResult, render_batch_report, render_result_report
from reports.wording import wording
from tests.reports import builders
from tests.reports.pdfcheck import (
    assert_contains,
    assert_golden,
    assert_pages_sound,
    page_texts,
    squash,
)


def test_flagged_result_in_english_lists_every_disorder_and_the_action_first() -> None:
    pdf = render_result_report(builders.result_report("en"))
    assert assert_pages_sound(pdf) == 2
    first = page_texts(pdf)[0]
    assert first.index("OUT OF RANGE: ACTION NEEDED") < first.index("Out-of-range findings")
    assert_contains(pdf, "1 of 46 disorders out of range. Action: refer at once for diagnosis.",
                    "critical / screen positive", "C8=2.84>0.30; C8/C10=9.6>2.0",
                    "FIA-MS/MS, nonderivatized 0.1.0-default", "rules 2025.1 / lab table 2025-02",
                    "second-tier 2025.02-rf", "Released by Dr Zhang Wei on 2025-03-04 09:10",
                    "Reviewed by Dr Chen Jing", "Limitations",
                    "they are not plasma concentrations")
    text = squash("".join(page_texts(pdf)))
    words = wording("en")
    for disorder in default_catalogue().disorders:
        assert squash(words.disorder_label(disorder.code)) in text, disorder.code
    for group in words.group.values():
        assert squash(group.name) in text


def test_negative_result_in_chinese() -> None:
    report = builders.result_report("zh-CN", flagged=False)
    pdf = render_result_report(report)
    assert_pages_sound(pdf)
    assert_contains(pdf, "筛查阴性", "所筛查的全部46种疾病均在切值范围内，无需处理。",
                    "苯丙酮尿症（PKU）", "β-酮硫解酶缺乏症（BKT）", "二级模型", "局限性",
                    "发布人：张伟", "审核人：陈静")
    assert "异常结果" not in "".join(page_texts(pdf))


def test_specimen_notes_are_explained() -> None:
    specimen = builders.specimen("en", notes=("early_collection", "tpn"))
    report = builders.result_report("en", result=builders.specimen_result("en",
                                                                          specimen=specimen))
    assert_contains(render_result_report(report), "About this specimen",
                    "Collected before 24 hours of age", "On parenteral nutrition at collection")


def test_batch_report_summarises_then_gives_each_specimen() -> None:
    for lang, count_text, heading in (
            ("en", "3 specimens, 1 out of range", "Every disorder screened"),
            ("zh-CN", "共3份标本，其中1份结果异常", "全部筛查疾病")):
        pdf = render_batch_report(builders.batch_report(lang))  # type: ignore[arg-type]
        assert assert_pages_sound(pdf) >= 4
        assert_contains(pdf, count_text, "250301000", "250301001", "250301002")
        assert squash("".join(page_texts(pdf))).count(squash(heading)) == 3


def test_a_disorder_listed_twice_is_refused() -> None:
    results = builders.disorder_results()
    with pytest.raises(ValidationError, match="more than once"):
        builders.specimen_result("en", results=(*results, results[0]))
    assert isinstance(builders.specimen_result("en"), SpecimenResult)


def test_golden_result_reports() -> None:
    assert_golden(render_result_report(builders.result_report("en")), "result-en")
    assert_golden(render_batch_report(builders.batch_report("zh-CN")), "batch-zh-CN")



@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_group_heading_is_on_the_page_of_its_first_disorders(lang: str) -> None:
    """A group heading of "Every disorder screened" never ends a page with its disorders on the
    next (the English report broke after "Peroxisomal disorders"): each heading is on the page
    of its group's first two disorders."""
    report = builders.result_report(lang)
    pages = [squash(p) for p in page_texts(render_result_report(report))]
    catalogue, words = default_catalogue(), wording(lang)
    start = next(k for k, p in enumerate(pages) if squash(words.result.all_heading) in p)
    # the table's text: from its heading on
    table = [p.split(squash(words.result.all_heading), 1)[-1] if k == start else p
             for k, p in enumerate(pages)][start:]
    order = {d.code: i for i, d in enumerate(catalogue.disorders)}
    groups: dict[str, list[str]] = {}
    for r in sorted(report.result.results, key=lambda r: order[r.code]):
        groups.setdefault(catalogue.disorder(r.code).category, []).append(r.code)
    assert len(table) == 2 and len(groups) >= 6
    for category, codes in groups.items():
        page = next(p for p in table if squash(words.group[category].name) in p)
        for code in codes[:2]:  # the label's start (a long label wraps in its cell)
            assert squash(words.disorder_label(code))[:10] in page, (category, code)
