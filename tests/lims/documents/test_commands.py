"""``nbs report`` in this process on the test's database: the PDFs written, the stored
version reprinted byte for byte, a correction, refused input, the audit trail's actor."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lims.cli import app
from lims.errors import InvalidInputError, NotFoundError
from lims.models import AuditEvent
from lims.settings import get_settings
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import card
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
