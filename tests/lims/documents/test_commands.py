"""``nbs report`` in this process on the test's database: the PDFs written, the stored
version reprinted byte for byte, a correction, refused input, the audit trail's actor; cards,
submitters and runs named as the pages show them (barcode, code, plate id) or by id; help
texts without markup."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lims.cli import app
from lims.errors import InvalidInputError, NotFoundError
from lims.models import AuditEvent, IssuedDocument, Submitter
from lims.settings import get_settings
from tests.lims.conftest import PASSWORD
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import API, accession, card, sign_off_plates, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import assert_contains


@pytest.fixture
def run(settings, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NBS_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_nbs_report_writes_reprints_and_corrects(client, world, engine, run, tmp_path):
    specimen = _referred(client, world)
    listed = run("report", "list", "--kind", "recall_letter", "--format", "csv")
    assert listed.exit_code == 0, listed.output
    letter_id = listed.stdout.splitlines()[1].split(",")[0]
    reprinted = run("report", "reprint", letter_id, "--out", str(tmp_path / "letter.pdf"),
                    "--actor", "night-desk")
    assert reprinted.exit_code == 0, reprinted.output
    assert reprinted.stdout.startswith("stored: LTR-")
    sha = reprinted.stdout.split("sha256 ")[1].split()[0]
    assert hashlib.sha256((tmp_path / "letter.pdf").read_bytes()).hexdigest() == sha
    result = run("report", "result", str(specimen["id"]), "--language", "zh-CN", "--out",
                 str(tmp_path / "result.pdf"))
    assert result.exit_code == 0 and result.stdout.startswith("issued: RES-"), result.output
    assert_contains((tmp_path / "result.pdf").read_bytes(), "新生儿筛查结果报告", card(1))
    doc_id = run("report", "list", "--kind", "result_report", "--format", "csv"
                 ).stdout.splitlines()[1].split(",")[0]
    fixed = run("report", "correct", doc_id, "--reason", "weight corrected", "--out",
                str(tmp_path / "v2.pdf"))
    assert fixed.exit_code == 0 and " version 2 " in fixed.stdout, fixed.output
    assert_contains((tmp_path / "v2.pdf").read_bytes(), "weight corrected")
    month = f"{datetime.now(UTC):%Y-%m}"
    bulletin = run("report", "bulletin", "--month", month, "--out", str(tmp_path / "b.pdf"))
    assert bulletin.exit_code == 0, bulletin.output
    assert_contains((tmp_path / "b.pdf").read_bytes(), "North General Hospital",
                    "South Maternity Unit")
    qc = run("report", "qc", "1", "--out", str(tmp_path / "qc.pdf"))
    assert qc.exit_code == 0, qc.output
    bad = run("report", "bulletin", "--month", "2025-13", "--out", str(tmp_path / "x.pdf"))
    assert isinstance(bad.exception, InvalidInputError) and "2025-13" in str(bad.exception)
    missing = run("report", "qc", "99", "--out", str(tmp_path / "x.pdf"))
    assert isinstance(missing.exception, NotFoundError)
    assert not (tmp_path / "x.pdf").exists()
    with Session(engine) as session:
        names = session.exec(select(AuditEvent.username).where(
            AuditEvent.entity == "issued_document", AuditEvent.action == "reprint")
            .order_by(col(AuditEvent.id))).all()
    assert "night-desk" in names


def test_nbs_report_results_renders_a_days_reports_in_worker_processes(client, world, engine,
                                                                       run, tmp_path):
    accession(client, world, 1, 2, 3)
    assert upload(client, world, "P-R.csv", plate_csv("P-R", {card(1): {}, card(2): {},
                                                               card(3): {}})).status_code == 201
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer")).json()["released_specimen_ids"]
    first = released[0]
    one = client.post(f"{API}/documents/results", json={"specimen_id": first},
                      headers=world.auth("reviewer"))
    assert one.status_code == 201
    day = f"{datetime.now(UTC):%Y-%m-%d}"
    done = run("report", "results", "--released-on", day, "--out-dir", str(tmp_path / "r"),
               "--workers", "2")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("3 result reports (2 issued, 1 stored)"), done.stdout
    files = sorted((tmp_path / "r").glob("RES-*.pdf"))
    assert len(files) == 3
    assert (tmp_path / "r" / f"RES-{first:06d}-en-v1.pdf").read_bytes() == one.content
    with Session(engine) as session:
        for path in files:
            doc_id, version = path.stem.rsplit("-v", 1)
            stored = session.exec(select(IssuedDocument).where(
                IssuedDocument.document_id == doc_id)).one()
            assert int(version) == stored.version and path.read_bytes() == stored.content
            assert hashlib.sha256(stored.content).hexdigest() == stored.sha256
    assert_contains(b"".join(p.read_bytes() for p in files[:1]), "SCREEN NEGATIVE")
    again = run("report", "results", "--released-on", day, "--out-dir", str(tmp_path / "s"))
    assert again.stdout.startswith("3 result reports (0 issued, 3 stored)"), again.stdout
    assert [p.read_bytes() for p in sorted((tmp_path / "s").glob("*.pdf"))] == [
        p.read_bytes() for p in files]  # the stored versions, not issued again


def test_cards_submitters_and_runs_by_the_names_pages_show(client, world, engine, run,
                                                           tmp_path):
    specimen = _referred(client, world, plate="P-REF")
    by_barcode = run("report", "result", card(1), "--out", str(tmp_path / "r.pdf"))
    assert by_barcode.exit_code == 0, by_barcode.output
    assert by_barcode.stdout.startswith(f"issued: RES-{specimen['id']:06d}-en")
    by_id = run("report", "result", str(specimen["id"]), "--out", str(tmp_path / "r2.pdf"))
    assert by_id.exit_code == 0 and by_id.stdout.startswith("stored: RES-"), by_id.output
    assert (tmp_path / "r.pdf").read_bytes() == (tmp_path / "r2.pdf").read_bytes()
    day = f"{datetime.now(UTC):%Y-%m-%d}"
    batch = run("report", "batch", "NORTH", "--released-on", day, "--out",
                str(tmp_path / "b.pdf"))
    assert batch.exit_code == 0, batch.output
    assert_contains((tmp_path / "b.pdf").read_bytes(), card(1))
    month = f"{datetime.now(UTC):%Y-%m}"
    report_card = run("report", "card", "SOUTH", "--month", month, "--out",
                      str(tmp_path / "c.pdf"))
    assert report_card.exit_code == 0 and "CARD-" in report_card.stdout, report_card.output
    assert_contains((tmp_path / "c.pdf").read_bytes(), "South Maternity Unit")
    qc = run("report", "qc", "P-REF", "--out", str(tmp_path / "q.pdf"))
    assert qc.exit_code == 0, qc.output
    assert_contains((tmp_path / "q.pdf").read_bytes(), "P-REF")
    chinese = run("report", "language", "NORTH", "zh-CN")
    assert chinese.exit_code == 0 and "NORTH" in chinese.stdout, chinese.output
    by_number = run("report", "language", str(world.submitter_ids[1]), "zh-CN")
    assert by_number.exit_code == 0 and "SOUTH" in by_number.stdout, by_number.output
    with Session(engine) as session:
        assert {session.get(Submitter, i).document_language  # type: ignore[union-attr]
                for i in world.submitter_ids} == {"zh-CN"}
    for args, name in ((("result", "NO-SUCH-CARD"), "NO-SUCH-CARD"),
                       (("batch", "NOWHERE", "--released-on", day), "NOWHERE"),
                       (("qc", "P-NONE"), "P-NONE")):
        missing = run("report", *args, "--out", str(tmp_path / "x.pdf"))
        assert isinstance(missing.exception, NotFoundError), missing.output
        assert name in str(missing.exception)
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("command", ["", "result", "results", "batch", "qc", "card",
                                     "language", "reprint", "letter"])
def test_report_help_has_no_markup(run, command):
    shown = run("report", *([command] if command else []), "--help")
    assert shown.exit_code == 0, shown.output
    assert "``" not in shown.output
