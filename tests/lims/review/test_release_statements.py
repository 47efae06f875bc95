"""The bulk release of normals costs the same number of SQL statements for 2 cards as for 12
(no statement per card: no N+1 reads, no audit chain claimed per event, no audit insert per
event), on SQLite and PostgreSQL; and it stores what a release stores card by card: each card
released, its review and release (the summary of its values and calls), the transition,
release and enqueue audit events, and its ORU^R01 queued as the release would build it alone.

The review, release and outbox rows are inserted in one flush per table: one statement per
table on PostgreSQL; on SQLite, which does not return the ids of a multi-row insert in the
rows' order, the ORM inserts them one by one (calls inside the process, not round trips), so
there those inserts are counted apart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from lims.audit_chain import verify
from lims.interfaces.results import Sender, result_message
from lims.models import AuditEvent, OutboundMessage, Release, Review, Specimen, User
from lims.review.service import release_normals
from lims.settings import get_settings
from reports.hl7 import build_oru
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import accession, card, sign_off_plates, upload
from tests.lims.plates import NORMAL, plate_csv

#: The inserts SQLite runs row by row (the module's docstring).
_ROW_INSERTS = ("INSERT INTO review ", "INSERT INTO release ", "INSERT INTO outbound_message ")


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _normal_plate(client, world, plate: str, numbers: range) -> list[str]:  # type: ignore[no-untyped-def]
    accession(client, world, *numbers)
    response = upload(client, world, f"{plate}.csv",
                      plate_csv(plate, {card(n): {} for n in numbers}))
    assert response.status_code == 201, response.text
    sign_off_plates(client, world.auth("technician"))
    return [card(n) for n in numbers]


def _release(engine: Engine, reviewer: int) -> tuple[list[int], list[str]]:
    with Session(engine) as session, _statements(engine) as seen:
        user = session.get(User, reviewer)
        assert user is not None
        ids = release_normals(session, user, password=PASSWORD, limit=500)
        session.commit()
    return ids, seen


def test_the_bulk_release_costs_no_statement_per_card(client, world, engine):
    reviewer = world.users["reviewer"].id
    assert reviewer is not None
    two = _normal_plate(client, world, "B-2", range(1, 3))
    released_two, few = _release(engine, reviewer)
    twelve = _normal_plate(client, world, "B-12", range(10, 22))
    released_twelve, many = _release(engine, reviewer)
    assert (len(released_two), len(released_twelve)) == (2, 12)
    if engine.dialect.name == "sqlite":
        inserts = Counter(s.split()[2] for s in many if s.startswith(_ROW_INSERTS))
        assert inserts == {"review": 12, "release": 12, "outbound_message": 12}, inserts
        few, many = ([s for s in seen if not s.startswith(_ROW_INSERTS)] for seen in (few, many))
    assert len(many) == len(few), (len(few), len(many), Counter(
        " ".join(m.split()[:4]) for m in many) - Counter(" ".join(f.split()[:4]) for f in few))
    assert len(few) < 50, few

    with Session(engine) as session:
        specimens = {s.id: s for s in session.exec(select(Specimen))}
        assert {s.barcode for s in specimens.values() if s.state == "released"} == {
            *two, *twelve}
        reviews = session.exec(select(Review)).all()
        assert sorted(r.specimen_id for r in reviews) == sorted(released_two + released_twelve)
        assert {(r.decision, r.reason, r.version) for r in reviews} == {
            ("release_normal", "", 1)}
        releases = {r.specimen_id: r for r in session.exec(select(Release))}
        for release in releases.values():
            assert release.outcome == "normal" and release.supersedes_id is None
            assert release.summary is not None and release.summary["calls"] == []  # no call
            assert release.summary["values_umol_l"] == NORMAL
        events = session.exec(select(AuditEvent).where(
            col(AuditEvent.action).in_(["release_normal", "release", "enqueue"]))).all()
        by_action: dict[str, list[str]] = {}
        for e in events:
            by_action.setdefault(e.action, []).append(e.entity_id)
        assert sorted(by_action["release_normal"]) == sorted(
            str(i) for i in releases)  # each card's transition
        assert sorted(by_action["release"]) == sorted(str(r.id) for r in releases.values())
        messages = session.exec(select(OutboundMessage)).all()
        assert sorted(by_action["enqueue"]) == sorted(str(m.id) for m in messages)
        assert sorted(m.specimen_id for m in messages) == sorted(releases)
        for e in events:
            if e.action == "release":
                release = session.get(Release, int(e.entity_id))
                assert release is not None and e.after is not None
                assert e.after["summary"] == release.summary
                assert e.infant_id == specimens[release.specimen_id].infant_id
    # each message as the release alone would have queued it (built card by card)
    with Session(engine) as session:
        stored = {m.specimen_id: m for m in session.exec(select(OutboundMessage))}
        for specimen_id, message in stored.items():
            specimen = session.get(Specimen, specimen_id)
            release = session.get(Release, message.release_id)
            assert specimen is not None and release is not None
            alone = build_oru(result_message(session, specimen, release,
                                             sender=Sender.from_settings(get_settings())))
            assert message.body == alone and message.status == "pending"
            assert message.control_id == f"NBS{specimen_id}-1"
    assert verify(engine).intact
