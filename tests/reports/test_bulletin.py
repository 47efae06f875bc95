"""The monthly bulletin and the report cards: read back, rendered, the ranking, and a bulletin
over a simulated month printing the measures computed directly from its records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bench.reports import bulletin_from_month, simulate_month
from reports.bulletin import Measure, fmt_measure, ranking, render_bulletin
from reports.indicators import indicators
from reports.report_card import render_report_card, report_card
from reports.wording import wording
from tests.reports import builders
from tests.reports.pdfcheck import (
    assert_contains,
    assert_golden,
    assert_pages_sound,
    page_texts,
    squash,
)


def test_bulletin_in_english() -> None:
    pdf = render_bulletin(builders.bulletin("en"))
    assert_pages_sound(pdf)
    assert_contains(pdf, "Newborn screening programme bulletin: Riverside newborn screening "
                    "programme", "2025-03-01 to 2025-03-31", "Programme measures this month",
                    "Coverage 96.9% 5,135 / 5,300 >= 95.0% met",
                    "Unsatisfactory specimens 0.58% 30 / 5,190 <= 0.50% not met",
                    "Recall compliance 90.9% 20 / 22 >= 100.0% not met",
                    "Cases missed by the screen 1 1 - - 0",
                    "Ranking of submitting units", "Indicators by submitting unit",
                    "Confirmed cases by disorder", "Phenylketonuria (PKU)",
                    "Indicator definitions", "NewSTEPs Quality Indicator 1",
                    "indicator definitions 2025.4")


def test_units_are_ranked_by_their_mean_rank() -> None:
    bulletin = builders.bulletin("en")
    order = [r.unit.code for r in ranking(bulletin.units, indicators())]
    # mean ranks worked by hand: H03 1.4, H01 1.6, H05 17/7, H04 30/8, H02 33/8
    assert order == ["H03", "H01", "H05", "H04", "H02"]
    assert [round(r.mean_rank or 0, 3) for r in ranking(bulletin.units, indicators())] == [
        1.4, 1.6, 2.429, 3.75, 4.125]
    text = squash("".join(page_texts(render_bulletin(bulletin))))
    assert squash("1 Binjiang Hospital Binjiang 1.4") in text
    assert squash("5 West Lake People's Hospital West Lake 4.1") in text


def test_tied_units_share_a_position_and_a_unit_without_figures_has_none() -> None:
    units = builders.bulletin("en").units
    best = next(u for u in units if u.code == "H03")
    twin = best.model_copy(update={"code": "H09", "name": "Twin Hospital"})
    empty = best.model_copy(update={"code": "H00", "name": "New Clinic", "measures": {}})
    ranked = ranking([*units, twin, empty], indicators())
    positions = {r.unit.code: r.position for r in ranked}
    assert positions["H03"] == positions["H09"] == 1  # same figures, same mean rank
    assert positions["H01"] == 3  # competition ranking: 1, 1, 3
    assert positions["H00"] is None and ranked[-1].unit.code == "H00"
    nobody = ranking([empty], indicators())
    assert [r.position for r in nobody] == [None]


def test_bulletin_in_chinese() -> None:
    pdf = render_bulletin(builders.bulletin("zh-CN"))
    assert_pages_sound(pdf)
    assert_contains(pdf, "新生儿疾病筛查项目月报：江南市新生儿遗传代谢病筛查项目",
                    "2025年03月01日至2025年03月31日", "筛查覆盖率", "不合格血片率", "未达标",
                    "送检单位排名", "滨江医院", "指标定义", "越低越好", "苯丙酮尿症")


def test_a_bulletin_over_a_simulated_month_prints_the_measures_computed_directly() -> None:
    month = simulate_month(6_000, units=6, districts=2, seed=11)
    pdf = render_bulletin(bulletin_from_month(month, "en"))
    assert_pages_sound(pdf)
    text = squash("".join(page_texts(pdf)))
    words, defs = wording("en"), indicators()
    spec, rec = month.specimens, month.recalls
    unsat = spec.groupby("unit").unsatisfactory.mean() * 100
    early = (spec.assign(early=spec.age_h < 24).groupby("unit").early.mean()) * 100
    transit = spec.groupby("unit").transit_h.median()
    for code, name in month.units.name.items():
        cells = [fmt_measure(defs.get("unsatisfactory_rate"), unsat[code], words),
                 fmt_measure(defs.get("early_collection"), early[code], words),
                 fmt_measure(defs.get("transit_time"), transit[code], words, bare=True)]
        row_start = text.index(squash(name))
        row = text[row_start:row_start + 400]
        for value in cells:
            assert value.replace(" ", "") in row, (code, value)
    total_recall = 100 * len(rec) / len(spec)
    assert squash(f"Recall rate {fmt_measure(defs.get('recall_rate'), total_recall, words)}"
                  f" {len(rec):,} / {len(spec):,}") in text


def test_a_proportion_that_does_not_match_its_counts_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not 100 x 30 / 5190"):
        builders.bulletin("en", programme_measures={
            "unsatisfactory_rate": Measure(value=0.8, n=5190, numerator=30)})
    with pytest.raises(ValidationError, match="unknown indicator 'coverage_rate'"):
        builders.bulletin("en", programme_measures={"coverage_rate": Measure(value=1.0)})


def test_report_card_against_the_median_of_units() -> None:
    bulletin = builders.bulletin("en")
    card = report_card(bulletin, "H02", builders.document("CARD-H02", "en"))
    assert card.ranks["unsatisfactory_rate"] == 5 and card.ranked_counts["coverage"] == 5
    pdf = render_report_card(card)
    assert_pages_sound(pdf)
    assert_contains(pdf, "Submitting unit report card: West Lake People's Hospital · West Lake",
                    "Unsatisfactory specimens 1.2% 960 0.78% 0.50% 5 of 5 worse",
                    "Where the unit stands among all units", "Indicator definitions")
    zh = render_report_card(report_card(builders.bulletin("zh-CN"), "H03",
                                        builders.document("CARD-H03", "zh-CN")))
    assert_contains(zh, "送检单位质量报告卡：滨江医院", "第1名（共5家）", "优于中位数")
    with pytest.raises(KeyError, match="no unit"):
        report_card(bulletin, "H99", builders.document("CARD-H99", "en"))


def test_golden_bulletin_and_report_card() -> None:
    bulletin = builders.bulletin("en")
    assert_golden(render_bulletin(bulletin), "bulletin-en")
    card = report_card(bulletin, "H02", builders.document("CARD-H02", "en"))
    assert_golden(render_report_card(card), "report-card-en")


def test_a_chinese_bulletin_titles_its_sources_in_chinese_and_cites_them_as_published() -> None:
    defs = indicators()
    zh = squash("".join(page_texts(render_bulletin(builders.bulletin("zh-CN")))))
    en = squash("".join(page_texts(render_bulletin(builders.bulletin("en")))))
    cited = {s for i in defs.indicator for s in (*i.sources, *filter(None, [i.target_source]))}
    assert cited
    for source_id in cited:
        source = defs.source(source_id)
        title = source.title_in("zh-CN")
        assert title and squash(f"[{source_id}] {title}。原文：{source.title}") in zh, source_id
        assert squash(f"[{source_id}] {source.title}") in en
        assert squash(title) not in en
