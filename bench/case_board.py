"""Follow-up pages: the case board, one state's page and a case's page, p95 over repeated
requests with 10,000 open follow-up cases in a SQLite database.

10,000 open cases (spread over the seven open states, a third of them past their due date,
in four referral groups, a tenth time-critical, the referred and later ones at one of three
clinics) and 2,000 closed ones, each on its own baby and card, are written in bulk (not
timed). A follow-up coordinator signs in through the form; each page is requested 60 times in
the app's own process (the first 10 not counted), sequentially, with the session cookie, as
the browser would. Every read is audited, as in service. Target: p95 < 300 ms.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

from bench.pages import PASSWORD, page_times, percentile, sign_in
from lims.app import create_app
from lims.audit import SYSTEM
from lims.auth.service import create_user
from lims.db import init_db, make_engine
from lims.models import Clinic, FollowUpCase, Infant, Specimen, Submitter
from lims.pipeline import ScreeningPipeline
from lims.reference import barcode_rule
from lims.settings import Settings
from lims.vocabulary import CaseState

OPEN_CASES = 10_000
CLOSED_CASES = 2_000
REQUESTS = 60
WARM = 10
TARGET_MS = 300.0
_GROUPS = (("amino_acid", ["MSUD"]), ("organic_acid", ["PA", "MUT"]),
           ("fatty_acid_oxidation", ["MCAD"]), ("unsatisfactory", []))
_OPEN = [s for s in CaseState if s != CaseState.closed]
_REFERRED = {CaseState.referred, CaseState.diagnosed, CaseState.treatment,
             CaseState.long_term_follow_up}



def _cases(engine, submitter_ids: list[int], clinic_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """The babies, their cards and their cases, written in bulk."""
    rule = barcode_rule()
    now = datetime.now(UTC)
    infants, specimens, cases = [], [], []
    for i in range(OPEN_CASES + CLOSED_CASES):
        birth = now - timedelta(days=30, minutes=i)
        submitter = submitter_ids[i % len(submitter_ids)]
        infants.append({"id": 1 + i, "submitter_id": submitter, "birth_at": birth,
                        "sex": "F" if i % 2 else "M", "mother_name": f"Mother {i}",
                        "mother_id": f"BM{i}", "medical_record_number": f"BMRN{i}",
                        "plurality": 1, "birth_order": 1, "created_at": birth})
        specimens.append({"id": 1 + i, "barcode": rule.make(f"{60_000_000 + i:08d}"),
                          "infant_id": 1 + i, "submitter_id": submitter, "kind": "initial",
                          "collected_at": birth + timedelta(hours=36),
                          "received_at": birth + timedelta(days=3), "feeding": "unknown",
                          "tpn": False, "transfused": False, "nicu": False,
                          "state": "released", "flagged": True, "version": 1,
                          "created_at": birth, "updated_at": birth})
        closed = i >= OPEN_CASES
        state = CaseState.closed if closed else _OPEN[i % len(_OPEN)]
        group, suspected = _GROUPS[i % len(_GROUPS)]
        # a third overdue (by up to 10 days), the others due within the next 10 days
        due = now + timedelta(hours=(-1 if i % 3 == 0 else 1) * (1 + i % 240))
        opened = birth + timedelta(days=4)
        cases.append({
            "infant_id": 1 + i, "submitter_id": submitter, "specimen_id": 1 + i,
            "referral_group": group, "reason": "unsatisfactory" if not suspected
            else "referral", "suspected": suspected, "time_critical": i % 10 == 0,
            "state": state, "opened_at": opened, "updated_at": opened,
            "due_action": "" if closed else "contact", "due_at": None if closed else due,
            "clinic_id": clinic_ids[i % len(clinic_ids)] if state in _REFERRED or closed
            else None, "outcome": "false_positive" if closed else None,
            "closed_at": opened + timedelta(days=20) if closed else None, "note": ""})
    with engine.begin() as connection:
        connection.execute(insert(Infant.__table__), infants)  # type: ignore[attr-defined]
        connection.execute(insert(Specimen.__table__), specimens)  # type: ignore[attr-defined]
        connection.execute(insert(FollowUpCase.__table__), cases)  # type: ignore[attr-defined]




def run() -> list[tuple[str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'board.db'}",
                            environment="test")
        engine = make_engine(settings)
        init_db(engine)
        with Session(engine) as session:
            submitters = [Submitter(code=f"H{k}", name=f"Hospital {k}", district=f"D{k % 3}")
                          for k in range(8)]
            clinics = [Clinic(code=f"C{k}", name=f"Clinic {k}") for k in range(3)]
            session.add_all([*submitters, *clinics])
            session.flush()
            create_user(session, SYSTEM, username="bench-fu", password=PASSWORD,
                        role="follow_up", full_name="bench-fu")
            session.commit()
            submitter_ids = [s.id for s in submitters if s.id is not None]
            clinic_ids = [c.id for c in clinics if c.id is not None]
        _cases(engine, submitter_ids, clinic_ids)
        app = create_app(settings, engine, pipeline=ScreeningPipeline.from_settings(settings))
        rows: list[tuple[str, float, str, str]] = [
            ("case board: open / closed cases", float(OPEN_CASES), "cases",
             f"{CLOSED_CASES:,} closed")]
        with TestClient(app, base_url="https://testserver") as client:
            sign_in(client, "bench-fu")
            board = client.get("/followup").text
            case = re.search(r'href="/followup/cases/(\d+)"', board)
            assert case and "overdue" in board, "the board lists no case"
            for name, path in (("case board page (/followup)", "/followup"),
                               ("one state's page (/followup?state=opened)",
                                "/followup?state=opened"),
                               ("case page (/followup/cases/{id})",
                                f"/followup/cases/{case.group(1)}")):
                times = page_times(client, path, REQUESTS, WARM)
                rows.append((f"{name} p50", percentile(times, 50), "ms", ""))
                rows.append((f"{name} p95", percentile(times, 95), "ms",
                             f"< {TARGET_MS:.0f}"))
        engine.dispose()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
