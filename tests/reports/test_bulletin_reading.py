"""What a new reader of the bulletin found wrong: the title repeating the programme's generic
name, the districts' count column empty, a unit ranked first on an indicator where it was the
only one with a value."""

from __future__ import annotations

from reports.bulletin import Measure, UnitMeasures, ranking, render_bulletin
from reports.indicators import indicators
from tests.reports import builders
from tests.reports.pdfcheck import page_texts, squash


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def test_the_title_names_a_programme_only_when_the_title_does_not() -> None:
    generic = _text(
        render_bulletin(builders.bulletin("en", programme="Newborn screening programme"))
    )
    assert (
        squash("Newborn screening programme bulletin: Newborn screening programme") not in generic
    )
    assert squash("Newborn screening programme bulletin") in generic
    named = _text(render_bulletin(builders.bulletin("en")))
    assert (
        squash("Newborn screening programme bulletin: Riverside newborn screening programme")
        in named
    )
    # the laboratory file's packaged programme name (lims/documents/data/laboratory.toml)
    chinese = _text(render_bulletin(builders.bulletin("zh-CN", programme="新生儿疾病筛查项目")))
    assert "新生儿疾病筛查项目月报" in chinese and "月报：新生儿疾病筛查项目" not in chinese


def test_the_districts_table_counts_the_cards_received() -> None:
    units = builders._units("en")
    districts = tuple(
        UnitMeasures(
            code=d,
            name=d,
            measures={"unsatisfactory_rate": Measure(value=1.0, n=n, numerator=n // 100)},
        )
        for d, n in (("West Lake", 2940), ("Binjiang", 800))
    )
    text = _text(render_bulletin(builders.bulletin("en", units=tuple(units), districts=districts)))
    assert squash("District Cards received") in text
    assert squash("West Lake 2,940") in text and squash("Binjiang 800") in text


def test_a_unit_alone_with_a_value_is_not_ranked_on_it() -> None:
    units = []
    for u in builders._units("en"):
        measures = {k: v for k, v in u.measures.items() if k != "recall_compliance"}
        if u.code == "H05":
            measures["recall_compliance"] = Measure(value=0.0, n=1, numerator=0)
        units.append(u.model_copy(update={"measures": measures}))
    ranked = {r.unit.code: r for r in ranking(units, indicators())}
    assert "recall_compliance" not in ranked["H05"].ranks
    assert all("recall_compliance" not in r.ranks for r in ranked.values())
    assert ranked["H01"].ranks["unsatisfactory_rate"] >= 1  # two or more values: ranked
