"""``nbs report reprint`` and ``correct`` take the document id every issue command prints
(``LTR-000001-clinic-en``, ``@N`` for a version) as well as the row id; the help of the
commands without a submitter does not promise the submitter's language."""

from __future__ import annotations

import hashlib

from tests.lims.documents.test_documents import _listed, _referred
from tests.lims.helpers import nbs_here


def test_reprint_and_correct_take_the_printed_document_id(client, world, settings, tmp_path):  # type: ignore[no-untyped-def]
    env = {"NBS_DATABASE_URL": settings.database_url}
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    name = letter["document_id"]
    out = tmp_path / "letter.pdf"
    got = nbs_here("report", "reprint", name, "--out", str(out), env=env)
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith(f"stored: {name} version 1 ")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == letter["sha256"]
    fixed = nbs_here(
        "report",
        "correct",
        name,
        "--reason",
        "clinic assigned",
        "--out",
        str(tmp_path / "v2.pdf"),
        "--actor",
        "follow_up",
        env=env,
    )
    assert fixed.returncode == 0 and f"{name} version 2 " in fixed.stdout, fixed.stderr
    first = nbs_here("report", "reprint", f"{name}@1", "--out", str(tmp_path / "v1.pdf"), env=env)
    assert first.returncode == 0 and (tmp_path / "v1.pdf").read_bytes() == out.read_bytes()
    newest = nbs_here("report", "reprint", name, "--out", str(tmp_path / "new.pdf"), env=env)
    assert f"{name} version 2 " in newest.stdout, newest.stderr
    by_row = nbs_here(
        "report", "reprint", str(letter["id"]), "--out", str(tmp_path / "r.pdf"), env=env
    )
    assert by_row.returncode == 0 and (tmp_path / "r.pdf").read_bytes() == out.read_bytes()
    unknown = nbs_here(
        "report", "reprint", "LTR-999999-clinic-en", "--out", str(tmp_path / "x.pdf"), env=env
    )
    assert unknown.returncode == 3 and "LTR-999999-clinic-en" in unknown.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_the_language_help_of_qc_and_bulletin_names_no_submitter() -> None:
    for command in ("qc", "bulletin"):
        shown = nbs_here("report", command, "--help", env={"COLUMNS": "200"})
        assert shown.returncode == 0, shown.stderr
        assert "submitter" not in shown.stdout and "laboratory's" in shown.stdout, shown.stdout
    letter = nbs_here("report", "letter", "--help", env={"COLUMNS": "200"})
    assert "submitter's" in letter.stdout
