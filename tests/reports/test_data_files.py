"""The wording and indicator data files: both languages complete, and a broken file refused
with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from msms.catalogue import DISORDER_CATEGORIES, default_catalogue
from reports import ReportError
from reports.datafile import ReportDataError
from reports.indicators import INDICATORS_TOML, indicators, load_indicators, rank
from reports.models import DocumentInfo
from reports.wording import load_wording, placeholders, wording, wording_for, wording_path
from tests.reports.builders import ISSUED


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_wording_covers_every_group_and_disorder(lang: str) -> None:
    words = wording(lang)  # type: ignore[arg-type]
    assert words.language == lang and words.version
    assert set(words.group) == DISORDER_CATEGORIES
    assert {d.code for d in default_catalogue().disorders} == set(words.disorders)
    assert words.group_of("MCAD") is words.group["fatty_acid_oxidation"]
    for group in words.group.values():
        assert group.sources and all(words.source(s).url for s in group.sources)


def test_the_translation_keeps_the_placeholders() -> None:
    en, zh = wording("en"), wording("zh-CN")
    assert placeholders(en.letter.action_clinic.immediate_referral) == {"due", "clinic"}
    assert placeholders(zh.letter.action_clinic.immediate_referral) == {"due", "clinic"}


def _broken(tmp_path: Path, old: str, new: str, lang: str = "zh-CN") -> Path:
    text = wording_path(lang).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{lang}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_missing_group_text_names_file_line_and_field(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'family_action = "请日夜至少每3小时',
                   'family_actionX = "请日夜至少每3小时')
    with pytest.raises(ReportDataError) as err:
        load_wording(path)
    assert err.value.file == str(path)
    assert err.value.field == "group.fatty_acid_oxidation.family_action"
    assert err.value.line is not None
    line = path.read_text(encoding="utf-8").splitlines()[err.value.line - 1]
    assert line == "[group.fatty_acid_oxidation]"  # the table that lacks the key


def test_a_translation_that_drops_a_placeholder_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "前将宝宝转诊至{clinic}进行确诊检查", "前将宝宝转诊进行确诊检查")
    with pytest.raises(ReportDataError, match="placeholders") as err:
        load_wording(path)
    assert err.value.field == "letter.action_clinic.immediate_referral"
    line = path.read_text(encoding="utf-8").splitlines()[err.value.line - 1]  # type: ignore[operator]
    assert line.startswith("immediate_referral")


def test_an_unlisted_source_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'sources = ["madrid_b12", "act", "domain_notes"]',
                   'sources = ["madrid_b12", "nowhere"]', lang="en")
    with pytest.raises(ReportDataError, match="nowhere"):
        load_wording(path)


def test_a_reprint_with_another_wording_version_is_refused() -> None:
    info = DocumentInfo(document_id="D1", issued_at=ISSUED, lang="en", wording_version="1999.1")
    with pytest.raises(ReportError, match="1999.1"):
        wording_for(info)
    same = info.model_copy(update={"wording_version": wording("en").version})
    assert wording_for(same) is wording("en")


def test_indicator_definitions_are_complete_and_cited() -> None:
    defs = indicators()
    assert defs.codes[:3] == ("coverage", "unsatisfactory_rate", "early_collection")
    assert {"transit_time", "recall_compliance", "lost_to_follow_up", "ppv"} <= set(defs.codes)
    for item in defs.indicator:
        assert item.text("name", "zh-CN") and item.text("numerator", "en")
        assert all(defs.source(s).url for s in item.sources)
    unsat = defs.get("unsatisfactory_rate")
    assert (unsat.target, unsat.better, unsat.meets(0.4), unsat.meets(0.6)) == (0.5, "lower",
                                                                              True, False)


def test_ranks_are_competition_ranks_best_first() -> None:
    defs = indicators()
    assert rank({"a": 0.3, "b": 0.1, "c": 0.3, "d": None},
                defs.get("unsatisfactory_rate")) == {"b": 1, "a": 2, "c": 2}
    assert rank({"a": 90.0, "b": 99.0}, defs.get("coverage")) == {"b": 1, "a": 2}
    assert rank({"a": 1.0}, defs.get("recall_rate")) == {}


def test_a_broken_indicator_file_names_its_line(tmp_path: Path) -> None:
    text = INDICATORS_TOML.read_text(encoding="utf-8")
    path = tmp_path / "indicators.toml"
    path.write_text(text.replace('better = "lower"\ntarget = 0.5', 'better = "down"\ntarget = 0.5',
                                 1), encoding="utf-8")
    with pytest.raises(ReportDataError) as err:
        load_indicators(path)
    assert err.value.field == "indicator[1].better"
    assert path.read_text(encoding="utf-8").splitlines()[err.value.line - 1] == 'better = "down"'  # type: ignore[operator]


def test_an_indicator_source_without_a_chinese_title_is_refused(tmp_path: Path) -> None:
    text = INDICATORS_TOML.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith('titles."zh-CN" = "NewSTEPs质量指标1'))
    path = tmp_path / "indicators.toml"
    path.write_text(text.replace(line + "\n", ""), encoding="utf-8")
    with pytest.raises(ReportDataError, match=r"newsteps_qi1 has no title in \['zh-CN'\]"):
        load_indicators(path)
