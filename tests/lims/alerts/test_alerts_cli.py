"""``nbs alerts list`` shows what the alerts page shows of an acknowledgement and of a
withdrawal: who, when (UTC) and the note or the reason. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session

from lims.models import Alert
from tests.lims.alerts.test_withdrawn_alerts import withdrawn_and_acknowledged
from tests.lims.helpers import nbs_here


def _line(stdout: str, alert_id: int) -> str:
    [line] = [s for s in stdout.splitlines() if s.split() and s.split()[0] == str(alert_id)]
    return line


def test_the_list_gives_who_when_and_the_note_or_reason(client, world, engine, settings):
    first, second = withdrawn_and_acknowledged(client, world, engine)
    with Session(engine) as session:
        acknowledged, withdrawn = session.get(Alert, first), session.get(Alert, second)
        assert acknowledged is not None and withdrawn is not None
        taken_at, withdrawn_at = acknowledged.acknowledged_at, withdrawn.withdrawn_at
    assert taken_at is not None and withdrawn_at is not None
    listed = nbs_here("alerts", "list", "--status", "all",
                      env={"NBS_DATABASE_URL": settings.database_url, "COLUMNS": "250"})
    assert listed.returncode == 0, listed.stderr
    header = listed.stdout.splitlines()[0]
    assert "at (UTC)" in header and "note or reason" in header
    line = _line(listed.stdout, first)
    assert "Dr Zhou" in line and f"{taken_at:%Y-%m-%d %H:%M}" in line
    assert line.rstrip().endswith("called the ward")
    line = _line(listed.stdout, second)
    assert "technician" in line and f"{withdrawn_at:%Y-%m-%d %H:%M}" in line
    assert line.rstrip().endswith("plate P-W withdrawn: plate swapped")
