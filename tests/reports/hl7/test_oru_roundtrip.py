"""A result message for a positive call of every catalogue disorder validates and reads back
(through hl7apy, independently of our own reader) to the same ids, analytes, values, units, flags
and interpretation codes; property tests for escaping and numbers."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.catalogue import default_catalogue
from msms.ratios import ratio_catalogue
from reports.hl7 import Interpretation, Measurement, Mother, PersonName, build_oru
from reports.hl7.codes import default_codes
from reports.hl7.er7 import components, escape, escape_text, format_number, unescape
from tests.reports.hl7.builders import (
    field_text,
    hl7apy_segments,
    result,
    segments,
    strict,
)


def _markers(disorder) -> tuple[tuple[Measurement, ...], tuple[Measurement, ...]]:
    """The disorder's analytes (named in its primary markers) and ratios (ratio catalogue),
    flagged high or low as the markers say."""
    text = disorder.primary_markers
    analytes = []
    for index, analyte in enumerate(default_catalogue().analytes):
        spellings = {analyte.code, *analyte.aliases, *analyte.code.split("+")}
        names = "|".join(re.escape(n) for n in spellings)
        match = re.search(rf"(?<![\w:+-])(?:{names})(?![\w:+-])(.{{0,12}})", text) or re.search(
            rf"(?<![\w'-]){re.escape(analyte.name.split(' (')[0])}(?![\w-])(.{{0,12}})", text,
            re.IGNORECASE)
        if match:
            flag = "L" if "low" in match.group(1) else "H"
            analytes.append(Measurement(analyte.code, 1.5 + index * 0.25, flag, 0.1, 1.2))
    ratios = tuple(Measurement(r.name, 2.75, "H", None, 1.9) for r in ratio_catalogue()
                   if disorder.code in r.disorders)
    return tuple(analytes), ratios


def _read_back(message: str) -> dict[str, object]:
    """Ids, measurements and interpretation codes, read with hl7apy's strict parser."""
    parsed = strict(message)
    codes = default_codes()
    by_code = {m.coded.code: name for table in (codes.analytes, codes.ratios)
               for name, m in table.items()}
    seen: dict[str, object] = {"measurements": [], "interpretations": [], "positive": []}
    for segment in hl7apy_segments(parsed):
        name = segment.name
        if name == "MSH":
            seen["control_id"] = field_text(segment, 10)
        elif name == "PID":
            seen["baby"] = field_text(segment, 3).split("~")[0].split("^")[0]
        elif name == "SPM":
            seen["barcode"] = field_text(segment, 2).split("^")[1].split("&")[0]
        elif name == "OBR":
            seen["filler"] = field_text(segment, 3).split("^")[0]
        elif name == "OBX":
            question = field_text(segment, 3).split("^")
            value = field_text(segment, 5).split("^")
            if field_text(segment, 2) == "NM" and question[0] in by_code:
                seen["measurements"].append((  # type: ignore[union-attr]
                    by_code[question[0]], float(value[0]), field_text(segment, 6).split("^")[0],
                    field_text(segment, 8)))
            elif len(question) > 3:
                seen["interpretations"].append((question[3], value[0]))  # type: ignore[union-attr]
            elif question[0] == "57131-5":
                seen["positive"].append(value[0])  # type: ignore[union-attr]
    return seen


@pytest.mark.parametrize("disorder", default_catalogue().disorders, ids=lambda d: d.code)
def test_a_positive_call_for_each_disorder_validates_and_round_trips(disorder) -> None:
    analytes, ratios = _markers(disorder)
    assert analytes or ratios, f"no markers found for {disorder.code}"
    other = "PKU" if disorder.code != "PKU" else "MSUD"
    view = result(message_control_id=f"NBS-{disorder.code}-1", analytes=analytes, ratios=ratios,
                  interpretations=(
                      Interpretation(disorder.code, "positive", bool(disorder.time_critical)),
                      Interpretation(other, "normal")))
    seen = _read_back(build_oru(view))
    codes = default_codes()
    assert seen["control_id"] == view.message_control_id
    assert seen["baby"] == view.baby.lab_id
    assert seen["filler"] == view.filler_order_number
    assert seen["barcode"] == view.card.barcode
    unit = {False: codes["unit.umol_l"].code, True: codes["unit.ratio"].code}
    expected = [(m.code, m.value, unit[False], m.flag) for m in analytes]
    expected += [(m.code, m.value, unit[True], m.flag) for m in ratios]
    assert sorted(seen["measurements"]) == sorted(expected)  # type: ignore[arg-type]
    answer = "LA25817-0" if disorder.time_critical else "LA18593-6"
    assert sorted(seen["interpretations"]) == sorted(  # type: ignore[arg-type]
        [(disorder.code, answer), (other, "LA18592-8")])
    assert seen["positive"] == [codes.disorders[disorder.code].answer.code]


_awkward = st.text(alphabet=st.sampled_from("ab |^~\\&\r\n\t\x0b\x1cé王"), min_size=1,
                   max_size=12)


@given(st.text())
def test_escape_round_trips_any_text(text: str) -> None:
    escaped = escape(text)
    assert not set(escaped) & set("|^~&\r\n\x0b\x1c")
    assert unescape(escaped) == text


@given(st.text())
def test_text_escape_keeps_line_breaks_as_line_feeds(text: str) -> None:
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert unescape(escape_text(text)) == expected


@settings(max_examples=20, deadline=None)
@given(family=_awkward, given_name=_awkward, mother=_awkward, text=_awkward)
def test_awkward_names_and_free_text_validate_and_read_back(family, given_name, mother,
                                                            text) -> None:
    view = result(baby=replace(result().baby, name=PersonName(family, given_name)),
                  mother=Mother(PersonName(mother)), recommendation="Note: " + text,
                  conditions_tested=("PKU",))
    message = build_oru(view)
    strict(message)
    by_name = {s.name: s for s in reversed(segments(message))}
    assert components(by_name["PID"].field(5))[:2] == [family, given_name]
    assert components(by_name["NK1"].field(2))[0] == mother
    narrative = next(s for s in segments(message)
                     if s.name == "OBX" and s.field(3).startswith("57724-7"))
    assert components(narrative.field(5))[0] == "Note: " + text.replace("\r\n", "\n").replace(
        "\r", "\n")


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_numbers_are_plain_decimals_with_six_significant_digits(value: float) -> None:
    text = format_number(value)
    assert "e" not in text.lower()
    assert float(text) == pytest.approx(float(f"{value:.6g}"), rel=1e-12, abs=0)
