"""A recall letter names the person responsible for it: the letter issued at release is signed
by the reviewer who released, and ``nbs report letter`` (and the correction of a letter)
requires ``--actor``, a LIMS user named by their full name, never the operating-system
account. Before a clinic is assigned, the clinic letter goes to the submitting hospital, never
asking a follow-up service to send the baby to itself or printing a placeholder telephone."""

from __future__ import annotations

import pytest

from tests.lims.documents.test_documents import _listed, _referred
from tests.lims.helpers import API, nbs_here
from tests.reports.pdfcheck import page_texts, squash


@pytest.fixture
def run(settings):  # type: ignore[no-untyped-def]
    """``nbs`` as the process runs it (exit statuses included), on the test's database."""
    return lambda *args: nbs_here(*args, env={"NBS_DATABASE_URL": settings.database_url})


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def test_the_letter_issued_at_release_names_the_reviewer(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    pdf = client.get(f"{API}/documents/{letter['id']}", headers=world.auth("follow_up"))
    text = _text(pdf.content)
    assert squash("Issued by Reviewer One, Newborn Screening Laboratory") in text
    assert squash("issued at release") not in text


def test_nbs_report_letter_needs_the_person_responsible(client, world, run, tmp_path):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    case = str(letter["case_id"])
    out = tmp_path / "family.pdf"
    refused = run("report", "letter", case, "--audience", "family", "--out", str(out))
    assert refused.returncode == 3, refused.stderr
    assert "--actor" in refused.stderr and not out.exists()
    signed = run(
        "report", "letter", case, "--audience", "family", "--out", str(out), "--actor", "follow_up"
    )
    assert signed.returncode == 0, signed.stderr
    assert squash("Issued by Follow_Up One") in _text(out.read_bytes())
    corrected = tmp_path / "v2.pdf"
    letter_id = str(letter["id"])
    refused = run(
        "report", "correct", letter_id, "--reason", "clinic assigned", "--out", str(corrected)
    )
    assert refused.returncode == 3 and "--actor" in refused.stderr, refused.stderr
    named = run(
        "report",
        "correct",
        letter_id,
        "--reason",
        "clinic assigned",
        "--out",
        str(corrected),
        "--actor",
        "Dr Wang Fang",
    )
    assert named.returncode == 0, named.stderr
    assert squash("Issued by Dr Wang Fang") in _text(corrected.read_bytes())


def test_before_a_clinic_is_assigned_the_letter_goes_to_the_submitting_hospital(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    text = _text(
        client.get(f"{API}/documents/{letter['id']}", headers=world.auth("follow_up")).content
    )
    assert squash("To: North General Hospital") in text
    assert squash("call the follow-up service (below) at once: it names the clinic") in text
    assert squash("Referral clinic Not yet assigned") in text
    assert squash("Newborn screening follow-up service for diagnostic") not in text
    assert "+000000000" not in text  # the laboratory file's placeholder phone
    chinese = client.post(
        f"{API}/documents/letters",
        json={"case_id": letter["case_id"], "language": "zh-CN"},
        headers=world.auth("follow_up"),
    )
    assert chinese.status_code == 201, chinese.text
    text = _text(chinese.content)
    assert squash("致：North General Hospital") in text or "NorthGeneralHospital" in text
    assert "尚未指定" in text and "随访服务将宝宝转诊至" not in text
