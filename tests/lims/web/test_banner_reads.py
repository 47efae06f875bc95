"""The alert banner, polled on every page every minute, records its read in the audit trail
when the alerts it shows change (or 30 minutes after its last recorded read), not on every
poll; the alerts page records every read."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from lims.alerts import service as alerts
from lims.models import AuditEvent
from tests.lims.helpers import accession, card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page


def _reads(engine, view: str | None) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == "read_list",
                                                     AuditEvent.entity == "alert")).all()
    return [r for r in rows if r.after["filters"].get("view") == view]


def test_the_banner_records_a_read_when_its_alerts_change(web, world, engine, monkeypatch):
    accession(web, world, 1, 2)
    sign_in_page(web, "technician")
    plate = plate_csv("B-1", {card(1): {"Xle": 950}, card(2): {}})
    csrf = sign_in_page(web, "technician")
    assert web.post("/lab/runs", data={"csrf_token": csrf},
                    files={"file": ("b1.csv", plate, "text/csv")}).status_code in (200, 303)
    web.cookies.clear()
    csrf = sign_in_page(web, "reviewer")
    for _ in range(3):
        banner = web.get("/lab/alerts/banner").text
    assert "MSUD" in banner
    [read] = _reads(engine, "banner")
    alert = re.search(r'data-alert="(\d+)"', banner).group(1)
    assert read.after["ids"] == [int(alert)]
    # after the interval, the same banner is recorded again
    monkeypatch.setattr(alerts, "BANNER_READ_EVERY", alerts.BANNER_READ_EVERY * 0)
    web.get("/lab/alerts/banner")
    assert len(_reads(engine, "banner")) == 2
    monkeypatch.undo()
    # acknowledged, the banner shows no alert: nothing read, nothing recorded
    web.post(f"/lab/alerts/{alert}/acknowledge", data={"csrf_token": csrf, "note": "called"},
             headers={"HX-Request": "true"})
    web.get("/lab/alerts/banner")
    assert len(_reads(engine, "banner")) == 2
    # the alerts page records every read
    before = len(_reads(engine, None))
    web.get("/lab/alerts")
    web.get("/lab/alerts")
    assert len(_reads(engine, None)) == before + 2
