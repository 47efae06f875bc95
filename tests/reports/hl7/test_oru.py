"""ORU^R01 result messages: strict v2.5.1 validation (hl7apy), the reference messages' structure
and code systems, corrections, and the errors a bad view model gets."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from reports.hl7 import Card, Hl7Error, Interpretation, Measurement, SpecimenQuality, build_oru
from reports.hl7.er7 import components
from tests.reports.hl7.builders import (
    obx_rows,
    reference_messages,
    result,
    segments,
    strict,
    tolerant,
)

#: The LRI-style layout the Natus, Minnesota and Louisiana programmes send: one ORC/OBR per
#: panel, the specimen after the summary panel's observations.
_LAYOUT = re.compile(r"MSH PID (NK1 )*(ORC OBR (OBX )+(SPM )?)+")


def _shape(message: str) -> str:
    names = [s.name for s in segments(message) if s.name]
    return " ".join(names) + " "


def _systems(message: str) -> set[tuple[str, str]]:
    """(segment-field, coding system) of every coded field the result panels use."""
    found = set()
    places = {"OBR": (4, 50), "OBX": (3, 6), "SPM": (4,), "NK1": (3,)}
    for segment in segments(message):
        for number in places.get(segment.name, ()):
            parts = components(segment.field(number))
            for index in (2, 5):
                if len(parts) > index and parts[index]:
                    found.add((f"{segment.name}-{number}", parts[index]))
        if segment.name == "OBX" and segment.field(2) in ("CWE", "CE"):
            parts = components(segment.field(5))
            if len(parts) > 2 and parts[2]:
                found.add(("OBX-5", parts[2]))
    return found


def _reference_orus() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in reference_messages() if "ORU" in p.name]


def test_a_result_message_validates_against_the_v251_oru_r01_structure() -> None:
    message = build_oru(result())
    parsed = strict(message)
    assert parsed.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert parsed.msh.msh_12.to_er7() == "2.5.1"


@pytest.mark.parametrize("path", reference_messages(), ids=lambda p: p.name)
def test_the_reference_messages_parse(path) -> None:
    parsed = tolerant(path.read_text(encoding="utf-8"))
    assert parsed.msh.msh_12.to_er7() == "2.5.1"
    assert parsed.name in ("ORU_R01", "OML_O21")


def test_our_segment_layout_is_the_programmes_layout() -> None:
    lri = [m for m in _reference_orus() if "ORC|RE" in m and "SPM|" in m]
    assert len(lri) >= 3
    for reference in lri:
        assert _LAYOUT.fullmatch(_shape(reference.replace("\n", "\r")))
    assert _LAYOUT.fullmatch(_shape(build_oru(result())))


def test_our_code_systems_and_panel_codes_are_those_of_the_reference_messages() -> None:
    references = _reference_orus()
    known = set().union(*(_systems(m.replace("\n", "\r")) for m in references))
    ours = _systems(build_oru(result(interpretations=(Interpretation("NKH", "positive"),))))
    assert ours <= known, ours - known
    panels = {components(s.field(4))[0] for m in references for s in segments(m) if s.name == "OBR"}
    our_panels = {components(s.field(4))[0] for s in segments(build_oru(result()))
                  if s.name == "OBR"}
    assert our_panels <= panels


def test_card_data_and_summary_use_the_reference_questions() -> None:
    references = _reference_orus()
    questions = {components(s.field(3))[0] for m in references for s in segments(m)
                 if s.name == "OBX"}
    card = Card(barcode="1", collected_at=result().card.collected_at,
                received_at=result().card.received_at, birth_weight_g=900,
                gestational_age_weeks=27.5, age_at_collection_hours=30, feeding="mixed", tpn=True,
                transfused=True, transfused_at=result().card.collected_at - timedelta(hours=5),
                nicu=True)
    rows = obx_rows(build_oru(result(card=card)))
    summary_and_card = {r[2][0] for r in rows if r[0] in ("57128-1", "57717-1")}
    assert summary_and_card <= questions


def test_a_correction_is_status_c_everywhere_and_an_original_is_f() -> None:
    for version, status in ((1, "F"), (3, "C")):
        message = build_oru(result(version=version, message_control_id=f"NBS-1-{version}"))
        strict(message)
        assert {s.field(25) for s in segments(message) if s.name == "OBR"} == {status}
        assert {s.field(11) for s in segments(message) if s.name == "OBX"} == {status}


def test_card_data_values() -> None:
    collected = result().card.collected_at
    card = replace(result().card, kind="repeat", feeding="mixed", tpn=True, transfused=True,
                   transfused_at=collected - timedelta(hours=20), nicu=True,
                   quality=SpecimenQuality(False, "U03", "Insufficient blood"))
    message = build_oru(result(card=card))
    strict(message)
    rows = {(r[2][0], r[3][0]) for r in obx_rows(message)}
    assert ("57721-3", "LA12426-5") in rows
    assert {("67704-7", "LA16914-6"), ("67704-7", "LA16915-3"), ("67704-7", "LA12418-2")} <= rows
    assert {("57713-0", "LA12419-0"), ("57713-0", "LA12417-4")} <= rows
    assert ("62317-3", "20240301223000+0000") in rows
    assert ("57718-9", "U03") in rows


def test_a_message_without_mother_or_results_still_validates() -> None:
    message = build_oru(result(mother=None, analytes=(), ratios=(), interpretations=(),
                               recommendation="", ordering_provider=None,
                               placer_order_number=""))
    strict(message)
    assert "NK1" not in {s.name for s in segments(message)}
    panels = [components(s.field(4))[0] for s in segments(message) if s.name == "OBR"]
    assert panels == ["57128-1", "57717-1"]


def test_overall_interpretation_follows_the_calls() -> None:
    def overall(*calls: Interpretation) -> str:
        rows = obx_rows(build_oru(result(interpretations=calls)))
        return next(r[3][0] for r in rows if r[2][0] == "57130-7")

    assert overall(Interpretation("PKU", "normal")) == "LA12428-1"
    assert overall(Interpretation("PKU", "borderline")) == "LA18944-1"
    assert overall(Interpretation("MCAD", "positive", immediate=True)) == "LA25817-0"


@pytest.mark.parametrize(("change", "words"), [
    ({"message_time": datetime(2024, 3, 1)}, "message_time"),
    ({"analytes": (Measurement("C99", 1.0),)}, "'C99' is not a catalogue analyte"),
    ({"ratios": (Measurement("C8", 1.0),)}, "'C8' is not a catalogue ratio"),
    ({"analytes": (Measurement("C8", float("nan")),)}, "C8"),
    ({"analytes": (Measurement("C8", 1.0, "HIGH"),)}, "abnormal flag 'HIGH'"),
    ({"interpretations": (Interpretation("XYZ", "positive"),)}, "'XYZ'"),
    ({"conditions_tested": ("XYZ",)}, "conditions_tested"),
    ({"filler_order_number": ""}, "filler_order_number"),
    ({"version": 0}, "version 0"),
    ({"card": replace(result().card, quality=SpecimenQuality(False))}, "unsatisfactory"),
])
def test_a_view_model_that_cannot_be_sent_is_refused_by_name(change, words) -> None:
    with pytest.raises(Hl7Error, match=re.escape(words)):
        build_oru(result(**change))


def test_the_repeats_of_a_question_have_their_own_sub_ids() -> None:
    """Each disorder's interpretation repeats its panel's LOINC question (the disorder as the
    alternate code): a receiver that keys results by question and sub-id must see each one."""
    calls = (Interpretation("MCAD", "positive", immediate=True),
             Interpretation("MCKAT", "positive"), Interpretation("DERED", "normal"),
             Interpretation("PKU", "normal"))
    keys: dict[tuple[str, str], list[str]] = {}
    panel = ""
    for segment in segments(build_oru(result(interpretations=calls))):
        if segment.name == "OBR":
            panel = components(segment.field(4))[0]
        elif segment.name == "OBX":
            question = components(segment.field(3))
            keys.setdefault((panel, question[0]), []).append(segment.field(4))
    fao = keys[("57084-6", "46736-5")]
    assert fao == ["1", "2", "3"]
    for (_, question), subs in keys.items():
        assert len(set(subs)) == len(subs), (question, subs)
