"""Documents issued by the LIMS, through the API on SQLite and PostgreSQL: a referral's recall
letter issued at release; reprints byte-identical; corrections as a chain of versions; audit
rows; who sees what; the text read back in both languages; the append-only table."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from lims.models import AuditEvent, utcnow
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, specimen_body, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import assert_contains, assert_pages_sound, page_texts, squash

PDF = "application/pdf"


def _referred(client, world, n=1, plate="P-DOC"):  # type: ignore[no-untyped-def]
    """A card with an MSUD-critical Xle, released as a referral: its specimen."""
    specimen = accession(client, world, n)[n]
    response = upload(client, world, f"{plate}.csv", plate_csv(plate, {card(n): {"Xle": 900}}))
    assert response.status_code == 201, response.text
    decided = client.post(f"{API}/specimens/{specimen['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    return specimen


def _listed(client, world, role, **params):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/documents", params=params, headers=world.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def _trail(engine, doc_ids):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(AuditEvent.action).where(
            AuditEvent.entity == "issued_document",
            col(AuditEvent.entity_id).in_([str(i) for i in doc_ids]))
            .order_by(col(AuditEvent.id))).all()


def test_a_referral_gets_its_recall_letter_and_a_reprint_is_the_same_bytes(client, world,
                                                                          engine):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    assert (letter["version"], letter["language"], letter["audience"], letter["replaces_id"]) \
        == (1, "en", "clinic", None)
    first = client.get(f"{API}/documents/{letter['id']}", headers=world.auth("follow_up"))
    assert first.status_code == 200 and first.headers["content-type"] == PDF
    assert hashlib.sha256(first.content).hexdigest() == letter["sha256"] \
        == first.headers["X-Document-Sha256"]
    assert_contains(first.content, "TIME-CRITICAL", "MSUD", card(1), "Xle", "900", "400")
    assert_pages_sound(first.content)
    again = client.get(f"{API}/documents/{letter['id']}", headers=world.auth("reviewer"))
    assert again.content == first.content
    asked = client.post(f"{API}/documents/letters", json={"case_id": letter["case_id"]},
                        headers=world.auth("follow_up"))
    assert asked.status_code == 200, asked.text  # it exists: the stored bytes, no new version
    assert asked.content == first.content
    assert len(_listed(client, world, "admin", kind="recall_letter")) == 1
    assert _trail(engine, [letter["id"]]) == ["issue", "reprint", "reprint", "reprint"]


def test_a_correction_is_a_new_version_naming_the_one_it_replaces(client, world, engine):
    specimen = _referred(client, world)
    issued = client.post(f"{API}/documents/results", json={"specimen_id": specimen["id"]},
                         headers=world.auth("reviewer"))
    assert issued.status_code == 201, issued.text
    v1 = int(issued.headers["Location"].rsplit("/", 1)[1])
    refused = client.post(f"{API}/documents/{v1}/corrections", json={"reason": "typo"},
                          headers=world.auth("submitter"))
    assert refused.status_code == 403, refused.text
    fixed = client.post(f"{API}/documents/{v1}/corrections",
                        json={"reason": "birth weight corrected"},
                        headers=world.auth("reviewer"))
    assert fixed.status_code == 201, fixed.text
    assert fixed.headers["X-Document-Version"] == "2"
    assert fixed.headers["X-Document-Id"] == issued.headers["X-Document-Id"]
    assert_contains(fixed.content, "birth weight corrected")
    v2 = int(fixed.headers["Location"].rsplit("/", 1)[1])
    third = client.post(f"{API}/documents/{v1}/corrections", json={"reason": "second fix"},
                        headers=world.auth("admin"))
    assert third.headers["X-Document-Version"] == "3"
    chain = client.get(f"{API}/documents/{v1}/versions", headers=world.auth("reviewer")).json()
    assert [(d["version"], d["replaces_id"]) for d in chain] == [
        (1, None), (2, v1), (3, v2)]
    assert [d["correction_reason"] for d in chain] == ["", "birth weight corrected",
                                                       "second fix"]
    old = client.get(f"{API}/documents/{v1}", headers=world.auth("reviewer"))
    assert old.content == issued.content  # the replaced version is kept as it was
    assert _trail(engine, [d["id"] for d in chain]) == ["issue", "correct", "correct",
                                                        "reprint"]
    for statement in ("UPDATE issued_document SET sha256 = 'x'", "DELETE FROM issued_document"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_result_reports_in_both_languages_and_the_submitters_setting(client, world):
    specimen = _referred(client, world)
    english = client.post(f"{API}/documents/results", json={"specimen_id": specimen["id"]},
                          headers=world.auth("reviewer"))
    assert english.headers["X-Document-Id"].endswith("-en")
    assert_contains(english.content, "Newborn screening result report", card(1),
                    "OUT OF RANGE: ACTION NEEDED", "MSUD", "North General Hospital",
                    "Baby girl of Li Na", "Reviewer One")
    north = world.submitter_ids[0]
    setting = client.put(f"{API}/submitters/{north}/document-language",
                         json={"language": "zh-CN"}, headers=world.auth("admin"))
    assert setting.status_code == 200, setting.text
    assert client.put(f"{API}/submitters/{north}/document-language", json={"language": "en"},
                      headers=world.auth("reviewer")).status_code == 403
    chinese = client.post(f"{API}/documents/results", json={"specimen_id": specimen["id"]},
                          headers=world.auth("submitter"))
    assert chinese.status_code == 201, chinese.text
    assert chinese.headers["X-Document-Id"].endswith("-zh-CN")
    assert_contains(chinese.content, "新生儿筛查结果报告", "结果异常：需要处理", "Li Na之女",
                    card(1))
    assert_pages_sound(chinese.content)
    letter = client.post(f"{API}/documents/letters", json={
        "case_id": _listed(client, world, "follow_up", kind="recall_letter")[0]["case_id"],
        "audience": "family"}, headers=world.auth("follow_up"))
    assert letter.status_code == 201 and letter.headers["X-Document-Id"].endswith(
        "-family-zh-CN")
    assert_contains(letter.content, "Li Na之女", card(1), "Xle")


def test_who_sees_which_documents(client, world):
    mine = _referred(client, world)
    south = client.post(f"{API}/specimens", json=specimen_body(card(9), world.submitter_ids[1]),
                        headers=world.auth("technician")).json()
    upload(client, world, "P-S.csv", plate_csv("P-S", {card(9): {}}))
    released = client.post(f"{API}/specimens/{south['id']}/decisions", json={
        "decision": "release_normal", "reason": "", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text
    submitter = world.auth("submitter")
    assert client.post(f"{API}/documents/results", json={"specimen_id": south["id"]},
                       headers=submitter).status_code == 404
    assert client.post(f"{API}/documents/results", json={"specimen_id": mine["id"]},
                       headers=submitter).status_code == 201
    other = client.post(f"{API}/documents/results", json={"specimen_id": south["id"]},
                        headers=world.auth("reviewer"))
    assert other.status_code == 201
    assert_contains(other.content, "SCREEN NEGATIVE", card(9))
    other_id = other.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"{API}/documents/{other_id}", headers=submitter).status_code == 404
    assert {d["specimen_id"] for d in _listed(client, world, "submitter")} == {mine["id"]}
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    assert client.get(f"{API}/documents/{letter['id']}", headers=submitter).status_code == 403
    assert client.get(f"{API}/documents/{letter['id']}",
                      headers=world.auth("technician")).status_code == 403
    clinic = world.auth("clinic")
    assert client.get(f"{API}/documents/{letter['id']}", headers=clinic).status_code == 404
    assert _listed(client, world, "clinic") == []
    made = client.post(f"{API}/clinics", json={"code": "METAB", "name": "Metabolic clinic",
                                              "phone": "+86 10 0000"},
                       headers=world.auth("follow_up")).json()
    client.post(f"{API}/clinics/{made['id']}/users", json={"user_id": world.users["clinic"].id},
                headers=world.auth("admin"))
    fu = world.auth("follow_up")
    case_id = letter["case_id"]
    client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"}, headers=fu)
    moved = client.post(f"{API}/cases/{case_id}/transitions", json={
        "transition": "refer", "clinic_id": made["id"],
        "appointment_at": (utcnow() + timedelta(days=1)).isoformat()}, headers=fu)
    assert moved.status_code == 200, moved.text
    assert client.get(f"{API}/documents/{letter['id']}", headers=clinic).status_code == 200
    assert [d["id"] for d in _listed(client, world, "clinic")] == [letter["id"]]
    corrected = client.post(f"{API}/documents/{letter['id']}/corrections",
                            json={"reason": "clinic assigned"}, headers=fu)
    assert corrected.status_code == 201
    assert_contains(corrected.content, "Metabolic clinic", "clinic assigned")
    assert client.post(f"{API}/documents/{letter['id']}/corrections", json={"reason": "not mine"},
                       headers=clinic).status_code == 403
    assert client.post(f"{API}/documents/qc", json={"run_id": 1},
                       headers=submitter).status_code == 403
    assert client.post(f"{API}/documents/bulletins", json={"month": "2026-03"},
                       headers=world.auth("technician")).status_code == 403


def test_the_qc_report_and_a_batch_report(client, world):
    specimens = accession(client, world, 1, 2, 3)
    response = upload(client, world, "P-QC.csv", plate_csv("P-QC", {
        card(1): {}, card(2): {"Phe": 300}, card(3): {}}))
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    qc = client.post(f"{API}/documents/qc", json={"run_id": run_id, "language": "zh-CN"},
                     headers=world.auth("technician"))
    assert qc.status_code == 201, qc.text
    assert_contains(qc.content, "批次质控报告", "P-QC", "Phe", "接受")
    text = squash("".join(page_texts(qc.content)))  # the instrument, and the file on its own
    assert "仪器test-csv" in text and "数据文件P-QC.csv" in text and "test-csv:P-QC" not in text
    assert_pages_sound(qc.content)
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    day = datetime.now(UTC).date().isoformat()
    batch = client.post(f"{API}/documents/results/batch", json={
        "submitter_id": world.submitter_ids[0], "released_on": day},
        headers=world.auth("submitter"))
    assert batch.status_code == 201, batch.text
    released_ids = set(released.json()["released_specimen_ids"])
    barcodes = [card(n) for n, s in specimens.items() if s["id"] in released_ids]
    assert barcodes
    assert_contains(batch.content, "Newborn screening results: batch report", *barcodes)
    none = client.post(f"{API}/documents/results/batch", json={
        "submitter_id": world.submitter_ids[0], "released_on": "2020-01-01"},
        headers=world.auth("reviewer"))
    assert none.status_code == 404, none.text
