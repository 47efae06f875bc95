"""Live births per unit and month: the CSV on the command line (whole or refused naming the
line and field), coverage in the programme measures, and ``nbs report language``."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from lims.errors import InvalidInputError
from lims.followup.programme import programme_measures
from lims.models import AuditEvent, LiveBirths, Submitter
from tests.lims.documents.test_commands import run  # noqa: F401  (the fixture)

HEADER = "submitter,month,live_births\n"


def test_births_csv_is_stored_whole_or_refused_naming_line_and_field(world, engine, run,  # noqa: F811
                                                                     tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "NORTH,2026-03,120\nSOUTH,2026-13,80\n")
    refused = run("programme", "births", str(bad), "--actor", "registrar")
    assert refused.exit_code != 0
    assert isinstance(refused.exception, InvalidInputError)
    assert "bad.csv:3" in str(refused.exception) and "field month" in str(refused.exception)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(HEADER + "WEST,2026-03,12\n")
    assert "field submitter" in str(run("programme", "births", str(unknown)).exception)
    negative = tmp_path / "negative.csv"
    negative.write_text(HEADER + "NORTH,2026-03,-4\n")
    assert "field live_births" in str(run("programme", "births", str(negative)).exception)
    with Session(engine) as session:
        assert session.exec(select(LiveBirths)).all() == []
    good = tmp_path / "births.csv"
    good.write_text(HEADER + "NORTH,2026-03,120\nSOUTH,2026-03,80\n")
    done = run("programme", "births", str(good), "--actor", "registrar")
    assert done.exit_code == 0, done.output
    assert "2 live-birth" in done.stdout
    again = tmp_path / "again.csv"
    again.write_text(HEADER + "NORTH,2026-03,125\n")
    assert run("programme", "births", str(again)).exit_code == 0
    with Session(engine) as session:
        stored = {(r.submitter_id, r.month): r.births for r in session.exec(select(LiveBirths))}
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "record_live_births").order_by(AuditEvent.id)).all()
    assert stored == {(world.submitter_ids[0], 202603): 125, (world.submitter_ids[1], 202603): 80}
    assert len(events) == 3 and events[0].username == "registrar"


def test_coverage_is_over_the_units_that_reported_births(client, world, engine):
    from lims.audit import Actor
    from lims.followup.births import record_births
    from tests.lims.helpers import accession

    accession(client, world, 700, 701, 702)  # received 2026-03-04
    with Session(engine) as session:
        assert "coverage" not in programme_measures(session, date(2026, 3, 1)).programme
        record_births(session, Actor(None, "registrar", "admin"), world.submitter_ids[0],
                      date(2026, 3, 1), 4)
        session.commit()
        measures = programme_measures(session, date(2026, 3, 1))
    cov = measures.programme["coverage"]
    assert (cov.numerator, cov.n) == (3, 4) and cov.value == pytest.approx(75.0)
    assert measures.by_submitter["NORTH"]["coverage"].value == pytest.approx(75.0)
    assert measures.by_submitter["SOUTH"]["coverage"].value is None


def test_nbs_report_language_sets_a_submitters_document_language(world, engine, run):  # noqa: F811
    done = run("report", "language", str(world.submitter_ids[1]), "zh-CN", "--actor", "desk")
    assert done.exit_code == 0, done.output
    assert "SOUTH" in done.stdout
    assert run("report", "language", str(world.submitter_ids[1]), "fr").exit_code != 0
    with Session(engine) as session:
        assert session.get(Submitter, world.submitter_ids[1]).document_language == "zh-CN"
