"""Card data in: OML^O21 messages (the two real ones and variations), the submitter's CSV, and the
ACKs that answer them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reports.hl7 import (
    CardFileError,
    MessageError,
    ack_for,
    build_ack,
    parse_oml,
    read_cards_csv,
    read_header,
)
from tests.reports.hl7.builders import REFERENCE, segments, strict

MN = (REFERENCE / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8").replace("\n", "\r")
CA = (REFERENCE / "001_CA_OML_O21.hl7").read_text(encoding="utf-8")
NOW = datetime(2024, 5, 7, 9, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=-5))


def _replace_segment(message: str, name: str, occurrence: int, new: str) -> str:
    lines = message.replace("\n", "\r").strip("\r").split("\r")
    seen = 0
    for index, line in enumerate(lines):
        if line.split("|", 1)[0] == name:
            seen += 1
            if seen == occurrence:
                lines[index] = new
    return "\r".join(lines) + "\r"


def _field(message: str, name: str, occurrence: int, number: int, value: str) -> str:
    segment = [s for s in segments(message) if s.name == name][occurrence - 1]
    fields = list(segment.fields)
    fields += [""] * (number + 1 - len(fields))
    fields[number] = value
    text = "MSH|" + "|".join(fields[2:]) if name == "MSH" else "|".join(fields)
    return _replace_segment(message, name, occurrence, text)


def test_the_minnesota_order_reads_into_an_accession_record() -> None:
    record = parse_oml(MN)
    assert record.barcode == "0516199364"
    assert record.submitter == "Centracare"
    assert record.birth_at == datetime(2023, 5, 4, 13, 10, 23, tzinfo=CST)
    assert record.collected_at == datetime(2023, 5, 6, 6, 0, tzinfo=CST)
    assert record.sex == "M" and record.medical_record_number == "11102779"
    assert record.baby_name is not None and record.baby_name.family == "SMITH"
    assert record.mother_name is not None and record.mother_name.given == "SADIE"
    assert record.birth_weight_g == 1770 and record.gestational_age_weeks == 32.0
    assert (record.feeding, record.tpn, record.nicu) == ("breast", True, True)
    assert record.placer_order_number == "421832901"
    assert record.message_control_id == "31808297"
    assert record.where("barcode") == "OBX[9]-5" and record.where("birth_at") == "PID-7"
    assert record.where("mother_name") == "NK1[2]-2"


def test_the_california_order_is_refused_naming_its_bad_field() -> None:
    with pytest.raises(MessageError) as caught:
        parse_oml(CA)
    assert str(caught.value.location) == "PID-25"
    assert caught.value.acknowledgment == "AE"


@pytest.mark.parametrize(("edit", "where", "ack"), [
    (lambda m: _field(m, "PID", 1, 7, "2023-05-04"), "PID-7", "AE"),
    (lambda m: _field(m, "PID", 1, 7, ""), "PID-7", "AE"),
    (lambda m: _field(m, "OBX", 1, 5, "heavy"), "OBX-5", "AE"),
    (lambda m: _field(m, "OBX", 1, 6, "lb^pound^UCUM"), "OBX-6", "AE"),
    (lambda m: _field(m, "OBX", 7, 5, "LA99999-9^Camel milk^LN"), "OBX[7]-5", "AE"),
    (lambda m: _field(m, "OBX", 9, 3, "99999-9^Something else^LN"), "OBX", "AE"),
    (lambda m: _field(m, "SPM", 1, 17, "20231306"), "SPM-17", "AE"),
    (lambda m: _field(m, "MSH", 1, 9, "ORU^R01^ORU_R01"), "MSH-9", "AR"),
    (lambda m: _field(m, "MSH", 1, 12, "2.3"), "MSH-12", "AR"),
    (lambda m: _field(m, "MSH", 1, 10, ""), "MSH-10", "AR"),
    (lambda m: m.replace("MSH|^~\\&", "MSH|^^\\&", 1), "MSH-2", "AR"),
])
def test_a_bad_order_is_refused_naming_segment_and_field(edit, where, ack) -> None:
    message = edit(MN)
    with pytest.raises(MessageError) as caught:
        parse_oml(message)
    assert str(caught.value.location) == where
    assert caught.value.acknowledgment == ack
    reply = ack_for(message, caught.value, control_id="A1", message_time=NOW)
    if where in ("MSH-2", "MSH-10"):  # nothing to echo in MSA-2, which v2.5.1 requires
        assert next(s for s in segments(reply) if s.name == "MSA").field(2) == ""
    else:
        strict(reply)
    err = next(s for s in segments(reply) if s.name == "ERR")
    assert err.field(2).startswith(where.split("-")[0].split("[")[0])
    assert next(s for s in segments(reply) if s.name == "MSA").field(1) == ack


def test_a_repeated_single_observation_is_refused_at_the_second() -> None:
    twice = MN.replace("\rOBX|2|", "\rOBX|1|NM|8339-4^BW^LN|1|1800|g|||||O\rOBX|2|", 1)
    with pytest.raises(MessageError, match="given twice") as caught:
        parse_oml(twice)
    assert str(caught.value.location) == "OBX[2]-3"


def test_times_without_an_offset_are_in_the_given_zone() -> None:
    plain = _field(MN, "PID", 1, 7, "20230504131023")
    shanghai = timezone(timedelta(hours=8))
    assert parse_oml(plain, default_tz=shanghai).birth_at.utcoffset() == timedelta(hours=8)


def test_acks_echo_the_control_id_and_swap_sender_and_receiver() -> None:
    reply = ack_for(MN, control_id="ACK-1", message_time=NOW)
    parsed = strict(reply)
    assert parsed.msh.msh_9.to_er7() == "ACK^O21^ACK"
    assert parsed.msa.msa_1.to_er7() == "AA" and parsed.msa.msa_2.to_er7() == "31808297"
    assert parsed.msh.msh_5.to_er7().startswith("Epic")
    assert parsed.msh.msh_3.to_er7().startswith("NATUS")


def test_an_unreadable_message_still_gets_an_ack() -> None:
    reply = build_ack(read_header("garbage"), "AR", control_id="A2", message_time=NOW,
                      errors=[MessageError("not HL7", None, code=100, acknowledgment="AR")])
    assert [s.name for s in segments(reply)] == ["MSH", "MSA", "ERR"]
    assert next(s for s in segments(reply) if s.name == "MSA").field(1) == "AR"
    with pytest.raises(Exception, match="at least one"):
        build_ack(None, "AE", control_id="A3", message_time=NOW)


CSV_HEADER = ("barcode,submitter,collected_at,birth_at,sex,baby_family_name,mother_family_name,"
              "birth_weight_g,gestational_age_weeks,feeding,tpn,transfused_at\n")


def test_a_card_csv_reads_into_the_same_records(tmp_path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(CSV_HEADER
                    + "0516199364,Centracare,2023-05-06T06:00-05:00,2023-05-04T13:10:23-05:00,M,"
                      "SMITH,SMITH,1770,32,breast,1,\n"
                    + "0516199365,Centracare,2023-05-06 07:00,2023-05-04 01:00,F,LI,,3100,39.5,"
                      "mixed,0,2023-05-05T10:00+08:00\n", encoding="utf-8")
    first, second = read_cards_csv(path)
    oml = parse_oml(MN)
    for name in ("barcode", "submitter", "collected_at", "birth_at", "sex", "birth_weight_g",
                 "gestational_age_weeks", "feeding", "tpn"):
        assert getattr(first, name) == getattr(oml, name), name
    assert second.collected_at.tzinfo == UTC and second.transfused and second.line == 3
    assert second.where("birth_weight_g") == "line 3"


@pytest.mark.parametrize(("row", "column", "words"), [
    ("1,H,2023-05-06T06:00,2023-05-04,X,,,,,,,\n", "sex", "'X' is not one of M, F, U"),
    ("1,H,2023-05-06T06:00,yesterday,M,,,,,,,\n", "birth_at", "yesterday"),
    ("1,H,2023-05-06T06:00,2023-05-04,M,,,3.1kg,,,,\n", "birth_weight_g", "whole number"),
    ("1,H,2023-05-06T06:00,2023-05-04,M,,,,nan,,,\n", "gestational_age_weeks", "nan"),
    ("1,H,2023-05-06T06:00,2023-05-04,M,,,,,soup,,\n", "feeding", "soup"),
    ("1,H,2023-05-06T06:00,2023-05-04,M,,,,,,maybe,\n", "tpn", "maybe"),
    (",H,2023-05-06T06:00,2023-05-04,M,,,,,,,\n", "barcode", "is empty"),
])
def test_a_bad_card_row_is_refused_naming_file_line_and_column(tmp_path, row, column,
                                                               words) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(CSV_HEADER + "9,H,2023-05-06T06:00,2023-05-04,M,,,,,,,\n" + row,
                    encoding="utf-8")
    with pytest.raises(CardFileError, match=words) as caught:
        read_cards_csv(path)
    assert (caught.value.line, caught.value.column) == (3, column)
    assert str(path) in str(caught.value)


def test_a_card_file_cut_short_is_refused_naming_its_last_line_and_its_fields(tmp_path) -> None:
    path = tmp_path / "cards_trunc.csv"
    path.write_text(CSV_HEADER + "9,H,2023-05-06T06:00,2023-05-04,M,,,,,,,\n"
                    + "10,H,2026", encoding="utf-8")
    with pytest.raises(CardFileError) as caught:
        read_cards_csv(path)
    assert (caught.value.line, caught.value.column) == (3, None)
    assert str(caught.value).endswith("line 3 has 3 of 12 fields (the file may be cut short)")
    path.write_text(CSV_HEADER + "9,H,2023-05-06T06:00,2023-05-04,M\n"
                    + "10,H,2023-05-06T06:00,2023-05-04,M,,,,,,,\n", encoding="utf-8")
    with pytest.raises(CardFileError, match="line 2 has 5 of 12 fields .a cell or a separator"):
        read_cards_csv(path)


def test_a_card_file_with_a_duplicate_or_unknown_column_is_refused(tmp_path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(CSV_HEADER + "9,H,2023-05-06T06:00,2023-05-04,M,,,,,,,\n"
                    + "9,H,2023-05-07T06:00,2023-05-04,M,,,,,,,\n", encoding="utf-8")
    with pytest.raises(CardFileError, match="also on line 2"):
        read_cards_csv(path)
    path.write_text("barcode,submitter,collected_at,birth_at,colour\n", encoding="utf-8")
    with pytest.raises(CardFileError, match="unknown column"):
        read_cards_csv(path)


def test_a_card_stream_that_is_not_well_formed_csv_is_refused_naming_its_line() -> None:
    stream = io.StringIO(CSV_HEADER + "9,H\r,2023-05-06T06:00,2023-05-04,M,,,,,,,\n")
    stream.name = "cards.csv"
    with pytest.raises(CardFileError, match="well-formed CSV") as caught:
        read_cards_csv(stream)
    assert caught.value.line == 2 and "cards.csv" in str(caught.value)
    with pytest.raises(CardFileError, match="well-formed CSV") as caught:
        read_cards_csv(io.StringIO("barcode\rsubmitter\n"))
    assert caught.value.line == 1


def test_a_family_name_s_subcomponents_are_surname_and_prefix() -> None:
    """XPN-1 is FN: surname & own surname prefix; an escaped separator inside it is text."""
    mother = [s for s in segments(MN) if s.name == "NK1"][1]
    prefixed = _field(MN, "NK1", 2, 2, "Beethoven&van^Mei")
    escaped = _field(MN, "NK1", 2, 2, "Zh\\F\\ang&Co^Mei")
    assert mother.field(2)  # the reference message names the mother
    assert parse_oml(prefixed).mother_name.family == "van Beethoven"
    name = parse_oml(escaped).mother_name
    assert (name.family, name.given) == ("Co Zh|ang", "Mei")
    assert parse_oml(_field(MN, "PID", 1, 5, "Li&de^Baby Girl")).baby_name.family == "de Li"
