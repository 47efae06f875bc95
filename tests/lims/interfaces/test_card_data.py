"""Card data in, on SQLite and PostgreSQL: the real Minnesota OML^O21 order (tests/data/hl7)
through the API and over MLLP creates its card with the accession form's checks; a refused
order is answered AE or AR naming segment and field and changes nothing; an order sent again
changes nothing; a later order updates the card until it is tested; a submitter's CSV, all or
nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.interfaces.listener import listener
from lims.interfaces.mllp import MllpClient
from lims.interfaces.schemas import EndpointCreate
from lims.interfaces.service import create_endpoint
from lims.models import AuditEvent, InboundMessage, Infant, RepeatRequest, Specimen, Submitter
from lims.reference import BarcodeRule, load_rules, use_rules
from reports.hl7.er7 import format_dtm
from tests.lims.helpers import API, card, upload
from tests.lims.plates import plate_csv
from tests.reports.hl7.builders import REFERENCE, segments

MN = (REFERENCE / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8").replace("\n", "\r")
CA = (REFERENCE / "001_CA_OML_O21.hl7").read_text(encoding="utf-8").replace("\n", "\r")
BARCODE = "0516199364"
TEXT = {"Content-Type": "text/plain"}


def edit(message: str, name: str, occurrence: int, number: int, value: str) -> str:
    """``message`` with field ``number`` of the ``occurrence``-th ``name`` segment set."""
    lines = message.strip("\r").split("\r")
    index = [i for i, line in enumerate(lines) if line.startswith(name + "|")][occurrence - 1]
    fields = list(segments(message)[index].fields)
    fields += [""] * (number + 1 - len(fields))
    fields[number] = value
    lines[index] = "MSH|" + "|".join(fields[2:]) if name == "MSH" else "|".join(fields)
    return "\r".join(lines) + "\r"


# one clock reading for the module: two orders built a second apart must carry the same times
NOW = datetime.now(UTC).replace(microsecond=0)


def recent(message: str, control_id: str, **changes: str) -> str:
    """The order with a birth three days ago and a collection yesterday (so the card is not
    late), a new control id, and OBX values changed (``OBX1="1800"``)."""
    now = NOW
    message = edit(message, "PID", 1, 7, format_dtm(now - timedelta(days=3)))
    message = edit(message, "SPM", 1, 17, format_dtm(now - timedelta(days=1)))
    message = edit(message, "MSH", 1, 10, control_id)
    for key, value in changes.items():
        message = edit(message, "OBX", int(key[3:]), 5, value)
    return message


@pytest.fixture
def minnesota(client, engine) -> Iterator[int]:
    """Centracare (MSH-4 of the order) as a submitter with its endpoint, in Minnesota's time
    zone, and the lab's card format: ten digits (the order's bar code)."""
    with Session(engine) as session:
        submitter = Submitter(code="CENTRA", name="CentraCare St. Cloud Hospital")
        session.add(submitter)
        session.flush()
        assert submitter.id is not None
        create_endpoint(session, SYSTEM, EndpointCreate(
            submitter_id=submitter.id, host="127.0.0.1", port=2575,
            receiving_facility="Centracare", time_zone="America/Chicago"))
        session.commit()
        submitter_id = submitter.id
    use_rules(replace(load_rules(), barcode=BarcodeRule(
        "mn-10", "ten digits, no check digit", "^[0-9]{10}$", "none")))
    yield submitter_id
    use_rules(None)


def counts(engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()
                     for model in (Specimen, Infant, InboundMessage, RepeatRequest, AuditEvent))


def post(client, world, text: str, role: str = "technician"):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/hl7/orders", content=text.encode(), headers={
        **TEXT, **world.auth(role)})


def test_the_minnesota_order_creates_its_card_with_the_form_s_checks(client, world, engine,
                                                                     minnesota):
    taken = post(client, world, MN)
    assert taken.status_code == 200, taken.text
    assert taken.headers["content-type"].startswith("x-application/hl7-v2+er7")
    assert "\rMSA|AA|31808297\r" in taken.text
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == BARCODE)).one()
        infant = session.get(Infant, specimen.infant_id)
        events = session.exec(select(AuditEvent).where(
            AuditEvent.infant_id == infant.id)).all()
    assert specimen.submitter_id == minnesota
    assert (specimen.birth_weight_g, specimen.gestational_age_weeks) == (1770, 32.0)
    assert (specimen.feeding, specimen.tpn, specimen.nicu) == ("breast", True, True)
    assert specimen.collected_at.replace(tzinfo=UTC) == datetime(2023, 5, 6, 11, 0,
                                                                 tzinfo=UTC)
    assert (infant.medical_record_number, infant.sex, infant.mother_name) == (
        "11102779", "M", "SMITH SADIE S")
    # the form's rule for a card that took too long: collected in 2023, unsatisfactory (U09)
    assert (specimen.state, specimen.unsatisfactory_code) == ("unsatisfactory", "U09")
    actions = [e.action for e in events]
    assert {"accession", "mark_unsatisfactory", "receive"} <= set(actions)
    receive = next(e for e in events if e.action == "receive")
    assert receive.after["control_id"] == "31808297" and receive.after["action"] == "created"
    before = counts(engine)
    again = post(client, world, MN)
    assert again.status_code == 200 and "MSA|AA|31808297" in again.text
    assert counts(engine) == before  # a repeat changes nothing (and is not audited again)
    reused = post(client, world, edit(MN, "OBX", 1, 5, "1800"))
    assert reused.status_code == 422
    assert "ERR||MSH^1^10^1|" in reused.text and counts(engine) == before


@pytest.mark.parametrize(("change", "status", "location", "code"), [
    # birth weight under 200 g: a value the form refuses, said with its unit
    (lambda m: edit(m, "OBX", 1, 5, "100"), 422, "OBX^1^5^1", "207^Application internal error"),
    (lambda m: edit(m, "SPM", 1, 17, "20230501000000-0500"), 422, "SPM^1^17^1",
     "207^Application internal error"),  # collected before birth: a rule of the card
    (lambda m: edit(m, "PID", 1, 7, "20990101000000-0500"), 422, "PID^1^7^1",
     "207^Application internal error"),  # born in the future
    (lambda m: edit(m, "MSH", 1, 4, "Elsewhere"), 422, "MSH^1^4^1",
     "103^Table value not found"),  # not a submitter
    (lambda m: edit(m, "OBX", 9, 5, "05161993"), 422, "OBX^9^5^1",
     "102^Data type error"),  # not the lab's format
    (lambda m: edit(m, "MSH", 1, 9, "ORU^R01^ORU_R01"), 400, "MSH^1^9^1",
     "200^Unsupported message type"),  # not an order
])
def test_a_refused_order_names_segment_and_field_and_changes_nothing(
        client, world, engine, minnesota, change, status, location, code):
    before = counts(engine)
    refused = post(client, world, change(MN))
    assert refused.status_code == status, refused.text
    assert f"\rMSA|{'AR' if status == 400 else 'AE'}|31808297\r" in refused.text
    assert f"\rERR||{location}|{code}^HL70357|" in refused.text
    assert counts(engine) == before
    assert "birth_weight_g" not in refused.text  # the sender's words, not the form's names


def test_a_reused_control_id_is_a_duplicate_key(client, world, engine, minnesota):
    assert post(client, world, MN).status_code == 200
    reused = post(client, world, edit(MN, "OBX", 1, 5, "1800"))
    assert reused.status_code == 422
    assert "ERR||MSH^1^10^1|205^Duplicate key identifier^HL70357|" in reused.text


def test_later_orders_update_the_card_until_it_is_tested(client, world, engine, minnesota):
    assert post(client, world, recent(MN, "C-1")).status_code == 200
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == BARCODE)).one()
    assert (specimen.state, specimen.birth_weight_g) == ("accessioned", 1770)
    assert post(client, world, recent(MN, "C-2", OBX1="1800")).status_code == 200
    assert post(client, world, recent(MN, "C-3", OBX1="1800")).status_code == 200
    with Session(engine) as session:
        assert session.get(Specimen, specimen.id).birth_weight_g == 1800
        actions = [(m.control_id, m.action) for m in session.exec(select(InboundMessage))]
        updates = session.exec(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity == "specimen")).all()
    assert actions == [("C-1", "created"), ("C-2", "updated"), ("C-3", "unchanged")]
    assert len(updates) == 1 and updates[0].before["specimen"]["birth_weight_g"] == 1770
    response = upload(client, world, "p.csv", plate_csv("P-MN", {BARCODE: {}}))
    assert response.status_code == 201
    tested = post(client, world, recent(MN, "C-4", OBX1="1900"))
    assert tested.status_code == 422 and "ERR||OBX^1^5^1|" in tested.text  # the weight's
    assert "no longer change" in tested.text
    again = post(client, world, recent(MN, "C-5", OBX1="1800"))  # the same data: no change
    assert again.status_code == 200 and "MSA|AA|C-5" in again.text, again.text


def test_orders_over_mllp_each_in_its_own_transaction(engine, world, minnesota):
    nine_weeks = edit(edit(MN, "OBX", 2, 5, "9"), "MSH", 1, 10, "31808298")

    async def scenario() -> list[str]:
        async with listener(engine) as server, MllpClient("127.0.0.1", server.port) as sender:
            return [(await sender.send(m)).text for m in (MN, MN, CA, nine_weeks)]

    taken, repeated, california, too_early = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert "MSA|AA|31808297" in taken and "MSA|AA|31808297" in repeated
    assert "MSA|AE|" in california and "ERR||PID^1^25^1|" in california
    assert "ERR||OBX^2^5^1|" in too_early  # 9 weeks: outside the form's 20-45
    with Session(engine) as session:
        assert len(session.exec(select(InboundMessage)).all()) == 1
        receive = session.exec(select(AuditEvent).where(AuditEvent.action == "receive")).one()
    assert receive.username == "hl7 CENTRA"


def _cards_csv(*rows: str) -> bytes:
    header = "barcode,submitter,collected_at,birth_at,sex,birth_weight_g,mother_family_name"
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_submitter_s_card_file_all_or_nothing(client, world, engine):
    now = datetime.now(UTC).replace(microsecond=0)
    born, taken = (now - timedelta(days=2)).isoformat(), (now - timedelta(days=1)).isoformat()
    good = _cards_csv(f"{card(1)},NORTH,{taken},{born},F,3100,Li",
                      f"{card(2)},NORTH,{taken},{born},M,2900,Wang")
    submitter = world.auth("submitter")  # a user of NORTH

    def send(data: bytes, headers=submitter):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/hl7/cards", files={"file": ("north.csv", data, "text/csv")},
                           headers=headers)

    created = send(good)
    assert created.status_code == 201, created.text
    assert (created.json()["created"], created.json()["unchanged"]) == (2, 0)
    assert send(good).json()["unchanged"] == 2
    before = counts(engine)
    bad = send(_cards_csv(f"{card(3)},NORTH,{taken},{born},F,3100,Li",
                          f"{card(4)},NORTH,{taken},{born},F,50,Li"))
    assert bad.status_code == 422
    assert (bad.json()["file"], bad.json()["line"], bad.json()["field"]) == (
        "north.csv", 3, "birth_weight_g")
    before_birth = send(_cards_csv(f"{card(3)},NORTH,{born},{taken},F,3100,Li"))
    assert before_birth.status_code == 422
    assert before_birth.json()["detail"] == (
        "north.csv:2, field collected_at: collected before the baby's birth")
    mixed = send(_cards_csv(f"{card(3)},NORTH,{taken},{born},F,3100,Li",
                            f"{card(4)},SOUTH,{taken},{born},F,3100,Li"),
                 headers=world.auth("technician"))
    assert mixed.status_code == 422 and mixed.json()["field"] == "submitter"
    south = send(_cards_csv(f"{card(5)},SOUTH,{taken},{born},F,3100,Li"))
    assert south.status_code == 404  # a submitter sends only its own cards
    assert counts(engine) == before


def test_a_card_file_sent_again_after_the_plate_ran_is_unchanged(client, world, engine):
    now = datetime.now(UTC).replace(microsecond=0)
    born, taken = (now - timedelta(days=2)).isoformat(), (now - timedelta(days=1)).isoformat()
    rows = [f"{card(1)},NORTH,{taken},{born},F,3100,Li",
            f"{card(2)},NORTH,{taken},{born},M,2900,Wang"]

    def send(data: bytes):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/hl7/cards", files={"file": ("north.csv", data, "text/csv")},
                           headers=world.auth("technician"))

    assert send(_cards_csv(*rows)).status_code == 201
    assert upload(client, world, "p.csv", plate_csv(
        "P-AGAIN", {card(1): {}, card(2): {}})).status_code == 201
    again = send(_cards_csv(*rows))
    assert again.status_code == 201, again.text
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (
        0, 0, 2)
    before = counts(engine)
    changed = send(_cards_csv(f"{card(3)},NORTH,{taken},{born},F,3000,Zhao", rows[0],
                              rows[1].replace(",2900,", ",2950,")))
    assert changed.status_code == 422
    assert (changed.json()["line"], changed.json()["field"]) == (4, "birth_weight_g")
    assert "awaiting_review: its card data can no longer change" in changed.json()["detail"]
    assert counts(engine) == before  # nothing of the file kept, not even the new card
